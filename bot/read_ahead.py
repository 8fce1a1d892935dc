"""How many feeds the pipeline fetches and reads at once: at most READ_AHEAD_PER_FETCH
per fetch slot, each after its host's turn (bot.pipeline.Pipeline.poll_once)."""
from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

READ_AHEAD_PER_FETCH = 2   # feeds fetched or being read at once, per fetch slot


class ReadAhead:
    """Bodies can come in faster than the one parser thread reads them: unbounded, all of
    them would wait in its queue (a few MB on the farm's 100 KB feeds, section 7 of
    docs/benchmarks.md; far more on feeds of megabytes). So at most READ_AHEAD_PER_FETCH
    feeds per fetch slot are fetched or being read at once.

    A feed waits for its host's turn (FetchPolicy.per_host) before it takes one of those
    slots, as the fetcher takes its own slots host first: otherwise the feeds of one host
    (forty Google News searches, a host timing out) queued behind its per-host bound
    while holding every slot, and no other host's feed was fetched meanwhile."""

    def __init__(self, policy):
        self._slots = asyncio.Semaphore(READ_AHEAD_PER_FETCH * policy.concurrency)
        self._per_host = policy.per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def turn(self, url: str):
        host = _host(url)
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self._per_host)
        async with self._hosts[host], self._slots:
            yield


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:   # a URL the fetcher will refuse with its own error
        return url
