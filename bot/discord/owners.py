"""Who may change the bot's feeds from Discord: its owner, not a server's admins.

The feed list is one for the whole bot, read for every server it is in, and a bot is
"Public Bot" by default: anyone with its invite link can add it to a server of their
own, where they have Manage Server. So /feeds answers the application's owner (or,
when a team owns the application, the team's admins and developers, as discord.py's
is_owner counts them) and the users listed in DISCORD_ADMIN_USER_IDS; nobody else.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

import aiohttp
import discord

from feeds.plural import count

log = logging.getLogger("ainews.discord")

_USER_ID = re.compile(r"^\d{1,20}$")    # a snowflake, as Copy User ID gives it
# Team roles that may change the application in the Developer Portal (read_only may not).
_TEAM_ROLES = (discord.TeamMemberRole.admin, discord.TeamMemberRole.developer)
INFO_TIMEOUT = 10.0     # seconds: the start waits this long at most for the owner


@dataclass(frozen=True)
class FeedAdmins:
    listed: frozenset[int] = frozenset()     # DISCORD_ADMIN_USER_IDS
    owners: frozenset[int] = frozenset()     # the application's owner or team
    owners_known: bool = True   # False: Discord didn't say at start (the refusal says so)

    def allows(self, user_id: int) -> bool:
        return user_id in self.listed or user_id in self.owners


def listed_ids(setting) -> frozenset[int]:
    """DISCORD_ADMIN_USER_IDS as user IDs; a name or mention in it never matches anyone,
    so it is named in the log now rather than found out by that admin refused later."""
    wrong = [i for i in setting if not _USER_ID.match(i)]
    if wrong:
        one = len(wrong) == 1
        log.warning("discord: DISCORD_ADMIN_USER_IDS has %s, which %s (like "
                    "123456789012345678: Developer Mode on, right-click a user → Copy User "
                    "ID); ignoring %s", ", ".join(map(repr, wrong)),
                    "is not a user ID" if one else "are not user IDs", "it" if one else "them")
    return frozenset(int(i) for i in setting if _USER_ID.match(i))


def owners_of(info: discord.AppInfo) -> frozenset[int]:
    """The application's owner; for a team's application (whose `owner` is a stand-in
    user for the team) the members who accepted and may change it."""
    team = info.team
    if team is None:
        return frozenset({info.owner.id})
    owner = {team.owner_id} if team.owner_id else set()
    return frozenset(owner | {m.id for m in team.members if m.role in _TEAM_ROLES and
                              m.membership_state is discord.TeamMembershipState.accepted})


async def feed_admins(client: discord.Client, setting) -> FeedAdmins:
    """Learned once at start, from the application info login() fetched (a second ask
    could fail on its own and leave the owner refused until a restart); asked again only
    if there is none. Unknown, only the setting's users may: never Manage Server. A
    public bot is warned of here, where that info is first read."""
    listed = listed_ids(setting)
    try:
        info = client.application or await asyncio.wait_for(client.application_info(),
                                                            INFO_TIMEOUT)
    # RateLimited: a 429 longer than the bot's max_ratelimit_timeout, which would
    # otherwise stop the start as though the login were refused.
    except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError,
            asyncio.TimeoutError, KeyError, TypeError, ValueError) as exc:
        log.warning("discord: could not learn who owns the application (%s); /feeds "
                    "changes are allowed only to DISCORD_ADMIN_USER_IDS (%s) until a "
                    "restart", _why(exc), count(len(listed), "user") if listed else "none set")
        return FeedAdmins(listed, owners_known=False)
    warn_if_public(info)
    owners = owners_of(info)
    who = (f"{count(len(owners), 'member')} of the team that owns the application"
           if info.team else "the application's owner")
    log.info("discord: /feeds changes are allowed to %s and %s in DISCORD_ADMIN_USER_IDS",
             who, count(len(listed), "user"))
    return FeedAdmins(listed, owners)


def warn_if_public(info: discord.AppInfo) -> None:
    """Once a start: a Public Bot (the Portal's default) is anyone's to add, and the
    operator pays for every server it joins; docs/discord.md advises turning it off."""
    if info.bot_public:
        log.warning("discord: the bot is public: anyone with its invite link can add it to "
                    "a server of their own and subscribe its channels, on this bot's posting "
                    "budget and LLM calls; turn off Public Bot in the Developer Portal (Bot > "
                    "Public Bot) unless you mean to serve other servers")


def _why(exc: BaseException) -> str:
    from bot.discord.start import error_text   # start imports the client, which imports us
    if isinstance(exc, asyncio.TimeoutError):
        return f"no answer within {INFO_TIMEOUT:g} s"
    if isinstance(exc, discord.RateLimited):
        return f"rate limited for {exc.retry_after:.0f} s"
    if isinstance(exc, (KeyError, TypeError, ValueError)):   # not Discord's JSON
        return f"an answer unlike Discord's ({type(exc).__name__})"
    return error_text(exc)
