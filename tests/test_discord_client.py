"""Slash commands end to end: real discord.py against the fake Discord on loopback.
(Start-up and command sync: test_discord_start.py.)"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

import pytest

from bot.config import Settings
from feeds.models import Brief
from tests.fakes.discord import (ALL_PERMISSIONS, DM, MEMBER_PERMISSIONS, PERM_ADMINISTRATOR,
                                 PERM_MANAGE_CHANNELS,
                                 RecordingCommands, running_bot, served)

EPHEMERAL = 64
BRIEF = Brief(id="s1", headline="Tencent cuts Hunyuan API prices", bullets=("One.", "Two.", "Three."),
              why_it_matters="Price war.", url="https://news.example/hunyuan", source="SCMP",
              published=datetime(2026, 3, 1, tzinfo=timezone.utc), companies=("Tencent",),
              topics=("pricing",))


fake = pytest.fixture(served, name="fake")


@pytest.fixture
def core():
    return RecordingCommands(briefs=[BRIEF])


@pytest.fixture
async def bot(fake, core):
    async with running_bot(fake, core) as runner:
        yield runner


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


CREATE_PUBLIC_THREADS = 1 << 35


@pytest.fixture
async def threads_bot(fake, core):
    async with running_bot(fake, core, discord_threads=True) as runner:
        yield runner


async def test_subscribe_with_threads_on_says_a_missing_create_public_threads(fake,
                                                                            threads_bot, core):
    """AINEWS_DISCORD_THREADS=1 opens a thread under each post: without Create Public
    Threads every post's thread failed, after /subscribe had said "done"."""
    inter = await fake.command("subscribe", {"target": "pricing"},
                               app_permissions=NOT_ADMIN & ~CREATE_PUBLIC_THREADS)
    cb = await fake.callback(inter)
    assert cb["type"] == 4 and cb["data"]["flags"] & EPHEMERAL
    assert "missing: Create Public Threads)" in cb["data"]["content"]
    assert "thread under each post" in cb["data"]["content"]
    assert core.calls == []


@pytest.mark.parametrize("threads", [False, True])
async def test_subscribe_needs_create_public_threads_only_with_threads_on(fake, core, threads):
    async with running_bot(fake, core, discord_threads=threads):
        inter = await fake.command("subscribe", {"target": "pricing"},
                                   app_permissions=NOT_ADMIN & ~CREATE_PUBLIC_THREADS
                                   if not threads else NOT_ADMIN)
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
    ("unsubscribe", {"target": "pri"}, None, "target", [("Pricing (pricing)", "topic:pricing")]),
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


@pytest.mark.parametrize("name, options, sub", [
    ("company", {}, None),                      # a required option the user's client lacks
    ("ainews", {"q": "x"}, None),               # a command an older version registered
    ("feeds", {}, "purge"),
    ("digest", {"mode": "weekly"}, None),       # a choice that no longer exists
])
async def test_a_command_from_an_outdated_picker_says_so(fake, bot, core, caplog, name, options,
                                                        sub):
    """Global command updates take up to an hour to reach every client: meanwhile users
    send the old shape. They are told to retry shortly; the log gets a warning, not an
    error with a traceback per use."""
    caplog.set_level(logging.WARNING)
    cb = await fake.callback(await fake.command(name, options, subcommand=sub))
    assert cb["data"]["flags"] & EPHEMERAL
    assert "updated" in cb["data"]["content"] and core.calls == []
    assert [r.levelno for r in caplog.records if r.name.startswith("ainews")] == [logging.WARNING]
    assert not any(r.exc_info for r in caplog.records)


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


