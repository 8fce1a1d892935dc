"""Delivery: outbox -> adapter with pacing, hourly caps, retries, pauses, digests and
crash recovery. A fake clock stands in for time; RecordingAdapter for the platform."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from bot.adapter import PermanentError, TransientError
from bot.commands import Commands
from bot.dispatch import dispatch_new
from bot.replies import Caller
from feeds.models import Brief, iso_utc
from storage.store import Store
from tests.fakes.recorder import FakeClock, RecordingAdapter
from tests.delivery_kit import (brief, delivery, follow, nonces, run_until_idle,
                                 sent_then_edit_queued, states)


async def test_posts_once_with_a_stable_nonce(store, clock):
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    assert dispatch_new(store, [brief(1, clock), brief(2, clock, minutes_ago=5)], clock()) == 2
    d = delivery(store, clock, adapter)
    assert await d.run_once() == 2
    assert await d.run_once() == 0            # sent rows are never sent again
    rows = {r.channel for r in adapter.sends}
    assert rows == {"c1"}
    assert [s.nonce for s in adapter.sends] == nonces(store, 1, 2)
    assert states(store) == {"sent": 2}


async def test_burst_posts_newest_then_highest_scoring_first(store, clock):
    follow(store, clock)
    ages = {1: 30, 2: 5, 3: 120, 4: 5, 5: 60}
    scores = {2: 1.0, 4: 3.0}
    dispatch_new(store, [brief(n, clock, minutes_ago=a, score=scores.get(n, 0.0))
                         for n, a in ages.items()], clock())
    adapter = RecordingAdapter(clock=clock)
    await delivery(store, clock, adapter).run_once()
    assert [s.brief.id for s in adapter.sends] == ["story4", "story2", "story1", "story5",
                                                   "story3"]


async def test_posts_to_a_channel_are_paced(store, clock):
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(4)], clock())
    adapter = RecordingAdapter(min_interval=1.0, clock=clock)
    await delivery(store, clock, adapter).run_once()
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(adapter.sends, adapter.sends[1:])]
    assert gaps == [1.0, 1.0, 1.0]


async def test_busy_channel_rolls_the_posts_past_its_turn_into_one_roundup(store, clock):
    """Eleven at once: seven go now, the other four together 4 minutes later (the
    channel's next turn, bot/pacing.py), in one roundup."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(11)], clock())
    adapter = RecordingAdapter(min_interval=1.0, clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=10)
    assert await d.run_once() == 7
    assert len(adapter.sends) == 7 and adapter.digests == []
    clock.advance(minutes=2)
    assert await d.run_once() == 0            # not its turn yet
    clock.advance(minutes=2)
    assert await d.run_once() == 1
    (roundup,) = adapter.digests
    assert [b.id for b in roundup.briefs] == ["story7", "story8", "story9", "story10"]
    assert roundup.title == "More AI strategy news (this channel gets at most 10 posts an hour)"
    assert states(store) == {"sent": 7, "digested": 4}


async def test_hourly_cap_alone_rolls_overflow_into_one_roundup(store, clock):
    """Without spreading (Delivery(spread=False), the bench's comparison): ten at once,
    then nothing until the first turns an hour old."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(11)], clock())
    adapter = RecordingAdapter(min_interval=1.0, clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=10, spread=False)
    assert await d.run_once() == 10
    assert len(adapter.sends) == 10 and adapter.digests == []
    clock.advance(minutes=30)
    assert await d.run_once() == 0            # the window is still full
    clock.advance(minutes=31)
    assert await d.run_once() == 1
    (roundup,) = adapter.digests
    assert [b.id for b in roundup.briefs] == ["story10"]   # the oldest one waited
    assert roundup.title == "More AI strategy news (this channel gets at most 10 posts an hour)"
    assert states(store) == {"sent": 10, "digested": 1}


@dataclass
class NoIdAdapter(RecordingAdapter):
    """A platform (or a webhook) that answers a post without a message id."""

    async def send(self, channel, brief, *, nonce):
        await super().send(channel, brief, nonce=nonce)
        return None


async def test_the_hourly_cap_holds_for_a_platform_that_gives_no_message_ids(store, clock):
    """Posts without an id are stored under their nonce: each counts toward the cap,
    rather than all of them as one (and the cap never reached)."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(3)], clock())
    adapter = NoIdAdapter(clock=clock)
    assert await delivery(store, clock, adapter, hourly_cap=2).run_once() == 2
    assert len(adapter.sends) == 2 and states(store) == {"sent": 2, "held": 1}
    assert [store.outbox_post(i).message_id for i in (1, 2)] == nonces(store, 1, 2)


async def test_slow_channel_does_not_block_others(store, clock):
    follow(store, clock, "slow")
    follow(store, clock, "fast")
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.hold("slow")
    run = asyncio.create_task(delivery(store, clock, adapter).run_once())

    async def fast_posted():
        while not any(s.channel == "fast" for s in adapter.sends):
            await asyncio.sleep(0)
    await asyncio.wait_for(fast_posted(), 5)  # a deadlock guard, not a speed check
    assert not run.done()
    adapter.release("slow")
    assert await run == 2


@pytest.mark.parametrize("retry_after, too_early, due_at", [(30.0, 29, 30), (None, 59, 60)])
async def test_transient_error_retries_later_then_succeeds(store, clock, retry_after,
                                                          too_early, due_at):
    follow(store, clock)
    dispatch_new(store, [brief(1, clock), brief(2, clock, minutes_ago=5)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("HTTP 429", retry_after=retry_after))
    d = delivery(store, clock, adapter)
    start = clock()
    assert await d.run_once() == 0            # the channel waits: story2 doesn't jump ahead
    assert states(store) == {"due": 2}
    clock.now = start + timedelta(seconds=too_early)
    assert await d.run_once() == 0 and adapter.sends == []
    clock.now = start + timedelta(seconds=due_at)
    assert await d.run_once() == 2
    assert [s.nonce for s in adapter.sends] == nonces(store, 1, 2)
    assert states(store) == {"sent": 2}


@pytest.mark.parametrize("error, tries", [
    (TransientError("HTTP 503 from platform"), 8),
    (TransientError("HTTP 429 from platform", retry_after=30.0), 16),   # twice as many
    (TransientError("HTTP 401 from platform", retry_after=30.0, down=True), None),
], ids=["5xx", "429", "platform-down"])
async def test_gives_up_after_max_attempts_and_says_why(store, clock, caplog, error, tries):
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", error, times=20 if tries is None else None)
    d = delivery(store, clock, adapter, max_attempts=8)
    caplog.set_level(logging.WARNING, "ainews.delivery")
    for _ in range(24):
        await d.run_once()
        clock.advance(hours=7)                # longer than the longest backoff
    if tries is None:       # the token, not the post: an outage of any length loses none
        assert adapter.calls == 21 and len(adapter.sends) == 1 and states(store) == {"sent": 1}
        return
    assert adapter.calls == tries
    (failed,) = store.outbox_failures()
    assert f"gave up after {tries} attempts" in failed.last_error
    assert "from platform" in failed.last_error
    assert any("gave up" in r.getMessage() and r.levelno == logging.ERROR
               for r in caplog.records)


async def test_backoff_spreads_attempts_over_hours(store, clock):
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("timeout"), times=None)
    d = delivery(store, clock, adapter)
    start = clock()
    for _ in range(24 * 60):                 # a day, minute by minute
        await d.run_once()
        clock.advance(minutes=1)
        if adapter.calls == 8:
            break
    assert adapter.calls == 8
    assert clock() - start > timedelta(hours=6)
    assert states(store) == {"failed": 1}


async def test_permanent_error_pauses_the_channel_and_shows_why(store, clock, caplog):
    follow(store, clock, "gone")
    follow(store, clock, "ok")
    dispatch_new(store, [brief(1, clock), brief(2, clock, minutes_ago=1)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("gone", PermanentError("missing permission: Send Messages"))
    caplog.set_level(logging.WARNING, "ainews.delivery")
    assert await delivery(store, clock, adapter).run_once() == 2   # "ok" got both
    assert {s.channel for s in adapter.sends} == {"ok"}
    (sub,) = store.subscriptions_for_channel("console", "gone")
    assert sub.paused_reason == "missing permission: Send Messages"
    failed = store.outbox_failures()
    assert len(failed) == 2 and all("missing permission" in f.last_error for f in failed)
    assert any("paused" in r.getMessage() for r in caplog.records)
    listing = Commands(store, None, clock=clock).subscriptions(
        Caller("console", "w1", "gone", "u1")).text
    assert "PAUSED: missing permission: Send Messages" in listing
    # A paused channel gets nothing new; the healthy one does.
    assert dispatch_new(store, [brief(3, clock)], clock()) == 1


@pytest.mark.parametrize("loop", ["run_once", "run_forever"])
async def test_claimed_rows_are_delivered_after_a_crash(tmp_path, clock, loop):
    path = tmp_path / "crash.db"
    first = Store(path)
    follow(first, clock)
    dispatch_new(first, [brief(1, clock), brief(2, clock, minutes_ago=1)], clock())
    row = first.due_posts(clock())[0]
    assert first.claim_post(row.id, clock()).state == "sending"   # then the process dies
    first.db.conn.close()
    reopened = Store(path)
    adapter = RecordingAdapter(clock=clock)
    d = delivery(reopened, clock, adapter)
    posted = await (d.run_once() if loop == "run_once" else run_until_idle(d, adapter, 2))
    assert posted == 2
    assert sorted(s.nonce for s in adapter.sends) == nonces(reopened, 1, 2)
    assert reopened.outbox_counts() == {"sent": 2}
    reopened.close()


async def test_a_roundup_claimed_at_a_crash_is_sent_after_restart(tmp_path, clock):
    path = tmp_path / "crash.db"
    first = Store(path)
    follow(first, clock)
    dispatch_new(first, [brief(1, clock), brief(2, clock)], clock())
    ids = [r.id for r in first.due_posts(clock())]
    first.hold_posts(ids)
    assert len(first.claim_roundup(ids, "ainews-dx", clock())) == 2
    first.db.conn.close()
    reopened = Store(path)
    adapter = RecordingAdapter(clock=clock)
    await delivery(reopened, clock, adapter).run_once()
    assert [len(d.briefs) for d in adapter.digests] == [2]
    assert reopened.outbox_counts() == {"digested": 2}
    reopened.close()


async def test_daily_digest_goes_out_at_the_local_time(store, clock):
    follow(store, clock)                      # clock: 09:00 UTC, 10:00 in Berlin
    store.set_digest("console", "w1", "c1", "18:00", "Europe/Berlin", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(3)], clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter)
    assert await d.run_once() == 0
    clock.advance(hours=7, minutes=59)        # 16:59 UTC = 17:59 Berlin
    assert await d.run_once() == 0
    clock.advance(minutes=1)
    assert await d.run_once() == 1
    (digest,) = adapter.digests
    assert adapter.sends == []
    assert [b.id for b in digest.briefs] == ["story0", "story1", "story2"]
    assert "digest" in digest.title and "02 Mar 2026" in digest.title
    dispatch_new(store, [brief(9, clock)], clock())
    clock.advance(hours=1)
    assert await d.run_once() == 0            # tomorrow's digest, not another today
    clock.advance(hours=23)
    assert await d.run_once() == 1
    assert [b.id for b in adapter.digests[1].briefs] == ["story9"]


@pytest.mark.parametrize("size, messages", [({"roundup_size": 5}, [5, 5, 2]),
                                           ({}, [10, 2])])     # ten a message by default
async def test_long_roundups_are_split(store, clock, size, messages):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(12)], clock())
    adapter = RecordingAdapter(clock=clock)
    clock.advance(hours=1)
    assert await delivery(store, clock, adapter, **size).run_once() == len(messages)
    assert [len(d.briefs) for d in adapter.digests] == messages


