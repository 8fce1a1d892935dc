"""Two Store objects on one file (the bot and a CLI lookup): WAL readers never block,
a second writer waits for the first instead of failing."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from feeds.models import Classification, FeedSource, Story
from storage.store import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


TITLES = {1: "Alibaba cuts Qwen API prices", 2: "Alibaba invests in Moonshot AI"}


def story(n: int) -> Story:
    return Story(id=f"s{n}", url=f"https://a.example/{n}", title=TITLES[n],
                 text="text", source="A", feed_url="https://a.example/feed", published=T0,
                 classification=Classification(True, 1.0, ("Alibaba",), ("pricing",)))


def test_reader_sees_committed_data_only_and_is_not_blocked(tmp_path):
    path = tmp_path / "ainews.db"
    with Store(path) as writer, Store(path) as reader:
        writer.add_new_stories([story(1)], backlog=False, now=T0)
        with writer._write():
            writer.add_new_stories([story(2)], backlog=False, now=T0)
            writer.upsert_feed(FeedSource("A", "https://a.example/feed"))
            # Mid-transaction: the reader answers at once, from the last commit.
            assert [b.id for b in reader.latest()] == ["s1"]
            assert reader.feed_state("https://a.example/feed") is None
        assert {b.id for b in reader.latest()} == {"s1", "s2"}
        assert reader.feed_state("https://a.example/feed").source.name == "A"


def test_second_writer_waits_for_the_first(tmp_path):
    path = tmp_path / "ainews.db"
    with Store(path) as first, Store(path) as second:
        trying = threading.Event()
        second.db.conn.set_trace_callback(
            lambda sql: trying.set() if sql.startswith("BEGIN IMMEDIATE") else None)
        result: dict = {}

        def write_from_second():
            try:
                result["new"] = second.add_new_stories([story(2)], backlog=False, now=T0)
            except Exception as e:  # surfaced by the assertion below
                result["error"] = e

        with first._write():
            first.add_new_stories([story(1)], backlog=False, now=T0)
            worker = threading.Thread(target=write_from_second)
            worker.start()
            assert trying.wait(10), "second writer never tried to write"
        worker.join(30)
        assert "error" not in result, result.get("error")
        assert [s.id for s in result["new"]] == ["s2"]
        assert {b.id for b in first.latest()} == {"s1", "s2"}


def test_opening_a_second_store_on_a_busy_file_works(tmp_path):
    path = tmp_path / "ainews.db"
    with Store(path) as first:
        with first._write():
            first.add_new_stories([story(1)], backlog=False, now=T0)
            # Already migrated: opening must not need the write lock held by `first`.
            with Store(path) as second:
                assert second.latest() == []
        with Store(path) as third:
            assert [b.id for b in third.latest()] == ["s1"]