@pytest.mark.parametrize("command, options, usage", [
    ("company", {"name": "alibaba 3 4"}, "/company name:NAME [limit:LIMIT]"),
    ("company", {"name": "alibaba 3", "limit": 4}, "/company name:NAME [limit:LIMIT]"),
    ("topic", {"slug": "chips 3 4"}, "/topic"),
])
async def test_a_second_count_gets_the_commands_usage(fake, real_core, command, options,
                                                      usage):
    """A count typed into the name box beside the limit was "no company 'alibaba 3' —
    did you mean Alibaba or Meta?"."""
    core, store = real_core
    async with running_bot(fake, core, store):
        cb = await fake.callback(await fake.command(command, options))
    shown = cb["data"]["content"]
    assert cb["data"]["flags"] & EPHEMERAL and "at most one LIMIT" in shown, shown
    assert usage in shown and "no company" not in shown and "no topic" not in shown, shown


@pytest.mark.parametrize("typed", ["qwen", "阿里巴巴", "ＡＬＩＢＡＢＡ"])
async def test_subscribe_autocomplete_offers_a_company_by_its_alias(fake, real_core, typed):
    # /company offered Alibaba for "qwen"; /subscribe filtered it out again by its name.
    core, store = real_core
    async with running_bot(fake, core, store):
        complete = await fake.autocomplete("subscribe", {"target": typed}, "target")
        choices = (await fake.callback(complete))["data"]["choices"]
    assert {"name": "Alibaba", "value": "Alibaba"} in choices
    assert "all" not in [c["value"] for c in choices]


QUOTED_TOPICS = ['"chips"', "“chips”", "「芯片」", '"chi', "“Chips & comp"]


@pytest.mark.parametrize("command, option", [("topic", "slug"), ("latest", "topic"),
                                             ("subscribe", "target")])
@pytest.mark.parametrize("typed", QUOTED_TOPICS)
async def test_topic_pickers_take_quotes_as_the_company_picker_does(fake, real_core, command,
                                                                    option, typed):
    """The company picker offered Alibaba for "Alibaba Group" and 「阿里巴巴」; a topic
    picker offered nothing for "chips" or 「芯片」, which /topic itself accepts."""
    core, store = real_core
    async with running_bot(fake, core, store):
        complete = await fake.autocomplete(command, {option: typed}, option)
        choices = (await fake.callback(complete))["data"]["choices"]
        picked = await fake.callback(await fake.command(command, {option: typed}))
    assert {"name": "Chips & compute (chips)", "value": "chips"} in choices
    if "”" in typed or "」" in typed or typed.endswith('"'):   # typed whole: the command too
        assert "no topic" not in str(picked["data"]) and "Chips & compute" in str(picked["data"])


async def test_unsubscribe_picker_takes_a_quoted_topic(fake, real_core):
    core, store = real_core
    async with running_bot(fake, core, store):
        await fake.callback(await fake.command("subscribe", {"target": "「芯片」"}))
        inter = await fake.autocomplete("unsubscribe", {"target": "“chips”"}, "target")
        choices = [(c["name"], c["value"]) for c in (await fake.callback(inter))["data"]["choices"]]
    assert choices == [("Chips & compute (chips)", "topic:chips")]


async def test_real_core_subscribe_is_stored_for_this_channel(fake, real_core):
    core, store = real_core
    async with running_bot(fake, core, store):
        cb = await fake.callback(await fake.command("subscribe", {"target": "pricing"}))
    assert not cb["data"].get("flags", 0) & EPHEMERAL
    (sub,) = store.subscriptions_for_channel("discord", str(fake.channel_ids[0]))
    assert (sub.workspace, sub.kind, sub.target) == (str(fake.guild_id), "topic", "pricing")