@pytest.mark.parametrize("stories, titles", [
    (60, [f" ({n} of 6)" for n in range(1, 7)]),
    (11, [" (1 of 2)", " (2 of 2)"]),
    (10, [""]),
    (1, [""]),
])
async def test_a_long_digest_is_one_digest_in_numbered_parts(store, clock, stories, titles):
    """60 stories made six messages under the very same title: read as the digest
    posted six times. Every story goes out once, in parts that say so."""
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "Europe/London", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(stories)], clock())
    adapter = RecordingAdapter(clock=clock)
    clock.advance(hours=1)
    await delivery(store, clock, adapter).run_once()
    assert [d.title for d in adapter.digests] == [
        f"AI strategy digest, Mon 02 Mar 2026{t}" for t in titles]
    posted = [b.id for d in adapter.digests for b in d.briefs]
    assert sorted(posted) == sorted(f"story{n}" for n in range(stories))
    assert states(store) == {"digested": stories}


@pytest.mark.parametrize("at, retry_after", [("10:00", timedelta(minutes=5)),
                                              ("23:50", timedelta(minutes=20))],
                         ids=["retried soon", "retried past midnight"])
async def test_a_digest_resumed_after_a_failed_part_keeps_its_day_and_numbering(
        store, clock, at, retry_after):
    """A 30-story digest goes in three parts; the platform answers the third with a
    429. Its retry was a digest recounted from one: the channel read "(1 of 3)",
    "(2 of 3)", then a plain "AI strategy digest, Mon 02 Mar 2026", as though a second
    digest followed an unfinished one, and, retried past local midnight, it named the
    next day."""
    follow(store, clock)
    store.set_digest("console", "w1", "c1", at, "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(30)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail_brief("story25", TransientError("429 rate limited", retry_after=30), times=1)
    d = delivery(store, clock, adapter)
    clock.now = clock.now.replace(hour=int(at[:2]), minute=int(at[3:]))
    assert await d.run_once() == 2
    clock.advance(seconds=retry_after.total_seconds())
    assert await d.run_once() == 1
    assert [x.title for x in adapter.digests] == [
        f"AI strategy digest, Mon 02 Mar 2026 ({n} of 3)" for n in (1, 2, 3)]
    assert states(store) == {"digested": 30}
    dispatch_new(store, [brief(99, clock)], clock())
    clock.advance(hours=24)                   # the next day's digest counts from one again
    assert await d.run_once() == 1
    assert adapter.digests[-1].title == "AI strategy digest, Tue 03 Mar 2026"


async def test_a_digest_retried_into_the_next_ones_hour_is_folded_into_it(store, caplog):
    """Monday's 09:00 digest sent two parts of three, and the third was retried (the
    platform down) until 08:50 on Tuesday: it went out then, with the day's stories
    under Monday's title, and Tuesday's own minutes later with a story or two, two
    digests back-to-back. The rest of a digest not out by the hour before the next one
    now goes with that one, and the log says so once."""
    clock = FakeClock(datetime(2026, 3, 2, 8, 30, tzinfo=timezone.utc))        # Monday
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "09:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(30)], clock())
    adapter = RecordingAdapter(clock=clock)
    down = TransientError("console: the platform refuses the bot's token", 600, down=True)
    adapter.fail_brief("story25", down)
    d = delivery(store, clock, adapter)
    later = [datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)
             for day, hour, minute in ((2, 12, 0), (2, 20, 0), (3, 8, 55))]
    while clock.now < datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc):   # to Tuesday 10:00
        if clock.now == datetime(2026, 3, 3, 8, 40, tzinfo=timezone.utc):
            adapter.fail_brief("story25", down, times=0)                   # back
        if clock.now in later:
            dispatch_new(store, [brief(100 + later.index(clock.now), clock)], clock())
        with caplog.at_level(logging.INFO, logger="ainews.delivery"):
            await d.run_once()
        clock.advance(minutes=5)
    assert [(x.at.strftime("%a %H:%M"), x.title.partition(", ")[2], len(x.briefs))
            for x in adapter.digests] == [("Mon 09:00", "Mon 02 Mar 2026 (1 of 3)", 10),
                                          ("Mon 09:00", "Mon 02 Mar 2026 (2 of 3)", 10),
                                          ("Tue 09:00", "Tue 03 Mar 2026 (1 of 2)", 10),
                                          ("Tue 09:00", "Tue 03 Mar 2026 (2 of 2)", 3)]
    assert store.outbox_counts() == {"digested": 33}
    folded = [r.message for r in caplog.records if "goes with the next" in r.message]
    assert folded == ["delivery: console/c1: the rest of the digest of Mon 02 Mar 2026 "
                      "(2 of its parts out) goes with the next, at 09:00"]


