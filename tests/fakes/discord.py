"""A fake Discord on loopback: gateway websocket + the REST routes ainews uses.

Drives the real discord.py: point it here with DISCORD_API_URL=fake.api_url and
DISCORD_GATEWAY_URL=fake.gateway_url. Every REST request is recorded (method, path,
Authorization header, JSON body); failures can be scripted per route (`accept=True`: the
request is done, only its answer fails; `skip=N`: the first N are answered); the
application's owner is `owner_id`, or its `team`; interactions (slash commands, autocomplete,
button clicks) are dispatched over the gateway. Message ids are snowflakes of the time
they were made; `GET /channels/{id}/messages` reads history as Discord does (newest
first, no nonces, `limit` with `before` or `after`); `forget_nonces()` stands for
Discord's few minutes of nonce memory passing.
Only the Discord behaviour ainews relies on is modelled. Discord's size limits on
messages (content, embeds) and on autocomplete choices are enforced: a breach answers
400 with Discord's "Invalid Form Body" (code 50035) error, and `callback`/`followup`
fail the test with what Discord refused. An IDENTIFY asking for a privileged intent the
fake app was not granted (`granted_intents`, none by default) is closed with 4014; the
events it dispatches go only to a bot whose intents ask for them (EVENT_INTENTS).
Given an `ssl_context` (tests/fakes/tls.py's company_signed) it serves https and wss.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import WSMsgType, web

EPOCH_ISO = "2026-01-01T00:00:00+00:00"
ALL_PERMISSIONS = (1 << 50) - 1
PERM_MANAGE_CHANNELS = 1 << 4
PERM_MANAGE_GUILD = 1 << 5
PERM_ADMINISTRATOR = 1 << 3
PERM_READ_MESSAGE_HISTORY = 1 << 16
PERM_EMBED_LINKS = 1 << 14
DM = 1                  # channel type of a direct message
DISCORD_EPOCH_MS = 1_420_070_400_000
EPHEMERAL = 64
# Gateway intents Discord calls privileged: an app gets them only once enabled in the
# Developer Portal (GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT).
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)
GUILDS_INTENT, GUILD_MESSAGES_INTENT = 1 << 0, 1 << 9
# The intent without which Discord does not send an event the fake dispatches (none:
# sent to every bot, as READY and INTERACTION_CREATE are).
EVENT_INTENTS = {"GUILD_CREATE": GUILDS_INTENT, "CHANNEL_UPDATE": GUILDS_INTENT,
                 "MESSAGE_CREATE": GUILD_MESSAGES_INTENT}
MEMBER_PERMISSIONS = ALL_PERMISSIONS & ~(PERM_MANAGE_CHANNELS | PERM_MANAGE_GUILD | PERM_ADMINISTRATOR)


# Discord's documented limits (characters), checked on every message the bot sends.
LIMITS = {"content": 2000, "embeds": 10, "title": 256, "description": 4096, "fields": 25,
          "field_name": 256, "field_value": 1024, "footer": 2048, "author": 256,
          "embed_total": 6000, "choices": 25, "choice": 100}


def _too_long(limit: int) -> dict:
    return {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                         "message": f"Must be {limit} or fewer in length."}]}


def _text_errors(obj: dict, key: str, limit: int) -> tuple[dict, int]:
    text = obj.get(key) or ""
    return ({key: _too_long(limit)} if len(text) > limit else {}), len(text)


def message_errors(body: dict) -> dict:
    """Discord's `errors` for a message body over its limits ({}: fine). The 6,000
    characters count title, description, field names and values, footer and author
    name across all of a message's embeds."""
    errors: dict = {}
    content = body.get("content")
    if isinstance(content, str) and len(content) > LIMITS["content"]:
        errors["content"] = _too_long(LIMITS["content"])
    embeds = body.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        errors["embeds"] = _too_long(LIMITS["embeds"])
        return errors
    each, total = {}, 0
    for i, embed in enumerate(embeds):
        found: dict = {}
        for key, obj, name, limit in (
                ("title", embed, "title", LIMITS["title"]),
                ("description", embed, "description", LIMITS["description"]),
                ("footer", embed.get("footer") or {}, "text", LIMITS["footer"]),
                ("author", embed.get("author") or {}, "name", LIMITS["author"])):
            err, n = _text_errors(obj, name, limit)
            total += n
            if err and key == name:     # embeds.0.title
                found.update(err)
            elif err:                   # embeds.0.footer.text
                found[key] = err
        fields = embed.get("fields") or []
        if len(fields) > LIMITS["fields"]:
            found["fields"] = _too_long(LIMITS["fields"])
        for j, f in enumerate(fields[:LIMITS["fields"]]):
            name_err, n1 = _text_errors(f, "name", LIMITS["field_name"])
            value_err, n2 = _text_errors(f, "value", LIMITS["field_value"])
            total += n1 + n2
            if name_err or value_err:
                found.setdefault("fields", {})[str(j)] = {**name_err, **value_err}
        if found:
            each[str(i)] = found
    if each:
        errors["embeds"] = each
    elif total > LIMITS["embed_total"]:
        errors["embeds"] = {"_errors": [{"code": "MAX_EMBED_SIZE_EXCEEDED", "message":
                                         "Embed size exceeds maximum size of 6000"}]}
    return errors


