"""A pass that finds the store locked past its busy timeout (a VACUUM, a backup tool, a
long `ainews` command): the store's, not the feeds'. Mixed into bot.pipeline.Pipeline.

Such a feed is not charged a failure, nor backed off or paused, and nothing of its poll
is recorded: not its stories, nor its own failure (a 500 met while the store is locked
is fetched again too), nor its validators (ETag, Last-Modified, body hash), so
the next poll reads the same entries and stores them as new. It stays due, so that is
the next tick's. Once one feed has met the lock, the rest of the pass writes nothing
either: each write would wait out the busy timeout on the event loop again."""
from __future__ import annotations

import logging

from bot.poll_summary import FeedOutcome

log = logging.getLogger("ainews.poller")


class BusyStore:
    """Uses Pipeline's store, single_pass, _busy (the pass's StoreBusy, once one feed met it) and
    _busy_said (the lock was logged, and no pass has written since)."""

    def _unless_locked(self) -> None:
        """Before a write of the pass: raise its StoreBusy if a feed already met it."""
        if self._busy is not None:
            raise self._busy

    def _unless_locked_write(self, out: FeedOutcome, write):
        """write() (recording a feed's failure), or None when the store is locked: then
        nothing is written and the feed is not charged, as a poll's stories are not
        stored; `out` is the lock's, no failure of this pass."""
        try:
            self._unless_locked()
            return write()
        except Exception as e:
            if not self._locked_out(out, e):
                raise
            out.error, out.unreached = "", False
            return None

    def _locked_out(self, out: FeedOutcome, e: BaseException) -> bool:
        """True when `e` is the store's lock: `out` is marked not stored, said once a pass."""
        busy = self.store.busy(e)
        if busy is None:
            return False
        out.store_locked = True
        if self._busy is None:
            self._busy = busy
            # Once while it lasts: a long VACUUM would say it every tick.
            log.log(logging.DEBUG if self._busy_said else logging.WARNING, "poller: %s; %s",
                    busy, "the feeds polled meanwhile were not stored nor counted as "
                    "failing: end it and poll again" if self.single_pass else "will try "
                    "again at the next poll (the feeds polled meanwhile are not counted as "
                    "failing)")
            self._busy_said = True
        return True

    def _lock_over(self, wrote: bool) -> None:
        """After a pass: a pass that wrote without meeting the lock ends its episode."""
        if wrote and self._busy is None:
            self._busy_said = False
