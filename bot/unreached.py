"""A pass's DNS and connection failures: the feeds' own, or the bot's network being down.

Decided once the pass is over, for all of them alike. Decided as each came in, the first
three of an outage were counted against their feeds (a backoff of twice the interval, a
step towards a pause) before the store held enough failures to call the network down,
while the pass's log line said none was counted. Mixed into bot.pipeline.Pipeline."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.poll_summary import FeedOutcome, PollSummary
from storage.feedstate import FeedState

log = logging.getLogger("ainews.poller")


@dataclass
class _Unreached:
    state: FeedState
    out: FeedOutcome
    error: Exception
    now: datetime


class Unreached:
    """Uses Pipeline's store, poll_minutes, single_pass, _unreached, _offline_said,
    PollFailures' _count_failure and BusyStore's _unless_locked_write."""

    def _settle_unreached(self, summary: PollSummary) -> bool:
        """Record the pass's unreached feeds: the network's failures (retried at the base
        interval, uncounted) when no feed answered and the bot looks offline, each
        feed's own otherwise (a backoff, a step towards a pause). True: the network's."""
        pending, self._unreached = self._unreached or [], []
        answered = any(not o.unreached for o in summary.outcomes)   # a 404 answers too
        if answered:
            self._offline_said = False
        if answered or not pending or not self._looks_offline(pending):
            for u in pending:
                self._count_failure(u.state, u.out, u.error, u.now)
            return False
        for u in pending:
            log.debug("%s", u.out.error)
            self._unless_locked_write(u.out, lambda u=u: self.store.record_unreachable(
                u.state.source.url, now=u.now, message=u.out.error, kind=u.error.kind,
                next_poll=u.now + timedelta(minutes=self.poll_minutes)))
        return True

    def _say_offline(self) -> None:
        if not self._offline_said:      # once an outage
            # A single pass (`run --once`, `poll`) exits next: no retry to promise.
            then = ("not counted against the feeds" if self.single_pass else
                    f"feeds are retried every {self.poll_minutes:g} min without counting "
                    "it against them")
            log.warning("poller: no feed can be reached (DNS or connection failures "
                        "everywhere); the network looks down: %s", then)
            self._offline_said = True
            if not any(s.last_ok for s in self.store.feed_states()):
                # A first run on a machine with no way out (a sandbox, a laptop offline):
                # the demo shows what the bot does without one.
                log.warning("poller: no feed has ever been reached from here; `ainews "
                            "demo` runs the whole pipeline on bundled sample feeds, "
                            "offline")

    def _looks_offline(self, pending: list[_Unreached]) -> bool:
        now = max(u.now for u in pending)
        return self.store.looks_offline(now=now, window=offline_window(self.poll_minutes),
                                        failing_now={u.state.source.url for u in pending})


def offline_window(poll_minutes: float) -> timedelta:
    # Longer than any healthy feed's interval (2 x base, a <ttl> up to 60 min).
    return timedelta(minutes=max(3 * poll_minutes, 90))


# What `status` and `feeds list` add when it does: their "failing" rows read as broken feeds.
NETWORK_DOWN = ("no feed answers, DNS or connection failures everywhere: the network looks "
                "down; not counted against the feeds")


def network_looks_down(store, poll_minutes: float, now: datetime) -> bool:
    """The poller's verdict read back from the store, for what `ainews run` says at
    start-up and `status`/`feeds list` say: the feeds' DNS and connection errors then
    are the network's, not counted against them."""
    return store.looks_offline(now=now, window=offline_window(poll_minutes))
