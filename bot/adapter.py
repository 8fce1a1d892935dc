"""What delivery needs from a chat platform. Discord, Slack and the console implement it.

Adapters raise TransientError (retry later, honour retry_after) or PermanentError
(channel gone, bot removed, missing permission: the channel's subscriptions pause)."""
from __future__ import annotations

from typing import Protocol, Sequence

from feeds.models import Brief


class DeliveryError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TransientError(DeliveryError):
    """Timeouts, 5xx, 429: try again after `retry_after` seconds (None: core's backoff)."""
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """The channel can't take posts (deleted, bot removed, no permission)."""


class Adapter(Protocol):
    platform: str                    # "discord" | "slack" | "console"
    min_interval: float              # pacing per channel, seconds between posts
    # Optional: the platform-wide budget (posts/s and burst) that delivery keeps under.
    # max_rate: float; burst: float
    # Optional: ready() -> bool; while False (e.g. Discord's gateway is down) delivery
    # leaves the platform's posts waiting without spending their attempts.

    async def send(self, channel: str, brief: Brief, *, nonce: str) -> str:
        """Post a brief; return the platform message id. `nonce` is stable per outbox
        row, so a platform that supports it can refuse a second post after a crash."""

    async def edit(self, channel: str, message_id: str, brief: Brief) -> None:
        """Update an earlier post (a cluster gained more outlets)."""

    async def send_digest(self, channel: str, title: str, briefs: Sequence[Brief],
                          *, nonce: str) -> str:
        """Post a roundup of several briefs in one message; return its id."""
