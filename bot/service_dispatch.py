"""Dispatch from the store (a Service mixin): the new strategy stories stored since the
last dispatch, and the stories their feeds edited, condensed and routed to the outbox
(bot/dispatch.py); read back from the store, so a crash between storing and routing loses
nothing."""
from __future__ import annotations

import logging

from bot.pipeline import Pipeline
from feeds.models import utcnow
from feeds.plural import count

log = logging.getLogger("ainews.service")


class StoredDispatch:
    async def _dispatch_stored(self, pipeline: Pipeline) -> None:
        """Route the new strategy stories stored since the last dispatch.

        They are read back from the store, not taken from the poll's summary, so a crash
        between storing and routing loses nothing: the next start routes them (the soak
        test found posts lost that way while a slow feed held up the poll)."""
        from bot.dispatch import dispatch_new
        store = self.app.store
        mark, top = store.dispatch_mark() or 0, store.last_story_pk()
        edits = store.last_edit_seq()
        if top != mark:
            stories = _still_news(store.stories_to_dispatch(mark, top),
                                  self.app.settings.max_post_age)
            for story in stories:   # a crash may also have come before condensing
                await _brief_or_headline(pipeline, story)
            # Asked again, as one with the queueing: `feeds remove` (one transaction
            # too) may have come while the briefs were made, and cancels only queued posts.
            with store.outbox_transaction():
                stories = _still_followed(store, stories)
                queued = dispatch_new(store, stories, self.clock()) if stories else 0
            store.set_dispatch_mark(top)
            if stories:
                log.info("dispatch: %s queued %s", count(len(stories), "new strategy story"),
                         count(queued, "post"))
                self.delivery.wake()
        if edits:
            await self._dispatch_edits(pipeline, edits)

    async def _dispatch_edits(self, pipeline: Pipeline, upto_seq: int) -> None:
        """Route again the new stories their feeds edited (storage/dispatch_mark.py): the
        edits are forgotten only after routing, so a crash between the poll storing an
        edit and this routes it on the next start; routing twice changes nothing more."""
        from bot.dispatch_edits import dispatch_edits, still_news
        store = self.app.store
        # Past the age limit (published or first seen) an edit changes nothing
        # (dispatch_edits): not condensed either.
        stories = still_news(store, store.edited_stories(upto_seq), self.clock(),
                             self.app.settings.max_post_age)
        for story in stories:
            if story.classification.strategy:
                await _brief_or_headline(pipeline, story)   # the new text's brief
        # A removed feed's edit posts and edits nothing: `feeds remove` may have come
        # since the poll stored it (the bot stopped between, or while the brief was made).
        with store.outbox_transaction():
            stories = _still_followed(store, stories, "edited story", "not routed")
            done = dispatch_edits(store, stories, self.clock(),
                                  max_age=self.app.settings.max_post_age) if stories else None
        store.forget_edits(upto_seq)
        if done and done.changed:
            # INFO only for what a channel will see: a feed A/B-testing its headlines
            # moves or drops a waiting edit at every poll (at most one goes out an hour).
            log.log(logging.INFO if done.seen else logging.DEBUG, "dispatch: %s changed %s",
                    count(len(stories), "edited story"), count(done.changed, "post"))
            self.delivery.wake()


async def _brief_or_headline(pipeline: Pipeline, story) -> None:
    """Make the story's brief; if that fails it is posted with its headline and link:
    raising here would fail every dispatch after it on the same story, for good."""
    try:
        await pipeline.formatter.brief_for(story)
    except Exception as e:
        if (halt := pipeline.store.unusable(e)) is not None:   # saving the brief failed
            raise halt from None
        log.exception("dispatch: condensing %s (%s) failed; posting its headline",
                      story.id, story.url)


def _still_followed(store, stories: list, what: str = "stored story",
                    dropped: str = "not posted") -> list:
    """The stories a followed feed still carries (another may carry a removed one's)."""
    followed = store.still_followed([s.id for s in stories]) if stories else set()
    kept = [s for s in stories if s.id in followed]
    if len(kept) < len(stories):
        log.info("dispatch: %s of a feed removed meanwhile; %s",
                 count(len(stories) - len(kept), what), dropped)
    return kept


def _still_news(stories: list, max_age) -> list:
    """The age limit holds at routing too: a story stored while fresh can be routed much
    later (`ainews poll` stored it and the bot started days after; a crash came between
    storing and routing)."""
    if not max_age:
        return stories
    cutoff = utcnow() - max_age
    kept = [s for s in stories if s.published >= cutoff]
    if len(kept) < len(stories):
        log.info("dispatch: %s now too old to post; not posted",
                 count(len(stories) - len(kept), "stored story"))
    return kept