@pytest.mark.parametrize("back_at, digests", [
    ("08:50", [("09:00", "Mon 02 Mar 2026")]),
    ("07:30", [("07:30", "Sun 01 Mar 2026"), ("09:00", "Mon 02 Mar 2026")]),
], ids=["ten minutes before", "an hour and a half before"])
async def test_a_bot_back_just_before_digest_time_sends_one_digest_not_two(store, back_at,
                                                                          digests):
    """Digest at 09:00 UTC; the bot stopped Saturday 10:00 and was started again Monday
    08:50. Sunday's missed digest went out at 08:50 and Monday's own at 09:00, with the
    ten minutes' stories polled since: two digests ten minutes apart, both titled Monday.
    The missed one now waits for the day's own when that is within the hour; earlier,
    it goes at once under the day it was due."""
    clock = FakeClock(datetime(2026, 2, 28, 9, 30, tzinfo=timezone.utc))     # Saturday
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "09:00", "UTC", now=clock())
    adapter = RecordingAdapter(clock=clock)
    dispatch_new(store, [brief(1, clock)], clock())
    await delivery(store, clock, adapter).run_once()               # held for the digest
    hour, minute = map(int, back_at.split(":"))
    clock.now = datetime(2026, 3, 2, hour, minute, tzinfo=timezone.utc)   # Monday
    d = delivery(store, clock, adapter)
    while clock.now.hour < 10:                # a pass every 5 minutes, a story every 10
        if clock.now.minute % 10 == 0:
            dispatch_new(store, [brief(clock.now.minute + 100 * clock.now.hour, clock)],
                         clock())
        await d.run_once()
        clock.advance(minutes=5)
    assert [(x.at.strftime("%H:%M"), x.title) for x in adapter.digests] == [
        (at, f"AI strategy digest, {day}") for at, day in digests]
    assert store.outbox_counts()["digested"] == sum(len(x.briefs) for x in adapter.digests)


