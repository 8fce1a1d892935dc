"""Running the Discord bot inside ainews' event loop: login, gateway, command sync.

discord.py owns the connection and its reconnects; we start it as a task, wait (with a
timeout) until it is ready, and hand delivery an Adapter that refuses to post while the
gateway is down (TransientError: the outbox retries later, nothing is lost).
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands as ext_commands

from bot.discord.adapter import DiscordAdapter
from bot.discord.slash import ShareView, register
from bot.errors import StartUnavailable, UserError

log = logging.getLogger("ainews.discord")

API_VERSION = 10
_DEFAULT_API_BASE = discord.http.Route.BASE
_DEFAULT_GATEWAY = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
HASH_KEY = "discord.commands_hash.{app_id}"
# The guild that last got guild commands (DISCORD_GUILD_ID), to clear when that changes.
GUILD_KEY = "discord.commands_guild.{app_id}"


def apply_endpoints(settings) -> None:
    """Point discord.py at DISCORD_API_URL / DISCORD_GATEWAY_URL, or back at Discord's.

    discord.py keeps both as class attributes, so this is process-wide."""
    api = (settings.discord_api_url or "").rstrip("/")
    if yarl.URL(api).user is not None:
        # discord.py sends the token as Authorization; aiohttp refuses URL credentials
        # next to it (a traceback, printing the URL). Say so without the password.
        raise UserError("discord: DISCORD_API_URL must not contain user:password@; the bot "
                        "token is the only credential Discord and API proxies get")
    if api and not re.search(r"/api/v\d+$", api):
        api = f"{api}/api/v{API_VERSION}"
    discord.http.Route.BASE = api or _DEFAULT_API_BASE
    gateway = settings.discord_gateway_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway) if gateway else _DEFAULT_GATEWAY


def schema_of(tree: app_commands.CommandTree) -> list[dict]:
    """The global command payload exactly as tree.sync() sends it."""
    return [cmd.to_dict(tree) for cmd in tree.get_commands()]


def schema_hash(schema: list[dict]) -> str:
    blob = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


# `state` is any small key/value: a dict, an object with get/set, or the Store itself
# (get_meta/set_meta). It remembers the hash of the last globally synced schema.
def _state_get(state, key: str):
    if state is None:
        return None
    getter = getattr(state, "get_meta", None) or state.get
    return getter(key)


def _state_set(state, key: str, value: str) -> None:
    if state is None:
        return
    setter = getattr(state, "set_meta", None) or getattr(state, "set", None)
    if setter is not None:
        setter(key, value)
    else:
        state[key] = value


class AinewsBot(ext_commands.Bot):
    """commands.Bot with default intents only: slash commands need no message content."""

    def __init__(self, settings, core, state, *, guild_ready_timeout: float = 2.0):
        # ainews never joins voice: don't warn users about missing voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=ext_commands.when_mentioned, help_command=None,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
            max_ratelimit_timeout=30.0,  # longer 429 waits become TransientError
        )
        self.settings, self.core, self.state = settings, core, state
        self.gateway_ready = asyncio.Event()
        self.synced: str = ""   # "guild", "global" or "skipped": what setup_hook did
        register(self.tree, core)

    async def setup_hook(self) -> None:
        self.add_view(ShareView())   # every "Post to channel" click, old answers' too
        try:
            self.synced = await self.sync_commands()
        except discord.HTTPException as exc:  # the bot still posts without fresh commands
            log.warning("discord: command sync failed (%s %s); slash commands may be stale",
                        exc.status, exc.text or "")
        except discord.RateLimited as exc:    # e.g. Discord's daily command-update limit
            log.warning("discord: command sync rate limited for %.0f s; slash commands may "
                        "be stale until a later start syncs them", exc.retry_after)

    async def sync_commands(self) -> str:
        # Switching between guild and global commands clears the other set, or every
        # command would show twice in the picker of that guild.
        await self._clear_earlier_guild()
        guild_id = self.settings.discord_guild_id
        if guild_id:
            return await self._sync_guild(guild_id)
        digest = schema_hash(schema_of(self.tree))
        key = HASH_KEY.format(app_id=self.application_id)
        if _state_get(self.state, key) == digest:
            log.info("discord: commands unchanged since the last sync; not syncing")
            return "skipped"
        await self.tree.sync()
        _state_set(self.state, key, digest)
        log.info("discord: synced %d global commands", len(self.tree.get_commands()))
        return "global"

    async def _sync_guild(self, guild_id: int) -> str:
        # Development: guild commands update instantly, global ones take up to an hour.
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)
        _state_set(self.state, GUILD_KEY.format(app_id=self.application_id), str(guild_id))
        hash_key = HASH_KEY.format(app_id=self.application_id)
        if _state_get(self.state, hash_key):
            await self.http.bulk_upsert_global_commands(self.application_id, [])
            _state_set(self.state, hash_key, "")
            log.info("discord: cleared the global commands an earlier run synced")
        log.info("discord: synced commands to guild %s", guild_id)
        return "guild"

    async def _clear_earlier_guild(self) -> None:
        key = GUILD_KEY.format(app_id=self.application_id)
        earlier = _state_get(self.state, key)
        if not earlier or earlier == str(self.settings.discord_guild_id or ""):
            return
        try:
            await self.http.bulk_upsert_guild_commands(self.application_id, int(earlier), [])
            log.info("discord: cleared the commands an earlier run synced to guild %s", earlier)
        except (discord.Forbidden, discord.NotFound) as exc:
            # The bot left that guild: nothing there to clear now, and asking again at
            # every start would fail the same way and keep today's commands from syncing.
            log.warning("discord: can't clear the commands an earlier run synced to guild %s "
                        "(%s %s); forgetting it", earlier, exc.status, exc.text or "")
        _state_set(self.state, key, "")

    async def on_message(self, message: discord.Message) -> None:
        """Slash commands only: a message that @-mentions the bot is not a command (the
        default would try it as one and log an error with a traceback per mention)."""

    async def on_ready(self) -> None:
        log.info("discord: connected as %s (%s guilds)", self.user, len(self.guilds))
        self.gateway_ready.set()

    async def on_resumed(self) -> None:
        log.info("discord: gateway session resumed")
        self.gateway_ready.set()

    async def on_disconnect(self) -> None:
        if self.gateway_ready.is_set() and not self.is_closed():
            log.warning("discord: gateway disconnected; posts wait until it reconnects")
        self.gateway_ready.clear()


class DiscordRunner:
    """What start_discord returns: the delivery adapter, and how to stop."""

    def __init__(self, bot: AinewsBot, task: asyncio.Task, adapter: DiscordAdapter):
        self.bot, self.task, self.adapter = bot, task, adapter

    async def stop(self) -> None:
        await self.bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self.task, timeout=10)


async def start_discord(settings, commands, state, *, ready_timeout: float = 30.0,
                        guild_ready_timeout: float = 2.0) -> DiscordRunner:
    """Log in, sync commands and connect; return once ready, or after `ready_timeout`
    once logged in (discord.py keeps reconnecting the gateway; the adapter raises
    TransientError until it is up).

    Raises StartUnavailable when Discord's API can't be reached, is in trouble (5xx,
    429) or did not answer the login within `ready_timeout` (`ainews run` retries), and
    UserError (one line: what to fix) when the token or the configuration is refused.
    Nothing is left open when it raises, or when the start-up is cancelled."""
    apply_endpoints(settings)
    bot = AinewsBot(settings, commands, state, guild_ready_timeout=guild_ready_timeout)
    _install_error_handler(bot)
    task = asyncio.create_task(bot.start(settings.discord_token), name="ainews-discord")
    try:
        await _until_ready(bot, task, ready_timeout)
    except BaseException:
        task.cancel()
        await bot.close()       # also the HTTP session login opened
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise
    task.add_done_callback(_report_exit)
    adapter = DiscordAdapter(bot, threads=settings.discord_threads)
    return DiscordRunner(bot, task, adapter)


async def _until_ready(bot: AinewsBot, task: asyncio.Task, timeout: float) -> None:
    ready = asyncio.create_task(bot.gateway_ready.wait())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
    finally:
        ready.cancel()
    if task in done:
        raise _start_failure(task.exception())
    if bot.user is None:    # still logging in: the API never answered (aiohttp waits 5 min)
        reason = f"{discord.http.Route.BASE} did not answer the login within {timeout:g} s"
        raise StartUnavailable(f"discord: {reason}; check DISCORD_API_URL and the network",
                               reason=reason)
    if ready not in done:
        log.warning("discord: not ready after %g s; posts wait until the gateway connects",
                    timeout)


def _report_exit(task: asyncio.Task) -> None:
    """discord.py gives up only on fatal errors (token revoked, ...): say so loudly,
    since posts will then wait in the outbox until a restart."""
    if not task.cancelled() and task.exception() is not None:
        log.error("discord: the bot stopped and will not reconnect until a restart: %s",
                  task.exception())


def _start_failure(exc: BaseException | None) -> UserError:
    if isinstance(exc, discord.LoginFailure):
        return UserError("discord: DISCORD_TOKEN was refused (401); copy the bot token again")
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return UserError("discord: the gateway asked for privileged intents, which ainews "
                         "never uses")
    trouble = _trouble(exc)
    if trouble is not None:
        reason, retry_after = trouble
        return StartUnavailable(f"discord: {reason}; Discord may be having trouble: try "
                                "again later, or check DISCORD_API_URL and the network",
                                reason=reason, retry_after=retry_after)
    return UserError(f"discord: could not start: {exc or 'the client stopped'}")


def _trouble(exc: BaseException | None) -> tuple[str, float | None] | None:
    """(why, Retry-After) when the failure is Discord's or the network's, not ours: a
    5xx, a 429, no connection. None for everything a retry cannot mend."""
    api = discord.http.Route.BASE
    if isinstance(exc, discord.RateLimited):
        return f"{api} rate-limited the login", exc.retry_after
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return f"{api} answered HTTP 429", _retry_after(exc.response)
        return (f"{api} answered HTTP {exc.status}", None) if exc.status >= 500 else None
    if isinstance(exc, aiohttp.InvalidURL):     # a bad DISCORD_API_URL stays bad
        return None
    if isinstance(exc, (OSError, aiohttp.ClientError, asyncio.TimeoutError,
                        discord.GatewayNotFound)):
        return f"can't reach {api} ({type(exc).__name__}: {exc})", None
    return None


def _retry_after(response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


# A command, option or choice this version doesn't have: global command updates take up
# to an hour to reach every client, which meanwhile sends the old shape.
OUTDATED_PICKER = (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch,
                   app_commands.TransformerError)


def _install_error_handler(bot: AinewsBot) -> None:
    """A failing slash handler answers the user instead of leaving "thinking..." forever."""

    @bot.tree.error
    async def on_error(interaction: discord.Interaction, error: Exception) -> None:
        name = getattr(interaction.command, "qualified_name", None) \
            or (interaction.data or {}).get("name", "?")
        if isinstance(error, OUTDATED_PICKER):
            log.warning("discord: /%s: %s (a client with the old command list)", name, error)
            text = ("This command was updated; your Discord app still shows the old version. "
                    "Please try again in a few minutes.")
        else:
            log.error("discord: /%s failed: %s", name, error, exc_info=error)
            text = "Sorry, that command failed. The error was logged; please try again later."
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
