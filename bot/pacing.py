"""How fast delivery may post: the platform-wide rate gate, each channel's own pace,
its hourly cap, and the wait a failure put on it. Mixed into bot.delivery.Delivery."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Callable

from bot.adapter import Adapter

HOUR = timedelta(hours=1)
Key = tuple[str, str]          # (platform, channel)


class RateGate:
    """The platform-wide request budget of one adapter: a token bucket of `burst` posts
    refilled at `rate` per second, mirroring the platform's own. Posts queue for it in
    arrival order (one waiter sleeps at a time) and spend their token when they go, so
    thousands of channel workers share the bot's global limit without provoking 429s
    (which Discord punishes past 10,000 per 10 minutes), even after the loop stalls."""

    def __init__(self, rate: float, burst: float = 1.0):
        self.rate, self.burst = rate, max(1.0, burst)
        self.tokens, self.at = self.burst, None
        self._turn = asyncio.Lock()

    def take(self, now: float) -> float:
        """Spend a token at `now` and return 0, or return the seconds until one is due."""
        if self.at is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    async def acquire(self, clock: Callable[[], datetime], sleep) -> None:
        async with self._turn:
            while (wait := self.take(clock().timestamp())) > 0:
                await sleep(wait)


def gate_for(adapter: Adapter) -> RateGate | None:
    """The adapter's platform-wide limit (posts/s and burst), if it declares one."""
    if not getattr(adapter, "max_rate", None):
        return None
    return RateGate(adapter.max_rate, getattr(adapter, "burst", 1.0))


class Pacing:
    """Delivery's pacing half; uses its clock, sleep, store, hourly_cap, _gates,
    _last_post and _blocked."""

    def _cap_room(self, key: Key) -> bool:
        return self._cap_frees_at(key) <= self.clock()

    def _cap_frees_at(self, key: Key) -> datetime:
        """Now if the hourly cap has room, else just after the send that fills it turns
        an hour old (one exactly an hour old still counts)."""
        now = self.clock()
        sent = self.store.posts_sent_since(*key, now - HOUR)   # oldest first
        over = len(sent) - self.hourly_cap
        return now if over < 0 else sent[over] + HOUR + timedelta(seconds=1)

    def _is_blocked(self, key: Key) -> bool:
        until = self._blocked.get(key)
        return until is not None and self.clock() < until

    async def _pace(self, adapter: Adapter, key: Key) -> None:
        last = self._last_post.get(key)
        if last is None:
            return
        wait = (last - self.clock()).total_seconds() + float(adapter.min_interval)
        if wait > 0:
            await self.sleep(wait)

    async def _gate(self, platform: str) -> None:
        gate = self._gates.get(platform)
        if gate is not None:
            await gate.acquire(self.clock, self.sleep)
