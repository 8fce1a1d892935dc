"""A refused bot token (revoked, expired, invalid), or a posting scope the app lacks, is
no channel's fault: while Slack refuses it the adapter reports itself not ready and every
channel's posts wait, instead of every subscription pausing one by one (and needing a
re-subscribe each once it is fixed). Mixed into bot.slack.adapter.SlackAdapter."""
from __future__ import annotations

import logging

from bot.adapter import DeliveryError, TransientError
from bot.slack.webapi import (TOKEN_RECHECK, TOKEN_REFUSED, classify_error, error_code,
                              held_for)

log = logging.getLogger("ainews.slack")


class TokenWatch:
    """Uses the adapter's clock, _refused, _next_try, _probe and connection (a
    bot.connections.ConnectionLog or None), which shows `ainews status` the hold."""

    def ready(self) -> bool:
        """False while Slack refuses the bot token: delivery leaves the posts waiting.
        Every TOKEN_RECHECK seconds one post is let through to try it again (a token
        can't be replaced while running, but Slack's own auth outages pass, and a scope
        added by reinstalling the app counts from the next try)."""
        return self._refused is None or self.clock() >= self._next_try

    def _recheck(self, method: str, channel: str) -> None:
        """While the token is refused, one channel's attempt per TOKEN_RECHECK asks Slack."""
        if self._refused is None:
            return
        if self.clock() >= self._next_try:
            self._next_try, self._probe = self.clock() + TOKEN_RECHECK, channel
        elif channel != self._probe:
            raise TransientError(f"slack: {method} to {channel}: Slack refuses the bot's "
                                 f"posts ({self._refused}); waiting", TOKEN_RECHECK, down=True)

    def _error(self, exc: BaseException, method: str, channel: str) -> DeliveryError:
        """classify_error, noting a refused token (or a posting scope the app lacks) so
        delivery holds every channel's posts."""
        error = classify_error(exc, method, channel)
        if isinstance(error, TransientError) and error.down:
            code = error_code(exc)
            what, fix = held_for(exc)
            refuses = "the bot token" if code in TOKEN_REFUSED else "the bot's posts"
            if self._refused is None:
                log.error("slack: Slack refuses %s (%s); posts to Slack wait (none is "
                          "lost) and one tries again every %.0f min: %s", refuses, what,
                          TOKEN_RECHECK / 60, fix)
            if self.connection is not None:
                self.connection.hold(f"Slack refuses {refuses} ({what}); posts wait: {fix}")
            self._refused, self._next_try = code, self.clock() + TOKEN_RECHECK
        return error

    def _token_accepted(self) -> None:
        if self._refused is not None:
            self._refused = None
            if self.connection is not None:
                self.connection.release()
            log.warning("slack: Slack takes the bot's posts again; posts resume")
