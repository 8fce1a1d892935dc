"""stories.link_key: a story's link as dedupe compares it (feeds/link_key.py), where
that differs from the link as stored (NULL where it is the same: most links).

Dedupe finds a stored story by its link as `url` or `link_key`, each indexed, so one
address spelled raw by one feed and %-escaped by another (or by a later poll) is one
story. Migration 16 gives the stories stored before it theirs."""
from __future__ import annotations

import sqlite3

from feeds.link_key import link_key

__all__ = ["add_link_keys", "stored_key"]

# Only links with an escape, a character beyond ASCII (more bytes than characters) or
# one a URI cannot hold are read into Python: the others are their own key.
_MAY_DIFFER = ("(url LIKE '%\\%%' ESCAPE '\\' OR length(url) != length(CAST(url AS BLOB)) "
               "OR url GLOB '*[ \"<>\\^`{|}]*')")


def stored_key(url: str) -> str | None:
    """The link_key column for a story linking to `url`."""
    key = link_key(url)
    return key if key != url else None


def add_link_keys(conn: sqlite3.Connection, batch: int = 5000) -> None:
    """Migration 16: the column, its index, and the keys of stories stored before
    (all of them again if run again)."""
    if not any(c[1] == "link_key" for c in conn.execute("PRAGMA table_info(stories)")):
        conn.execute("ALTER TABLE stories ADD COLUMN link_key TEXT")
    last = 0
    while rows := conn.execute(f"SELECT pk, url FROM stories WHERE pk > ? AND {_MAY_DIFFER} "
                               "ORDER BY pk LIMIT ?", (last, batch)).fetchall():
        conn.executemany("UPDATE stories SET link_key = ? WHERE pk = ?",
                         [(key, pk) for pk, url in rows
                          if url and (key := stored_key(url)) is not None])
        last = rows[-1][0]
    conn.execute("CREATE INDEX IF NOT EXISTS stories_link_key ON stories (link_key) "
                 "WHERE link_key IS NOT NULL")
