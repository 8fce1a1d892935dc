"""The outbox's bookkeeping as a channel sees it: edits that race their post, a crash in
the middle of an edit, roundups that may have gone out, which posts a roundup takes,
what the hourly cap counts, and which failures `ainews status` lists."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.adapter import PermanentError, TransientError
from bot.backup import backup, restore
from bot.commands import Commands
from bot.cli import main
from bot.dispatch import EDITED_OUT, dispatch_new
from bot.replies import Caller
from feeds.models import Brief
from storage.store import Store
from tests.fakes.recorder import RecordingAdapter
from tests.delivery_kit import (brief, delivery, follow, sent_then_edit_queued, states,
                                 until)


def grown(store, row_id: int, *outlets: str) -> Brief:
    """The row's brief after more outlets reported its story."""
    row = store.outbox_post(row_id)
    return Brief.from_json({**row.brief.to_json(), "also_reported_by": list(outlets)})


async def test_an_edit_claimed_at_a_crash_is_made_after_restart_not_posted_again(tmp_path,
                                                                                 clock):
    path = tmp_path / "crash.db"
    first = Store(path)
    adapter = RecordingAdapter(clock=clock)
    await sent_then_edit_queued(first, clock, adapter)
    assert first.claim_post(1, clock()).state == "editing"     # then the process dies
    first.db.conn.close()
    reopened = Store(path)
    await delivery(reopened, clock, adapter).run_once()
    (sent,) = adapter.sends
    assert [(mid, b.also_reported_by) for _, mid, b in adapter.edits] == [
        (sent.message_id, ("FT",))]
    assert reopened.outbox_counts() == {"sent": 1}
    reopened.close()


async def test_an_outlet_joining_while_the_edit_is_in_flight_gets_its_own_edit(store,
                                                                               clock):
    adapter = RecordingAdapter(clock=clock)
    d = await sent_then_edit_queued(store, clock, adapter)
    adapter.hold("c1")
    task = asyncio.create_task(d.run_once())
    await until(lambda: adapter.calls == 2)            # the FT edit is on its way
    assert store.update_post_brief(1, grown(store, 1, "FT", "WSJ"), now=clock()) == "editing"
    adapter.release("c1")
    await task
    await d.run_once()
    assert [b.also_reported_by for _, _, b in adapter.edits] == [("FT",), ("FT", "WSJ")]
    assert len(adapter.sends) == 1 and states(store) == {"sent": 1}


async def test_a_post_retried_after_its_cluster_grew_goes_out_grown_and_is_not_edited(
        store, clock):
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.hold("c1")
    adapter.fail("c1", TransientError("timeout"), times=1)
    d = delivery(store, clock, adapter)
    task = asyncio.create_task(d.run_once())
    await until(lambda: adapter.calls == 1)            # the first try is on its way
    assert store.update_post_brief(1, grown(store, 1, "FT"), now=clock()) == "sending"
    adapter.release("c1")
    assert await task == 0                             # it timed out
    clock.advance(hours=1)
    assert await d.run_once() == 1
    clock.advance(hours=1)
    assert await d.run_once() == 0
    assert [s.brief.also_reported_by for s in adapter.sends] == [("FT",)]
    assert adapter.edits == [] and states(store) == {"sent": 1}


async def test_an_edit_queued_while_its_post_was_retried_gets_retries_of_its_own(store,
                                                                                clock):
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("HTTP 503"), times=1)
    d = delivery(store, clock, adapter, max_attempts=2)
    assert await d.run_once() == 0                     # the post's first try fails
    clock.advance(hours=1)
    adapter.hold("c1")
    task = asyncio.create_task(d.run_once())
    await until(lambda: adapter.calls == 2)            # its second try is on its way
    assert store.update_post_brief(1, grown(store, 1, "FT"), now=clock()) == "sending"
    adapter.release("c1")
    assert await task == 1
    adapter.fail("c1", TransientError("HTTP 503"), times=1)
    assert await d.run_once() == 0                     # the edit's first try fails
    clock.advance(hours=1)
    assert await d.run_once() == 1
    assert [b.also_reported_by for _, _, b in adapter.edits] == [("FT",)]


async def test_an_edit_that_keeps_failing_is_given_up_and_the_post_stands(store, clock):
    adapter = RecordingAdapter(clock=clock)
    await sent_then_edit_queued(store, clock, adapter)
    adapter.fail("c1", TransientError("HTTP 503"), times=None)
    d = delivery(store, clock, adapter, max_attempts=2)
    for _ in range(4):
        await d.run_once()
        clock.advance(hours=7)
    assert adapter.calls == 3                          # the post, two tries of its edit
    assert adapter.edits == [] and states(store) == {"sent": 1}
    assert store.outbox_post(1).last_error.startswith("gave up after 2 attempts: HTTP 503")


