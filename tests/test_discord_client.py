"""Slash commands end to end: real discord.py against the fake Discord on loopback."""
from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.config import Settings
from bot.discord.client import apply_endpoints
from bot.discord.invite import fetch_application_id
from bot.errors import UserError
from feeds.models import Brief
from tests.fakes.discord import (ALL_PERMISSIONS, DM, MEMBER_PERMISSIONS, PERM_ADMINISTRATOR,
                                 PERM_MANAGE_CHANNELS,
                                 FakeDiscord, RecordingCommands, running_bot)

SNAPSHOT = Path(__file__).parent / "data" / "discord_commands.json"
EPHEMERAL = 64
BRIEF = Brief(id="s1", headline="Tencent cuts Hunyuan API prices", bullets=("One.", "Two.", "Three."),
              why_it_matters="Price war.", url="https://news.example/hunyuan", source="SCMP",
              published=datetime(2026, 3, 1, tzinfo=timezone.utc), companies=("Tencent",),
              topics=("pricing",))


@pytest.fixture
async def fake():
    server = await FakeDiscord().start()
    yield server
    await server.close()


@pytest.fixture
def core():
    return RecordingCommands(briefs=[BRIEF])


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
    assert set(commands) == {"company", "latest", "topic", "search", "topics", "help",
                             "subscribe", "unsubscribe", "subscriptions", "digest", "feeds"}
    for name in ("subscribe", "unsubscribe", "digest"):
        assert int(commands[name]["default_member_permissions"]) == PERM_MANAGE_CHANNELS
    assert int(commands["feeds"]["default_member_permissions"]) == 1 << 5   # Manage Server
    assert {o["name"] for o in commands["feeds"]["options"]} == {"list", "add", "remove"}
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


LOOKUPS = [
    # command, options, subcommand, expected call (name, args, kwargs)
    ("company", {"name": "Tencent"}, None, ("company", ("Tencent",), {"limit": None})),
    ("company", {"name": "Tencent", "limit": 3}, None, ("company", ("Tencent",), {"limit": 3})),
    ("latest", {}, None, ("latest", (), {"limit": None, "topic": None})),
    ("latest", {"topic": "pricing", "limit": 2}, None, ("latest", (), {"limit": 2, "topic": "pricing"})),
    ("topic", {"slug": "pricing"}, None, ("topic", ("pricing",), {})),
]


@pytest.mark.parametrize("name, options, sub, call", LOOKUPS)
async def test_lookups_answer_ephemerally_with_share_button(fake, bot, core, name, options, sub, call):
    inter = await fake.command(name, options, subcommand=sub)
    cb = await fake.callback(inter)
    assert cb["type"] == 4 and cb["data"]["flags"] & EPHEMERAL
    (embed,) = cb["data"]["embeds"]
    assert embed["title"] == BRIEF.headline and embed["url"] == BRIEF.url
    assert embed["fields"][0]["name"] == "Why it matters"
    button = cb["data"]["components"][0]["components"][0]
    assert button["label"] == "Post to channel"
    assert cb["data"]["allowed_mentions"] == {"parse": []}
    (got,) = core.calls
    assert (got[0], got[2], got[3]) == call
    caller = got[1]
    assert (caller.platform, caller.workspace, caller.channel, caller.user) == (
        "discord", str(fake.guild_id), str(fake.channel_ids[0]), "1600000000000000001")


@pytest.mark.parametrize("name, options, deferred", [
    ("company", {"name": "Tencent"}, False),
    ("search", {"query": "hunyuan"}, True),
])
@pytest.mark.parametrize("restarted", [False, True])
async def test_share_button_posts_embeds_visibly(fake, core, name, options, deferred, restarted):
    """The button works however long the private answer stays open, even after the bot
    restarted (a deploy) in between: it shares what the answer shows."""
    async with running_bot(fake, core) as runner:
        inter = await fake.command(name, options)
        answer = (await fake.followup(inter)) if deferred else (await fake.callback(inter))["data"]
        message = fake.messages[next(reversed(fake.messages))]     # the ephemeral answer
        custom_id = answer["components"][0]["components"][0]["custom_id"]
        if restarted:
            await runner.stop()
            async with running_bot(fake, core):
                shared = await fake.callback(await fake.click(message, custom_id))
        else:
            shared = await fake.callback(await fake.click(message, custom_id))
    assert shared["type"] == 4
    assert not shared["data"].get("flags", 0) & EPHEMERAL
    assert shared["data"]["embeds"] == answer["embeds"]
    assert shared["data"]["content"] == answer["content"] == f"{name} results"
    assert shared["data"]["allowed_mentions"] == {"parse": []}


