"""Starting the Discord bot: where it connects, its intents, command sync (snapshot,
schema hash, guild or global), start-up errors, and the application id behind
`ainews discord-invite`."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import discord
import pytest

from bot.config import Settings, load_settings
from bot.discord.client import apply_endpoints
from bot.discord.invite import fetch_application_id
from bot.discord.start import start_discord
from bot.errors import StartUnavailable, UserError
from feeds.models import Brief
from tests.discord_kit import make_brief
from tests.fakes.discord import (GUILDS_INTENT, PERM_MANAGE_CHANNELS, PRIVILEGED_INTENTS,
                                 RecordingCommands, running_bot, served)

SNAPSHOT = Path(__file__).parent / "data" / "discord_commands.json"
BRIEF = Brief(id="s1", headline="Tencent cuts Hunyuan API prices", bullets=("One.",),
              why_it_matters="Price war.", url="https://news.example/hunyuan", source="SCMP",
              published=datetime(2026, 3, 1, tzinfo=timezone.utc))


fake = pytest.fixture(served, name="fake")


@pytest.fixture
def core():
    return RecordingCommands()


@pytest.fixture
async def bot(fake, core):
    async with running_bot(fake, core) as runner:
        yield runner


def global_puts(fake):
    return fake.find("PUT", rf"/applications/{fake.app_id}/commands")


async def test_synced_command_schema_matches_snapshot(fake, bot):
    (put,) = global_puts(fake)
    if os.environ.get("AINEWS_UPDATE_SNAPSHOTS") == "1":  # deliberate regeneration only
        SNAPSHOT.write_text(json.dumps(put.json, indent=2, sort_keys=True) + "\n")
    assert put.json == json.loads(SNAPSHOT.read_text())
    assert put.authorization == f"Bot {fake.token}"


def test_snapshot_reads_well_and_gates_admin_commands():
    commands = {c["name"]: c for c in json.loads(SNAPSHOT.read_text())}
    assert set(commands) == {"company", "latest", "topic", "search", "topics", "help", "why",
                             "subscribe", "unsubscribe", "subscriptions", "digest", "feeds"}
    for name in ("subscribe", "unsubscribe", "digest"):
        assert int(commands[name]["default_member_permissions"]) == PERM_MANAGE_CHANNELS
    assert int(commands["feeds"]["default_member_permissions"]) == 1 << 5   # Manage Server
    assert {o["name"] for o in commands["feeds"]["options"]} == {"list", "add", "remove", "resume"}
    assert commands["company"]["options"][0]["autocomplete"] is True
    for c in commands.values():
        assert 10 <= len(c["description"]) <= 100
        for option in c.get("options", []):
            assert option["description"] and option["description"] != "…"


async def test_sync_only_when_schema_changed(fake, core):
    state: dict = {}
    for expected_puts in (1, 1):           # first start syncs; an unchanged restart doesn't
        async with running_bot(fake, core, state) as runner:
            assert len(global_puts(fake)) == expected_puts
    assert runner.bot.synced == "skipped"
    key = f"discord.commands_hash.{fake.app_id}"
    state[key] = "hash-of-an-older-schema"
    async with running_bot(fake, core, state) as runner:
        assert runner.bot.synced == "global"
    assert len(global_puts(fake)) == 2
    assert state[key] != "hash-of-an-older-schema"


async def test_guild_sync_when_guild_id_set(fake, core):
    async with running_bot(fake, core, {}, discord_guild_id=fake.guild_id):
        pass
    (put,) = fake.find("PUT", rf"/applications/{fake.app_id}/guilds/{fake.guild_id}/commands")
    assert {c["name"] for c in put.json} >= {"company", "feeds", "subscribe"}
    assert global_puts(fake) == []


@pytest.mark.parametrize("status, code", [(403, 50001), (404, 10004)])
async def test_a_guild_id_the_bot_is_not_in_names_the_setting(fake, core, caplog, status, code):
    """A mistyped DISCORD_GUILD_ID (or a server the bot was never added to): the warning
    names the setting and the invite, not only "command sync failed (403 ...)"."""
    fake.fail("PUT", rf"/applications/{fake.app_id}/guilds/4242/commands", status, code=code)
    async with running_bot(fake, core, {}, discord_guild_id=4242) as runner:
        assert runner.bot.synced == ""
    line = next(r.getMessage() for r in caplog.records if "4242" in r.getMessage())
    assert "DISCORD_GUILD_ID" in line and "discord-invite" in line
    assert f"(code {code})" in line     # Discord's own code, to look up or quote


async def test_switching_between_guild_and_global_commands_leaves_one_set(fake, core):
    """Each command must show once in the guild's picker, whichever mode ran before."""
    state: dict = {}
    guild = str(fake.guild_id)
    async with running_bot(fake, core, state):                       # global
        pass
    assert fake.commands["global"] and not fake.commands.get(guild)
    async with running_bot(fake, core, state, discord_guild_id=fake.guild_id):
        pass
    assert fake.commands[guild] and fake.commands["global"] == []
    async with running_bot(fake, core, state):                       # global again
        pass
    assert fake.commands["global"] and fake.commands[guild] == []
    async with running_bot(fake, core, state):                       # nothing left to clear
        pass
    assert len(fake.find("PUT", rf"/applications/{fake.app_id}/guilds/{guild}/commands")) == 2



