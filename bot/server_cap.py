"""How many channels of one Discord server or Slack workspace may get posts
(AINEWS_CHANNELS_PER_SERVER): `subscribe` asks before it adds a channel.

Anyone can add a public Discord bot to a server of their own, where they have Manage
Channels, and subscribe every channel and thread there: each story was then a post per
channel, through the one rate limit every other server's posts wait on too (the hourly
cap is per channel). A channel already getting posts may always follow more; a paused
one (deleted) gets none, so counts for nothing until resumed, but one paused keeping its
posts (the bot removed, a permission: bot/kept_posts.py) keeps its place."""
from __future__ import annotations

import logging

from bot import examples as ex
from bot.examples import say
from bot.platforms import platform_of
from bot.replies import Caller, Reply
from feeds.plural import count

log = logging.getLogger("ainews.commands")

DEFAULT = 50


def server_full(store, settings, caller: Caller) -> Reply | None:
    """The refusal for a channel new to posts in a server that has its cap of them; None
    when it may subscribe (the operator's console has no cap)."""
    cap = getattr(settings, "channels_per_server", DEFAULT)
    platform = platform_of(caller.platform)
    if cap is None or platform.operator:
        return None
    getting = store.channels_getting_posts(caller.platform, caller.workspace)
    if caller.channel in getting or len(getting) < cap:
        return None
    log.info("commands: %s %s %s has posts in %s (AINEWS_CHANNELS_PER_SERVER); a "
             "subscription in %s was refused", caller.platform, platform.workspace,
             caller.workspace, count(len(getting), "channel"), caller.channel)
    where = platform.workspace
    return Reply.error(say(f"this {where} already has posts in {count(len(getting), 'channel')}"
                           f", the most this bot takes from one {where}; stop one of them "
                           "first (run {} there), or ask whoever runs the bot to raise "
                           "AINEWS_CHANNELS_PER_SERVER", ex.UNSUBSCRIBE_ALL))
