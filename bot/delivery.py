"""Delivery: outbox rows -> the platform adapters, paced, capped, retried, crash-safe.

    delivery = Delivery(store, {"discord": adapter, ...}, hourly_cap=10)
    await delivery.run_once()            # everything due now; returns messages posted/edited
    await delivery.run_forever(stop)     # the service's loop; delivery.wake() after dispatch

Protocol per row: claim it (state "sending", attempt+1) in a transaction, call the
adapter, record "sent" with the message id. Start-up puts rows a crash left in "sending"
back to due, so every due post goes out; the nonce (f"ainews-{epoch}-{row_id}", the
database's life and the row: storage/outbox.py OutboxRow.nonce) is stable, so a
platform that dedupes by nonce (Discord) or can look a post up by it (Slack, `find_sent`,
asked before any retry) closes the gap between its accepting and our recording.

Each channel is one worker; workers run concurrently, so a slow channel blocks only
itself. Posts beyond the channel's hourly cap, and every post of a digest-mode channel,
are held for the channel's next roundup: never dropped for the cap. Once a channel has
had 7 of its 10 posts in an hour, its next waits 4 minutes after the one before
(bot/pacing.py frees_at), and the posts waiting meanwhile go together at that turn: a
busy channel's posts come every few minutes, not ten at once and then a long silence.

Old stories are not news: bot/stale_posts.py marks a post stale when its story is older
than AINEWS_MAX_POST_AGE_HOURS by its turn.

Failures (bot/adapter.py): a TransientError retries the row with backoff while its
channel waits; a PermanentError pauses the channel (one its admins can fix keeps its
posts for the resume: bot/kept_posts.py); a RejectedError fails just that row
(reason in last_error, shown by `ainews status`) and the channel goes on with its next
post. Any other exception is an adapter bug: retried once, then handled as rejected."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Awaitable, Callable, Mapping

from bot.adapter import Adapter
from bot.backup import restored_at
from bot.channel_workers import ChannelWorkers
from bot.clock_watch import ClockSteps, ClockWatch
from bot.digest import next_scheduled, parse_schedule
from bot.failures import Failures, settle
from bot.kept_posts import KeptPosts
from bot.pacing import SPREAD, Key, Pacing, gate_for
from bot.retry import earlier_post
from bot.roundup_text import ROUNDUP_SIZE
from bot.roundups import Roundups
from bot.stale_posts import HELD_RECHECK, StalePosts
from feeds.models import utcnow
from feeds.plural import count

log = logging.getLogger("ainews.delivery")


class Delivery(ChannelWorkers, Roundups, StalePosts, KeptPosts, Failures, Pacing,
               ClockSteps):
    """The outbox's reader: see the module's docstring. Its halves: bot.channel_workers
    (the loop), bot.roundups, bot.stale_posts, bot.kept_posts, bot.failures, bot.pacing
    and bot.clock_watch."""


    def __init__(self, store, adapters: Mapping[str, Adapter], *, hourly_cap: int = 10,
                 clock: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], Awaitable] = asyncio.sleep,
                 max_attempts: int = 8, backoff_base: float = 60.0,
                 backoff_factor: float = 3.0, backoff_max: float = 6 * 3600.0,
                 roundup_size: int = ROUNDUP_SIZE, idle_seconds: float = 2.0,
                 spread: bool = SPREAD, monotonic: Callable[[], float] | None = None,
                 max_post_age: timedelta | None = None):
        self.store, self.adapters = store, dict(adapters)
        self.restored = restored_at(store)  # a backup put back: bot/retry.py before_restore
        self.max_post_age = max_post_age    # None: posts of any age go out
        self.hourly_cap, self.clock, self.sleep = hourly_cap, clock, sleep
        # A busy channel's last posts of the hour spaced out (bot/pacing.py frees_at);
        # False: the hourly cap alone (up to the cap at once, then nothing for the hour).
        self.spread = spread
        self.max_attempts, self.roundup_size = max_attempts, roundup_size
        self.backoff = (backoff_base, backoff_factor, backoff_max)
        self.idle_seconds = idle_seconds
        self._last_post: dict[Key, datetime] = {}
        self._blocked: dict[Key, datetime] = {}    # 429s / outages: channel waits
        self._recovered = False
        self._step_due = timedelta(0)   # a clock step whose stored times are not moved yet
        self._wake = asyncio.Event()
        self._stop: asyncio.Event | None = None    # once set, channels stop between posts
        self._warned: set[str] = set()
        self._cooldown: dict[Key, datetime] = {}   # channel -> earliest next worker
        self._held_until: dict[Key, datetime] = {}  # channel -> when its held posts may go
        self._split: dict[Key, int] = {}           # a refused roundup is retried in halves
        self._folded: dict[Key, datetime] = {}     # a digest whose rest joins the next
        self._unserved_looked: dict[Key, datetime] = {}   # no adapter: aged out then
        self._gates = {p: gate for p, a in self.adapters.items() if (gate := gate_for(a))}
        # The wall clock against a monotonic one: a fake clock brings its own.
        self._watch = ClockWatch(clock, monotonic or getattr(clock, "monotonic",
                                                             time.monotonic))
        self.halted = None   # the store's StoreUnusable that ended delivery (halting)

    # ---- entry points ----------------------------------------------------------------
    def recover(self) -> int:
        """Rows a crash left claimed go back to waiting; run once at start-up (again
        until it gets through: a store busy then must not end delivery for the run)."""
        self._mind_stored_times()
        n = self.store.recover_outbox()
        self._recovered = True
        if n:
            log.warning("delivery: recovered %s left in flight by the last run",
                        count(n, "post"))
        return n

    def attach(self, adapter: Adapter) -> None:
        """A platform that started late (unreachable at start-up: bot/startup.py) takes
        its stand-in's place, with its rate gate; its waiting posts go out now."""
        self.adapters[adapter.platform] = adapter
        self._gates.pop(adapter.platform, None)
        if gate := gate_for(adapter):
            self._gates[adapter.platform] = gate
        # Its channels idled while the stand-in was not ready: no need to wait that out.
        self._cooldown = {k: t for k, t in self._cooldown.items() if k[0] != adapter.platform}
        self._held_until = {k: t for k, t in self._held_until.items()
                            if k[0] != adapter.platform}
        self.wake()

    def wake(self) -> None:
        """New rows were queued: look now instead of at the next idle tick."""
        self._wake.set()

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """Everything due now; once `stop` is set, each channel ends after its post in
        flight (the rest wait in the outbox for the next start)."""
        self._stop = stop or self._stop
        try:
            if not self._recovered:
                self.recover()
            self._mind_the_clock()
            channels = self.store.channels_with_outbox_work(self.clock())
        except Exception as e:
            if (halt := self.halting(e)) is None:
                raise
            raise halt from None
        done = await asyncio.gather(*(self._channel(p, c) for p, c in channels),
                                    return_exceptions=True)
        for (p, c), result in zip(channels, done):
            if isinstance(result, BaseException) and self.halting(result) is None:
                log.error("delivery: %s/%s: worker failed: %r", p, c, result)
        if self.halted is not None:
            raise self.halted
        return sum(r for r in done if isinstance(r, int))

    # ---- one channel -----------------------------------------------------------------
    async def _channel(self, platform: str, channel: str) -> int:
        adapter = self.adapters.get(platform)
        key = (platform, channel)
        if adapter is None:
            self._warn_once(platform, f"delivery: no {platform} adapter running; its posts "
                                      "wait in the outbox")
            self._age_out_unserved(key)
            return 0
        if self._is_blocked(key) or not _ready(adapter):
            # A platform that is down costs no attempts: an outage of any length
            # loses no post, and posting resumes as soon as it is back.
            return 0
        setting = self.store.digest_setting(platform, channel)
        kept = await self._resume_kept(adapter, key, setting)   # a paused channel's
        if setting is None:     # a digest is a summary asked for: posted at any age
            self._drop_stale(key)
        rows = self.store.due_posts(self.clock(), platform, channel)
        if setting is not None:
            # Digest mode: new posts join the daily roundup; edits still go out.
            self.store.hold_posts([r.id for r in rows if r.state == "due"])
            rows = [r for r in rows if r.state == "edit"]
            sent = kept + await self._daily_digest(adapter, key, setting)
        else:
            if self.spread and rows and self._cap_room(key) and self.store.held_count(*key):
                # Posts are waiting for the channel's next turn: the new ones join them
                # in it, rather than waiting for the turn after.
                self.store.hold_posts([r.id for r in rows if r.state == "due"])
                rows = [r for r in rows if r.state == "edit"]
            sent = kept + await self._overflow_roundup(adapter, key)
        sent += await self._post_rows(adapter, key, rows)
        if not sent:    # (a pass that posted is followed by one more, which notes it)
            self._note_held(key, setting)
        return sent

    def _note_held(self, key: Key, setting) -> None:
        """When the channel's held posts can next go: its digest time, or when the hourly
        cap has room again. Looked at again then, or within HELD_RECHECK if sooner (a
        digest setting changed meanwhile), not at every idle tick."""
        now = self.clock()
        if setting is not None:
            when = next_scheduled(parse_schedule(setting.at_time, setting.tz), now)
        else:
            when = self._cap_frees_at(key)
        self._held_until[key] = min(when, now + HELD_RECHECK)

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
        if n and self.spread and not self._cap_full(key):
            log.info("delivery: %s/%s: busy (posts spread over the hour); %s held for "
                     "its next turn", *key, count(n, "post"))
        elif n:
            log.info("delivery: %s/%s: hourly cap %d reached; %s held for the next "
                     "roundup", *key, self.hourly_cap, count(n, "post"))

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
            message_id = await self._send_row(adapter, row)
        except Exception as e:
            return settle(e, row.attempts, permanent=partial(self._on_permanent, row),
                          rejected=partial(self._on_rejected, row),
                          transient=partial(self._on_transient, row))
        finally:
            self._last_post[key] = self.clock()
        # Message ids tell posts apart for the cap and edits: never store a blank one.
        self.store.record_sent(row.id, str(message_id or row.nonce), self.clock(),
                               shown=row.brief)
        return 1

    async def _send_row(self, adapter: Adapter, row) -> str | None:
        """Edit the row's post, or post it unless an earlier attempt already did."""
        if row.state == "editing":
            await adapter.edit(row.channel, row.message_id, row.brief)
            return row.message_id
        return (await earlier_post(adapter, row.channel, row.nonce, [row], self.clock(),
                                   self.restored)
                or await adapter.send(row.channel, row.brief, nonce=row.nonce))

    # ---- small answers ---------------------------------------------------------------
    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _warn_once(self, tag: str, message: str) -> None:
        if tag not in self._warned:
            self._warned.add(tag)
            log.warning("%s", message)


def _ready(adapter: Adapter) -> bool:
    ready = getattr(adapter, "ready", None)
    return ready is None or bool(ready())