async def test_a_digest_channel_in_nuuk_gets_one_digest_on_spring_forward_night(store):
    """Greenland springs forward from 23:00 to 00:00: a 23:30 digest lands at 00:30 on
    the Sunday. The day's digest went out at 00:00 local, half an hour early, and then
    every story queued before 00:30 went out at once in a digest of its own, every 5
    minutes: seven digests that night."""
    clock = FakeClock(datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc))
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "23:30", "America/Nuuk", now=clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter)
    for n in range(12 * 16):                  # a pass every 5 minutes for 16 hours,
        if n % 12 == 0:                       # a story every hour
            dispatch_new(store, [brief(n, clock)], clock())
        await d.run_once()
        clock.advance(minutes=5)
    assert [(x.at.strftime("%d %H:%M UTC"), x.title) for x in adapter.digests] == [
        ("29 01:30 UTC", f"AI strategy digest, Sat 28 Mar 2026 ({n} of 2)") for n in (1, 2)]


async def test_run_forever_delivers_and_stops(store, clock):
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, idle_seconds=60)
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    dispatch_new(store, [brief(1, clock)], clock())
    d.wake()

    async def posted():
        while not adapter.sends:
            await asyncio.sleep(0.01)
    await asyncio.wait_for(posted(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [s.brief.id for s in adapter.sends] == ["story1"]


async def test_a_stuck_channel_does_not_hold_up_the_others_across_passes(store, clock):
    follow(store, clock, channel="slow")
    follow(store, clock, channel="fast")
    adapter = RecordingAdapter(clock=clock)
    adapter.hold("slow")                      # e.g. a long Retry-After or a slow API
    d = delivery(store, clock, adapter, idle_seconds=60)
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))

    async def fast_got(n: int):
        while sum(s.channel == "fast" for s in adapter.sends) < n:
            await asyncio.sleep(0.01)
    dispatch_new(store, [brief(1, clock)], clock())
    d.wake()
    await asyncio.wait_for(fast_got(1), 5)
    dispatch_new(store, [brief(2, clock)], clock())   # a later pass, "slow" still stuck
    d.wake()
    await asyncio.wait_for(fast_got(2), 5)
    assert not any(s.channel == "slow" for s in adapter.sends)
    adapter.release("slow")
    stop.set()
    await asyncio.wait_for(task, 5)
    assert sorted(s.brief.id for s in adapter.sends if s.channel == "slow") == ["story1"]


