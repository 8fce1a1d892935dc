"""Shared pieces of the Store tests: a story maker, adding stories at T0, the store
in memory and on file, and a check that the search index matches the stories. Modules
declare `store = pytest.fixture(both_stores, name="store", params=["memory", "file"])`."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from feeds.models import Classification, Story, story_id
from storage.store import Store


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
FEED_A, FEED_B = "https://a.example/feed", "https://b.example/rss"
# ~1-2 s of SQLite work: long enough for a signal to arrive mid-statement.
SLOW_SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
            "WHERE x < 30000000) SELECT count(*) FROM c")


def make(title: str, *, feed: str = FEED_A, guid: str = "", url: str = "",
         source: str = "Outlet A", hours: float = 0, companies=("Alibaba",),
         topics=("pricing",), strategy=True, text: str = "") -> Story:
    url = url or f"https://a.example/{abs(hash(title)) % 10**8}"
    return Story(id=story_id(feed, guid, url), url=url, title=title,
                 text=text or f"{title}. More detail follows.", source=source, feed_url=feed,
                 published=T0 + timedelta(hours=hours), guid=guid,
                 classification=Classification(strategy, 2.5, tuple(companies),
                                               tuple(topics), ("company:x",)))


def both_stores(request, tmp_path):
    s = Store(":memory:" if request.param == "memory" else tmp_path / "db" / "ainews.db")
    yield s
    s.close()


# SQLite's failures that no retry mends, as sqlite3 raises them: (class, code, message).
SQLITE_FAILURES = {
    "full": (sqlite3.OperationalError, sqlite3.SQLITE_FULL, "database or disk is full"),
    "io": (sqlite3.OperationalError, 778, "disk I/O error"),    # SQLITE_IOERR_WRITE
    "damaged": (sqlite3.DatabaseError, sqlite3.SQLITE_CORRUPT, "database disk image is malformed"),
}


def sqlite_error(kind: str) -> sqlite3.Error:
    cls, code, message = SQLITE_FAILURES[kind]
    e = cls(message)
    e.sqlite_errorcode = code
    return e


def fail_writes(monkeypatch, store: Store, kind: str) -> None:
    """Every write transaction of `store` fails as SQLite fails it (a full disk...), at
    its end, before COMMIT: its writes are rolled back, as SQLite rolls them back."""
    def fail(*args):
        raise sqlite_error(kind)
    monkeypatch.setattr(store, "_index_waiting", fail)


def add(store: Store, *stories: Story, backlog: bool = False) -> list[Story]:
    return store.add_new_stories(list(stories), backlog=backlog, now=T0)


def fts_in_step(store: Store) -> None:
    """The search index holds each story's current title and text: every token
    instance of stories_fts equals those of a fresh index of the stories' rows."""
    conn = store.db.conn
    conn.execute("CREATE VIRTUAL TABLE temp.fresh USING fts5 (title, text, content='', "
                 "tokenize='porter unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO temp.fresh (rowid, title, text) SELECT pk, title, text FROM stories")
    for name in ("stories_fts", "fresh"):
        conn.execute(f"CREATE VIRTUAL TABLE temp.{name}_v USING fts5vocab("
                     f"{'main' if name == 'stories_fts' else 'temp'}, {name}, instance)")
    have, want = (conn.execute(f"SELECT term, doc, col, offset FROM temp.{n}_v ORDER BY 1, 2, 3, 4")
                  .fetchall() for n in ("stories_fts", "fresh"))
    for name in ("stories_fts_v", "fresh_v", "fresh"):
        conn.execute(f"DROP TABLE temp.{name}")
    assert have == want and have
