"""Edits of a post already out (storage/post_edits.py): at most one an hour, counted from
the post, the latest version when the hour is up; none for a flip back to what the post
shows; at most MAX_EDITS in all, said once in the log; nothing lost or doubled across a
restart or a crash. Driven through the store, dispatch_edits and delivery (what
bot/service.py runs after a poll) into the console adapter and the real Slack client
against the fake Slack, on a fake clock."""
from __future__ import annotations

import io
import json
import logging
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.adapter import PermanentError, RejectedError, TransientError
from bot.cli import main
from bot.console import ConsoleAdapter
from bot.delivery import Delivery
from bot.dispatch import dispatch_new
from bot.dispatch_edits import dispatch_edits
from bot.slack.adapter import SlackAdapter
from bot.slack.webapi import make_client
from feeds.models import Classification, Story, Subscription, utcnow
from storage.post_edits import MAX_EDITS
from storage.store import Store
from tests.fakes.recorder import FakeClock
from tests.fakes.slack import FakeSlack

A = "Alibaba cuts Qwen API prices by 50%"
B = "Alibaba halves what developers pay for Qwen"


def version(clock, title: str, **kw) -> Story:
    kw.setdefault("companies", ("Alibaba",))
    return Story(id="s1", url="https://wire.example/s1", title=title,
                 text=title + ". The cut applies to every developer on its cloud.",
                 source="Wire", feed_url="https://wire.example/rss", published=clock.now,
                 classification=Classification(strategy=True, score=2.0, topics=("pricing",),
                                               **kw))


class Console:
    """The console adapter, printing into a buffer; edits counted off what it prints."""
    platform, channel = "console", "console"

    def __init__(self):
        self.out = io.StringIO()
        self.adapter = ConsoleAdapter(self.out)

    def edits(self) -> list[str]:
        """The headline each edit printed, in order."""
        blocks = self.out.getvalue().split("(update to ")[1:]
        return [b.split("\n", 2)[1] for b in blocks]


class Slack:
    """The real Slack client against the fake Slack: edits are its chat.update calls."""
    platform, channel = "slack", "C42"

    def __init__(self, fake: FakeSlack):
        self.fake = fake
        self.adapter = SlackAdapter(make_client(fake.bot_token, fake.api_url))

    def edits(self) -> list[str]:
        """The headline of each chat.update, in order (its header block's text)."""
        return [_blocks(c.payload)[0]["text"]["text"] for c in self.fake.calls_to("chat.update")]


