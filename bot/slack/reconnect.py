"""Socket Mode reconnects, paced and said once.

When the connection drops, slack_sdk asks apps.connections.open for a new URL; when Slack
refuses (SLACK_APP_TOKEN revoked, an outage) the SDK asks again every ping interval (10 s)
for as long as the bot runs, two ERROR lines each time, on a Tier 1 method (about one
call a minute). Installed after start-up, `PacedReconnect` takes over that call: one log
line per outage naming the cause and the fix, retries backing off from 5 s to 5 minutes
(a 429's Retry-After honoured), and a line when the connection is back. Posts are not
affected: they go through the Web API with the bot token.

The URL apps.connections.open gives is "a temporary Socket Mode WebSocket URL" (Slack's
reference for the method, api.slack.com/methods/apps.connections.open; "The URL is
created at runtime by calling the apps.connections.open method, and it refreshes
regularly", api.slack.com/apis/socket-mode), a one-time `ticket` in its query. Slack
documents no lifetime. slack_sdk's connect loop, though, retries a failed websocket with
the URL it already has, every ping interval, for as long as the failures last: once an
outage of the websocket host outlives the URL, Slack refuses it on every try and slash
commands stay dead after the network is back. So after each failed try the URL is
dropped, and the next try asks for a new one here, backing off the same way.

A connection that opens and then carries nothing, not even Slack's `hello` (a proxy or
firewall that takes the websocket and drops what goes over it), the SDK replaces a few
ping intervals later (no pong), asking apps.connections.open each time, with a line at
INFO only: `SilentStreak` says a run of them once, and `ainews status` shows it."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import deque

from slack_sdk.errors import SlackApiError

from bot.slack.webapi import (NETWORK_ERRORS, TOKEN_REFUSED, error_code, failure_text,
                              retry_after_of, status_and_headers)
from bot.connections import ConnectionLog, one_line
from feeds.plural import count

log = logging.getLogger("ainews.slack")

FIRST, MOST = 5.0, 300.0   # seconds between tries: FIRST doubling up to MOST
# Silent connections replaced this many times within this many seconds are a streak: one
# now and then is a network's blip, a run of them something dropping websocket traffic.
SILENT_FEW, SILENT_WINDOW = 3, 300.0


class PacedReconnect:
    """Replaces the Socket Mode client's issue_new_wss_url (see the module docstring)."""

    def __init__(self, client, connection=None):
        self.client = client
        # What `ainews status` shows of Socket Mode (bot/connections.py).
        self.connection = connection or ConnectionLog(None, "slack")
        self._closed = asyncio.Event()
        self._lock = asyncio.Lock()   # the SDK's monitor and a `disconnect` may both ask
        self._pause = _pause
        self.silent = SilentStreak(self.connection)
        # Since the last URL: a hello came (the start-up's came before install), a
        # websocket try failed.
        self._hello, self._try_failed = True, False

    def install(self) -> "PacedReconnect":
        self.client.issue_new_wss_url = self.issue_new_wss_url
        self.client.on_message_listeners.append(self._on_message)
        self.quiet = QuietSocketRetries(self.connection, self._url_spent)
        self.client.logger.addFilter(self.quiet)
        return self

    def _url_spent(self) -> None:
        """A websocket try failed: its URL (a one-time ticket, maybe expired) is not tried
        again. slack_sdk's connect() (checked against slack_sdk 3.48.0; pyproject asks for
        >= 3.30) loops `if self.wss_uri is None: self.wss_uri = await
        self.issue_new_wss_url()`, then ws_connect(self.wss_uri); on failure it logs
        "Failed to connect ..." with logger.exception and sleeps a ping interval. That log
        record is the SDK's only hook between two tries, so QuietSocketRetries (a filter on
        the client's logger, bolt's app logger, which bot/logs.py keeps at WARNING or
        DEBUG, so the ERROR record always reaches it) calls this while the SDK handles the
        failure, and the next try comes here for a new URL. If a slack_sdk upgrade changes
        the loop or the message, the outage test in tests/test_slack_socket_mode.py fails."""
        self.client.wss_uri = None
        self._try_failed = True

    async def close(self) -> None:
        self._closed.set()
        self.client.logger.removeFilter(self.quiet)

    async def issue_new_wss_url(self) -> str:
        # Slack's `hello` opens every connection: one replaced without it said nothing
        # (a try that failed to connect is QuietSocketRetries' to say).
        if not (self._hello or self._try_failed):
            self.silent.replaced()
        self._hello = self._try_failed = False
        async with self._lock:
            # The websocket failed with the last URL(s): back off before the next
            # (slack_sdk has already waited a ping interval), as apps.connections.open is
            # a Tier 1 method, about one call a minute.
            if self.quiet.failures:
                await self._pause(self._closed, _backoff(self.quiet.failures))
            failures = 0
            while not self._closed.is_set():
                try:
                    resp = await self.client.web_client.apps_connections_open(
                        app_token=self.client.app_token)
                    url = str(resp["url"])
                except (SlackApiError, *NETWORK_ERRORS) as exc:
                    failures += 1
                    delay = self._failed(exc, failures)
                    await self._pause(self._closed, delay)
                    continue
                if failures:
                    self.connection.set("reconnecting", "apps.connections.open answers again; "
                                        "opening the websocket")
                    log.warning("slack: Socket Mode connection reopened after %s; slash "
                                "commands are answered again", count(failures, "failed attempt"))
                return url
            return ""       # stopped: the SDK's client is closed and connects nothing

    def _failed(self, exc: BaseException, failures: int) -> float:
        """Say why once per outage; the wait before the next try."""
        code, delay = "", _backoff(failures)
        if isinstance(exc, SlackApiError):
            code, (_, headers) = error_code(exc), status_and_headers(exc)
            delay = max(delay, retry_after_of(headers) or 0.0)     # a 429's Retry-After
        # The server's words, for the log and `ainews status`: one short line.
        why = one_line(code or failure_text(exc), 200)
        self.connection.set("reconnecting", "apps.connections.open: " + why)
        if failures > 1:
            log.debug("slack: apps.connections.open failed again (%s); next try in %.0f s",
                      why, delay)
        elif code in TOKEN_REFUSED:
            log.error("slack: Slack refuses SLACK_APP_TOKEN (%s) while reopening the Socket "
                      "Mode connection: slash commands and buttons get no answer meanwhile "
                      "(posts still go out); make a new app-level token with "
                      "connections:write, put it in SLACK_APP_TOKEN and restart. Trying "
                      "again every %.0f min", code, MOST / 60)
        else:
            log.warning("slack: can't reopen the Socket Mode connection (apps.connections."
                        "open: %s); slash commands wait, posts still go out; retrying, "
                        "backing off to every %.0f min", why, MOST / 60)
        return delay

    async def _on_message(self, message) -> None:
        """`hello` opens every connection: the end of an outage, if there was one. A
        `disconnect` envelope: Slack is about to close the connection. The SDK
        reconnects at once; `link_disabled` (Socket Mode turned off for the app) is worth
        a line, since no reconnect can bring commands back until it is turned on again."""
        with contextlib.suppress(TypeError, ValueError, AttributeError):
            data = json.loads(message.data)
            if data.get("type") == "hello":
                self._hello = True
                self.quiet.connected()
            if data.get("type") == "disconnect" and data.get("reason") == "link_disabled":
                log.error("slack: Slack closed the Socket Mode connection (link_disabled: "
                          "Socket Mode was turned off in the app's settings); slash commands "
                          "get no answer until it is turned on again (posts still go out)")


