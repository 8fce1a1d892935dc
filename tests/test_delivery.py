"""Delivery: outbox -> adapter with pacing, hourly caps, roundups, retries, pauses and
crash recovery. A fake clock stands in for time; RecordingAdapter for the platform."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from bot.adapter import PermanentError, RejectedError, TransientError
from bot.commands import Commands
from bot.delivery import Delivery
from bot.dispatch import dispatch_new
from bot.replies import Caller
from bot.retry import UNEXPECTED_ATTEMPTS
from feeds.models import Brief, Subscription
from storage.store import Store
from tests.fakes.recorder import Digest, FakeClock, RecordingAdapter


def brief(n: int, clock: FakeClock, *, minutes_ago: int = 0, **kw) -> Brief:
    return Brief(id=f"story{n}", headline=f"Story {n}", bullets=("a", "b", "c"),
                 why_it_matters="because", url=f"https://news.example/{n}",
                 source=kw.pop("source", "Outlet"),
                 published=clock.now - timedelta(minutes=minutes_ago),
                 companies=("Alibaba",), topics=("pricing",), strategy=True, **kw)


def follow(store, clock, channel="c1", platform="console", kind="all", target="all"):
    store.add_subscription(Subscription(platform, "w1", channel, kind, target), now=clock())


def delivery(store, clock, adapter, **kw) -> Delivery:
    return Delivery(store, {adapter.platform: adapter}, clock=clock, sleep=clock.sleep, **kw)


def states(store) -> dict[str, int]:
    return store.outbox_counts()


async def test_posts_once_with_a_stable_nonce(store, clock):
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    assert dispatch_new(store, [brief(1, clock), brief(2, clock, minutes_ago=5)], clock()) == 2
    d = delivery(store, clock, adapter)
    assert await d.run_once() == 2
    assert await d.run_once() == 0            # sent rows are never sent again
    rows = {r.channel for r in adapter.sends}
    assert rows == {"c1"}
    assert [s.nonce for s in adapter.sends] == ["ainews-1", "ainews-2"]
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


async def test_hourly_cap_rolls_overflow_into_one_roundup(store, clock):
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(11)], clock())
    adapter = RecordingAdapter(min_interval=1.0, clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=10)
    assert await d.run_once() == 10
    assert len(adapter.sends) == 10 and adapter.digests == []
    clock.advance(minutes=30)
    assert await d.run_once() == 0            # the window is still full
    clock.advance(minutes=31)
    assert await d.run_once() == 1
    (roundup,) = adapter.digests
    assert [b.id for b in roundup.briefs] == ["story10"]   # the oldest one waited
    assert "hourly cap" in roundup.title
    assert states(store) == {"sent": 10, "digested": 1}


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
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("HTTP 429", retry_after=retry_after))
    d = delivery(store, clock, adapter)
    start = clock()
    assert await d.run_once() == 0
    assert states(store) == {"due": 1}
    clock.now = start + timedelta(seconds=too_early)
    assert await d.run_once() == 0 and adapter.sends == []
    clock.now = start + timedelta(seconds=due_at)
    assert await d.run_once() == 1
    assert [s.nonce for s in adapter.sends] == ["ainews-1"]
    assert states(store) == {"sent": 1}


async def test_gives_up_after_max_attempts_and_says_why(store, clock, caplog):
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("HTTP 503 from platform"), times=None)
    d = delivery(store, clock, adapter, max_attempts=8)
    caplog.set_level(logging.WARNING, "ainews.delivery")
    for _ in range(12):
        await d.run_once()
        clock.advance(hours=7)                # longer than the longest backoff
    assert adapter.calls == 8
    (failed,) = store.outbox_failures()
    assert "gave up after 8 attempts" in failed.last_error
    assert "HTTP 503" in failed.last_error
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


async def _run_until_idle(d: Delivery, adapter, posts: int) -> int:
    """The service's loop (run_forever) until `posts` went out, then a clean stop."""
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    await asyncio.wait_for(_until(lambda: len(adapter.sends) >= posts, loops=10**9), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    return len(adapter.sends)


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
    posted = await (d.run_once() if loop == "run_once" else _run_until_idle(d, adapter, 2))
    assert posted == 2
    assert sorted(s.nonce for s in adapter.sends) == ["ainews-1", "ainews-2"]
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


async def test_long_roundups_are_split(store, clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(12)], clock())
    adapter = RecordingAdapter(clock=clock)
    clock.advance(hours=1)
    assert await delivery(store, clock, adapter, roundup_size=5).run_once() == 3
    assert [len(d.briefs) for d in adapter.digests] == [5, 5, 2]


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


