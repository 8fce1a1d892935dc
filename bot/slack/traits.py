"""Slack's facts for the chat core (bot/platforms.py), in Slack's words. Imports no
slack_bolt or slack_sdk: the core reads these whatever platform runs, and
`ainews --help` stays fast."""
from __future__ import annotations

import re

from bot.platforms import Platform

# "Copy link": https://team.slack.com/archives/C0123/p1700000000123456 (GovSlack's
# .slack-gov.com too), the message's ts without its dot.
_LINK = re.compile(r"^https://[^/?#]+\.slack(?:-gov)?\.com/archives/([A-Z0-9]+)/p(\d{7,})"
                   r"/?(?:[?#].*)?$", re.IGNORECASE)
# A pause as bot/slack/webapi.py words it: "slack: chat.postMessage to C0123 failed:
# not_in_channel: the bot is not in the channel; ...".
_PAUSE = re.compile(r"^slack: \S+ to \S+ failed: (\w+): (.+)$", re.S)


def message_id(link: str) -> str | None:
    """The message a "Copy link" names, as bot/slack/adapter.py records it: CHANNEL:TS."""
    if m := _LINK.match(link):
        channel, digits = m.group(1).upper(), m.group(2)
        return f"{channel}:{digits[:-6]}.{digits[-6:]}"
    return None


def pause_reason(reason: str) -> str | None:
    """The reason without the channel's id and the Web API method, which meant nothing
    to its members; Slack's error code stays, after it, for whoever looks it up."""
    m = _PAUSE.match(reason)
    return f"{m.group(2)} (Slack said {m.group(1)})" if m else None


PLATFORM = Platform(
    "slack", title="Slack",
    # A channel manager is no admin here (docs/slack.md): the workspace's are, and the
    # members the operator lists; feeds and channels alike.
    channel_admins="workspace admins and owners (and members listed in the bot's "
                   "SLACK_ADMIN_USER_IDS)",
    message_id=message_id, pause_reason=pause_reason,
)
