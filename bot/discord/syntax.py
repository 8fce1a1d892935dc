"""Command examples spelled as a Discord user types them: application commands with
named options (`/digest mode:daily at:08:30 timezone:Europe/Berlin`). Pure, no I/O.

OPTIONS mirrors what slash.py registers (a test compares them with the commands the bot
syncs): an optional argument a command lacks here is left out (`/topic` takes no limit),
a required one it lacks is a bug the test reports."""
from __future__ import annotations

from functools import lru_cache

from bot.examples import Example

OPTIONS: dict[str, tuple[str, ...]] = {
    "company": ("name", "limit"),
    "latest": ("topic", "limit"),
    "topic": ("slug",),
    "search": ("query",),
    "topics": (),
    "why": ("link",),
    "help": (),
    "subscribe": ("target",),
    "unsubscribe": ("target",),
    "subscriptions": (),
    "digest": ("mode", "at", "timezone"),
    "feeds list": (),
    "feeds add": ("url", "name"),
    "feeds remove": ("url",),
    "feeds resume": ("url",),
}


@lru_cache(maxsize=512)     # examples are few and fixed; every reply spells them again
def spell(example: Example) -> str:
    """`/feeds add url:URL [name:NAME]`: each option by name; optional ones bracketed."""
    known = OPTIONS.get(example.command, ())
    words = [f"/{example.command}"]
    for arg in example.args:
        if arg.name not in known and arg.optional:
            continue
        option = f"{arg.name}:{arg.value}"
        words.append(f"[{option}]" if arg.bracketed else option)
    return " ".join(words)
