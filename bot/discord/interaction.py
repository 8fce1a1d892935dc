"""An interaction as the chat core sees it: who asked (caller_for, feeds_caller), whether
it came from a thread (in_thread), and the core called for them (call), throttle first."""
from __future__ import annotations

import inspect
from dataclasses import replace

import discord

from bot import commands_store
from bot.replies import DM, Caller
from storage.store_errors import waiting_at_most


async def call(core, fn, caller: Caller, *args, **kwargs):
    """Run `fn`, a method of the chat core `core` (Commands), for `caller`, unless the
    caller (or its server) is going too fast by the core's throttle: then its "try
    again" answer, nothing run. Commands methods may be sync or async; the adapter
    doesn't care which. Their writes wait CHAT_WAIT at most for a store another program
    keeps locked: a lookup still answers in Discord's 3 s, a change answers that the
    store is unavailable."""
    if (slow := core.too_fast(caller)) is not None:
        return slow
    with waiting_at_most(commands_store.CHAT_WAIT):
        result = fn(caller, *args, **kwargs)
        return await result if inspect.isawaitable(result) else result


def caller_for(interaction: discord.Interaction) -> Caller:
    """The member as the core knows them; admin of this channel with Manage Channels."""
    perms = interaction.permissions
    return Caller(
        platform="discord",
        workspace=str(interaction.guild_id or DM),
        channel=str(interaction.channel_id or ""),
        user=str(interaction.user.id),
        is_admin=bool(perms.manage_channels or perms.administrator),
        parent=str(getattr(interaction.channel, "parent_id", None) or "")
        if in_thread(interaction) else "",
    )


def feeds_caller(interaction: discord.Interaction) -> Caller:
    """caller_for for /feeds: admin only as the bot's owner or in DISCORD_ADMIN_USER_IDS
    (bot/discord/owners.py). The feed list is every server's, and a server's Manage
    Server may be anyone's who added the bot to a server of their own."""
    admins = getattr(interaction.client, "feed_admins", None)
    allowed = admins is not None and admins.allows(interaction.user.id)
    return replace(caller_for(interaction), is_admin=allowed)


THREAD_TYPES = (discord.ChannelType.public_thread, discord.ChannelType.private_thread,
                discord.ChannelType.news_thread)


def in_thread(interaction: discord.Interaction) -> bool:
    return getattr(interaction.channel, "type", None) in THREAD_TYPES