async def _sent_then_edit_queued(store, clock, adapter):
    """Deliver story1, then queue an edit of it (another outlet joined its cluster)."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    d = delivery(store, clock, adapter)
    await d.run_once()
    row = store.outbox_post(1)
    grown = Brief.from_json({**row.brief.to_json(), "also_reported_by": ["FT"]})
    assert store.update_post_brief(row.id, grown, now=clock()) == "edit"
    return d


async def test_edit_retries_after_a_transient_error(store, clock):
    adapter = RecordingAdapter(clock=clock)
    d = await _sent_then_edit_queued(store, clock, adapter)
    adapter.fail("c1", TransientError("HTTP 502"))
    assert await d.run_once() == 0
    clock.advance(minutes=1)
    assert await d.run_once() == 1
    ((_, message_id, edited),) = adapter.edits
    assert message_id == adapter.sends[0].message_id and edited.also_reported_by == ("FT",)
    assert len(adapter.sends) == 1 and states(store) == {"sent": 1}


async def test_refused_edit_keeps_the_post_and_the_channel(store, clock):
    adapter = RecordingAdapter(clock=clock)
    d = await _sent_then_edit_queued(store, clock, adapter)
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
    assert [s.nonce for s in adapter.sends] == ["ainews-1"]
    assert states(store) == {"sent": 1}


# ---- rejected posts: one unpostable row fails alone ----------------------------------
BUG = ValueError("invalid literal for int() with base 10: 'abc'")
REFUSED = RejectedError("slack: chat.postMessage to c1 refused the message: msg_too_long")


def error_records(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "ainews.delivery" and r.levelno == logging.ERROR]


@pytest.mark.parametrize("error, passes, why", [
    (REFUSED, 1, "rejected: slack: chat.postMessage to c1 refused the message: msg_too_long"),
    (BUG, UNEXPECTED_ATTEMPTS, "ValueError: invalid literal for int()"),
], ids=["rejected", "adapter-bug"])
async def test_an_unpostable_row_fails_alone_and_the_channel_goes_on(store, clock, caplog,
                                                                     error, passes, why):
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in (1, 2, 3)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail_brief("story2", error)                 # never postable
    caplog.set_level(logging.WARNING, "ainews.delivery")
    d, start, posted = delivery(store, clock, adapter), clock(), 0
    for _ in range(passes):
        posted += await d.run_once()
        clock.advance(minutes=1)
    assert posted == 2 and [s.brief.id for s in adapter.sends] == ["story1", "story3"]
    # A bug costs the channel one backoff step, not the hours of the transient schedule.
    assert adapter.sends[-1].at - start <= timedelta(minutes=passes - 1, seconds=1)
    assert states(store) == {"sent": 2, "failed": 1}
    (failed,) = store.outbox_failures()                 # what `ainews status` lists
    assert failed.brief.id == "story2" and why in failed.last_error
    assert not store.subscriptions_for_channel("console", "c1")[0].paused
    assert any("'Story 2' rejected" in m for m in error_records(caplog))
    assert await d.run_once() == 0 and adapter.calls == 2 + passes   # never tried again


async def test_a_bug_that_passes_is_retried_and_posts(store, clock):
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", RuntimeError("flaky adapter"), times=UNEXPECTED_ATTEMPTS - 1)
    d = delivery(store, clock, adapter)
    assert await d.run_once() == 0 and states(store) == {"due": 1}
    clock.advance(minutes=1)
    assert await d.run_once() == 1 and states(store) == {"sent": 1}


@pytest.mark.parametrize("error", [REFUSED, BUG], ids=["rejected", "adapter-bug"])
async def test_a_rejected_edit_keeps_the_post_and_the_channel_goes_on(store, clock, caplog,
                                                                       error):
    adapter = RecordingAdapter(clock=clock)
    d = await _sent_then_edit_queued(store, clock, adapter)
    adapter.fail_brief("story1", error)
    caplog.set_level(logging.WARNING, "ainews.delivery")
    dispatch_new(store, [brief(2, clock)], clock())
    posted = 0
    for _ in range(UNEXPECTED_ATTEMPTS):
        posted += await d.run_once()
        clock.advance(minutes=1)
    assert posted == 1 and [s.brief.id for s in adapter.sends] == ["story1", "story2"]
    assert adapter.edits == [] and states(store) == {"sent": 2}
    assert store.outbox_post(1).last_error.startswith("edit rejected: ")
    assert not store.subscriptions_for_channel("console", "c1")[0].paused
    assert any("the first post stands" in m for m in error_records(caplog))


@pytest.mark.parametrize("error, passes", [(REFUSED, 1), (BUG, UNEXPECTED_ATTEMPTS)],
                         ids=["rejected", "adapter-bug"])
async def test_a_rejected_roundup_fails_only_the_refused_post(store, clock, caplog, error,
                                                             passes):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(4)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail_brief("story0", error)
    caplog.set_level(logging.WARNING, "ainews.delivery")
    d = delivery(store, clock, adapter, roundup_size=2)
    clock.advance(hours=1)
    posted = 0
    for _ in range(passes):
        posted += await d.run_once()
        clock.advance(minutes=1)
    # [s0, s1] refused -> halves: [s0] refused alone and failed; then [s1, s2], [s3].
    assert posted == 2 and states(store) == {"failed": 1, "digested": 3}
    assert [[b.id for b in d.briefs] for d in adapter.digests] == [["story1", "story2"],
                                                                  ["story3"]]
    (failure,) = store.outbox_failures()
    assert failure.brief.id == "story0" and failure.last_error.startswith("roundup rejected: ")
    assert not store.subscriptions_for_channel("console", "c1")[0].paused
    assert any("'Story 0' rejected in a roundup" in m for m in error_records(caplog))


async def test_a_refused_post_in_the_middle_of_a_roundup_is_found_by_halving(store, clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(5)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail_brief("story2", REFUSED)
    d = delivery(store, clock, adapter, roundup_size=4)
    clock.advance(hours=1)
    await d.run_once()
    # [s0..s3] refused -> [s0, s1] posted, [s2, s3] refused -> [s2] refused alone and
    # failed; the full size is back for the rest: [s3, s4].
    assert [[b.id for b in x.briefs] for x in adapter.digests] == [
        ["story0", "story1"], ["story3", "story4"]]
    assert [f.brief.id for f in store.outbox_failures()] == ["story2"]
    assert states(store) == {"failed": 1, "digested": 4}


@dataclass
class LostAnswerAdapter(RecordingAdapter):
    """Like Slack when its answer is lost: the roundup is posted, the call fails; a retry
    can look the post up by its nonce (find_sent)."""
    lose: int = 1

    async def send_digest(self, channel, title, briefs, *, nonce):
        mid = await super().send_digest(channel, title, briefs, nonce=nonce)
        if self.lose:
            self.lose -= 1
            raise TransientError("slack: chat.postMessage to c1: timed out")
        return mid

    async def find_sent(self, channel: str, nonce: str) -> str | None:
        return next((d.message_id for d in self.digests if d.nonce == nonce), None)


async def test_a_roundup_whose_answer_was_lost_is_not_posted_again_with_newer_posts(
        store, clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(1, clock, minutes_ago=5), brief(2, clock, minutes_ago=6)],
                 clock())
    adapter = LostAnswerAdapter(clock=clock)
    d = delivery(store, clock, adapter)
    clock.advance(hours=1)
    assert await d.run_once() == 0                # posted, but the answer was lost
    dispatch_new(store, [brief(3, clock)], clock())   # held meanwhile: newest first
    clock.advance(hours=1)
    await d.run_once()
    assert [[b.id for b in x.briefs] for x in adapter.digests] == [
        ["story1", "story2"], ["story3"]]
    assert states(store) == {"digested": 3}


async def test_a_roundup_killed_mid_send_keeps_its_posts_and_nonce_after_restart(store,
                                                                                  clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(1, clock, minutes_ago=5), brief(2, clock, minutes_ago=6)],
                 clock())
    adapter = LostAnswerAdapter(clock=clock, lose=0)
    clock.advance(hours=1)
    store.hold_posts([1, 2])
    store.claim_roundup([1, 2], "ainews-dkilled", clock())   # the platform takes it; kill
    adapter.digests.append(Digest("c1", "t", [brief(1, clock), brief(2, clock)],
                                  "ainews-dkilled", "m-1", clock()))
    dispatch_new(store, [brief(3, clock)], clock())          # held after the restart
    d = delivery(store, clock, adapter)                       # the restart: recover()
    await d.run_once()
    assert [(x.nonce, [b.id for b in x.briefs]) for x in adapter.digests] == [
        ("ainews-dkilled", ["story1", "story2"]), (adapter.digests[1].nonce, ["story3"])]
    assert states(store) == {"digested": 3}


async def test_a_roundup_waits_out_rate_limits_as_long_as_a_single_post_would(store, clock):
    """A 429 says "not now": a digest is not given up after max_attempts of them."""
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(1, clock), brief(2, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("HTTP 429", retry_after=30.0), times=8)
    d = delivery(store, clock, adapter, max_attempts=8)
    clock.advance(hours=1)
    for _ in range(9):
        await d.run_once()
        clock.advance(minutes=1)
    assert states(store) == {"digested": 2}


async def test_a_roundup_refused_for_its_size_is_halved_that_day_only(store, clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(4)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", REFUSED)             # the whole roundup, once: too big, say
    d = delivery(store, clock, adapter, roundup_size=4)
    clock.advance(hours=1)
    await d.run_once()
    assert [len(x.briefs) for x in adapter.digests] == [2, 2]
    dispatch_new(store, [brief(n, clock) for n in range(10, 14)], clock())
    clock.advance(days=1)
    await d.run_once()
    assert [len(x.briefs) for x in adapter.digests] == [2, 2, 4]   # full size again
    assert store.outbox_failures() == []


async def test_a_stop_ends_delivery_after_the_post_in_flight(store, clock):
    """Ctrl-C during `run --once` with a long queue: the post in flight is recorded,
    the rest wait in the outbox for the next start instead of holding up the exit."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(5)], clock())
    stop = asyncio.Event()

    class StopAfterFirst(RecordingAdapter):
        async def send(self, channel, b, *, nonce):
            stop.set()
            return await super().send(channel, b, nonce=nonce)
    assert await delivery(store, clock, StopAfterFirst(clock=clock)).run_once(stop) == 1
    assert states(store) == {"sent": 1, "due": 4}
    stop.clear()                              # the same in the service's loop
    await asyncio.wait_for(delivery(store, clock, StopAfterFirst(clock=clock)).run_forever(
        stop), 5)
    assert states(store) == {"sent": 2, "due": 3}
    assert await delivery(store, clock, RecordingAdapter(clock=clock)).run_once() == 3


