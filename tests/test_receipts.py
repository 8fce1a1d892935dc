"""What came of a claimed outbox row (storage/receipts.py), as channels see it after a
crash: a post in flight when the process died goes out after the restart, whatever
another channel's roundup recorded meanwhile."""
from __future__ import annotations

import logging

from tests.delivery_kit import brief, delivery, follow
from tests.fakes.recorder import RecordingAdapter


def queue(store, clock, n: int, channel: str, *, held: bool):
    store.enqueue_post(cluster_id=f"k{n}", brief=brief(n, clock), platform="console",
                       workspace="w1", channel=channel, held=held, now=clock())
    return store.outbox_entry(f"k{n}", "console", channel)


async def test_a_post_in_flight_at_a_crash_is_posted_after_restart_beside_a_roundup(
        store, clock, caplog):
    """Channel B's post was on its way when channel A's roundup was recorded, then the
    process died: B still gets its post, once, and the log says what was recovered."""
    follow(store, clock, "A")
    follow(store, clock, "B")
    in_roundup = queue(store, clock, 1, "A", held=True)
    in_flight = queue(store, clock, 2, "B", held=False)
    assert store.claim_post(in_flight.id, clock()).state == "sending"
    store.claim_roundup([in_roundup.id], "roundup-1", clock())
    assert store.record_roundup_sent("roundup-1", "m1", clock()) == 1
    adapter = RecordingAdapter(clock=clock)            # the restart
    with caplog.at_level(logging.WARNING, logger="ainews.delivery"):
        await delivery(store, clock, adapter).run_once()
    assert [(s.channel, s.brief.id) for s in adapter.sends] == [("B", "story2")]
    assert store.outbox_counts() == {"digested": 1, "sent": 1}
    assert "recovered 1 post left in flight by the last run" in caplog.text
