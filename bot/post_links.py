"""A chat message's own link -> the post of ours it is, for `why`.

Asked why a post went out, people copy the post's link: Slack's "Copy link"
(https://team.slack.com/archives/C0123/p1700000000123456) or Discord's "Copy Message
Link" (https://discord.com/channels/GUILD/CHANNEL/MESSAGE). A Slack post shows its
story's link only behind a button, which can't be copied, so the message link is often
the only one a Slack user has. Message ids are spelled as the adapters record them in
the outbox (bot/slack/adapter.py: CHANNEL:TS; Discord: the message id)."""
from __future__ import annotations

import re

_SLACK = re.compile(r"^https://[^/?#]+\.slack(?:-gov)?\.com/archives/([A-Z0-9]+)/p(\d{7,})"
                    r"/?(?:[?#].*)?$", re.IGNORECASE)
_DISCORD = re.compile(r"^https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/channels/"
                      r"(?:\d+|@me)/(\d+)/(\d+)/?(?:[?#].*)?$", re.IGNORECASE)


def message_of(link: str) -> tuple[str, str] | None:
    """(platform, message id as the outbox keeps it) of a Slack or Discord message link;
    None for any other text."""
    if m := _SLACK.match(link):
        channel, digits = m.group(1).upper(), m.group(2)
        return "slack", f"{channel}:{digits[:-6]}.{digits[-6:]}"   # p + ts without its dot
    if m := _DISCORD.match(link):
        return "discord", m.group(2)
    return None
