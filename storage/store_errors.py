"""The store's errors (StoreError and its kinds) and what SQLite's errors mean to an
operator: the file read-only, its disk full or failing, the file damaged (StoreUnusable:
one line saying what to check, no traceback), or another program holding the write lock
(busy: the next try may well succeed); and how long the current task's writes wait for
that lock (waiting_at_most). storage.store exports the errors to the store's callers."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path


class StoreError(Exception):
    """The store cannot do what was asked; str(e) is one line naming the store."""


class StoreUnusable(StoreError):
    """The store cannot go on: its file read-only, its disk full or failing (an I/O
    error), the file damaged. No retry mends it and it is no feed's fault, so `ainews
    run` stops (exit 2, this one line) rather than poll into a store it can't fill."""


class StoreBusy(StoreError):
    """Another program held the write lock past the busy timeout (a backup, a VACUUM, a
    long `ainews` command): nothing was written, and a later try may well succeed.
    str(e) says what happened, not what to do: each place that meets it says that (the
    CLI "end it and try again", the poller its next poll)."""


class StoreReadOnly(StoreUnusable):
    """Writes are refused (the file or its folder read-only, a read-only mount)."""


READ_ONLY = "the database is read-only (check the permissions of the file and its folder)"
FULL = ("its disk is full (database or disk is full): free space on it and start ainews "
        "again (what is already stored is kept)")
IO_ERROR = ("check its disk (free space, `dmesg`) and the file (`sqlite3 FILE 'PRAGMA "
            "integrity_check'`), then start ainews again")
_DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}

# The oldest SQLite the store runs on: the search index's tokenizer option
# remove_diacritics 2 came with 3.27 (README, "Dependencies").
MIN_SQLITE = (3, 27)


def sqlite_too_old() -> str | None:
    """Why this Python's SQLite can't hold the store, else None: asked before the file
    is opened, so an older library never gets to fail mid-migration with a parse error."""
    found = sqlite3.sqlite_version
    if tuple(int(n) for n in found.split(".")[:2]) >= MIN_SQLITE:
        return None
    return (f"store: this Python's SQLite is {found}; ainews needs SQLite "
            f"{'.'.join(map(str, MIN_SQLITE))} or newer (a newer Python, or one built with "
            "a newer SQLite)")


# At most this long, in the current task (a chat command: waiting_at_most), a write waits.
WAIT_CAP: ContextVar[float | None] = ContextVar("store_wait_cap", default=None)


@contextmanager
def waiting_at_most(seconds: float) -> Iterator[None]:
    """Writes of the current task (and threads it starts) wait at most `seconds` for
    another program's lock, not the store's busy timeout: a chat command must answer in
    time."""
    token = WAIT_CAP.set(seconds)
    try:
        yield
    finally:
        WAIT_CAP.reset(token)


def damage_message(path: str | Path, e: BaseException) -> str | None:
    """The one line to show when `e` says the file itself is damaged (a bad disk, a
    copy cut short), else None: that is the operator's to mend, not a bug's trace."""
    code = getattr(e, "sqlite_errorcode", None)
    if not isinstance(e, sqlite3.DatabaseError) or code is None or code & 0xFF not in _DAMAGED:
        return None
    return (f"store: {path} is damaged ({one_line(e)}); restore a backup with `ainews "
            "restore FILE`, or move it away to start afresh (`sqlite3 FILE .recover` may "
            "save its stories)")


def unusable(path: str | Path, e: BaseException) -> StoreUnusable | None:
    """The StoreUnusable `e` means, or None: e itself, or an sqlite3 error saying the
    file is read-only, its disk full or failing, or the file damaged, from a write or a
    read. A busy or locked database is not one: the next try may well succeed."""
    if isinstance(e, StoreUnusable):
        return e
    code = sqlite_code(e)
    if code == sqlite3.SQLITE_READONLY:
        return StoreReadOnly(f"store: cannot write {path}: {READ_ONLY}")
    if code == sqlite3.SQLITE_FULL:
        return StoreUnusable(f"store: cannot write {path}: {FULL}")
    # Every SQLITE_IOERR_* is fatal: each is an OS call that failed after SQLite's own
    # retries (EINTR), and none is contention, which SQLite reports as SQLITE_BUSY
    # (BUSY_SNAPSHOT, BUSY_RECOVERY included: see busy()). IOERR_LOCK is the lock call
    # itself failing, SHORT_READ a truncated file, SHMSIZE a full disk, SHMLOCK and
    # BLOCKED are no longer used (sqlite.org/rescode.html). A supervisor restarting the
    # bot after exit 2 is the retry, once the operator has had the line to see.
    if code == sqlite3.SQLITE_IOERR:
        return StoreUnusable(f"store: cannot use {path}: {one_line(e)}; {IO_ERROR}")
    damaged = damage_message(path, e)
    return StoreUnusable(damaged) if damaged is not None else None


def sqlite_code(e: BaseException) -> int | None:
    """SQLite's primary result code of `e` (SQLITE_READONLY...), None for other errors."""
    code = getattr(e, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(e, sqlite3.Error) and code is not None else None


def is_read_only(e: BaseException) -> bool:
    return isinstance(e, sqlite3.OperationalError) and sqlite_code(e) == sqlite3.SQLITE_READONLY


def is_busy(e: BaseException) -> bool:
    code = getattr(e, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
