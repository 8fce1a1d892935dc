"""What the chat core needs to know of each platform, in one neutral type, and the one
registry the core looks platforms up in, by Caller.platform.

Commands are written once; what differs by platform (who its admins are, in its users'
words; the most briefs one reply holds; how its message links and pause reasons read;
what it calls a workspace) is a `Platform` its own package declares in `traits.py`
(bot/discord/traits.py, bot/slack/traits.py), a module that imports no chat library,
so looking a platform up never slows `ainews --help`. The console and the command line
are the operator's own entry here. A platform added later needs its traits registered
(listed in _BUILT_IN, or `register`ed), not a change to the commands."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

# The platforms this package ships, loaded on first use (a module name each: the core
# imports no platform package directly; tests/test_platforms.py checks it).
_BUILT_IN = ("bot.discord.traits", "bot.slack.traits")


def _nothing(text: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Platform:
    """One platform's facts, as replies written once need them. Only `name` is
    required: a platform that says nothing else gets the neutral wording."""
    name: str                       # Caller.platform, Subscription.platform
    title: str = ""                 # as its users write it ("Discord"); "" -> name
    workspace: str = "workspace"    # what it calls a workspace (why: "in this server")
    # Who may change what a channel gets, in its users' words ("members with the Manage
    # Channels permission"); None: no such rule to name (the console's operator).
    channel_admins: str | None = None
    feed_admins: str | None = None  # who may manage feeds, where not channel_admins
    feeds_note: str = ""            # why, where a user would expect other admins to
    # Said after a feeds refusal when its adapter could not learn who feed_admins are
    # (Discord asks who owns the bot at start): the one refused may be one of them.
    feed_admins_unknown: str = ""
    admins_help: str | None = None  # help's "Admins here: ...", where not channel_admins
    limit_cap: int | None = None    # the most a LIMIT may ask; None: a chat answer's
    most_shown: int | None = None   # the most one reply shows, where under limit_cap
    # Its own message link (its "Copy link") -> the message id as its adapter records
    # it in the outbox; None for any other text (bot/post_links.py).
    message_id: Callable[[str], str | None] = _nothing
    # Its adapter's reason for pausing a channel (a log line naming the channel's id and
    # the call) -> the words a member of the channel reads; None: shown as stored.
    pause_reason: Callable[[str], str | None] = _nothing
    # The operator at the bot's terminal: `why` in the classifier's own terms, and no
    # channel to subscribe (the running bot prints what the console follows).
    operator: bool = False

    @property
    def shown_name(self) -> str:
        return self.title or self.name

    @property
    def who_manages_feeds(self) -> str | None:
        return self.feed_admins or self.channel_admins

    @property
    def who_is_admin(self) -> str | None:
        return self.admins_help or self.channel_admins


# `ainews` on the command line and the console adapter: the operator, allowed
# everything; a LIMIT up to 500, for a script reading --json rows.
CONSOLE = Platform("console", limit_cap=500, operator=True)

_registry: dict[str, Platform] = {}


def registry() -> dict[str, Platform]:
    """Every known platform by name, those shipped loaded on first use."""
    if not _registry:
        shipped = [importlib.import_module(module).PLATFORM for module in _BUILT_IN]
        _registry.update((p.name, p) for p in [CONSOLE, *shipped])
    return _registry


def register(platform: Platform) -> Platform:
    """Add (or replace) a platform: the core's replies follow its traits from then on."""
    registry()[platform.name] = platform
    return platform


def platform_of(name: str) -> Platform:
    """The platform of that name; one nobody registered gets the neutral wording."""
    return registry().get(name) or Platform(name)
