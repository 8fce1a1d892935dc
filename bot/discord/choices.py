"""The choices Discord's pickers offer as a member types: companies, topics, and what a
channel follows, from the core's completions, within Discord's limits."""
from __future__ import annotations

from discord import app_commands

from bot.replies import Caller

MAX_CHOICES = 25


def company_choices(commands, current: str) -> list[app_commands.Choice[str]]:
    names = commands.complete_company(current or "")[:MAX_CHOICES]
    return [app_commands.Choice(name=n[:100], value=n[:100]) for n in names]


def topic_choices(commands, current: str) -> list[app_commands.Choice[str]]:
    pairs = commands.complete_topic(current or "")[:MAX_CHOICES]
    return [app_commands.Choice(name=f"{label} ({slug})"[:100], value=slug[:100])
            for slug, label in pairs]


def target_choices(commands, current: str) -> list[app_commands.Choice[str]]:
    """What /subscribe may follow: everything, a topic or a company."""
    everything = app_commands.Choice(name="Everything (all strategy stories)", value="all")
    # The core's completions already match aliases (qwen -> Alibaba): no second filter.
    choices = [everything] if current.lower() in (everything.name + "all").lower() else []
    choices += topic_choices(commands, current) + company_choices(commands, current)
    return choices[:MAX_CHOICES]


def followed_choices(commands, caller: Caller, current: str) -> list[app_commands.Choice[str]]:
    """What the channel follows, for /unsubscribe. A value Discord can't carry whole
    (over 100 characters) is left out: cut, it would name nothing."""
    pairs = commands.complete_subscription(caller, current or "")
    return [app_commands.Choice(name=label[:100], value=value)
            for label, value in pairs if len(value) <= 100][:MAX_CHOICES]