def _blocks(payload: dict) -> list:
    blocks = payload["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


@pytest.fixture
async def fake_slack():
    server = await FakeSlack().start()
    yield server
    await server.stop()


@pytest.fixture(params=["console", "slack"])
def channel(request, fake_slack):
    return Console() if request.param == "console" else Slack(fake_slack)


class Bot:
    """What the service does for each poll of the story's feed, on the fake clock."""

    def __init__(self, path, clock, channel):
        self.path, self.clock, self.channel = path, clock, channel
        self.store = Store(path)

    def restart(self) -> None:
        """The process dies (nothing it held in memory survives) and starts again."""
        self.store.db.conn.close()
        self.store = Store(self.path)

    def post(self, title: str) -> None:
        self.store.add_subscription(Subscription(self.channel.platform, "w1",
                                                 self.channel.channel, "all", "all"),
                                    now=self.clock())
        new = self.store.add_new_stories([version(self.clock, title)], backlog=False,
                                         now=self.clock())
        dispatch_new(self.store, new, self.clock())

    async def poll(self, title: str | None = None) -> None:
        """The feed shows `title` (None: nothing new), then routing and delivery."""
        self.route(title)
        await self.deliver()

    def route(self, title: str | None) -> None:
        if title is not None:
            self.store.add_new_stories([version(self.clock, title)], backlog=False,
                                       now=self.clock())
        upto = self.store.last_edit_seq()
        dispatch_edits(self.store, self.store.edited_stories(upto), self.clock(),
                       max_age=timedelta(hours=48))
        self.store.forget_edits(upto)

    async def deliver(self, **kw) -> int:
        return await Delivery(self.store, {self.channel.platform: self.channel.adapter},
                              clock=self.clock, sleep=self.clock.sleep, **kw).run_once()


@pytest.fixture
async def bot(tmp_path, clock, channel):
    b = Bot(tmp_path / "ainews.db", clock, channel)
    b.post(A)
    await b.deliver()
    yield b
    b.store.close()


async def test_ab_flipping_headlines_edit_a_post_once_an_hour_at_most_five_times(
        bot, clock, caplog):
    """A publisher A/B-tests two headlines, flipping at every 10-minute poll, for the 48
    hours the story is news: every poll would have been an edit."""
    posted, applied = clock.now, []
    caplog.set_level(logging.INFO, logger="ainews.dispatch")
    for n in range(1, 48 * 6):
        clock.advance(minutes=10)
        before = len(bot.channel.edits())
        await bot.poll(B if n % 2 else A)
        applied += [(clock.now, h) for h in bot.channel.edits()[before:]]
    times = [posted] + [t for t, _ in applied]
    assert len(applied) == MAX_EDITS
    assert all(b - a >= timedelta(hours=1) for a, b in zip(times, times[1:]))
    # each edit showed the version current when it went: the flips alternate
    assert [h for _, h in applied] == [B, A, B, A, B][:MAX_EDITS]
    capped = [r.getMessage() for r in caplog.records if "has had its" in r.getMessage()]
    assert len(capped) == 1 and capped[0].startswith(f"dispatch: {A!r} has had its 5 edits")


async def test_a_flip_back_within_the_hour_costs_no_edit(bot, clock):
    for title in (B, A, B, A):               # A -> B -> A ... and A again at the hour
        clock.advance(minutes=10)
        await bot.poll(title)
    clock.advance(hours=2)
    await bot.poll()
    assert bot.channel.edits() == [] and bot.store.outbox_counts() == {"sent": 1}


async def test_the_latest_version_is_applied_when_the_hour_is_up_once(bot, clock):
    C = "Alibaba cuts Qwen API prices by 50% for all developers, report says"
    for title in (B, C):
        clock.advance(minutes=20)
        await bot.poll(title)
    assert bot.channel.edits() == []
    clock.advance(minutes=20)                # an hour after the post
    await bot.poll()
    await bot.poll()
    assert bot.channel.edits() == [C]


async def test_a_held_edit_survives_a_restart_and_is_applied_once_when_due(bot, clock):
    clock.advance(minutes=10)
    await bot.poll(B)
    bot.restart()                             # the held edit is in the database only
    await bot.poll()
    assert bot.channel.edits() == []
    clock.advance(minutes=50)
    await bot.poll()
    bot.restart()
    await bot.poll()
    assert bot.channel.edits() == [B]


async def test_a_crash_during_the_edit_makes_it_once_and_counts_it_once(bot, clock):
    clock.advance(hours=1)
    bot.route(B)                              # due at once: the post is an hour old
    bot.store.claim_post(1, clock())          # ...claimed by delivery, then a SIGKILL
    assert bot.channel.edits() == []
    bot.restart()
    await bot.poll()
    await bot.poll()
    assert bot.channel.edits() == [B]
    assert bot.store.db.execute("SELECT edits FROM outbox").fetchall() == [(1,)]


async def test_past_the_cap_the_store_and_waiting_posts_still_get_changes(bot, clock):
    for n in range(MAX_EDITS + 1):
        clock.advance(hours=1)
        await bot.poll(f"{A} ({n})")
    assert len(bot.channel.edits()) == MAX_EDITS
    assert bot.store.get_story("s1").title == f"{A} ({MAX_EDITS})"
    assert [b.headline for b in bot.store.search("Qwen")] == [f"{A} ({MAX_EDITS})"]
    # Made before the story came, as if its first routing had missed it: a channel
    # subscribed since gets no edit of it (tests/test_dispatch_edits.py).
    bot.store.add_subscription(Subscription("console", "w1", "other", "all", "all"),
                               now=clock.now - timedelta(days=1))
    clock.advance(minutes=5)
    await bot.poll(f"{A} (final)")            # a post not yet out gets the current brief
    other = bot.store.outbox_entry("s1", "console", "other")
    assert other.brief.headline == f"{A} (final)"
    assert len(bot.channel.edits()) == MAX_EDITS


async def test_an_outlet_joining_while_an_edit_waits_goes_out_with_it(bot, clock):
    clock.advance(minutes=10)
    await bot.poll(B)
    later = replace(version(clock, "Alibaba to halve Qwen API prices by 50%"), id="s2",
                    url="https://ft.example/s2", source="FT", feed_url="https://ft.example/rss")
    bot.store.add_new_stories([later], backlog=False, now=clock())
    assert bot.store.cluster_info("s2")[0] == "s1"
    dispatch_new(bot.store, [later], clock())
    await bot.deliver()
    assert bot.channel.edits() == []          # joined the edit waiting for the hour
    clock.advance(minutes=50)
    await bot.poll()
    assert len(bot.channel.edits()) == 1
    row = bot.store.outbox_post(1)
    assert (row.brief.headline, row.brief.also_reported_by) == (B, ("FT",))


def test_a_store_from_before_the_edit_rules_upgrades_with_its_sent_posts(tmp_path, clock,
                                                                         monkeypatch):
    import storage.store
    from storage.delivery_schema import DELIVERY_MIGRATIONS
    path = tmp_path / "old.db"
    # Today's code writes the old rows: the columns it reads, first try (114), failed
    # at (115), the nonce's epoch (117) and a pause keeping posts (119), are there too.
    kept = [m for m in DELIVERY_MIGRATIONS if m[0] < 106 or m[0] in (114, 115, 117, 119)]
    monkeypatch.setattr(storage.store, "DELIVERY_MIGRATIONS", kept)
    with Store(path) as old:
        old.add_subscription(Subscription("console", "w1", "c1", "all", "all"), now=clock())
        dispatch_new(old, old.add_new_stories([version(clock, A)], backlog=False,
                                              now=clock()), clock())
        old.claim_post(1, clock())
        old.db.conn.execute("UPDATE outbox SET state='sent', message_id='m1', sent_at=? "
                            "WHERE id=1", (clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),))
        old.db.conn.commit()
    monkeypatch.undo()
    with Store(path) as store:
        assert {106, 110} <= {v for v, _n, _at in store.migrations()}
        (shown, edits), = store.db.execute("SELECT shown, edits FROM outbox").fetchall()
        assert json.loads(shown)["headline"] == A and edits == 0
        clock.advance(minutes=10)
        store.add_new_stories([version(clock, B)], backlog=False, now=clock())
        dispatch_edits(store, store.edited_stories(store.last_edit_seq()), clock())
        row = store.outbox_post(1)
        assert (row.state, row.brief.headline) == ("edit", B)
        assert row.next_attempt == clock.now + timedelta(minutes=50)   # the post's hour


