"""Runs the Slack side of the bot inside the bot's event loop.

Socket Mode when SLACK_APP_TOKEN is set (no public URL needed); otherwise HTTP mode on
AINEWS_HTTP_PORT at /slack/events, where bolt checks every request's signature. Both
modes run the same listeners (bot/slack/listeners.py). slack_bolt is imported here,
inside start_slack, so `ainews --help` and the console path never load it.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.errors import StartUnavailable

log = logging.getLogger("ainews.slack")


def _not_token_skipped(record: logging.LogRecord) -> bool:
    """bolt reads SLACK_BOT_TOKEN from the environment itself and, since we hand it a
    client made from our settings, warns at every start that the token is unused."""
    return "`token` will be unused" not in record.getMessage()


# bolt gives each of its loggers the root's level (INFO) when it makes them, unless it is
# handed a logger to copy instead: then bot/logs.py's quiet "slack_bolt" (WARNING) holds,
# and a stranger's badly signed request is not logged at INFO with its whole body.
BOLT_LOG = logging.getLogger("slack_bolt")
BOLT_LOG.addFilter(_not_token_skipped)


# Error codes Slack answers for its own trouble, not for our token (api.slack.com/web);
# the last two while it moves the workspace into an Enterprise Grid org (webapi.py).
SLACK_TROUBLE = {"ratelimited", "fatal_error", "internal_error", "service_unavailable",
                 "request_timeout", "team_added_to_org", "org_login_required"}


class SlackStartError(Exception):
    """Slack could not start; str() is one line saying what to fix."""


class SlackUnavailable(SlackStartError, StartUnavailable):
    """Slack could not be reached, or was in trouble (5xx, 429): `ainews run` retries."""


@dataclass
class SlackRunner:
    """What start_slack hands back: the delivery adapter, and stop()."""
    adapter: Any                      # bot.slack.adapter.SlackAdapter
    app: Any                          # slack_bolt AsyncApp
    client: Any                       # slack_sdk AsyncWebClient
    mode: str                         # "socket" | "http"
    team_id: str = ""
    bot_user_id: str = ""
    http_port: int | None = None      # the bound port in HTTP mode (useful when 0 was asked)
    listening: str = ""               # HTTP mode: "0.0.0.0:3000 at /slack/events"
    _closers: list = field(default_factory=list, repr=False)

    async def stop(self) -> None:
        """Close connections and servers; safe to call twice."""
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            try:
                await close()
            except Exception as exc:  # noqa: BLE001 - shutting down: log and go on
                log.warning("slack: error while stopping: %s: %s", type(exc).__name__, exc)
        await _close_client_session(self.client)


async def start_slack(settings: Settings, commands, *, connect_timeout: float = 30.0,
                      admin_cache_seconds: float = 300.0,
                      ping_interval: float = 10.0, http_host: str = "0.0.0.0",
                      connection=None) -> SlackRunner:
    """Connect to Slack in the running loop and return at once (no blocking serve).

    Raises SlackStartError (one line: what to fix) when a token is refused, and its
    subclass SlackUnavailable when Slack can't be reached or is in trouble (retry)."""
    from bot.slack.webapi import make_client

    if not settings.slack_bot_token:
        raise SlackStartError("slack: SLACK_BOT_TOKEN is not set")
    # One session for the bot's life: without it every Web API call opens (and TLS-
    # handshakes) a connection of its own, a fan-out to 5,000 channels 5,000 of them.
    client = make_client(settings.slack_bot_token, settings.slack_api_url,
                         shared_session=True,
                         proxy=settings.proxies.url_for(settings.slack_api_url),
                         ca_file=settings.ca_file)
    try:
        return await _connect(settings, commands, client, connect_timeout,
                              admin_cache_seconds, ping_interval, http_host, connection)
    except BaseException:
        await _close_client_session(client)
        raise


async def _connect(settings: Settings, commands, client, connect_timeout: float,
                   admin_cache_seconds: float, ping_interval: float,
                   http_host: str, connection=None) -> SlackRunner:
    from slack_bolt.async_app import AsyncApp

    from bot.slack.adapter import SlackAdapter
    from bot.slack.admin_check import AdminCheck
    from bot.slack.listeners import register

    identity = await _check_bot_token(client, settings.slack_api_url)
    # signing_secret "" (not None) so bolt doesn't read the environment itself
    # Not named "ainews": bolt configures a logger by the app's name at every request,
    # which would give ours (the "ainews" hierarchy) slack_bolt's WARNING level.
    app = AsyncApp(name="ainews-slack", client=client, logger=BOLT_LOG,
                   signing_secret=settings.slack_signing_secret or "")
    home = (str(identity.get("team_id") or ""), str(identity.get("enterprise_id") or ""))
    register(app, commands, AdminCheck(client, settings.slack_admin_user_ids,
                                       ttl=admin_cache_seconds, home=home))
    runner = SlackRunner(adapter=SlackAdapter(client, connection=connection), app=app,
                         client=client, mode="",
                         team_id=identity.get("team_id", ""),
                         bot_user_id=identity.get("user_id", ""))
    if settings.slack_app_token:
        await _start_socket_mode(runner, settings.slack_app_token, connect_timeout,
                                 ping_interval, settings.slack_api_url, connection)
    elif settings.slack_signing_secret:
        from bot.slack.http_mode import start_http
        await start_http(runner, http_host, settings.http_port, settings.slack_signing_secret)
    else:
        raise SlackStartError("slack: set SLACK_APP_TOKEN (Socket Mode) or "
                              "SLACK_SIGNING_SECRET (HTTP mode) as well as SLACK_BOT_TOKEN")
    log.info("slack: connected to team %s as %s (%s)", runner.team_id,
             runner.bot_user_id, _mode_said(runner))
    return runner


