"""Discord: slash commands over bot.commands, and the delivery Adapter for posts.

Importing this package does not load discord.py; start_discord and invite_url do."""
from __future__ import annotations


async def start_discord(settings, commands, state, **kwargs):
    """See bot.discord.start.start_discord."""
    from bot.discord.start import start_discord as start
    return await start(settings, commands, state, **kwargs)


def invite_url(application_id) -> str:
    from bot.discord.invite import invite_url as url
    return url(application_id)


async def fetch_application_id(settings) -> int:
    from bot.discord.invite import fetch_application_id as fetch
    return await fetch(settings)
