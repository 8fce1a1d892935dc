"""A roundup whose try may have been posted (the answer was lost) waits for a retry
under the same nonce (storage/receipts.py release_roundup). Meanwhile the channel may
unsubscribe, and a store hiccup may leave two such roundups in one channel: nothing
lost, nothing posted twice, nothing posted to a channel after it said stop. The real
Slack client against the fake Slack, on a fake clock."""
from __future__ import annotations

import sqlite3

import pytest

from bot.cli import main
from bot.delivery import Delivery
from bot.slack.adapter import SlackAdapter
from bot.slack.webapi import make_client
from tests.delivery_kit import brief, follow, states
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def fake():
    server = await FakeSlack().start()
    yield server
    await server.stop()


def deliver(store, fake: FakeSlack, clock) -> Delivery:
    """A start of the bot's delivery (a new Delivery: nothing kept in memory)."""
    adapter = SlackAdapter(make_client(fake.bot_token, fake.api_url))
    return Delivery(store, {"slack": adapter}, clock=clock, sleep=clock.sleep,
                    roundup_size=2)


def held(store, clock, *stories: int) -> None:
    """Posts over the hourly cap, waiting for the channel's roundup."""
    follow(store, clock, channel="C42", platform="slack")
    for n in stories:
        store.enqueue_post(cluster_id=f"k{n}", brief=brief(n, clock, minutes_ago=n),
                           platform="slack", workspace="w1", channel="C42", held=True,
                           now=clock())


def posted(fake: FakeSlack) -> list[str]:
    """Every story link in the channel's messages, one per appearance."""
    return sorted(link for m in fake.messages.values()
                  for link in ("https://news.example/1", "https://news.example/2",
                               "https://news.example/3", "https://news.example/4")
                  if link in str(m))


@pytest.mark.parametrize("taken", [False, True], ids=["never-posted", "posted"])
async def test_a_channel_that_unsubscribes_gets_no_retry_of_its_unconfirmed_roundup(
        fake, store, clock, taken, capsys):
    held(store, clock, 1, 2)
    fake.fail("chat.postMessage", status=500, body="<html>gateway</html>", accept=taken)
    assert await deliver(store, fake, clock).run_once() == 0
    assert states(store) == {"held": 2}                # kept with its nonce for a retry
    before = len(fake.calls_to("chat.postMessage"))
    assert main(["--db", str(store.path), "subscriptions", "remove", "slack", "C42"]) == 0
    assert "2 waiting posts won't go out" in capsys.readouterr().out
    clock.advance(hours=1)
    assert await deliver(store, fake, clock).run_once() == 0
    assert len(fake.calls_to("chat.postMessage")) == before    # nothing after the stop
    assert posted(fake) == (["https://news.example/1", "https://news.example/2"]
                            if taken else [])
    assert states(store) == {"cancelled": 2}
    assert "an earlier try may have posted it" in store.outbox_post(1).last_error   # why


async def test_two_unconfirmed_roundups_in_a_channel_each_go_out_once(fake, store, clock,
                                                                      monkeypatch):
    """The first roundup was posted but recording it failed (the database locked): its
    rows stay claimed until the restart. The next roundup's answer was lost. After the
    restart both wait, each under its own nonce."""
    held(store, clock, 1, 2, 3, 4)
    real, calls = store.record_roundup_sent, []

    def locked_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return real(*args)
    monkeypatch.setattr(store, "record_roundup_sent", locked_once)
    d = deliver(store, fake, clock)
    assert await d.run_once() == 0                     # posted, not recorded: claimed
    fake.fail("chat.postMessage", status=500, body="<html>gateway</html>")
    assert await d.run_once() == 0                     # the second roundup's answer lost
    assert states(store) == {"sending": 2, "held": 2}
    clock.advance(hours=1)
    assert await deliver(store, fake, clock).run_once() == 2      # the restart
    assert posted(fake) == [f"https://news.example/{n}" for n in (1, 2, 3, 4)]
    assert states(store) == {"digested": 4}
