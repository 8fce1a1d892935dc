"""Optional LLM condenser: any OpenAI-compatible endpoint (OpenAI, Qwen on Alibaba Cloud's
compatible mode, Ollama, vLLM) through the official `openai` async client.

It never replaces the extractive brief blindly: the answer is validated (three bullets,
lengths, names and figures present in the source) and any failure falls back to it.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from dataclasses import replace
from typing import Callable

from feeds.llm_reply import LLMRejected, parse_json, reply_text
from feeds.llm_validate import validate
from feeds.models import Brief, Story
from feeds.plural import count

__all__ = ["HourlyCap", "LLMCondenser", "LLMRejected", "parse_json", "validate"]

log = logging.getLogger("ainews.llm")

MAX_SOURCE_CHARS = 12_000   # what we send: enough for a news article, bounded cost
REST_SECONDS = 60.0         # no calls for this long after the endpoint failed; doubles
MAX_REST_SECONDS = 1800.0   # up to half an hour while it keeps failing
CONCURRENCY = 4             # calls in flight at once (LLM_CONCURRENCY)

SYSTEM = (
    "You condense AI-industry news for busy readers. Answer with one JSON object only: "
    '{"headline": str, "bullets": [str, str, str], "why_it_matters": str}. '
    "headline: the story in plain words, at most 120 characters, no outlet name. "
    "bullets: exactly three key facts, one sentence each, at most 200 characters, "
    "not repeating the headline. why_it_matters: one or two sentences on the consequence "
    "for the reader. Use only facts, names and figures stated in the article."
)


class LLMCondenser:
    def __init__(self, base_url: str | None, api_key: str, model: str, *, timeout: float = 30.0,
                 hourly_cap: int = 120, concurrency: int = CONCURRENCY,
                 clock: Callable[[], float] = time.monotonic):
        from openai import AsyncOpenAI  # only when an LLM is configured

        self.model = model
        self.clock = clock
        self.cap = HourlyCap(hourly_cap, clock, "using the extractive brief")
        self._failures = 0              # endpoint failures in a row
        self._resume_at = 0.0           # no calls before this (clock) after a failure
        self._failure_kind = ""         # the last failure's type, reported once
        self._rejections: set[str] = set()   # kinds of rejected answer reported so far
        # One limit for every caller (the briefs and the judge of every feed polled at
        # once): a local model serving dozens of requests at once times them all out.
        self._slots = asyncio.Semaphore(concurrency)
        # The client's own retries would multiply cost and latency: we fall back instead.
        self.client = AsyncOpenAI(base_url=base_url, api_key=api_key or "unused",
                                  timeout=timeout, max_retries=0)
        self._api_key = api_key   # blanked out of the failures we log (_short)

    async def aclose(self) -> None:
        await self.client.close()

    def resting(self) -> bool:
        """Whether calls wait out a rest after the endpoint failed (feeds/judge.py too)."""
        return self.clock() < self._resume_at

    async def condense(self, story: Story, fallback: Brief) -> Brief:
        """A validated LLM brief, or `fallback` (the extractive one) on any failure."""
        if self.resting() or not self.cap.allow():   # fall back at once
            return fallback
        source = _source_text(story)
        content = await self.ask(SYSTEM, f"Title: {story.title}\n\n{source}", temperature=0.2)
        if content is None:
            return fallback
        try:
            # Grounded in what the model was shown: the title as well as the text.
            return self._to_brief(parse_json(content), f"{story.title}\n{source}", fallback)
        except LLMRejected as e:
            self.rejected(story, e)
        return fallback

    async def ask(self, system: str, user: str, *, temperature: float) -> str | None:
        """One JSON-mode call through the shared client: the answer's text, or None when
        resting or the endpoint failed (then rested, and said once per episode)."""
        async with self._slots:
            if self.resting():   # checked once a slot is free: a failure may have come meanwhile
                return None
            try:
                resp = await self.client.chat.completions.create(
                    model=self.model, temperature=temperature,
                    response_format={"type": "json_object"},
                    messages=[{"role": "system", "content": system},
                              {"role": "user", "content": user}])
                text = reply_text(resp)   # NotACompletion: a proxy's page, not an answer
            except Exception as e:  # timeouts, HTTP errors, 429s, a garbled body: all fall back
                self._endpoint_failed(e)
                return None
        self._endpoint_answered()
        return text

    def _endpoint_failed(self, e: Exception) -> None:
        """Rest before the next call: a wrong key, model or URL fails every story alike,
        and a slow server would cost LLM_TIMEOUT per story, one after another. Said once
        (again only when the failure changes), not per story."""
        if self.resting():   # a concurrent call failed first: one episode, one rest
            log.debug("llm: %s failed too (%s)", self.model, _short(e, self._api_key))
            return
        self._failures += 1
        pause = min(REST_SECONDS * 2 ** (self._failures - 1), MAX_REST_SECONDS)
        self._resume_at = self.clock() + pause
        kind, self._failure_kind = self._failure_kind, type(e).__name__
        level = logging.WARNING if kind != self._failure_kind else logging.DEBUG
        hint = _HINTS.get(type(e).__name__, "")
        log.log(level, "llm: %s failed (%s)%s. Briefs are extractive and verdicts "
                "offline until it answers; "
                "next try in %d s", self.model, _short(e, self._api_key), hint, pause)

    def _endpoint_answered(self) -> None:
        if self._failures:
            log.info("llm: %s answers again after %s", self.model,
                     count(self._failures, "failed call"))
        self._failures, self._resume_at, self._failure_kind = 0, 0.0, ""

    def rejected(self, story: Story, e: LLMRejected) -> None:
        """The first answer rejected for each reason is a warning; the same reason again
        (a model that never answers in JSON) is only logged at debug level."""
        kind = _QUOTED.sub("…", str(e))
        level = logging.DEBUG if kind in self._rejections else logging.WARNING
        self._rejections.add(kind)
        log.log(level, "llm: %s rejected for %s: %s%s", self.model, story.url or story.id, e,
                "" if level == logging.DEBUG else " (like rejections are logged at debug level)")

    def _to_brief(self, answer: dict, source: str, fallback: Brief) -> Brief:
        headline, bullets, why = validate(answer, source)
        return replace(fallback, headline=headline, bullets=tuple(bullets), why_it_matters=why,
                       condenser=f"llm:{self.model}", why_is_generated=False)


class HourlyCap:
    """At most `limit` calls in any hour; reaching it is said once per capped stretch."""

    def __init__(self, limit: int, clock: Callable[[], float], fallback: str,
                 logger: logging.Logger = log):
        self.limit, self.clock, self.fallback, self.log = limit, clock, fallback, logger
        self.calls: deque[float] = deque()
        self._capped = False

    def allow(self) -> bool:
        now = self.clock()
        while self.calls and now - self.calls[0] >= 3600:
            self.calls.popleft()
        if len(self.calls) >= self.limit:
            if not self._capped:
                self.log.info("%s: hourly cap of %d calls reached; %s",
                              self.log.name.rsplit(".", 1)[-1], self.limit, self.fallback)
            self._capped = True
            return False
        self._capped = False
        self.calls.append(now)
        return True


def _source_text(story: Story) -> str:
    text = story.text or story.summary
    return text[:MAX_SOURCE_CHARS]



# What the operator can check, by the openai client's error class.
_HINTS = {
    "AuthenticationError": " — check LLM_API_KEY",
    "PermissionDeniedError": " — check LLM_API_KEY and the model's access",
    "NotFoundError": " — check LLM_MODEL, and that LLM_BASE_URL is the API's base (often "
                     "ending in /v1)",
    "APIConnectionError": " — check that LLM_BASE_URL is reachable",
    "APITimeoutError": " — slower than LLM_TIMEOUT",
}
_QUOTED = re.compile(r"'[^']*'|\([^)]*\)")   # a rejection's specifics, not its kind


def _short(e: Exception, secret: str = "") -> str:
    """One line for the log. An endpoint's error text is its own: some gateways quote
    the key they were sent ("Incorrect API key provided: sk-..."), so it is cut out."""
    text = str(e)
    if secret:
        text = text.replace(secret, "[LLM_API_KEY]")
    return f"{type(e).__name__}: {text[:160]}"
