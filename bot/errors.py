"""Errors a user can act on: the CLI prints them as one line, no traceback."""
from __future__ import annotations


class UserError(Exception):
    """str() is the whole message, already naming its component."""


class StartUnavailable(UserError):
    """A chat platform could not be reached at start-up (no network or DNS yet, a
    timeout, HTTP 5xx, 429): nothing in the configuration is wrong, so `ainews run`
    retries (bot/startup.py) instead of exiting. str() is still the one-line message for
    a caller that does not retry; `reason` is the short why, for the retry's log line;
    `retry_after` the platform's Retry-After (seconds), if it sent one."""

    def __init__(self, message: str, *, reason: str, retry_after: float | None = None):
        super().__init__(message)
        self.reason, self.retry_after = reason, retry_after
