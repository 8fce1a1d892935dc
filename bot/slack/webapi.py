"""Slack's Web API as the bot uses it: the client, and what each failure means.

Slack answers in three ways that matter to delivery: "try again later" (429 with
Retry-After, 5xx, timeouts) -> TransientError; "this channel can't take posts"
(deleted, archived, bot removed) -> PermanentError, so the channel's subscriptions
pause instead of retrying forever (all but a deleted one's keeping their posts); a payload Slack refuses -> RejectedError. A refused
bot token, or a posting scope the app lacks, is no channel's fault: a TransientError with
down=True (bot/slack/token_watch.py).
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler)
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapter import DeliveryError, PermanentError, RejectedError, TransientError
from feeds.tls import aiohttp_context, cannot_reach

# Error codes that no retry will fix; the text says what the admin should do.
PERMANENT = {
    # Also a public channel made private: the bot, posting there by chat:write.public
    # without being a member, no longer sees it.
    "channel_not_found": "the channel was deleted, or is private without the bot in it: "
                         "/invite @ainews there",
    "not_in_channel": "the bot is not in the channel; invite it with /invite @ainews",
    "is_archived": "the channel is archived",
    "no_permission": "the bot has no permission to post there",
    "restricted_action": "a workspace setting stops the bot posting there",
    # Not in the retry's reach either: these were retried for hours a post, then lost.
    "restricted_action_read_only_channel": "the channel's posting permissions leave the "
                                           "app out; allow it under the channel's settings",
    "restricted_action_thread_only_channel": "the channel takes only replies in threads",
    "team_access_not_granted": "the token has no access to that workspace",
    "ekm_access_denied": "the workspace's key management denied access",
}
# Of those, the channel gone for good (deleted; or private without the bot, which Slack
# does not tell apart): its posts fail. Every other the workspace's admins can fix, so
# the channel's posts are kept for /subscribe's resume (bot/kept_posts.py).
GONE = {"channel_not_found"}
# The bot's token refused: no channel can take posts, but none is at fault either, so
# nothing is paused or given up; posts wait while the adapter re-checks the token.
TOKEN_REFUSED = {
    "invalid_auth": "SLACK_BOT_TOKEN is not valid",
    "not_authed": "no SLACK_BOT_TOKEN was sent",
    "account_inactive": "the bot's account was deactivated",
    "token_revoked": "the bot token was revoked; reinstall the app",
    "token_expired": "the bot token expired; reinstall the app",
}
TOKEN_RECHECK = 600.0   # seconds between posts that try a refused token again
# Posting needs chat:write in every channel alike: a missing scope there is the app's
# setup, not a channel's, so it holds every post as a refused token does (pausing each
# channel in turn lost their posts and asked a /subscribe again in each once fixed).
POSTING_METHODS = ("chat.postMessage", "chat.update")
# Slack moving the workspace into an Enterprise Grid org, for hours: no post is at fault,
# and each one given up after its eight tries (~12 h) was lost. Held the same way.
WORKSPACE_MOVING = ("team_added_to_org", "org_login_required")
# chat.update on a message that is gone or can no longer be edited.
GONE_MESSAGE = ("message_not_found", "cant_update_message", "edit_window_closed")
# Our payload was refused: no retry of it can succeed (bot/slack/adapter.py posts a
# brief's plain text instead). msg_blocks_too_long, blocks too long in all, is in no
# method's docs (slackapi/bolt-js#2509, #2867); unknown, it was retried for hours.
PAYLOAD_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long",
                  "msg_blocks_too_long", "invalid_arguments", "invalid_metadata_format",
                  "no_text", "too_many_attachments", "invalid_attachments"}

NETWORK_ERRORS = (asyncio.TimeoutError, TimeoutError, aiohttp.ClientError, SlackClientError,
                  OSError)



class _SafeConnectionRetry(AsyncConnectionErrorRetryHandler):
    """The SDK's retry on a dropped connection, except for chat.postMessage: a drop after
    Slack took the post would post it twice. Delivery's own retry asks find_sent first."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if request.url.split("?", 1)[0].endswith("/chat.postMessage"):
            return False
        return await super()._can_retry_async(state=state, request=request,
                                              response=response, error=error)