async def test_share_button_posts_once(fake, bot):
    """A second click on the same answer (a double click) doesn't post it again."""
    inter = await fake.command("company", {"name": "Tencent"})
    custom_id = (await fake.callback(inter))["data"]["components"][0]["components"][0]["custom_id"]
    message = fake.messages[next(reversed(fake.messages))]
    first = await fake.callback(await fake.click(message, custom_id))
    second = await fake.callback(await fake.click(message, custom_id))
    assert not first["data"].get("flags", 0) & EPHEMERAL and first["data"]["embeds"]
    assert second["data"]["flags"] & EPHEMERAL and not second["data"].get("embeds")
    assert second["data"]["content"] == "Already posted to the channel."


SLOW = [
    ("search", {"query": "qwen pricing"}, None, ("search", ("qwen pricing",), {}), True),
    ("feeds", {"url": "https://feeds.example/rss", "name": "Example"}, "add",
     ("feeds", ("add", "https://feeds.example/rss", "Example"), {}), False),
]


@pytest.mark.parametrize("name, options, sub, call, has_embeds", SLOW)
async def test_slow_commands_defer_then_follow_up(fake, bot, core, name, options, sub, call,
                                                   has_embeds):
    inter = await fake.command(name, options, subcommand=sub)
    cb = await fake.callback(inter)
    assert cb["type"] == 5 and cb["data"]["flags"] & EPHEMERAL
    follow = await fake.followup(inter)
    assert bool(follow.get("embeds")) is has_embeds
    assert bool(follow.get("components")) is has_embeds     # share button under lookups
    assert follow["allowed_mentions"] == {"parse": []}
    (got,) = core.calls
    assert (got[0], got[2], got[3]) == call


CHANGES = [
    ("subscribe", {"target": "pricing"}, None, "subscribe: done (pricing)"),
    ("unsubscribe", {"target": "Tencent"}, None, "unsubscribe: done (Tencent)"),
    ("digest", {"mode": "daily", "at": "09:00", "timezone": "Asia/Shanghai"}, None,
     "digest: done (daily 09:00 Asia/Shanghai)"),
    ("digest", {"mode": "off"}, None, "digest: done (off None None)"),
    ("subscriptions", {}, None, "subscriptions: done ()"),
    ("topics", {}, None, "topics: done ()"),
    ("help", {}, None, "help: done ()"),
    ("feeds", {}, "list", "feeds: done (list None None)"),
    ("feeds", {"url": "https://feeds.example/rss"}, "remove",
     "feeds: done (remove https://feeds.example/rss None)"),
]


@pytest.mark.parametrize("name, options, sub, text", CHANGES)
async def test_channel_commands_reply_as_the_core_says(fake, bot, core, name, options, sub, text):
    inter = await fake.command(name, options, subcommand=sub)
    cb = await fake.callback(inter)
    assert cb["type"] == 4
    assert cb["data"]["content"] == text
    assert not cb["data"].get("flags", 0) & EPHEMERAL      # the core said: visible
    assert core.calls[0][1].is_admin is True


async def test_daily_digest_without_a_time_says_which_option_to_add(fake, bot, core):
    """In Discord `at` is its own option: the core's "'' is not a time; use `digest daily
    08:30`" (text-command syntax) would leave the admin guessing."""
    cb = await fake.callback(await fake.command("digest", {"mode": "daily"}))
    assert cb["data"]["flags"] & EPHEMERAL
    assert "at: 08:30" in cb["data"]["content"]
    assert core.calls == []


REFUSALS = [
    ("subscribe", {"target": "pricing"}, None, MEMBER_PERMISSIONS, "Manage Channels"),
    ("unsubscribe", {"target": "pricing"}, None, MEMBER_PERMISSIONS, "Manage Channels"),
    ("digest", {"mode": "off"}, None, MEMBER_PERMISSIONS, "Manage Channels"),
    ("feeds", {}, "list", MEMBER_PERMISSIONS | PERM_MANAGE_CHANNELS, "Manage Server"),
    ("feeds", {"url": "https://x.example/rss"}, "add", MEMBER_PERMISSIONS, "Manage Server"),
]


