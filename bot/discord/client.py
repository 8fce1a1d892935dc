"""The discord.py client ainews runs: where it connects (apply_endpoints), its gateway
events, and the answer a failing slash command gives. Command sync is
bot/discord/command_sync.py's; starting and stopping it, bot/discord/start.py's.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands as ext_commands

from bot.connections import ConnectionLog
from bot.discord.answer import ShareView, quiet_late_suggestions, too_late
from bot.discord.command_sync import CommandSync
from bot.discord.owners import FeedAdmins, feed_admins
from bot.discord.reconnect import GatewayRetries
from bot.discord.sessions import check_session_starts
from bot.discord.render_reply import reply_payload
from bot.discord.slash import register
from bot.errors import UserError
from bot.replies import Reply, failed
from feeds.plural import count
from feeds.tls import aiohttp_context

log = logging.getLogger("ainews.discord")

API_VERSION = 10
FIRST_RETRY = 5.0   # seconds before a failed first gateway connection is tried again
_DEFAULT_API_BASE = discord.http.Route.BASE
_DEFAULT_GATEWAY = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


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


def trusting_connector(settings) -> aiohttp.TCPConnector | None:
    """REST's and the gateway's connector trusting AINEWS_CA_FILE's CAs besides the
    system's (a TLS-inspecting proxy re-signs discord.com); None: discord.py's own.
    Made in the running loop, as aiohttp wants."""
    context = aiohttp_context(settings.ca_file)
    return aiohttp.TCPConnector(limit=0, ssl=context) if context else None   # limit: discord.py's


def gateway_intents() -> discord.Intents:
    """Guild events only: GUILD_CREATE and its updates bring the channels, threads and
    roles the bot's permissions are worked out from. Slash commands and buttons come as
    interactions, which need no intent, and history is read over REST; the default
    intents also sent every message, reaction and typing event of every server."""
    return discord.Intents(guilds=True)


class AinewsBot(CommandSync, ext_commands.Bot):
    """commands.Bot on guild events only (gateway_intents): slash commands need no
    message events."""

    def __init__(self, settings, core, state, *, guild_ready_timeout: float = 2.0,
                 connection=None):
        # ainews never joins voice: don't warn users about missing voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=ext_commands.when_mentioned, help_command=None,
            intents=gateway_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
            max_ratelimit_timeout=30.0,  # longer 429 waits become TransientError
            # REST and gateway alike, as DISCORD_API_URL's host goes (apply_endpoints ran).
            proxy=settings.proxies.url_for(discord.http.Route.BASE),
            connector=trusting_connector(settings),
        )
        self.settings, self.core, self.state = settings, core, state
        self.gateway_ready = asyncio.Event()
        # What `ainews status` shows of the gateway (bot/connections.py).
        self.connection = connection or ConnectionLog(None, "discord")
        # Failed reconnects said once (bot/discord/reconnect.py); start_discord installs it.
        self.retries = GatewayRetries(self)
        self.synced: str = ""   # "guild", "global" or "skipped": what setup_hook did
        # Channel ids that are threads, told by /subscribe run there: posts in a thread
        # get no thread of their own (bot/discord/adapter.py).
        self.thread_channels: set[str] = set()
        # Who may change the feeds (/feeds): set by setup_hook, before the gateway
        # brings any command; never a server's Manage Server (bot/discord/owners.py).
        self.feed_admins = FeedAdmins()
        register(self.tree, core, threads=settings.discord_threads)

    async def setup_hook(self) -> None:
        await check_session_starts(self)    # before the gateway: none left, no IDENTIFY
        # Every "Post to channel" click, old answers' too; each counts as a command.
        self.add_view(ShareView(self.core))
        self.feed_admins = await feed_admins(self, self.settings.discord_admin_user_ids)
        try:
            self.synced = await self.sync_commands()
        except discord.HTTPException as exc:  # the bot still posts without fresh commands
            from bot.discord.start import error_text   # start imports this module
            log.warning("discord: command sync failed (%s); slash commands may be stale",
                        error_text(exc))
        except discord.RateLimited as exc:    # e.g. Discord's daily command-update limit
            log.warning("discord: command sync rate limited for %.0f s; slash commands may "
                        "be stale until a later start syncs them", exc.retry_after)

    async def on_message(self, message: discord.Message) -> None:
        """Slash commands only: a message that @-mentions the bot is not a command (the
        default would try it as one and log an error with a traceback per mention)."""

    async def on_ready(self) -> None:
        log.info("discord: connected as %s (%s)", self.user, servers_note(len(self.guilds)))
        self._connected()

    async def on_resumed(self) -> None:
        log.info("discord: gateway session resumed")
        self._connected()

    def _connected(self) -> None:
        self.gateway_ready.set()
        self.retries.connected()
        self.connection.set("connected")

    async def connect(self, *, reconnect: bool = True) -> None:
        """discord.py's loop, started again when it dies of a first connection that
        failed after the start handed the bot over (bot/discord/reconnect.py)."""
        while True:
            try:
                return await super().connect(reconnect=reconnect)
            except AttributeError as exc:
                if not self.retries.keeps_trying(exc):
                    raise
                # discord.py waited its backoff only when the connection failed, not when
                # it closed: a pause either way, so a failing gateway isn't hammered.
                await asyncio.sleep(FIRST_RETRY)

    async def close(self) -> None:
        self.retries.remove()
        await super().close()

    async def on_disconnect(self) -> None:
        if self.gateway_ready.is_set() and not self.is_closed():
            # Routine (Discord's docs: reconnects are a semi-regular event) and back
            # within seconds; a reconnect that fails is the warning (reconnect.py).
            log.info("discord: gateway disconnected; posts wait until it reconnects")
            self.connection.set("reconnecting", "gateway disconnected")
        self.gateway_ready.clear()


logging.getLogger("discord.app_commands.tree").addFilter(quiet_late_suggestions)


# A command, option or choice this version doesn't have: global command updates take up
# to an hour to reach every client, which meanwhile sends the old shape.
OUTDATED_PICKER = (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch,
                   app_commands.TransformerError)


def install_error_handler(bot: AinewsBot) -> None:
    """A failing slash handler answers the user instead of leaving "thinking..." forever."""

    @bot.tree.error
    async def on_error(interaction: discord.Interaction, error: Exception) -> None:
        name = getattr(interaction.command, "qualified_name", None) \
            or (interaction.data or {}).get("name", "?")
        store_down = bot.core.store_failure(getattr(error, "original", error))
        if store_down is not None:   # logged by the core, once
            reply = store_down
        elif too_late(error):     # answering again would be refused as well
            log.warning("discord: /%s came too late to answer: Discord takes one within 3 s "
                        "of the command (a slow link, or a command Discord sent again "
                        "after the gateway reconnected); the user saw \"The application "
                        "did not respond\"", name)
            return
        elif isinstance(error, OUTDATED_PICKER):
            log.warning("discord: /%s: %s (a client with the old command list)", name, error)
            reply = Reply.error("This command was updated; your Discord app still shows the "
                                "old version. Please try again in a few minutes.")
        else:
            log.error("discord: /%s failed: %s", name, error, exc_info=error)
            reply = failed(name)
        # Plain text, as the core's errors show (render_reply.reply_payload): whatever failed
        # may have been the rendering or sending of the answer itself.
        text = reply_payload(reply)["content"]
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)


def servers_note(n: int) -> str:
    """The servers the bot is in, as Discord's users call guilds; in none it posts
    nowhere and answers no one, so the way in is named."""
    if n:
        return count(n, "server")
    return "0 servers: add it to one with the link `ainews discord-invite` prints"
