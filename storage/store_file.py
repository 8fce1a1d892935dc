"""The store's file: why it could not be opened, said as what to check (a file or a
dangling link where its folder should be, a folder given for it, a read-only place),
and whether its path still names the file the store opened (check_same_file, reopen)."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from storage.db_path import db_file
from storage.store_errors import (FULL, IO_ERROR, READ_ONLY, StoreError, StoreUnusable,
                                  is_read_only, one_line, sqlite_code)

CANT_OPEN = "check that its folder exists and that you may write in it"
MISSING = (-1, -1)


class FileIdentity:
    """Mixed into storage.store.Store; uses self.path, self._file_id and self._now."""

    def check_same_file(self) -> None:
        """StoreUnusable if the path no longer names the file this store opened (removed
        by `rm -rf data/`, replaced by a backup tool, a volume remounted). SQLite does
        not notice: its connection writes on into the old file, lost at exit, while
        every other program (the CLI, a new connection) finds the file now there, or
        makes a new, empty one. Cheap (one stat): for a running bot's regular points."""
        if self._file_id is None:
            return
        now = file_id(self.path)
        if now is None or now == self._file_id:   # in memory, or it can't be told
            return
        if now == MISSING:
            raise StoreUnusable(
                f"store: {self.path} was removed while ainews ran, and what it stored "
                "since went with it: put a backup back with `ainews restore FILE` (or "
                "leave it for a new, empty database), then start ainews again")
        raise StoreUnusable(
            f"store: {self.path} was replaced by another file while ainews ran, and what "
            "it stored since went to the old one: start ainews again to use the file now "
            "there (or `ainews restore FILE` a backup first)")

    def reopen(self):
        """A connection of its own (for another thread) to this store's very file;
        StoreUnusable, and nothing made at the path, if the path no longer names it."""
        self.check_same_file()
        try:
            other = type(self)(self.path, clock=self._now, only_existing=True)
        except StoreError:
            self.check_same_file()   # removed in the meantime: say that
            raise
        if other._file_id != self._file_id:   # replaced in the meantime
            other.close()
            self.check_same_file()
        return other


def file_id(path: str) -> tuple[int, int] | None:
    """(st_dev, st_ino) of the file a database setting names: MISSING when none is
    there; None for a database in memory, or where we may not look."""
    if (file := db_file(path)) is None:
        return None
    try:
        st = os.stat(file)
    except (FileNotFoundError, NotADirectoryError):
        return MISSING
    except OSError:
        return None
    return st.st_dev, st.st_ino


def open_failure(e: BaseException, path: str) -> str:
    """Why a database could not be opened, as what to check."""
    file = db_file(path) or Path(path)
    in_the_way = next(filter(None, map(_not_a_folder, file.parents)), None)
    if in_the_way is not None:
        # --db notes.txt/ainews.db: making its folder failed with "[Errno 17] File exists"
        return in_the_way
    if _is_dir(file):   # sqlite3 says only "unable to open"
        return "it is a folder; give the path of a database file in it"
    code = sqlite_code(e)
    if code == sqlite3.SQLITE_FULL:    # an upgrade's migrations write: said as mid-run
        return FULL
    reason = READ_ONLY if is_read_only(e) else one_line(e)
    if code == sqlite3.SQLITE_CANTOPEN:   # a new file in a folder it may not write
        reason += f" ({CANT_OPEN})"
    if code == sqlite3.SQLITE_IOERR:
        reason += f"; {IO_ERROR}"
    return reason


def _not_a_folder(p: Path) -> str | None:
    """What is in the way of a database path's folder `p`, if anything: a file, or a
    link to nothing (a disk not mounted), of which mkdir said only "File exists"."""
    try:
        if p.is_symlink() and not p.exists():
            return f"{p} is a link to {os.readlink(p)}, which does not exist"
        if p.exists() and not p.is_dir():
            return f"{p} is a file, not a folder; give a database path in a folder"
    except PermissionError:   # inside a folder we may not look into: sqlite3's reason
        pass
    return None


def _is_dir(p: Path) -> bool:
    """p.is_dir(), False where we may not look: it raises then, and the operator got
    a traceback instead of the reason to open the store."""
    try:
        return p.is_dir()
    except PermissionError:
        return False
