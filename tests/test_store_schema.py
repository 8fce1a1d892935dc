"""Store schema: migrations recorded once and applied atomically, an old store
upgraded, page sizes, and what is stored comes back as it went in."""
from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

import storage.store
from storage.migrate import migrate
from storage.store import Store
from tests.store_kit import T0, make, add, fts_in_step, both_stores


store = pytest.fixture(both_stores, name="store", params=["memory", "file"])



def older_than(version: int) -> list:
    """The core migrations a file made before `version` had, with 16's link_key, which
    the store writes with every story it adds (its stories are made by this code)."""
    from storage.schema import MIGRATIONS
    return [m for m in MIGRATIONS if m[0] < version or m[0] == 16]

def test_migrations_are_recorded_once_and_reopening_is_idempotent(tmp_path):
    path = tmp_path / "nested" / "dir" / "ainews.db"
    with Store(path) as first:
        applied = first.migrations()
        add(first, make("Alibaba cuts Qwen API prices"))
    assert path.exists(), "parent directories are created"
    versions = [v for v, _name, _at in applied]
    assert versions == sorted(set(versions)) and 1 in versions
    with Store(path) as again:
        assert again.migrations() == applied
        assert [b.headline for b in again.latest()] == ["Alibaba cuts Qwen API prices"]
        assert again.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert again.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migration_runner_applies_new_versions_once_and_atomically():
    conn = sqlite3.connect(":memory:")
    steps = [(1, "plain", "-- a comment first, no final semicolon\nCREATE TABLE a (x)"),
             (2, "trigger", "CREATE TABLE b (y);\nCREATE TRIGGER copy AFTER INSERT ON a "
                            "BEGIN INSERT INTO b VALUES (new.x); END;")]
    assert migrate(conn, steps) == [1, 2]
    assert migrate(conn, steps) == []
    conn.execute("INSERT INTO a VALUES (7)")
    assert conn.execute("SELECT y FROM b").fetchall() == [(7,)]
    broken = [*steps, (3, "ok", "CREATE TABLE c (z)"), (4, "bad", "CREATE TABLE a (x)")]
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert [v for (v,) in conn.execute("SELECT version FROM schema_migrations")] == [1, 2]
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'c'").fetchall() == []


def test_store_made_before_migration_6_upgrades_and_indexes_new_stories(tmp_path,
                                                                            monkeypatch):
    import storage.store
    from storage.schema import MIGRATIONS
    path = tmp_path / "old.db"
    # The schema as it was before: new stories indexed by the stories_fts_insert trigger.
    monkeypatch.setattr(storage.store, "MIGRATIONS", [m for m in MIGRATIONS if m[0] < 6])
    with Store(path) as old:
        old.db.conn.execute(
            "INSERT INTO stories (pk, id, url, title, text, published, content_hash, status, "
            "first_seen, updated_at, cluster_id) VALUES (1, 'old-1', 'https://a.example/old', "
            "'Tencent opens Hunyuan weights', 'Tencent released the weights.', "
            "'2026-03-01T09:00:00Z', 'h', 'backlog', '2026-03-01T09:00:00Z', "
            "'2026-03-01T09:00:00Z', 1)")
        old.db.conn.commit()
        assert 6 not in [v for v, _n, _at in old.migrations()]
    monkeypatch.undo()
    with Store(path) as store:
        assert 6 in [v for v, _n, _at in store.migrations()]
        assert store.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                "name = 'stories_fts_insert'").fetchall() == []
        new = make("Tencent cuts Hunyuan API prices", companies=("Tencent",))
        add(store, new)
        fts_in_step(store)
        assert [b.id for b in store.search("hunyuan")] == [new.id, "old-1"]


def test_stories_slimmed_before_migration_12_are_known_as_pruned(tmp_path, monkeypatch):
    """The prune marked the stories it slimmed "backlog", which `why` read as "never
    posted": one slimmed before the prune kept what it was (migration 12) is pruned,
    posted or not unknown; one not slimmed yet is not."""
    path = tmp_path / "old.db"
    monkeypatch.setattr(storage.store, "MIGRATIONS", older_than(12))
    old_story, recent = make("Alibaba cuts Qwen prices"), make("Nvidia ships a new chip")
    with Store(path) as old:
        add(old, old_story)
        add(old, recent)
        old.db.conn.execute("UPDATE stories SET text = '', html = '', summary = '', "
                            "status = 'backlog' WHERE pk = 1")   # as the prune left it
        old.db.conn.commit()
        old.set_meta("slimmed_upto_pk", 1)
    monkeypatch.undo()
    with Store(path) as store:
        assert store.story_record(old_story.id).pruned_from == "unknown"
        assert store.story_record(recent.id).pruned_from == ""