async def test_a_stop_waits_for_the_post_in_flight_to_be_recorded(store, clock):
    """SIGTERM while a post is on its way: the loop returns only once it is recorded, so
    closing the adapters afterwards cannot leave it half-sent."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.hold("c1")
    stop = asyncio.Event()
    task = asyncio.create_task(delivery(store, clock, adapter).run_forever(stop))
    await _until(lambda: adapter.calls == 1)
    stop.set()
    for _ in range(100):
        await asyncio.sleep(0)
    assert not task.done() and states(store) == {"sending": 1}
    adapter.release("c1")
    await asyncio.wait_for(task, 5)
    assert states(store) == {"sent": 1} and len(adapter.sends) == 1


@pytest.mark.parametrize("digest", [True, False])
async def test_unsubscribing_stops_the_posts_still_waiting(store, clock, digest):
    """Held for the digest (or over the hourly cap), a story still waits when the admin
    unsubscribes: it must not be posted after the channel said stop. Posts another of
    the channel's subscriptions still wants do go out."""
    from feeds.classify import Classifier, load_gazetteer
    commands = Commands(store, Classifier(load_gazetteer()), clock=clock)
    admin = Caller("console", "w1", "c1", "u1", is_admin=True)
    commands.subscribe(admin, "pricing")
    commands.subscribe(admin, "Meta")
    if digest:
        commands.digest(admin, "daily", "18:00", "UTC")
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=1)
    meta = replace(brief(9, clock), companies=("Meta",), topics=())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(3)] + [meta], clock())
    await d.run_once()                        # digest: all held; cap 1: one post, 3 held
    assert commands.unsubscribe(admin, "pricing").kind == "text"
    clock.advance(hours=10)
    await d.run_once()
    posted = [s.brief.id for s in adapter.sends] + [b.id for g in adapter.digests
                                                    for b in g.briefs]
    assert "story9" in posted and len(posted) == (1 if digest else 2)
    assert store.outbox_counts().get("held", 0) == store.outbox_counts().get("due", 0) == 0