@pytest.mark.parametrize("typed, expected", [
    ("", [("Everything (all strategy stories)", "all"), ("Alibaba", "company:Alibaba"),
          ("Pricing & monetization (pricing)", "topic:pricing")]),
    ("PRI", [("Pricing & monetization (pricing)", "topic:pricing")]),
    ("qwen", [("Alibaba", "company:Alibaba")]),       # an alias names what it follows
    ("nvidia", []),                                   # followed elsewhere, not here
])
async def test_unsubscribe_offers_only_what_this_channel_follows(fake, real_core, typed,
                                                                 expected):
    """It offered every topic and company; the one to stop is one the channel follows."""
    from feeds.models import Subscription
    core, store = real_core
    store.subscribe(Subscription("discord", str(fake.guild_id), "1300000000000000999",
                                 "company", "Nvidia"))
    async with running_bot(fake, core, store):
        for target in ("pricing", "qwen", "all"):
            await fake.callback(await fake.command("subscribe", {"target": target}))
        inter = await fake.autocomplete("unsubscribe", {"target": typed}, "target")
        choices = [(c["name"], c["value"]) for c in (await fake.callback(inter))["data"]["choices"]]
        if choices:     # what it offers, unsubscribe takes
            cb = await fake.callback(await fake.command("unsubscribe",
                                                        {"target": choices[-1][1]}))
            assert "no longer gets" in cb["data"]["content"]
    assert choices == expected


async def test_unsubscribe_offers_at_most_25_of_a_long_list(fake, real_core):
    from feeds.classify import Classifier
    from feeds.models import Subscription
    core, store = real_core
    names = Classifier().company_names()[:40]
    for name in names:
        store.subscribe(Subscription("discord", str(fake.guild_id), str(fake.channel_ids[0]),
                                     "company", name))
    async with running_bot(fake, core, store):
        inter = await fake.autocomplete("unsubscribe", {"target": ""}, "target")
        choices = (await fake.callback(inter))["data"]["choices"]
    assert [c["value"] for c in choices] == [f"company:{n}" for n in sorted(names)[:25]]


@pytest.mark.parametrize("name, options, deferred", [
    ("company", {"name": "Tencent"}, False),
    ("search", {"query": "hunyuan"}, True),
])
async def test_the_biggest_answer_fits_discords_limits(fake, maximal_reply, name, options,
                                                       deferred):
    """25 long, hostile briefs: the fake refuses what Discord refuses (content, embed
    and field sizes, 10 embeds, 6,000 characters a message), so the answer and its
    share both get through."""
    core = RecordingCommands()
    setattr(core, name, lambda caller, *args, **kw: maximal_reply)
    async with running_bot(fake, core):
        inter = await fake.command(name, options)
        answer = (await fake.followup(inter)) if deferred else (await fake.callback(inter))["data"]
        message = fake.messages[next(reversed(fake.messages))]
        custom_id = answer["components"][0]["components"][0]["custom_id"]
        shared = await fake.callback(await fake.click(message, custom_id))
    assert fake.refused == []
    assert len(answer["embeds"]) == 10 and shared["data"]["embeds"] == answer["embeds"]
    assert answer["content"].startswith("Search: @\u200beveryone")
    # the 15 a message cannot hold are said to be left out, after the long title
    assert answer["content"].endswith("Showing 10 of 25: a Discord message holds 10.")


@pytest.fixture
def twelve_on_pricing():
    from datetime import timedelta

    from bot.commands import Commands
    from feeds.classify import Classifier
    from feeds.models import Classification, Story
    from storage.store import Store

    # A week apart: twelve stories, not one cluster of the same event.
    store, t0 = Store(":memory:"), datetime(2026, 3, 1, tzinfo=timezone.utc)
    store.add_new_stories([Story(
        id=f"p{i}", url=f"https://news.example/p{i}", title=f"Cloud {i} cuts model prices by {i}%",
        text=f"Company {i} cut API prices.", source="Reuters", feed_url="https://news.example/rss",
        published=t0 + timedelta(days=7 * i), classification=Classification(
            strategy=True, score=5.0, companies=("Alibaba",), topics=("pricing",)))
        for i in range(12)], backlog=False, now=t0)
    return Commands(store, Classifier(), Settings()), store


