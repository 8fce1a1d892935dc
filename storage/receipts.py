"""Delivery receipts: what came of a claimed outbox row (sent, retried, failed, dropped).

A mixin of Store (composed in storage.delivery); the queue itself is storage.outbox.
"""
from __future__ import annotations

import json
from datetime import datetime

from feeds.models import Brief
from storage.delivery_schema import DeliveryWrites, from_ts, ts


class ReceiptStore(DeliveryWrites):
    """Mixed into storage.store.Store; uses self.db (sqlite_utils.Database)."""

    def recover_outbox(self) -> int:
        """After a crash: claimed rows go back to waiting. A roundup's rows go back to
        held with their batch kept: the platform may have taken it, and only the same
        nonce lets the retry find it (unconfirmed_roundup)."""
        with self._outbox_tx() as c:
            n = c.execute("UPDATE outbox SET state='held' "
                          "WHERE state='sending' AND batch IS NOT NULL").rowcount
            n += c.execute("UPDATE outbox SET state='due' WHERE state='sending'").rowcount
            n += c.execute("UPDATE outbox SET state='edit' WHERE state='editing'").rowcount
        return n

    def record_sent(self, row_id: int, message_id: str, now: datetime, *,
                    shown: Brief) -> None:
        """Posted (or edited) as `shown`. A revision that arrived meanwhile (needs_edit)
        is settled now by the edit rules: an edit at once, in an hour, or none."""
        with self._outbox_tx() as c:
            (state, pending) = c.execute("SELECT state, needs_edit FROM outbox WHERE id=?",
                                         (row_id,)).fetchone()
            self._record_shown(c, row_id, shown, now)
            c.execute("UPDATE outbox SET state='sent', message_id=?, "
                      "sent_at=COALESCE(sent_at, ?), attempts=0, needs_edit=0, "
                      "last_error='', next_attempt=? WHERE id=?",
                      (message_id, ts(now), ts(now), row_id))
            if pending:   # known before this post landed: no reader saw the old one
                self._settle_edit(c, row_id, now, at_once=state == "sending")

    def record_roundup_sent(self, batch: str, message_id: str, now: datetime) -> int:
        return self._outbox_exec("UPDATE outbox SET state='digested', message_id=?, sent_at=?, "
                           "last_error='' WHERE state='sending' AND batch=?",
                           (message_id, ts(now), batch))

    def release_roundup(self, batch: str, error: str, *, maybe_posted: bool = True) -> int:
        """A roundup failed: its rows wait for the next try. `maybe_posted` (a timeout,
        a 5xx) keeps the batch, so the retry sends the same posts under the same nonce;
        a refused roundup (never posted) lets its rows go into new roundups, and gives
        back the attempt its claim took: the halves it is split into (bot/roundups.py)
        would otherwise spend the budget of stories beside the refused one before an
        outage even starts. The halving ends at one story, so this cannot loop."""
        keep, spent = ("batch", "attempts") if maybe_posted else ("NULL", "MAX(attempts-1, 0)")
        return self._outbox_exec(f"UPDATE outbox SET state='held', batch={keep}, "
                                 f"attempts={spent}, last_error=? "
                                 "WHERE state='sending' AND batch=?", (error, batch))

    def record_retry(self, row_id: int, *, next_attempt: datetime, error: str) -> None:
        self._outbox_exec("UPDATE outbox SET state=CASE state WHEN 'editing' THEN 'edit' "
                    "ELSE 'due' END, next_attempt=?, last_error=? WHERE id=?",
                    (ts(next_attempt), error, row_id))

    def record_failed(self, row_id: int, error: str) -> None:
        self._outbox_exec("UPDATE outbox SET state='failed', last_error=?, failed_at=? "
                          "WHERE id=?", (error, ts(self._now()), row_id))

    def record_edit_dropped(self, row_id: int, error: str, *, tried: Brief,
                            now: datetime) -> bool:
        """An edit we gave up on (`tried`): the post stands as it was. A newer version
        that came while it was on its way (needs_edit) is queued by the edit rules with
        a fresh budget of attempts, since it may well go through (a flaky 5xx, a payload
        only the old text broke); its own claim clears needs_edit, so a channel refusing
        every edit gets one more try per version that arrived meanwhile, not a loop.
        Returns whether that edit was queued."""
        with self._outbox_tx() as c:
            pending, brief = c.execute("SELECT needs_edit, brief FROM outbox WHERE id=?",
                                       (row_id,)).fetchone()
            c.execute("UPDATE outbox SET state='sent', needs_edit=0, last_error=? "
                      "WHERE id=?", (error, row_id))
            newer = pending and Brief.from_json(json.loads(brief)) != tried
            return bool(newer) and self._settle_edit(c, row_id, now).state == "edit"

    def fail_channel_posts(self, platform: str, channel: str, error: str) -> int:
        """A channel gone for good (deleted): its waiting posts fail visibly."""
        return self._outbox_exec("UPDATE outbox SET state='failed', last_error=?, batch=NULL, "
                                 "failed_at=? WHERE platform=? AND channel=? AND state IN "
                                 "('due','held','sending','resumed')",
                                 (error, ts(self._now()), platform, channel))

    def keep_channel_posts(self, platform: str, channel: str, error: str) -> int:
        """A channel paused for what its admins can fix: its waiting posts are kept
        until /subscribe resumes it (add_subscription). A roundup's keep their batch:
        an earlier try may have posted it, and only its nonce finds that post. Attempts
        go down to 1, so the try after the resume looks for such a post first."""
        return self._outbox_exec("UPDATE outbox SET state='kept', last_error=?, "
                                 "attempts=MIN(attempts, 1) WHERE platform=? AND channel=? "
                                 "AND state IN ('due','held','sending','resumed')",
                                 (error, platform, channel))

    def posts_sent_since(self, platform: str, channel: str, since: datetime) -> list[datetime]:
        """Send times of the channel's messages since `since` (a roundup counts once)."""
        rows = self.db.execute(
            "SELECT MIN(sent_at) FROM outbox WHERE platform=? AND channel=? AND "
            "sent_at>=? AND message_id IS NOT NULL GROUP BY message_id",
            (platform, channel, ts(since))).fetchall()
        return sorted(from_ts(r[0]) for r in rows)

    def roundups_sent_since(self, platform: str, channel: str, since: datetime) -> int:
        """How many roundup messages the channel got since `since`: the parts of a
        digest under way (bot/roundups.py numbers the rest after them)."""
        return self.db.execute(
            "SELECT COUNT(DISTINCT message_id) FROM outbox WHERE platform=? AND channel=? "
            "AND sent_at>=? AND message_id IS NOT NULL AND state='digested'",
            (platform, channel, ts(since))).fetchone()[0]