async def test_posts_wait_while_their_platform_is_not_running(store, clock, caplog):
    follow(store, clock, platform="slack")
    dispatch_new(store, [brief(1, clock)], clock())
    console = RecordingAdapter(clock=clock)
    caplog.set_level(logging.WARNING, "ainews.delivery")
    waiting = delivery(store, clock, console)
    assert await waiting.run_once() == 0
    assert await waiting.run_once() == 0
    assert states(store) == {"due": 1}        # kept, not dropped
    # Said once, as a warning: not repeated every pass, not reported as a failure.
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "delivery: no slack adapter running; its posts wait in the outbox")]
    slack = RecordingAdapter(platform="slack", clock=clock)
    assert await delivery(store, clock, slack).run_once() == 1



async def test_posts_for_a_platform_not_running_age_out(store, clock, monkeypatch):
    """Slack switched off, its channels still subscribed: every strategy story queued a
    post for them that nothing settled, so retention (settled rows only) kept them all,
    for good. Past AINEWS_MAX_POST_AGE_HOURS they are too old to post, as any waiting
    post is; the platform back within it still gets the others."""
    follow(store, clock, channel="C1", platform="slack")
    d = delivery(store, clock, RecordingAdapter(clock=clock), max_post_age=LIMIT)
    dispatch_new(store, [brief(1, clock)], clock())
    clock.advance(hours=47)
    dispatch_new(store, [brief(2, clock)], clock())
    clock.advance(hours=2)                    # story1 is 49 h old, story2 2 h
    await d.run_once()
    assert states(store) == {"stale": 1, "due": 1}
    looks, mark_stale = [], store.mark_stale
    monkeypatch.setattr(store, "mark_stale", lambda *a, **kw: looks.append(a) or
                        mark_stale(*a, **kw))
    for _ in range(30):                       # a minute of idle ticks: one look
        clock.advance(seconds=2)
        await d.run_once()
    assert len(looks) == 1
    slack = RecordingAdapter(platform="slack", clock=clock)
    assert await delivery(store, clock, slack, max_post_age=LIMIT).run_once() == 1
    assert [s.brief.id for s in slack.sends] == ["story2"]