def make_client(token: str, api_url: str = "https://slack.com/api/", *,
                timeout: float = 15.0, rate_limit_retries: int = 1,
                shared_session: bool = False, proxy: str | None = None,
                ca_file: str | Path | None = None) -> AsyncWebClient:
    """The one Web API client shape the bot uses (base_url: GovSlack and test doubles).
    `proxy`: Settings.proxies' choice for api_url; `ca_file`: AINEWS_CA_FILE, trusted
    besides the system's CAs. Socket Mode and bolt's respond() take the client's both."""
    base = api_url if api_url.endswith("/") else api_url + "/"
    handlers = [_SafeConnectionRetry(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries)]
    # shared_session (call it in a running loop): one keep-alive session for the bot's
    # life instead of a connection and TLS handshake per call. The SDK applies `timeout`
    # only to sessions it makes itself, so a shared one must carry it.
    session = (aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
               if shared_session else None)
    client = AsyncWebClient(token=token, base_url=base, timeout=timeout,  # type: ignore[arg-type]
                            retry_handlers=handlers, session=session, proxy=proxy,
                            ssl=aiohttp_context(ca_file))
    # Set after: given None, the SDK reads HTTPS_PROXY itself, NO_PROXY ignored.
    client.proxy = proxy
    return client


def failure_text(exc: BaseException) -> str:
    """A network failure in one line: a refused certificate as the feeds say it, with
    the setting that trusts a company's CA; else its type and words."""
    return cannot_reach(exc)[0]


def status_and_headers(exc: SlackApiError) -> tuple[int | None, dict]:
    resp = exc.response
    status = getattr(resp, "status_code", None) or getattr(resp, "status", None)
    return status, dict(getattr(resp, "headers", None) or {})


def retry_after_of(headers: dict) -> float | None:
    for k, v in headers.items():
        if k.lower() == "retry-after":
            try:
                return float(v[0] if isinstance(v, (list, tuple)) else v)
            except (TypeError, ValueError):
                return None
    return None


def error_code(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error") or "")
    except (AttributeError, TypeError):
        return ""


def held_for(exc: SlackApiError) -> tuple[str, str]:
    """(what Slack refuses, what fixes it) for an answer that holds every post: a refused
    token, a workspace on the move, or a posting scope missing, named as Slack's
    "needed" names it."""
    code = error_code(exc)
    if code in TOKEN_REFUSED:
        return f"{code}: {TOKEN_REFUSED[code]}", "fix SLACK_BOT_TOKEN and restart"
    if code in WORKSPACE_MOVING:
        return (f"{code}: Slack is moving the workspace into an Enterprise Grid org",
                "nothing to do, they go out once the move is done")
    try:
        needed = str(exc.response.get("needed") or "chat:write")[:100]
    except (AttributeError, TypeError):
        needed = "chat:write"
    return (f"{code}: the app lacks the {needed} scope",
            f"add {needed} to its Bot Token Scopes (slack-manifest.yml lists it) and "
            "reinstall the app")


def classify_error(exc: BaseException, method: str, channel: str) -> DeliveryError:
    """Any failure of a Web API call -> TransientError, PermanentError or RejectedError."""
    where = f"slack: {method} to {channel}"
    if isinstance(exc, SlackApiError):
        status, headers = status_and_headers(exc)
        code = error_code(exc)
        if status == 429 or code == "ratelimited":
            wait = retry_after_of(headers)
            return TransientError(f"{where} rate-limited (retry after {wait} s)", wait)
        if code in TOKEN_REFUSED:
            return TransientError(f"{where} failed: {code}: {TOKEN_REFUSED[code]}; posts "
                                  "wait until the token works", TOKEN_RECHECK, down=True)
        if code in WORKSPACE_MOVING:
            return TransientError(f"{where} failed: {held_for(exc)[0]}; posts wait until "
                                  "it is done", TOKEN_RECHECK, down=True)
        if code == "missing_scope" and method in POSTING_METHODS:
            return TransientError(f"{where} failed: {held_for(exc)[0]}; posts wait until "
                                  "the app has it", TOKEN_RECHECK, down=True)
        if code in PERMANENT:
            return PermanentError(f"{where} failed: {code}: {PERMANENT[code]}",
                                  fixable=code not in GONE)
        if code in PAYLOAD_ERRORS:
            return RejectedError(f"{where} refused the message: {code}")
        if status and status >= 500:
            return TransientError(f"{where} failed: HTTP {status}")
        return TransientError(f"{where} failed: {code or f'HTTP {status}'}")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return TransientError(f"{where} timed out")
    return TransientError(f"{where} failed: {failure_text(exc)}")
