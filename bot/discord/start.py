"""Running the Discord bot inside ainews' event loop: login, gateway, command sync.

discord.py owns the connection and its reconnects; we start it as a task, wait (with a
timeout) until it is ready, and hand delivery an Adapter that refuses to post while the
gateway is down (TransientError: the outbox retries later, nothing is lost).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
import discord

from bot.connections import one_line
from bot.discord.adapter import DiscordAdapter
from bot.discord.client import AinewsBot, apply_endpoints, install_error_handler
from bot.discord.reconnect import install_backoff
from bot.errors import StartUnavailable, UserError
from feeds.tls import cannot_reach, handshake_failed
from feeds.urls import without_secrets

log = logging.getLogger("ainews.discord")


class DiscordRunner:
    """What start_discord returns: the delivery adapter, and how to stop."""

    def __init__(self, bot: AinewsBot, task: asyncio.Task, adapter: DiscordAdapter):
        self.bot, self.task, self.adapter = bot, task, adapter

    def ready(self) -> bool:
        """Connected, not only handed over (a slow gateway): what `ainews status` shows."""
        return self.bot.gateway_ready.is_set()

    async def stop(self) -> None:
        await self.bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self.task, timeout=10)


async def start_discord(settings, commands, state, *, ready_timeout: float = 30.0,
                        guild_ready_timeout: float = 2.0, connection=None) -> DiscordRunner:
    """Log in, sync commands and connect; return once the gateway is ready (after
    that, discord.py reconnects it by itself; the adapter raises TransientError while
    it is down).

    Raises StartUnavailable when Discord's API or gateway can't be reached, is in
    trouble (5xx, 429) or did not get the bot ready within `ready_timeout` (`ainews run`
    retries), and UserError (one line: what to fix) when the token or the configuration
    is refused. Nothing is left open when it raises, or when the start-up is cancelled."""
    apply_endpoints(settings)
    bot = AinewsBot(settings, commands, state, guild_ready_timeout=guild_ready_timeout,
                    connection=connection)
    install_error_handler(bot)
    install_backoff()
    bot.retries.install()
    task = asyncio.create_task(bot.start(settings.discord_token), name="ainews-discord")
    try:
        await _until_ready(bot, task, ready_timeout)
    except BaseException:
        task.cancel()
        await bot.close()       # also the HTTP session login opened
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise
    bot.retries.hand_over()     # from now on, failed gateway tries are the bot's to say
    task.add_done_callback(lambda task: _report_exit(task, bot.connection, bot.intents))
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
        raise _gateway_failure(task.exception(), bot) \
            or _start_failure(task.exception(), bot.intents)
    if bot.user is None:    # still logging in: the API never answered (aiohttp waits 5 min)
        reason = f"{discord.http.Route.BASE} did not answer the login within {timeout:g} s"
        raise StartUnavailable(f"discord: {reason}; check DISCORD_API_URL and the network",
                               reason=reason)
    if ready not in done:
        # Slow, not failed (a slow link, many servers, a command sync behind a 429):
        # retrying the whole start would tear down a connection about to work, every
        # time. A first connection that fails ends the task: `task in done` above.
        log.warning("discord: not ready after %g s; posts wait until the gateway connects",
                    timeout)
        bot.connection.set("starting", f"the gateway has not got the bot ready within "
                                       f"{timeout:g} s; still connecting")


GATEWAY_HINT = ("Discord may be having trouble: try again later, or check "
                "DISCORD_GATEWAY_URL and the network (a proxy may block websockets)")
# The first gateway connection failing the way an outage or the network does.
GATEWAY_TROUBLE = (OSError, aiohttp.ClientError, asyncio.TimeoutError,
                   discord.GatewayNotFound, discord.ConnectionClosed, discord.HTTPException)


def _gateway() -> str:
    """DISCORD_GATEWAY_URL as the log and `ainews status` show it: a proxy's
    user:password@ hidden."""
    return without_secrets(str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY))


def _gateway_failure(exc: BaseException | None, bot: AinewsBot) -> StartUnavailable | None:
    """Logged in, but the gateway's first connection failed: discord.py 2.7 then dies
    reading the websocket it never had (AttributeError, Rapptz/discord.py#10520). An
    outage, not a configuration error; None for any other failure."""
    if bot.user is None or bot.ws is not None or _refusal(exc, bot.intents):
        return None
    cause = exc.__context__ if isinstance(exc, AttributeError) else exc
    if not isinstance(cause, GATEWAY_TROUBLE):
        return None
    reason, ca_is_fix = _cannot_reach(f"the gateway {_gateway()}", cause)
    return StartUnavailable(f"discord: {reason}{_advice(ca_is_fix, GATEWAY_HINT)}",
                            reason=reason)


def _cannot_reach(where: str, exc: BaseException) -> tuple[str, bool]:
    """Why `where` could not be reached (a refused certificate as the feeds say it), and
    whether the CA to trust is the fix."""
    return cannot_reach(exc, where, one_line(str(exc), 200))


def _advice(ca_is_fix: bool, advice: str) -> str:
    """"; advice", unless the reason ends on the CA to trust: Discord is not in trouble."""
    return "" if ca_is_fix else f"; {advice}"


def _report_exit(task: asyncio.Task, connection, intents: discord.Intents) -> None:
    """discord.py gives up only on fatal errors (token reset, ...): say so loudly, in
    ainews' words, since posts will then wait in the outbox until a restart."""
    if task.cancelled() or task.exception() is None:
        return
    exc = task.exception()
    why = _refusal(exc, intents) or f"the client stopped: {exc}"
    connection.set("stopped", why)
    log.error("discord: %s; the bot will not reconnect, and posts to Discord wait in the "
              "outbox (none is lost) until it is restarted", why)


# Gateway close codes after which discord.py does not reconnect (discord.com/developers/
# docs/topics/opcodes-and-status-codes), for the ones a bot with ainews' setup can meet.
FATAL_CLOSE = {
    4004: "DISCORD_TOKEN was refused by the gateway (4004 Authentication failed): the "
          "token was reset or the bot deleted; copy the bot token again",
    4010: "the gateway refused the shard (4010 Invalid shard)",
    4011: "the gateway requires sharding (4011): the bot is in too many servers for one "
          "connection",
    4012: "the gateway refused the API version (4012)",
    4013: "the gateway refused the intents (4013 Invalid intents)",
}


# discord.py's privileged intents, as the Developer Portal's switches name them.
PRIVILEGED = {"members": "Server Members", "presences": "Presence",
              "message_content": "Message Content"}


def _disallowed(intents: discord.Intents | None) -> str:
    """The 4014 line: Discord doesn't say which intents, so name those the bot asked for."""
    asked = [name for name in PRIVILEGED if getattr(intents, name, False)]
    if not asked:
        return ("the gateway refused the bot's intents (4014 Disallowed intent(s)) though "
                "it asks for no privileged one; check the application in the Developer Portal")
    switches = ", ".join(PRIVILEGED[name] for name in asked)
    return (f"the gateway refused the bot's privileged intents (4014 Disallowed intent(s)): "
            f"{', '.join(asked)}; ainews needs none, so ask for none of them, or enable "
            f"{switches} under Bot > Privileged Gateway Intents in the Developer Portal")


def _refusal(exc: BaseException | None, intents: discord.Intents | None = None) -> str | None:
    """What to fix, for the failures no retry mends (None: another failure)."""
    if isinstance(exc, discord.LoginFailure):
        return "DISCORD_TOKEN was refused (401); copy the bot token again"
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return _disallowed(intents)
    if isinstance(exc, discord.ConnectionClosed) and exc.code in FATAL_CLOSE:
        return FATAL_CLOSE[exc.code]
    return None


def _start_failure(exc: BaseException | None, intents: discord.Intents) -> UserError:
    if isinstance(exc, StartUnavailable):       # already said (bot/discord/sessions.py)
        return exc
    refusal = _refusal(exc, intents)
    if refusal is not None:
        return UserError(f"discord: {refusal}")
    trouble = _trouble(exc)
    if trouble is not None:
        reason, retry_after, ca_is_fix = trouble
        advice = _advice(ca_is_fix, "Discord may be having trouble: try again later, or "
                                    "check DISCORD_API_URL and the network")
        return StartUnavailable(f"discord: {reason}{advice}", reason=reason,
                                retry_after=retry_after)
    return UserError(f"discord: could not start: {error_text(exc) or 'the client stopped'}"
                     f"{_api_hint(exc)}")


def _api_hint(exc: BaseException | None) -> str:
    # A 404 at start-up is the address, not the token (a wrong one is a 401): Slack's
    # twin of this error names SLACK_API_URL, this one named nothing.
    if isinstance(exc, discord.NotFound):
        return "; check DISCORD_API_URL (unset it for Discord's own API)"
    return ""


def error_text(exc: BaseException | None) -> str:
    """An exception as one line: a 404 from something that is not Discord's API (a
    proxy, a wrong DISCORD_API_URL) carries its HTML error page, and the command's one
    line of error became a dozen lines of markup. Discord's JSON error code is kept
    (cut last): it is what Discord's docs and support go by."""
    if isinstance(exc, discord.HTTPException):
        text = exc.text.strip()
        page = text.startswith("<")
        said = " (an HTML page, not Discord's JSON)" if page else f": {text}" if text else ""
        code = f" (code {exc.code})" if exc.code else ""
        return one_line(f"HTTP {exc.status}{said}", 300 - len(code)) + code
    return handshake_failed(exc) or one_line(str(exc or ""), 300)


def _trouble(exc: BaseException | None) -> tuple[str, float | None, bool] | None:
    """(why, Retry-After, whether the CA to trust is the fix) when the failure is
    Discord's or the network's, not ours: a 5xx, a 429, no connection. None for
    everything a retry cannot mend."""
    api = discord.http.Route.BASE
    if isinstance(exc, discord.RateLimited):
        return f"{api} rate-limited the login", exc.retry_after, False
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return f"{api} answered HTTP 429", _retry_after(exc.response), False
        return (f"{api} answered HTTP {exc.status}", None, False) if exc.status >= 500 else None
    if isinstance(exc, aiohttp.InvalidURL):     # a bad DISCORD_API_URL stays bad
        return None
    if isinstance(exc, (OSError, aiohttp.ClientError, asyncio.TimeoutError,
                        discord.GatewayNotFound)):
        reason, ca_is_fix = _cannot_reach(api, exc)
        return reason, None, ca_is_fix
    return None


def _retry_after(response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