async def test_a_digest_back_after_a_weeks_outage_has_the_last_two_days_and_says_so(
        store, clock):
    """A digest channel of a platform switched off for a week, then on again: its
    digest is neither the week's flood nor nothing. It holds the stories still news
    (AINEWS_MAX_POST_AGE_HOURS); the older ones are counted in `ainews status`."""
    follow(store, clock, channel="C1", platform="slack")
    store.set_digest("slack", "w1", "C1", "08:00", "UTC", now=clock())
    off = delivery(store, clock, RecordingAdapter(clock=clock), max_post_age=LIMIT)
    for n in range(7 * 4):                    # a story every 6 hours for a week
        dispatch_new(store, [brief(n, clock)], clock())
        for _ in range(6):
            await off.run_once()
            clock.advance(hours=1)
    slack = RecordingAdapter(platform="slack", clock=clock)
    assert await delivery(store, clock, slack, max_post_age=LIMIT).run_once() == 1
    (digest,) = slack.digests
    assert [b.id for b in digest.briefs] == [f"story{n}" for n in range(27, 19, -1)]
    assert [row[:3] for row in store.outbox_stale()] == [("slack", "C1", 20)]


async def test_edit_retries_after_a_transient_error(store, clock):
    adapter = RecordingAdapter(clock=clock)
    d = await sent_then_edit_queued(store, clock, adapter)
    adapter.fail("c1", TransientError("HTTP 502"))
    assert await d.run_once() == 0
    clock.advance(minutes=1)
    assert await d.run_once() == 1
    ((_, message_id, edited),) = adapter.edits
    assert message_id == adapter.sends[0].message_id and edited.also_reported_by == ("FT",)
    assert len(adapter.sends) == 1 and states(store) == {"sent": 1}


