"""One `ainews run` per database.

Two bots on one database would both post every story, and a second start puts the
first one's posts in flight back to due (recover_outbox): duplicates. So `run` holds an
exclusive lock on a file next to the database for as long as it runs. (`ainews poll`
needs none: it stores stories and leaves posting them to the bot.) The kernel drops the lock when the process dies (even by SIGKILL), so a
crash never leaves a stale lock behind. The file itself (`ainews.db.run.lock`) stays,
holding the running bot's pid, emptied when it stops: see run_lock for why it is never
removed. Its modification time is when the bot wrote its pid, as it started: a command
reading `.env` or the AINEWS_USER_DATA file edited since says the bot has not (restart_note).

    with run_lock(settings.db_path):
        ...
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from bot.errors import UserError
from storage.db_path import db_file

try:
    import fcntl
except ImportError:             # Windows: no flock; run unguarded
    fcntl = None


def lock_path(db_path) -> Path | None:
    """Beside the database's file, however it is named (a path, a link, an SQLite URI);
    None for a database in memory."""
    if (file := db_file(db_path)) is None:
        return None
    real = file.resolve()       # one lock whichever path names the file
    return real.with_name(real.name + ".run.lock")


@contextlib.contextmanager
def run_lock(db_path):
    path = lock_path(db_path)
    if path is None or fcntl is None:
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise UserError(f"service: cannot open the lock file {path}: {e.strerror}") from None
    try:
        _take(fd, db_path, path)
    except BaseException:
        os.close(fd)            # another bot's: its pid stays in the file
        raise
    try:
        yield
    finally:
        # Emptied, not removed: a bot starting now may hold the file open, waiting for
        # the lock; removed, it would lock the old file while a third bot created and
        # locked a new one, and two bots would run. Empty, it names no stale pid.
        try:
            with contextlib.suppress(OSError):   # a remount since: the lock still goes
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)        # closing the descriptor releases the lock


def running_pid(db_path) -> str | None:
    """The pid of the `ainews run` holding this database's lock, or None when none runs
    (`ainews status`)."""
    running = running_since(db_path)
    return running[0] if running else None


def running_since(db_path) -> tuple[str, float] | None:
    """(pid, start as time.time()) of the `ainews run` holding this database's lock, or
    None when none runs. A shared lock is tried and dropped at once; a bot starting in
    that instant waits for it (_take), it is not refused."""
    path = lock_path(db_path)
    if path is None or fcntl is None or not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        return pid, os.fstat(fd).st_mtime
    finally:
        os.close(fd)            # closing releases the shared lock, if taken


def restart_note(settings, dotenv: Path = Path(".env")) -> str | None:
    """One line when a bot runs on this database and `.env` or the AINEWS_USER_DATA
    file changed after it started: it read them then and never again, so a command that
    reads them now (a company added, AINEWS_ALLOW_PRIVATE_HOSTS=1) answers for a bot
    that does not run yet. None otherwise."""
    running = running_since(settings.db_path)
    if running is None:
        return None
    pid, started = running
    files = [(".env", dotenv)]
    if settings.user_data is not None:
        files.append((f"{settings.user_data} (AINEWS_USER_DATA)", Path(settings.user_data)))
    changed = [name for name, path in files if _modified_after(path, started)]
    if not changed:
        return None
    them = "them" if len(changed) > 1 else "it"
    return (f"the running bot (pid {pid}) started before {' and '.join(changed)} changed "
            f"and reads {them} only at start: restart it to apply the change")


def _modified_after(path: Path, when: float) -> bool:
    try:
        return path.stat().st_mtime > when
    except OSError:             # none there (no .env), or unreadable: nothing to say
        return False


def _take(fd: int, db_path, path: Path) -> None:
    try:
        _lock_waiting_out_status(fd)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        raise UserError(f"service: another `ainews run` is using {db_path} (pid {holder}); "
                        "stop it first, or give this one its own --db") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError as e:        # a full disk, a read-only remount: the operator's to fix
        raise UserError(f"service: cannot write the lock file {path}: {e.strerror}") from None


def _lock_waiting_out_status(fd: int, tries: int = 20) -> None:
    """LOCK_EX, allowing for a `status` holding its shared lock for an instant (a
    running bot holds the lock for good: still BlockingIOError after ~0.2 s)."""
    for _ in range(tries - 1):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            time.sleep(0.01)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
