"""Delivery's long-running loop: one worker task per channel with work, started,
reaped and drained here. Mixed into bot.delivery.Delivery, whose _channel each runs."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.pacing import Key

log = logging.getLogger("ainews.delivery")


class ChannelWorkers:
    """Uses Delivery's store, clock, idle_seconds, halted, _wake, _stop, _cooldown,
    _held_until, _channel and _mind_the_clock."""

    # Seconds a post in flight gets to finish on shutdown: a supervisor's stop timeout
    # (Docker's is 10 s, systemd's 90 s) must allow it, or it SIGKILLs us mid-post.
    drain_grace = 10.0

    async def run_forever(self, stop: asyncio.Event) -> None:
        """One worker per channel with work, each on its own: a channel waiting out a
        Retry-After or a long queue never holds up the others. A finished worker is
        replaced as soon as its channel has work again."""
        self._stop = stop
        workers: dict[Key, asyncio.Task] = {}
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    if not self._recovered:   # a store busy at start: tried again next tick
                        self.recover()
                    self._mind_the_clock()
                    self._start_workers(workers)
                except Exception as e:       # the store hiccuped: keep the loop alive, say so
                    if self.halting(e) is None:
                        log.exception("delivery: pass failed; retrying")
                await _first_of(stop, self._wake, timeout=self.idle_seconds,
                                tasks=list(workers.values()))
                self._reap(workers)
        except Exception as e:
            if self.halting(e) is None:
                raise
        await self._drain(workers)
        if self.halted is not None:
            raise self.halted

    def halting(self, e: BaseException):
        """The StoreUnusable `e` means, if any (a full disk, a damaged file): no retry
        mends it, so the channels stop after their post in flight, and the run with them
        (its stop is ours); the loop raises it once they are done."""
        halt = self.store.unusable(e)
        if halt is not None:
            self.halted = self.halted or halt
            if self._stop is not None:
                self._stop.set()
        return halt

    def _start_workers(self, workers: dict[Key, asyncio.Task]) -> None:
        now = self.clock()
        for platform, channel, ready in self.store.outbox_work(now):
            key = (platform, channel)
            if key in workers or self._cooldown.get(key, now) > now:
                continue
            # Held posts alone wait for their roundup or digest (bot.roundups): a busy
            # channel over its hourly cap was looked at every idle tick, which cost
            # more CPU than polling 1,000 feeds (docs/benchmarks.md, section 8).
            if ready or self._held_until.get(key, now) <= now:
                workers[key] = asyncio.create_task(self._channel(*key),
                                                   name=f"delivery {platform}/{channel}")

    def _reap(self, workers: dict[Key, asyncio.Task]) -> None:
        for key, task in list(workers.items()):
            if not task.done():
                continue
            del workers[key]
            failed = not task.cancelled() and task.exception() is not None
            if failed and self.halting(task.exception()) is None:
                log.error("delivery: %s/%s: worker failed: %r", *key, task.exception())
            if failed or task.cancelled() or not task.result():
                # Nothing went out (no adapter, blocked, an error): wait an idle tick
                # before trying this channel again, instead of spinning.
                self._cooldown[key] = self.clock() + timedelta(seconds=self.idle_seconds)

    async def _drain(self, workers: dict[Key, asyncio.Task]) -> None:
        """On shutdown, let posts in flight finish; a worker still busy after
        drain_grace seconds is cancelled, and its claimed row goes back to due on the
        next start (which looks for the post before making it again: bot/retry.py)."""
        if workers:
            _, pending = await asyncio.wait(workers.values(), timeout=self.drain_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


async def _first_of(*events: asyncio.Event, timeout: float, tasks=()) -> None:
    """Return when an event is set, a task finishes, or `timeout` passes."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait([*waiters, *tasks], timeout=timeout,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