async def test_refused_edit_keeps_the_post_and_the_channel(store, clock):
    adapter = RecordingAdapter(clock=clock)
    d = await sent_then_edit_queued(store, clock, adapter)
    adapter.fail("c1", PermanentError("Unknown Message"))
    await d.run_once()
    assert states(store) == {"sent": 1}
    assert "edit refused" in store.outbox_post(1).last_error
    assert not store.subscriptions_for_channel("console", "c1")[0].paused


@pytest.mark.parametrize("error, after", [
    (TransientError("HTTP 500"), {"digested": 2}),
    (PermanentError("channel deleted"), {"failed": 2}),
])
async def test_roundup_errors(store, clock, error, after):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(1, clock), brief(2, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", error)
    d = delivery(store, clock, adapter)
    clock.advance(hours=1)
    assert await d.run_once() == 0
    clock.advance(hours=1)
    await d.run_once()
    assert states(store) == after
    paused = store.subscriptions_for_channel("console", "c1")[0].paused_reason
    assert paused == ("channel deleted" if isinstance(error, PermanentError) else "")


@dataclass
class OfflineAdapter(RecordingAdapter):
    """Like the Discord adapter while its gateway is down: not ready, and a post in
    flight meanwhile fails with a short Retry-After."""
    up: bool = False

    def ready(self) -> bool:
        return self.up

    async def send(self, channel: str, brief: Brief, *, nonce: str) -> str:
        if not self.up:
            raise TransientError("discord: not connected to the gateway; will retry", 5.0)
        return await super().send(channel, brief, nonce=nonce)


async def test_a_long_platform_outage_loses_no_post(store, clock):
    follow(store, clock, platform="discord")
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = OfflineAdapter(platform="discord", clock=clock)
    d = delivery(store, clock, adapter)
    for _ in range(120):                      # ten minutes without a gateway
        await d.run_once()
        clock.advance(seconds=5)
    assert states(store) == {"due": 1}
    adapter.up = True
    assert await d.run_once() == 1            # at once, not after a long backoff
    assert [s.nonce for s in adapter.sends] == nonces(store, 1)
    assert states(store) == {"sent": 1}


# ---- old stories are not news, however long they waited in the outbox -----------------
LIMIT = timedelta(hours=48)


@pytest.mark.parametrize("max_post_age, after", [
    (LIMIT, {"sent": 1, "stale": 3}),
    (None, {"sent": 4}),                      # AINEWS_MAX_POST_AGE_HOURS=unlimited
])
async def test_posts_that_waited_past_the_age_limit_are_not_posted(store, clock, caplog,
                                                                  max_post_age, after):
    """Queued, then the bot was stopped for a week (or the channel paused, a long 429):
    when delivery resumed the channel got a week-old "news" flood."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=60) for n in range(3)], clock())
    clock.advance(days=7)
    dispatch_new(store, [brief(9, clock, minutes_ago=5)], clock())   # news today
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, max_post_age=max_post_age)
    caplog.set_level(logging.INFO, "ainews.delivery")
    await d.run_once()
    assert states(store) == after
    if max_post_age is None:
        return
    assert [s.brief.id for s in adapter.sends] == ["story9"]
    clock.advance(hours=1)
    assert await d.run_once() == 0            # never retried
    lines = [r.getMessage() for r in caplog.records if "too old" in r.getMessage()]
    assert lines == ["delivery: console/c1: 3 posts too old to post by their turn "
                     "(AINEWS_MAX_POST_AGE_HOURS 48); not posted"]
    assert "AINEWS_MAX_POST_AGE_HOURS" in store.outbox_post(1).last_error


@pytest.mark.parametrize("waited, after", [
    (timedelta(minutes=61), {"sent": 1, "digested": 1}),   # 48.5 h old: the cap's hour more
    (timedelta(minutes=121), {"sent": 1, "stale": 1}),     # 49.5 h: past that hour too
])
async def test_a_post_held_under_the_hourly_cap_gets_the_caps_hour(store, clock, waited, after):
    follow(store, clock)
    old = 47 * 60 + 30                         # published 47.5 h ago: news still
    dispatch_new(store, [brief(1, clock), brief(2, clock, minutes_ago=old)], clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=1, spread=False, max_post_age=LIMIT)
    assert await d.run_once() == 1 and states(store) == {"sent": 1, "held": 1}
    clock.advance(waited.total_seconds())
    await d.run_once()
    assert states(store) == after


async def test_a_post_waiting_as_long_unheld_is_too_old(store, clock):
    """The counterpart of the held post above: no roundup, so no extra hour."""
    follow(store, clock)
    dispatch_new(store, [brief(2, clock, minutes_ago=47 * 60 + 30)], clock())
    clock.advance(minutes=61)
    adapter = RecordingAdapter(clock=clock)
    assert await delivery(store, clock, adapter, max_post_age=LIMIT).run_once() == 0
    assert adapter.sends == [] and states(store) == {"stale": 1}


async def test_a_daily_digest_keeps_what_it_held_whatever_its_age(store, clock):
    """A digest is the summary the channel asked for: a week's stories wait for it."""
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(3)], clock())
    clock.advance(days=7, hours=1)            # its digest time, a week on
    adapter = RecordingAdapter(clock=clock)
    assert await delivery(store, clock, adapter, max_post_age=LIMIT).run_once() == 1
    assert [len(d.briefs) for d in adapter.digests] == [3]
    assert states(store) == {"digested": 3}


