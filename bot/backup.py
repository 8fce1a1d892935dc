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
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from bot.errors import UserError
from bot.runlock import run_lock, running_pid
from feeds.models import iso_utc, parse_iso, utcnow
from storage.db_path import create_owner_only, db_file
from storage.nonce_epoch import NONCE_EPOCH, renew_nonce_epoch
from storage.store import newer_versions, written_by_newer

DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")   # the file, not a lock or the disk
RESTORED_AT = "restored_at"                     # meta key: see restored_at
# Free space a backup onto the database's own disk leaves the running bot: a backup that
# filled it stopped the bot ("database or disk is full").
HEADROOM = 64_000_000


def backup(db_path, target: Path) -> str:
    """A consistent copy of the database at `target` (replaced if there), also while
    the bot runs."""
    source = _file_of(db_path, "backup")
    if not source.exists():
        raise UserError(f"backup: no database at {db_path}")
    if _same(target, source):
        raise UserError(f"backup: {target} is the database itself; name another file")
    real = Path(os.path.realpath(target))   # a link's file is replaced, not the link
    try:
        with _staged(real, ".partial") as part:
            # After _staged: a killed backup's leftover .partial is gone, its space free.
            _room_for(source, real.parent, db_path)
            _private(part)
            _copy(_read_only(source), part)
            _one_file(part)
            _verify(part)
            _replace(part, real)
    except (sqlite3.Error, OSError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise UserError(f"backup: cannot copy {db_path} to {target}: {why}") from None
    return f"backup: {db_path} copied to {target}"


def _room_for(source: Path, folder: Path, db_path) -> None:
    """UserError unless `folder` has room for a copy of the database (the last backup
    goes only once the new one is whole), and on the database's own disk room left for
    the running bot to go on writing."""
    with contextlib.closing(_read_only(source)) as db:
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        (page,) = db.execute("PRAGMA page_size").fetchone()
    need, free = pages * page, shutil.disk_usage(folder).free
    own_disk = os.stat(folder).st_dev == os.stat(source).st_dev
    if free >= need + (HEADROOM if own_disk else 0):
        return
    also = f" and {_mb(HEADROOM)} left for the running bot" if own_disk else ""
    raise UserError(f"backup: {folder} has {_mb(free)} free, and a copy of {db_path} needs "
                    f"{_mb(need)}{also}: free space there or back up to another disk; "
                    "nothing written")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _replace(part: Path, target: Path) -> None:
    """The finished copy in the last backup's place at once: written over it in place,
    a backup killed halfway (a reboot, the OOM killer) left half new pages and a hot
    journal, which `restore` refused and a copy of the file alone (rsync) took as
    malformed; one failing (a full disk) left its pages taking the space. A journal or
    log of the old file must not be replayed into the new one."""
    for suffix in ("-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{target}{suffix}")
    os.replace(part, target)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)    # the rename itself survives a power cut
    finally:
        os.close(folder)


def _verify(copy: Path) -> None:
    """A copy SQLite cannot read back whole never takes the last backup's place."""
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
    aside, stopped = _restore_whole(source, dest, db_path)
    if stopped:
        return f"restore: {db_path} restored from {source} (it was done when told to stop)"
    kept = f"; the damaged file is kept as {aside}" if aside else ""
    return f"restore: {db_path} restored from {source}{kept}"


def _restore_whole(source: Path, dest: Path, db_path) -> tuple[Path | None, bool]:
    """The backup put back marked (_copy_marked): where a damaged file was moved, if one
    was, and whether a stop came once it was done (Ctrl-C, SIGTERM or SIGHUP as SQLite or
    this tidied up: "stopped" would say the restore did not happen)."""
    life = None
    try:
        with run_lock(db_path), _staged(dest, ".restoring") as stage:   # no bot starts
            life = _copy_marked(source, stage, db_path)
            return _put_back(stage, dest, f"restore: cannot copy {source} to {db_path}"), False
    except KeyboardInterrupt:               # bot/cli.py: the stop signals raise it
        if life is None or _life_of(dest) != life:
            raise                           # not put back: the database is as it was
        return None, True


