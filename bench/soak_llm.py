"""The soak's fake LLM (`bench/soak.py --llm`): an OpenAI-compatible server on loopback
that answers the bot's three kinds of request and injects its own faults on a schedule.

Answers, told apart by the system message (the product's own prompts):
  judge       {"strategy": true, ...}: every soak story is one the soak expects posted
  same-event  {"same": false, ...}: the soak's stories are distinct events
  brief       a brief made from the article (title, three sentences of it): validation
              may refuse it, then the extractive brief stands, which is fine too
  check       the start-up check's {"ok": true}
Faults (time windows switched on by the soak's schedule): a 429 storm with Retry-After,
a 5xx outage, answers slower than LLM_TIMEOUT, garbled answers (a completion whose
content is not JSON), a dropped connection (closed without an answer). The request
shapes are those of tests/fakes/llm.py (the bench does not import tests).
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass

from aiohttp import web

from feeds.judge import SYSTEM as JUDGE
from feeds.llm_prompt import CHECK, SYSTEM as BRIEF
from feeds.same_event import SYSTEM as SAME_EVENT

MODEL = "soak-model"
API_KEY = "sk-soak-fake-llm"
TIMEOUT = 5.0                 # LLM_TIMEOUT for the bot
RETRY_AFTER = 75              # the 429 storm's Retry-After, longer than the 60 s rest
NO_LLM_LATENCY = {"median": 6.5, "max": 141.6}   # soak.py --minutes 10, 18:32 UTC run (docs)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Window:
    """A fault on for a while (monotonic times), and until a request has met it: the
    bot may be resting its LLM calls when it opens (a loaded machine, an earlier fault)."""
    kind: str
    until: float = 0.0
    waiting: bool = False    # opened, and no request has met it yet

    def open(self, seconds: float) -> None:
        self.until, self.waiting = time.monotonic() + seconds, True

    def on(self) -> bool:
        return self.waiting or time.monotonic() < self.until


class SoakLLM:
    def __init__(self):
        self.runner: web.AppRunner | None = None
        self.base_url = ""
        self.kinds: Counter = Counter()        # requests by kind
        self.faults: Counter = Counter()       # requests by the fault they met ("ok": none)
        self.windows = {k: Window(k) for k in ("429", "5xx", "slow", "garbled", "dropped")}
        self.retry_until = 0.0                 # the last 429's Retry-After ends here
        self.early = 0                         # requests before a Retry-After was over

    async def start(self) -> "SoakLLM":
        from bench.common import serve_loopback
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self.runner, port = await serve_loopback(app)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def env(self) -> dict:
        """The bot's LLM settings. The hourly caps (120 briefs, 120 judge and same-event
        calls) are lifted as the channels' is: the soak publishes a story every 2 s, and
        the judge would stop within its first minute (each start's cap is new)."""
        return {"LLM_BASE_URL": self.base_url, "LLM_MODEL": MODEL, "LLM_API_KEY": API_KEY,
                "LLM_TIMEOUT": str(TIMEOUT), "LLM_HOURLY_CAP": "100000",
                "AINEWS_LLM_JUDGE_HOURLY_CAP": "100000"}

    def summary(self) -> dict:
        return {"requests": sum(self.kinds.values()), "by_kind": dict(self.kinds),
                "by_fault": dict(self.faults), "before_retry_after": self.early}

    def line(self) -> str:
        s = self.summary()
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(s["by_kind"].items()))
        faults = ", ".join(f"{k} {n}" for k, n in sorted(s["by_fault"].items()))
        return (f"llm: fake LLM saw {s['requests']} requests ({kinds}); by fault: {faults}; "
                f"{self.early} sent before a 429's Retry-After ({RETRY_AFTER} s) was over")

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            body = {}
        kind = request_kind(body)
        self.kinds[kind] += 1
        now = time.monotonic()
        if now < self.retry_until - 1 and not self.windows["429"].on():
            self.early += 1
        fault = next((k for k, w in self.windows.items() if w.on()), "ok")
        self.faults[fault] += 1
        if fault != "ok":
            self.windows[fault].waiting = False
        model = body.get("model", MODEL)
        if fault == "429":
            if now >= self.retry_until:   # the first 429 starts the bot's rest
                self.retry_until = now + RETRY_AFTER
            return _error(429, "Rate limit reached (soak)", {"Retry-After": str(RETRY_AFTER)})
        if fault == "5xx":
            return _error(503, "The server is overloaded (soak)")
        if fault == "dropped":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()
        if fault == "slow":
            await asyncio.sleep(TIMEOUT + 3)
        content = "I think the answer is yes, probably." if fault == "garbled" else \
            json.dumps(answer(kind, body))
        return web.json_response(_completion(model, content))


