"""Delivery: outbox rows -> the platform adapters, paced, capped, retried, crash-safe.

    delivery = Delivery(store, {"discord": adapter, ...}, hourly_cap=10)
    await delivery.run_once()            # everything due now; returns messages posted/edited
    await delivery.run_forever(stop)     # the service's loop; delivery.wake() after dispatch

Protocol per row: claim it (state "sending", attempt+1) in a transaction, call the
adapter, record "sent" with the message id. Start-up puts rows a crash left in "sending"
back to due, so every due post goes out; the nonce (f"ainews-{row_id}") is stable, so a
platform that dedupes by nonce (Discord) or can look a post up by it (Slack, `find_sent`,
asked before any retry) closes the gap between its accepting and our recording.

Each channel is one worker; workers run concurrently, so a slow channel blocks only
itself. Posts beyond the channel's hourly cap, and every post of a digest-mode channel,
are held for the channel's next roundup: never dropped.

Failures (bot/adapter.py): a TransientError retries the row with backoff while its
channel waits; a PermanentError pauses the channel; a RejectedError fails just that row
(reason in last_error, shown by `ainews status`) and the channel goes on with its next
post. Any other exception is an adapter bug: retried once, then handled as rejected."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Mapping

from bot.adapter import Adapter, PermanentError, RejectedError
from bot.retry import (UNEXPECTED_ATTEMPTS, attempt_limit, bug_reason, earlier_post,
                       platform_down, rate_limited, reason_of, unexpected)
from bot.roundups import Roundups
from feeds.models import utcnow

log = logging.getLogger("ainews.delivery")

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


class Delivery(Roundups):
    def __init__(self, store, adapters: Mapping[str, Adapter], *, hourly_cap: int = 10,
                 clock: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], Awaitable] = asyncio.sleep,
                 max_attempts: int = 8, backoff_base: float = 60.0,
                 backoff_factor: float = 3.0, backoff_max: float = 6 * 3600.0,
                 roundup_size: int = 10, idle_seconds: float = 2.0):
        self.store, self.adapters = store, dict(adapters)
        self.hourly_cap, self.clock, self.sleep = hourly_cap, clock, sleep
        self.max_attempts, self.roundup_size = max_attempts, roundup_size
        self.backoff = (backoff_base, backoff_factor, backoff_max)
        self.idle_seconds = idle_seconds
        self._last_post: dict[Key, datetime] = {}
        self._blocked: dict[Key, datetime] = {}    # 429s / outages: channel waits
        self._recovered = False
        self._wake = asyncio.Event()
        self._stop: asyncio.Event | None = None    # once set, channels stop between posts
        self._warned: set[str] = set()
        self._cooldown: dict[Key, datetime] = {}   # channel -> earliest next worker
        self._split: dict[Key, int] = {}           # a refused roundup is retried in halves
        self._gates = {p: gate for p, a in self.adapters.items() if (gate := _gate(a))}

    # ---- entry points ----------------------------------------------------------------
    def recover(self) -> int:
        """Rows a crash left claimed go back to waiting; run once at start-up."""
        self._recovered = True
        n = self.store.recover_outbox()
        if n:
            log.warning("delivery: recovered %d post(s) left in flight by the last run", n)
        return n

    def attach(self, adapter: Adapter) -> None:
        """A platform that started late (unreachable at start-up: bot/startup.py) takes
        its stand-in's place, with its rate gate; its waiting posts go out now."""
        self.adapters[adapter.platform] = adapter
        self._gates.pop(adapter.platform, None)
        if gate := _gate(adapter):
            self._gates[adapter.platform] = gate
        # Its channels idled while the stand-in was not ready: no need to wait that out.
        self._cooldown = {k: t for k, t in self._cooldown.items() if k[0] != adapter.platform}
        self.wake()

    def wake(self) -> None:
        """New rows were queued: look now instead of at the next idle tick."""
        self._wake.set()

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """Everything due now; once `stop` is set, each channel ends after its post in
        flight (the rest wait in the outbox for the next start)."""
        self._stop = stop or self._stop
        if not self._recovered:
            self.recover()
        channels = self.store.channels_with_outbox_work(self.clock())
        done = await asyncio.gather(*(self._channel(p, c) for p, c in channels),
                                    return_exceptions=True)
        for (p, c), result in zip(channels, done):
            if isinstance(result, BaseException):
                log.error("delivery: %s/%s: worker failed: %r", p, c, result)
        return sum(r for r in done if isinstance(r, int))

    async def run_forever(self, stop: asyncio.Event) -> None:
        """One worker per channel with work, each on its own: a channel waiting out a
        Retry-After or a long queue never holds up the others. A finished worker is
        replaced as soon as its channel has work again."""
        self.recover()
        self._stop = stop
        workers: dict[Key, asyncio.Task] = {}
        while not stop.is_set():
            self._wake.clear()
            try:
                self._start_workers(workers)
            except Exception:       # the store hiccuped: keep the loop alive, say so
                log.exception("delivery: pass failed; retrying")
            await _first_of(stop, self._wake, timeout=self.idle_seconds,
                            tasks=list(workers.values()))
            self._reap(workers)
        await self._drain(workers)

    def _start_workers(self, workers: dict[Key, asyncio.Task]) -> None:
        now = self.clock()
        for key in self.store.channels_with_outbox_work(now):
            if key not in workers and self._cooldown.get(key, now) <= now:
                workers[key] = asyncio.create_task(self._channel(*key),
                                                   name=f"delivery {key[0]}/{key[1]}")

    def _reap(self, workers: dict[Key, asyncio.Task]) -> None:
        for key, task in list(workers.items()):
            if not task.done():
                continue
            del workers[key]
            failed = not task.cancelled() and task.exception() is not None
            if failed:
                log.error("delivery: %s/%s: worker failed: %r", *key, task.exception())
            if failed or task.cancelled() or not task.result():
                # Nothing went out (no adapter, blocked, an error): wait an idle tick
                # before trying this channel again, instead of spinning.
                self._cooldown[key] = self.clock() + timedelta(seconds=self.idle_seconds)

    async def _drain(self, workers: dict[Key, asyncio.Task], grace: float = 10.0) -> None:
        """On shutdown, let posts in flight finish; a worker still busy after `grace`
        seconds is cancelled, and its claimed row goes back to due on the next start."""
        if workers:
            _, pending = await asyncio.wait(workers.values(), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # ---- one channel -----------------------------------------------------------------
    async def _channel(self, platform: str, channel: str) -> int:
        adapter = self.adapters.get(platform)
        if adapter is None:
            self._warn_once(platform, f"delivery: no {platform} adapter running; its posts "
                                      "wait in the outbox")
            return 0
        key = (platform, channel)
        if self._is_blocked(key) or not _ready(adapter):
            # A platform that is down costs no attempts: an outage of any length
            # loses no post, and posting resumes as soon as it is back.
            return 0
        setting = self.store.digest_setting(platform, channel)
        rows = self.store.due_posts(self.clock(), platform, channel)
        if setting is not None:
            # Digest mode: new posts join the daily roundup; edits still go out.
            self.store.hold_posts([r.id for r in rows if r.state == "due"])
            rows = [r for r in rows if r.state == "edit"]
            sent = await self._daily_digest(adapter, key, setting)
        else:
            sent = await self._overflow_roundup(adapter, key)
        return sent + await self._post_rows(adapter, key, rows)

    async def _post_rows(self, adapter: Adapter, key: Key, rows) -> int:
        """Due posts newest first; past the hourly cap they wait for the roundup."""
        sent, capped = 0, False
        for row in rows:
            if self._is_blocked(key):
                break
            if row.state == "due" and (capped or not self._cap_room(key)):
                if not capped:
                    capped = True
                    self._hold_overflow(key, rows)
                continue
            ok = await self._deliver(adapter, key, row.id)
            if ok is None:
                break
            sent += ok
        return sent

    def _hold_overflow(self, key: Key, rows) -> None:
        n = self.store.hold_posts([r.id for r in rows if r.state == "due"])
        if n:
            log.info("delivery: %s/%s: hourly cap %d reached; %d post(s) join the next "
                     "roundup", *key, self.hourly_cap, n)

    async def _deliver(self, adapter: Adapter, key: Key, row_id: int) -> int | None:
        """Post or edit one row: 1 done, 0 not ours any more or rejected (go on with the
        next row), None: the channel stops now."""
        if self._stopping():
            return None
        await self._pace(adapter, key)
        await self._gate(key[0])
        row = self.store.claim_post(row_id, self.clock())
        if row is None:
            return 0
        try:
            if row.state == "editing":
                await adapter.edit(row.channel, row.message_id, row.brief)
                message_id = row.message_id
            else:
                message_id = (await earlier_post(adapter, row.channel, row.nonce, row.attempts)
                              or await adapter.send(row.channel, row.brief, nonce=row.nonce))
        except PermanentError as e:
            self._on_permanent(row, e.reason)
            return None
        except RejectedError as e:
            self._on_rejected(row, e.reason)
            return 0
        except Exception as e:      # TransientError, or an adapter bug: retry, bounded
            if unexpected(e) and row.attempts >= UNEXPECTED_ATTEMPTS:
                self._on_rejected(row, bug_reason(row.attempts, e))
                return 0
            self._on_transient(row, e)
            return None
        finally:
            self._last_post[key] = self.clock()
        # Message ids tell posts apart for the cap and edits: never store a blank one.
        self.store.record_sent(row.id, str(message_id or row.nonce), self.clock())
        return 1

    # ---- failures --------------------------------------------------------------------
    def _on_transient(self, row, error: Exception) -> None:
        reason, key = reason_of(error), (row.platform, row.channel)
        limit = attempt_limit(self.max_attempts, error)
        if row.attempts >= limit:
            self._give_up(row, reason)
            return
        delay = self._delay(row.attempts, error)
        self._blocked[key] = self.clock() + timedelta(seconds=delay)
        self.store.record_retry(row.id, next_attempt=self.clock() + timedelta(seconds=delay),
                                error=reason)
        log.warning("delivery: %s/%s: attempt %d of %r failed (%s); retrying in %.0f s",
                    *key, row.attempts, row.brief.headline, reason, delay)

    def _on_rejected(self, row, reason: str) -> None:
        """The platform will never take this row as it is: fail it alone. No backoff
        and no pause, so the channel's other posts are not held up by it."""
        if row.state == "editing":
            self.store.record_edit_dropped(row.id, f"edit rejected: {reason}")
            log.error("delivery: %s/%s: edit of %r rejected (%s); the first post stands",
                      row.platform, row.channel, row.brief.headline, reason)
            return
        self.store.record_failed(row.id, f"rejected: {reason}")
        log.error("delivery: %s/%s: post %r rejected (%s); marked failed, the channel "
                  "goes on", row.platform, row.channel, row.brief.headline, reason)

    def _give_up(self, row, reason: str) -> None:
        error = f"gave up after {row.attempts} attempts: {reason}"
        if row.state == "editing":
            self.store.record_edit_dropped(row.id, error)   # the first post stands
        else:
            self.store.record_failed(row.id, error)
        log.error("delivery: %s/%s: %s %r %s", row.platform, row.channel,
                  "edit of" if row.state == "editing" else "post", row.brief.headline, error)

    def _on_permanent(self, row, reason: str) -> None:
        if row.state == "editing":
            # A deleted message is no reason to pause a channel; the next post tells.
            self.store.record_edit_dropped(row.id, f"edit refused: {reason}")
            log.warning("delivery: %s/%s: edit refused (%s)", row.platform, row.channel,
                        reason)
            return
        self.store.pause_channel(row.platform, row.channel, reason)
        n = self.store.fail_channel_posts(row.platform, row.channel,
                                          f"channel paused: {reason}")
        log.error("delivery: %s/%s: paused its subscriptions: %s (%d waiting post(s) "
                  "marked failed)", row.platform, row.channel, reason, n)

    # ---- pacing and caps -------------------------------------------------------------
    def _delay(self, attempt: int, error: Exception) -> float:
        """The backoff step of this attempt; a 429's Retry-After alone for the first
        max_attempts, then at least the backoff too (see RATE_LIMITED_FACTOR)."""
        base, factor, top = self.backoff
        if platform_down(error):   # the adapter paces its own re-checks
            return float(error.retry_after or base)
        if rate_limited(error):
            over = attempt - self.max_attempts
            step = min(top, base * factor ** (over - 1)) if over > 0 else 0.0
            return max(0.0, float(error.retry_after), step)
        return min(top, base * factor ** max(0, attempt - 1))

    def _cap_room(self, key: Key) -> bool:
        since = self.clock() - HOUR
        return len(self.store.posts_sent_since(*key, since)) < self.hourly_cap

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

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

    def _warn_once(self, tag: str, message: str) -> None:
        if tag not in self._warned:
            self._warned.add(tag)
            log.warning("%s", message)


def _ready(adapter: Adapter) -> bool:
    ready = getattr(adapter, "ready", None)
    return ready is None or bool(ready())


async def _first_of(*events: asyncio.Event, timeout: float, tasks=()) -> None:
    """Return when an event is set, a task finishes, or `timeout` passes."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait([*waiters, *tasks], timeout=timeout,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


def _gate(adapter: Adapter) -> RateGate | None:
    """The adapter's platform-wide limit (posts/s and burst), if it declares one."""
    if not getattr(adapter, "max_rate", None):
        return None
    return RateGate(adapter.max_rate, getattr(adapter, "burst", 1.0))
