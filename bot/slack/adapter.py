"""The delivery Adapter for Slack: briefs and digests -> chat.postMessage / chat.update.

What Slack's answers mean is bot/slack/webapi.py's. A refused bot token holds every
channel's posts (bot/slack/token_watch.py); a retry asks find_sent (bot/slack/history.py)
whether Slack took the post already. A brief whose blocks Slack refuses (invalid_blocks,
msg_too_long, ...) is retried once as plain text with its link; if that is refused too
it is RejectedError: that post fails and the channel goes on. A refused roundup of
several, or a refused edit, is RejectedError at once: delivery posts the roundup in
halves, and lets the first post stand.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapter import TransientError
from bot.first_tries import FirstTries
from bot.slack import render, render_roundup
from bot.slack.history import SentLookup, post_metadata
from bot.slack.token_watch import TokenWatch
from bot.slack.webapi import (GONE_MESSAGE, NETWORK_ERRORS, PAYLOAD_ERRORS, classify_error,
                              error_code)
from feeds.models import Brief

log = logging.getLogger("ainews.slack")

def split_id(channel: str, message_id: str) -> tuple[str, str]:
    """Message ids are "CHANNEL:ts"; a bare ts means the given channel."""
    if ":" in message_id:
        ch, ts = message_id.split(":", 1)
        return ch or channel, ts
    return channel, message_id


class SlackAdapter(TokenWatch, SentLookup):
    """Adapter (bot/adapter.py) for Slack. Message ids are "CHANNEL:ts". The token's
    state is bot.slack.token_watch's, find_sent bot.slack.history's."""
    platform = "slack"
    min_interval = 1.0
    # Workspace-wide budget for chat.postMessage ("several hundred per minute"): 5/s with
    # a burst of 30, a little under it, so fan-out queues instead of provoking 429s.
    max_rate, burst = 4.95, 30

    def __init__(self, client: AsyncWebClient, *, clock=time.monotonic, connection=None):
        self.client, self.clock = client, clock
        self.connection = connection     # bot/connections.py: `ainews status` sees a hold
        self._warned_history: set[tuple[str, str]] = set()   # (channel, Slack's answer)
        self._bot_id: str | None = None
        self._first_try = FirstTries()           # when this process first tried a post
        self._refused: str | None = None         # why Slack refuses the token, if it does
        self._next_try = 0.0                     # clock() when one post may try it again
        self._probe: str | None = None

    async def send(self, channel: str, brief: Brief, *, nonce: str) -> str:
        payload = render.brief_message(brief)
        return await self._post(channel, payload, post_metadata("brief", nonce, [brief]),
                                plain=render.plain_brief(brief))

    async def edit(self, channel: str, message_id: str, brief: Brief) -> None:
        ch, ts = split_id(channel, message_id)
        payload = render.brief_message(brief)
        try:
            # No plain retry: chat.update keeps the blocks an update leaves out, so the
            # text would change nothing shown. Refused, the edit is dropped and the first
            # post stands (RejectedError), as on Discord.
            await self._call("chat.update", self.client.chat_update,
                             {"channel": ch, "ts": ts, **_for_update(payload)})
        except TransientError as exc:
            # Someone deleted the post: nothing left to update, and no reason to pause.
            if not any(code in exc.reason for code in GONE_MESSAGE):
                raise
            log.info("slack: not updating %s in %s: %s", ts, ch, exc.reason)

    async def send_digest(self, channel: str, title: str, briefs: Sequence[Brief],
                          *, nonce: str) -> str:
        # A roundup as plain text would be its count alone ("Roundup: 10 stories"),
        # taken by Slack and every story recorded as posted. Refused, it is RejectedError:
        # delivery posts it in halves (bot/roundups.py), blocks and all, down to single
        # stories, which do have a plain form with their link.
        payload = render_roundup.digest_message(title, briefs)
        plain = render.plain_brief(briefs[0]) if len(briefs) == 1 else None
        return await self._post(channel, payload, post_metadata("digest", nonce, briefs),
                                plain=plain)

    async def _post(self, channel: str, payload: dict, meta: dict, *,
                    plain: str | None) -> str:
        # Slack has no idempotency key: the nonce and the stories ride along in metadata,
        # so find_sent can recognise the post when a retry asks.
        nonce = meta["event_payload"]["nonce"]
        self._first_try.remember(nonce)
        resp = await self._call("chat.postMessage", self.client.chat_postMessage,
                                {"channel": channel, "metadata": meta, **payload}, plain=plain)
        self._first_try.forget(nonce)     # confirmed: no retry will ask find_sent
        return f"{resp.get('channel') or channel}:{resp['ts']}"

    async def _call(self, method: str, fn, kwargs: dict, *, plain: str | None = None) -> Any:
        """One Web API call; `plain`: the text to post instead if Slack refuses the blocks
        (None: no plain retry, the refusal is RejectedError)."""
        channel = kwargs["channel"]
        self._recheck(method, channel)
        try:
            answer = await fn(**kwargs)
        except SlackApiError as exc:
            if error_code(exc) in PAYLOAD_ERRORS and plain is not None:
                log.warning("slack: %s to %s refused the blocks (%s); posting plain text",
                            method, channel, error_code(exc))
                return await self._plain_retry(method, channel, fn, {**kwargs, "text": plain},
                                               error_code(exc))
            raise self._error(exc, method, channel) from exc
        except NETWORK_ERRORS as exc:
            raise classify_error(exc, method, channel) from exc
        self._token_accepted()
        return answer

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


def _for_update(payload: dict) -> dict:
    # chat.update takes no unfurl_* arguments; the original post's settings stay.
    return {k: v for k, v in payload.items() if not k.startswith("unfurl_")}
