"""No duplicate on Discord after a lost answer: find_sent (bot/discord/history.py) reads
the channel's history once Discord has forgotten the post's nonce. The real discord.py
and the real delivery core against the fake Discord on loopback, on a fake clock."""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.adapter import TransientError
from bot.backup import backup, restore
from bot.delivery import Delivery
from bot.discord.adapter import DiscordAdapter
from bot.discord.history import HISTORY_PAGE, HISTORY_PAGES
from bot.discord.render import brief_embed
from feeds.models import Subscription, iso_utc
from storage.store import Store
from tests.delivery_kit import brief, states, until
from tests.discord_kit import MESSAGES, adapter_on_fake, first_channel
from tests.fakes.discord import FakeDiscord

OTHER_BOT = {"id": "1400000000000000099", "username": "newsbot", "discriminator": "0",
             "avatar": None, "bot": True}


@pytest.fixture
async def fake():
    server = await FakeDiscord().start()
    yield server
    await server.close()


runner = pytest.fixture(adapter_on_fake, name="runner")
channel = pytest.fixture(first_channel, name="channel")


@pytest.fixture
def store(store, clock, fake):
    """The test's store, the channel following everything."""
    store.add_subscription(Subscription("discord", str(fake.guild_id), str(fake.channel_ids[0]),
                                        "all", "all"), now=clock())
    return store


def queue(store, clock, fake, *stories: int, held: bool = False) -> None:
    """Posts for the channel: due, or held for its roundup (two held go as one)."""
    for n in stories:
        store.enqueue_post(cluster_id=f"k{n}", brief=brief(n, clock, minutes_ago=n),
                           platform="discord", workspace=str(fake.guild_id),
                           channel=str(fake.channel_ids[0]), held=held, now=clock())


def deliver(store, clock, adapter) -> Delivery:
    return Delivery(store, {"discord": adapter}, clock=clock, sleep=clock.sleep)


def messages(fake) -> list[dict]:
    """Messages that exist in the channels (a replayed nonce creates none)."""
    return list(fake.messages.values())


