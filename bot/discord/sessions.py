"""Discord's allowance of gateway sessions, looked at before the bot opens one.

Every IDENTIFY (each start of the bot, and a new session after Discord forgot the old
one) uses one of a daily allowance, 1000 for most bots; GET /gateway/bot says how many
are left (session_start_limit). discord.py, running one shard, never asks, so a bot
restarted in a loop (a supervisor restarting it after a crash that came once it was
connected) used them all unseen and went on identifying. Looked at in setup_hook, after
the login and before the gateway connects: with none left the start waits for Discord's
reset (StartUnavailable: `ainews run` retries then), with few left it says so once."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp
import discord

from bot.clock_watch import span
from bot.errors import StartUnavailable

log = logging.getLogger("ainews.discord")

FEW = 100          # sessions left worth a warning: a tenth of the usual allowance
ASK_TIMEOUT = 10.0  # discord.py retries a 5xx for ~25 s; the gateway says the outage


async def check_session_starts(bot: discord.Client) -> None:
    """Raise StartUnavailable when Discord allows no new session now; warn when few."""
    read = _read(await _session_start_limit(bot))
    if read is None:
        return
    left, total, wait = read
    until = span(timedelta(seconds=wait)) or "a moment"
    if left <= 0:
        reason = (f"Discord allows no more gateway sessions for now (all {total} used) "
                  f"for {until}")
        raise StartUnavailable(f"discord: {reason}; each start of the bot uses one: look "
                               "for what restarts it", reason=reason, retry_after=wait)
    if left <= FEW:
        log.warning("discord: %d of Discord's %d gateway sessions left for %s; each start "
                    "of the bot uses one, and with none left it can't connect until "
                    "then: look for what restarts it", left, total, until)


def _read(limit: dict | None) -> tuple[int, int, float] | None:
    """(sessions left, of how many, seconds until the reset); None when Discord doesn't
    say, or says it in a shape no number reads (an API proxy's own answer)."""
    try:
        left, total = int(limit.get("remaining", 1)), int(limit.get("total", 0))
        wait = max(0.0, float(limit.get("reset_after", 0)) / 1000)
        timedelta(seconds=wait)     # within a calendar's reach (a day, really)
    except (AttributeError, TypeError, ValueError, OverflowError):
        if limit is not None:
            log.debug("discord: the session start limit reads as nothing (%.200r)", limit)
        return None
    return left, total, wait


async def _session_start_limit(bot: discord.Client) -> dict | None:
    """None when Discord doesn't say (an API proxy without the route, an outage): the
    gateway's connection then tells what is wrong, as before."""
    # Shielded, as the adapter's requests: one cancelled while discord.py waits out a
    # global 429 would leave its global lock shut for every later request.
    ask = asyncio.ensure_future(bot.http.get_bot_gateway())
    ask.add_done_callback(lambda done: done.cancelled() or done.exception())
    try:
        _, _, limit = await asyncio.wait_for(asyncio.shield(ask), ASK_TIMEOUT)
    except (discord.DiscordException, aiohttp.ClientError, asyncio.TimeoutError,
            OSError, KeyError, TypeError) as exc:
        log.debug("discord: could not read the session start limit (%s)", exc)
        return None
    return limit if isinstance(limit, dict) else None