@pytest.mark.parametrize("name, options, sub, perms, needed", REFUSALS)
async def test_admin_commands_refuse_members_without_permission(fake, bot, core, name, options,
                                                                sub, perms, needed):
    inter = await fake.command(name, options, subcommand=sub, permissions=perms)
    cb = await fake.callback(inter)
    assert cb["type"] == 4 and cb["data"]["flags"] & EPHEMERAL
    assert needed in cb["data"]["content"]
    assert core.calls == []


VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS, SEND_IN_THREADS = 1 << 10, 1 << 11, 1 << 14, 1 << 38
PUBLIC_THREAD = 11
THREAD_ID = 1300000000000000099        # not a channel the bot has cached
NOT_ADMIN = ALL_PERMISSIONS & ~PERM_ADMINISTRATOR


@pytest.mark.parametrize("bot_lacks, channel_type, missing", [
    (VIEW_CHANNEL, 0, "View Channel"),
    (SEND_MESSAGES, 0, "Send Messages"),
    (EMBED_LINKS, 0, "Embed Links"),
    (SEND_MESSAGES | EMBED_LINKS, 0, "Send Messages, Embed Links"),
    (SEND_IN_THREADS, PUBLIC_THREAD, "Send Messages in Threads"),
])
async def test_subscribe_where_the_bot_cannot_post_says_what_it_lacks(fake, bot, core, bot_lacks,
                                                                    channel_type, missing):
    """Slash commands work in channels the bot can't post in (private channels it can't
    see): subscribing there would only pause at the first story. Say what to fix now."""
    inter = await fake.command("subscribe", {"target": "pricing"}, channel_type=channel_type,
                               app_permissions=NOT_ADMIN & ~bot_lacks,
                               channel_id=THREAD_ID if channel_type else None)
    cb = await fake.callback(inter)
    assert cb["type"] == 4 and cb["data"]["flags"] & EPHEMERAL
    assert f"missing: {missing})" in cb["data"]["content"]
    assert core.calls == []


@pytest.mark.parametrize("app_permissions, channel_type", [
    (NOT_ADMIN & ~SEND_MESSAGES, PUBLIC_THREAD),         # a thread needs only its own flag
    (PERM_ADMINISTRATOR, 0),                              # Administrator implies them all
])
async def test_subscribe_where_the_bot_can_post(fake, bot, core, app_permissions, channel_type):
    inter = await fake.command("subscribe", {"target": "pricing"}, channel_type=channel_type,
                               app_permissions=app_permissions,
                               channel_id=THREAD_ID if channel_type else None)
    cb = await fake.callback(inter)
    assert cb["data"]["content"] == "subscribe: done (pricing)"


DM_CHANNEL = 1700000000000000001


@pytest.mark.parametrize("name, options, answered", [
    ("latest", {}, "embeds"),
    ("company", {"name": "Tencent"}, "embeds"),
    ("subscribe", {"target": "all"}, "refused"),   # guild-only; an old client may still try
])
async def test_direct_messages_answer_lookups_and_refuse_channel_changes(fake, bot, core, name,
                                                                         options, answered):
    inter = await fake.command(name, options, channel_id=DM_CHANNEL, channel_type=DM,
                               permissions=0, app_permissions=0)
    cb = await fake.callback(inter)
    assert cb["type"] == 4 and cb["data"]["flags"] & EPHEMERAL
    if answered == "embeds":
        assert cb["data"]["embeds"][0]["title"] == BRIEF.headline
        (got,) = core.calls
        assert (got[1].workspace, got[1].channel, got[1].is_admin) == ("dm", str(DM_CHANNEL), False)
    else:
        assert "Manage Channels" in cb["data"]["content"] and core.calls == []


AUTOCOMPLETE = [
    ("company", {"name": "al"}, None, "name", [("Alibaba", "Alibaba"), ("Alphabet", "Alphabet")]),
    ("topic", {"slug": "p"}, None, "slug", [("Pricing (pricing)", "pricing")]),
    ("latest", {"topic": "open"}, None, "topic", [("Open source (open-source)", "open-source")]),
    ("subscribe", {"target": "open"}, None, "target",
     [("Open source (open-source)", "open-source"), ("OpenAI", "OpenAI")]),
    ("subscribe", {"target": ""}, None, "target", None),
]