def request_kind(body: dict) -> str:
    msgs = body.get("messages") or [{}]
    system = msgs[0].get("content", "") if isinstance(msgs[0], dict) else ""
    return {JUDGE: "judge", SAME_EVENT: "same-event", BRIEF: "brief",
            CHECK: "check"}.get(system, "other")


def answer(kind: str, body: dict) -> dict:
    if kind == "judge":
        return {"strategy": True, "reason": "a company's strategic move (soak)"}
    if kind == "same-event":
        return {"same": False, "reason": "different companies and deals (soak)"}
    if kind == "brief":
        return brief(body["messages"][-1].get("content", ""))
    return {"ok": True}


def brief(user: str) -> dict:
    """Headline and bullets lifted from the article itself (so names and figures are in
    the source), hostile text and all: what is posted must be escaped either way."""
    title, _, text = user.partition("\n\n")
    title = title.removeprefix("Title: ").strip()
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    bullets = [s[:200] for s in sentences[1:4]] or ["The article gives no detail."]
    while len(bullets) < 3:
        bullets.append(bullets[-1])
    return {"headline": title[:120], "bullets": bullets[:3],
            "why_it_matters": sentences[0][:300] if sentences else "It matters."}


def _error(status: int, message: str, headers: dict | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "soak", "code": status}},
                             status=status, headers=headers or {})


def _completion(model: str, content: str) -> dict:
    return {"id": "chatcmpl-soak", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


@dataclass
class LLMFault:
    at: float        # fraction of the active period
    name: str
    window: str
    seconds: float
    short: bool      # also in the short (CI) run


# Each failure rests the bot's LLM calls 60 s (the 429: its Retry-After), so the faults
# are 90 s or more apart in the 10-minute run: each meets an LLM in use.
LLM_FAULTS = [
    LLMFault(0.08, "llm garbled answers (not JSON, 20 s)", "garbled", 20, True),
    LLMFault(0.20, f"llm 429 storm (Retry-After {RETRY_AFTER} s, 10 s)", "429", 10, False),
    LLMFault(0.38, "llm 5xx outage (503, 20 s)", "5xx", 20, False),
    LLMFault(0.53, f"llm slow answers ({TIMEOUT + 3:g} s > LLM_TIMEOUT {TIMEOUT:g} s, 15 s)",
             "slow", 15, False),
    LLMFault(0.68, "llm dropped connections (10 s)", "dropped", 10, True),
]


def llm_events(llm: SoakLLM, active: float, short: bool) -> list[tuple[float, str, object]]:
    return [(f.at * active, f.name, (lambda f=f: llm.windows[f.window].open(f.seconds)))
            for f in LLM_FAULTS if f.short or not short]


def llm_checks(v, llm: SoakLLM, short: bool, latency: dict) -> None:
    """--llm's own invariants, beside the soak's: the judge was at work, each fault was
    met, a 429's Retry-After was honoured, and posts did not wait much longer for it."""
    s = llm.summary()
    v.check(s["by_kind"].get("judge", 0) > 0, "the fake LLM saw no judge request")
    v.check(s["by_kind"].get("brief", 0) > 0, "the fake LLM saw no brief request")
    for f in LLM_FAULTS:
        if f.short or not short:
            v.check(s["by_fault"].get(f.window, 0) > 0, f"no LLM request met the fault {f.name}")
    v.check(llm.early == 0, f"{llm.early} LLM requests before a 429's Retry-After was over")
    if short or not latency:    # the no-LLM figures are the 10-minute run's
        return
    slack = TIMEOUT + 1         # one LLM deadline more, per post
    v.check(latency["median"] <= NO_LLM_LATENCY["median"] + slack,
            f"median latency {latency['median']} s with the LLM, "
            f"{NO_LLM_LATENCY['median']} s without")
    v.check(latency["max"] <= NO_LLM_LATENCY["max"] + 3 * slack,
            f"max latency {latency['max']} s with the LLM, {NO_LLM_LATENCY['max']} s without")


def latency_line(latency: dict, short: bool) -> str:
    without = ("not measured for a run this short" if short else
               f"median {NO_LLM_LATENCY['median']} s, max {NO_LLM_LATENCY['max']} s "
               "(soak.py --minutes 10, same seed)")
    return (f"latency with the LLM: median {latency.get('median')} s, max {latency.get('max')} s; "
            f"without: {without}")
