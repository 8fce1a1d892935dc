"""Slack: slash commands (bolt AsyncApp, Socket Mode or HTTP) and the delivery Adapter.

Names load lazily so `import bot.slack` costs nothing until Slack is actually used:
    from bot.slack import start_slack, SlackRunner, SlackAdapter, make_client
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "start_slack": "bot.slack.app", "SlackRunner": "bot.slack.app",
    "SlackStartError": "bot.slack.app",
    "SlackAdapter": "bot.slack.adapter", "make_client": "bot.slack.webapi",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bot.slack' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
