"""`/subscribe` checks the bot's own permissions in the channel (and its threads, with
DISCORD_THREADS on) and says which one is missing."""
from __future__ import annotations

import pytest

from tests.discord_kit import EPHEMERAL, recording_core, bot_on_fake
from tests.fakes.discord import ALL_PERMISSIONS, PERM_ADMINISTRATOR, running_bot, served


fake = pytest.fixture(served, name="fake")
core = pytest.fixture(recording_core, name="core")
bot = pytest.fixture(bot_on_fake, name="bot")


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