async def test_an_earlier_guild_the_bot_has_left_does_not_block_the_new_commands(fake, core):
    """The old guild answers 403 (the bot was removed from it): today's commands still
    sync, and later starts stop trying to clear it."""
    state = {f"discord.commands_guild.{fake.app_id}": "4242"}
    old = rf"/applications/{fake.app_id}/guilds/4242/commands"
    fake.fail("PUT", old, 403, code=50001)
    for synced in ("global", "skipped"):
        async with running_bot(fake, core, state) as runner:
            assert runner.bot.synced == synced
    assert fake.commands["global"] and len(fake.find("PUT", old)) == 1

@pytest.mark.parametrize("status, retry_after", [(503, 0), (429, 90)])
async def test_a_failed_command_sync_does_not_stop_the_bot(fake, core, status, retry_after):
    """Discord refusing the sync (an outage, or its daily command-update limit: a 429
    longer than discord.py waits) leaves the old commands; posting must still start,
    and the next start tries the sync again."""
    state: dict = {}
    fake.fail("PUT", rf"/applications/{fake.app_id}/commands", status, retry_after=retry_after,
              times=5)
    async with running_bot(fake, core, state) as runner:
        assert runner.bot.synced == ""
        assert await runner.adapter.send(str(fake.channel_ids[0]), BRIEF, nonce="n1")
    assert not state.get(f"discord.commands_hash.{fake.app_id}")


async def test_refused_token_is_one_line_error(fake, core):
    with pytest.raises(UserError, match="discord: DISCORD_TOKEN was refused"):
        async with running_bot(fake, core, discord_token="not-the-token"):
            pass
    assert fake.identifies == 0


async def test_a_token_reset_while_running_is_one_clear_line(fake, core, caplog):
    """Discord closes the gateway with 4004 on the next resume: the line said only
    "Shard ID None WebSocket closed with 4004"."""
    async with running_bot(fake, core) as runner:
        fake.token = "reset-in-the-developer-portal"
        await fake.drop_gateway()
        await fake.wait_for(runner.task.done)
        await asyncio.sleep(0)                       # the task's done callback
        assert not runner.adapter.ready()            # posts wait, none is given up
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["ainews.discord"]
    line = errors[0].getMessage()
    assert "DISCORD_TOKEN was refused by the gateway (4004" in line
    assert "none is lost" in line and "restarted" in line and "\n" not in line
    assert fake.token not in caplog.text


async def test_the_bot_asks_for_no_privileged_intent_so_it_connects(fake, core):
    """Discord closes the gateway (4014) on privileged intents an application was not
    granted in the Developer Portal; ainews' users are told to enable none."""
    assert fake.granted_intents == 0
    async with running_bot(fake, core) as runner:
        assert runner.adapter.ready()
    assert fake.identified_intents and not fake.identified_intents[0] & PRIVILEGED_INTENTS


async def test_the_bot_asks_for_guild_events_only(fake, core):
    """With the default intents Discord sent every message, reaction and typing event of
    every server the bot is in (without their text), none of which ainews reads: on a
    big server, a constant stream for nothing. Guild events carry the permissions."""
    async with running_bot(fake, core) as runner:
        cached, me = runner.bot.get_channel(fake.channel_ids[0]), runner.bot.guilds[0].me
        assert cached.permissions_for(me).embed_links      # from GUILD_CREATE
    assert fake.identified_intents == [GUILDS_INTENT]


