"""The Discord gateway after the first connection, against the fake: Discord's own
reconnect requests, sessions it forgets, a connection that stops answering, and an
outage of the gateway mid-run (what the log and `ainews status` say, and how soon the
bot is back once the gateway is)."""
from __future__ import annotations

import asyncio
import logging
import sys
import types

import discord
import pytest

from bot.connections import ConnectionLog, read_connections
from storage.store import Store
from tests.discord_kit import make_brief
from tests.fakes.discord import FakeDiscord, RecordingCommands, running_bot


@pytest.fixture
async def fake():
    server = await FakeDiscord().start()
    yield server
    await server.close()


@pytest.fixture
async def runner(fake):
    """The bot on the fake, its connection state kept in a store as `ainews run` does."""
    async with running_bot(fake, RecordingCommands()) as running:
        running.bot.connection = ConnectionLog(Store(":memory:"), "discord")
        yield running


def shown(runner) -> dict:
    """What `ainews status` reads of the gateway."""
    return read_connections(runner.bot.connection.store)["discord"]


async def back(runner, timeout: float = 30.0) -> None:
    async def ready():
        while not runner.bot.gateway_ready.is_set():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(ready(), timeout)


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The waits of discord.py's reconnect loop (Client.connect), in order, without
    waiting them out."""
    seen: list[float] = []
    sleep = asyncio.sleep

    async def quick(delay, result=None):
        seen.append(delay)
        await sleep(0.01)
        return result
    fast = types.SimpleNamespace(**{k: getattr(asyncio, k) for k in dir(asyncio)
                                    if not k.startswith("__")})
    fast.sleep = quick
    monkeypatch.setattr(discord.client, "asyncio", fast)
    return seen


async def an_outage(fake, runner, tries: int) -> None:
    """The gateway refuses `tries` reconnects (503), then is back."""
    before = fake.gateway_refusals
    fake.refuse_gateway = True
    await fake.drop_gateway()
    await fake.wait_for(lambda: fake.gateway_refusals >= before + tries, timeout=30)
    fake.refuse_gateway = False
    await back(runner)


async def test_a_gateway_outage_mid_run_is_one_line_then_one_when_back(fake, runner, caplog):
    """discord.py logged every failed reconnect at ERROR with a 20-line traceback, for as
    long as the outage lasted, and `ainews status` said only "gateway disconnected".
    Now one line when it starts failing (why, and that posts wait), one when it is
    back, and status names the cause meanwhile."""
    fake.refuse_gateway = True
    await fake.drop_gateway()
    await fake.wait_for(lambda: fake.gateway_refusals >= 3, timeout=30)
    during = shown(runner)
    fake.refuse_gateway = False
    await back(runner)
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not any(r.exc_info for r in said), [r.getMessage() for r in said]
    assert [r.name for r in said] == ["ainews.discord"] * 2, [r.getMessage() for r in said]
    failing, again = (r.getMessage() for r in said)
    assert failing.startswith(f"discord: can't reach the gateway {fake.gateway_url} "
                              "(WSServerHandshakeError: 503")
    assert "posts and slash commands wait" in failing and "?v=10" not in failing
    assert again.startswith("discord: gateway connection back after ")
    assert during["state"] == "reconnecting"
    assert during["reason"].startswith(f"can't reach the gateway {fake.gateway_url} (")
    assert shown(runner)["state"] == "connected"


async def test_after_a_long_outage_the_gateway_is_tried_again_within_a_minute(
        fake, runner, waits):
    """discord.py's wait between reconnects doubles to a random 0-1024 s and starts
    again only after 34 minutes without a failure, not when a connection works: after a
    ten-minute outage, or a few short ones in half an hour, the gateway (and with it
    every Discord post, and slash commands) stayed down up to 17 minutes after Discord
    was back. Now at most a minute, and a new outage starts from the shortest waits."""
    await an_outage(fake, runner, tries=16)
    assert len(waits) >= 15 and max(waits) <= 64, waits
    waits.clear()
    await an_outage(fake, runner, tries=2)
    assert waits[0] <= 2, waits
    await runner.adapter.send(str(fake.channel_ids[0]), make_brief(), nonce="n1")


@pytest.mark.parametrize("op, d, session", [
    (7, None, "resumed"),       # Reconnect: Discord moves the bot to another gateway
    (9, True, "resumed"),       # Invalid Session, resumable
    (9, False, "new"),          # Invalid Session: IDENTIFY again (after discord.py's 5 s)
])
async def test_discord_asking_the_bot_to_reconnect_is_followed_quietly(
        fake, runner, caplog, op, d, session):
    """Discord moves bots between gateway servers and ends sessions routinely (its
    docs: a semi-regular event), over months many times: each was a WARNING ("gateway disconnected; posts wait until
    it reconnects"), back within seconds. Now an INFO line; a reconnect that fails says
    so at WARNING (test above)."""
    caplog.set_level(logging.INFO)
    await fake.send_op(op, d)
    await fake.wait_for(lambda: fake.resumes + fake.identifies > 1, timeout=10)
    await back(runner, timeout=15)
    assert (fake.identifies, fake.resumes) == ((1, 1) if session == "resumed" else (2, 0))
    assert shown(runner)["state"] == "connected"
    said = [r.getMessage() for r in caplog.records if r.name == "ainews.discord"]
    assert said[0] == "discord: gateway disconnected; posts wait until it reconnects"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    await runner.adapter.send(str(fake.channel_ids[0]), make_brief(), nonce="n1")


async def test_a_resume_discord_refuses_is_followed_by_a_new_session(fake, runner):
    fake.new_session()          # the session expired while the bot was away
    await fake.drop_gateway()
    await fake.wait_for(lambda: fake.identifies == 2, timeout=15)
    await back(runner)
    assert fake.resumes == 1 and shown(runner)["state"] == "connected"


async def test_a_connection_that_stops_answering_is_replaced(fake, runner):
    """A zombie connection (heartbeats unanswered, nothing received: a NAT that forgot
    the connection): discord.py gives up on it after its heartbeat timeout, and the
    bot resumes on a new one."""
    runner.bot._connection.heartbeat_timeout = 1.0     # discord.py's is 60 s
    fake.heartbeat_interval, fake.ack_heartbeats = 0.2, False
    await fake.send_op(7)                              # a connection with those settings
    await fake.wait_for(lambda: fake.resumes >= 2, timeout=15)
    fake.ack_heartbeats = True
    await back(runner)
    assert fake.identifies == 1 and shown(runner)["state"] == "connected"


@pytest.mark.parametrize("gateway", [None, "ws://gw:s3cret@127.0.0.1:1/gateway"],
                         ids=["configured", "tried"])
def test_a_failed_reconnect_names_the_gateway_without_its_password(monkeypatch, gateway):
    """A gateway proxy's user:password@ (DISCORD_GATEWAY_URL) was written into the
    warning and `ainews status` at every outage."""
    import yarl
    from bot.discord.reconnect import RECONNECT_LINE, _why
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        yarl.URL("ws://gw:s3cret@127.0.0.1:1/gateway"))
    try:
        raise ConnectionRefusedError(111, "Connect call failed")
    except OSError:
        record = logging.LogRecord("discord.client", logging.ERROR, __file__, 1,
                                   RECONNECT_LINE, None, sys.exc_info())
    why = _why(record, gateway and yarl.URL(gateway))
    assert why.startswith("can't reach the gateway ws://gw:***@127.0.0.1:1/gateway")
    assert "s3cret" not in why
