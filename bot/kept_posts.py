"""Kept posts: a channel paused for what its admins can fix (the bot removed, a
permission taken away: PermanentError fixable) keeps its waiting posts, and those routed
to it meanwhile, as 'kept' (bot/failures.py, bot/dispatch.py). /subscribe there resumes
it and makes them 'resumed' (storage/subscriptions.py); at the channel's next pass they
go out: those too old by then (AINEWS_MAX_POST_AGE_HOURS) dropped, said in one line, a
few as posts of their own, oldest first, more as one roundup (in parts past
ROUNDUP_SIZE), and in a digest channel with its digest.

Mixed into bot.delivery.Delivery, whose store, clock, max_post_age, _deliver and
_digest_parts it uses."""
from __future__ import annotations

import logging

from bot.adapter import Adapter
from bot.roundup_text import KEPT_TITLE
from bot.pacing import Key
from feeds.plural import count

# Kept posts up to this many go out each as itself (a channel back after a short pause
# reads as if nothing happened); more would flood it, so they go as one roundup.
KEPT_ONE_BY_ONE = 3

log = logging.getLogger("ainews.delivery")


class KeptPosts:
    """Delivery's half that sends what a resumed channel kept while it was paused."""

    async def _resume_kept(self, adapter: Adapter, key: Key, setting) -> int:
        """Posts (or roundups) made of the channel's resumed posts; 0 when it has none."""
        self._drop_stale_kept(key)
        rows = self.store.resumed_posts(*key)    # oldest first
        if not rows:
            return 0
        many = len(rows) > KEPT_ONE_BY_ONE or any(r.batch for r in rows)  # a roundup's
        self.store.release_resumed(*key, held=setting is not None or many, now=self.clock())
        if setting is not None:
            return 0                        # they join the digest the channel asked for
        if many:
            return (await self._digest_parts(adapter, key, KEPT_TITLE, 0))[0]
        sent = 0
        for row in rows:
            ok = await self._deliver(adapter, key, row.id)
            if ok is None:
                break
            sent += ok
        return sent

    def _drop_stale_kept(self, key: Key) -> None:
        if not self.max_post_age:
            return
        now, hours = self.clock(), self.max_post_age.total_seconds() / 3600
        before = now - self.max_post_age
        n = self.store.mark_stale(*key, due_before=before, held_before=before,
                                  states=("resumed",), now=now,
                                  reason=f"too old to post: over AINEWS_MAX_POST_AGE_HOURS "
                                         f"({hours:g}) when its paused channel was resumed")
        if n:
            log.info("delivery: %s/%s: %s kept while the channel was paused too old to "
                     "post now (AINEWS_MAX_POST_AGE_HOURS %g); not posted", *key,
                     count(n, "post"), hours)