async def test_digest_off_leaves_a_roundup_that_may_have_gone_out_to_its_retry(store,
                                                                              clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(1, clock), brief(2, clock, minutes_ago=1)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("timeout: the platform may have taken it"), times=1)
    d = delivery(store, clock, adapter)
    clock.advance(hours=1)
    assert await d.run_once() == 0                     # the 10:00 roundup timed out
    admin = Caller("console", "w1", "c1", "u1", is_admin=True)
    assert "Digest off" in Commands(store, None, clock=clock).digest(admin, "off").text
    clock.advance(hours=1)
    await d.run_once()
    assert adapter.sends == []                         # not posted again one by one
    assert [(g.nonce, [b.id for b in g.briefs]) for g in adapter.digests] == [
        (adapter.digests[0].nonce, ["story1", "story2"])]
    assert states(store) == {"digested": 2}


async def test_a_post_queued_just_after_digest_time_does_not_skip_that_digest(store,
                                                                             clock):
    follow(store, clock)                                   # 09:00 UTC
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(1, clock)], clock())
    clock.advance(hours=1, seconds=10)                     # 10:00:10, before the pass
    dispatch_new(store, [brief(2, clock)], clock())
    clock.advance(seconds=20)
    assert await delivery(store, clock, RecordingAdapter(clock=clock)).run_once() == 1
    assert states(store) == {"digested": 2}


async def test_the_hourly_cap_counts_a_post_from_its_first_send_not_its_edit(store, clock):
    adapter = RecordingAdapter(clock=clock)
    await sent_then_edit_queued(store, clock, adapter)     # story1 posted at 09:00
    d = delivery(store, clock, adapter, hourly_cap=1)
    clock.advance(minutes=50)
    assert await d.run_once() == 1 and len(adapter.edits) == 1   # edited at 09:50
    clock.advance(minutes=11)                              # 10:01: the hour is over
    dispatch_new(store, [brief(2, clock)], clock())
    assert await d.run_once() == 1
    assert [s.brief.id for s in adapter.sends] == ["story1", "story2"]
    assert adapter.digests == []


async def test_a_roundup_counts_once_toward_the_hourly_cap(store, clock):
    """A roundup is one message in the channel: after a roundup of three, a channel
    capped at three messages an hour has room for two posts, not none."""
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in (1, 2, 3)], clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=3)
    clock.advance(hours=1)
    assert await d.run_once() == 1                         # the 10:00 roundup
    admin = Caller("console", "w1", "c1", "u1", is_admin=True)
    assert "Digest off" in Commands(store, None, clock=clock).digest(admin, "off").text
    dispatch_new(store, [brief(4, clock), brief(5, clock, minutes_ago=1)], clock())
    assert await d.run_once() == 2
    assert [s.brief.id for s in adapter.sends] == ["story4", "story5"]
    assert states(store) == {"digested": 3, "sent": 2}


