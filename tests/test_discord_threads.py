"""A subscription made inside a Discord thread, with AINEWS_DISCORD_THREADS=1: its
posts go into the thread, which can't have threads of its own, so none is asked for and
nothing is logged as failing. Real discord.py against the fake Discord on loopback."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from feeds.models import Brief
from tests.fakes.discord import FakeDiscord, RecordingCommands, running_bot

CHANNEL, THREAD = 1300000000000000001, 1300000000000000077


def brief(i: int) -> Brief:
    return Brief(id=f"s{i}", headline=f"Baidu prices Ernie {i} below rivals",
                 bullets=("Cuts list prices.", "Free tier widened.", "Targets startups."),
                 why_it_matters="The price war spreads.", url=f"https://news.example/{i}",
                 source="Caixin", published=datetime(2026, 3, 1, tzinfo=timezone.utc),
                 companies=("Baidu",), topics=("pricing",))


@pytest.fixture
async def fake():
    server = await FakeDiscord(channel_ids=(CHANNEL,), thread_ids=(THREAD,)).start()
    yield server
    await server.close()


def thread_requests(fake: FakeDiscord, channel: int) -> list:
    return fake.find("POST", rf"/channels/{channel}/messages/\d+/threads")


def complaints(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("ainews") and r.levelno >= logging.WARNING]


async def post_twice(runner) -> list[str]:
    return [await runner.adapter.send(str(THREAD), brief(i), nonce=f"n{i}") for i in (1, 2)]


async def test_a_thread_subscribed_in_gets_its_posts_without_sub_threads(fake, caplog):
    """The thread is not among the active ones Discord listed at connect (archived
    since, say): /subscribe run in it says it is a thread."""
    fake.listed_threads = []
    async with running_bot(fake, RecordingCommands(), discord_threads=True) as runner:
        await fake.callback(await fake.command("subscribe", {"target": "pricing"},
                                               channel_id=THREAD))
        posted = await post_twice(runner)
    assert [fake.messages[m]["channel_id"] for m in posted] == [str(THREAD)] * 2
    assert thread_requests(fake, THREAD) == []
    assert complaints(caplog) == []


async def test_after_a_restart_a_thread_is_known_from_discords_list(fake, caplog):
    """No /subscribe this run: the thread came with the server's active threads."""
    async with running_bot(fake, RecordingCommands(), discord_threads=True) as runner:
        await post_twice(runner)
    assert len(fake.find("POST", rf"/channels/{THREAD}/messages")) == 2
    assert thread_requests(fake, THREAD) == []
    assert complaints(caplog) == []


async def test_a_thread_known_nowhere_is_asked_once_and_not_logged_as_failing(fake, caplog):
    fake.listed_threads = []
    async with running_bot(fake, RecordingCommands(), discord_threads=True) as runner:
        await post_twice(runner)
    assert len(fake.find("POST", rf"/channels/{THREAD}/messages")) == 2
    assert len(thread_requests(fake, THREAD)) == 1     # Discord's refusal says what it is
    assert complaints(caplog) == []


async def test_a_retry_answered_by_its_nonce_finds_its_thread_already_open(fake, caplog):
    """A post and its thread made, then the bot stopped before recording it: the retry's
    nonce gives back the same message, whose thread Discord says exists (160004). That
    is the thread wanted, not a failure: "could not open a thread" was logged, and the
    channel's next posts' threads were no longer said when they failed."""
    async with running_bot(fake, RecordingCommands(), discord_threads=True) as runner:
        first = await runner.adapter.send(str(CHANNEL), brief(1), nonce="n1")
        again = await runner.adapter.send(str(CHANNEL), brief(1), nonce="n1")
        assert str(CHANNEL) not in runner.adapter.threadless
    assert first == again and len(thread_requests(fake, CHANNEL)) == 2
    assert complaints(caplog) == []


async def test_a_channel_still_gets_a_thread_under_each_post(fake, caplog):
    async with running_bot(fake, RecordingCommands(), discord_threads=True) as runner:
        await fake.callback(await fake.command("subscribe", {"target": "pricing"},
                                               channel_id=THREAD))
        await runner.adapter.send(str(CHANNEL), brief(1), nonce="n1")
    assert len(thread_requests(fake, CHANNEL)) == 1
    assert complaints(caplog) == []