def test_feeds_before_migration_14_know_when_they_last_brought_news(tmp_path, monkeypatch):
    """`feeds list` says when a feed last brought a new story: an upgraded file carries
    it over, for each feed, from the latest story it stored as news (pruned since or
    not); a first poll's archive is none, nor is a feed that brought nothing."""
    from feeds.models import FeedSource
    from tests.store_kit import FEED_A, FEED_B
    feed_c, feed_d = "https://c.example/feed", "https://d.example/feed"
    path = tmp_path / "old.db"
    monkeypatch.setattr(storage.store, "MIGRATIONS", older_than(14))
    with Store(path) as old:
        for url in (FEED_A, FEED_B, feed_c, feed_d):
            old.upsert_feed(FeedSource(url, url))
        for hours, title in ((0, "Alibaba cuts Qwen prices"), (5, "Alibaba opens Qwen 3")):
            old.add_new_stories([make(title)], backlog=False, now=T0 + timedelta(hours=hours))
        old.add_new_stories([make("Baidu cuts Ernie prices", feed=feed_c)], backlog=False,
                            now=T0 + timedelta(hours=2))
        old.add_new_stories([make("Nvidia ships a new chip", feed=FEED_B),
                             make("Baidu ships a new chip", feed=feed_c)],
                            backlog=True, now=T0 + timedelta(hours=9))   # archives
        old.db.conn.execute("UPDATE stories SET status = 'backlog', pruned_from = 'new' "
                            "WHERE title = 'Baidu cuts Ernie prices'")   # pruned since
        old.db.conn.commit()
    monkeypatch.undo()
    with Store(path) as store:
        last = {s.source.url: s.last_new for s in store.feed_states()}
    assert last == {FEED_A: T0 + timedelta(hours=5), FEED_B: None,
                    feed_c: T0 + timedelta(hours=2), feed_d: None}


# What SQLite added after 3.27, the oldest the store runs on (README, "Dependencies": its
# search index's remove_diacritics 2): a Python 3.11 on Ubuntu 20.04 has 3.31.
NEWER_SQL = {"UPDATE ... FROM (3.33)": r"^UPDATE\b[^()]*?\bFROM\b", "RETURNING (3.35)": r"\bRETURNING\b",
             "DROP COLUMN (3.35)": r"\bDROP\s+COLUMN\b", "STRICT (3.37)": r"\)\s*STRICT\b",
             "->> (3.38)": r"->", "IS DISTINCT FROM (3.39)": r"\bIS\s+(?:NOT\s+)?DISTINCT\b"}


def _top_level(sql: str) -> str:
    """`sql` without what its brackets hold (a subquery's FROM is no UPDATE ... FROM)."""
    while (shorter := re.sub(r"\([^()]*\)", "", sql)) != sql:
        sql = shorter
    return sql


def test_an_upgrade_asks_nothing_of_a_newer_sqlite_than_the_oldest_supported(tmp_path,
                                                                            monkeypatch):
    """Migration 14 backfilled with UPDATE ... FROM: opening an older file failed
    ("near FROM: syntax error") wherever Python's SQLite is older than 3.33."""
    from storage.delivery import DELIVERY_MIGRATIONS
    from storage.schema import MIGRATIONS
    asked = []
    conn = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    conn.set_trace_callback(asked.append)
    migrate(conn, [*MIGRATIONS, *DELIVERY_MIGRATIONS])
    newer = [(name, sql) for sql in asked for name, pattern in NEWER_SQL.items()
             if re.search(pattern, _top_level(sql).strip(), re.I | re.S)]
    assert asked and newer == []


def test_store_made_before_migration_11_keeps_the_feeds_its_aliases_named(tmp_path,
                                                                          monkeypatch):
    """Aliases named their feed (migration 10) before story_feeds (11) recorded every
    feed carrying a story, which `feeds remove` and a poll's known-entry check read:
    an upgraded file keeps what its aliases said, and a feed already seen is not taken
    for a new carrier at its next poll."""
    from tests.store_kit import FEED_B
    path = tmp_path / "old.db"
    monkeypatch.setattr(storage.store, "MIGRATIONS", older_than(11))
    story = make("Alibaba cuts Qwen prices")
    with Store(path) as old:
        add(old, story)
        old.db.conn.executemany(
            "INSERT INTO story_aliases (alias, story_pk, feed_url) VALUES (?, 1, ?)",
            [("b-guid", FEED_B), ("unstable-guid", story.feed_url), ("before-10", "")])
        old.db.conn.commit()
    monkeypatch.undo()
    with Store(path) as store:
        assert 11 in [v for v, _n, _at in store.migrations()]
        assert store.db.execute("SELECT * FROM story_feeds").fetchall() == [(1, FEED_B)]
        assert store.known_story_hashes(["b-guid"], FEED_B) == {"b-guid": story.content_hash}


