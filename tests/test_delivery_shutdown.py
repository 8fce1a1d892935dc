"""Shutdown while a platform sits on a post past the drain grace (it took the post and
never answered): delivery ends anyway, and after the restart the post is recorded once,
neither lost nor posted twice. The real Slack client against the fake Slack, on a fake
clock; a grace of 0 s stands for one that ran out (no timed assertions)."""
from __future__ import annotations

import asyncio

import pytest

from bot.delivery import Delivery
from bot.dispatch import dispatch_new
from bot.slack.adapter import SlackAdapter
from bot.slack.webapi import make_client
from storage.store import Store
from tests.delivery_kit import brief, follow, states, until
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def fake():
    server = await FakeSlack().start()
    yield server
    await server.stop()


async def run(fake: FakeSlack, path, clock, go) -> dict[str, int]:
    """One start of the bot's delivery on the store at `path`: `go(delivery, store)`,
    then the outbox's states when it has stopped."""
    adapter = SlackAdapter(make_client(fake.bot_token, fake.api_url, shared_session=True))
    store = Store(path)
    try:
        await go(Delivery(store, {"slack": adapter}, clock=clock, sleep=clock.sleep), store)
        return states(store)
    finally:
        store.close()
        await adapter.client.session.close()


async def test_a_post_unanswered_past_the_grace_is_left_for_the_restart_and_made_once(
        fake, tmp_path, clock):
    path = tmp_path / "ainews.db"

    async def shut_down_mid_post(d: Delivery, store) -> None:
        follow(store, clock, channel="C42", platform="slack")
        dispatch_new(store, [brief(1, clock)], clock())
        fake.fail("chat.postMessage", hang=True, accept=True)   # posted, never answered
        d.drain_grace = 0
        stop = asyncio.Event()
        task = asyncio.create_task(d.run_forever(stop))
        await fake.wait_for(lambda: fake.calls_to("chat.postMessage"), what="the post")
        await until(lambda: fake.messages)
        stop.set()                                  # SIGTERM
        await asyncio.wait_for(task, 5)             # a deadlock guard: it must end

    assert await run(fake, path, clock, shut_down_mid_post) == {"sending": 1}

    async def restart(d: Delivery, store) -> None:
        assert await d.run_once() == 1

    assert await run(fake, path, clock, restart) == {"sent": 1}
    assert len(fake.messages) == 1 and len(fake.calls_to("chat.postMessage")) == 1
