"""The Store: one SQLite file (sqlite-utils underneath) behind intent-named methods.

Write transactions (storage.transactions), feeds (storage.feedstate), stories and
briefs (storage.stories, with storage.dedupe and storage.briefs), lookups
(storage.lookups) the chat core's subscriptions/outbox (storage.delivery), retention
(storage.retention), the LLM calls of the last hour (storage.llm_calls) and the check
that the path still names the file opened (storage.store_file) are mixins of this one
class; what SQLite's errors mean to the operator is storage.store_errors. WAL lets the
bot and a CLI lookup use the file at once; writers wait (busy timeout) instead of failing.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import sqlite_utils

from feeds.models import utcnow
from storage.candidates import CompanyDays
from storage.db_path import create_owner_only, db_file, existing_only, is_uri, uri_mode
from storage.delivery import DELIVERY_MIGRATIONS, DeliveryStore
from storage.feedstate import FeedState, FeedStore
from storage.llm_calls import LlmCallStore
from storage.lookups import LookupStore
from storage.records import RecordStore
from storage.retention import RetentionStore, Slimmed
from storage.migrate import migrate, unknown_versions, upgrading
from storage.schema import MIGRATIONS
from storage.search import SearchStore
from storage.search_sql import has_word
from storage.store_errors import (WAIT_CAP, StoreBusy, StoreError, StoreReadOnly, StoreUnusable,
                                  is_busy, one_line, sqlite_too_old, unusable)
from storage.store_file import FileIdentity, file_id, open_failure
from storage.stories import StoryStore
from storage.transactions import Transactions

__all__ = ["Store", "StoreBusy", "StoreError", "StoreReadOnly", "StoreUnusable", "FeedState",
           "Slimmed"]

log = logging.getLogger("ainews.store")
BUSY_TIMEOUT = 15.0   # seconds a writer waits for another process's write to finish
PAGE_SIZE = 16384     # bytes per page of a new store file (see _configure)
WAL_CHECKPOINT_BYTES = 1000 * 4096   # SQLite's default: 1,000 pages of 4 KB
# The -wal file is cut back to this when the log starts over after a checkpoint. Twice
# the checkpoint point: the log of ordinary polls (up to the checkpoint, plus the
# transaction that crosses it) is never cut and grown again, while a one-off big
# transaction's (a first poll's backlog, a first prune) no longer keeps its size for good.
WAL_SIZE_LIMIT = 2 * WAL_CHECKPOINT_BYTES


def known() -> list:
    return [*MIGRATIONS, *DELIVERY_MIGRATIONS]


def newer_versions(conn: sqlite3.Connection) -> list[int]:
    """Schema versions in the file this ainews does not know: a newer one wrote it."""
    return unknown_versions(conn, known())


def written_by_newer(path, newer: list[int]) -> str:
    versions = (f"version {newer[0]} is" if len(newer) == 1 else
                f"versions {', '.join(map(str, newer))} are")
    return f"{path} was written by a newer ainews (schema {versions} unknown here)"


def _not_opened(path: str, newer: list[int], refused: str | None) -> str:
    """Why a file is left as it is: a newer ainews wrote it, or its upgrade was refused."""
    if newer:
        return (f"store: {written_by_newer(path, newer)}: upgrade ainews, or give this one "
                "another --db")
    return f"store: {path} needs upgrading for this ainews, but {refused}"


def _upgrade(conn: sqlite3.Connection, path: str) -> list[int]:
    """migrate, said first when an older ainews wrote the file: one transaction, holding
    the write lock throughout, which a big store's takes a while (docs/reliability.md,
    "Upgrading"); the first command sat silent meanwhile, and a second one opening the
    file said only "database is locked"."""
    def say() -> None:
        log.info("store: upgrading %s for this version of ainews: a big database takes a "
                 "minute or more; stopped meanwhile, it stays as it was and the next start "
                 "upgrades it", path)
    try:
        return migrate(conn, known(), upgrading=say)
    except sqlite3.OperationalError as e:
        if not is_busy(e):
            raise
        raise StoreError(
            f"store: {path} needs upgrading for this ainews, and another program has held "
            f"its write lock for over {BUSY_TIMEOUT:g} s: most likely another ainews "
            "command upgrading it (a big database takes minutes); try again once it is "
            "done") from None


class Store(Transactions, FeedStore, StoryStore, LookupStore, SearchStore, DeliveryStore,
            RetentionStore, RecordStore, LlmCallStore, FileIdentity):
    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = utcnow,
                 upgrade_refused: Callable[[], str | None] = lambda: None,
                 only_existing: bool = False):
        """upgrade_refused: asked before an older ainews's file is migrated; a reason
        (a bot of that version still running on it) leaves the file as it is.
        only_existing: neither the file nor its folder is made (see reopen)."""
        if (too_old := sqlite_too_old()) is not None:
            raise StoreError(too_old)
        self.path = str(path)
        self._now = clock
        self._lock = threading.RLock()
        self._signatures: OrderedDict = OrderedDict()   # see StoryStore
        self._unsigned: dict = {}                        # likewise
        self._data_version = None                        # likewise
        self._search_rows: dict[int, tuple[str, str]] = {}   # likewise
        self._own_transaction = False   # the outermost transaction is _write's
        self._whole = self._failed = False   # see transaction(whole=True)
        try:
            self.db = sqlite_utils.Database(self._connect(self.path, only_existing))
            self._company_days = CompanyDays(self.db.conn)
            self._configure()
            newer = newer_versions(self.db.conn)
            refused = None if newer or not upgrading(self.db.conn, known()) else upgrade_refused()
            applied = [] if newer or refused else _upgrade(self.db.conn, self.path)
        except (OSError, sqlite3.Error) as e:
            # Opening writes (WAL, migrations): sqlite3's "attempt to write a readonly
            # database" read as a bug to an operator running a lookup on a file they
            # may not write; say what to check, as _write does.
            raise StoreError(f"store: cannot open {self.path}: {open_failure(e, self.path)}"
                             ) from None
        if newer or refused:
            self.db.conn.close()
            raise StoreError(_not_opened(self.path, newer, refused))
        if applied:
            log.debug("store: %s: applied migrations %s", self.path, applied)
        self._file_id = file_id(self.path)   # see check_same_file

    @staticmethod
    def _connect(path: str, only_existing: bool = False) -> sqlite3.Connection:
        file = db_file(path)
        if file is not None and only_existing:
            return sqlite3.connect(existing_only(path), timeout=BUSY_TIMEOUT,
                                   check_same_thread=False, uri=True)
        if file is not None and not is_uri(path):
            path = str(file)   # "~" expanded: SQLite itself would read it as a name
        if file is not None and uri_mode(path) in ("", "rwc"):   # a new file may be made
            file.parent.mkdir(parents=True, exist_ok=True)
            create_owner_only(file)
        # check_same_thread=False: the bot hands the store to worker threads
        # (asyncio.to_thread); self._lock serialises our transactions. uri: a `file:`
        # URI whatever SQLite's build (without it, some take it for a file name).
        return sqlite3.connect(path, timeout=BUSY_TIMEOUT, check_same_thread=False,
                               uri=is_uri(path))

    def _configure(self) -> None:
        conn = self.db.conn
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        # A new file's pages are 16 KB (SQLite's default is 4): a backfill writes ~10 rows
        # a story into a dozen B-trees, and fewer, larger pages mean fewer splits and
        # less per-page work: the store's CPU x 0.89-0.93 (bench 2). Only a file not yet
        # written takes it (before WAL is on); an existing store keeps its page size.
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        self._wal = db_file(self.path) is not None   # WAL is for files
        if self._wal:
            self.db.enable_wal()
            conn.execute("PRAGMA synchronous = NORMAL")   # safe with WAL; fewer fsyncs
            # Checkpoint at ~4 MB of log whatever the page size, as with 4 KB pages.
            (page,) = conn.execute("PRAGMA page_size").fetchone()
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_BYTES // page}")
            conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.create_function("has_word", 2, has_word, deterministic=True)   # search
        # 16 MB of page cache (the default is 2): a feed's batch dirties index pages all
        # over the file, and a small cache spills and rewrites them before the commit.
        conn.execute("PRAGMA cache_size = -16384")
        # A write nested in a transaction() is a savepoint, and a savepoint keeps the
        # pages it changes in a statement journal: a temp file by default, in memory
        # here (~30% of the SQL of a backfill's writes went to that file before a
        # pass's first polls were written in a whole transaction, without savepoints).
        conn.execute("PRAGMA temp_store = MEMORY")
        # Touch the file now, so a read-only place fails here with a clear message.
        conn.execute("PRAGMA user_version").fetchone()

    def _begin_immediate(self) -> None:
        """Take the write lock. Another program holding it past the busy timeout (a
        `sqlite3` shell left in a transaction, a backup tool) is the operator's to end:
        one line naming the file, not a sqlite3 traceback from `poll` or `feeds add`."""
        cap = WAIT_CAP.get()
        wait = BUSY_TIMEOUT if cap is None else min(cap, BUSY_TIMEOUT)
        try:
            self._begin(wait)
        except sqlite3.DatabaseError as e:
            # Read-only since it was opened (a remount, a chmod), its disk failing...
            if (halt := unusable(self.path, e)) is not None:
                raise halt from None
            if not is_busy(e):
                raise
            raise StoreBusy(f"store: {self.path} is locked: another program has held "
                             f"its write lock for over {wait:g} s (a sqlite3 "
                             "shell in a transaction?)") from None

    def _begin(self, wait: float) -> None:
        """BEGIN IMMEDIATE, waiting `wait` s for the lock. Only taking the lock waits (in
        WAL, reads and the commit do not), so the busy timeout is cut for this alone."""
        if wait == BUSY_TIMEOUT:
            self.db.conn.execute("BEGIN IMMEDIATE")
            return
        self.db.conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            self.db.conn.execute("BEGIN IMMEDIATE")
        finally:
            self.db.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")

    # Small persistent settings (e.g. which feeds-file entries were imported).
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        with self._write():
            self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                            "DO UPDATE SET value = excluded.value", (key, json.dumps(value)))

    def unusable(self, e: BaseException) -> StoreUnusable | None:
        """See unusable(): for a caller that caught `e` from this store."""
        return unusable(self.path, e)

    def busy(self, e: BaseException) -> StoreBusy | None:
        """`e` as a StoreBusy when it says another program holds the store's lock (e
        itself, or sqlite3's "database is locked" from a read), else None."""
        if isinstance(e, StoreBusy):
            return e
        if isinstance(e, sqlite3.Error) and is_busy(e):
            return StoreBusy(f"store: {self.path} is locked ({one_line(e)})")
        return None

    def migrations(self) -> list[tuple[int, str, str]]:
        """(version, name, applied_at) of every applied migration, oldest first."""
        return self.db.execute("SELECT version, name, applied_at FROM schema_migrations "
                               "ORDER BY version").fetchall()

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
