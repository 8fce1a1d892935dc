"""A fake Slack on 127.0.0.1 for tests and benchmarks: Web API, response_url, Socket Mode.

It speaks enough of Slack for the real slack_sdk and slack_bolt to run against it:
- Web API at `api_url` (auth.test, chat.postMessage, chat.update, users.info,
  apps.connections.open -> a ws:// URL to itself); every call recorded with its token
  and payload; failures scriptable per method (`fail`); Block Kit limits checked like
  Slack does (a breach answers invalid_blocks).
- response_url endpoints (`/respond/<id>`) that record what the bot posted, with the
  same Block Kit limits: a breach answers HTTP 400 `invalid_blocks` (no text or blocks:
  `no_text`), as Slack answers a bad response_url payload, and `wait_response` fails
  the test with what Slack refused.
- a Socket Mode websocket that says `hello`, sends envelopes (again: `redeliver`) and
  `disconnect` messages, and records acks; each URL apps.connections.open issues is good for one connection and
  a short time, as Slack's are; with `answer_pings` off, a new connection says nothing
  and answers no ping (one a proxy holds open after Slack let go of it).
- helpers that play Slack's side of a slash command or button click, over Socket Mode
  or as a signed HTTP request, and wait for the bot's answer.
Given an `ssl_context` (tests/fakes/tls.py's company_signed), all of it is https and
wss, as behind a TLS-inspecting proxy.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import ssl
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

LIMITS = {"blocks": 50, "section": 3000, "header": 150, "context_element": 2000,
          "context_elements": 10, "button_text": 75, "url": 3000, "value": 2000,
          "fallback_text": 40000}
# The text of all of a post's blocks: chat.postMessage answers msg_blocks_too_long past
# it. Slack documents no figure; reports put it near 13,200 (slackapi/bolt-js#2509, where
# Slack spoke of "12,000 text characters with a buffer for block containers") and saw
# 11,341 refused (bolt-js#2867): the fake refuses past 11,000. A response_url post
# with the same blocks is taken (#2867), so only the Web API checks it.
MESSAGE_TEXT_LIMIT = 11_000


@dataclass
class Call:
    method: str
    token: str
    payload: dict
    peer: tuple = ()     # the client's (host, port): one per connection it opened


@dataclass
class Scripted:
    status: int = 200
    body: dict | str | None = None
    headers: dict = field(default_factory=dict)
    hang: bool = False
    accept: bool = False      # do the work first, then answer with the failure
    drop: bool = False        # close the connection instead of answering


def sign(secret: str, timestamp: str, body: str | bytes) -> str:
    """Slack's request signature: v0= + HMAC-SHA256(secret, "v0:{ts}:{body}")."""
    raw = body if isinstance(body, bytes) else body.encode()
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def block_kit_problems(blocks: list, text: str = "") -> list[str]:
    """Breaches of Slack's Block Kit limits, as Slack would refuse them (empty: fine)."""
    problems = []
    if len(blocks) > LIMITS["blocks"]:
        problems.append(f"{len(blocks)} blocks > {LIMITS['blocks']}")
    if _u16(text) > LIMITS["fallback_text"]:
        problems.append("fallback text too long")
    for i, block in enumerate(blocks):
        problems += [f"block {i}: {p}" for p in _block_problems(block)]
    return problems


def _u16(s: str) -> int:
    return len((s or "").encode("utf-16-le")) // 2


def _block_problems(block: dict) -> list[str]:
    kind, out = block.get("type"), []
    if kind == "header":
        t = block["text"]
        if t.get("type") != "plain_text" or _u16(t["text"]) > LIMITS["header"]:
            out.append(f"header text {_u16(t['text'])} > {LIMITS['header']} or not plain")
    elif kind == "section":
        if _u16(block["text"]["text"]) > LIMITS["section"]:
            out.append(f"section text {_u16(block['text']['text'])} > {LIMITS['section']}")
        if not block["text"]["text"]:
            out.append("empty section text")
    elif kind == "context":
        els = block["elements"]
        if len(els) > LIMITS["context_elements"]:
            out.append(f"{len(els)} context elements")
        out += [f"context element {_u16(e['text'])} chars" for e in els
                if _u16(e.get("text", "")) > LIMITS["context_element"]]
    elif kind == "actions":
        for b in block["elements"]:
            out += _button_problems(b)
    elif kind not in ("divider",):
        out.append(f"unexpected block type {kind}")
    return out


