"""Slack's facts for the chat core (bot/platforms.py), in Slack's words. Imports no
slack_bolt or slack_sdk: the core reads these whatever platform runs, and
`ainews --help` stays fast."""
from __future__ import annotations

from bot.platforms import Platform

PLATFORM = Platform(
    "slack", title="Slack",
    # A channel manager is no admin here (docs/slack.md): the workspace's are, and the
    # members the operator lists; feeds and channels alike.
    channel_admins="workspace admins and owners (and members listed in the bot's "
                   "SLACK_ADMIN_USER_IDS)",
)
