"""Migration 15: the links stored before story links lost a reader's credentials.

canonical_url drops a personalised feed's ?access_token= and the like from a story's
link (feeds/urls.py). A story stored before kept them: shown by /latest, /search, /why
and its waiting posts, and, its link being one of the keys dedupe finds a story by,
the same item seen again after the upgrade (its link and link-keyed id new) would have
been taken for news and posted again. Its link is stored as canonical_url makes it now;
the new id then finds it by that link and is kept as an alias (storage/dedupe.py).
"""
from __future__ import annotations

import json
import sqlite3

from feeds.urls import is_web_url, without_credentials

__all__ = ["drop_link_credentials"]


# Words every credential key holds (feeds/urls.py _CREDENTIAL_KEY): only links holding
# one are read into Python, not every link with a query (a WordPress ?p=123 guid is in
# most rows of a big store).
_WORDS = ("token", "secret", "pass", "pwd", "auth", "key", "jwt", "sess")


def _may_hold_credentials(column: str) -> str:
    """SQL true when `column` has a query and one of _WORDS (LIKE ignores ASCII case)."""
    words = " OR ".join(f"{column} LIKE '%{w}%'" for w in _WORDS)
    return f"({column} LIKE '%?%' AND ({words}))"


def drop_link_credentials(conn: sqlite3.Connection) -> None:
    rows = conn.execute(f"SELECT pk, url, guid FROM stories WHERE {_may_hold_credentials('url')}"
                        f" OR {_may_hold_credentials('guid')}").fetchall()
    for pk, url, guid in rows:
        new_url = without_credentials(url)
        # The page stored twice, from two subscribers' links: a link is one story's
        # (UNIQUE), so this copy keeps its own.
        if new_url != url and conn.execute("SELECT 1 FROM stories WHERE url = ?",
                                           (new_url,)).fetchone():
            new_url = url
        new_guid = without_credentials(guid) if is_web_url(guid) else guid
        if (new_url, new_guid) != (url, guid):
            conn.execute("UPDATE stories SET url = ?, guid = ? WHERE pk = ?",
                         (new_url, new_guid, pk))
    _drop_from_briefs(conn, "briefs", "content_hash", "")
    _drop_from_briefs(conn, "outbox", "id", " AND message_id IS NULL")   # not out yet


def _drop_from_briefs(conn: sqlite3.Connection, table: str, key: str, where: str) -> None:
    """The link in each brief kept as JSON (the brief cache, the posts waiting)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (table,)).fetchone():
        return   # a new file: the outbox is made after this migration
    for row_key, text in conn.execute(f"SELECT {key}, brief FROM {table} WHERE "
                                      f"{_may_hold_credentials('brief')}{where}").fetchall():
        brief = json.loads(text)
        url = brief.get("url") or ""
        if (clean := without_credentials(url)) != url:
            brief["url"] = clean
            conn.execute(f"UPDATE {table} SET brief = ? WHERE {key} = ?",
                         (json.dumps(brief, ensure_ascii=False), row_key))