class SilentStreak:
    """Connections the SDK replaced as silent: SILENT_FEW within SILENT_WINDOW seconds
    are said once (until the window passes without one) and shown by `ainews status`
    until a connection says hello (QuietSocketRetries.connected)."""

    def __init__(self, connection, clock=time.monotonic):
        self.connection, self.clock = connection, clock
        self.times: deque[float] = deque()
        self.said = False

    def replaced(self) -> None:
        now = self.clock()
        while self.times and now - self.times[0] > SILENT_WINDOW:
            self.times.popleft()
        self.said = self.said and bool(self.times)   # an empty window ends the streak
        self.times.append(now)
        if len(self.times) < SILENT_FEW:
            return
        self.connection.set("reconnecting", f"Socket Mode connections go silent, replaced "
                            f"{SILENT_FEW} times or more within {SILENT_WINDOW / 60:.0f} min: "
                            "a proxy or firewall may be dropping websocket traffic")
        if not self.said:
            self.said = True
            log.warning("slack: the Socket Mode connection went silent (no answer to pings) "
                        "and was replaced %d times within %.0f min: a proxy or firewall "
                        "between here and Slack is likely dropping websocket traffic (check "
                        "HTTPS_PROXY and the firewall's rules for wss://*.slack.com); slash "
                        "commands may get no answer, posts still go out", len(self.times),
                        SILENT_WINDOW / 60)


class QuietSocketRetries(logging.Filter):
    """slack_sdk's connect loop logs a full traceback at ERROR for each failed try to
    open the Socket Mode websocket (wss-primary.slack.com unreachable, a proxy refusing
    the upgrade), every ping interval for as long as it lasts. On the SDK's logger this
    turns them into one line of ours when the failures start and one when a connection
    is back; the tries in between are debug lines. `spent` is called at each failed try
    (PacedReconnect._url_spent: the next try gets a new URL)."""

    def __init__(self, connection, spent=None):
        super().__init__()
        self.failures, self.connection, self.spent = 0, connection, spent

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Failed to connect"):
            if self.spent is not None:
                self.spent()
            self._failed(_why(record))
            return False
        return True

    def connected(self) -> None:
        """Slack's `hello` on a new connection (the SDK's own line for it is at INFO,
        below the level its logger runs at, so it never reaches this filter)."""
        self.connection.set("connected")
        if self.failures:
            log.warning("slack: Socket Mode connection back after %s; slash commands are "
                        "answered again", count(self.failures, "failed attempt"))
            self.failures = 0

    def _failed(self, why: str) -> None:
        self.failures += 1
        self.connection.set("reconnecting", f"socket mode unreachable: {why}")
        if self.failures == 1:
            log.warning("slack: socket mode unreachable (%s); slash commands wait, posts "
                        "still go out; retrying with a new URL, backing off to every "
                        "%.0f min", why, MOST / 60)
        else:
            log.debug("slack: socket mode still unreachable (%s; attempt %d)", why,
                      self.failures)


def _why(record: logging.LogRecord) -> str:
    """The failure in a few words, without the URL's query (its one-time ticket); one
    short line (the server's text goes into the log and `ainews status`)."""
    exc = record.exc_info[1] if record.exc_info else None
    text = f"{type(exc).__name__}: {exc}" if exc else record.getMessage()
    return one_line(re.sub(r"\?[^\s'\"]*", "", text), 200)


def _backoff(failures: int) -> float:
    """Seconds to wait after `failures` failed tries in a row: FIRST doubling to MOST."""
    return min(MOST, FIRST * 2.0 ** min(failures - 1, 20))


async def _pause(closed: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if the runner stops meanwhile."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(closed.wait(), seconds)
