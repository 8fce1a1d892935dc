"""Optional LLM condenser: any OpenAI-compatible endpoint (OpenAI, Qwen on Alibaba Cloud's
compatible mode, Ollama, vLLM) through the official `openai` async client.

It never replaces the extractive brief blindly: the answer is validated (three bullets,
lengths, names and figures present in the source) and any failure falls back to it.
"""
from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections import defaultdict, deque
from dataclasses import replace
from pathlib import Path
from typing import Callable, Hashable

from feeds.company_names import CompanyNames
from feeds.llm_cap import HourlyCap
from feeds.llm_endpoint import REFUSED, Endpoint, status_of
from feeds.llm_prompt import CHECK, SYSTEM, brief_prompt, fewest_bullets
from feeds.llm_reply import (LLMRejected, cut_off, filtered, from_reasoning, parse_json,
                              reply_text)
from feeds.llm_request import RequestShape, fitted_cap
from feeds.llm_slots import BRIEF, PrioritySlots
from feeds.llm_stream import collected, from_events
from feeds.llm_validate import same_language, validate
from feeds.models import Brief, Story
from feeds.proxy import Proxy
from feeds.tls import httpx_verify

__all__ = ["LLMCondenser", "LLMRejected", "TooLate", "parse_json", "validate"]

log = logging.getLogger("ainews.llm")

CONCURRENCY = 4             # calls in flight at once (LLM_CONCURRENCY)
# The most tokens an answer may take (LLM_MAX_TOKENS; 0: no cap). Without a cap a model
# that loops generates until its context is full: billed, or holding a local GPU long
# after our deadline gave up. The longest brief validation accepts (120 + 3 x 200 + 300
# characters) measured 230 tokens in English and 575-1,220 in Chinese (DeepSeek-V3's
# tokenizer, OpenAI's o200k and cl100k); the rest, 2,900 tokens or more, is room for a
# model that thinks first (<think>...</think> in the content, or hidden reasoning).
MAX_TOKENS = 4096
# A call whose turn comes with less of its deadline left than the model's recent answers
# took (the median of this many, per kind of call) is not sent: see LLMCondenser.ask.
ANSWER_TIMES = 20
# ... and before any answer is measured, one with less than this left: no model answers
# that fast, and calls queued together reach their deadlines together, so the slot a
# call cut off by its deadline frees goes to one with milliseconds of its own left.
SOONEST = 0.25


class TooLate(Exception):
    """A call's turn came too late for an answer by its deadline: it was not sent."""


def _client(base_url: str | None, api_key: str, timeout: float, proxy: Proxy | None,
            ca_file: str | Path | None):
    """The OpenAI client, without retries of its own (they multiply cost and latency: we
    fall back instead). proxy: Settings.proxies' choice for base_url (None: straight there);
    trust_env=False, or httpx would read HTTPS_PROXY itself. ca_file (AINEWS_CA_FILE): a
    company's CA, trusted besides httpx's own (or SSL_CERT_FILE's, else left unread)."""
    from openai import AsyncOpenAI, DefaultAsyncHttpxClient  # only with an LLM configured
    http = DefaultAsyncHttpxClient(proxy=proxy.url if proxy else None, trust_env=False,
                                   verify=httpx_verify(ca_file, DefaultAsyncHttpxClient))
    return AsyncOpenAI(base_url=base_url, api_key=api_key or "unused",
                       timeout=timeout, max_retries=0, http_client=http)