@pytest.mark.parametrize("name, options, sub, focused, expected", AUTOCOMPLETE)
async def test_autocomplete_answers(fake, bot, name, options, sub, focused, expected):
    inter = await fake.autocomplete(name, options, focused, subcommand=sub)
    cb = await fake.callback(inter)
    assert cb["type"] == 8
    choices = [(c["name"], c["value"]) for c in cb["data"]["choices"]]
    if expected is None:   # empty input: "all" first, then every topic and company
        assert choices[0][1] == "all" and len(choices) == 1 + 2 + 3
    else:
        assert choices == expected


async def test_failing_command_tells_the_user(fake, bot, core):
    def broken(caller, slug):
        raise RuntimeError("database is locked")
    core.topic = broken
    inter = await fake.command("topic", {"slug": "pricing"})
    cb = await fake.callback(inter)
    assert cb["type"] == 4 and cb["data"]["flags"] & EPHEMERAL
    assert "failed" in cb["data"]["content"] and "database" not in cb["data"]["content"]


async def test_mentioning_the_bot_in_a_message_is_ignored_quietly(fake, bot, core, caplog):
    """People @-mention bots ("@ainews what's new?"). ainews has slash commands only:
    no reply, and no error with a traceback in the on-call log for each mention."""
    caplog.set_level(logging.WARNING)
    await fake.user_message(f"<@{fake.user_id}> what's new on Alibaba?")
    await fake.callback(await fake.command("help"))    # the mention was handled before
    await asyncio.sleep(0.1)                            # and its error task, if any, ran
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [c[0] for c in core.calls] == ["help"]
    assert not fake.find("POST", r"/channels/\d+/messages")


async def test_refused_token_is_one_line_error(fake, core):
    with pytest.raises(UserError, match="discord: DISCORD_TOKEN was refused"):
        async with running_bot(fake, core, discord_token="not-the-token"):
            pass
    assert fake.identifies == 0


async def test_fetch_application_id_for_invite(fake):
    settings = Settings(discord_token=fake.token, discord_api_url=fake.api_url)
    try:
        assert await fetch_application_id(settings) == fake.app_id
    finally:
        apply_endpoints(Settings())
    assert fake.find("GET", "/oauth2/applications/@me")[0].authorization == f"Bot {fake.token}"


# ---- with the real chat core: Commands over an in-memory Store -----------------------

@pytest.fixture
def real_core():
    from bot.commands import Commands
    from feeds.classify import Classifier
    from feeds.models import Classification, Story
    from storage.store import Store

    store = Store(":memory:")
    story = Story(id="st1", url="https://news.example/qwen", title="Alibaba open-sources Qwen 3",
                  text="Alibaba released Qwen 3 weights under Apache-2.0.", source="Reuters",
                  feed_url="https://news.example/rss",
                  published=datetime(2026, 3, 1, tzinfo=timezone.utc),
                  classification=Classification(strategy=True, score=5.0, companies=("Alibaba",),
                                                topics=("open-source",)))
    store.add_new_stories([story], backlog=False, now=datetime(2026, 3, 1, tzinfo=timezone.utc))
    return Commands(store, Classifier(), Settings()), store


async def test_real_core_company_lookup_and_autocomplete(fake, real_core):
    core, store = real_core
    async with running_bot(fake, core, store):
        inter = await fake.command("company", {"name": "alibaba"})
        cb = await fake.callback(inter)
        complete = await fake.autocomplete("company", {"name": "aliba"}, "name")
        choices = (await fake.callback(complete))["data"]["choices"]
    assert cb["data"]["flags"] & EPHEMERAL
    assert cb["data"]["embeds"][0]["title"] == "Alibaba open-sources Qwen 3"
    assert {"name": "Alibaba", "value": "Alibaba"} in choices


async def test_real_core_subscribe_is_stored_for_this_channel(fake, real_core):
    core, store = real_core
    async with running_bot(fake, core, store):
        cb = await fake.callback(await fake.command("subscribe", {"target": "pricing"}))
    assert not cb["data"].get("flags", 0) & EPHEMERAL
    (sub,) = store.subscriptions_for_channel("discord", str(fake.channel_ids[0]))
    assert (sub.workspace, sub.kind, sub.target) == (str(fake.guild_id), "topic", "pricing")


async def test_store_remembers_the_synced_schema(fake, real_core):
    core, store = real_core
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