def choices_errors(body: dict) -> dict:
    """Discord's `errors` for autocomplete choices: at most 25, name and value 1-100."""
    choices = body.get("choices") or []
    if len(choices) > LIMITS["choices"]:
        return {"choices": _too_long(LIMITS["choices"])}
    each = {}
    for i, c in enumerate(choices):
        found = {k: _too_long(LIMITS["choice"]) for k in ("name", "value")
                 if len(str(c.get(k, ""))) > LIMITS["choice"]}
        if found:
            each[str(i)] = found
    return {"choices": each} if each else {}


def invalid_form(errors: dict) -> "web.Response":
    return _json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)


@dataclass
class Recorded:
    method: str
    path: str               # after /api/v10, e.g. /channels/1/messages
    query: dict
    authorization: str | None
    json: Any
    status: int = 200


@dataclass
class Failure:
    method: str
    pattern: str            # regex matched against the path
    status: int
    code: int = 0
    retry_after: float = 0.05
    via: bool = True        # discord.py retries a 429 only when Via is present
    times: int = 1
    skip: int = 0           # matching requests answered as usual before it fails
    is_global: bool = False  # a 429 for the whole bot, not this route
    accept: bool = False    # do the work first, then answer with the failure


@dataclass
class Interaction:
    id: str
    token: str
    payload: dict
    callbacks: list = field(default_factory=list)
    refused: list = field(default_factory=list)     # errors of callbacks Discord refused
    created: float = field(default_factory=time.monotonic)