async def test_a_quiet_digest_channel_still_waits_for_its_time(store, clock):
    """No story for a day, then one after the digest time: it joins tomorrow's digest
    instead of going out at once as a one-story 'digest'."""
    follow(store, clock)                                  # clock: day 1, 09:00 UTC
    store.set_digest("console", "w1", "c1", "08:30", "UTC", now=clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter)
    clock.advance(hours=25)                               # day 2, 10:00: quiet so far
    dispatch_new(store, [brief(1, clock)], clock())
    assert await d.run_once() == 0 and adapter.digests == []
    clock.advance(hours=22, minutes=29)                   # day 3, 08:29
    assert await d.run_once() == 0
    clock.advance(minutes=1)                              # day 3, 08:30
    assert await d.run_once() == 1
    assert [b.id for b in adapter.digests[0].briefs] == ["story1"]


async def test_a_long_429_storm_with_short_retry_after_loses_no_post(store, clock):
    """A platform answering 429 "retry after 1 s" for ten minutes: honouring each
    Retry-After alone would spend every attempt in under a minute and fail the post."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    storm_ends = clock() + timedelta(minutes=10)

    class Storm(RecordingAdapter):
        async def send(self, channel, b, *, nonce):
            if clock() < storm_ends:
                raise TransientError("HTTP 429", retry_after=1.0)
            return await adapter.send(channel, b, nonce=nonce)
    d = delivery(store, clock, Storm(clock=clock), max_attempts=8)
    for _ in range(30 * 60):                          # half an hour, second by second
        await d.run_once()
        clock.advance(seconds=1)
    assert [s.brief.id for s in adapter.sends] == ["story1"]
    assert states(store) == {"sent": 1}


async def test_turning_the_digest_off_posts_the_held_stories_as_they_come(store, clock):
    """Stories held for today's digest go out when the digest is turned off, as the
    instant posts the channel now asks for: not as a roundup claiming the hourly cap
    was reached."""
    from feeds.classify import Classifier, load_gazetteer
    commands = Commands(store, Classifier(load_gazetteer()), clock=clock)
    admin = Caller("console", "w1", "c1", "u1", is_admin=True)
    commands.subscribe(admin, "all")
    commands.digest(admin, "daily", "18:00", "UTC")
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(3)], clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter)
    assert await d.run_once() == 0                     # held for 18:00
    reply = commands.digest(admin, "off")
    assert "3 stories held for the digest" in reply.text
    assert await d.run_once() == 3
    assert [s.brief.id for s in adapter.sends] == ["story0", "story1", "story2"]
    assert adapter.digests == []


async def test_a_post_cancelled_while_its_channel_is_posting_is_skipped_and_the_rest_go(
        store, clock):
    """The admin unsubscribes while the channel's queue is going out: the cancelled post
    is never posted, and the posts after it still go out in the same pass."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in (1, 2, 3)], clock())

    class CancelsStory2(RecordingAdapter):
        async def send(self, channel, b, *, nonce):
            if b.id == "story1":
                store.cancel_posts([r.id for r in store.waiting_posts("console", "c1")
                                    if r.brief.id == "story2"], "unsubscribed")
            return await super().send(channel, b, nonce=nonce)
    adapter = CancelsStory2(clock=clock)
    assert await delivery(store, clock, adapter).run_once() == 2
    assert [s.brief.id for s in adapter.sends] == ["story1", "story3"]
    assert states(store) == {"sent": 2, "cancelled": 1}


