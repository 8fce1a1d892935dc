"""Stale posts: old stories are not news (AINEWS_MAX_POST_AGE_HOURS, `max_post_age`). A
post whose story is older than that when its turn comes (the bot was stopped for days,
the channel paused, a long 429) is not made but marked "stale"; one held for the hourly
cap's roundup gets that hour more. A digest-mode channel's posts wait for the digest it
asked for, whatever their age. A channel of a platform not running here at all (no
adapter: Slack switched off, its channels still subscribed) is looked at once a minute,
and its posts, digest or not, go stale at that age too: dispatch queues them for good,
and only settled rows are ever pruned.

Mixed into bot.delivery.Delivery, whose store, clock and max_post_age it uses."""
from __future__ import annotations

import logging
from datetime import timedelta

from bot.pacing import Key
from feeds.plural import count

# A channel holding posts is looked at again at least this often (bot/delivery.py
# _note_held, and a platform not running here): a digest time or hourly cap changed
# meanwhile is then at most this late.
HELD_RECHECK = timedelta(seconds=60)
# A post held under the hourly cap waited for the cap, not for news to age: the cap's
# hour is added to the age limit before its roundup counts it too old.
ROUNDUP_GRACE = timedelta(hours=1)

log = logging.getLogger("ainews.delivery")


class StalePosts:
    """Delivery's half that marks the posts too old to post by their turn stale."""

    def _drop_stale(self, key: Key) -> None:
        """The channel's waiting posts too old to post by now are marked stale, not
        posted: a week offline must not end in a flood of week-old "news"."""
        if not self.max_post_age:
            return
        now, hours = self.clock(), self.max_post_age.total_seconds() / 3600
        n = self.store.mark_stale(*key, due_before=now - self.max_post_age,
                                  held_before=now - self.max_post_age - ROUNDUP_GRACE,
                                  reason=f"too old to post: over AINEWS_MAX_POST_AGE_HOURS "
                                         f"({hours:g}) when its turn came", now=now)
        if n:
            log.info("delivery: %s/%s: %s too old to post by their turn "
                     "(AINEWS_MAX_POST_AGE_HOURS %g); not posted", *key, count(n, "post"),
                     hours)

    def _age_out_unserved(self, key: Key) -> None:
        """A channel of a platform not running here (Slack switched off, its channels
        still subscribed): dispatch queues a post for it of every story, and nothing
        else would ever settle them for retention to forget. They go stale as any
        waiting post does, a digest channel's too (no digest is coming), so the platform
        back within AINEWS_MAX_POST_AGE_HOURS still gets the rest. Looked at once per
        HELD_RECHECK, not at every idle tick."""
        now, last = self.clock(), self._unserved_looked.get(key)
        if last is not None and timedelta(0) <= now - last < HELD_RECHECK:
            return
        self._unserved_looked[key] = now
        self._drop_stale(key)
        if self.max_post_age:   # and what only a running platform settles: edits, roundups
            self.store.settle_unserved(*key, before=now - self.max_post_age - ROUNDUP_GRACE,
                                       reason="its platform is not running here", now=now)