class FakeDiscord:
    def __init__(self, *, token: str = "fake-token", app_id: int = 1100000000000000001,
                 guild_id: int = 1200000000000000001, channel_ids=(1300000000000000001,),
                 user_id: int = 1400000000000000001, thread_ids=(), other_guilds=None,
                 ssl_context: ssl.SSLContext | None = None):
        self.token, self.app_id, self.guild_id = token, app_id, guild_id
        self.ssl_context = ssl_context
        self.channel_ids, self.user_id = list(channel_ids), user_id
        # More servers the bot is in: guild id -> its text channel ids (a public bot's
        # other servers). remove_bot(guild) takes the bot out of one, as a kick does.
        self.other_guilds: dict[int, list[int]] = {int(g): list(c) for g, c in
                                                   (other_guilds or {}).items()}
        self.left_guilds: set[int] = set()
        # Public threads under the first channel: they take posts, not threads of their
        # own. Those in listed_threads come with GUILD_CREATE (Discord sends the active
        # ones); the others (archived, say) the bot learns of only by asking.
        self.thread_ids = list(thread_ids)
        self.listed_threads = list(thread_ids)
        # Who owns the application (the Developer Portal's owner): not the member who
        # runs commands by default (user_id 1600...). `team`: the application belongs to
        # a team instead, of (user id, role, membership_state) members; the first owns it.
        self.owner_id = 1
        self.team: list[tuple[int, str, int]] | None = None
        # The Developer Portal's Public Bot: Discord's default is on; off here, as
        # docs/discord.md advises (on, the bot warns at start).
        self.bot_public = False
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self.commands: dict[str, list] = {}     # "global" / guild id -> synced payload
        self.interactions: dict[str, Interaction] = {}
        self.messages: dict[str, dict] = {}
        self.nonces: dict[tuple, str] = {}      # (channel, nonce) -> message id
        self.threaded: set[str] = set()         # message ids a thread was opened under
        # Channels where the bot lacks Read Message History: Discord shows it in the
        # channel's overwrites and answers a history read with no messages, not a 403.
        self.history_hidden: set[int] = set()
        # Channels where the bot lacks Embed Links: Discord drops the embeds of a message
        # with text (posting the text alone) and refuses one of embeds only (403, 50013).
        self.embeds_denied: set[int] = set()
        self.refused: list[tuple[str, dict]] = []   # (path, errors): bodies over a limit
        self.identifies = self.resumes = 0
        self.identified_intents: list[int] = []  # the intents of every accepted IDENTIFY
        # Privileged intents enabled for the fake app in the Developer Portal: an
        # IDENTIFY asking for any other is closed with 4014, as Discord does.
        self.granted_intents = 0
        self.refuse_gateway = False             # True: the gateway answers 503 (outage)
        self.gateway_refusals = 0               # connections refused while it was True
        # The gateway's HELLO interval (Discord's is 41.25 s) and whether heartbeats are
        # acknowledged: False makes the connection a zombie that answers nothing.
        self.heartbeat_interval = 41.25
        self.ack_heartbeats = True
        # True: the gateway takes the websocket and says HELLO only once it is False
        # again (a gateway slow to answer); drop_gateway() meanwhile closes it before.
        self.hold_hello = False
        # Seconds an interaction may be answered in (Discord's is 3), then "Unknown
        # interaction" as Discord says; None: any time (most tests need no window).
        self.answer_window: float | None = None
        self.session_id = "fake-session-1"
        # GET /gateway/bot's session_start_limit: each IDENTIFY uses one of `remaining`
        # (Discord gives most bots 1000 a day); reset_after is in milliseconds.
        self.session_start_limit = {"total": 1000, "remaining": 999, "reset_after": 0,
                                    "max_concurrency": 1}
        self._ids = itertools.count(1500000000000000001)
        self._last_message_id = 0
        self._seq = 0
        self._ws: web.WebSocketResponse | None = None
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------
    async def start(self, port: int = 0) -> "FakeDiscord":
        """Listen on `port` (0: any free one; a fixed one: Discord coming up late)."""
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, ssl_context=self.ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}"

    @property
    def gateway_url(self) -> str:
        return f"{'wss' if self.ssl_context else 'ws'}://127.0.0.1:{self.port}/gateway"

    # ---- scripting and waiting ---------------------------------------------------
    def fail(self, method: str, pattern: str, status: int, **kw) -> None:
        self.failures.append(Failure(method, pattern, status, **kw))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0):
        """Wait until predicate() is truthy (re-checked after every request/event)."""
        async def waiter():
            async with self._changed:
                return await self._changed.wait_for(predicate)
        return await asyncio.wait_for(waiter(), timeout)

    async def wait_request(self, method: str, pattern: str, timeout: float = 10.0) -> Recorded:
        def find():
            return next((r for r in self.requests if r.method == method
                         and re.fullmatch(pattern, r.path)), None)
        return await self.wait_for(find, timeout)

    async def hide_history(self, channel: int) -> None:
        """Take Read Message History from the bot in `channel` (an overwrite denying it
        to @everyone), as a server admin might: CHANNEL_UPDATE tells the client."""
        self.history_hidden.add(channel)
        await self.dispatch("CHANNEL_UPDATE", self.channel_payload(channel))

    async def deny_embeds(self, channel: int) -> None:
        """Take Embed Links from the bot in `channel` (an overwrite), as hide_history."""
        self.embeds_denied.add(channel)
        await self.dispatch("CHANNEL_UPDATE", self.channel_payload(channel))

    def forget_nonces(self) -> None:
        """Discord remembers a nonce for a few minutes: as if those had passed."""
        self.nonces.clear()

    def post_as(self, channel: int, body: dict, *, author: dict | None = None,
                kind: int = 0) -> dict:
        """A message someone else (another bot, a person) posted in `channel`, or with
        kind 20 the bot's own answer to a slash command."""
        msg = self._message(channel, body)
        msg.update(type=kind, **({"author": author} if author else {}))
        return msg

    def find(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---- gateway -----------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_gateway:
            self.gateway_refusals += 1
            await self._notify()
            return web.Response(status=503, text="fake: gateway outage")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await self._notify()
        while self.hold_hello and not ws.closed:
            await asyncio.sleep(0.02)
        if ws.closed:
            return ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval":
                                            int(self.heartbeat_interval * 1000)}})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            await self._on_gateway(ws, json.loads(msg.data))
        if self._ws is ws:
            self._ws = None
        await self._notify()
        return ws

    async def _on_gateway(self, ws, msg: dict) -> None:
        op, d = msg.get("op"), msg.get("d")
        if op == 1:
            if self.ack_heartbeats:
                await ws.send_json({"op": 11})
        elif op == 2:
            if d.get("token") != self.token:
                await ws.close(code=4004, message=b"Authentication failed.")
                return
            if d.get("intents", 0) & PRIVILEGED_INTENTS & ~self.granted_intents:
                await ws.close(code=4014, message=b"Disallowed intent(s).")
                return
            self.identifies += 1
            self.session_start_limit["remaining"] -= 1
            self.identified_intents.append(d.get("intents", 0))
            await self.dispatch("READY", self._ready())
            for guild in self._guild_ids():
                if guild not in self.left_guilds:
                    await self.dispatch("GUILD_CREATE", self.guild_payload(guild))
        elif op == 6:
            self.resumes += 1
            if d.get("token") != self.token:     # the token was reset meanwhile
                await ws.close(code=4004, message=b"Authentication failed.")
                return
            if d.get("session_id") == self.session_id:
                await self.dispatch("RESUMED", {})
            else:
                await ws.send_json({"op": 9, "d": False})
        await self._notify()

    async def dispatch(self, event: str, data: dict) -> None:
        """Send `event`, unless the bot's IDENTIFY left out the intent it needs."""
        if self._ws is None or self._ws.closed:
            raise RuntimeError("fake discord: no gateway connection to dispatch on")
        needed = EVENT_INTENTS.get(event, 0)
        if needed and self.identified_intents and not self.identified_intents[-1] & needed:
            return
        self._seq += 1
        await self._ws.send_json({"op": 0, "t": event, "s": self._seq, "d": data})

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the gateway from the server side, as Discord does before a reconnect."""
        ws = self._ws
        if ws is not None:
            await ws.close(code=code, message=b"fake: reconnect please")

    async def send_op(self, op: int, d: Any = None) -> None:
        """A gateway opcode as Discord sends it: 7 Reconnect, 9 Invalid Session (`d`:
        whether the session may be resumed). `new_session()` first makes a resume fail."""
        if self._ws is not None:
            await self._ws.send_json({"op": op, "d": d})

    def new_session(self) -> None:
        """Discord forgets the bot's session (it expired): the next RESUME is answered
        with op 9 Invalid Session (not resumable) and the bot must IDENTIFY again."""
        self.session_id = f"fake-session-{int(self.session_id.rsplit('-', 1)[1]) + 1}"

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    def _ready(self) -> dict:
        return {"v": 10, "user": self.bot_user(), "session_id": self.session_id,
                "resume_gateway_url": self.gateway_url,
                "guilds": [{"id": str(g), "unavailable": True} for g in self._guild_ids()
                           if g not in self.left_guilds],
                "application": {"id": str(self.app_id), "flags": 0}}

    def bot_user(self) -> dict:
        return {"id": str(self.user_id), "username": "ainews", "discriminator": "0",
                "global_name": "ainews", "avatar": None, "bot": True}

    def _guild_ids(self) -> list[int]:
        return [self.guild_id, *self.other_guilds]

    def guild_of(self, channel_id: int) -> int:
        """The server a channel is in (the first one's threads and channels by default)."""
        return next((g for g, chans in self.other_guilds.items() if int(channel_id) in chans),
                    self.guild_id)

    def _all_channels(self) -> list[int]:
        return self.channel_ids + self.thread_ids + [c for cs in self.other_guilds.values()
                                                     for c in cs]

    async def remove_bot(self, guild: int) -> None:
        """The bot is kicked from `guild`: GUILD_DELETE, then Discord answers its
        channels with 403 Missing Access (50001)."""
        self.left_guilds.add(int(guild))
        await self.dispatch("GUILD_DELETE", {"id": str(guild)})

    async def reinvite_bot(self, guild: int) -> None:
        self.left_guilds.discard(int(guild))
        await self.dispatch("GUILD_CREATE", self.guild_payload(guild))

    def channel_payload(self, channel_id: int, kind: int = 0) -> dict:
        channel = {"id": str(channel_id), "type": kind,
                   "guild_id": str(self.guild_of(channel_id)),
                   "name": f"news-{channel_id % 1000}", "position": 0, "nsfw": False,
                   "permission_overwrites": self._overwrites(channel_id), "parent_id": None,
                   "topic": None,
                   "last_message_id": None, "rate_limit_per_user": 0}
        if kind in (10, 11, 12):     # a thread under the first channel
            channel.update(parent_id=str(self.channel_ids[0]), owner_id="1", message_count=0,
                           member_count=1,
                           thread_metadata={"archived": False, "locked": False,
                                            "auto_archive_duration": 1440,
                                            "archive_timestamp": EPOCH_ISO})
        return channel

    def _overwrites(self, channel_id: int) -> list[dict]:
        deny = (PERM_READ_MESSAGE_HISTORY if channel_id in self.history_hidden else 0) \
            | (PERM_EMBED_LINKS if channel_id in self.embeds_denied else 0)
        if not deny:
            return []
        # The @everyone role's id is its server's.
        return [{"id": str(self.guild_of(channel_id)), "type": 0, "allow": "0",
                 "deny": str(deny)}]

    def guild_payload(self, guild_id: int | None = None) -> dict:
        guild_id = int(guild_id or self.guild_id)
        first = guild_id == self.guild_id
        channels = self.channel_ids if first else self.other_guilds[guild_id]
        everyone = {"id": str(guild_id), "name": "@everyone", "position": 0,
                    "permissions": str(MEMBER_PERMISSIONS), "color": 0, "hoist": False,
                    "managed": False, "mentionable": False, "flags": 0}
        return {"id": str(guild_id), "name": "Test Guild" if first else f"Guild {guild_id}",
                "icon": None,
                "owner_id": "1", "roles": [everyone], "emojis": [], "stickers": [],
                "features": [], "channels": [self.channel_payload(c) for c in channels],
                "threads": [self.channel_payload(t, 11) for t in self.listed_threads] if first
                else [],
                # The bot's own member, as Discord sends it (discord.py's guild.me).
                "members": [{"user": self.bot_user(), "roles": [], "joined_at": EPOCH_ISO,
                             "deaf": False, "mute": False, "flags": 0}],
                "voice_states": [], "presences": [],
                "stage_instances": [], "guild_scheduled_events": [], "member_count": 2,
                "large": False, "unavailable": False, "joined_at": EPOCH_ISO,
                "premium_tier": 0, "verification_level": 0, "mfa_level": 0,
                "explicit_content_filter": 0, "default_message_notifications": 0,
                "system_channel_flags": 0, "nsfw_level": 0, "preferred_locale": "en-US"}

    # ---- interactions --------------------------------------------------------------
    def _interaction(self, kind: int, data: dict, *, permissions: int, channel_id=None,
                     user_id: int = 1600000000000000001, message: dict | None = None,
                     app_permissions: int = ALL_PERMISSIONS,
                     channel_type: int | None = None) -> Interaction:
        iid, token = str(next(self._ids)), f"itoken-{len(self.interactions) + 1}"
        channel_id = channel_id or self.channel_ids[0]
        if channel_type is None:    # Discord says what the channel is: one of the threads?
            channel_type = 11 if channel_id in self.thread_ids else 0
        user = {"id": str(user_id), "username": "reader", "discriminator": "0",
                "global_name": "Reader", "avatar": None}
        guild = self.guild_of(channel_id)
        payload = {
            "id": iid, "application_id": str(self.app_id), "type": kind, "token": token,
            "version": 1, "guild_id": str(guild), "channel_id": str(channel_id),
            "channel": self.channel_payload(channel_id, channel_type), "data": data,
            "member": {"user": user, "roles": [], "joined_at": EPOCH_ISO, "deaf": False,
                       "mute": False, "flags": 0, "permissions": str(permissions)},
            "app_permissions": str(app_permissions), "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": str(guild)},
            "context": 0, "attachment_size_limit": 8 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        if channel_type == DM:      # a direct message: no guild, no member, only the user
            for key in ("guild_id", "member", "guild_locale"):
                payload.pop(key)
            data.pop("guild_id", None)
            payload.update(user=user, context=1, authorizing_integration_owners={},
                           channel={"id": str(channel_id), "type": DM, "recipients": [user],
                                    "last_message_id": None})
        inter = Interaction(iid, token, payload)
        self.interactions[token] = inter
        return inter

    async def user_message(self, content: str, *, mention_bot: bool = True) -> None:
        """A member's message in the first channel (Discord sends a message's content
        to a bot without the message-content intent when it mentions the bot)."""
        user = {"id": "1600000000000000001", "username": "reader", "discriminator": "0",
                "global_name": "Reader", "avatar": None}
        await self.dispatch("MESSAGE_CREATE", {
            "id": str(next(self._ids)), "channel_id": str(self.channel_ids[0]),
            "guild_id": str(self.guild_id), "author": user, "content": content,
            "member": {"roles": [], "joined_at": EPOCH_ISO, "deaf": False, "mute": False,
                       "flags": 0},
            "timestamp": EPOCH_ISO, "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [self.bot_user()] if mention_bot else [],
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0,
            "flags": 0})

    @staticmethod
    def options(values: dict, focused: str | None = None) -> list[dict]:
        out = []
        for name, value in values.items():
            kind = 4 if isinstance(value, int) and not isinstance(value, bool) else 3
            opt = {"name": name, "type": kind, "value": value}
            if name == focused:
                opt["focused"] = True
            out.append(opt)
        return out

    def _command_data(self, name: str, values: dict, focused=None, subcommand=None) -> dict:
        opts = self.options(values, focused)
        if subcommand:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        return {"id": str(next(self._ids)), "name": name, "type": 1, "options": opts,
                "guild_id": str(self.guild_id)}

    async def command(self, name: str, values: dict | None = None, *, subcommand=None,
                      permissions: int = ALL_PERMISSIONS, channel_id=None, **where) -> Interaction:
        """Dispatch a slash command; returns the Interaction whose callbacks fill in.
        `where`: app_permissions (the bot's in that channel), channel_type (11: a thread)."""
        inter = self._interaction(2, self._command_data(name, values or {}, subcommand=subcommand),
                                  permissions=permissions, channel_id=channel_id, **where)
        await self.dispatch("INTERACTION_CREATE", inter.payload)
        return inter

    async def autocomplete(self, name: str, values: dict, focused: str,
                           *, subcommand=None) -> Interaction:
        data = self._command_data(name, values, focused=focused, subcommand=subcommand)
        inter = self._interaction(4, data, permissions=ALL_PERMISSIONS)
        await self.dispatch("INTERACTION_CREATE", inter.payload)
        return inter

    async def click(self, message: dict, custom_id: str, *,
                    permissions: int = MEMBER_PERMISSIONS, **where) -> Interaction:
        """Press a button on `message` (a message dict as the fake returned it);
        `permissions`: the clicker's in that channel; `where` as for command()."""
        data = {"custom_id": custom_id, "component_type": 2}
        inter = self._interaction(3, data, permissions=permissions, message=message, **where)
        await self.dispatch("INTERACTION_CREATE", inter.payload)
        return inter

    async def callback(self, inter: Interaction, timeout: float = 10.0) -> dict:
        """The first response the bot sent to `inter` (the callback JSON body); a test
        fails if Discord refused one first (over a size limit)."""
        await self.wait_for(lambda: inter.callbacks or inter.refused, timeout)
        if inter.refused:
            raise AssertionError(f"fake discord: refused the answer: {inter.refused[0]}")
        return inter.callbacks[0]

    async def followup(self, inter: Interaction, timeout: float = 10.0) -> dict:
        pattern = rf"/webhooks/{self.app_id}/{re.escape(inter.token)}"
        rec = await self.wait_request("POST", pattern, timeout)
        if rec.status >= 400:
            raise AssertionError(f"fake discord: refused the follow-up ({rec.status}): "
                                 f"{dict(self.refused).get(rec.path, '')}")
        return rec.json

    # ---- REST ----------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await request.read()
        data = json.loads(body) if body and request.content_type == "application/json" else None
        rec = Recorded(request.method, path, dict(request.query),
                       request.headers.get("Authorization"), data)
        self.requests.append(rec)
        try:
            failure = self._take_failure(request.method, path)
            if failure is not None:
                if failure.accept:      # Discord did it; only the answer is lost
                    await self._route(request.method, path, data, request)
                rec.status = failure.status
                return self._failure_response(failure)
            if not (rec.authorization == f"Bot {self.token}" or path.startswith("/interactions/")
                    or path.startswith("/webhooks/")):
                rec.status = 401
                return _json({"message": "401: Unauthorized", "code": 0}, 401)
            response = await self._route(request.method, path, data, request)
            rec.status = response.status
            return response
        finally:
            await self._notify()

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for f in self.failures:
            if f.method == method and re.fullmatch(f.pattern, path) and f.times > 0:
                if f.skip:
                    f.skip -= 1
                    continue
                f.times -= 1
                return f
        return None

    @staticmethod
    def _failure_response(f: Failure) -> web.Response:
        if f.status == 429:
            headers = {"Retry-After": str(f.retry_after)}
            if f.via:
                headers["Via"] = "1.1 google"
            if f.is_global:
                headers["X-RateLimit-Global"] = "true"
            return _json({"message": "You are being rate limited.", "retry_after": f.retry_after,
                          "global": f.is_global}, 429, headers)
        messages = {50013: "Missing Permissions", 50001: "Missing Access",
                    10003: "Unknown Channel", 10008: "Unknown Message"}
        return _json({"message": messages.get(f.code, "Error"), "code": f.code}, f.status)

    async def _route(self, method: str, path: str, data, request) -> web.Response:
        app = str(self.app_id)
        if path == "/users/@me":
            return _json(self.bot_user())
        if path == "/oauth2/applications/@me":
            return _json(self._application())
        if path == "/gateway/bot":
            return _json({"url": self.gateway_url, "shards": 1,
                          "session_start_limit": dict(self.session_start_limit)})
        m = re.fullmatch(rf"/applications/{app}(?:/guilds/(\d+))?/commands", path)
        if m:
            return self._commands_route(method, m.group(1) or "global", data)
        m = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)
        if m and method == "POST":
            return self._interaction_callback(m.group(2), data)
        m = re.fullmatch(rf"/webhooks/{app}/([^/]+)(?:/messages/([^/]+))?", path)
        if m:
            errors = message_errors(data or {})
            if errors:
                return self._refuse(path, errors)
            return _json(self._message(self._channel_of(m.group(1)), data or {}, flags=64))
        return self._channel_route(method, path, data, request.query)

    def _application(self) -> dict:
        """GET /oauth2/applications/@me: a team's application has a pseudo-user of the
        team as its owner (flag 1024, TEAM_PSEUDO_USER), its people in team.members."""
        owner = {"id": str(self.owner_id), "username": "owner", "discriminator": "0",
                 "avatar": None}
        team = None
        if self.team is not None:
            team_id = "1800000000000000001"
            owner = {"id": team_id, "username": f"team{team_id}", "discriminator": "0000",
                     "avatar": None, "flags": 1024}
            team = {"id": team_id, "name": "ainews team", "icon": None,
                    "owner_user_id": str(self.team[0][0]) if self.team else None,
                    "members": [{"team_id": team_id, "role": role, "membership_state": state,
                                 "permissions": ["*"],
                                 "user": {"id": str(uid), "username": f"member{uid}",
                                          "discriminator": "0", "avatar": None}}
                                for uid, role, state in self.team]}
        return {"id": str(self.app_id), "name": "ainews", "description": "", "icon": None,
                "bot_public": self.bot_public, "bot_require_code_grant": False,
                "verify_key": "0" * 64, "flags": 0, "team": team, "owner": owner}

    def _commands_route(self, method: str, scope: str, data) -> web.Response:
        if method == "PUT":
            self.commands[scope] = [
                dict(c, id=str(next(self._ids)), application_id=str(self.app_id), version="1",
                     **({"guild_id": scope} if scope != "global" else {}))
                for c in data]
        return _json(self.commands.get(scope, []))

    def _interaction_callback(self, token: str, data: dict) -> web.Response:
        inter = self.interactions.get(token)
        late = inter is not None and self.answer_window is not None and \
            time.monotonic() - inter.created > self.answer_window
        if inter is None or late:
            return _json({"message": "Unknown interaction", "code": 10062}, 404)
        if inter.callbacks:
            return _json({"message": "Interaction has already been acknowledged.",
                          "code": 40060}, 400)
        body = data.get("data") or {}
        errors = (message_errors(body) if data["type"] in (4, 7)
                  else choices_errors(body) if data["type"] == 8 else {})
        if errors:
            inter.refused.append({"data": errors})
            return self._refuse(f"/interactions/{inter.id}/{token}/callback", {"data": errors})
        inter.callbacks.append(data)
        answer = {"interaction": {"id": inter.id, "type": inter.payload["type"]}}
        if data["type"] in (4, 5, 7):
            msg = self._message(int(inter.payload["channel_id"]), body,
                                flags=body.get("flags", 0), interaction_id=inter.id)
            answer["interaction"].update(response_message_id=msg["id"],
                                         response_message_loading=data["type"] == 5,
                                         response_message_ephemeral=bool(body.get("flags", 0) & 64))
            answer["resource"] = {"type": data["type"], "message": msg}
        return _json(answer)

    def _refuse(self, path: str, errors: dict) -> web.Response:
        self.refused.append((path, errors))
        return invalid_form(errors)

    def _channel_of(self, token: str) -> int:
        inter = self.interactions.get(token)
        return int(inter.payload["channel_id"]) if inter else self.channel_ids[0]

    def _channel_route(self, method: str, path: str, data, query=None) -> web.Response:
        m = re.fullmatch(r"/channels/(\d+)/messages(?:/(\d+))?(/threads)?", path)
        if not m or int(m.group(1)) not in self._all_channels():
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        channel = int(m.group(1))
        if self.guild_of(channel) in self.left_guilds:     # the bot was kicked from it
            return _json({"message": "Missing Access", "code": 50001}, 403)
        if method == "GET" and not m.group(2) and not m.group(3):
            return self._history(channel, query or {})
        if m.group(3) and channel in self.thread_ids:   # Discord has no thread in a thread
            return _json({"message": "Cannot execute action on this channel type",
                          "code": 50024}, 400)
        errors = message_errors(data or {}) if method in ("POST", "PATCH") \
            and not m.group(3) else {}
        if errors:
            return self._refuse(path, errors)
        if m.group(3) and method == "POST":
            if m.group(2) in self.threaded:     # one thread a message, as Discord allows
                return _json({"message": "A thread has already been created for this "
                                         "message", "code": 160004}, 400)
            self.threaded.add(m.group(2))
            return _json(self._thread(channel, m.group(2), data))
        if m.group(2) and method == "PATCH":
            if m.group(2) not in self.messages:
                return _json({"message": "Unknown Message", "code": 10008}, 404)
            self.messages[m.group(2)].update({k: v for k, v in data.items() if k != "allowed_mentions"})
            return _json(self.messages[m.group(2)])
        if method == "POST" and not m.group(2):
            if channel in self.embeds_denied and (data or {}).get("embeds"):
                if not data.get("content"):
                    return _json({"message": "Missing Permissions", "code": 50013}, 403)
                data = {k: v for k, v in data.items() if k != "embeds"}   # dropped unsaid
            key = (channel, (data or {}).get("nonce"))
            if key[1] and data.get("enforce_nonce") and key in self.nonces:
                return _json(self.messages[self.nonces[key]])   # Discord's dedupe
            msg = self._message(channel, data or {})
            if key[1]:
                self.nonces[key] = msg["id"]
            return _json(msg)
        return _json({"message": "405: Method Not Allowed", "code": 0}, 405)

    def _history(self, channel: int, query) -> web.Response:
        """Discord's message history: the `limit` (1-100, default 50) messages nearest
        before `before` (default: the newest) or just after `after`, newest first,
        without nonces (Discord keeps them out of history) or ephemeral answers."""
        if channel in self.history_hidden:
            return _json([])
        limit = int(query.get("limit", 50))
        if not 1 <= limit <= 100:
            return invalid_form({"limit": _too_long(100)})
        after, before = int(query.get("after", 0)), int(query.get("before", 1 << 64))
        shown = sorted((m for m in self.messages.values()
                        if m["channel_id"] == str(channel) and not m["flags"] & EPHEMERAL
                        and after < int(m["id"]) < before), key=lambda m: int(m["id"]))
        page = shown[:limit] if "after" in query and "before" not in query else shown[-limit:]
        return _json([{k: v for k, v in m.items() if k != "nonce"} for m in reversed(page)])

    def _snowflake(self) -> str:
        """A message id as Discord makes them: milliseconds since 2015 in the top bits."""
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_message_id = max(self._last_message_id + 1, now)
        return str(self._last_message_id)

    def _message(self, channel: int, body: dict, *, flags: int = 0,
                 interaction_id: str | None = None) -> dict:
        mid = self._snowflake()
        msg = {"id": mid, "channel_id": str(channel), "author": self.bot_user(),
               "content": body.get("content") or "", "timestamp": EPOCH_ISO,
               "edited_timestamp": None, "tts": False, "mention_everyone": False,
               "mentions": [], "mention_roles": [], "attachments": [],
               "embeds": body.get("embeds") or [], "components": body.get("components") or [],
               "pinned": False, "type": 0, "flags": flags}
        if body.get("nonce"):
            msg["nonce"] = body["nonce"]
        if interaction_id:      # an answer to a slash command, sent by its webhook
            msg.update(type=20, webhook_id=str(self.app_id))
            msg["interaction_metadata"] = {"id": interaction_id, "type": 2,
                                           "user": self.bot_user(),
                                           "authorizing_integration_owners": {}}
        self.messages[mid] = msg
        return msg

    def _thread(self, channel: int, message_id: str, data: dict) -> dict:
        return {"id": str(next(self._ids)), "type": 11, "guild_id": str(self.guild_id),
                "parent_id": str(channel), "name": data.get("name", ""), "owner_id": str(self.user_id),
                "message_count": 0, "member_count": 1, "rate_limit_per_user": 0,
                "thread_metadata": {"archived": False, "locked": False,
                                    "auto_archive_duration": data.get("auto_archive_duration", 1440),
                                    "archive_timestamp": EPOCH_ISO}}


