"""Logging: one line per event, naming its component (logger "ainews.<component>")."""
from __future__ import annotations

import logging
import sys

# Chat libraries log a lot at INFO; their warnings still come through. (httpx2 is the
# httpx fork the installed openai client uses: one INFO line per LLM call.)
_QUIET = ("discord", "slack_bolt", "slack_sdk", "aiohttp.access", "openai", "httpx", "httpx2",
          "trafilatura", "htmldate", "courlan")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (tests and embedders swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _name_libraries(record: logging.LogRecord) -> bool:
    """Our lines name their component in the text; a library's line (discord.py's rate
    limit warnings, slack_sdk's retries) gets its logger's name in front instead."""
    own = record.name == "ainews" or record.name.startswith("ainews.")
    record.component = "" if own else f"{record.name}: "
    return True


def setup_logging(level: str = "INFO", verbose: bool = False) -> None:
    root = logging.getLogger()
    if getattr(root, "_ainews_configured", False):
        return
    handler = _StderrHandler(sys.stderr)
    handler.addFilter(_name_libraries)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)-7s %(component)s%(message)s", "%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else getattr(logging, level, logging.INFO))
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    root._ainews_configured = True
