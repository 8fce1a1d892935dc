"""Roundups: held posts (over the hourly cap, or a digest-mode channel) go out several
to a message. Mixed into bot.delivery.Delivery, whose pacing and failure handling it uses."""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from functools import partial

from bot.adapter import Adapter
from bot.digest import (digest_day, digest_due, digest_title, joins_next, last_scheduled,
                         parse_schedule)
from bot.failures import settle
from bot.pacing import Key
from bot.retry import attempt_limit, earlier_post, reason_of
from bot.roundup_text import overflow_title
from feeds.plural import count

log = logging.getLogger("ainews.delivery")


class Roundups:
    """Delivery's roundup half: the daily digest, the hourly cap's overflow roundup, and
    what a failed roundup means (halving a refused one finds the post it refuses)."""

    async def _daily_digest(self, adapter: Adapter, key: Key, setting) -> int:
        schedule = parse_schedule(setting.at_time, setting.tz)
        now = self.clock()
        if not digest_due(schedule, setting.last_run, now):
            return 0
        slot = last_scheduled(schedule, now)
        done = self.store.roundups_sent_since(*key, slot)   # parts of it already out
        if joins_next(schedule, now):
            # Missed, or its rest retried this long (the platform down, a night of 429s):
            # sent now, it went minutes before the next digest. It goes with that one.
            if done and self._folded.get(key) != slot:
                self._folded[key] = slot
                log.info("delivery: %s/%s: the rest of the digest of %s (%d of its parts "
                         "out) goes with the next, at %s", *key, digest_day(schedule, slot),
                         done, schedule.at_text)
            return 0
        oldest = self.store.oldest_held(*key)
        if oldest is None or oldest > slot:
            # A quiet channel: nothing was waiting at digest time, so that digest is
            # done (empty, not posted); posts queued since wait for the next one.
            self.store.record_digest_run(*key, now)
            return 0
        # Titled by the day it was due and numbered after the parts out since then: a
        # missed one sent late names its day, a resumed one is "(3 of 3)" of it.
        sent, finished = await self._digest_parts(adapter, key,
                                                  digest_title(schedule, slot), done)
        if finished:
            self._split.pop(key, None)      # all held posts went: halving, if any, is over
            self.store.record_digest_run(*key, now)
        return sent

    async def _digest_parts(self, adapter: Adapter, key: Key, title: str,
                            part: int) -> tuple[int, bool]:
        """Every held post, in numbered parts after the `part` already sent (six
        messages under one title read as the same digest posted six times); False when
        a part failed, to be retried on a later pass."""
        sent = 0
        while held := self.store.held_posts(*key, self._roundup_limit(key)):
            part += 1
            parts = part - 1 + -(-self.store.held_count(*key) // self._roundup_limit(key))
            ok = await self._roundup(adapter, key, held,
                                     title if parts == 1 else f"{title} ({part} of {parts})")
            if ok is None:
                return sent, False
            sent += ok
        return sent, True

    async def _overflow_roundup(self, adapter: Adapter, key: Key) -> int:
        sent = 0
        while self._cap_room(key) and (held := self.store.held_posts(*key,
                                                                   self._roundup_limit(key))):
            if (self.spread and self.store.held_count(*key) == 1
                    and not self.store.unconfirmed_roundup(*key)):
                # One story waited for the channel's turn: it goes as itself, not as a
                # one-story roundup.
                self.store.release_held(*key, self.clock())
                ok = await self._deliver(adapter, key, held[0].id)
            else:
                ok = await self._roundup(adapter, key, held, overflow_title(self.hourly_cap))
            if ok is None:
                break
            sent += ok
        if not self.store.held_posts(*key, 1):
            self._split.pop(key, None)  # all held posts went: halving, if any, is over
        return sent

    async def _roundup(self, adapter: Adapter, key: Key, held, title: str) -> int | None:
        # After a failed try the platform may have taken, the same posts again under the
        # same nonce: held_posts (newest first) would mix in posts held since, and the
        # new nonce would hide the earlier post from find_sent (posted twice).
        if self._stopping():
            return None
        ids, batch = self.store.unconfirmed_roundup(*key) or _batch_of(held)
        await self._pace(adapter, key)
        await self._gate(key[0])
        rows = self.store.claim_roundup(ids, batch, self.clock())
        if not rows:
            return None
        attempts, briefs = max(r.attempts for r in rows), [r.brief for r in rows]
        try:
            message_id = (await earlier_post(adapter, key[1], batch, rows, self.clock(),
                                          self.restored)
                          or await adapter.send_digest(key[1], title, briefs, nonce=batch))
        except Exception as e:
            return settle(e, attempts, permanent=partial(self._on_permanent, rows[0]),
                          rejected=partial(self._on_roundup_rejected, key, rows, batch),
                          transient=partial(self._on_roundup_transient, key, rows, batch))
        finally:
            self._last_post[key] = self.clock()
        self.store.record_roundup_sent(batch, str(message_id or batch), self.clock())
        log.info("delivery: %s/%s: roundup of %s posted", *key, count(len(rows), "post"))
        return 1

    def _roundup_limit(self, key: Key) -> int:
        return self._split.get(key, self.roundup_size)

    def _on_roundup_rejected(self, key: Key, rows, batch: str, reason: str) -> None:
        """One unpostable brief spoils the message it is in: retry in halves until the
        refused post stands alone, so only it fails and the others still go."""
        if len(rows) > 1:
            self._split[key] = len(rows) // 2
            self.store.release_roundup(batch, f"roundup rejected: {reason}",
                                       maybe_posted=False)
            log.warning("delivery: %s/%s: roundup of %d rejected (%s); retrying in halves "
                        "to find the post it refuses", *key, len(rows), reason)
            return
        self._split.pop(key, None)
        self.store.record_failed(rows[0].id, f"roundup rejected: {reason}")
        log.error("delivery: %s/%s: post %r rejected in a roundup (%s); marked failed, the "
                  "channel goes on", *key, rows[0].brief.headline, reason)

    def _on_roundup_transient(self, key: Key, rows, batch: str, error: Exception) -> None:
        reason = reason_of(error)
        limit = attempt_limit(self.max_attempts, error)
        for row in rows:
            if row.attempts >= limit:
                self.store.record_failed(row.id, f"roundup gave up after {row.attempts} "
                                                 f"attempts: {reason}")
        self.store.release_roundup(batch, reason)      # same posts, same nonce next time
        delay = self._delay(max(r.attempts for r in rows), error)
        self._blocked[key] = self.clock() + timedelta(seconds=delay)
        log.warning("delivery: %s/%s: roundup failed (%s); retrying in %.0f s",
                    *key, reason, delay)


def _batch_of(held) -> tuple[list[int], str]:
    """A roundup's post ids and its nonce, stable for the same posts. Hashed with each
    row's life of the database (OutboxRow.key), as a restored outbox hands out its ids
    again; a row of none hashes as its id alone, as before there were lives."""
    rows = sorted(held, key=lambda r: r.id)
    keys = ",".join(r.key for r in rows)
    return [r.id for r in rows], "ainews-d" + hashlib.sha1(keys.encode()).hexdigest()[:12]
