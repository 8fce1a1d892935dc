"""First polls (backlogs: stored, never posted) written together, BACKLOG_BATCH stories
to a transaction (bot/pipeline.py queues them). Mixed into bot.pipeline.Pipeline."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.poll_summary import FeedOutcome
from feeds.models import Story
from feeds.urls import without_secrets
from storage.feedstate import FeedState

log = logging.getLogger("ainews.poller")


@dataclass
class _Backlog:
    """A first poll, parsed and classified, waiting to be stored with others."""
    state: FeedState
    out: FeedOutcome
    stories: list[Story]
    now: datetime
    fetched: dict   # record_fetch_ok's keywords


class FirstPolls:
    """Uses Pipeline's store, _backlog, _count_new, PollFailures' _record_failure and
    BusyStore's."""

    def _store_backlogs(self) -> None:
        """Write the waiting first polls in one transaction. Should it fail, each is
        written on its own, so one feed's bad data fails that feed alone, as before."""
        waiting, self._backlog = self._backlog, []
        if not waiting:
            return
        try:
            self._unless_locked()
            # whole: any failure undoes them all and they are written one by one, so a
            # savepoint per feed would buy nothing here.
            with self.store.transaction(whole=True):
                for b in waiting:
                    self._store_backlog(b)
        except Exception as e:
            if (halt := self.store.unusable(e)) is not None:
                raise halt from None   # one by one would fail the same way, feed after feed
            if [self._locked_out(b.out, e) for b in waiting][0]:   # likewise, and no failure
                return   # still first polls: the next pass reads them again
            log.warning("poller: storing %d first polls together failed; one by one now",
                        len(waiting), exc_info=True)
            self._store_each_backlog(waiting)

    def _store_each_backlog(self, waiting: list[_Backlog]) -> None:
        for b in waiting:
            try:
                self._store_backlog(b)
            except Exception as e:
                if (halt := self.store.unusable(e)) is not None:
                    raise halt from None
                log.exception("poller: %s failed unexpectedly",
                              without_secrets(b.state.source.url))
                self._count_new(b.out, [])
                self._record_failure(b.state, b.out, e, b.now)

    def _store_backlog(self, b: _Backlog) -> None:
        with self.store.transaction():
            # condense_fresh has nothing to do for a backlog: briefs are made on lookup.
            self._count_new(b.out, self.store.add_new_stories(
                b.stories, backlog=True, now=b.now, feed_url=b.state.source.url))
            self.store.record_fetch_ok(b.state.source.url, now=b.now, **b.fetched)
