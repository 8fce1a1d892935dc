"""Review: a gateway (or command sync) that is slow but works never lets the bot start.

start_discord's ready_timeout (30 s in production) is counted from before the login and
command sync; past it the whole start is torn down and `ainews run` retries the very same
start, which is just as slow, forever. Before discordfix it returned with a warning and
the bot became ready a moment later."""
from __future__ import annotations

import asyncio

import pytest

from bot.config import Settings
from bot.discord.client import apply_endpoints
from bot.discord.start import start_discord
from bot.errors import StartUnavailable
from tests.fakes.discord import RecordingCommands, served

fake = pytest.fixture(served, name="fake")


async def test_a_gateway_slower_than_the_timeout_never_starts_though_it_answers(fake):
    slow, identified = fake._on_gateway, []

    async def on_gateway(ws, msg):
        if msg.get("op") == 2:           # IDENTIFY: READY comes, just late (busy gateway,
            identified.append(1)         # many guilds, a slow link)
            await asyncio.sleep(0.8)
        if not ws.closed and fake._ws is ws:
            await slow(ws, msg)
    fake._on_gateway = on_gateway
    settings = Settings(discord_token=fake.token, discord_api_url=fake.api_url,
                        discord_gateway_url=fake.gateway_url)
    started, failures = None, []
    try:
        for _ in range(3):               # the retries `ainews run` makes: all alike
            try:
                started = await start_discord(settings, RecordingCommands(), {},
                                              ready_timeout=0.6, guild_ready_timeout=0.1)
                break
            except StartUnavailable as e:
                failures.append(e.reason)
    finally:
        if started is not None:
            await started.stop()
        apply_endpoints(Settings())
    # Each try identified and would have been ready 0.2 s past the timeout.
    assert started is not None, f"never started after {len(identified)} IDENTIFYs: {failures}"
