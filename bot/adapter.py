"""What delivery needs from a chat platform. Discord, Slack and the console implement it.

Adapters sort every failure into one of three errors; delivery acts on each:
  TransientError  "not now" (timeouts, 5xx, 429, gateway down): the row retries with
                  backoff (honouring retry_after) and its channel waits meanwhile. With
                  down=True (the bot's token refused) it is never given up.
  PermanentError  "this channel can't take posts" (deleted, bot removed, no permission):
                  the channel's subscriptions pause. With fixable=True (the bot removed,
                  a permission taken away: its admins can undo it) its waiting posts, and
                  those routed to it meanwhile, are kept for /subscribe's resume
                  (bot/kept_posts.py); else (deleted) they fail.
  RejectedError   "this post can never go out as it is" (the platform refused its
                  content even after the adapter's own plain-text fallback): only that
                  row fails, with the reason; the channel goes on with its next post.
Anything else an adapter raises is a bug: delivery retries it once like a transient
error, then treats it as rejected (see bot/retry.py UNEXPECTED_ATTEMPTS), so a bug
never stalls a channel for hours."""
from __future__ import annotations

from typing import Protocol, Sequence

from feeds.models import Brief


class DeliveryError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TransientError(DeliveryError):
    """Timeouts, 5xx, 429: try again after `retry_after` seconds (None: core's backoff).
    down=True: the whole platform refuses us (e.g. a revoked bot token), not this post or
    channel: the post waits, however long, retried every `retry_after` seconds."""
    def __init__(self, reason: str, retry_after: float | None = None, *, down: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        self.down = down


class PermanentError(DeliveryError):
    """The channel can't take posts (deleted, bot removed, no permission). fixable: its
    admins can make it take them again (invite the bot, give a permission back), so its
    posts are kept for when they resume it; a deleted channel's never come."""
    def __init__(self, reason: str, *, fixable: bool = False):
        super().__init__(reason)
        self.fixable = fixable


class RejectedError(DeliveryError):
    """This post (or edit, or digest) was refused for its own content: retrying the same
    payload can never succeed. Raise it only after any fallback the adapter has (plain
    text) also failed; the channel itself is fine."""


class Adapter(Protocol):
    platform: str                    # "discord" | "slack" | "console"
    min_interval: float              # pacing per channel, seconds between posts
    # Optional: the platform-wide budget (posts/s and burst) that delivery keeps under.
    # max_rate: float; burst: float
    # Optional: ready() -> bool; while False (e.g. Discord's gateway is down) delivery
    # leaves the platform's posts waiting without spending their attempts.
    # Optional: async find_sent(channel, nonce, briefs, *, tried_ago) -> str | None: the
    # id of a post that an earlier attempt made with this nonce, if the platform still
    # shows it. `briefs` are what the post shows (one brief, or a roundup's): Slack finds
    # its post by the nonce in its metadata; Discord's history shows no nonces, so it
    # matches them. `tried_ago`: seconds since the post's first attempt, as the outbox
    # keeps it across restarts (None: unknown), so the history is read back to then
    # (bot/first_tries.py). Delivery asks before every retry, so a post accepted just
    # before a crash or a lost answer is not posted twice.
    # Every method raises only TransientError, PermanentError or RejectedError.

    async def send(self, channel: str, brief: Brief, *, nonce: str) -> str:
        """Post a brief; return the platform message id. `nonce` is stable per outbox
        row, so a platform that supports it can refuse a second post after a crash."""

    async def edit(self, channel: str, message_id: str, brief: Brief) -> None:
        """Update an earlier post (a cluster gained more outlets). A message that is
        gone, or an edit refused (PermanentError/RejectedError), leaves the first post
        standing; the channel is not paused for it."""

    async def send_digest(self, channel: str, title: str, briefs: Sequence[Brief],
                          *, nonce: str) -> str:
        """Post a roundup of several briefs in one message; return its id. A
        RejectedError fails the roundup's rows (the other held posts still go)."""