@pytest.mark.parametrize("name, options, shown, note", [
    ("topic", {"slug": "pricing 12"}, 10, "Showing 10 of 12"),   # a limit typed in the text
    ("company", {"name": "alibaba 11"}, 10, "Showing 10 of 11"),
    ("topic", {"slug": "pricing 10"}, 10, None),
    ("company", {"name": "alibaba", "limit": 3}, 3, None),
])
async def test_a_lookup_of_more_than_10_says_how_many_it_left_out(fake, twelve_on_pricing,
                                                                  name, options, shown, note):
    """The core allows 25; a Discord message holds 10 embeds: `/topic slug:pricing 12`
    showed 10 briefs and dropped 2 without a word."""
    core, store = twelve_on_pricing
    async with running_bot(fake, core, store):
        answer = (await fake.callback(await fake.command(name, options)))["data"]
    assert len(answer["embeds"]) == shown
    assert answer["embeds"][0]["title"] == "Cloud 11 cuts model prices by 11%"   # newest
    if note:
        assert f"{note}: a Discord message holds 10." in answer["content"]
    else:
        assert "Showing" not in answer["content"]


TOO_BIG = "Must be {} or fewer in length."
BREACHES = [    # (message, where Discord says it is wrong, what it says)
    ({"content": "x" * 2001}, "content", TOO_BIG.format(2000)),
    ({"embeds": [{"title": "t" * 257}] * 10}, "embeds.0.title", TOO_BIG.format(256)),
    ({"embeds": [{"title": "t"}] * 11}, "embeds", TOO_BIG.format(10)),
    ({"embeds": [{"description": "d" * 4097}]}, "embeds.0.description", TOO_BIG.format(4096)),
    ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "embeds.0.fields",
     TOO_BIG.format(25)),
    ({"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]}, "embeds.0.fields.0.name",
     TOO_BIG.format(256)),
    ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
     "embeds.0.fields.0.value", TOO_BIG.format(1024)),
    ({"embeds": [{"footer": {"text": "f" * 2049}}]}, "embeds.0.footer.text",
     TOO_BIG.format(2048)),
    # 6,000 characters across a message's embeds, each within its own limits
    ({"embeds": [{"description": "d" * 3000}, {"description": "d" * 3001}]}, "embeds",
     "Embed size exceeds maximum size of 6000"),
]


@pytest.mark.parametrize("message, where, says", BREACHES, ids=[w for _, w, _ in BREACHES])
async def test_the_fake_answers_a_message_over_a_limit_as_discord_does(fake, message, where,
                                                                       says):
    import aiohttp
    url = f"{fake.api_url}/api/v10/channels/{fake.channel_ids[0]}/messages"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=message,
                                headers={"Authorization": f"Bot {fake.token}"}) as resp:
            status, body = resp.status, await resp.json()
    assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body")
    node = body["errors"]
    for key in where.split("."):
        node = node[key]
    assert node["_errors"][0]["message"] == says
    assert fake.messages == {}


@pytest.mark.parametrize("message, where, says",
                         [b for b in BREACHES if b[1] != "embeds" or "6000" in b[2]],
                         ids=[w for _, w, s in BREACHES if w != "embeds" or "6000" in s])
async def test_the_fake_refuses_what_discord_refuses(fake, monkeypatch, caplog, message, where,
                                                     says):
    """An answer over a limit is refused with Discord's 400 Invalid Form Body (50035),
    which discord.py reads as Discord's own: the user is told the command failed.
    (More than 10 embeds discord.py refuses itself, before sending.)"""
    import discord
    from bot.discord import slash
    monkeypatch.setattr(slash, "reply_payload", lambda reply: {
        "content": message.get("content"), "ephemeral": True,
        "embeds": [discord.Embed.from_dict(e) for e in message.get("embeds", [])]})
    caplog.set_level(logging.ERROR)
    async with running_bot(fake, RecordingCommands(briefs=[BRIEF])):
        inter = await fake.command("company", {"name": "Tencent"})
        await fake.wait_for(lambda: inter.refused and inter.callbacks)
    [refused] = [r for r in fake.requests if r.path.endswith("/callback") and r.status == 400]
    assert refused.json["data"].get("content") == message.get("content")
    assert f"error code: 50035): Invalid Form Body\nIn data.{where}: {says}" in caplog.text
    assert "failed" in inter.callbacks[0]["data"]["content"]
