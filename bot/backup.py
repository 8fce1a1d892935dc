"""`ainews backup FILE` and `ainews restore FILE`: a copy of the database through
SQLite's backup API, and that copy put back.

Putting a copy in the database's place by hand (cp, mv) after a crash (SIGKILL, OOM,
power loss) left the dead bot's ainews.db-wal beside it: SQLite replayed that log into
the copy at the next open, and the restored file was "malformed" for good. Restoring
through the backup API opens the database first, so a leftover log goes into the file it
belongs to, and the copy then replaces every page of it under SQLite's locks."""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bot.errors import UserError
from bot.runlock import run_lock, running_pid
from feeds.models import iso_utc, parse_iso, utcnow
from storage.db_path import create_owner_only, db_file
from storage.nonce_epoch import renew_nonce_epoch
from storage.store import newer_versions, written_by_newer

DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")   # the file, not a lock or the disk
RESTORED_AT = "restored_at"                     # meta key: see restored_at


def backup(db_path, target: Path) -> str:
    """A consistent copy of the database at `target` (replaced if there), also while
    the bot runs."""
    source = _file_of(db_path, "backup")
    if not source.exists():
        raise UserError(f"backup: no database at {db_path}")
    if _same(target, source):
        raise UserError(f"backup: {target} is the database itself; name another file")
    try:
        _write_whole(source, Path(os.path.realpath(target)))
    except (sqlite3.Error, OSError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise UserError(f"backup: cannot copy {db_path} to {target}: {why}") from None
    return f"backup: {db_path} copied to {target}"


def _write_whole(source: Path, target: Path) -> None:
    """The copy made beside `target` and renamed over it only once whole and checked:
    written in place, a full disk (or any error midway) left a partial file where the
    backup was, and the last good one gone, for a later restore to take."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                suffix=".partial")
    # mkstemp makes it 0600, and the rename keeps that over a backup already there:
    # the database holds feed URLs with their credentials (user:password@, ?token=).
    os.close(fd)
    temp = Path(name)
    try:
        _copy(_read_only(source), temp)
        _one_file(temp)
        _verify(temp)
        os.replace(temp, target)
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):    # gone once renamed
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{temp}{suffix}")


def _verify(copy: Path) -> None:
    with contextlib.closing(_read_only(copy)) as db:
        check = db.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise sqlite3.DatabaseError(f"the copy is damaged ({check})")


def restore(db_path, source: Path) -> str:
    """The copy at `source` as the database, refused while a bot runs on it. A
    database SQLite can no longer open is kept beside it as NAME.damaged."""
    dest = _file_of(db_path, "restore")
    if _same(source, dest):
        raise UserError(f"restore: {source} is the database itself; name a backup of it")
    if (pid := running_pid(db_path)) is not None:
        raise UserError(f"restore: an `ainews run` is using {db_path} (pid {pid}); stop it "
                        "first")
    _check_backup(source)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with run_lock(db_path):                 # no bot starts on it halfway through
        aside = _put_back(source, dest, db_path)
        _mark_restored(dest)
    kept = f"; the damaged file is kept as {aside}" if aside else ""
    return f"restore: {db_path} restored from {source}{kept}"


def _put_back(source: Path, dest: Path, db_path) -> Path | None:
    """The backup over `dest`; where a file SQLite cannot open was moved, if one was."""
    aside = None
    try:
        try:
            _copy(_read_only(source), dest)
        except sqlite3.DatabaseError as e:
            if getattr(e, "sqlite_errorname", "") not in DAMAGED or not dest.exists():
                raise
            aside = _move_aside(dest)
            _same_mode(dest, aside)
            _copy(_read_only(source), dest)
    except sqlite3.Error as e:    # locked by a command, a full disk: nothing moved aside
        raise UserError(f"restore: cannot copy {source} to {db_path}: {e}") from None
    return aside


def _mark_restored(dest: Path) -> None:
    """When the backup was put back: delivery looks for a story posted before then in
    its channel before posting it (bot/retry.py before_restore). And a new life for the
    outbox, whose row ids repeat those of the posts made since the backup: new posts'
    nonces are not theirs (storage/nonce_epoch.py)."""
    with contextlib.closing(sqlite3.connect(dest)) as db, db:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                   (RESTORED_AT, json.dumps(iso_utc(utcnow()))))
        renew_nonce_epoch(db)


def restored_at(store) -> datetime | None:
    """When `ainews restore` last put a backup back as this database, if it did."""
    when = store.get_meta(RESTORED_AT)
    return parse_iso(when) if when else None


def _same_mode(dest: Path, aside: Path) -> None:
    """The new database made with the mode (and group) of the file moved aside, as an
    existing database keeps its own: a group reading it (0640) is not locked out. If that
    cannot be, it stays owner-only (0600)."""
    create_owner_only(dest)
    try:
        was = aside.stat()
    except OSError:
        return
    with contextlib.suppress(OSError):      # a group the user is not in
        os.chown(dest, -1, was.st_gid)
    with contextlib.suppress(OSError):
        os.chmod(dest, stat.S_IMODE(was.st_mode))


def _file_of(db_path, command: str) -> Path:
    if (file := db_file(db_path)) is None:
        raise UserError(f"{command}: the database is in memory; there is no file to copy")
    return file


def _same(a: Path, b: Path) -> bool:
    """The same file by another name (a symlink, a hard link, ./ainews.db)."""
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return False


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _copy(src: sqlite3.Connection, target: Path) -> None:
    create_owner_only(target)   # a database restore makes is private, as the store's
    with contextlib.closing(src), contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _one_file(target: Path) -> None:
    """The backup out of the database's WAL mode: SQLite opens a WAL file read-only only
    where it may make the -shm beside it, so a restore from a read-only mount (a backup
    disk, a `:ro` volume) could not read it. The store puts WAL back on the restored file."""
    with contextlib.closing(sqlite3.connect(target)) as db:
        db.execute("PRAGMA journal_mode = DELETE")


def _check_backup(source: Path) -> None:
    """An ainews database, whole: else the database would be replaced by nothing of use."""
    if not source.is_file():
        raise UserError(f"restore: no backup at {source}")
    try:
        with contextlib.closing(_read_only(source)) as db:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            ours = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
            newer = newer_versions(db)
    except sqlite3.Error as e:
        raise UserError(f"restore: {source} is not a usable database ({e}); nothing "
                        "changed") from None
    if check != "ok":
        raise UserError(f"restore: {source} is damaged ({check}); nothing changed")
    if ours is None:
        raise UserError(f"restore: {source} is not an ainews database; nothing changed")
    if newer:   # else every command would refuse the file this one put in place
        raise UserError(f"restore: {written_by_newer(source, newer)}: upgrade ainews "
                        "first, then restore it; nothing changed")


def _move_aside(dest: Path) -> Path:
    """The damaged file and its -wal and -shm, renamed together (kept for
    `sqlite3 FILE .recover`)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = dest.with_name(f"{dest.name}.damaged-{stamp}")
    for suffix in ("-wal", "-shm", ""):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{dest}{suffix}").rename(f"{aside}{suffix}")
    return aside