def _json(payload: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    # Exactly "application/json": discord.py parses nothing else (no charset suffix).
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(payload).encode(), status=status, headers=hdrs)


class RecordingCommands:
    """Stands in for bot.commands.Commands: same method names, records every call and
    answers with canned Replies (briefs for lookups). Some methods are async, like the
    real ones that touch the network."""

    def __init__(self, briefs=(), companies=("Alibaba", "Alphabet", "OpenAI"),
                 topics=(("open-source", "Open source"), ("pricing", "Pricing"))):
        self.briefs, self.companies, self.topic_pairs = tuple(briefs), companies, topics
        self.calls: list[tuple] = []

    def _lookup(self, name, caller, *args, **kw):
        from bot.replies import Reply
        self.calls.append((name, caller, args, kw))
        return Reply(kind="briefs", briefs=self.briefs, title=f"{name} results", shareable=True)

    def _change(self, name, caller, *args):
        from bot.replies import Reply
        self.calls.append((name, caller, args, {}))
        return Reply.message(f"{name}: done ({' '.join(map(str, args))})", ephemeral=False)

    def company(self, caller, name, limit=None):
        return self._lookup("company", caller, name, limit=limit)

    def store_failure(self, e):
        return None   # no store here: every error is the adapter's to answer

    def too_fast(self, caller):
        return None   # never: the pace is the core's (tests/test_commands_throttle.py)

    def latest(self, caller, limit=None, topic=None):
        return self._lookup("latest", caller, limit=limit, topic=topic)

    def topic(self, caller, slug, limit=None):
        return self._lookup("topic", caller, slug)

    async def search(self, caller, query, limit=None):
        return self._lookup("search", caller, query)

    def topics(self, caller):
        return self._change("topics", caller)

    def help(self, caller):
        return self._change("help", caller)

    def why(self, caller, link):
        return self._change("why", caller, link)

    def subscribe(self, caller, target):
        return self._change("subscribe", caller, target)

    def unsubscribe(self, caller, target):
        return self._change("unsubscribe", caller, target)

    def subscriptions(self, caller):
        return self._change("subscriptions", caller)

    def digest(self, caller, mode, at=None, tz=None):
        return self._change("digest", caller, mode, at, tz)

    async def feeds(self, caller, action, url=None, name=None):
        return self._change("feeds", caller, action, url, name)

    def complete_company(self, prefix):
        return [c for c in self.companies if c.lower().startswith(prefix.lower())]

    def complete_topic(self, prefix):
        return [(s, label) for s, label in self.topic_pairs if s.startswith(prefix.lower())]

    def complete_subscription(self, caller, prefix):
        self.calls.append(("complete_subscription", caller, (prefix,), {}))
        return [("Pricing (pricing)", "topic:pricing")]


@contextlib.asynccontextmanager
async def running_bot(fake: FakeDiscord, core, state=None, **overrides):
    """The real start_discord against `fake`; stops it and restores Discord's endpoints."""
    from bot.config import Settings
    from bot.discord.client import apply_endpoints
    from bot.discord.start import start_discord

    settings = Settings(**{"discord_token": fake.token, "discord_api_url": fake.api_url,
                           "discord_gateway_url": fake.gateway_url, **overrides})
    try:
        runner = await start_discord(settings, core, {} if state is None else state,
                                     ready_timeout=10, guild_ready_timeout=0.1)
        try:
            yield runner
        finally:
            await runner.stop()
    finally:
        apply_endpoints(Settings())


async def served():
    """A started FakeDiscord, closed afterwards: the `fake` fixture of Discord test
    modules, declared as `fake = pytest.fixture(served, name="fake")`."""
    server = await FakeDiscord().start()
    yield server
    await server.close()
