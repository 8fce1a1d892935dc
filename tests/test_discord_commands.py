"""Slash commands end to end: real discord.py against the fake Discord on loopback,
with a recording stand-in for the chat core: ephemeral answers, share buttons, deferred
answers, refusals, DMs, autocomplete and failures. (Start-up and command sync:
test_discord_start.py.)"""
from __future__ import annotations

import asyncio
import logging

import pytest

from tests.fakes.discord import (
    ALL_PERMISSIONS, DM, MEMBER_PERMISSIONS, PERM_MANAGE_GUILD, running_bot, served)
from tests.discord_kit import EPHEMERAL, BRIEF, recording_core, bot_on_fake


fake = pytest.fixture(served, name="fake")
core = pytest.fixture(recording_core, name="core")
bot = pytest.fixture(bot_on_fake, name="bot")


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


@pytest.mark.parametrize("in_thread", [False, True], ids=["channel", "thread"])
async def test_a_command_in_a_thread_says_which_channel_the_thread_is_in(fake, bot, core,
                                                                        in_thread):
    """/why in the thread the bot opened under its post (DISCORD_THREADS=1) said "Not
    posted in this channel": the thread's id is not its channel's, where the post is."""
    fake.thread_ids = [1300000000000000009]
    where = {"channel_id": fake.thread_ids[0]} if in_thread else {}
    await fake.callback(await fake.command("why", {"link": "https://example.com/a"}, **where))
    (got,) = core.calls
    caller = got[1]
    assert (caller.channel, caller.parent) == ((str(fake.thread_ids[0]), str(fake.channel_ids[0]))
                                               if in_thread else (str(fake.channel_ids[0]), ""))


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


def as_admin(fake, name: str) -> dict:
    """Who runs `name` in a test of what an admin gets: /feeds is the bot's owner's."""
    return {"user_id": fake.owner_id} if name == "feeds" else {}


@pytest.mark.parametrize("name, options, sub, call, has_embeds", SLOW)
async def test_slow_commands_defer_then_follow_up(fake, bot, core, name, options, sub, call,
                                                   has_embeds):
    inter = await fake.command(name, options, subcommand=sub, **as_admin(fake, name))
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
    inter = await fake.command(name, options, subcommand=sub, **as_admin(fake, name))
    cb = await fake.callback(inter)
    assert cb["type"] == 4
    assert cb["data"]["content"] == text
    assert not cb["data"].get("flags", 0) & EPHEMERAL      # the core said: visible
    assert core.calls[0][1].is_admin is True


REFUSALS = [
    ("subscribe", {"target": "pricing"}, None, MEMBER_PERMISSIONS, "Manage Channels"),
    ("unsubscribe", {"target": "pricing"}, None, MEMBER_PERMISSIONS, "Manage Channels"),
    ("digest", {"mode": "off"}, None, MEMBER_PERMISSIONS, "Manage Channels"),
    # /feeds is the bot's owner's: a server's Manage Server, even Administrator, is not enough.
    ("feeds", {}, "list", ALL_PERMISSIONS, "the bot's owner"),
    ("feeds", {"url": "https://x.example/rss"}, "add", ALL_PERMISSIONS, "the bot's owner"),
    ("feeds", {"url": "https://x.example/rss"}, "remove", MEMBER_PERMISSIONS | PERM_MANAGE_GUILD,
     "the bot's owner"),
]


@pytest.mark.parametrize("name, options, sub, perms, needed", REFUSALS)
async def test_admin_commands_refuse_members_without_permission(fake, bot, core, name, options,
                                                                sub, perms, needed):
    inter = await fake.command(name, options, subcommand=sub, permissions=perms)
    cb = await fake.callback(inter)
    assert cb["type"] == 4 and cb["data"]["flags"] & EPHEMERAL
    assert needed in cb["data"]["content"]
    assert core.calls == []


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