def _mode_said(runner: SlackRunner) -> str:
    """'socket mode', or 'http mode, listening on ...': the port the proxy must reach."""
    if runner.mode == "http" and runner.listening:
        return f"http mode, listening on {runner.listening}"
    return f"{runner.mode} mode"


async def _check_bot_token(client, api_url: str) -> dict:
    """auth.test up front: a wrong token fails start-up in one clear line."""
    from slack_sdk.errors import SlackApiError

    from bot.slack.webapi import NETWORK_ERRORS
    try:
        return dict((await client.auth_test()).data)
    except SlackApiError as exc:
        raise _api_failure(exc, "SLACK_BOT_TOKEN", "copy the Bot User OAuth Token (xoxb-...) "
                           "from the app's settings", api_url) from None
    except NETWORK_ERRORS as exc:
        raise _unreachable(exc, api_url) from None


def _api_failure(exc, token_name: str, hint: str, api_url: str) -> SlackStartError:
    """A refused token says which and what to do; an outage (5xx, 429, a proxy's error
    page) says so instead of sending the admin off to replace a good token."""
    from bot.slack.webapi import error_code, retry_after_of, status_and_headers
    code = error_code(exc)
    status, headers = status_and_headers(exc)
    trouble = code in SLACK_TROUBLE or bool(status and (status >= 500 or status == 429))
    if code and not trouble:
        return SlackStartError(f"slack: {token_name} was refused ({code}); {hint}")
    answer = f"{api_url} answered HTTP {status} ({code or 'no error code'})"
    message = (f"slack: {answer}; Slack may be having trouble: try again later, or check "
               "SLACK_API_URL")
    if not trouble:     # e.g. a 404: SLACK_API_URL is not Slack's API
        return SlackStartError(message)
    return SlackUnavailable(message, reason=answer, retry_after=retry_after_of(headers))


def _unreachable(exc: BaseException, api_url: str) -> SlackStartError:
    import aiohttp

    from feeds.tls import cannot_reach
    if isinstance(exc, aiohttp.InvalidURL):     # no retry can mend the URL itself
        return SlackStartError(f"slack: SLACK_API_URL {api_url} is not a usable URL ({exc})")
    reason, ca_is_fix = cannot_reach(exc, api_url)
    # A certificate no CA here vouches for: the CA to trust is the fix, not the network.
    check = "" if ca_is_fix else "; check SLACK_API_URL and the network"
    return SlackUnavailable(f"slack: {reason}{check}", reason=reason)


async def _start_socket_mode(runner: SlackRunner, app_token: str, timeout: float,
                             ping_interval: float, api_url: str, connection=None) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.slack.envelopes import run_once_each
    from bot.slack.reconnect import PacedReconnect
    from bot.slack.webapi import NETWORK_ERRORS

    handler = AsyncSocketModeHandler(runner.app, app_token, web_client=runner.client,
                                     ping_interval=ping_interval, proxy=runner.client.proxy)
    run_once_each(handler)     # an envelope Slack sends again is not run again
    handler.client.proxy = runner.client.proxy   # as make_client: None is no proxy
    runner._closers.append(handler.close_async)
    runner.mode = "socket"
    try:
        handler.client.wss_uri = await _socket_mode_url(handler.client)
        await asyncio.wait_for(handler.connect_async(), timeout)
    except BaseException as exc:    # a cancelled start-up, too, leaves nothing open
        await runner.stop()
        if isinstance(exc, SlackApiError):
            raise _api_failure(exc, "SLACK_APP_TOKEN", "it must be an app-level token "
                               "(xapp-...) with connections:write", api_url) from None
        if isinstance(exc, asyncio.TimeoutError):
            reason = f"no Socket Mode connection after {timeout:g} s"
            raise SlackUnavailable(f"slack: {reason}; check SLACK_APP_TOKEN and the network",
                                   reason=reason) from None
        if isinstance(exc, NETWORK_ERRORS):
            raise _unreachable(exc, api_url) from None
        raise
    # From now on the SDK reconnects by itself; this paces it and says why it can't.
    runner._closers.append(PacedReconnect(handler.client, connection).install().close)


async def _socket_mode_url(socket_client) -> str:
    """apps.connections.open, asked ourselves: the SDK's issue_new_wss_url would retry a
    refused app token forever, and logs Slack's whole answer at ERROR before our one
    line says what to fix. Later reconnects still go through the SDK (reconnect.py)."""
    opened = await socket_client.web_client.apps_connections_open(
        app_token=socket_client.app_token)
    return opened["url"]


async def _close_client_session(client) -> None:
    # AsyncWebClient opens a session per call unless given one; nothing to close then.
    session = getattr(client, "session", None)
    if session is not None and not session.closed:
        await session.close()
