"""How fast delivery may post: the platform-wide rate gate, each channel's own pace,
its hourly cap, and the wait a failure put on it. Mixed into bot.delivery.Delivery."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Callable

from bot.adapter import Adapter

HOUR = timedelta(hours=1)
# A busy channel's posts spread over the hour (frees_at), as shipped: measured in
# docs/benchmarks.md section 4 against the hourly cap alone.
SPREAD = True
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
            # max: a clock set back since the last take refills nothing, rather than
            # owing the step (an hour's wait for the next token).
            elapsed = max(0.0, now - self.at)
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
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


def spread_from(cap: int) -> int:
    """Messages in the last hour after which a busy channel's next one waits its turn:
    seven in ten of the cap (7 of 10; a cap of 3 or less is never spread)."""
    return max(1, -(-cap * 7 // 10))


def spread_gap(cap: int) -> timedelta:
    """A busy channel's turn: two thirds of HOUR / cap after its last message (4 minutes
    at 10 an hour). Measured against other shapes (docs/benchmarks.md, section 4)."""
    return HOUR * 2 / (3 * max(cap, 1))


def frees_at(sent: list[datetime], now: datetime, cap: int, spread: bool) -> datetime:
    """When the channel's next message may go, given the send times of its messages in
    the last hour (oldest first): now if the hourly cap has room, else just after the
    send that fills it turns an hour old (one exactly an hour old still counts). With
    `spread`, once spread_from(cap) messages went in the hour, also not before
    spread_gap(cap) after the last one: a busy channel's last few posts of the hour are
    spaced out, so its cap frees a slot at a time instead of after a long silence."""
    over = len(sent) - cap
    at = now if over < 0 else sent[over] + HOUR + timedelta(seconds=1)
    if spread and sent and len(sent) >= spread_from(cap):
        at = max(at, sent[-1] + spread_gap(cap))
    return at


def room_now(sent: list[datetime], now: datetime, cap: int, spread: bool) -> int:
    """How many messages the channel may send at once now (frees_at's rule)."""
    room = max(cap - len(sent), 0)
    if not spread or not room:
        return room
    if frees_at(sent, now, cap, spread) > now:
        return 0
    return min(room, max(1, spread_from(cap) - len(sent)))


class Pacing:
    """Delivery's pacing half; uses its clock, sleep, store, hourly_cap, spread, _gates,
    _last_post and _blocked."""

    def _cap_room(self, key: Key) -> bool:
        return self._cap_frees_at(key) <= self.clock()

    def _cap_frees_at(self, key: Key) -> datetime:
        """When the channel's next message may go (frees_at)."""
        now = self.clock()
        sent = self.store.posts_sent_since(*key, now - HOUR)   # oldest first
        return frees_at(sent, now, self.hourly_cap, self.spread)

    def _cap_full(self, key: Key) -> bool:
        """The hourly cap itself (not the spreading) holds the channel's posts."""
        now = self.clock()
        return len(self.store.posts_sent_since(*key, now - HOUR)) >= self.hourly_cap

    def _is_blocked(self, key: Key) -> bool:
        until = self._blocked.get(key)
        return until is not None and self.clock() < until

    async def _pace(self, adapter: Adapter, key: Key) -> None:
        last = self._last_post.get(key)
        if last is None:
            return
        gap = float(adapter.min_interval)
        # min: a last post "after now" (the clock went back) waits one gap, not the step.
        wait = min((last - self.clock()).total_seconds() + gap, gap)
        if wait > 0:
            await self.sleep(wait)

    async def _gate(self, platform: str) -> None:
        gate = self._gates.get(platform)
        if gate is not None:
            await gate.acquire(self.clock, self.sleep)
