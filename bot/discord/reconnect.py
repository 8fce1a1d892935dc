"""Gateway reconnects after the first connection: said once, and paced.

discord.py reconnects the gateway by itself (Client.connect, checked against discord.py
2.7): a connection Discord closes or asks to move (op 7, op 9) is followed at once. When
a try fails (the network down, DNS, a refused connection, a 5xx), it logs "Attempting a
reconnect in N s" at ERROR with the whole traceback, every try, for as long as the
outage lasts. GatewayRetries, a filter on discord.py's client logger, turns those into
one line of ours when the failures start and one when the gateway is back, and names
the cause in `ainews status` meanwhile. Until start_discord hands the bot over (ready,
or not ready within its wait) the start-up retry (bot/startup.py) says it, so the
record is only dropped.

A first connection that fails once handed over (the gateway slow to say HELLO, then
failing) made discord.py die reading the websocket it never had (AttributeError,
Rapptz/discord.py#10520), and the bot stayed off Discord until restarted:
AinewsBot.connect then starts discord.py's loop again (`keeps_trying`).

Between tries discord.py waits a random 0 to 2, 4, ... 1024 s (discord.backoff.
ExponentialBackoff), and starts again from 2 s only after 34 minutes without a failed
try, never when a connection works: after a ten-minute outage, or a few short ones in
half an hour, the next try came up to 17 minutes after the network was back, and every
Discord post (delivery holds them while the gateway is down) and slash command waited
as long. PacedBackoff caps the wait at 2**MOST_EXPONENT s and starts again from the
shortest once a connection works. discord.py makes its backoff in Client.connect from
the name discord.client.ExponentialBackoff, which install_backoff points at it."""
from __future__ import annotations

import logging
import re
import weakref

import discord
from discord.backoff import ExponentialBackoff

from bot.connections import one_line
from feeds.plural import count
from feeds.tls import cannot_reach
from feeds.urls import without_secrets

log = logging.getLogger("ainews.discord")

MOST_EXPONENT = 6           # waits of at most 2**6 = 64 s between tries
LIBRARY_LOG = logging.getLogger("discord.client")
RECONNECT_LINE = "Attempting a reconnect in"


class PacedBackoff(ExponentialBackoff):
    """discord.py's backoff, capped; `connected()` starts every live one from the start."""
    _live: "weakref.WeakSet[PacedBackoff]" = weakref.WeakSet()

    def __init__(self, base: int = 1, *, integral: bool = False):
        super().__init__(base, integral=integral)
        self._max = MOST_EXPONENT
        PacedBackoff._live.add(self)

    @classmethod
    def connected(cls) -> None:
        for backoff in list(cls._live):
            backoff._exp = 0


def install_backoff() -> None:
    """Process-wide, as discord.py's endpoints are (apply_endpoints)."""
    discord.client.ExponentialBackoff = PacedBackoff


class GatewayRetries(logging.Filter):
    """Installed on discord.py's client logger for one bot's life (see the module
    docstring); the bot calls `connected()` from on_ready and on_resumed, start_discord
    `hand_over()` once the start-up retry no longer covers the gateway."""

    def __init__(self, bot):
        super().__init__()
        self.bot, self.failures, self.handed_over = bot, 0, False

    def install(self) -> "GatewayRetries":
        LIBRARY_LOG.addFilter(self)
        return self

    def remove(self) -> None:
        LIBRARY_LOG.removeFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.getMessage().startswith(RECONNECT_LINE):
            return True
        if self.handed_over:
            self._failed(_why(record, getattr(self.bot.ws, "gateway", None)))
        return False

    def hand_over(self) -> None:
        self.handed_over = True

    def keeps_trying(self, exc: BaseException) -> bool:
        """Whether discord.py's loop ending in `exc` is #10520 once handed over (see the
        module docstring): its first connection failed, nothing is wrong with the bot."""
        return (isinstance(exc, AttributeError) and self.handed_over
                and self.bot.ws is None and not self.bot.is_closed())

    def connected(self) -> None:
        PacedBackoff.connected()
        self.handed_over = True
        if self.failures:
            log.warning("discord: gateway connection back after %s; posts and slash "
                        "commands resume", count(self.failures, "failed attempt"))
            self.failures = 0

    def _failed(self, why: str) -> None:
        self.failures += 1
        self.bot.connection.set("reconnecting", why)
        if self.failures == 1:
            log.warning("discord: %s; posts and slash commands wait until it is back; "
                        "retrying at least every %d s", why, 2 ** MOST_EXPONENT)
        else:
            log.debug("discord: gateway still unreachable (%s; attempt %d)", why,
                      self.failures)


def _why(record: logging.LogRecord, gateway=None) -> str:
    """The failed try in one short line, without the gateway URL's query (discord.py's
    version and encoding parameters) that aiohttp repeats in its message. `gateway`:
    the one tried (Discord's READY names where to resume), else the configured one."""
    exc = record.exc_info[1] if record.exc_info else None
    # A gateway proxy's user:password@ (DISCORD_GATEWAY_URL) is no one's to read here.
    gateway = without_secrets(str(gateway or discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY))
    if exc is None:
        return f"can't reach the gateway {gateway}"
    words = re.sub(r",? url='[^']*'", "", str(exc)) or "no answer"
    reason, _ = cannot_reach(exc, f"the gateway {gateway}", one_line(words, 200))
    return reason
