"""The LLM endpoint's health as the bot meets it (feeds/llm.py): failures, the rest after
them, what is said about them, and the request parts an endpoint turns down.

Three kinds of trouble, told apart because they call for different things:
- the endpoint fails (a wrong key or model, a server down, slow or overloaded: 401, 404,
  429, 5xx, timeouts): every call would fail alike, so calls rest, longer while it keeps
  failing (a 429's Retry-After at least), and it is said once per episode;
- it refuses one request (400, 413, 422: most often an article longer than a local
  model's context window): that story alone goes without, the others still ask;
- it refuses a part of every request that it does not support (LM Studio's
  response_format, DashScope's Qwen3 thinking outside streaming, max_tokens and the
  temperature on OpenAI's reasoning models), or one not streamed (DashScope's QwQ): the
  part is dropped, set or renamed once, or the answer streamed, and the request sent
  again; a cap that does not fit beside a long article in a small context window (vLLM
  says by how much) is lowered for that request (feeds/llm_request.py).
"""
from __future__ import annotations

import logging
import re
from typing import Callable

from feeds.plural import count
from feeds.proxy import Proxy, loopback
from feeds.tls import handshake_failed

log = logging.getLogger("ainews.llm")

REST_SECONDS = 60.0         # no calls for this long after the endpoint failed; doubles
MAX_REST_SECONDS = 1800.0   # up to half an hour while it keeps failing
REFUSED = (400, 413, 422)   # the request's fault, not the endpoint's

# What the operator can check, by the openai client's error class.
_HINTS = {
    "AuthenticationError": " — check LLM_API_KEY",
    "PermissionDeniedError": " — check LLM_API_KEY and the model's access",
    "NotFoundError": " — check LLM_MODEL, and that LLM_BASE_URL is the API's base (often "
                     "ending in /v1)",
    "APIConnectionError": " — check that LLM_BASE_URL is reachable",
    "APITimeoutError": " — slower than LLM_TIMEOUT",
    "RateLimitError": " — rate-limited or out of quota",
    # The openai client's reading of a body sent as JSON that is not (a proxy's HTML page)
    "JSONDecodeError": " — the answer is not JSON: check that LLM_BASE_URL is an "
                       "OpenAI-compatible API, not a proxy's or a login page",
}
# A DashScope key works only in the region it was made in, whose endpoint differs: one
# sent to the other region's is "Incorrect API key provided", as a wrong key is.
_DASHSCOPE_REGIONS = (" — check LLM_API_KEY: a DashScope key works only at its own region's "
                      "endpoint, dashscope.aliyuncs.com (China) or dashscope-intl.aliyuncs.com "
                      "(international), /compatible-mode/v1 after either")
# A local model server loads a model on the first call after an idle spell (Ollama
# unloads one after 5 minutes, LM Studio after its TTL): a large model takes longer than
# LLM_TIMEOUT to load, so the first calls after every quiet spell time out. Ollama's
# OpenAI-compatible API takes no keep_alive per request: it is the server's setting.
_LOCAL_TIMEOUT = (" — slower than LLM_TIMEOUT; a local model server loads the model again "
                  "after an idle spell (Ollama after 5 minutes): keep it loaded "
                  "(OLLAMA_KEEP_ALIVE=-1 where Ollama runs) or raise LLM_TIMEOUT")
OLLAMA_PORT = 11434
# A key the endpoint wants, when none is set: "check LLM_API_KEY" beside the endpoint's
# "Incorrect API key provided: unused" (the client's placeholder) read as a wrong key.
_NO_KEY = " — LLM_API_KEY is not set, and this endpoint asks for one"
_CONTEXT = re.compile(r"context|too long|maximum.{0,20}length|input length|tokens", re.I)
# A refusal naming the answer's cap: more than the model's output limit (OpenAI: "max_tokens
# is too large"), or more than its context window leaves beside the prompt (vLLM counts the
# cap in: "(4910 in the messages, 300 in the completion)", "8 input tokens plus 2045
# 'max_tokens'").
_CAP = re.compile(r"max_(?:completion_)?tokens|completion tokens|in the completion", re.I)
# A part of the request refused by name, not for its size (OpenAI: "Unsupported parameter:
# 'max_tokens' is not supported with this model"): the context window is not to blame.
_UNSUPPORTED = re.compile(r"unsupported (?:parameter|value)|unknown (?:parameter|field)|"
                          r"unrecognized (?:request argument|parameter)", re.I)
