"""The migration runner: a store's migrations applied once each, in version order, and
recorded in schema_migrations; whether a file is older or newer than this code.

A migration is (version, name, sql); `sql` a script, or a function run as `sql(conn)`.
The core's are storage.schema's, the delivery tables' storage.delivery_schema's.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator

from feeds.models import iso_utc, utcnow

Migration = tuple[int, str, str | Callable[[sqlite3.Connection], None]]

_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"""


def statements(sql: str) -> Iterator[str]:
    """Split a script into statements; trigger bodies hold ';' so split on complete ones."""
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf.strip()
            buf = ""
    code = [line for line in buf.splitlines() if not line.strip().startswith("--")]
    if "".join(code).strip():   # a last statement without its ';'
        yield buf.strip()


def migrate(conn: sqlite3.Connection, migrations: Iterable[Migration],
            upgrading: Callable[[], None] = lambda: None) -> list[int]:
    """Apply the migrations not yet recorded, all in one write transaction; return the
    versions applied. An up-to-date file needs no write lock (opening never waits for a
    busy writer); otherwise the ledger is read again under the lock, so two processes
    opening a fresh file at once apply each migration once. `upgrading` is called under
    the lock when an older ainews's file is about to be migrated (not a new one's)."""
    migrations = sorted(migrations)
    if _applied(conn) >= {v for v, _n, _s in migrations}:
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_LEDGER)
        done = _applied(conn)
        if done and not done >= {v for v, _n, _s in migrations}:
            upgrading()
        applied = []
        for version, name, sql in migrations:
            if version in done:
                continue
            if callable(sql):
                sql(conn)
            else:
                for stmt in statements(sql):
                    conn.execute(stmt)
            conn.execute("INSERT INTO schema_migrations (version, name, applied_at) "
                         "VALUES (?, ?, ?)", (version, name, iso_utc(utcnow())))
            applied.append(version)
        conn.execute("COMMIT")
        return applied
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def upgrading(conn: sqlite3.Connection, migrations: Iterable[Migration]) -> bool:
    """Whether this file was made by an older ainews: migrated before, not fully."""
    done = _applied(conn)
    return bool(done) and not done >= {v for v, _n, _s in migrations}


def unknown_versions(conn: sqlite3.Connection, migrations: Iterable[Migration]) -> list[int]:
    """Versions recorded in the file that this code does not know: a newer ainews
    wrote it (a rollback after an upgrade), and this code cannot keep that schema's
    promises."""
    known = {v for v, _n, _s in migrations}
    return sorted(_applied(conn) - known)


def _applied(conn: sqlite3.Connection) -> set[int]:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                          "AND name = 'schema_migrations'").fetchone()
    if not exists:
        return set()
    return {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
