"""Logging: one line per event, naming its component (logger "ainews.<component>")."""
from __future__ import annotations

import logging
import re
import sys
import time

from feeds.urls import without_secrets

# Chat libraries log a lot at INFO; their warnings still come through. (httpx2 is the
# httpx fork the installed openai client uses: one INFO line per LLM call.)
_QUIET = ("discord", "slack_bolt", "slack_sdk", "aiohttp.access", "openai", "httpx", "httpx2",
          "trafilatura", "htmldate", "courlan")


# Control and bidi characters but tab and newline: log lines and console replies quote
# feed and server text (titles, error bodies), which must not drive the terminal
# (ANSI/OSC escapes) or reorder a line. bot/console.py uses it too.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


# What a library writes at DEBUG (`-v`) that acts as the bot or its user, besides the
# URLs' passwords and query keys without_secrets hides: a Discord interaction's or
# webhook's token in a REST path, a Slack response_url's (hooks.slack.com/KIND/T/ID/
# TOKEN, also JSON- or %-escaped), a payload's "token" and a Socket Mode ?ticket=.
_SEP = r"(?:/|\\/|%2F)"
_LIBRARY_SECRETS = (
    re.compile(r"(/(?:interactions|webhooks)/\d+/)[\w.-]+"),
    re.compile(rf"(hooks\.slack\.com{_SEP}\w+{_SEP}\w+{_SEP}\w+{_SEP})[\w-]+", re.I),
    re.compile(r"""(['"](?:token|ticket)['"]\s*:\s*['"])[^'"]+"""),
    re.compile(r"([?&]ticket=)[^&\s'\"]+"),
)


def library_text(text: str) -> str:
    """A library's log line (and traceback) with the credentials in it shown as ***."""
    for pattern in _LIBRARY_SECRETS:
        text = pattern.sub(r"\1***", text)
    return without_secrets(text)


class _OneEvent(logging.Formatter):
    """A message quoting outside text: its control characters dropped and any further
    line indented, so a newline in a feed's title can't forge a log line of its own.
    A traceback (appended after the message) keeps its lines. Times are UTC, as every
    time the bot writes in its messages is ("next poll 14:14 UTC"). A library's line
    is written without its credentials: ours hide them as they are written."""

    converter = time.gmtime

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = CONTROL.sub("", record.message).replace("\n", "\n    ")
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if _own(record) else library_text(text)


def _own(record: logging.LogRecord) -> bool:
    return record.name == "ainews" or record.name.startswith("ainews.")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (tests and embedders swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _name_libraries(record: logging.LogRecord) -> bool:
    """Our lines name their component in the text; a library's line (discord.py's rate
    limit warnings, slack_sdk's retries) gets its logger's name in front instead."""
    record.component = "" if _own(record) else f"{record.name}: "
    return True


def setup_logging(level: str = "INFO", verbose: bool = False) -> None:
    root = logging.getLogger()
    if getattr(root, "_ainews_configured", False):
        return
    handler = _StderrHandler(sys.stderr)
    handler.addFilter(_name_libraries)
    handler.setFormatter(_OneEvent(
        "%(asctime)s %(levelname)-7s %(component)s%(message)s", "%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else getattr(logging, level, logging.INFO))
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    root._ainews_configured = True