async def test_a_roundup_takes_the_highest_scoring_of_posts_published_together(store, clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    scores = {1: 1.0, 2: 3.0, 3: 2.0}
    dispatch_new(store, [brief(n, clock, score=s) for n, s in scores.items()], clock())
    adapter = RecordingAdapter(clock=clock)
    clock.advance(hours=1)
    assert await delivery(store, clock, adapter, roundup_size=2).run_once() == 2
    assert [[b.id for b in g.briefs] for g in adapter.digests] == [
        ["story2", "story3"], ["story1"]]


async def test_a_channel_its_roundup_paused_fails_every_post_it_was_holding(store, clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in (1, 2, 3)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", PermanentError("missing permission: Send Messages"), times=None)
    clock.advance(hours=1)
    await delivery(store, clock, adapter, roundup_size=2).run_once()
    assert store.subscriptions_for_channel("console", "c1")[0].paused
    # story3 was not in the refused roundup: it fails too, not flood in on resume.
    assert states(store) == {"failed": 3}
    assert len(store.outbox_failures()) == 3


def test_status_lists_the_latest_failures_newest_first(store, clock):
    follow(store, clock)
    dispatch_new(store, [brief(n, clock) for n in range(12)], clock())
    for row_id in range(1, 13):
        store.record_failed(row_id, f"rejected: {row_id}")
    assert [r.id for r in store.outbox_failures(10)] == list(range(12, 2, -1))


async def test_a_story_queued_again_for_a_channel_that_has_it_is_not_posted_again(store,
                                                                                 clock):
    """The outbox's own guard behind dispatch's check: a second enqueue of a cluster the
    channel already has changes nothing, whatever state its post is in."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    await delivery(store, clock, adapter).run_once()
    row = store.outbox_post(1)
    assert not store.enqueue_post(cluster_id=row.cluster_id, brief=row.brief,
                                  platform="console", workspace="w1", channel="c1",
                                  held=False, now=clock())
    await delivery(store, clock, adapter).run_once()
    assert len(adapter.sends) == 1 and states(store) == {"sent": 1}


def two_channels(store, clock) -> dict[str, int]:
    """story1 queued for channels c1 and c2: their row ids."""
    follow(store, clock, "c1")
    follow(store, clock, "c2")
    dispatch_new(store, [brief(1, clock)], clock())
    return {c: store.outbox_entry("story1", "console", c).id for c in ("c1", "c2")}


async def test_a_post_an_edit_wins_back_returns_to_its_own_channel_only(store, clock):
    """Both channels' posts were cancelled by an edit; a later edit wins c1's back."""
    rows = two_channels(store, clock)
    assert store.cancel_posts(list(rows.values()), EDITED_OUT) == 2
    assert store.revive_post(rows["c1"], brief(1, clock), reason=EDITED_OUT, held=False,
                             now=clock())
    adapter = RecordingAdapter(clock=clock)
    await delivery(store, clock, adapter).run_once()
    assert [s.channel for s in adapter.sends] == ["c1"]
    assert states(store) == {"sent": 1, "cancelled": 1}


async def test_unsubscribing_one_channel_leaves_another_channels_posts_to_go_out(store,
                                                                                clock):
    two_channels(store, clock)
    assert main(["--db", str(store.path), "subscriptions", "remove", "console", "c1"]) == 0
    adapter = RecordingAdapter(clock=clock)
    await delivery(store, clock, adapter).run_once()
    assert [s.channel for s in adapter.sends] == ["c2"]


def test_status_lists_the_channels_whose_posts_wait_after_a_failed_try(store, clock):
    """`ainews status`: c1's two posts wait for their next try (the latest and its
    error shown); c2's post failed for good, so it is not waiting."""
    rows = two_channels(store, clock)
    dispatch_new(store, [brief(2, clock)], clock())
    second = store.outbox_entry("story2", "console", "c1").id
    soon, later = clock() + timedelta(minutes=5), clock() + timedelta(minutes=10)
    store.record_retry(rows["c1"], next_attempt=soon, error="HTTP 503")
    store.record_retry(second, next_attempt=later, error="HTTP 429")
    store.record_failed(rows["c2"], "gave up after 5 attempts: HTTP 503")
    assert store.outbox_retrying() == [("console", "c1", 2, later, "HTTP 429")]


def test_a_roundup_takes_only_its_own_channels_posts(store, clock):
    """c2's post is on its way when c1's roundup is claimed: it is not in c1's roundup."""
    rows = two_channels(store, clock)
    assert store.claim_post(rows["c2"], clock()).state == "sending"
    store.hold_posts([rows["c1"]])
    taken = store.claim_roundup([rows["c1"]], "roundup-1", clock())
    assert [(r.channel, r.story_id) for r in taken] == [("c1", "story1")]


def test_an_edit_leaves_a_roundup_that_may_have_gone_out_as_it_was_sent(store, clock):
    """Its retry goes out under the same nonce with the same posts; c2's post, not yet
    out, takes the edit."""
    rows = two_channels(store, clock)
    store.hold_posts([rows["c1"]])
    store.claim_roundup([rows["c1"]], "roundup-1", clock())
    store.release_roundup("roundup-1", "timeout: the platform may have taken it")
    edited = Brief.from_json({**brief(1, clock).to_json(), "headline": "Story 1, revised"})
    assert store.revise_post(rows["c1"], edited, now=clock()) is None
    assert store.revise_post(rows["c2"], edited, now=clock()).state == "due"
    assert [store.outbox_post(rows[c]).brief.headline for c in ("c1", "c2")] == [
        "Story 1", "Story 1, revised"]


def test_a_channels_roundup_is_timed_from_its_own_oldest_held_post(store, clock):
    """When a roundup is due (bot/roundups.py): c2's post held since earlier does not
    bring c1's forward."""
    rows = two_channels(store, clock)
    store.hold_posts([rows["c2"]])
    clock.advance(minutes=30)
    dispatch_new(store, [brief(2, clock)], clock())
    store.hold_posts([store.outbox_entry("story2", "console", "c1").id])
    assert store.oldest_held("console", "c1") == clock()


@pytest.mark.parametrize("kind", ["post", "roundup"])
@pytest.mark.parametrize("tried_before_upgrade", [False, True], ids=["kept", "pre-upgrade"])
def test_a_retry_knows_when_its_post_was_first_tried(store, clock, kind,
                                                     tried_before_upgrade):
    """How far back a retry reads the channel for a post its first attempt may have
    made, after a restart too. A row tried before the outbox kept that time has none:
    the attempt now is not its first, and reading from it could miss the post."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    if tried_before_upgrade:
        store.db.conn.execute("UPDATE outbox SET attempts=1")
    if kind == "roundup":
        store.hold_posts([1])
    first = clock()
    for n in range(2):
        clock.advance(minutes=10 * n)
        if kind == "roundup":
            [row] = store.claim_roundup([1], "roundup-1", clock())
            store.release_roundup("roundup-1", "timed out")
        else:
            row = store.claim_post(1, clock())
            store.record_retry(1, next_attempt=clock(), error="timed out")
    assert row.first_try == (None if tried_before_upgrade else first)


def test_posts_queued_after_a_restore_have_nonces_no_earlier_post_had(store, clock,
                                                                      tmp_path):
    """A restored outbox hands out again the row ids of the posts made since the backup;
    each restore starts a life of its own, whose posts' nonces (Discord's dedupe key,
    Slack's retry lookup) are new. A post queued before the backup keeps its own: it may
    have gone out under it."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    backup(store.path, tmp_path / "backup.db")
    dispatch_new(store, [brief(2, clock)], clock())          # the old bot's post 2
    had = [store.outbox_post(i).nonce for i in (1, 2)]
    store.close()
    seen = {had[1]}
    for _ in range(2):
        restore(store.path, tmp_path / "backup.db")
        with Store(store.path) as restored:
            dispatch_new(restored, [brief(3, clock)], clock())   # another story, id 2
            first, again = restored.outbox_post(1), restored.outbox_post(2)
        assert first.nonce == had[0] and again.story_id == "story3"
        assert again.nonce not in seen and len(replace(again, id=10**12 - 1).nonce) <= 25
        seen.add(again.nonce)


def _sync_at_commits(statements: list[str]) -> list[str]:
    """PRAGMA synchronous in force at each COMMIT of these traced statements."""
    level, found = "NORMAL", []
    for sql in statements:
        words = sql.upper().split()
        if words[:2] == ["PRAGMA", "SYNCHRONOUS"] and len(words) == 4:
            level = words[3]
        elif words == ["COMMIT"]:
            found.append(level)
    return found


@pytest.mark.parametrize("kind", ["post", "roundup"])
def test_a_claim_is_on_disk_before_its_post_goes_out(store, clock, kind):
    """WAL with synchronous=NORMAL keeps a commit from a killed process but not from a
    power cut, which can take back every commit since the last checkpoint. A claim
    taken back made the row look never tried: after the reboot it was posted again
    without asking the platform first (Slack has no idempotency key; Discord forgets
    its nonces in minutes). The claim is synced before the post goes; the other
    writes (the sent mark among them: a claim still on disk makes the retry look the
    post up) keep the cheaper setting."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    if kind == "roundup":
        store.hold_posts([1])
    traced: list[str] = []
    store.db.conn.set_trace_callback(traced.append)
    try:
        if kind == "roundup":
            store.claim_roundup([1], "roundup-1", clock())
        else:
            store.claim_post(1, clock())
        claimed = len(traced)
        store.record_sent(1, "m1", clock(), shown=store.outbox_post(1).brief)
    finally:
        store.db.conn.set_trace_callback(None)
    assert _sync_at_commits(traced[:claimed]) == ["FULL"]
    assert _sync_at_commits(traced[claimed:]) == ["NORMAL"]
    assert store.db.execute("PRAGMA synchronous").fetchone() == (1,)     # NORMAL again


def test_a_new_database_posts_under_nonces_no_other_database_had(clock, tmp_path):
    """A new database had no life of its own (no epoch until a restore), so every one
    numbered its posts' nonces ainews-1, ainews-2, ...: a database made again (the old
    file deleted, a new machine set up without a restore, a second bot on a fresh file)
    posting in the same channel reused the old one's nonces, and Discord (within its
    few minutes) answered the new story with the old post, as a Slack retry could take
    it, recorded as posted and never shown. Every database now has a life at creation."""
    nonces = []
    for name in ("first.db", "made-again.db"):
        with Store(tmp_path / name) as store:
            follow(store, clock)
            dispatch_new(store, [brief(len(nonces) + 1, clock)], clock())
            nonces.append(store.outbox_post(1).nonce)
    assert nonces[0] != nonces[1]
    assert all(len(n) <= 25 and n.endswith("-1") for n in nonces)