async def test_status_shows_edits_waiting_and_posts_at_the_cap(tmp_path, capsys):
    clock = FakeClock(utcnow())               # `ainews status` reads the real time
    bot = Bot(tmp_path / "ainews.db", clock, Console())
    bot.post(A)
    await bot.deliver()
    for n in range(MAX_EDITS + 1):            # five edits made, a sixth refused
        clock.advance(hours=1)
        await bot.poll(f"{A} ({n})")
    # A second channel's post (its subscription older than the story, as if the first
    # routing had missed it), out at once...
    bot.store.add_subscription(Subscription("console", "w1", "c2", "all", "all"),
                               now=clock.now - timedelta(days=1))
    clock.advance(minutes=1)
    bot.route(f"{A} (again)")
    await bot.deliver()
    clock.advance(minutes=1)
    bot.route(f"{A} (and again)")             # ...whose edit waits for its hour
    bot.store.close()
    assert main(["--db", str(tmp_path / "ainews.db"), "status"]) == 0
    assert "1 edit waiting (one an hour per post), 1 post no longer edited (5 edits " \
           "each)" in capsys.readouterr().out


class ChangesDuringEdit:
    """The channel's adapter; the feed shows `title` while an edit is on its way."""

    def __init__(self, bot, title: str):
        self.bot, self.title, self.adapter = bot, title, bot.channel.adapter

    def __getattr__(self, name):
        return getattr(self.adapter, name)

    async def edit(self, channel, message_id, brief):
        if self.title:
            self.bot.route(self.title)
            self.title = None
        return await self.adapter.edit(channel, message_id, brief)


