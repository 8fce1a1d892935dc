"""`why LINK`: why a story was posted or not (a Commands mixin). LINK is the story's
link as its post shows it, its id, or the post's own message link (bot/post_links.py)."""
from __future__ import annotations

from bot import examples as ex
from bot.commands_text import link_text, quote
from bot.examples import say
from bot.platforms import platform_of
from bot.post_links import message_of
from bot.replies import Caller, Reply


class WhyCommands:
    def why(self, caller: Caller, link: str) -> Reply:
        """Why the story behind `link` (as its post shows it) or an id was posted or not."""
        from bot.why import as_text   # the record's wording: only when asked
        from bot.why_chat import as_chat_text
        ref = link_text(link)
        if not ref:
            return Reply.error(say("give a story's link as its post shows it, e.g. {}",
                                   ex.WHY_USAGE))
        if message := message_of(ref):      # the post's own link, copied from chat
            ref = self._story_of_message(*message)
            if isinstance(ref, Reply):
                return ref
        record = self.store.story_record(ref)
        if record is None:
            return Reply.not_there(say("no stored story has the link or id '{}' — {} finds "
                                       "one by its words", quote(ref), ex.SEARCH_EG))
        max_age = getattr(self.settings, "max_post_age", None)
        keep_days = getattr(self.settings, "keep_days", None)
        if platform_of(caller.platform).operator:   # the classifier's own terms
            return Reply.message(as_text(record, None, max_age, keep_days=keep_days))
        here = (caller.platform, caller.workspace, caller.channel)
        return Reply.message(as_chat_text(record, self.store, here, max_age, caller.parent,
                                          keep_days))

    def _story_of_message(self, platform: str, message_id: str) -> str | Reply:
        ids = self.store.stories_of_message(platform, message_id)
        if len(ids) == 1:
            return ids[0]
        if ids:
            return Reply.error(f"that message is a roundup of {len(ids)} stories; give "
                               "one story's link (its headline's link in the roundup)")
        return Reply.not_there(say("that message is no post of this bot's that it still "
                                   "keeps; give the story's link, or find the story with {}",
                                   ex.SEARCH_EG))