class LLMCondenser:
    def __init__(self, base_url: str | None, api_key: str, model: str, *, timeout: float = 30.0,
                 hourly_cap: int | None = 120, concurrency: int = CONCURRENCY,
                 max_tokens: int = MAX_TOKENS, deadline: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[str, str], None] | None = None,
                 names: CompanyNames | None = None, proxy: Proxy | None = None,
                 ca_file: str | Path | None = None):
        self.model, self.max_tokens = model, max_tokens
        # The operator's gazetteer (AINEWS_USER_DATA): a company they added is checked in
        # briefs as the bundled ones are (None: the bundled gazetteer's names).
        self.names = names
        self.clock = clock
        self.cap = HourlyCap(hourly_cap, clock, "using the extractive brief")
        self.endpoint = Endpoint(model, api_key, clock, on_change, proxy)
        self.shape = RequestShape()
        # How long the last answers took, per kind of call ("brief", "verdict"): none yet,
        # every call is sent (a guess could hold back a fast model's every brief).
        self._took: defaultdict[str, deque[float]] = defaultdict(
            lambda: deque(maxlen=ANSWER_TIMES))
        # A brief waits at most this long, a free slot included: with a slow model and
        # many new stories the queue for LLM_CONCURRENCY slots would hold the posts.
        self.deadline = deadline if deadline is not None else timeout + 1
        # One limit for every caller (the briefs and the judge of every feed polled at
        # once): a local model serving dozens of requests at once times them all out.
        # The judge's calls get a slot that frees before the briefs waiting for one.
        self._slots = PrioritySlots(concurrency)
        self.client = _client(base_url, api_key, timeout, proxy, ca_file)
        self.endpoint.at(self.client.base_url)

    async def aclose(self) -> None:
        await self.client.close()

    @property
    def off(self) -> bool:
        """LLM_HOURLY_CAP=0: no LLM call at all (README), the start-up check's and the
        judge's neither; they were sent, and status said "answering"."""
        return self.cap.limit == 0

    def resting(self) -> bool:
        """Whether no call is made now: a rest after the endpoint failed, or none at all
        (`off`). feeds/judge.py asks too."""
        return self.off or self.endpoint.resting()

    async def check(self) -> bool:
        """One small call (bot/connections.py at start-up): a failure is logged and
        rested as any other, with its hint; an answer in any form will do. Within the
        deadline a brief has: the client's timeout counts only the quiet between two
        reads, so an endpoint that kept sending held the check (and a slot) unsaid.
        Not sent when `off`: status says that instead."""
        if self.off:
            self.endpoint.say_off("LLM_HOURLY_CAP=0: no LLM calls at all")
            return False
        try:
            answered = await asyncio.wait_for(self._ping(), self.deadline)
        except asyncio.TimeoutError:
            self.endpoint.failed(TimeoutError(
                f"no answer to the start-up check within {self.deadline:g} s "
                "(LLM_TIMEOUT plus a second)"))
            return False
        if answered:
            log.info("llm: %s answers (start-up check)", self.model)
        return answered

    async def _ping(self) -> bool:
        try:
            return await self.ask(CHECK, "ping", temperature=0.0) is not None
        except LLMRejected:   # cut off at the cap: it answers all the same
            return True

    async def condense(self, story: Story, fallback: Brief) -> Brief:
        """A validated LLM brief, or `fallback` (the extractive one) on any failure,
        within `deadline` seconds, its wait for a slot included. The hourly cap is
        charged when the call is sent: a brief whose turn came too late spent none."""
        if self.resting() or self.cap.full():   # fall back at once, no wait for a slot
            return fallback
        by = asyncio.get_running_loop().time() + self.deadline
        try:
            return await asyncio.wait_for(self._condense(story, fallback, by), self.deadline)
        except (asyncio.TimeoutError, TooLate):   # TooLate: it would have come past it
            self.endpoint.once("late", f"llm: {self.model} gave no brief within "
                               f"{self.deadline:g} s (LLM_TIMEOUT plus a second, waiting "
                               "for a free LLM_CONCURRENCY slot included); the extractive "
                               f"brief is posted for {story.url or story.id}")
        except Exception as e:   # a bug here must not fail the feed's poll: said once a kind
            self.endpoint.once(f"bug {type(e).__name__}", f"llm: condensing "
                               f"{story.url or story.id} failed ({self.endpoint.short(e)}); "
                               "the extractive brief stands")
            log.debug("llm: the failure's traceback", exc_info=True)
        return fallback

    async def _condense(self, story: Story, fallback: Brief, by: float) -> Brief:
        user, shown = brief_prompt(story)
        try:
            content = await self.ask(SYSTEM, user, temperature=0.2, what="brief",
                                     charge=self.cap.allow, key=feed_of(story), by=by)
            if content is None:
                return fallback
            # Grounded in what the model was shown: the title as well as the text.
            return self._to_brief(parse_json(content), shown, fallback, fewest_bullets(story))
        except LLMRejected as e:
            self.rejected(story, e)
        return fallback

    async def ask(self, system: str, user: str, *, temperature: float,
                  max_tokens: int | None = None, what: str = "request",
                  priority: int = BRIEF, charge: Callable[[], bool] | None = None,
                  key: Hashable = None, by: float | None = None) -> str | None:
        """One JSON-mode call through the shared client, its answer capped at `max_tokens`
        (default LLM_MAX_TOKENS): the answer's text, or None when resting, `charge` (an
        hourly cap's, asked once a slot is got: a call given up while it waited spent
        nothing) refused it, the endpoint failed (then rested, and said once per episode)
        or it refused this request (said once). LLMRejected: the answer was cut off at the
        cap, the caller's to report. `what` kind of call it is ("brief"): refusals are
        counted per kind for status. `priority`: llm_slots.VERDICT goes first; `key` (a
        story's feed, `feed_of`): the keys waiting take turns. `by`: the caller's deadline
        (the event loop's time); TooLate, unsent and uncharged, when its turn leaves less
        of it than `what` has taken to answer lately (SOONEST, none measured yet)."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        cap = self.max_tokens if max_tokens is None else max_tokens
        async with self._slots.held(priority, key):
            # checked once a slot is free: a failure may have come meanwhile
            if self.resting():
                return None
            self._in_time(by, what)
            if charge is not None and not charge():
                return None
            sent = asyncio.get_running_loop().time()
            try:
                text = await self._answer(messages, temperature, cap)
                self._took[what].append(asyncio.get_running_loop().time() - sent)
            except LLMRejected:   # it answers: the answer is this story's loss only
                self.endpoint.answered(what)
                raise
            except Exception as e:  # timeouts, HTTP errors, 429s, a garbled body: all fall back
                self._failed(e, what)
                return None
        self.endpoint.answered(what)
        return text

    def _in_time(self, by: float | None, what: str) -> None:
        """TooLate if the call's turn came too late for an answer by its deadline: sent,
        it was charged, billed or kept a local model busy, and cut off unused, each one
        handing its slot to the next as late. Too late: less of it left than `what` has
        taken to answer lately or, none measured yet, than SOONEST."""
        if by is None:
            return
        took = self._took.get(what)
        left = by - asyncio.get_running_loop().time()
        usual = statistics.median(took) if took else SOONEST
        if left < usual:
            self.endpoint.too_late(what)   # counted for `ainews status`
            why = (f"{self.model} has taken {usual:.1f} s to answer lately" if took
                   else "too little for any answer")
            raise TooLate(f"its turn came {max(left, 0):.1f} s before its deadline, {why}")

    def _failed(self, e: Exception, what: str) -> None:
        if status_of(e) in REFUSED:
            self.endpoint.refused(e, what)
        else:
            self.endpoint.failed(e)

    async def _answer(self, messages: list[dict], temperature: float, cap: int) -> str:
        """The answer's text. A request refused for a part the endpoint does not take
        is sent again without it (RequestShape: each part at most once), or with its cap
        fitted to the context window (once: a server saying each time that one token
        less would fit was asked 3,840 times for one story)."""
        fitted = False
        while True:
            parts, shape = self.shape.request(temperature, cap), self.shape.changes
            try:
                resp = await self.client.chat.completions.create(
                    model=self.model, messages=messages, **parts)
                if parts.get("stream"):
                    resp = await collected(resp)
                return self._read(resp, cap)
            except Exception as e:
                if status_of(e) not in REFUSED:
                    raise
                asked, cap = cap, self._refit(e, cap, fitted, shape)
                fitted = fitted or cap != asked

    def _refit(self, e: Exception, cap: int, already: bool, shape: int) -> int:
        """The cap to ask again with after a refusal, or the refusal raised again: a
        smaller cap that fits this article in the context window (unless this request's
        cap was fitted `already`), or the same cap once the request's shape is adapted to
        what the endpoint takes, or was by another call since this one was sent (its
        `shape`, RequestShape.changes then)."""
        fitted = 0 if already else fitted_cap(e, cap)
        if fitted:
            log.debug("llm: %s has room for %d answer tokens beside this article", self.model,
                      fitted)
            return fitted
        # A poll's first calls go out at once and are all refused for the same part: one
        # adapts it, and the others were taken as refused for their story (no LLM brief,
        # a warning blaming the context window). Each change happens once: bounded.
        if self.shape.changes != shape or self.shape.adapt(e, self.model):
            return cap
        raise e

    def _read(self, resp, cap: int) -> str:
        if isinstance(resp, str):   # the openai client's reading of a body not JSON
            resp = from_events(resp) or resp   # a server that streams unasked
        text = reply_text(resp)   # NotACompletion: a proxy's page, not an answer
        # Even with a whole object before the cut: a model that loops costs the cap on
        # every call, which the operator should hear of rather than pay unawares.
        if cut_off(resp):
            room = "" if cap == self.max_tokens else f", LLM_MAX_TOKENS={self.max_tokens}"
            raise LLMRejected(f"answer was cut off at its token cap ({cap} tokens{room}): "
                              "raise LLM_MAX_TOKENS if the model thinks at length first",
                              "answer was cut off at its token cap")
        if filtered(resp):   # said so, not as an empty answer or one that is not JSON
            raise LLMRejected("answer was stopped by the provider's content filter")
        return text if text.strip() else from_reasoning(resp)

    def rejected(self, story: Story, e: LLMRejected) -> None:
        """The first answer rejected for each reason is a warning; the same reason again
        (a model that never answers in JSON) is only logged at debug level."""
        self.endpoint.once("rejected " + e.kind,
                           f"llm: {self.model} rejected for {story.url or story.id}: {e}")

    def _to_brief(self, answer: dict, source: str, fallback: Brief, fewest: int) -> Brief:
        headline, bullets, why = validate(answer, source, self.names, fewest)
        same_language(" ".join([headline, *bullets, why]), source)
        return replace(fallback, headline=headline, bullets=tuple(bullets), why_it_matters=why,
                       condenser=f"llm:{self.model}", why_is_generated=False)


def feed_of(story: Story) -> str:
    """The key a story's calls take turns by (PrioritySlots): its feed."""
    return story.feed_url or story.source
