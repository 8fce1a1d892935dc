"""The delivery Adapter for Slack: briefs and digests -> chat.postMessage / chat.update.

Slack answers in three ways that matter to delivery: "try again later" (429 with
Retry-After, 5xx, timeouts) -> TransientError; "this channel can't take posts"
(deleted, archived, bot removed) -> PermanentError, so the channel's subscriptions
pause instead of retrying forever. A refused bot token (revoked, expired, invalid) is
no channel's fault: it is a TransientError with down=True, the adapter reports itself
not ready, and every channel's posts wait for the token to work, instead of every
subscription pausing one by one (and needing a re-subscribe each once it is fixed). A payload Slack refuses (invalid_blocks,
msg_too_long, ...) is retried once as plain text; if that is refused too it is
RejectedError: that post fails and the channel goes on.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any, Sequence

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler)
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapter import DeliveryError, PermanentError, RejectedError, TransientError
from bot.slack import render
from feeds.models import Brief

log = logging.getLogger("ainews.slack")

# Error codes that no retry will fix; the text says what the admin should do.
PERMANENT = {
    "channel_not_found": "the channel is gone or the bot can't see it",
    "not_in_channel": "the bot is not in the channel; invite it with /invite @ainews",
    "is_archived": "the channel is archived",
    "missing_scope": "the app lacks a scope (chat:write); reinstall it from slack-manifest.yml",
    "no_permission": "the bot has no permission to post there",
    "restricted_action": "a workspace setting stops the bot posting there",
    "team_access_not_granted": "the token has no access to that workspace",
    "ekm_access_denied": "the workspace's key management denied access",
}
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
# chat.update on a message that is gone or can no longer be edited.
GONE_MESSAGE = ("message_not_found", "cant_update_message", "edit_window_closed")
# Our payload was refused: post the plain fallback text once rather than nothing.
PAYLOAD_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long",
                  "invalid_arguments", "invalid_metadata_format", "no_text",
                  "too_many_attachments", "invalid_attachments"}

# find_sent: how far back a retry looks for its own earlier post (pages of 200 since the
# first attempt, at most 1,000 messages), and the answers that mean "can't look" (post
# anyway) rather than "try later".
HISTORY_PAGE, HISTORY_PAGES = 200, 5
CLOCK_SKEW = 300.0          # seconds: our clock against the ts Slack stamps on messages
FIRST_TRIES_KEPT = 10_000   # first-attempt times remembered for posts not yet confirmed
HISTORY_UNREADABLE = {"missing_scope", "not_in_channel", "channel_not_found",
                      "no_permission", "restricted_action"}

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
                shared_session: bool = False) -> AsyncWebClient:
    """The one Web API client shape the bot uses (base_url: GovSlack and test doubles)."""
    base = api_url if api_url.endswith("/") else api_url + "/"
    handlers = [_SafeConnectionRetry(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries)]
    # shared_session (call it in a running loop): one keep-alive session for the bot's
    # life instead of a connection and TLS handshake per call. The SDK applies `timeout`
    # only to sessions it makes itself, so a shared one must carry it.
    session = (aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
               if shared_session else None)
    return AsyncWebClient(token=token, base_url=base, timeout=timeout,  # type: ignore[arg-type]
                          retry_handlers=handlers, session=session)


def split_id(channel: str, message_id: str) -> tuple[str, str]:
    """Message ids are "CHANNEL:ts"; a bare ts means the given channel."""
    if ":" in message_id:
        ch, ts = message_id.split(":", 1)
        return ch or channel, ts
    return channel, message_id


def _status_and_headers(exc: SlackApiError) -> tuple[int | None, dict]:
    resp = exc.response
    status = getattr(resp, "status_code", None) or getattr(resp, "status", None)
    return status, dict(getattr(resp, "headers", None) or {})


def _retry_after(headers: dict) -> float | None:
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


def classify_error(exc: BaseException, method: str, channel: str) -> DeliveryError:
    """Any failure of a Web API call -> TransientError, PermanentError or RejectedError."""
    where = f"slack: {method} to {channel}"
    if isinstance(exc, SlackApiError):
        status, headers = _status_and_headers(exc)
        code = error_code(exc)
        if status == 429 or code == "ratelimited":
            wait = _retry_after(headers)
            return TransientError(f"{where} rate-limited (retry after {wait} s)", wait)
        if code in TOKEN_REFUSED:
            return TransientError(f"{where} failed: {code}: {TOKEN_REFUSED[code]}; posts "
                                  "wait until the token works", TOKEN_RECHECK, down=True)
        if code in PERMANENT:
            return PermanentError(f"{where} failed: {code}: {PERMANENT[code]}")
        if code in PAYLOAD_ERRORS:
            return RejectedError(f"{where} refused the message: {code}")
        if status and status >= 500:
            return TransientError(f"{where} failed: HTTP {status}")
        return TransientError(f"{where} failed: {code or f'HTTP {status}'}")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return TransientError(f"{where} timed out")
    return TransientError(f"{where} failed: {type(exc).__name__}: {exc}")


class SlackAdapter:
    """Adapter (bot/adapter.py) for Slack. Message ids are "CHANNEL:ts"."""
    platform = "slack"
    min_interval = 1.0
    # Workspace-wide budget for chat.postMessage ("several hundred per minute"): 5/s with
    # a burst of 30, a little under it, so fan-out queues instead of provoking 429s.
    max_rate, burst = 4.95, 30

    def __init__(self, client: AsyncWebClient, *, clock=time.monotonic):
        self.client, self.clock = client, clock
        self._warned_history: set[str] = set()
        self._bot_id: str | None = None
        self._first_try: dict[str, float] = {}   # nonce -> when this process first posted
        self._refused: str | None = None         # why Slack refuses the token, if it does
        self._next_try = 0.0                     # clock() when one post may try it again
        self._probe: str | None = None

    def ready(self) -> bool:
        """False while Slack refuses the bot token: delivery leaves the posts waiting.
        Every TOKEN_RECHECK seconds one post is let through to try it again (a token
        can't be replaced while running, but Slack's own auth outages pass)."""
        return self._refused is None or self.clock() >= self._next_try

    def _recheck(self, method: str, channel: str) -> None:
        """While the token is refused, one channel's attempt per TOKEN_RECHECK asks Slack."""
        if self._refused is None:
            return
        if self.clock() >= self._next_try:
            self._next_try, self._probe = self.clock() + TOKEN_RECHECK, channel
        elif channel != self._probe:
            raise TransientError(f"slack: {method} to {channel}: the bot token is refused "
                                 f"({self._refused}); waiting", TOKEN_RECHECK, down=True)

    async def send(self, channel: str, brief: Brief, *, nonce: str) -> str:
        payload = render.brief_message(brief)
        return await self._post(channel, payload, nonce=nonce, kind="brief")

    async def edit(self, channel: str, message_id: str, brief: Brief) -> None:
        ch, ts = split_id(channel, message_id)
        payload = render.brief_message(brief)
        try:
            await self._call("chat.update", self.client.chat_update,
                             {"channel": ch, "ts": ts, **_for_update(payload)})
        except TransientError as exc:
            # Someone deleted the post: nothing left to update, and no reason to pause.
            if not any(code in exc.reason for code in GONE_MESSAGE):
                raise
            log.info("slack: not updating %s in %s: %s", ts, ch, exc.reason)

    async def send_digest(self, channel: str, title: str, briefs: Sequence[Brief],
                          *, nonce: str) -> str:
        payload = render.digest_message(title, briefs)
        return await self._post(channel, payload, nonce=nonce, kind="digest")

    async def find_sent(self, channel: str, nonce: str, *,
                        since: datetime | float | None = None) -> str | None:
        """Our post carrying `nonce`, among the channel's messages since `since` (default:
        this process's first attempt at the post; after a restart, the latest ones), in
        pages, at most HISTORY_PAGES of them. Slack has no idempotency key, so this is how
        a retry learns that Slack took the post before a crash or timeout. Needs
        channels:history (groups:history for private channels); without it the answer is
        None and the retry posts."""
        bot_id = await self._own_bot_id()
        args = {"channel": channel, "limit": HISTORY_PAGE, "include_all_metadata": True}
        start = since.timestamp() if isinstance(since, datetime) else since
        start = self._first_try.get(nonce) if start is None else start
        if start is not None:
            args["oldest"] = f"{max(0.0, start - CLOCK_SKEW):.6f}"
        for _ in range(HISTORY_PAGES):
            resp = await self._history(args)
            if resp is None:
                return None
            for message in resp.get("messages") or []:
                # Another app could post our metadata; only our own bot's post counts.
                if _nonce_of(message) == nonce and message.get("bot_id") == bot_id:
                    return f"{channel}:{message['ts']}"
            args["cursor"] = (resp.get("response_metadata") or {}).get("next_cursor") or ""
            if not (resp.get("has_more") and args["cursor"]):
                return None
        log.warning("slack: looked for %s in the latest %d messages of %s and stopped there; "
                    "if Slack took it earlier, it may appear twice", nonce,
                    HISTORY_PAGE * HISTORY_PAGES, channel)
        return None

    async def _history(self, args: dict) -> Any:
        """One page of conversations.history, or None when Slack won't let us read it."""
        channel = args["channel"]
        self._recheck("conversations.history", channel)
        try:
            return await self.client.conversations_history(**args)
        except SlackApiError as exc:
            error = self._error(exc, "conversations.history", channel)
            # A lookup Slack refuses says nothing of the post: a RejectedError here would
            # fail a post that was never refused.
            if error_code(exc) in HISTORY_UNREADABLE or isinstance(error, RejectedError):
                self._history_unreadable(channel, error_code(exc))
                return None
            raise error from exc
        except NETWORK_ERRORS as exc:
            raise classify_error(exc, "conversations.history", channel) from exc

    async def _own_bot_id(self) -> str:
        """The bot's id (auth.test, asked once), to tell our posts from others'."""
        if self._bot_id is None:
            try:
                self._bot_id = str((await self.client.auth_test()).get("bot_id") or "")
            except (SlackApiError, *NETWORK_ERRORS) as exc:
                raise self._error(exc, "auth.test", "the workspace") from exc
        return self._bot_id

    def _history_unreadable(self, channel: str, code: str) -> None:
        # Once per kind of answer: each has its own fix.
        if code in self._warned_history:
            return
        self._warned_history.add(code)
        fix = (f"invite the bot to {channel} (/invite @ainews): posting through "
               "chat:write.public needs no membership, but reading history does"
               if code == "not_in_channel" else "add the channels:history and "
               "groups:history scopes (slack-manifest.yml)")
        log.warning("slack: can't read the history of %s (%s), so a post retried after a "
                    "crash or timeout may appear twice; %s to close the gap",
                    channel, code or "refused", fix)

    async def _post(self, channel: str, payload: dict, *, nonce: str, kind: str) -> str:
        # Slack has no idempotency key: the nonce rides along in metadata, so find_sent
        # can recognise the post when a retry asks.
        meta = {"event_type": f"ainews_{kind}", "event_payload": {"nonce": nonce}}
        self._remember_first_try(nonce)
        resp = await self._call("chat.postMessage", self.client.chat_postMessage,
                                {"channel": channel, "metadata": meta, **payload})
        self._first_try.pop(nonce, None)     # confirmed: no retry will ask find_sent
        return f"{resp.get('channel') or channel}:{resp['ts']}"

    def _remember_first_try(self, nonce: str) -> None:
        # find_sent reads history back to here, not through the whole channel.
        if nonce not in self._first_try and len(self._first_try) >= FIRST_TRIES_KEPT:
            del self._first_try[next(iter(self._first_try))]
        self._first_try.setdefault(nonce, time.time())

    async def _call(self, method: str, fn, kwargs: dict) -> Any:
        channel = kwargs["channel"]
        self._recheck(method, channel)
        try:
            answer = await fn(**kwargs)
        except SlackApiError as exc:
            if error_code(exc) in PAYLOAD_ERRORS:
                log.warning("slack: %s to %s refused the blocks (%s); posting plain text",
                            method, channel, error_code(exc))
                return await self._plain_retry(method, channel, fn, kwargs, error_code(exc))
            raise self._error(exc, method, channel) from exc
        except NETWORK_ERRORS as exc:
            raise classify_error(exc, method, channel) from exc
        self._token_accepted()
        return answer

    def _error(self, exc: BaseException, method: str, channel: str) -> DeliveryError:
        """classify_error, noting a refused token so delivery holds every channel's posts."""
        error = classify_error(exc, method, channel)
        code = error_code(exc)
        if code in TOKEN_REFUSED:
            if self._refused is None:
                log.error("slack: Slack refuses the bot token (%s: %s); posts to Slack wait "
                          "(none is lost) and one tries again every %.0f min: fix "
                          "SLACK_BOT_TOKEN and restart", code, TOKEN_REFUSED[code],
                          TOKEN_RECHECK / 60)
            self._refused, self._next_try = code, self.clock() + TOKEN_RECHECK
        return error

    def _token_accepted(self) -> None:
        if self._refused is not None:
            self._refused = None
            log.warning("slack: Slack accepts the bot token again; posts resume")

    async def _plain_retry(self, method: str, channel: str, fn, kwargs: dict,
                           code: str = "") -> Any:
        # The metadata stays (find_sent needs its nonce) unless it was what Slack refused.
        dropped = ("blocks", "metadata") if code == "invalid_metadata_format" else ("blocks",)
        kwargs = {k: v for k, v in kwargs.items() if k not in dropped}
        kwargs["text"] = render.fit(kwargs.get("text") or " ", render.MAX_SECTION)
        try:
            return await fn(**kwargs)
        except SlackApiError as exc:
            raise self._error(exc, method, channel) from exc
        except NETWORK_ERRORS as exc:
            raise classify_error(exc, method, channel) from exc


def _nonce_of(message: dict) -> str | None:
    meta = message.get("metadata") or {}
    if not str(meta.get("event_type", "")).startswith("ainews_"):
        return None
    return (meta.get("event_payload") or {}).get("nonce")


def _for_update(payload: dict) -> dict:
    # chat.update takes no unfurl_* arguments; the original post's settings stay.
    return {k: v for k, v in payload.items() if not k.startswith("unfurl_")}
