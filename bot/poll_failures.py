"""A feed's failed poll recorded: its error named, a DNS or connection failure left for
the pass's end (bot/unreached.py), any other backed off and, after PAUSE_AFTER in a row
(410 Gone: at once), paused. Mixed into bot.pipeline.Pipeline."""
from __future__ import annotations

import logging

from bot.poll_summary import FeedOutcome
from bot.unreached import _Unreached
from feeds import schedule
from feeds.fetcher import FetchError
from feeds.parser import ParseError
from feeds.plural import count
from feeds.urls import without_secrets
from storage.feedstate import FeedState

log = logging.getLogger("ainews.poller")


class PollFailures:
    """Uses Pipeline's store, poll_minutes, _unreached, _say and BusyStore's
    _unless_locked_write."""

    def _record_failure(self, state: FeedState, out: FeedOutcome, err: Exception, now) -> None:
        kind = getattr(err, "kind", "error")
        message = str(err) or type(err).__name__
        out.unreached = kind in ("dns", "connect")
        if not isinstance(err, (FetchError, ParseError)):   # those name their component
            message = without_secrets(f"poller: {state.source.url} failed "
                                      f"({type(err).__name__}: {message})")
        out.error = message
        if out.unreached and self._unreached is not None:   # the network's, or the feed's?
            self._unreached.append(_Unreached(state, out, err, now))
            return
        self._count_failure(state, out, err, now)

    def _count_failure(self, state: FeedState, out: FeedOutcome, err: Exception, now) -> None:
        """A feed's own failure: backed off, and paused after PAUSE_AFTER in a row."""
        kind, message = getattr(err, "kind", "error"), out.error
        retry_after = getattr(err, "retry_after", None)
        next_poll = schedule.next_poll_after_failure(now, self.poll_minutes, state.failures + 1,
                                                     retry_after=retry_after)
        # 410 Gone is the server saying the feed will not come back: pause at once.
        pause_after = 1 if getattr(err, "status", None) == 410 else schedule.PAUSE_AFTER
        new_state = self._unless_locked_write(out, lambda: self.store.record_fetch_failure(
            state.source.url, now=now, next_poll=next_poll, kind=kind, message=message,
            pause_after=pause_after))
        if new_state is None:   # the store locked: the next poll fetches it again
            log.debug("poller: %s (%s) failed, not recorded (the store is locked): %s",
                      state.source.name, without_secrets(state.source.url), message)
            return
        out.paused, out.failures = new_state.paused, new_state.failures
        if new_state.paused:
            self._say(logging.WARNING, "poller: paused %s after %s: %s",
                      without_secrets(state.source.url),
                      count(new_state.failures, "failure"), message)
        else:
            # The fetcher's message names the host only: with several feeds on one host
            # (an outlet's sections, one intranet server) the log must say which feed.
            self._say(logging.WARNING, "poller: %s (%s) failed (%d of %d before a pause): %s",
                      state.source.name, without_secrets(state.source.url), new_state.failures,
                      pause_after, message)
