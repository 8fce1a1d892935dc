"""The OAuth2 link that adds the bot to a server with only the permissions it uses."""
from __future__ import annotations

import asyncio
import logging

from bot.errors import UserError

log = logging.getLogger("ainews.discord")

SCOPES = ("bot", "applications.commands")
# What posting briefs, share buttons and per-story threads need, and reading the bot's
# own posts back (a retry after a lost answer looks there first, so nothing is posted
# twice: bot/discord/history.py); nothing more.
PERMISSIONS = ("view_channel", "send_messages", "embed_links", "read_message_history",
               "send_messages_in_threads", "create_public_threads")


def invite_permissions() -> int:
    import discord
    return discord.Permissions(**{name: True for name in PERMISSIONS}).value


def invite_url(application_id: int | str) -> str:
    """`https://discord.com/oauth2/authorize?client_id=...&scope=bot+applications.commands&permissions=...`"""
    import discord
    perms = discord.Permissions(invite_permissions())
    return discord.utils.oauth_url(int(application_id), permissions=perms, scopes=SCOPES)


async def fetch_application_id(settings) -> int:
    """Ask Discord (or DISCORD_API_URL) which application the token belongs to."""
    import aiohttp
    import discord
    from bot.discord.client import apply_endpoints, trusting_connector
    from bot.discord.start import error_text

    if not settings.discord_token:
        raise UserError("discord: DISCORD_TOKEN is not set; it is needed to find the application id")
    apply_endpoints(settings)
    http = discord.http.HTTPClient(asyncio.get_running_loop(), trusting_connector(settings),
                                   proxy=settings.proxies.url_for(discord.http.Route.BASE))
    try:
        await http.static_login(settings.discord_token)
        data = await http.application_info()
    except discord.LoginFailure:
        raise UserError("discord: DISCORD_TOKEN was refused (401); copy the bot token again") from None
    except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
        raise UserError(f"discord: could not ask {discord.http.Route.BASE} for the "
                        f"application id: {error_text(exc)}") from None
    finally:
        await http.close()
    try:
        return int(data["id"])
    except (TypeError, KeyError, ValueError):   # HTML, or another service's JSON
        raise UserError(f"discord: {discord.http.Route.BASE} did not answer like Discord "
                        "(no application id); check DISCORD_API_URL") from None
