"""Delivery's stored times after the wall clock stepped back (bot/clock_watch.py).

A mixin of Store (composed in storage.delivery). Times are ts() text, so a time moves
back in SQL: whole seconds off its first 19 characters, its fraction kept.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from storage.delivery_schema import DeliveryWrites, from_ts, ts

# When something happened (queued, claimed, posted, edited, failed): never after now,
# unless the clock went back since. next_attempt may lie ahead on its own (a retry, an
# edit's hour), so it tells nothing of the clock but is moved with the rest.
_HAPPENED = ("created_at", "claimed_at", "sent_at", "edited_at", "failed_at")


# A post's first try is moved however old, while a retry may still read the channel's
# history back to it (bot/retry.py): recorded under the fast clock it lies after the
# try by the step, and the read began after the post. Moved too far (a time recorded
# before the clock ran fast), the read only starts earlier.
_RETRIABLE = "state IN ('due', 'held', 'sending', 'cancelled', 'kept', 'resumed')"

# Times this far before now are moved too: recorded under the clock that ran fast, a
# post sent 90 minutes ago read as 30 minutes old after an hour's step, and filled the
# hourly cap half an hour longer. An hour is the longest delivery looks back (the cap).
LOOK_BACK = timedelta(hours=1)


def _back(column: str) -> str:
    """SQL for `column` moved back by the statement's first parameter ('-N seconds').
    Its whole seconds only: strftime rounds a fraction to milliseconds, and .9998 s
    became the next second before the fraction was put back."""
    return (f"strftime('%Y-%m-%dT%H:%M:%S', substr({column}, 1, 19), ?) "
            f"|| substr({column}, 20)")


class DeliveryClockStore(DeliveryWrites):
    """Mixed into storage.store.Store; uses self.db (sqlite_utils.Database)."""

    def delivery_clock_ahead(self, now: datetime) -> timedelta:
        """How far the latest time delivery recorded lies after `now` (zero when none
        does): the clock went back since, or the database came from a machine whose
        clock ran fast. One read of the outbox, made at start-up."""
        latest = ", ".join(f"COALESCE(MAX({c}), '')" for c in _HAPPENED)
        (outbox,) = self.db.execute(f"SELECT MAX({latest}) FROM outbox").fetchone()
        (digest,) = self.db.execute("SELECT COALESCE(MAX(last_run), '') FROM "
                                    "digest_settings").fetchone()
        latest_ts = max(outbox or "", digest or "")
        return max(from_ts(latest_ts) - now, timedelta(0)) if latest_ts else timedelta(0)

    def shift_delivery_times(self, now: datetime, step: timedelta) -> None:
        """Move every outbox time after LOOK_BACK before `now`, and digest runs after
        `now`, back by `step` (whole seconds): a retry due in 5 s when the clock went
        back an hour is due in 5 s again, a post sent just before counts for the hourly
        cap an hour, not two. (A digest run earlier today stays: moved, it would be due
        again.) The first try of a post not yet out moves whatever its age."""
        back, recent = f"-{round(step.total_seconds())} seconds", ts(now - LOOK_BACK)
        with self._outbox_tx() as c:
            for column in ("next_attempt", *_HAPPENED):
                c.execute(f"UPDATE outbox SET {column} = {_back(column)} WHERE {column} > ?",
                          (back, recent))
            c.execute(f"UPDATE outbox SET first_try_at = {_back('first_try_at')} "
                      f"WHERE {_RETRIABLE} AND first_try_at IS NOT NULL", (back,))
            c.execute(f"UPDATE digest_settings SET last_run = {_back('last_run')} "
                      "WHERE last_run > ?", (back, ts(now)))
