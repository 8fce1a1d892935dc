"""How tests/data/upgrade/*.sql are written (tests/test_upgrade.py): a database dumped
as SQL, the schema in creation order (FTS5 makes its own tables), every row, the search
index rebuilt. `python -m tests.upgrade_kit > tests/data/upgrade/current.sql` makes
current.sql again after a migration (remake_current says how)."""
from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from storage.delivery_schema import DELIVERY_MIGRATIONS
from storage.schema import MIGRATIONS
from storage.store import Store

CURRENT = Path(__file__).parent / "data" / "upgrade" / "current.sql"
MADE = """\
-- Made with that version's own CLI (run --once, poll --once) and API (subscribe,
-- digest, a paused channel and feed) from synthetic feeds (tests/fakes/feedserver.py
-- make_entries and one headline written for the test), then dumped: the schema in
-- creation order (FTS5 makes its own tables), every row, the search index rebuilt;
-- the feed server's port replaced by 9 (tests/test_upgrade.py).
"""


def versions() -> str:
    """'migrations 1-11, 100-110': this code's, as a dump's first line names them."""
    runs = [(min(v), max(v)) for v in ([v for v, *_ in MIGRATIONS],
                                       [v for v, *_ in DELIVERY_MIGRATIONS])]
    return "migrations " + ", ".join(f"{a}-{b}" for a, b in runs)


def dump(path: Path, header: str) -> str:
    conn = sqlite3.connect(path)
    try:
        schema = conn.execute("SELECT name, type, sql FROM sqlite_master WHERE sql IS NOT "
                              "NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
        fts = {n for n, t, sql in schema if t == "table" and "VIRTUAL TABLE" in sql}
        # FTS5's own tables, not its triggers (stories_fts_delete), which a dump needs.
        shadows = {n for n, t, _s in schema for f in fts
                   if t == "table" and n.startswith(f + "_")}
        lines = [header, "PRAGMA foreign_keys = OFF;", "BEGIN;"]
        lines += [sql + ";" for n, _t, sql in schema if n not in shadows]
        for name, kind, _sql in schema:
            if kind == "table" and name not in fts | shadows:
                lines += _inserts(conn, name)
        lines += [f"INSERT INTO {f} ({f}) VALUES ('rebuild');" for f in sorted(fts)]
        return "\n".join(lines + ["COMMIT;", ""])
    finally:
        conn.close()


def _inserts(conn: sqlite3.Connection, table: str) -> list[str]:
    cols = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
    values = " || ',' || ".join(f"quote({c})" for c in cols)
    return [f"INSERT INTO {table} VALUES ({row});"
            for (row,) in conn.execute(f"SELECT {values} FROM {table}")]


def remake_current() -> str:
    """current.sql as this version writes it: the rows of the one it had, upgraded by
    this version's Store (its migrations fill what they add), in a file this version
    made (its schema whole: the dump of a file made from a dump lacked the search
    index's triggers, which sqlite_master lists after the tables)."""
    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp) / "old.db", Path(tmp) / "new.db"
        with sqlite3.connect(old) as conn:
            conn.executescript(CURRENT.read_text(encoding="utf-8"))
        conn.close()
        Store(old).close()
        Store(new).close()
        _copy_rows(old, new)
        return dump(new, f"-- ainews as of this test ({versions()})\n" + MADE.rstrip("\n"))


def _copy_rows(source: Path, dest: Path) -> None:
    conn = sqlite3.connect(dest)
    try:
        conn.execute("ATTACH DATABASE ? AS old", (str(source),))
        tables = [n for (n,) in conn.execute(
            "SELECT name FROM old.sqlite_master WHERE type = 'table' AND name NOT LIKE "
            "'sqlite_%' AND name NOT LIKE 'stories_fts%' AND name != 'schema_migrations' "
            "ORDER BY rowid")]
        for table in tables:
            cols = ", ".join(c[1] for c in conn.execute(f"PRAGMA old.table_info({table})"))
            conn.execute(f"DELETE FROM main.{table}")    # a new file's own meta rows
            conn.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM old.{table}")
        conn.execute("INSERT INTO stories_fts (stories_fts) VALUES ('rebuild')")
        conn.commit()
    finally:
        conn.close()


if __name__ == "__main__":
    sys.stdout.write(remake_current())
