"""The delivery Adapter for Discord: briefs become embeds posted over REST.

Every post carries a nonce with enforce_nonce, so a retry soon after a crash or a lost
answer cannot post twice; a later retry asks find_sent (bot/discord/history.py), which
looks for the post in the channel's history. Failures are sorted for the outbox: a channel that can't take posts (deleted,
bot removed, permission taken away, an archived or locked thread) is PermanentError;
outages, timeouts and a disconnected gateway are TransientError; a payload Discord
refuses (400 Invalid Form Body and kin, or the server's AutoMod) is RejectedError once
the plain-text fallback also failed (a post, or a roundup of one story), or at once (an
edit, a roundup of several: delivery halves it), so one unpostable brief never stalls
the channel.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
from functools import partial
from typing import Awaitable, Sequence

import aiohttp
import discord

from bot.adapter import DeliveryError, PermanentError, RejectedError, TransientError
from bot.discord.history import SentLookup
from bot.discord.render import brief_embed, clip, plain, post_content, text_fallback
from bot.discord.render_roundup import digest_content, digest_embeds
from bot.discord.interaction import THREAD_TYPES
from bot.first_tries import FirstTries
from feeds.models import Brief
from feeds.tls import handshake_failed

log = logging.getLogger("ainews.discord")

NO_MENTIONS = discord.AllowedMentions.none()
NONCE_MAX = 25                  # Discord rejects longer nonces
# JSON error codes after which the channel will never take our posts.
PERMANENT_CODES = {
    10003: "Unknown Channel (deleted)",
    50001: "Missing Access (bot removed or cannot see the channel)",
    50013: "Missing Permissions (needs Send Messages, or Send Messages in Threads in a "
           "thread, and Embed Links)",
    # These come as 400s, but like the ones above no retry can ever post there.
    # A post in an archived thread reopens it, unless it is locked too: 50083 is both.
    50083: "the thread is archived and locked: unlock it (a moderator's Unlock Thread; "
           "the bot's next post reopens it)",
    160005: "the thread is locked: unlock it (a moderator's Unlock Thread)",
    50008: "not a text channel",
    50024: "not a text channel",
    40058: "a forum channel takes posts only in its threads",
}
# Of those, the channels no admin can make take posts (deleted, not a text channel): their
# posts fail. The others (the bot removed, a permission, a thread archived or locked) its
# admins can fix, so the channel's posts are kept for /subscribe's resume.
GONE_CODES = {10003, 50008, 50024, 40058}
# The reason to pause where Discord would drop a post's stories (_refuse_without_embeds).
NO_EMBEDS = ("Missing Permissions (needs Embed Links: without it Discord drops the "
             "stories and posts the text above them alone)")
UNKNOWN_MESSAGE = 10008
NO_THREADS_HERE = 50024     # a thread opened under a post in a thread (or a voice chat)
# The post has its thread: a retry whose nonce gave back the message an earlier try made
# and opened a thread under (the bot stopped before recording it). Done, not failed.
THREAD_EXISTS = 160004
TOKEN_RECHECK = 600.0       # seconds between tries of a post while the token is refused
INVALID_FORM_BODY = 50035   # 400: a field of our payload was refused
# JSON error codes that refuse this payload, not the channel: no retry can fix them.
REJECTED_CODES = {
    INVALID_FORM_BODY: "Invalid Form Body",
    50006: "Cannot send an empty message",
    50109: "request body is not valid JSON",
    40005: "request entity too large",
    # The server's AutoMod refused words or links in it (the text fallback may pass).
    200000: "blocked by the server's AutoMod",
    200001: "title blocked by the server's AutoMod",
    240000: "blocked by the harmful-links filter",
    20009: "blocked as explicit content",
}


def discord_nonce(nonce: str) -> str:
    """Outbox nonces can be long; Discord takes 25 characters. Hash, stably, if needed."""
    if len(nonce) <= NONCE_MAX:
        return nonce
    return hashlib.sha256(nonce.encode()).hexdigest()[:NONCE_MAX]


class DiscordAdapter(SentLookup):
    """Adapter (bot/adapter.py) for Discord; find_sent is bot.discord.history's."""
    platform = "discord"
    min_interval = 1.0
    # Discord's global limit is 50 requests/s per bot; 1% under it, so fan-out to many
    # channels queues instead of collecting 429s (which Discord punishes in bulk).
    max_rate, burst = 49.5, 49

    def __init__(self, bot: discord.Client, *, threads: bool = False, timeout: float = 30.0):
        self.bot, self.threads, self.timeout = bot, threads, timeout
        # Channels whose last thread failed: said once, not at every post, until one opens.
        self.threadless: set[str] = set()
        self._first_try = FirstTries()           # when this process first tried a post
        self._warned_history: set[str] = set()   # channels whose history we can't read
        if threads:  # each post is two requests (the message, then its thread)
            self.max_rate, self.burst = self.max_rate / 2, self.burst // 2

    def ready(self) -> bool:
        """Delivery holds posts (without spending attempts) while the gateway is down."""
        return self.bot.gateway_ready.is_set()

    async def send(self, channel: str, brief: Brief, *, nonce: str) -> str:
        self._refuse_without_embeds(channel)
        # The headline as text too: a push notification shows nothing else.
        message = await self._post(channel, nonce, text_fallback(brief),
                                   content=post_content(brief), embed=brief_embed(brief))
        if self.threads and not self._in_thread(channel):
            await self._open_thread(channel, message.id, brief)
        return str(message.id)

    async def edit(self, channel: str, message_id: str, brief: Brief) -> None:
        target = self._channel(channel)
        try:
            mid = int(message_id)
        except (TypeError, ValueError):
            raise RejectedError(f"discord: channel {channel}: message id {message_id!r} "
                                "is not a number; cannot edit it") from None
        partial = target.get_partial_message(mid)
        try:
            await self._call(channel, partial.edit(content=post_content(brief),
                                                   embed=brief_embed(brief),
                                                   allowed_mentions=NO_MENTIONS))
        except _MessageGone:
            log.info("discord: message %s in channel %s was deleted; nothing to update",
                     message_id, channel)

    async def send_digest(self, channel: str, title: str, briefs: Sequence[Brief],
                          *, nonce: str) -> str:
        self._refuse_without_embeds(channel)
        # A refused roundup of several is RejectedError: delivery posts it in halves
        # (bot/roundups.py) down to single stories, which go as text as a post does.
        message = await self._post(channel, nonce,
                                   text_fallback(briefs[0]) if len(briefs) == 1 else None,
                                   content=digest_content(title, briefs),
                                   embeds=digest_embeds(title, briefs))
        return str(message.id)

    async def _post(self, channel: str, nonce: str, text: str | None,
                    **payload) -> discord.Message:
        """Post `payload`; if Discord refuses it (Invalid Form Body, AutoMod), `text`
        instead (None: the refusal is RejectedError). Retrying the same embeds can never
        succeed, and the retries would hold up the whole channel for hours."""
        target = self._channel(channel)
        self._first_try.remember(nonce)
        post = partial(target.send, nonce=discord_nonce(nonce), allowed_mentions=NO_MENTIONS)
        try:
            message = await self._call(channel, post(**payload))
        except _PayloadRefused as exc:
            if text is None:
                raise
            log.warning("%s; posting the headline and link as text", exc.reason)
            message = await self._call(channel, post(content=text))
        self._first_try.forget(nonce)     # confirmed: no retry will ask find_sent
        return message

    def _refuse_without_embeds(self, channel: str) -> None:
        """Without Embed Links, Discord refuses a message of embeds alone (403: the
        channel pauses) but takes a post's headline or a roundup's title and drops its
        stories unsaid, so it would count as posted. The cached permission tells."""
        self._channel(channel)          # not connected, or not a channel id: said first
        perms = self._cached_permissions(channel)
        if perms is not None and not perms.embed_links:
            raise PermanentError(f"discord: channel {channel}: {NO_EMBEDS}", fixable=True)

    def _cached_permissions(self, channel: str) -> discord.Permissions | None:
        """The bot's permissions in `channel` as discord.py keeps them (from the gateway's
        GUILD_CREATE and updates); None when it doesn't know the channel."""
        cached = self.bot.get_channel(int(channel))
        me = getattr(getattr(cached, "guild", None), "me", None)
        if cached is None or me is None:
            return None
        return cached.permissions_for(me)

    def _channel(self, channel: str) -> discord.PartialMessageable:
        """A REST-only handle: posting needs no cached guild or channel."""
        if not self.bot.gateway_ready.is_set():
            raise TransientError("discord: not connected to the gateway; will retry", 5.0)
        try:
            channel_id = int(channel)
        except ValueError:
            raise PermanentError(f"discord: channel id {channel!r} is not a number") from None
        return self.bot.get_partial_messageable(channel_id, type=discord.ChannelType.text)

    def _in_thread(self, channel: str) -> bool:
        """A thread takes posts but no threads of its own. Known from /subscribe run in
        it (bot.thread_channels), from discord.py's cache (Discord lists the active
        threads at connect), or from Discord refusing a thread there before."""
        known = self.bot.thread_channels
        if channel not in known and \
                getattr(self.bot.get_channel(int(channel)), "type", None) in THREAD_TYPES:
            known.add(channel)
        return channel in known

    async def _open_thread(self, channel: str, message_id: int, brief: Brief) -> None:
        """Optional discussion thread; the post already succeeded, so failures only log,
        once per channel until a thread opens there again."""
        name = clip(plain(brief.headline) or "Discussion", 100)
        try:
            await self._call(channel, self.bot.http.start_thread_with_message(
                channel, message_id, name=name, auto_archive_duration=1440))
        except DeliveryError as exc:
            if getattr(exc.__cause__, "code", None) != THREAD_EXISTS:
                return self._thread_failed(channel, exc)
        if channel in self.threadless:
            self.threadless.discard(channel)
            log.info("discord: threads open again in channel %s", channel)

    def _thread_failed(self, channel: str, exc: DeliveryError) -> None:
        """A channel without Create Public Threads fails every post's thread: one
        warning, not one per post."""
        if getattr(exc.__cause__, "code", None) == NO_THREADS_HERE:
            # Not a failure: the channel is a thread the cache didn't know. Never ask again.
            self.bot.thread_channels.add(channel)
            log.info("discord: channel %s is a thread: its posts go there without threads "
                     "of their own", channel)
            return
        said = channel in self.threadless
        self.threadless.add(channel)
        refused = getattr(exc.__cause__, "code", None) in (50001, 50013)
        # Discord's error, not our reason: those are worded for posts.
        log.log(logging.DEBUG if said else logging.WARNING,
                "discord: could not open a thread in channel %s: %s; its posts go out "
                "without one%s; not logged again until a thread opens there", channel,
                exc.__cause__ or exc.reason,
                " (the bot needs Create Public Threads there)" if refused else "")

    async def _call(self, channel: str, request: Awaitable):
        # Shielded: a request cancelled while discord.py waits out a global 429 would
        # leave its global lock shut, and every later request of the bot would hang on
        # it. Given up on, the request finishes in the background; a post it makes is
        # the one the retry's nonce then finds.
        task = asyncio.ensure_future(request)
        task.add_done_callback(_consume)
        try:
            result = await asyncio.wait_for(asyncio.shield(task), self.timeout)
        except discord.HTTPException as exc:
            raise self._held(classify_http_error(channel, exc)) from exc
        except discord.RateLimited as exc:  # a 429 longer than discord.py will wait out
            raise TransientError(f"discord: rate limited for {exc.retry_after:.0f} s",
                                 exc.retry_after) from exc
        except asyncio.TimeoutError:
            raise TransientError(f"discord: channel {channel}: no answer after "
                                 f"{self.timeout:g} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            said = handshake_failed(exc) or exc or type(exc).__name__   # a CA to trust, said
            raise TransientError(f"discord: channel {channel}: {said}") from exc
        self.bot.connection.release()     # Discord takes the token again (see _held)
        return result

    def _held(self, error: Exception) -> Exception:
        """A refused token (401) holds every post: `ainews status` shows "held" and why
        in place of "connected" (the gateway may stay up meanwhile) until a call goes."""
        if getattr(error, "down", False):
            self.bot.connection.hold(error.reason.removeprefix("discord: "))
        return error


def _consume(task: asyncio.Future) -> None:
    """Retrieve a given-up request's outcome, so asyncio doesn't log it as lost."""
    if not task.cancelled():
        task.exception()


class _MessageGone(PermanentError):
    """The message to edit was deleted: not the channel's fault."""


class _PayloadRefused(RejectedError):
    """Discord refused our payload (Invalid Form Body); a plain-text post may still go.
    When that fails too, or there is no fallback (an edit, a roundup of several), it
    reaches delivery as the RejectedError it is."""


def classify_http_error(channel: str, exc: discord.HTTPException) -> Exception:
    """Map a REST failure to what the outbox should do about it."""
    code, status = exc.code, exc.status
    if code in PERMANENT_CODES:
        return PermanentError(f"discord: channel {channel}: {PERMANENT_CODES[code]}",
                              fixable=code not in GONE_CODES)
    if code == UNKNOWN_MESSAGE:
        return _MessageGone(f"discord: channel {channel}: message not found")
    if code in REJECTED_CODES:
        return _PayloadRefused(f"discord: channel {channel} refused the post: "
                               f"{REJECTED_CODES[code]} (code {code}) {exc.text}".strip())
    if status == 401:  # the token, not this post or channel: the post waits, however long
        return TransientError("discord: Discord refuses DISCORD_TOKEN (401 Unauthorized): "
                              "it was reset; posts wait until the bot is restarted with "
                              "the new token", TOKEN_RECHECK, down=True)
    if status == 429:  # no Via header: Cloudflare's limit, not Discord's bucket
        retry = _retry_after(exc)
        return TransientError(f"discord: rate limited (429) in channel {channel}", retry)
    # Without Discord's JSON code a 403/404 comes from in between (Cloudflare, an API
    # proxy), not from the channel: no reason to pause every subscription posting now.
    if status == 403 and code:
        return PermanentError(f"discord: channel {channel}: forbidden ({status}, code {code})",
                              fixable=True)
    if status == 404 and code:
        return PermanentError(f"discord: channel {channel}: not found (404, code {code})")
    return TransientError(f"discord: channel {channel}: HTTP {status} (code {code}) {exc.text}".strip())


def _retry_after(exc: discord.HTTPException) -> float | None:
    raw = getattr(exc.response, "headers", {}).get("Retry-After")
    try:
        return float(raw) if raw else None
    except ValueError:
        return None