async def test_posts_queued_before_the_digest_was_turned_on_join_the_digest(store, clock):
    """Queued as instant posts, then the channel asked for a daily digest before they
    went out: they wait for the digest (not posted now, not stranded)."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in (1, 2)], clock())
    store.set_digest("console", "w1", "c1", "18:00", "UTC", now=clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter)
    assert await d.run_once() == 0 and adapter.sends == []
    clock.advance(hours=9)
    assert await d.run_once() == 1
    assert [[b.id for b in x.briefs] for x in adapter.digests] == [["story1", "story2"]]
    assert states(store) == {"digested": 2}


async def test_a_failing_channel_worker_is_reported_and_the_others_still_post(store, clock,
                                                                            caplog):
    follow(store, clock, channel="c1", platform="console")
    follow(store, clock, channel="s1", platform="slack")
    dispatch_new(store, [brief(1, clock)], clock())

    class Broken(RecordingAdapter):
        def ready(self):
            raise RuntimeError("adapter state corrupt")
    slack = RecordingAdapter(platform="slack", clock=clock)
    d = Delivery(store, {"console": Broken(clock=clock), "slack": slack}, clock=clock,
                 sleep=clock.sleep)
    caplog.set_level(logging.WARNING, "ainews.delivery")
    assert await d.run_once() == 1
    assert [s.channel for s in slack.sends] == ["s1"]
    assert states(store) == {"sent": 1, "due": 1}       # the console post still waits
    assert any("console/c1: worker failed" in m and "adapter state corrupt" in m
               for m in error_records(caplog))


async def test_a_channel_told_to_wait_by_its_roundup_posts_nothing_until_then(store, clock):
    """The hourly-cap roundup gets a 429 (Retry-After 30 s): the channel's new posts wait
    out those 30 s too instead of being sent into the rate limit."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(1, 4)], clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=2)
    assert await d.run_once() == 2                       # story3 held for the roundup
    clock.advance(hours=1, minutes=1)
    dispatch_new(store, [brief(9, clock)], clock())
    adapter.fail("c1", TransientError("HTTP 429", retry_after=30.0))
    assert await d.run_once() == 0
    assert [s.brief.id for s in adapter.sends] == ["story1", "story2"]
    clock.advance(seconds=30)
    assert await d.run_once() == 2
    assert [b.id for x in adapter.digests for b in x.briefs] == ["story3"]
    assert [s.brief.id for s in adapter.sends] == ["story1", "story2", "story9"]