def later(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    """Minutes pass: Discord forgets the nonce, and the adapter knows it may have."""
    fake.forget_nonces()
    adapter.nonce_window = 0


def lose_the_answer(fake, *, automod: bool = False) -> None:
    """Discord takes the next post but its answer is lost (a 503 from in between). With
    automod, the embed is refused first and the plain-text fallback is the post."""
    if automod:
        fake.fail("POST", MESSAGES, 400, code=200000)
    fake.fail("POST", MESSAGES, 503, accept=True)


# ---- a post Discord took whose answer was lost, retried after the nonce window -----------

@pytest.mark.parametrize("kind", ["post", "text", "roundup"])
@pytest.mark.parametrize("restarted", [False, True], ids=["same-process", "after-restart"])
async def test_a_post_taken_whose_answer_was_lost_is_not_posted_again_after_the_window(
        fake, runner, store, clock, kind, restarted):
    queue(store, clock, fake, *((1, 2) if kind == "roundup" else (1,)),
          held=kind == "roundup")
    lose_the_answer(fake, automod=kind == "text")
    assert await deliver(store, clock, runner.adapter).run_once() == 0
    [taken] = messages(fake)
    later(runner.adapter, fake)
    adapter = DiscordAdapter(runner.bot) if restarted else runner.adapter
    clock.advance(hours=1)
    await deliver(store, clock, adapter).run_once()
    posted = [m for m in messages(fake) if "news.example/1" in str(m)]
    assert posted == [taken]                                  # shown once
    row = store.outbox_post(1)
    assert row.message_id == taken["id"] and row.state in ("sent", "digested")
    assert fake.find("GET", MESSAGES)                         # it looked
    if kind == "text":
        assert taken["embeds"] == [] and taken["content"].endswith("news.example/1")


@pytest.mark.parametrize("restarted", [False, True], ids=["same-process", "after-restart"])
async def test_a_retry_within_the_window_trusts_the_nonce_and_reads_no_history(
        fake, runner, store, clock, restarted):
    queue(store, clock, fake, 1)
    lose_the_answer(fake)
    assert await deliver(store, clock, runner.adapter).run_once() == 0
    adapter = DiscordAdapter(runner.bot) if restarted else runner.adapter
    clock.advance(minutes=1)     # the backoff; Discord still knows the nonce
    assert await deliver(store, clock, adapter).run_once() == 1
    assert len(messages(fake)) == 1 and fake.find("GET", MESSAGES) == []
    assert store.outbox_post(1).message_id == messages(fake)[0]["id"]


# ---- what is not our post: a wrong "already posted" would lose the story ---------------

def decoy(fake, clock, which: str) -> None:
    """A message in the channel like our post of story 1, that is not it."""
    mine, other = (brief_embed(brief(n, clock)).to_dict() for n in (1, 9))
    channel = fake.channel_ids[0]
    if which == "other-bot":
        fake.post_as(channel, {"embeds": [mine]}, author=OTHER_BOT)
    elif which == "other-story":
        fake.post_as(channel, {"embeds": [other]})
    elif which == "slash-answer":     # "Post to channel" under a lookup showing story 1
        fake.post_as(channel, {"embeds": [mine]}, kind=20)
    else:                             # a roundup of ours that has story 1 among others
        fake.post_as(channel, {"embeds": [mine, other]})


@pytest.mark.parametrize("which", ["other-bot", "other-story", "slash-answer", "roundup"])
async def test_a_message_like_ours_is_not_taken_for_the_post(fake, runner, store, clock,
                                                             which):
    queue(store, clock, fake, 1)
    fake.fail("POST", MESSAGES, 503)              # refused: nothing was posted
    assert await deliver(store, clock, runner.adapter).run_once() == 0
    decoy(fake, clock, which)
    later(runner.adapter, fake)
    clock.advance(hours=1)
    assert await deliver(store, clock, runner.adapter).run_once() == 1
    row = store.outbox_post(1)
    assert fake.messages[row.message_id]["nonce"] == row.nonce    # posted, not assumed
    assert len(messages(fake)) == 2 and fake.find("GET", MESSAGES)


# ---- a history Discord won't show, or can't show now ------------------------------------

@pytest.mark.parametrize("code", [None, 50001, 50013], ids=["hidden", "50001", "50013"])
async def test_without_read_message_history_the_retry_posts_and_says_so_once(
        fake, runner, store, clock, caplog, channel, code):
    """Without the permission Discord answers a history read with no messages (a 403
    only without View Channel, when the post fails too): the permission cached for the
    channel says it, else every retry silently posted twice."""
    if code is None:
        await fake.hide_history(int(channel))
        await until(lambda: runner.adapter._history_hidden(channel))
    else:
        fake.fail("GET", MESSAGES, 403, code=code, times=10)
    caplog.set_level(logging.WARNING, "ainews")
    for n in (1, 2):                  # two posts retried in the channel: one warning
        queue(store, clock, fake, n)
        lose_the_answer(fake)
        assert await deliver(store, clock, runner.adapter).run_once() == 0
        later(runner.adapter, fake)
        clock.advance(hours=1)
        assert await deliver(store, clock, runner.adapter).run_once() == 1
    assert len(messages(fake)) == 4                   # the duplicates: the accepted cost
    assert states(store) == {"sent": 2} and store.paused_subscriptions() == []
    said = [r.getMessage() for r in caplog.records if "history" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("discord: ")
    assert "Read Message History" in said[0] and channel in said[0]
    assert str(code or "no Read Message History permission") in said[0]


async def test_a_deleted_channel_found_by_the_history_read_pauses_as_the_post_would(
        fake, runner, store, clock, channel):
    queue(store, clock, fake, 1)
    lose_the_answer(fake)
    assert await deliver(store, clock, runner.adapter).run_once() == 0
    later(runner.adapter, fake)
    fake.channel_ids.remove(int(channel))                       # deleted meanwhile
    clock.advance(hours=1)
    assert await deliver(store, clock, runner.adapter).run_once() == 0
    [sub] = store.paused_subscriptions()
    assert "Unknown Channel" in sub.paused_reason
    assert fake.requests[-1].method == "GET" and fake.requests[-1].status == 404


@pytest.mark.parametrize("via, retry_after", [(False, 7), (True, 90)])
async def test_a_rate_limited_history_read_is_transient_with_retry_after(fake, runner, channel,
                                                                         clock, via,
                                                                         retry_after):
    fake.fail("GET", MESSAGES, 429, retry_after=retry_after, via=via)
    with pytest.raises(TransientError) as err:
        await DiscordAdapter(runner.bot).find_sent(channel, "ainews-1", [brief(1, clock)])
    assert err.value.retry_after == retry_after


async def test_a_history_read_that_waits_out_a_short_429_finds_the_post(fake, runner, channel,
                                                                         clock):
    first = await runner.adapter.send(channel, brief(1, clock), nonce="ainews-1")
    fake.fail("GET", MESSAGES, 429, retry_after=0.05, via=True)
    found = await DiscordAdapter(runner.bot).find_sent(channel, "ainews-1", [brief(1, clock)])
    assert found == first


async def test_a_wall_clock_stepped_back_does_not_make_a_late_retry_trust_the_nonce(
        fake, runner, channel, clock, stepped_time):
    """The clock ran 10 minutes fast at the first attempt and NTP set it right: the
    retry 3 minutes on looked 7 minutes *before* it by the wall clock, "within the nonce
    window", and was posted again, Discord having forgotten the nonce. Time since the
    first attempt is monotonic; the history is read from before it."""
    fake.fail("POST", MESSAGES, 503, accept=True)
    with pytest.raises(TransientError):
        await runner.adapter.send(channel, brief(1, clock), nonce="ainews-3")
    [taken] = messages(fake)
    fake.forget_nonces()
    stepped_time.advance(180)
    stepped_time.step_back()
    assert await runner.adapter.find_sent(channel, "ainews-3", [brief(1, clock)]) == taken["id"]


# ---- how far back it reads -------------------------------------------------------------

def chatter(fake, n: int) -> None:
    for _ in range(n):
        fake.post_as(fake.channel_ids[0], {"content": "chat"}, author=OTHER_BOT)


@pytest.mark.parametrize("restarted", [False, True], ids=["same-process", "after-restart"])
async def test_the_post_is_found_behind_hundreds_of_newer_messages(fake, runner, channel,
                                                                   clock, restarted):
    fake.fail("POST", MESSAGES, 503, accept=True)
    with pytest.raises(TransientError):
        await runner.adapter.send(channel, brief(1, clock), nonce="ainews-7")
    [taken] = messages(fake)
    chatter(fake, 250)
    later(runner.adapter, fake)
    asker = DiscordAdapter(runner.bot) if restarted else runner.adapter
    assert await asker.find_sent(channel, "ainews-7", [brief(1, clock)]) == taken["id"]
    reads = fake.find("GET", MESSAGES)
    # Forward from the first attempt when it is known: the first page has it.
    assert len(reads) == (3 if restarted else 1)
    assert ("after" in reads[0].query) is not restarted


async def test_after_a_restart_the_post_is_found_behind_more_than_500_newer_messages(
        fake, runner, store, clock):
    """The outbox keeps when the post was first tried: after a restart the retry reads
    forward from then, as within one process, however busy the channel was meanwhile
    (reading back from the newest, it stopped 500 messages short and posted again)."""
    queue(store, clock, fake, 1)
    lose_the_answer(fake)
    assert await deliver(store, clock, runner.adapter).run_once() == 0
    [taken] = messages(fake)
    chatter(fake, HISTORY_PAGE * HISTORY_PAGES + 100)
    fake.forget_nonces()
    clock.advance(hours=1)
    await deliver(store, clock, DiscordAdapter(runner.bot)).run_once()
    assert [m for m in messages(fake) if "news.example/1" in str(m)] == [taken]
    assert store.outbox_post(1).message_id == taken["id"]
    [read] = fake.find("GET", MESSAGES)                       # its first page has it
    assert "after" in read.query


async def test_a_busy_channel_is_read_back_only_so_far_and_the_log_says_so(
        fake, runner, channel, clock, caplog):
    chatter(fake, HISTORY_PAGE * HISTORY_PAGES + 10)
    assert await DiscordAdapter(runner.bot).find_sent(channel, "ainews-9",
                                                     [brief(1, clock)]) is None
    assert len(fake.find("GET", MESSAGES)) == HISTORY_PAGES
    [said] = [r.getMessage() for r in caplog.records if "ainews-9" in r.getMessage()]
    assert said.startswith("discord: ") and channel in said


async def test_a_read_forward_and_back_stops_there_too_and_the_log_says_so(
        fake, runner, channel, clock, caplog):
    """Forward from the first attempt, then back from the newest: each at most
    HISTORY_PAGES pages, and the log says where it stopped."""
    chatter(fake, 2 * HISTORY_PAGE * HISTORY_PAGES + 10)
    assert await DiscordAdapter(runner.bot).find_sent(
        channel, "ainews-9", [brief(1, clock)], tried_ago=3600) is None
    reads = fake.find("GET", MESSAGES)
    forward = [("after" in r.query) for r in reads]
    assert forward == [True] * HISTORY_PAGES + [False] * HISTORY_PAGES
    [said] = [r.getMessage() for r in caplog.records if "ainews-9" in r.getMessage()]
    assert f"in {2 * HISTORY_PAGE * HISTORY_PAGES} messages" in said and channel in said



# ---- what counts as the same post ------------------------------------------------------

def stories(clock, numbers) -> list:
    """Briefs of these story numbers; "1*" is story 1 edited (another headline)."""
    made = [brief(int(str(n).rstrip("*")), clock, minutes_ago=1) for n in numbers]
    return [replace(b, headline=b.headline + ", corrected") if str(n).endswith("*") else b
            for n, b in zip(numbers, made)]


@pytest.mark.parametrize("posted, looked_for, same", [
    ([1], [1], True),
    ([1], ["1*"], True),                # an edit between attempts keeps the story's link
    ([1], [9], False),
    ([1, 2, 3], [1, 2, 3], True),
    (list(range(1, 13)), list(range(1, 13)), True),     # a list of headlines, one embed
    ([1, 2, 3], [1, 2], False),                         # a roundup is its whole set
    (list(range(1, 13)), list(range(1, 12)), False),
], ids=["post", "edited", "other-story", "roundup", "long-roundup", "fewer", "long-fewer"])
async def test_the_post_is_known_by_the_stories_it_shows(fake, runner, channel, clock,
                                                         posted, looked_for, same):
    briefs = stories(clock, posted)
    fake.fail("POST", MESSAGES, 503, accept=True)
    with pytest.raises(TransientError):
        if len(briefs) == 1:
            await runner.adapter.send(channel, briefs[0], nonce="ainews-5")
        else:
            await runner.adapter.send_digest(channel, "Morning roundup", briefs, nonce="ainews-5")
    [taken] = messages(fake)
    found = await DiscordAdapter(runner.bot).find_sent(channel, "ainews-5",
                                                      stories(clock, looked_for))
    assert found == (taken["id"] if same else None)



async def test_a_post_taken_by_a_later_attempt_is_found_behind_500_messages_after_the_first(
        fake, runner, store, clock):
    """review2: the first attempt failed plainly (a 503, nothing posted); the channel
    got 600 messages; a later attempt was taken but its answer lost; the bot restarted.
    The retry reads forward from the first try, 500 messages, and stops short of the
    post (the latest attempt's, near the newest messages): posted twice. Before
    first_try_at the restarted retry read back from the newest and found it."""
    queue(store, clock, fake, 1)
    fake.fail("POST", MESSAGES, 503)                          # refused: nothing posted
    assert await deliver(store, clock, runner.adapter).run_once() == 0
    assert messages(fake) == []
    chatter(fake, HISTORY_PAGE * HISTORY_PAGES + 100)
    clock.advance(hours=1)
    lose_the_answer(fake)
    assert await deliver(store, clock, runner.adapter).run_once() == 0
    [taken] = [m for m in messages(fake) if "news.example/1" in str(m)]
    fake.forget_nonces()
    clock.advance(hours=1)
    await deliver(store, clock, DiscordAdapter(runner.bot)).run_once()
    assert [m for m in messages(fake) if "news.example/1" in str(m)] == [taken]


# ---- after `ainews restore`: the posts the restored outbox never heard of -------------

async def test_after_a_restore_a_story_the_channel_shows_is_not_posted_again(
        fake, runner, channel, store, clock):
    """A day-old backup put back: the feeds still list the day's stories, and each was
    posted again, Discord having long forgotten the nonces (and the restored outbox
    handing its row ids out again). The channel's history is read first, from the
    story's publication on: the old post is found, a newer story goes out."""
    store.set_meta("restored_at", iso_utc(clock.now - timedelta(hours=1)))
    before = brief(1, clock, minutes_ago=600)
    await runner.adapter.send(channel, before, nonce="ainews-41")   # the old bot's post
    fake.forget_nonces()
    for n, b in ((1, before), (2, brief(2, clock))):
        store.enqueue_post(cluster_id=f"k{n}", brief=b, platform="discord",
                           workspace=str(fake.guild_id), channel=channel, held=False,
                           now=clock())
    assert await deliver(store, clock, runner.adapter).run_once() == 2
    shown = [m["embeds"][0]["url"] for m in messages(fake)]
    assert sorted(shown) == [before.url, brief(2, clock).url]
    assert states(store) == {"sent": 2}


@pytest.mark.parametrize("kind", ["post", "roundup"])
async def test_after_a_restore_a_new_story_is_posted_not_taken_for_the_old_bots(
        fake, runner, store, clock, tmp_path, kind):
    """The restored outbox hands the row ids the old bot used since the backup out
    again, to other stories: under the same nonce Discord (within its few minutes)
    gave back the old bot's message, and the new story was recorded as posted though
    it never was."""
    backup(store.path, tmp_path / "backup.db")
    old, new = ((1, 2), (3, 4)) if kind == "roundup" else ((1,), (3,))
    queue(store, clock, fake, *old, held=kind == "roundup")      # the old bot's posts
    assert await deliver(store, clock, runner.adapter).run_once() == 1
    store.close()
    restore(store.path, tmp_path / "backup.db")
    with Store(store.path) as restored:
        queue(restored, clock, fake, *new, held=kind == "roundup")
        assert await deliver(restored, clock, runner.adapter).run_once() == 1
        assert set(states(restored)) <= {"sent", "digested"}
    shown = {e["url"] for m in messages(fake) for e in m["embeds"]}
    assert shown == {brief(n, clock).url for n in (*old, *new)}