async def test_a_share_click_too_late_to_answer_is_one_line_and_may_be_clicked_again(
        fake, bot, caplog):
    """A "Post to channel" click answered after Discord's 3 s: a traceback at ERROR
    (discord.py's "Ignoring exception in view"), and the answer counted as shared, so
    the next click said "Already posted to the channel." with nothing posted. Now one
    warning line, and the next click posts it."""
    inter = await fake.command("company", {"name": "Tencent"})
    custom_id = (await fake.callback(inter))["data"]["components"][0]["components"][0]["custom_id"]
    message = fake.messages[next(reversed(fake.messages))]
    fake.answer_window = 0.0
    await fake.click(message, custom_id)
    await _logged(caplog, "ainews.discord")
    fake.answer_window = None
    shared = await fake.callback(await fake.click(message, custom_id))
    assert shared["data"]["embeds"] and not shared["data"].get("flags", 0) & EPHEMERAL
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not any(r.exc_info for r in caplog.records), caplog.text
    assert [r.getMessage()[:40] for r in said] == ["discord: a click on Post to channel came"]


async def _logged(caplog, name: str) -> None:
    async def seen():
        while not any(r.name == name for r in caplog.records):
            await asyncio.sleep(0.02)
    await asyncio.wait_for(seen(), 10)


@pytest.mark.parametrize("name, options, how", [
    ("latest", {}, "command"),                  # answered at once
    ("search", {"query": "hunyuan"}, "command"),    # deferred first
    ("company", {"name": "al"}, "autocomplete"),    # a suggestion, at every keystroke
])
async def test_an_interaction_too_late_to_answer_is_one_line(fake, bot, caplog, name,
                                                            options, how):
    """Discord takes an answer within 3 s of the user's command. One that reached the bot
    late (a slow link; a command Discord replays when the gateway resumes after a drop)
    is answered 404 Unknown interaction (10062): that was an ERROR with a 30-line
    traceback, a suggestion's too (discord.py's own). Now a command is one warning line
    (the user saw "The application did not respond"; nothing to fix in ainews), a late
    suggestion a debug line (the user typed on)."""
    caplog.set_level(logging.DEBUG, logger="ainews.discord")
    fake.answer_window = 0.0                    # every answer comes too late
    if how == "autocomplete":
        await fake.autocomplete(name, options, "name")
    else:
        await fake.command(name, options)
    await _logged(caplog, "ainews.discord")
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not any(r.exc_info for r in caplog.records), caplog.text
    if how == "autocomplete":
        assert said == [], caplog.text
    else:
        assert [r.name for r in said] == ["ainews.discord"], caplog.text
        assert said[0].getMessage().startswith(f"discord: /{name} came too late to answer")


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


SEND_MESSAGES, SEND_IN_THREADS = 1 << 11, 1 << 38


async def _share(fake, core, permissions: int = MEMBER_PERMISSIONS, **where) -> dict:
    """Run /latest, then click its "Post to channel": the click's answer."""
    async with running_bot(fake, core):
        answer = (await fake.callback(await fake.command("latest", {}, **where)))["data"]
        message = fake.messages[next(reversed(fake.messages))]
        custom_id = answer["components"][0]["components"][0]["custom_id"]
        return (await fake.callback(await fake.click(message, custom_id,
                                                     permissions=permissions, **where)))["data"]


@pytest.mark.parametrize("denied, in_thread", [(SEND_MESSAGES, False), (SEND_IN_THREADS, True)])
async def test_post_to_channel_is_refused_to_a_member_who_cannot_post_there(fake, core, denied,
                                                                           in_thread):
    """Anyone may run /latest, in a read-only channel (#announcements) too; its "Post to
    channel" button then posted the briefs there for a member who may not post."""
    fake.thread_ids = [1300000000000000009]
    where = {"channel_id": fake.thread_ids[0]} if in_thread else {}
    refused = await _share(fake, core, MEMBER_PERMISSIONS & ~denied, **where)
    assert refused["flags"] & EPHEMERAL and not refused.get("embeds")
    assert "You can't post in this channel" in refused["content"]
    shared = await _share(fake, core, **where)          # a member who may post
    assert not shared.get("flags", 0) & EPHEMERAL and shared["embeds"]


async def test_post_to_channel_in_a_dm_posts(fake, core):
    """A DM's click comes with no permissions at all: it is not a read-only channel."""
    shared = await _share(fake, core, 0, channel_type=DM)
    assert not shared.get("flags", 0) & EPHEMERAL and shared["embeds"]