async def test_a_digest_goes_out_ten_stories_to_a_message_by_default(store, clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(12)], clock())
    adapter = RecordingAdapter(clock=clock)
    clock.advance(hours=1)
    assert await Delivery(store, {"console": adapter}, clock=clock,
                          sleep=clock.sleep).run_once() == 2
    assert [len(x.briefs) for x in adapter.digests] == [10, 2]


@dataclass
class NotReady(RecordingAdapter):
    """A platform still trying to start (bot/startup.py's stand-in): never ready."""
    checks: int = 0

    def ready(self) -> bool:
        self.checks += 1
        return False


async def _until(predicate, loops: int = 10_000) -> None:
    for _ in range(loops):             # a deadlock guard, not a speed check
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")


async def test_a_platform_that_starts_late_posts_its_waiting_posts_at_once_and_paced(
        store, clock):
    """Unreachable at start-up, then attached: what waited goes out now (not after an
    idle tick), through the new adapter's platform-wide rate gate."""
    for c in ("a", "b", "c"):
        follow(store, clock, channel=c, platform="discord")
    dispatch_new(store, [brief(1, clock)], clock())
    d = Delivery(store, {"discord": NotReady(platform="discord", clock=clock)}, clock=clock,
                 sleep=clock.sleep, idle_seconds=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    await _until(lambda: len(d._cooldown) == 3)     # each channel found it not ready
    late = RecordingAdapter(platform="discord", clock=clock)
    late.max_rate, late.burst = 2.0, 1.0
    start = clock()
    d.attach(late)
    await asyncio.wait_for(_until(lambda: len(late.sends) == 3, loops=10**9), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [(s.at - start).total_seconds() for s in late.sends] == [0.0, 0.5, 1.0]


async def test_a_platform_that_is_down_is_not_polled_in_a_busy_loop(store, clock):
    follow(store, clock, platform="discord")
    dispatch_new(store, [brief(1, clock)], clock())
    down = NotReady(platform="discord", clock=clock)
    d = Delivery(store, {"discord": down}, clock=clock, sleep=clock.sleep,
                 idle_seconds=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    for _ in range(200):
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert down.checks == 1            # then it waits an idle tick before asking again
    assert states(store) == {"due": 1}


async def test_a_digest_channel_still_gets_edits_of_its_earlier_posts(store, clock):
    """Posted instantly, then the channel turned its digest on; the story's cluster grows:
    the post it already has is updated, not left stale."""
    adapter = RecordingAdapter(clock=clock)
    d = await _sent_then_edit_queued(store, clock, adapter)
    store.set_digest("console", "w1", "c1", "18:00", "UTC", now=clock())
    assert await d.run_once() == 1
    ((_, message_id, edited),) = adapter.edits
    assert message_id == adapter.sends[0].message_id and edited.also_reported_by == ("FT",)
    assert states(store) == {"sent": 1}


async def test_a_failing_post_is_retried_on_the_documented_schedule(store, clock):
    """A 5xx outage: retries 1, 3, 9, 27, 81, 243 minutes apart, then at most 6 hours
    apart; the eighth attempt (about 12 h in) is the last."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    attempts = []

    class Down(RecordingAdapter):
        async def send(self, channel, b, *, nonce):
            attempts.append(clock())
            raise TransientError("HTTP 503")
    d = Delivery(store, {"console": Down(clock=clock)}, clock=clock, sleep=clock.sleep)
    for _ in range(14 * 60):                          # 14 hours, minute by minute
        await d.run_once()
        clock.advance(minutes=1)
    gaps = [round((b - a).total_seconds() / 60) for a, b in zip(attempts, attempts[1:])]
    assert gaps == [1, 3, 9, 27, 81, 243, 360]
    assert states(store) == {"failed": 1}