@contextlib.contextmanager
def _staged(dest: Path, suffix: str) -> Iterator[Path]:
    """A work file beside `dest` (on its disk, and renamed over it there), removed with
    its journal whatever happens; a SIGKILL's leftover is removed by the next backup or
    restore."""
    stage = dest.with_name(f"{dest.name}{suffix}")
    _remove(stage)
    try:
        yield stage
    finally:
        _remove(stage)


def _copy_marked(source: Path, stage: Path, db_path) -> str:
    """The backup copied to `stage` and marked as restored there, so that putting it
    back is one SQLite transaction: marked once put back, a stop in between (Ctrl-C, a
    dropped ssh session, a SIGKILL) left it in place unmarked. Returns the copy's new
    nonce epoch, by which it is known once put back (_life_of)."""
    try:
        _copy(_read_only(source), stage)
        return _mark_restored(stage)
    except (sqlite3.Error, OSError) as e:   # a full disk: nothing changed
        why = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise UserError(f"restore: cannot copy {source} to {db_path}: {why}; nothing "
                        "changed") from None


def _put_back(source: Path, dest: Path, failed: str) -> Path | None:
    """The copy at `source` over `dest`; where a file SQLite cannot open was moved, if
    one was."""
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
    except sqlite3.Error as e:    # locked, a full disk: the copy's transaction undone
        kept = "" if aside else "; nothing changed"
        raise UserError(f"{failed}: {e}{kept}") from None
    return aside


def _mark_restored(dest: Path) -> str:
    """When the backup was put back (marked on the copy before it is: _copy_marked):
    delivery looks for a story posted before then in its channel before posting it
    (bot/retry.py before_restore). And a new life for the
    outbox, whose row ids repeat those of the posts made since the backup: new posts'
    nonces are not theirs (storage/nonce_epoch.py)."""
    with contextlib.closing(sqlite3.connect(dest)) as db, db:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                   (RESTORED_AT, json.dumps(iso_utc(utcnow()))))
        return renew_nonce_epoch(db)


def _life_of(dest: Path) -> str | None:
    """The nonce epoch the database at `dest` is in (None if it can't be read)."""
    try:
        with contextlib.closing(_read_only(dest)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (NONCE_EPOCH,)).fetchone()
    except sqlite3.Error:
        return None
    return json.loads(row[0]) if row else None


def restored_at(store) -> datetime | None:
    """When `ainews restore` last put a backup back as this database, if it did."""
    when = store.get_meta(RESTORED_AT)
    return parse_iso(when) if when else None


def _remove(file: Path) -> None:
    for suffix in ("-journal", "-wal", "-shm", ""):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{file}{suffix}")


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


def _private(target: Path) -> None:
    """The backup readable by its owner only, as made and if replaced: the database
    holds feed URLs with their credentials (user:password@, ?token=)."""
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(target, 0o600)


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
        raise UserError(_unreadable(source, e)) from None
    if check != "ok":
        raise UserError(f"restore: {source} is damaged ({check}); nothing changed")
    if ours is None:
        raise UserError(f"restore: {source} is not an ainews database; nothing changed")
    if newer:   # else every command would refuse the file this one put in place
        raise UserError(f"restore: {written_by_newer(source, newer)}: upgrade ainews "
                        "first, then restore it; nothing changed")


def _unreadable(source: Path, e: sqlite3.Error) -> str:
    """Why a backup could not be read. One an older ainews, or sqlite3's `.backup`, was
    writing in place when killed keeps its journal beside it, which only a connection
    that may write rolls back (to the file it was before), and this one only reads."""
    if getattr(e, "sqlite_errorname", "").startswith("SQLITE_READONLY") and \
            Path(f"{source}-journal").exists():
        return (f"restore: {source} was cut short while being written ({source.name}-journal "
                f"is beside it); open it once where it may be written (`sqlite3 {source} "
                "'PRAGMA quick_check'`), which takes it back to what it was before, then "
                "restore it, or restore an older backup; nothing changed")
    return f"restore: {source} is not a usable database ({e}); nothing changed"


def _move_aside(dest: Path) -> Path:
    """The damaged file and its -wal and -shm, renamed together (kept for
    `sqlite3 FILE .recover`)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = dest.with_name(f"{dest.name}.damaged-{stamp}")
    for suffix in ("-wal", "-shm", ""):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{dest}{suffix}").rename(f"{aside}{suffix}")
    return aside