def test_a_new_store_has_16k_pages_and_an_old_one_keeps_its_own(tmp_path):
    """Larger pages for new files (bench 2); a file made with SQLite's 4 KB pages opens,
    stores and finds as before."""
    with Store(tmp_path / "new.db") as new:
        assert new.db.execute("PRAGMA page_size").fetchone()[0] == 16384
        assert new.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 250
    old_path = tmp_path / "old.db"
    conn = sqlite3.connect(old_path)
    conn.execute("CREATE TABLE early (x)")   # written before ainews opened it
    conn.commit()
    conn.close()
    with Store(old_path) as old:
        assert old.db.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert old.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        story = make("Alibaba cuts Qwen API prices")
        assert add(old, story) == [story]
        assert [b.id for b in old.search("qwen")] == [story.id]



def test_the_log_shrinks_back_after_one_big_transaction(tmp_path):
    """A first poll's backlog (or a first prune's batches of fat stories) grew the -wal
    file to tens of MB, and checkpoints reuse it from the start, never truncate it: it
    kept that size for the life of the process. Past journal_size_limit it is cut back
    once the log starts over after a checkpoint."""
    path = tmp_path / "ainews.db"
    store = Store(path)
    text = "Alibaba cut prices of its Qwen models. " * 500          # ~20 KB a story
    with store.transaction(whole=True):
        store.add_new_stories([make(f"Big {i}", url=f"https://a.example/b{i}", text=text)
                               for i in range(500)], backlog=True, now=T0)
    assert os.path.getsize(f"{path}-wal") > storage.store.WAL_SIZE_LIMIT
    for i in range(300):                                            # a day of small writes
        store.add_new_stories([make(f"Small {i}", url=f"https://a.example/s{i}")],
                              backlog=True, now=T0)
    wal = os.path.getsize(f"{path}-wal")
    store.close()
    assert wal <= storage.store.WAL_SIZE_LIMIT


def test_meta_round_trip(store):
    assert store.get_meta("imported_feeds", []) == []
    store.set_meta("imported_feeds", ["https://a.example/feed"])
    assert store.get_meta("imported_feeds") == ["https://a.example/feed"]


def test_stored_story_round_trips(store):
    s = replace(make("Alibaba cuts Qwen API prices", guid="g"), flags=("mention",),
                author="Jane", html="<p>x</p>", summary="Sum")
    add(store, s)
    got = store.get_story(s.id)
    assert got == replace(s, published=s.published.replace(microsecond=0))
    assert json.loads(store.db.execute("SELECT companies FROM stories").fetchone()[0]) == \
        ["Alibaba"]


@pytest.mark.parametrize("when", [
    datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc),
    datetime(2026, 3, 2, 1, 30, 59, 999999, tzinfo=timezone(timedelta(hours=8))),
    datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
    datetime(1000, 1, 1, 0, 0, 1, tzinfo=timezone(timedelta(minutes=30))),  # 999 in UTC
])
def test_stored_times_keep_their_form(when):
    """Stored times are compared as strings (windows, lookups, indexes): iso_utc writes
    them exactly as the store always has (years before 1000 with four digits)."""
    from feeds.models import iso_utc
    utc = when.astimezone(timezone.utc)
    assert iso_utc(when) == f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("when", [datetime(1, 1, 1, tzinfo=timezone.utc),
                                  datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc),
                                  T0.replace(year=99), T0.replace(year=999)])
def test_a_story_dated_at_the_ends_of_time_is_stored_and_sorts_right(store, when):
    # A feed's "0999-11-30" date was written "999-11-30...", which parse_iso refused, and
    # a date within 48 h of year 1 overflowed the clustering window: either failed the
    # poll's whole batch to store, every story in it lost.
    old = replace(make("Dated by a broken CMS", hours=0), published=when)
    assert add(store, old, make("Dated right")) != []
    assert store.get_story(old.id).published == old.published
    from feeds.models import iso_utc
    assert (iso_utc(old.published) < iso_utc(T0)) == (when < T0)