async def test_a_version_arriving_while_an_edit_goes_out_waits_an_hour_after_it(bot, clock):
    """The channel has just read the edit: a later version is a second edit, one an hour
    (only a version known before the first post landed is applied at once)."""
    C = "Alibaba halves Qwen prices for every developer"
    clock.advance(hours=1)
    bot.route(B)                               # due at once: the post is an hour old
    bot.channel.adapter = ChangesDuringEdit(bot, C)
    await bot.deliver()
    await bot.poll()
    assert bot.channel.edits() == [B]
    clock.advance(minutes=59)
    await bot.poll()
    assert bot.channel.edits() == [B]
    clock.advance(minutes=1)
    await bot.poll()
    assert bot.channel.edits() == [B, C]


class EditsFail(ChangesDuringEdit):
    """The channel's adapter refusing its next `fails` edits with `error` (None: every
    one), the feed showing `title` while the first is on its way; every call counted."""

    def __init__(self, bot, title: str, error: Exception, fails: int | None = None):
        super().__init__(bot, title)
        self.error, self.fails, self.tries, self.sends = error, fails, 0, 0

    async def send(self, *a, **kw):
        self.sends += 1
        return await self.adapter.send(*a, **kw)

    async def edit(self, channel, message_id, brief):
        self.tries += 1
        if self.title:
            self.bot.route(self.title)
            self.title = None
        if self.fails is None or self.fails >= self.tries:
            raise self.error
        return await self.adapter.edit(channel, message_id, brief)


GIVEN_UP = [PermanentError("Unknown Message"), RejectedError("invalid_blocks"),
            TransientError("HTTP 503")]       # a 503 on the last of its attempts


@pytest.mark.parametrize("error", GIVEN_UP, ids=["refused", "rejected", "attempts"])
async def test_a_version_arriving_while_an_edit_is_given_up_is_tried_next(bot, clock,
                                                                         error):
    """The channel would show the first version for good, though the newest one, tried,
    would likely have gone through (a flaky 503, a payload only the old text broke)."""
    C = "Alibaba halves Qwen prices for every developer"
    clock.advance(hours=1)
    bot.route(B)                               # due at once: the post is an hour old
    bot.channel.adapter = adapter = EditsFail(bot, C, error, fails=1)
    await bot.deliver(max_attempts=1)
    await bot.deliver(max_attempts=1)
    assert bot.channel.edits() == [C]
    assert adapter.sends == 0 and bot.store.outbox_counts() == {"sent": 1}
    row = bot.store.outbox_post(1)
    assert (row.brief.headline, row.last_error) == (C, "")


@pytest.mark.parametrize("error", GIVEN_UP, ids=["refused", "rejected", "attempts"])
async def test_a_channel_refusing_every_edit_gets_the_newest_version_tried_once(
        bot, clock, error):
    C = "Alibaba halves Qwen prices for every developer"
    clock.advance(hours=1)
    bot.route(B)
    bot.channel.adapter = adapter = EditsFail(bot, C, error)
    for _ in range(5):
        await bot.deliver(max_attempts=1)
        clock.advance(hours=2)
    assert adapter.tries == 2 and adapter.sends == 0 and bot.channel.edits() == []
    row = bot.store.outbox_post(1)
    assert row.state == "sent" and str(error) in row.last_error