REFUSALS_SHOWN = 3   # refused in a row before `ainews status` says so


class Endpoint:
    """One endpoint's state. `on_change(state, reason)` hears "failing" (with the line
    the log got), "refusing" (with why), "answering", and "off" (with why); `on_late`
    the calls not sent so far, by kind: `ainews status` shows both (bot/connections.py)."""

    def __init__(self, model: str, api_key: str, clock: Callable[[], float],
                 on_change: Callable[[str, str], None] | None = None,
                 proxy: Proxy | None = None):
        self.model, self.clock, self.on_change = model, clock, on_change
        # Kind of call -> calls not sent, their turn too late (feeds/llm.py TooLate): their
        # stories went extractive with the endpoint "answering", and status said nothing.
        self.late: dict[str, int] = {}
        self.on_late: Callable[[dict[str, int]], None] | None = None
        self._api_key = api_key    # blanked out of the failures we log (short)
        self._failures = 0         # endpoint failures in a row
        self._resume_at = 0.0      # no calls before this (clock) after a failure
        self._failure_kind = ""    # the last failure's type, reported once
        self.proxy = proxy         # the one calls go through (feeds/proxy.py)
        self.host = ""             # LLM_BASE_URL's (at): what the hints may say of it
        self.local = False         # ... a model server of this machine's, or Ollama's port
        self._said: tuple[str, str] | None = None   # what on_change heard last
        # Kind of call ("brief", "verdict") -> (refused in a row, none answered between;
        # why). Per kind: a small context window refuses every article and answers the
        # judge's short lead, whose answers hid the briefs' refusals from status.
        self._refused: dict[str, tuple[int, str]] = {}
        self.reported: set[str] = set()   # kinds of refusal or rejection said so far
        # A one-shot command (`ainews brief`, `run --once`) ends before any rest does:
        # "next try in 60 s" promised a try that never comes.
        self.one_shot = False

    def at(self, url) -> None:
        """The endpoint's base URL (an httpx.URL, the client's): some hints depend on it."""
        self.host = url.host
        self.local = loopback(url.host) or url.port == OLLAMA_PORT

    def resting(self) -> bool:
        return self.clock() < self._resume_at

    def failed(self, e: Exception) -> None:
        """Rest before the next call: a wrong key, model or URL fails every story alike,
        and a slow server would cost LLM_TIMEOUT per story, one after another. Said once
        (again only when the failure changes), not per story."""
        if self.resting():   # a concurrent call failed first: one episode, one rest
            log.debug("llm: %s failed too (%s)", self.model, self.short(e))
            return
        self._failures += 1
        pause = min(max(REST_SECONDS * 2 ** (self._failures - 1), _retry_after(e)),
                    MAX_REST_SECONDS)
        self._resume_at = self.clock() + pause
        kind, self._failure_kind = self._failure_kind, type(e).__name__
        level = logging.WARNING if kind != self._failure_kind else logging.DEBUG
        short, hint = self.short(e), self._hint(e)
        until = ("for the rest of this run" if self.one_shot
                 else f"until it answers; next try in {pause:.0f} s")
        log.log(level, "llm: %s failed (%s)%s. Briefs are extractive and verdicts offline %s",
                self.model, short, hint, until)
        self._say("failing", f"{short}{hint}")

    def _hint(self, e: Exception) -> str:
        # A refused certificate first: behind a TLS-inspecting proxy, a company CA to trust.
        if type(e).__name__ == "APIConnectionError" and (tls := handshake_failed(e)):
            return f" — {tls}"
        if self.proxy is not None and (said := self._proxy_hint(e)):
            return said
        kind = type(e).__name__
        if not self._api_key and kind in ("AuthenticationError", "PermissionDeniedError"):
            return _NO_KEY
        if kind == "AuthenticationError" and self.host.endswith(".aliyuncs.com"):
            return _DASHSCOPE_REGIONS
        if kind in ("APITimeoutError", "TimeoutError") and self.local:
            return _LOCAL_TIMEOUT
        return _HINTS.get(kind, "")

    def _proxy_hint(self, e: Exception) -> str:
        """Through a proxy, a connection error or a 407 is most often the proxy's."""
        p = self.proxy
        if getattr(e, "status_code", None) == 407:
            return (f" — the proxy {p.where} wants credentials: check the user and password "
                    f"in {p.setting}")
        if type(e).__name__ == "APIConnectionError":
            return (f" — check that the proxy {p.where} ({p.setting}) is reachable and lets "
                    "LLM_BASE_URL through, or name its host in NO_PROXY")
        return ""

    def answered(self, what: str = "request") -> None:
        """A call of this kind answered: "answering", unless calls of another kind are
        still refused every time."""
        if self._failures:
            log.info("llm: %s answers again after %s", self.model,
                     count(self._failures, "failed call"))
        self._failures, self._resume_at, self._failure_kind = 0, 0.0, ""
        self._refused.pop(what, None)
        refusing = [why for n, why in self._refused.values() if n >= REFUSALS_SHOWN]
        self._say(*(("refusing", refusing[0]) if refusing else ("answering", "")))

    def refused(self, e: Exception, what: str = "request") -> None:
        """One request turned down (HTTP 400/413/422): that story goes without, the
        endpoint does not rest. Said once per status."""
        hint = _refusal_hint(str(e))
        self.once(f"refused {getattr(e, 'status_code', '')}",
                  f"llm: {self.model} refused a request ({self.short(e)}){hint}; that "
                  "story's brief is extractive (or its verdict offline)")
        n, why = self._refused.get(what, (0, ""))
        n += 1
        # Every request of a kind refused (a context window too small for any article, a
        # model that takes none of them): `ainews status` said "answering" all the while.
        if n == REFUSALS_SHOWN:
            why = f"{count(n, what)} in a row: {self.short(e)}{hint}"
            self._say("refusing", why)
        self._refused[what] = (n, why)

    def too_late(self, what: str = "request") -> None:
        """A call of this kind not sent: its turn came too late to be answered in time."""
        self.late[what] = self.late.get(what, 0) + 1
        if self.on_late:
            self.on_late(dict(self.late))

    def say_off(self, reason: str) -> None:
        """No call is ever made (LLM_HOURLY_CAP=0): "off", why."""
        self._say("off", reason)

    def _say(self, state: str, reason: str) -> None:
        if self.on_change and self._said != (state, reason):
            self.on_change(state, reason)
        self._said = (state, reason)

    def once(self, kind: str, message: str) -> None:
        """The first of each kind is a warning; the same again only a debug line."""
        first = kind not in self.reported
        self.reported.add(kind)
        log.log(logging.WARNING if first else logging.DEBUG, "%s%s", message,
                " (more like it are logged at debug level)" if first else "")

    def short(self, e: Exception) -> str:
        """One line for the log. An endpoint's error text is its own: some gateways quote
        the key they were sent ("Incorrect API key provided: sk-..."), so it is cut out."""
        text = " ".join(str(e).split())
        if self._api_key:
            text = text.replace(self._api_key, "[LLM_API_KEY]")
        return f"{type(e).__name__}: {text[:160]}"


def _refusal_hint(text: str) -> str:
    """What the operator can check when a request is refused for itself."""
    if _UNSUPPORTED.search(text):   # "Unsupported parameter: 'max_tokens'": no window's fault
        return " — the endpoint does not take a part of the request"
    if _CAP.search(text):
        return (" — the article and the answer's room (LLM_MAX_TOKENS) exceed the model's "
                "context window, or LLM_MAX_TOKENS its output limit")
    if _CONTEXT.search(text):
        return " — the article is longer than the model's context window"
    return ""


def status_of(e: Exception) -> int | None:
    return getattr(e, "status_code", None)


def _retry_after(e: Exception) -> float:
    """A 429's Retry-After in seconds, delta or HTTP date (0 when absent or unreadable)."""
    from feeds.fetcher import parse_retry_after   # the feeds' reading of the same header
    response = getattr(e, "response", None)
    if response is None:
        return 0.0
    return parse_retry_after(response.headers.get("retry-after")) or 0.0