async def test_an_edit_waiting_for_a_platform_switched_off_is_settled_in_the_end(store, clock):
    """The post went out, an edit was queued (another outlet joined), then the platform
    was switched off. `_age_out_unserved` marks only due/held rows stale, so the 'edit'
    row waits for good, and the prune (settled rows only) never forgets it."""
    from bot.delivery import Delivery
    from tests.delivery_kit import states

    await sent_then_edit_queued(store, clock, RecordingAdapter(clock=clock))   # console
    assert states(store).get("edit") == 1
    other = RecordingAdapter(platform="slack", clock=clock)
    d = Delivery(store, {"slack": other}, clock=clock, sleep=clock.sleep,
                 max_post_age=timedelta(hours=48))          # console no longer runs
    for _ in range(3):
        clock.advance(hours=24 * 40)
        await d.run_once()
    store.slim_stories_older_than(clock() - timedelta(days=30), now=clock())
    assert states(store) == {}, states(store)


@dataclass
class ShownAdapter(RecordingAdapter):
    """Like Discord: find_sent knows a post by the story link it shows, so a post the
    restored outbox never heard of is found in the channel's history."""
    finds_by_story = True
    shown: dict = None      # story link -> message id already in the channel
    asked: list = None

    async def find_sent(self, channel, nonce, briefs=(), *, tried_ago=None):
        self.asked.append((briefs[0].id, tried_ago))
        return self.shown.get(briefs[0].url)


@pytest.mark.parametrize("restored_hours_ago", [None, 1, 72])
async def test_after_a_restore_a_story_the_channel_already_shows_is_not_posted_again(
        store, clock, restored_hours_ago):
    """`ainews restore` of a day-old backup: the outbox forgot the posts of that day,
    the feeds still list their stories, and every one was posted again. A story
    published before the restore is looked for in the channel first; one published
    since, and any post once the restore is days past, go out as they did."""
    follow(store, clock)
    if restored_hours_ago is not None:
        store.set_meta("restored_at", iso_utc(clock.now - timedelta(hours=restored_hours_ago)))
    old, new = brief(1, clock, minutes_ago=300), brief(2, clock)
    dispatch_new(store, [old, new], clock())
    adapter = ShownAdapter(clock=clock, shown={old.url: "m-before"}, asked=[])
    await delivery(store, clock, adapter).run_once()
    looked = restored_hours_ago == 1
    assert [s.brief.id for s in adapter.sends] == (["story2"] if looked else
                                                   ["story2", "story1"])
    assert adapter.asked == ([("story1", 300 * 60.0)] if looked else [])
    assert states(store) == {"sent": 2}
