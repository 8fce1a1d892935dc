"""Discord's facts for the chat core (bot/platforms.py), in Discord's words. Imports no
discord.py: the core reads these whatever platform runs, and `ainews --help` stays fast."""
from __future__ import annotations

import re

from bot.platforms import Platform

# A message holds 10 embeds (render.py EMBEDS_PER_MESSAGE), a brief each: the LIMIT
# options stop there (slash.py), and help and a refused LIMIT say so.
MOST_SHOWN = 10

# "Copy Message Link": https://discord.com/channels/GUILD/CHANNEL/MESSAGE (@me in a DM;
# the PTB and Canary clients' hosts, and the old discordapp.com, too).
_LINK = re.compile(r"^https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/channels/"
                   r"(?:\d+|@me)/(\d+)/(\d+)/?(?:[?#].*)?$", re.IGNORECASE)
# A pause as bot/discord/adapter.py words it: "discord: channel 1300000000000000001:
# Missing Permissions (...)".
_PAUSE = re.compile(r"^discord: channel \d+: (.+)$", re.S)


def message_id(link: str) -> str | None:
    """The message a "Copy Message Link" names, as bot/discord/adapter.py records it."""
    return m.group(2) if (m := _LINK.match(link)) else None


def pause_reason(reason: str) -> str | None:
    """The reason without the channel's id, which meant nothing to its members."""
    return m.group(1) if (m := _PAUSE.match(reason)) else None


PLATFORM = Platform(
    "discord", title="Discord", workspace="server",
    # The permissions bot/discord/slash.py checks, as Discord's settings name them.
    channel_admins="members with the Manage Channels permission",
    # One feed list serves every server the bot is in, and anyone can add a public bot
    # to a server where they are admins: the bot's owner (bot/discord/owners.py).
    feed_admins=("the bot's owner (its application's owner in Discord's Developer "
                 "Portal, or that team's admins and developers) and users listed in "
                 "its DISCORD_ADMIN_USER_IDS"),
    feeds_note=(" (every server the bot is in reads the same feeds, so Manage Server is "
                "not enough)"),
    # bot/discord/owners.py had no answer from Discord at start: the owner is refused too.
    feed_admins_unknown=("The bot could not learn its owner from Discord at start: if "
                         "that is you, restart the bot or list yourself in its "
                         "DISCORD_ADMIN_USER_IDS."),
    admins_help=("members with the Manage Channels permission (feeds, which every server "
                 "shares: the bot's owner and users listed in its DISCORD_ADMIN_USER_IDS)"),
    most_shown=MOST_SHOWN, message_id=message_id, pause_reason=pause_reason,
)