async def test_privileged_intents_refused_are_a_one_line_start_error(fake, core, monkeypatch):
    """Were a change to ask for privileged intents, the start-up error says which ones
    Discord refused and where to enable them, not discord.py's traceback."""
    monkeypatch.setattr("bot.discord.client.gateway_intents", discord.Intents.all)
    with pytest.raises(UserError) as err:
        async with running_bot(fake, core):
            pass
    line = str(err.value)
    assert line.startswith("discord: ") and "4014" in line and "\n" not in line
    assert all(name in line for name in ("members", "presences", "message_content"))
    assert "Developer Portal" in line and fake.identifies == 0


@pytest.mark.parametrize("unset", [{}, {"DISCORD_API_URL": "", "DISCORD_GATEWAY_URL": ""}],
                         ids=["absent", "empty"])
def test_endpoints_left_unset_are_discords_own_again(monkeypatch, unset):
    """discord.py keeps both addresses process-wide: after settings naming a proxy (or
    the fake), settings without them must reach Discord itself."""
    for owner, name in ((discord.http.Route, "BASE"),
                        (discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY")):
        monkeypatch.setattr(owner, name, getattr(owner, name))  # restored after, whatever happens
    custom = {"DISCORD_API_URL": "http://127.0.0.1:9", "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/gw"}
    apply_endpoints(load_settings(custom, dotenv_path=None))
    assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/gw"
    apply_endpoints(load_settings(unset, dotenv_path=None))
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


async def test_fetch_application_id_for_invite(fake):
    settings = Settings(discord_token=fake.token, discord_api_url=fake.api_url)
    try:
        assert await fetch_application_id(settings) == fake.app_id
    finally:
        apply_endpoints(Settings())
    assert fake.find("GET", "/oauth2/applications/@me")[0].authorization == f"Bot {fake.token}"


async def test_store_remembers_the_synced_schema(fake, core):
    from storage.store import Store

    store = Store(":memory:")
    for _ in range(2):
        async with running_bot(fake, core, store):
            pass
    assert len(global_puts(fake)) == 1
    assert store.get_meta(f"discord.commands_hash.{fake.app_id}")


@pytest.mark.parametrize("token, api, message", [
    ("not-the-token", None, "DISCORD_TOKEN was refused"),
    ("fake-token", "http://127.0.0.1:9", "could not ask http://127.0.0.1:9/api/v10"),
    ("", None, "DISCORD_TOKEN is not set"),
    # discord.py sends the token as Authorization: credentials in the URL can't work,
    # and the error must not print the password.
    ("fake-token", "http://user:s3cret@127.0.0.1:9", "DISCORD_API_URL must not contain"),
])
async def test_fetch_application_id_errors_are_one_line(fake, token, api, message):
    settings = Settings(discord_token=token, discord_api_url=api or fake.api_url)
    try:
        with pytest.raises(UserError, match=message) as err:
            await fetch_application_id(settings)
    finally:
        apply_endpoints(Settings())
    assert "s3cret" not in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("start, path", [
    (fetch_application_id, "/oauth2/applications/@me"),                  # discord-invite
    (lambda s: start_discord(s, RecordingCommands(), {}, ready_timeout=5), "/users/@me"),
], ids=["invite", "run"])
async def test_a_json_refusal_is_one_line_with_discords_code(fake, start, path):
    """Discord's JSON error ({"message": "Missing Access", "code": 50001}) lost its code
    in the one line: the number Discord's docs and support go by."""
    fake.fail("GET", path, 403, code=50001, times=5)
    settings = Settings(discord_token=fake.token, discord_api_url=fake.api_url,
                        discord_gateway_url=fake.gateway_url)
    try:
        with pytest.raises(UserError) as err:
            await start(settings)
    finally:
        apply_endpoints(Settings())
    assert str(err.value).endswith("HTTP 403: Missing Access (code 50001)")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("body, content_type", [
    ("<html>Sign in to the network</html>", "text/html"),      # a captive portal, a web site
    ('{"ok": true}', "application/json"),                       # something else's API
])
async def test_an_api_url_that_is_not_discord_is_a_one_line_invite_error(body, content_type):
    from tests.fakes.feedserver import FeedServer
    async with FeedServer() as web:
        for path in ("/api/v10/users/@me", "/api/v10/oauth2/applications/@me"):
            web.add(path, body, content_type=content_type)
        settings = Settings(discord_token="fake-token", discord_api_url=web.base_url)
        try:
            with pytest.raises(UserError, match="did not answer like Discord"):
                await fetch_application_id(settings)
        finally:
            apply_endpoints(Settings())


async def test_credentials_in_the_api_url_are_a_one_line_start_error(fake, core):
    url = fake.api_url.replace("http://", "http://user:s3cret@")
    with pytest.raises(UserError, match="DISCORD_API_URL must not contain") as err:
        async with running_bot(fake, core, discord_api_url=url):
            pass
    assert "s3cret" not in str(err.value)


# ---- start-up failures: retry (Discord's or the network's trouble) or exit (ours) -------
async def _silent_server():
    """Accepts connections and never answers: an API that hangs."""
    import asyncio

    async def hold(reader, writer):
        await reader.read()         # until the client gives up and closes
        writer.close()
    return await asyncio.start_server(hold, "127.0.0.1", 0)


@pytest.mark.parametrize("fault, words, retry_after", [
    ("503", "answered HTTP 503", None),                 # discord.py does not retry a 503
    ("429", "answered HTTP 429", 7.0),                  # Cloudflare's: no Via, Retry-After
    ("closed", "can't reach http://127.0.0.1:", None),  # not listening (yet)
    ("silent", "did not answer the login within 0.5 s", None),
])
async def test_discord_unreachable_at_start_is_a_failure_worth_retrying(fake, core, fault,
                                                                        words, retry_after):
    from bot.errors import StartUnavailable
    overrides, server = {}, None
    if fault in ("503", "429"):
        fake.fail("GET", "/users/@me", int(fault), retry_after=retry_after, via=False)
    elif fault == "closed":
        with socket.socket() as s:      # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            overrides["discord_api_url"] = f"http://127.0.0.1:{s.getsockname()[1]}"
    else:
        server = await _silent_server()
        overrides["discord_api_url"] = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    settings = Settings(discord_token=fake.token, discord_gateway_url=fake.gateway_url,
                        **{"discord_api_url": fake.api_url, **overrides})
    try:
        with pytest.raises(StartUnavailable) as err:
            await start_discord(settings, core, {}, ready_timeout=0.5)
    finally:
        apply_endpoints(Settings())
        if server is not None:
            server.close()
    assert words in err.value.reason and str(err.value).startswith("discord: ")
    assert err.value.retry_after == retry_after and "\n" not in str(err.value)


@pytest.mark.parametrize("fault, words", [
    ("token", "DISCORD_TOKEN was refused (401)"),
    ("404", "check DISCORD_API_URL"),               # DISCORD_API_URL is not Discord's API
])
async def test_discord_configuration_errors_at_start_are_not_retried(fake, core, fault, words):
    from bot.errors import StartUnavailable
    token = "not-the-token" if fault == "token" else fake.token
    if fault == "404":
        fake.fail("GET", "/users/@me", 404, code=0)
    settings = Settings(discord_token=token, discord_api_url=fake.api_url,
                        discord_gateway_url=fake.gateway_url)
    try:
        with pytest.raises(UserError, match=re.escape(words)) as err:
            await start_discord(settings, core, {}, ready_timeout=5)
    finally:
        apply_endpoints(Settings())
    assert not isinstance(err.value, StartUnavailable)


@pytest.mark.parametrize("fault, words, wait", [
    ("503", "can't reach the gateway ws://127.0.0.1:", 5),          # an outage
    ("closed", "can't reach the gateway ws://127.0.0.1:", 5),       # blocked, not up yet
    # A gateway proxy's password (DISCORD_GATEWAY_URL) was shown in status and the log
    ("credentials", "can't reach the gateway ws://gw:***@127.0.0.1:1/gateway", 5),
    # A gateway that never says HELLO is slow, not failed: start carries on (review1).
])
async def test_a_gateway_outage_at_start_is_retried_and_never_shown_connected(
        fake, core, fault, words, wait):
    """REST answers, the gateway doesn't: `ainews run` exited 2 with "discord: could not
    start: 'NoneType' object has no attribute 'sequence'" (discord.py's reconnect reads
    the websocket it never had), or, the gateway hanging, ran on with `ainews status`
    saying "discord connected" while nothing posted, until the client died for good."""
    from bot.connections import ConnectionLog, read_connections
    from bot.startup import Starter
    from storage.store import Store
    server = await _silent_server() if fault == "silent" else None
    gateway = {"503": fake.gateway_url, "closed": "ws://127.0.0.1:1/gateway",
               "credentials": "ws://gw:s3cret@127.0.0.1:1/gateway",
               "silent": f"ws://127.0.0.1:{server and server.sockets[0].getsockname()[1]}/gw"}
    fake.refuse_gateway = fault == "503"
    store = Store(":memory:")
    connection = ConnectionLog(store, "discord")
    where = {"gateway": gateway[fault], "wait": wait}

    def start():
        settings = Settings(discord_token=fake.token, discord_api_url=fake.api_url,
                            discord_gateway_url=where["gateway"])
        return start_discord(settings, core, {}, ready_timeout=where["wait"],
                             guild_ready_timeout=0.1, connection=connection)
    starter = Starter("discord", start, connection)
    try:
        assert await starter.attempt() is None          # retried later, not an exit
        shown = read_connections(store)["discord"]
        fake.refuse_gateway = False                     # the gateway is back
        where.update(gateway=fake.gateway_url, wait=10)
        runner = await starter.attempt()
        await runner.stop()
    finally:
        apply_endpoints(Settings())
        if server is not None:
            server.close()
    assert shown["state"] == "starting" and words in shown["reason"], shown
    assert "s3cret" not in shown["reason"]
    assert read_connections(store)["discord"]["state"] == "connected"


@pytest.mark.parametrize("raw", ['"{}"', "'{}'", "Bot {}", " bot  {}\t"])
async def test_a_token_in_quotes_or_after_bot_is_the_token(fake, core, raw):
    """`docker run --env-file .env` keeps the quotes of DISCORD_TOKEN="..." (python-
    dotenv strips them), and a token copied from a request comes as "Bot ...": sent as
    it was, Discord refused it, and the operator was told to copy the token again."""
    settings = load_settings({"DISCORD_TOKEN": raw.format(fake.token)}, dotenv_path=None)
    async with running_bot(fake, core, discord_token=settings.discord_token):
        pass
    assert {r.authorization for r in fake.find("GET", "/users/@me")} == {f"Bot {fake.token}"}


def test_a_token_with_a_space_inside_is_refused_with_the_reason():
    from bot.config_values import ConfigError
    with pytest.raises(ConfigError, match=r"DISCORD_TOKEN=\[not shown\] holds a space, which "
                                          "a bot token never does") as err:
        load_settings({"DISCORD_TOKEN": "MTAx.Gx abc"}, dotenv_path=None)
    assert "MTAx" not in str(err.value)


@pytest.mark.parametrize("name", ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "LLM_API_KEY"])
def test_other_tokens_in_quotes_lose_the_quotes_too(name):
    """The same --env-file quotes on Slack's tokens and the LLM's key: sent with them."""
    llm = {"LLM_MODEL": "qwen3:8b"} if name.startswith("LLM") else {}
    settings = load_settings({name: '"xoxb-1-abc"', **llm}, dotenv_path=None)
    assert getattr(settings, name.lower()) == "xoxb-1-abc"


async def test_a_gateway_slower_than_the_ready_timeout_still_starts(fake):
    """A slow gateway (a slow link, many servers, a command sync behind a 429) is not an
    outage: retrying the whole start tore down a connection about to work, every time."""
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


async def test_a_first_gateway_connection_failing_after_the_start_gave_up_waiting_is_retried(
        fake, caplog):
    """The start hands a bot not yet ready over after its wait (a slow gateway, above).
    When that first connection then failed (closed before HELLO; discord.py's own 60 s
    for HELLO over), discord.py died reading the websocket it never had (#10520): the log
    said "the bot will not reconnect", status "stopped", and Discord stayed off until
    a restart. Now the bot tries again, as after any other drop, and connects."""
    from bot.connections import ConnectionLog, read_connections
    from storage.store import Store
    fake.hold_hello = True
    store = Store(":memory:")
    settings = Settings(discord_token=fake.token, discord_api_url=fake.api_url,
                        discord_gateway_url=fake.gateway_url)
    runner = await start_discord(settings, RecordingCommands(), {}, ready_timeout=0.3,
                                 guild_ready_timeout=0.1,
                                 connection=ConnectionLog(store, "discord"))
    try:
        await fake.wait_for(lambda: fake.connected)
        await fake.drop_gateway()               # closed before it said HELLO
        fake.hold_hello = False
        await asyncio.wait_for(runner.bot.gateway_ready.wait(), 30)
        message_id = await runner.adapter.send(str(fake.channel_ids[0]), make_brief(),
                                               nonce="n1")
    finally:
        await runner.stop()
        apply_endpoints(Settings())
    assert message_id in fake.messages
    assert read_connections(store)["discord"]["state"] == "connected"
    assert "will not reconnect" not in caplog.text


async def test_status_says_starting_until_a_slow_gateway_gets_the_bot_ready(fake):
    """Handed over not ready (a slow gateway), the bot was shown `connected` by `ainews
    status` while nothing could post and no command was answered."""
    from bot.connections import ConnectionLog, read_connections
    from bot.startup import Starter
    from storage.store import Store
    fake.hold_hello = True
    store = Store(":memory:")
    connection = ConnectionLog(store, "discord")
    settings = Settings(discord_token=fake.token, discord_api_url=fake.api_url,
                        discord_gateway_url=fake.gateway_url)
    starter = Starter("discord", lambda: start_discord(
        settings, RecordingCommands(), {}, ready_timeout=0.3, guild_ready_timeout=0.1,
        connection=connection), connection)
    try:
        runner = await starter.attempt()
        slow = read_connections(store)["discord"]
        fake.hold_hello = False
        await asyncio.wait_for(runner.bot.gateway_ready.wait(), 30)
        await runner.stop()
    finally:
        apply_endpoints(Settings())
    assert slow["state"] == "starting", slow
    assert slow["reason"].startswith("the gateway has not got the bot ready within 0.3 s"), slow
    assert read_connections(store)["discord"]["state"] == "connected"


@pytest.mark.parametrize("servers, said", [(1, "(1 server)"), (0, "(0 servers: ")])
async def test_the_connected_line_counts_servers_and_says_how_to_invite_the_bot(
        fake, core, caplog, servers, said):
    """"discord: connected as X (0 guilds)": Discord's API word, not the "servers" its
    users see, and a bot in none posts nowhere with nothing said of how to add it."""
    caplog.set_level(logging.INFO, "ainews")
    if not servers:
        fake.left_guilds.add(fake.guild_id)
    async with running_bot(fake, core):
        pass
    line = next(r.getMessage() for r in caplog.records if "connected as" in r.getMessage())
    assert said in line and "guild" not in line, line
    assert ("`ainews discord-invite`" in line) == (not servers), line


async def test_the_bot_reaches_discord_through_the_proxy(fake, core):
    """REST and gateway: the proxy knows discord.example.com, this machine does not."""
    from tests.fakes.proxy import FakeProxy, proxies_at
    async with FakeProxy({"discord.example.com": "127.0.0.1"}) as proxy:
        at = f"discord.example.com:{fake.port}"
        async with running_bot(fake, core, discord_api_url=f"http://{at}",
                               discord_gateway_url=f"ws://{at}/gateway",
                               proxies=proxies_at(proxy.url())) as runner:
            assert runner.bot.is_ready() and fake.commands
        assert f"http://{at}/api/v10/users/@me" in proxy.targets()
        assert any(t.startswith(f"ws://{at}/gateway") for t in proxy.targets())
        try:
            assert await fetch_application_id(Settings(
                discord_token=fake.token, discord_api_url=f"http://{at}",
                proxies=proxies_at(proxy.url()))) == fake.app_id
        finally:
            apply_endpoints(Settings())
        assert proxy.targets()[-1] == f"http://{at}/api/v10/oauth2/applications/@me"


async def test_behind_a_tls_inspecting_proxy_discord_needs_and_takes_the_ca_file(core):
    """Discord re-signed by the company's CA: without AINEWS_CA_FILE the start says which
    setting trusts it, not that Discord may be having trouble; with it REST, the gateway
    (wss) and `ainews discord-invite` trust it, besides the system's CAs."""
    from tests.fakes.discord import FakeDiscord
    from tests.fakes.tls import COMPANY_CA, company_signed
    fake = await FakeDiscord(ssl_context=company_signed()).start()
    settings = Settings(discord_token=fake.token, discord_api_url=fake.api_url,
                        discord_gateway_url=fake.gateway_url)
    try:
        with pytest.raises(StartUnavailable) as err:
            await start_discord(settings, core, {}, ready_timeout=5)
        async with running_bot(fake, core, ca_file=COMPANY_CA) as runner:
            assert runner.bot.is_ready() and fake.commands
        trusted = replace(settings, ca_file=COMPANY_CA)
        assert await fetch_application_id(trusted) == fake.app_id
    finally:
        apply_endpoints(Settings())
        await fake.close()
    assert str(err.value) == (
        f"discord: can't reach {fake.api_url}/api/v10: TLS handshake failed (certificate "
        "verify failed: unable to get local issuer certificate; AINEWS_CA_FILE names a CA "
        "to trust, such as a company's)")
