"""What a failed post does to its row and channel: retry with backoff, fail the row
alone, or pause the channel. `settle` sorts an error into those for single posts and
roundups alike; the Failures mixin (of bot.delivery.Delivery) handles single posts."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Callable

from bot.adapter import PermanentError, RejectedError
from bot.retry import (UNEXPECTED_ATTEMPTS, attempt_limit, bug_reason, platform_down,
                       rate_limited, reason_of, unexpected)
from feeds.plural import count

log = logging.getLogger("ainews.delivery")


def settle(error: Exception, attempts: int, *, permanent: Callable[[str, bool], None],
           rejected: Callable[[str], None], transient: Callable[[Exception], None]) -> int | None:
    """Hand a failed send to the handler its kind calls for. Returns None when the
    channel stops for now, 0 when it goes on with its next post."""
    if isinstance(error, PermanentError):
        permanent(error.reason, error.fixable)
        return None
    if isinstance(error, RejectedError):
        rejected(error.reason)
        return 0
    # TransientError, or an adapter bug: retried, but a bug only so often.
    if unexpected(error) and attempts >= UNEXPECTED_ATTEMPTS:
        rejected(bug_reason(attempts, error))
        return 0
    transient(error)
    return None


class Failures:
    """Uses Delivery's store, clock, max_attempts, backoff and _blocked."""

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
            self._drop_edit(row, f"edit rejected: {reason}", log.error)
            return
        self.store.record_failed(row.id, f"rejected: {reason}")
        log.error("delivery: %s/%s: post %r rejected (%s); marked failed, the channel "
                  "goes on", row.platform, row.channel, row.brief.headline, reason)

    def _give_up(self, row, reason: str) -> None:
        error = f"gave up after {count(row.attempts, 'attempt')}: {reason}"
        if row.state == "editing":
            self._drop_edit(row, error, log.error)
            return
        self.store.record_failed(row.id, error)
        log.error("delivery: %s/%s: post %r %s", row.platform, row.channel,
                  row.brief.headline, error)

    def _on_permanent(self, row, reason: str, fixable: bool = False) -> None:
        if row.state == "editing":
            # A deleted message is no reason to pause a channel; the next post tells.
            self._drop_edit(row, f"edit refused: {reason}", log.warning)
            return
        where = (row.platform, row.channel)
        self.store.pause_channel(*where, reason, keep=fixable)
        if fixable:   # its admins can fix it: nothing is lost meanwhile (bot/kept_posts.py)
            n = self.store.keep_channel_posts(*where, f"channel paused: {reason}")
            log.error("delivery: %s/%s: paused its subscriptions: %s (%s kept, and those "
                      "routed there meanwhile; /subscribe there once fixed sends them)",
                      *where, reason, count(n, "waiting post"))
            return
        n = self.store.fail_channel_posts(*where, f"channel paused: {reason}")
        log.error("delivery: %s/%s: paused its subscriptions: %s (%s marked failed)",
                  *where, reason, count(n, "waiting post"))

    def _drop_edit(self, row, error: str, say) -> None:
        """An edit given up: the post stands, unless a newer version came meanwhile,
        which is then tried as an edit of its own (storage/receipts.py)."""
        newer = self.store.record_edit_dropped(row.id, error, tried=row.brief,
                                               now=self.clock())
        say("delivery: %s/%s: edit of %r %s; %s", row.platform, row.channel,
            row.brief.headline, error.removeprefix("edit "),
            "its newer version is tried next" if newer else "the first post stands")

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
