"""Slash commands with the real chat core (Commands over an in-memory Store) through
real discord.py and the fake Discord: lookups, usage, pickers and quoted topics."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.config import Settings
from tests.discord_kit import EPHEMERAL, SUPPRESS_EMBEDS
from tests.fakes.discord import running_bot, served


fake = pytest.fixture(served, name="fake")


@pytest.fixture
def real_core():
    return _core(":memory:")


def _core(path):
    """The chat core over a store at `path` holding one strategy story, not yet briefed."""
    from bot.commands import Commands
    from feeds.classify import Classifier
    from feeds.models import Classification, Story
    from storage.store import Store

    store = Store(path)
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


@pytest.mark.parametrize("command, options, deferred, text", [
    ("why", {"link": "https://news.example/qwen"}, False, True),
    ("search", {"query": "zebras"}, True, True),        # a follow-up, after defer()
    ("company", {"name": "alibaba"}, False, False),     # embeds: the flag would hide them
])
async def test_a_text_answer_unfurls_no_link_into_a_preview_card(fake, real_core, command,
                                                                 options, deferred, text):
    """/why quotes the story's link in its text, and Discord added a preview card of the
    article (its image and teaser) under the answer: the post over again. Slack's
    answers set unfurl_links false. An answer of embeds keeps them."""
    core, store = real_core
    async with running_bot(fake, core, store):
        inter = await fake.command(command, options)
        answer = (await fake.followup(inter)) if deferred else (await fake.callback(inter))["data"]
    assert answer["flags"] & EPHEMERAL and bool(answer.get("embeds")) != text
    assert bool(answer["flags"] & SUPPRESS_EMBEDS) == text, answer


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
            assert "This channel no longer " in cb["data"]["content"]
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


async def test_a_dm_offers_no_command_a_dm_does_not_have(fake, real_core):
    """/subscribe, /subscriptions, /digest and /feeds are server-only; yet in a DM an
    empty lookup said "`/subscribe target:Nvidia` (admins) has the next one posted
    here", and /help listed them all with "Admins here: ..."."""
    from tests.fakes.discord import DM
    core, store = real_core
    dm = {"channel_id": 1700000000000000001, "channel_type": DM}
    async with running_bot(fake, core, store):
        empty = (await fake.callback(await fake.command("company", {"name": "nvidia"}, **dm)))
        helped = (await fake.callback(await fake.command("help", {}, **dm)))
        in_server = (await fake.callback(await fake.command("help", {})))
    shown = empty["data"]["content"] + "\n" + helped["data"]["content"]
    for unavailable in ("/subscribe", "/subscriptions", "/digest", "/feeds", "Admins"):
        assert unavailable not in shown, shown
    assert "/latest" in empty["data"]["content"] and "/why" in helped["data"]["content"]
    assert "/subscribe target:" in in_server["data"]["content"]


@pytest.mark.parametrize("command, options", [
    ("company", {"name": "alibaba"}), ("latest", {}), ("topic", {"slug": "open-source"}),
    ("subscribe", {"target": "pricing"})])
async def test_a_store_locked_by_another_program_still_answers_in_time(
        fake, tmp_path, monkeypatch, caplog, command, options):
    """A lookup caches the briefs it makes, and a write waited out the store's 15 s busy
    timeout while another program (a backup, a sqlite3 shell) held the lock: Discord had
    long given up on the answer, "The application did not respond". A chat command's
    write now waits a moment only: a lookup answers its stories uncached, /subscribe
    that the store is unavailable, within Discord's answer window."""
    import sqlite3
    monkeypatch.setattr("storage.store.BUSY_TIMEOUT", 5.0)   # over Discord's 3 s
    monkeypatch.setattr("bot.commands_store.CHAT_WAIT", 0.1)
    core, store = _core(tmp_path / "ainews.db")
    holder = sqlite3.connect(tmp_path / "ainews.db", isolation_level=None)
    fake.answer_window = 3.0
    try:
        async with running_bot(fake, core, store):
            holder.execute("BEGIN IMMEDIATE")   # once started: its start-up writes
            cb = await fake.callback(await fake.command(command, options))
    finally:
        holder.close()
    data = cb["data"]
    if command == "subscribe":
        assert "store is unavailable right now" in data["content"], data
    else:
        assert data["embeds"][0]["title"] == "Alibaba open-sources Qwen 3", data
        assert "were not cached" in caplog.text and "is locked" in caplog.text
    store.close()


async def test_subscriptions_in_a_thread_tell_what_its_channel_gets(fake, real_core):
    """In the thread the bot opened under a post (DISCORD_THREADS=1), /subscriptions said
    the channel followed nothing: the thread's id is not its channel's."""
    from feeds.models import Subscription
    core, store = real_core
    fake.thread_ids = [1300000000000000009]
    store.add_subscription(Subscription("discord", str(fake.guild_id),
                                        str(fake.channel_ids[0]), "topic", "open-source"),
                           now=datetime(2026, 3, 1, tzinfo=timezone.utc))
    async with running_bot(fake, core, store):
        cb = await fake.callback(await fake.command("subscriptions",
                                                    channel_id=fake.thread_ids[0]))
    shown = cb["data"]["content"]
    assert "the channel it is in gets:" in shown and "open-source" in shown, shown
    assert "follows nothing yet" not in shown