def _button_problems(b: dict) -> list[str]:
    out = []
    if _u16(b["text"]["text"]) > LIMITS["button_text"]:
        out.append("button text too long")
    if len(b.get("url", "")) > LIMITS["url"]:
        out.append("button url too long")
    if "url" in b and not b["url"].startswith(("http://", "https://")):
        out.append("button url not http(s)")
    if len(b.get("value", "")) > LIMITS["value"]:
        out.append("button value too long")
    return out


class FakeSlack:
    def __init__(self, *, bot_token: str = "xoxb-fake", app_token: str = "xapp-fake",
                 signing_secret: str = "fake-signing-secret", team_id: str = "T0FAKE",
                 bot_user_id: str = "UBOT", ssl_context: ssl.SSLContext | None = None):
        self.bot_token, self.app_token = bot_token, app_token
        self.ssl_context = ssl_context
        self.signing_secret, self.team_id, self.bot_user_id = signing_secret, team_id, bot_user_id
        self.enterprise_id = ""     # set: auth.test says the workspace is in a Grid org
        self.calls: list[Call] = []
        self.users: dict[str, dict] = {}
        # Channels the bot can't see (private ones it wasn't invited to, others' DMs):
        # Slack answers channel_not_found for them, to posts and reads alike.
        self.hidden: set[str] = set()
        self.messages: dict[tuple[str, str], dict] = {}
        self.responses: dict[str, list[dict]] = defaultdict(list)   # response id -> posts
        self.refused: dict[str, list[tuple[str, dict]]] = defaultdict(list)  # -> (error, post)
        self.acks: dict[str, dict | None] = {}                      # envelope id -> payload
        self.events: list[tuple[str, str]] = []     # ("ack"|"response", response id), in order
        self._scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self._envelope_rid: dict[str, str] = {}
        self._envelopes: dict[str, dict] = {}       # envelope id -> as sent (redeliver)
        self._sockets: list[web.WebSocketResponse] = []
        # While set, the Socket Mode URL answers 503 (the websocket host unreachable while
        # the Web API works); each refused upgrade is counted.
        self.sockets_down, self.socket_refusals = False, 0
        # False: new connections open but never answer the bot's pings (nor send
        # anything): a connection a proxy or NAT holds open after Slack let go of it.
        self.answer_pings = True
        # apps.connections.open hands out a "temporary Socket Mode WebSocket URL" (Slack's
        # docs of the method), its ticket good for one connection and a short time: a URL
        # used once, older than ticket_ttl seconds, or expired by expire_tickets() (an
        # outage outliving it, without waiting it out) is refused with
        # ticket_refused_status. Slack documents neither the life nor the status; 408 is
        # what apps report from Slack's websocket host on such reconnects
        # (github.com/slackapi/node-slack-sdk/issues/1472). Every ticket presented to the
        # websocket URL, whether the host is up or not, is in socket_tickets, in order.
        self.ticket_ttl, self.ticket_refused_status = 30.0, 408
        self._tickets: dict[str, float] = {}        # ticket -> issued (monotonic)
        self._spent: set[str] = set()               # used once, or expired
        self.socket_tickets: list[str] = []
        self.tickets_refused = 0
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self._changed: asyncio.Condition | None = None
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle
    async def start(self, port: int = 0) -> "FakeSlack":
        """Listen on `port` (0: any free one; a fixed one: Slack coming up late)."""
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{rid}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, ssl_context=self.ssl_context)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._release.set()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        return self.url + "api/"

    # ---- scripting
    def fail(self, method: str, *, status: int = 200, error: str | None = None,
             retry_after: float | None = None, times: int = 1, hang: bool = False,
             body: str | None = None, accept: bool = False, drop: bool = False,
             fields: dict | None = None) -> None:
        """The next `times` calls of `method` fail: HTTP status, Slack error, or hang.
        accept=True: Slack did the work (the message is posted) but the answer is lost.
        drop=True: the connection closes with no answer at all. `fields`: more of the
        error's answer (missing_scope comes with "needed" and "provided")."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        payload = body if body is not None else (
            {"ok": False, "error": error or ("ratelimited" if status == 429 else "fatal_error"),
             **(fields or {})})
        for _ in range(times):
            self._scripts[method].append(Scripted(status, payload, headers, hang, accept, drop))

    def add_user(self, user_id: str, **flags) -> None:
        """A workspace member; flags such as is_admin=True, is_owner=True."""
        self.users[user_id] = {"id": user_id, "team_id": self.team_id, "name": user_id.lower(),
                               "is_admin": False, "is_owner": False,
                               "is_primary_owner": False, **flags}

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # ---- waiting
    async def _record(self, fn) -> None:
        async with self._changed:
            fn()
            self._changed.notify_all()

    async def wait_for(self, predicate, timeout: float = 5.0, what: str = "condition"):
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except asyncio.TimeoutError:
                raise AssertionError(f"fake slack: no {what} within {timeout} s") from None

    async def wait_response(self, rid: str, timeout: float = 5.0) -> dict:
        await self.wait_for(lambda: self.responses[rid] or self.refused[rid], timeout,
                            f"response_url post to {rid}")
        if self.refused[rid] and not self.responses[rid]:
            error, body = self.refused[rid][0]
            problems = block_kit_problems(body.get("blocks") or [], body.get("text", ""))
            raise AssertionError(f"fake slack: refused the answer to {rid}: {error} {problems}")
        return self.responses[rid][0]

    async def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> dict | None:
        await self.wait_for(lambda: envelope_id in self.acks, timeout, f"ack of {envelope_id}")
        return self.acks[envelope_id]

    async def wait_connected(self, timeout: float = 5.0) -> None:
        await self.wait_for(lambda: self._open_sockets(), timeout, "Socket Mode connection")

    def _open_sockets(self) -> list[web.WebSocketResponse]:
        return [ws for ws in self._sockets if not ws.closed]

    # ---- Web API
    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        payload = await _read_payload(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or str(payload.get("token", ""))
        peer = tuple(request.transport.get_extra_info("peername") or ()
                     if request.transport is not None else ())
        await self._record(lambda: self.calls.append(Call(method, token, payload, peer)))
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if self._scripts[method]:
            script = self._scripts[method].popleft()
            if script.accept and handler is not None:
                handler(payload)
            if script.drop and request.transport is not None:
                request.transport.close()       # the client sees the server disconnect
            return await self._scripted(script)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != wanted:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(handler(payload))

    async def _scripted(self, s: Scripted) -> web.StreamResponse:
        if s.hang:
            await self._release.wait()
        if isinstance(s.body, dict):
            return web.json_response(s.body, status=s.status, headers=s.headers)
        return web.Response(text=s.body or "", status=s.status, headers=s.headers,
                            content_type="text/html")

    def _m_auth_test(self, p: dict) -> dict:
        return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake",
                "user": "ainews", "team_id": self.team_id, "user_id": self.bot_user_id,
                "bot_id": "BFAKE", "is_enterprise_install": False,
                **({"enterprise_id": self.enterprise_id} if self.enterprise_id else {})}

    def _m_apps_connections_open(self, p: dict) -> dict:
        ticket = f"t{next(self._ids)}"
        self._tickets[ticket] = time.monotonic()
        ws = "wss" if self.ssl_context else "ws"
        return {"ok": True, "url": f"{ws}://127.0.0.1:{self.port}/socket?ticket={ticket}"}

    def expire_tickets(self) -> None:
        """Every Socket Mode URL issued so far is past its life, as after a long outage."""
        self._spent.update(self._tickets)

    def _ticket_good(self, ticket: str) -> bool:
        issued = self._tickets.get(ticket)
        return (issued is not None and ticket not in self._spent
                and time.monotonic() - issued < self.ticket_ttl)

    def _m_users_info(self, p: dict) -> dict:
        user = self.users.get(str(p.get("user", "")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _m_chat_postMessage(self, p: dict) -> dict:
        problem = "channel_not_found" if p.get("channel") in self.hidden else _message_problem(p)
        if problem:
            return {"ok": False, "error": problem}
        ts = self.next_ts()
        self.messages[(p["channel"], ts)] = p
        return {"ok": True, "channel": p["channel"], "ts": ts, "message": {"ts": ts}}

    def next_ts(self) -> str:
        """A message ts as Slack makes them: the server's clock, unique per message."""
        self._last_ts = max(time.time(), self._last_ts + 0.0001)
        return f"{self._last_ts:.6f}"

    def _m_conversations_history(self, p: dict) -> dict:
        """The channel's messages after `oldest`, newest first, `limit` a page with a
        cursor to the next; metadata only when asked for."""
        channel, limit = p.get("channel"), int(p.get("limit") or 100)
        if channel in self.hidden:
            return {"ok": False, "error": "channel_not_found"}
        oldest, start = float(p.get("oldest") or 0), int(p.get("cursor") or 0)
        with_meta = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        found = sorted(((ts, m) for (ch, ts), m in self.messages.items()
                        if ch == channel and float(ts) > oldest),
                       key=lambda item: float(item[0]), reverse=True)
        page, more = found[start:start + limit], start + limit < len(found)
        return {"ok": True, "messages": [_history_entry(ts, m, with_meta) for ts, m in page],
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _m_chat_update(self, p: dict) -> dict:
        key = (p.get("channel"), p.get("ts"))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        problem = _message_problem(p)
        if problem:
            return {"ok": False, "error": problem}
        # chat.update's docs: "If you don't include [blocks], the message's previous
        # blocks will be retained" (and python-slack-sdk#523: a text-only update of a
        # blocks message answers ok and shows nothing new).
        old = self.messages[key]
        self.messages[key] = p if "blocks" in p or "blocks" not in old else {
            **p, "blocks": old["blocks"]}
        return {"ok": True, "channel": key[0], "ts": key[1]}

    # ---- response_url
    def new_response_url(self) -> tuple[str, str]:
        rid = f"R{next(self._ids)}"
        return rid, f"{self.url}respond/{rid}"

    async def _respond(self, request: web.Request) -> web.Response:
        rid, body = request.match_info["rid"], await request.json()
        problem = _response_problem(body)
        if problem:
            await self._record(lambda: self.refused[rid].append((problem, body)))
            return web.Response(status=400, text=problem)
        await self._record(lambda: (self.responses[rid].append(body),
                                    self.events.append(("response", rid))))
        return web.Response(text="ok")

    # ---- Socket Mode
    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        await self._record(lambda: self.socket_tickets.append(ticket))
        if self.sockets_down:
            await self._record(lambda: setattr(self, "socket_refusals",
                                               self.socket_refusals + 1))
            return web.Response(status=503, text="upstream connect error")
        if not self._ticket_good(ticket):
            await self._record(lambda: setattr(self, "tickets_refused",
                                               self.tickets_refused + 1))
            return web.Response(status=self.ticket_refused_status)
        self._spent.add(ticket)
        ws = web.WebSocketResponse(autoping=self.answer_pings)
        await ws.prepare(request)
        if self.answer_pings:
            await ws.send_json({"type": "hello", "num_connections": 1,
                                "connection_info": {"app_id": "AFAKE"}})
        await self._record(lambda: self._sockets.append(ws))
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await self._on_ack(json.loads(msg.data))
        return ws

    async def _on_ack(self, data: dict) -> None:
        eid = data.get("envelope_id")
        if eid:
            rid = self._envelope_rid.get(eid, eid)
            await self._record(lambda: (self.acks.__setitem__(eid, data.get("payload")),
                                        self.events.append(("ack", rid))))

    async def drop_connections(self) -> None:
        """Close every Socket Mode connection, as Slack does when it rotates them."""
        for ws in self._open_sockets():
            await ws.close()

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's `disconnect` message (refresh_requested, warning, link_disabled): the
        app should open a new connection before Slack closes this one."""
        await self.wait_connected()
        await self._open_sockets()[-1].send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-wss-1"}})

    async def send_envelope(self, kind: str, payload: dict, rid: str = "") -> str:
        """Push one envelope (slash_commands, interactive, events_api) to the bot."""
        await self.wait_connected()
        eid = f"E{next(self._ids)}"
        self._envelope_rid[eid] = rid or eid
        self._envelopes[eid] = {"envelope_id": eid, "type": kind, "payload": payload,
                                "accepts_response_payload": kind != "events_api"}
        await self._open_sockets()[-1].send_json(self._envelopes[eid])
        return eid

    async def redeliver(self, eid: str) -> None:
        """Send envelope `eid` again, as Slack does when its ack came late."""
        await self.wait_connected()
        await self._open_sockets()[-1].send_json(
            {**self._envelopes[eid], "retry_attempt": 1, "retry_reason": "timeout"})

    # ---- Slack's side of a user's action
    def slash_payload(self, command: str, text: str = "", *, user: str = "U1",
                      channel: str = "C1", team: str | None = None) -> tuple[str, dict]:
        """`team`: the workspace the user typed it in (an Enterprise Grid org's other
        workspace, in a channel shared by several); the bot's own by default."""
        rid, response_url = self.new_response_url()
        return rid, {"token": "verification-unused", "team_id": team or self.team_id,
                     "team_domain": "fake", "channel_id": channel, "channel_name": "general",
                     "user_id": user, "user_name": user.lower(), "command": command,
                     "text": text, "api_app_id": "AFAKE", "is_enterprise_install": "false",
                     "response_url": response_url, "trigger_id": f"trig.{rid}"}

    def action_payload(self, action_id: str, value: str = "", *, user: str = "U1",
                       channel: str = "C1", message_ts: str = "") -> tuple[str, dict]:
        """A click on a button of the ephemeral answer `message_ts` (Slack sends its ts;
        by default a new one: another answer's button)."""
        rid, response_url = self.new_response_url()
        message_ts = message_ts or f"1700000000.{next(self._ids):06d}"
        return rid, {"type": "block_actions", "api_app_id": "AFAKE", "token": "unused",
                     "team": {"id": self.team_id, "domain": "fake"},
                     "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
                     "channel": {"id": channel, "name": "general"},
                     "container": {"type": "message", "message_ts": message_ts,
                                   "channel_id": channel, "is_ephemeral": True},
                     "trigger_id": f"trig.{rid}", "response_url": response_url,
                     "actions": [{"type": "button", "action_id": action_id, "block_id": "b",
                                  "value": value, "action_ts": f"{time.time():.6f}"}]}

    async def slash_socket(self, command: str, text: str = "", **who) -> tuple[str, str]:
        """A slash command over Socket Mode: returns (envelope id, response id)."""
        rid, payload = self.slash_payload(command, text, **who)
        return await self.send_envelope("slash_commands", payload, rid), rid

    async def action_socket(self, action_id: str, value: str = "", **who) -> tuple[str, str]:
        rid, payload = self.action_payload(action_id, value, **who)
        return await self.send_envelope("interactive", payload, rid), rid

    async def post_signed(self, url: str, body: str | bytes, *, secret: str | None = None,
                          timestamp: int | None = None, signature: str | None = None,
                          rid: str = "") -> tuple[int, str]:
        """POST as Slack does in HTTP mode; the answer is recorded as the ack.
        Like Slack, give up after 3 s: a bot that answers later has missed its ack."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = signature or sign(secret or self.signing_secret, ts, body)
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
        async with aiohttp.ClientSession() as session:
            raw = body if isinstance(body, bytes) else body.encode()
            async with session.post(url, data=raw, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=3)) as resp:
                text = await resp.text()
        if resp.status == 200:
            await self._record(lambda: self.events.append(("ack", rid)))
        return resp.status, text

    async def slash_http(self, url: str, command: str, text: str = "", *,
                         user: str = "U1", channel: str = "C1", **signing) -> tuple[int, str, str]:
        """A signed slash command to the bot's /slack/events: (status, body, response id)."""
        rid, payload = self.slash_payload(command, text, user=user, channel=channel)
        status, body = await self.post_signed(url, urlencode(payload), rid=rid, **signing)
        return status, body, rid

    async def action_http(self, url: str, action_id: str, value: str = "", *,
                          user: str = "U1", channel: str = "C1", message_ts: str = "",
                          **signing) -> tuple[int, str, str]:
        rid, payload = self.action_payload(action_id, value, user=user, channel=channel,
                                           message_ts=message_ts)
        body = urlencode({"payload": json.dumps(payload)})
        status, text = await self.post_signed(url, body, rid=rid, **signing)
        return status, text, rid


def _history_entry(ts: str, p: dict, with_meta: bool) -> dict:
    entry = {"type": "message", "ts": ts, "text": p.get("text", ""),
             "bot_id": p.get("_bot_id", "BFAKE")}     # _bot_id: a test's other app
    if p.get("blocks"):                               # as posted, as Slack shows them
        blocks = p["blocks"]
        entry["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
    meta = p.get("metadata")
    if with_meta and meta:
        entry["metadata"] = json.loads(meta) if isinstance(meta, str) else meta
    return entry


def _message_problem(p: dict) -> str | None:
    if not p.get("channel"):
        return "channel_not_found"
    blocks = p.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not blocks and not p.get("text"):
        return "no_text"
    if blocks and block_kit_problems(blocks, p.get("text", "")):
        return "invalid_blocks"
    return "msg_blocks_too_long" if blocks_text(blocks or []) > MESSAGE_TEXT_LIMIT else None


def blocks_text(blocks) -> int:
    """The length of every text in the blocks together, in UTF-16 units."""
    if isinstance(blocks, dict):
        own = _u16(blocks["text"]) if isinstance(blocks.get("text"), str) else 0
        return own + sum(blocks_text(v) for v in blocks.values()
                         if isinstance(v, (dict, list)))
    return sum(blocks_text(v) for v in blocks) if isinstance(blocks, list) else 0


def _response_problem(body: dict) -> str | None:
    """What Slack answers a response_url post it refuses (None: it takes it)."""
    if body.get("delete_original"):
        return None
    blocks = body.get("blocks")
    if not blocks and not body.get("text"):
        return "no_text"
    return "invalid_blocks" if blocks and block_kit_problems(blocks, body.get("text", "")) \
        else None


async def _read_payload(request: web.Request) -> dict:
    payload = dict(request.query)
    if request.body_exists:      # text() again gives the body a caller read() already
        raw = await request.text()
        if request.content_type == "application/json":
            payload.update(json.loads(raw or "{}"))
        else:
            payload.update(dict(parse_qsl(raw)))
    return payload


def make_brief(**overrides):
    """A plausible Brief for tests (our own words, not an outlet's)."""
    from datetime import datetime, timezone

    from feeds.models import Brief
    fields = dict(id="s1", headline="Alibaba moves from open models to paid AI services",
                  bullets=("Alibaba will release fewer free models.",
                           "Teams focus on paid APIs for cloud customers.",
                           "The aim is a return on heavy AI spending."),
                  why_it_matters="Developers lose a source of free models.",
                  url="https://example.com/alibaba-ai", source="FT",
                  published=datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc),
                  dek="A pivot to revenue.", companies=("Alibaba", "Tencent"),
                  topics=("open-source", "pricing"), strategy=True, score=3.0)
    fields.update(overrides)
    return Brief(**fields)
