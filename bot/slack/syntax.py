"""Command examples spelled as a Slack user types them. Pure: no slack imports.

Most lookups and channel settings are their own slash command (`/company Alibaba`); the
rest goes through `/ainews` (`/ainews feeds list`, `/ainews help`), which the listeners
read as a text command line. `/search` and `/topic` are Slack's own built-in commands
(search Slack, set the channel topic): an app can't register them, so those two are
`/ainews search QUERY` and `/ainews topic SLUG`."""
from __future__ import annotations

from functools import lru_cache

from bot.examples import Example, Text, examples_in

SLASH_COMMANDS = ("/company", "/latest", "/topics", "/subscribe",
                  "/unsubscribe", "/subscriptions", "/digest", "/ainews")


@lru_cache(maxsize=512)     # examples are few and fixed; every reply spells them again
def spell(example: Example) -> str:
    """`/company Alibaba`, `/digest daily HH:MM [TIMEZONE]`, `/ainews feeds list`."""
    own = f"/{example.verb}" in SLASH_COMMANDS
    return ("/" if own else "/ainews ") + example.text


def ainews_hint(help_text: Text) -> str:
    """The `/ainews` usage_hint Slack shows while typing: `help`, then every command of
    the help typed through /ainews, in its order. slack-manifest.yml keeps a copy (Slack
    reads it there), which tests/test_docs.py holds to this."""
    through = [e.text for e in examples_in(help_text) if spell(e).startswith("/ainews ")]
    return " | ".join(dict.fromkeys(["help", *through]))
