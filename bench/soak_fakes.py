"""The test suite's fake Discord and fake Slack, with the fault switches the soak needs.

Subclasses rather than edits, so the shared fakes keep their tested behaviour:
- a time window of 5xx answers to posts (a burst, not a count: real outages last),
- slow answers past the client's timeout, the post accepted late all the same (the
  worst case: Discord's nonce must absorb it; on Slack, which has no idempotency key,
  the retry must find the post by its metadata nonce in conversations.history),
- 429 storms, Discord's with and without `global`,
- channel deletion (Discord 10003 Unknown Channel, Slack channel_not_found).
"""
from __future__ import annotations

import asyncio
import json
import re
import time

from aiohttp import web

from tests.fakes.discord import FakeDiscord, Failure, _json
from tests.fakes.slack import Call, FakeSlack

POST_MESSAGES = re.compile(r"/channels/\d+/messages")
# Discord remembers a post's nonce "in the past few minutes" only; the bot trusts it for
# 2 (bot/discord/history.py). Forgotten here too, or a retry minutes later (a held
# roundup, a restart) would be deduplicated by a memory Discord does not have.
NONCE_MEMORY = 180.0


class Window:
    """A fault that is on from now for `seconds` (monotonic clock); `until_met`: and
    after that until a post has met it (the capped soak's channels post a few times an
    hour, so a few seconds' fault would most often meet nothing)."""

    def __init__(self) -> None:
        self.until = 0.0
        self.hits = 0
        self._unmet: int | None = None      # hits when opened until met

    def open(self, seconds: float, *, until_met: bool = False) -> None:
        self.until = time.monotonic() + seconds
        self._unmet = self.hits if until_met else None

    def close(self) -> None:
        self.until, self._unmet = 0.0, None

    def active(self) -> bool:
        return time.monotonic() < self.until or self._unmet == self.hits


class SoakDiscord(FakeDiscord):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.outage, self.slow = Window(), Window()
        self.slow_seconds = 35.0          # DiscordAdapter gives up after 30 s
        self.late_accepts = 0
        self.deleted: dict[int, float] = {}   # channel id -> monotonic time of deletion
        self.created: dict[str, float] = {}   # message id -> monotonic time, for latency
        self.nonce_times: dict[tuple, float] = {}   # (channel, nonce) -> first seen

    def delete_channel(self, channel_id: int) -> None:
        self.channel_ids.remove(channel_id)
        self.deleted[channel_id] = time.monotonic()

    def rate_limit_storm(self, channel_id: int, times: int, *, is_global: bool,
                         retry_after: float = 0.5) -> None:
        pattern = rf"/channels/{channel_id}/messages"
        self.failures.append(GlobalFailure("POST", pattern, 429, retry_after=retry_after,
                                           times=times, is_global=is_global))

    def _age_nonces(self) -> None:
        now = time.monotonic()
        for key in self.nonces.keys() - self.nonce_times.keys():
            self.nonce_times[key] = now
        for key in [k for k, at in self.nonce_times.items() if now - at > NONCE_MEMORY]:
            self.nonces.pop(key, None)
            del self.nonce_times[key]

    async def _rest(self, request: web.Request) -> web.Response:
        self._age_nonces()
        try:
            return await self._soak_rest(request)
        finally:
            self._age_nonces()

    async def _soak_rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        if request.method == "POST" and POST_MESSAGES.fullmatch(path):
            if self.outage.active():
                self.outage.hits += 1
                return _json({"message": "503: Service Unavailable", "code": 0}, 503)
            if self.slow.active():
                self.slow.hits += 1
                await request.read()     # kept by aiohttp: the late accept still has it
                await asyncio.sleep(self.slow_seconds)   # then accepted: the worst case
                self.late_accepts += 1
        return await super()._rest(request)

    @staticmethod
    def _failure_response(f: Failure) -> web.Response:
        if f.status != 429 or not getattr(f, "is_global", False):
            return FakeDiscord._failure_response(f)
        headers = {"Retry-After": str(f.retry_after), "Via": "1.1 google",
                   "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
        return _json({"message": "You are being rate limited.", "retry_after": f.retry_after,
                      "global": True}, 429, headers)

    def _message(self, channel: int, body: dict, **kw) -> dict:
        msg = super()._message(channel, body, **kw)
        self.created[msg["id"]] = time.monotonic()
        return msg

    def posts(self) -> list[dict]:
        """Messages that exist in channels (nonce replays return, not create, one)."""
        return [m for m in self.messages.values() if not m.get("interaction_metadata")]


class GlobalFailure(Failure):
    def __init__(self, *args, is_global: bool = False, **kw):
        super().__init__(*args, **kw)
        self.is_global = is_global


class SoakSlack(FakeSlack):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.outage, self.slow = Window(), Window()
        self.slow_seconds = 20.0          # the bot's Web API client gives up after 15 s
        self.deleted: dict[str, float] = {}
        self.late_accepts = 0
        self.created: dict[tuple[str, str], float] = {}   # (channel, ts) -> monotonic time

    def delete_channel(self, channel: str) -> None:
        self.deleted[channel] = time.monotonic()

    def rate_limit_storm(self, times: int, retry_after: int = 1) -> None:
        # Slack sends whole seconds; slack_sdk's retry handler parses an int.
        self.fail("chat.postMessage", status=429, retry_after=retry_after, times=times)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"] != "chat.postMessage":
            return await super()._api(request)
        if self.outage.active():
            self.outage.hits += 1
            return web.Response(status=503, text="upstream connect error")
        if self.slow.active():
            self.slow.hits += 1
            await request.read()        # the request arrived whole; only the answer is late
            await asyncio.sleep(self.slow_seconds)     # then accepted: the worst case
            if request.transport is None or request.transport.is_closing():
                self.late_accepts += 1      # the client gave up; the post stands anyway
        return await super()._api(request)

    def _m_chat_postMessage(self, p: dict) -> dict:
        if p.get("channel") in self.deleted:
            return {"ok": False, "error": "channel_not_found"}
        answer = super()._m_chat_postMessage(p)
        if answer.get("ok"):
            self.created[(answer["channel"], answer["ts"])] = time.monotonic()
        return answer

    def posts(self) -> list[dict]:
        return [dict(p, channel=ch, _created=self.created.get((ch, ts)))
                for (ch, ts), p in self.messages.items()]

    def payloads(self) -> list[Call]:
        return [c for c in self.calls if c.method in ("chat.postMessage", "chat.update")]


def as_dict(value) -> dict | list | str:
    """Slack form-encoded payloads carry blocks as JSON text; decode for checking."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
