"""Each Socket Mode envelope run once.

Slack sends an envelope again, with the same envelope_id (and `retry_attempt`), when its
ack came late (a slow network, the event loop busy): bolt ran the slash command or the
click again, and the user got two answers (a share, two posts in the channel). Here an
envelope id already taken is acknowledged again, so Slack stops sending it, and not run.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict

log = logging.getLogger("ainews.slack")

# Slack re-delivers within minutes (three retries at most, its Events API says); an id is
# kept this long, and at most this many (a busy workspace's half hour of envelopes).
KEEP_SECONDS, KEEP_MOST = 1800.0, 10_000
WHAT = {"slash_commands": "a slash command", "interactive": "a click"}


class OnceEach:
    """A Socket Mode request listener (bolt's handler's `handle`) run once an envelope."""

    def __init__(self, handle, clock=time.monotonic):
        self.handle, self.clock = handle, clock
        self._seen: OrderedDict[str, float] = OrderedDict()   # envelope id -> first seen

    async def __call__(self, client, req) -> None:
        if self._first(req.envelope_id):
            return await self.handle(client, req)
        from slack_sdk.socket_mode.response import SocketModeResponse
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        log.info("slack: Slack sent %s again (its first ack came late); acknowledged, "
                 "not run twice", WHAT.get(req.type, "an event"))

    def _first(self, envelope_id: str) -> bool:
        now = self.clock()
        while self._seen and (len(self._seen) >= KEEP_MOST
                              or now - next(iter(self._seen.values())) > KEEP_SECONDS):
            self._seen.popitem(last=False)
        if not envelope_id:
            return True         # nothing to know it again by
        if envelope_id in self._seen:
            return False
        self._seen[envelope_id] = now
        return True


def run_once_each(handler) -> None:
    """Put OnceEach in front of bolt's listener on the handler's Socket Mode client."""
    listeners = handler.client.socket_mode_request_listeners
    listeners[listeners.index(handler.handle)] = OnceEach(handler.handle)
