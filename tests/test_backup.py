"""`ainews backup` and `ainews restore`: a restored database is whole, also after the bot
died (SIGKILL, OOM, power loss) leaving its ainews.db-wal behind, which SQLite replayed
into a copy put in the database's place by hand: "database disk image is malformed"."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from bot.runlock import run_lock
from tests.cli_kit import db_env, run_cli

env = pytest.fixture(db_env, name="env")

_KILLED_WRITER = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from tests.test_backup import add_stories
    from storage.store import Store
    store = Store({path!r})
    add_stories(store, 300, 600)
    store.db.execute("PRAGMA wal_checkpoint(PASSIVE)")   # the running bot checkpoints
    add_stories(store, 600, 700)
    os._exit(0)                                          # killed: no close, the WAL stays
""")


def add_stories(store, lo: int, hi: int) -> None:
    from feeds.models import Story, utcnow
    store.add_new_stories([Story(f"s{i}", f"https://a.example/{i}", f"Alibaba phone {i}",
                                 "Alibaba phones. " * 200, "A", "https://a.example/rss",
                                 utcnow()) for i in range(lo, hi)], backlog=False, now=utcnow())


@pytest.fixture
def backed_up(env, capsys, tmp_path):
    """A database with 300 stories, backed up by `ainews backup`; then 400 more."""
    from storage.store import Store
    path, backup = tmp_path / "ainews.db", tmp_path / "ainews-backup.db"
    with Store(path) as store:
        add_stories(store, 0, 300)
    code, out, err = run_cli(capsys, "--db", str(path), "backup", str(backup))
    assert code == 0 and out.startswith("backup: "), err
    return path, backup


def _crash_a_writer(path) -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-c", _KILLED_WRITER.format(root=root, path=str(path))],
                   check=True)
    assert (path.parent / "ainews.db-wal").exists()


def _stories(path) -> int:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return db.execute("SELECT count(*) FROM stories").fetchone()[0]
    finally:
        db.close()


def test_restoring_after_a_crash_gives_the_backup_whole(backed_up, capsys):
    from bot.backup import restored_at
    from feeds.models import utcnow
    from storage.store import Store
    path, backup = backed_up
    _crash_a_writer(path)
    before = utcnow().replace(microsecond=0)
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    assert code == 0 and out.startswith("restore: "), err
    assert _stories(path) == 300
    with Store(path) as store:   # delivery looks for older stories' posts first
        assert before <= restored_at(store) <= utcnow()
    code, out, err = run_cli(capsys, "--db", str(path), "latest", "--json")
    assert code == 0 and "Alibaba phone" in out, err


def test_a_database_sqlite_cannot_open_is_kept_aside_and_replaced(backed_up, capsys):
    path, backup = backed_up
    with open(path, "r+b") as f:
        f.write(b"\xff" * 100)                 # its header gone: "file is not a database"
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    assert code == 0 and "the damaged file is kept as " in out, err
    assert _stories(path) == 300
    kept = out.strip().rpartition("kept as ")[2]
    assert open(kept, "rb").read(100) == b"\xff" * 100   # for `sqlite3 FILE .recover`


def test_restoring_while_the_bot_runs_is_refused(backed_up, capsys):
    path, backup = backed_up
    with run_lock(path):
        code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    assert code == 2 and out == ""
    assert err.startswith("ainews: restore: an `ainews run` is using ") and "stop it" in err


@pytest.mark.parametrize("content", [b"not a database at all", None])
def test_a_backup_that_is_no_ainews_database_changes_nothing(backed_up, capsys, tmp_path,
                                                              content):
    path, _ = backed_up
    other = tmp_path / "other.db"
    if content is None:
        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    else:
        other.write_bytes(content)
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(other))
    assert code == 2 and len(err.splitlines()) == 1 and "nothing changed" in err
    assert _stories(path) == 300


@pytest.mark.parametrize("replaced", [False, True], ids=["new", "replacing-a-file"])
def test_a_backup_is_readable_by_its_owner_only(env, capsys, tmp_path, replaced):
    """The database holds feed URLs with their credentials: a backup made 0644 by the
    umask let every user of the machine read them."""
    from storage.store import Store
    path, backup = tmp_path / "ainews.db", tmp_path / "ainews-backup.db"
    Store(path).close()
    if replaced:
        backup.write_bytes(b"")
        backup.chmod(0o644)
    code, out, err = run_cli(capsys, "--db", str(path), "backup", str(backup))
    assert code == 0, err
    assert backup.stat().st_mode & 0o777 == 0o600


_KILLED_BACKUP = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from bot import backup

    def killed_halfway(src, target):     # a SIGKILL, OOM or power cut mid-copy
        import sqlite3
        def step(status, remaining, total):
            if remaining <= total // 2:
                os.kill(os.getpid(), signal.SIGKILL)
        dst = sqlite3.connect(target)
        dst.execute("PRAGMA cache_size = 1")    # pages on disk as a big database's are
        src.backup(dst, pages=1, progress=step)

    if {in_place!r}:    # as an older ainews, or `sqlite3 DB ".backup FILE"`, write it
        killed_halfway(backup._read_only(Path({path!r})), Path({target!r}))
    backup._copy = killed_halfway
    backup.backup({path!r}, Path({target!r}))
""")


def _kill_a_backup(path, target, in_place: bool = False) -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.run([sys.executable, "-c", _KILLED_BACKUP.format(
        root=root, path=str(path), target=str(target), in_place=in_place)])
    assert child.returncode == -9


def test_a_backup_killed_halfway_leaves_the_last_one_whole(backed_up, capsys):
    """`ainews backup` wrote over the last backup in place: killed halfway (an hourly
    cron's backup at a reboot, the OOM killer), that file was half new pages with a
    hot journal beside it, and `ainews restore` refused it ("not a usable database
    (attempt to write a readonly database)"), as a copy of the file alone (rsync) was
    "malformed". The last backup is kept whole until the new one is."""
    from storage.store import Store
    path, backup = backed_up
    with Store(path) as store:
        add_stories(store, 300, 400)
    _kill_a_backup(path, backup)
    copy = backup.with_name("copy.db")
    copy.write_bytes(backup.read_bytes())             # what a file copy (rsync) takes
    assert _stories(copy) == 300
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    assert code == 0, err
    assert _stories(path) == 300
    code, out, err = run_cli(capsys, "--db", str(path), "backup", str(backup))
    assert code == 0, err
    assert sorted(p.name for p in path.parent.iterdir() if "backup" in p.name) == [
        "ainews-backup.db"]                           # the next backup clears the rest


def test_a_backup_written_in_place_and_cut_short_is_refused_saying_what_to_do(backed_up,
                                                                              capsys):
    """A backup that an older ainews, or sqlite3's `.backup`, was writing in place when
    killed has its journal beside it, which only a connection that may write can roll
    back: restore said "not a usable database (attempt to write a readonly database)"."""
    from storage.store import Store
    path, backup = backed_up
    with Store(path) as store:
        add_stories(store, 300, 400)
    _kill_a_backup(path, backup, in_place=True)
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"{backup} was cut short while being written" in err
    assert f"sqlite3 {backup} 'PRAGMA quick_check'" in err and "nothing changed" in err
    assert _stories(path) == 400
    sqlite3.connect(backup).execute("PRAGMA quick_check").connection.close()   # as told
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    assert code == 0 and _stories(path) == 300, err


def test_a_backup_without_room_for_itself_and_the_bot_is_refused_up_front(backed_up,
                                                                          capsys,
                                                                          monkeypatch):
    """A backup into the database's own folder (README's Docker line writes it to the
    same volume) filled the disk while it ran, and the running bot, meeting "database
    or disk is full", stopped. It now checks first that the copy fits with room to
    spare for the bot, and says how much it needs."""
    import shutil
    from bot import backup as backup_mod
    path, backup = backed_up
    size = path.stat().st_size
    real = shutil.disk_usage
    monkeypatch.setattr(backup_mod.shutil, "disk_usage", lambda p: real(p)._replace(
        free=size + backup_mod.HEADROOM // 2))
    code, out, err = run_cli(capsys, "--db", str(path), "backup", str(backup))
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "free space there or back up to another disk; nothing written" in err
    assert sorted(p.name for p in path.parent.iterdir() if "backup" in p.name) == [
        "ainews-backup.db"]
    assert _stories(backup) == 300
    monkeypatch.setattr(backup_mod.shutil, "disk_usage", lambda p: real(p)._replace(
        free=size + backup_mod.HEADROOM * 2))
    assert run_cli(capsys, "--db", str(path), "backup", str(backup))[0] == 0


_FULL = ["sqlite", "os"]     # the disk fills under SQLite's copy, or a plain write


@pytest.mark.parametrize("full", _FULL)
@pytest.mark.parametrize("there", [False, True], ids=["new", "replacing-a-backup"])
def test_a_backup_that_fails_leaves_no_part_of_itself(backed_up, capsys, monkeypatch, there,
                                                      full):
    """A backup onto a disk without room for it said "database or disk is full" and left
    what it had written (megabytes, the disk still full; or a 0-byte or half file at
    FILE, over last night's backup, for a later restore to take): on the database's own
    disk the running bot then stopped, that disk full. The last backup stays as it was."""
    import errno
    from bot import backup as backup_mod
    path, backup = backed_up
    if not there:
        backup.unlink()
    real_copy = backup_mod._copy

    def copy_then_fail(src, target):
        real_copy(src, target)
        with open(target, "r+b") as f:      # half the pages written
            f.truncate(os.path.getsize(target) // 2)
        if full == "sqlite":
            raise sqlite3.OperationalError("database or disk is full")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(backup_mod, "_copy", copy_then_fail)
    code, out, err = run_cli(capsys, "--db", str(path), "backup", str(backup))
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert str(backup) in err
    assert ("disk is full" if full == "sqlite" else "No space left on device") in err
    left = sorted(p.name for p in path.parent.iterdir() if "backup" in p.name)
    assert left == (["ainews-backup.db"] if there else [])
    if there:
        assert _stories(backup) == 300


@pytest.mark.parametrize("named", ["itself", "a-link"])
def test_restoring_the_database_onto_itself_is_refused(backed_up, capsys, tmp_path, named):
    path, _ = backed_up
    source = path
    if named == "a-link":
        source = tmp_path / "link.db"
        source.symlink_to(path)
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(source))
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("ainews: restore: ") and "is the database itself" in err
    assert _stories(path) == 300


def test_a_database_restore_makes_is_readable_by_its_owner_only(backed_up, capsys,
                                                                 tmp_path):
    """Restoring where no database is yet makes it as the store makes one: 0600."""
    _, backup = backed_up
    old = os.umask(0o022)
    try:
        target = tmp_path / "new" / "ainews.db"
        code, out, err = run_cli(capsys, "--db", str(target), "restore", str(backup))
    finally:
        os.umask(old)
    assert code == 0, err
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_damaged_database_restore_replaces_keeps_the_mode_the_operator_set(backed_up,
                                                                             capsys):
    """review27: README says a database file already there keeps the mode it has (0640
    for a group that reads it). Restoring over a damaged one moves it aside and makes a
    new file, 0600: the group's reader (a backup job, a dashboard) loses access."""
    path, backup = backed_up
    os.chmod(path, 0o640)
    with open(path, "r+b") as f:
        f.write(b"\xff" * 100)
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    assert code == 0 and "the damaged file is kept as " in out, err
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_backup_a_newer_ainews_wrote_is_refused_and_nothing_changes(backed_up, capsys):
    """Restored into an older ainews, a newer one's backup replaced the database, and
    every command then refused the file ("written by a newer ainews"): the database
    that worked was gone, and the restore had said it succeeded."""
    from storage.store import Store
    path, backup = backed_up
    with Store(path) as store:
        add_stories(store, 300, 310)
    with sqlite3.connect(backup) as db:
        db.execute("INSERT INTO schema_migrations VALUES (99, 'future', '2030-01-01')")
    db.close()
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert "written by a newer ainews" in err and "nothing changed" in err
    assert _stories(path) == 310
    code, out, err = run_cli(capsys, "--db", str(path), "latest", "--json")
    assert code == 0, err


def test_a_backup_is_one_file_that_opens_on_a_read_only_mount(backed_up, capsys):
    """A backup copied the database's WAL mode, and SQLite opens a WAL file read-only
    only where it may make its -shm beside it: `ainews restore` from a read-only
    mount (a backup disk, `-v backups:/backups:ro`) said "not a usable database
    (unable to open database file)" of every backup. A backup is a plain one-file
    database; the restored database is in WAL mode again, as the bot keeps it."""
    path, backup = backed_up
    with open(backup, "rb") as f:
        header = f.read(20)
    assert (header[18], header[19]) == (1, 1)       # legacy (rollback journal), not WAL
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    assert code == 0, err
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        db.close()
    assert _stories(path) == 300


def _restore_mark(path) -> tuple[int, bool]:
    """(stories, whether the file carries `ainews restore`'s mark)."""
    db = sqlite3.connect(path)
    try:
        marked = db.execute("SELECT count(*) FROM meta WHERE key IN ('restored_at', "
                            "'nonce_epoch')").fetchone()[0] == 2
    finally:
        db.close()
    return _stories(path), marked


@pytest.mark.parametrize("stopped_at", ["after-the-copy", "marking"])
def test_a_restore_stopped_halfway_leaves_the_database_as_it_was_or_restored_and_marked(
        backed_up, capsys, monkeypatch, stopped_at):
    """A SIGTERM, SIGHUP (an ssh session dropped) or Ctrl-C once the backup's pages were
    in, before the restore was recorded, said "stopped (SIGTERM)" and left the backup in
    place unmarked: delivery did not look for already-posted stories in the channels'
    history (posted again), and Discord answered new posts' reused nonces with old posts
    (those stories never shown). Now the database is as it was, or restored and marked,
    and the command says which."""
    import signal

    from bot import backup as backup_mod
    from bot.cli import Terminated
    from storage.store import Store
    path, backup = backed_up
    with Store(path) as store:
        add_stories(store, 300, 400)
    real_copy = backup_mod._copy

    def copy_then_stop(src, target):
        real_copy(src, target)
        if os.path.samefile(target, path):
            raise Terminated(signal.SIGTERM)

    def stop(*_a):
        raise Terminated(signal.SIGTERM)

    if stopped_at == "after-the-copy":
        monkeypatch.setattr(backup_mod, "_copy", copy_then_stop)
    else:
        monkeypatch.setattr(backup_mod, "renew_nonce_epoch", stop)
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    if stopped_at == "after-the-copy":      # done: said so, not "stopped"
        assert code == 0 and out.endswith("(it was done when told to stop)\n"), err
        assert _restore_mark(path) == (300, True)
    else:
        assert code == 128 + signal.SIGTERM and "stopped (SIGTERM)" in err
        assert _restore_mark(path) == (400, False)
    assert sorted(p.name for p in path.parent.iterdir() if ".restor" in p.name) == []


def test_a_backup_killed_halfway_does_not_leave_the_next_one_without_room(backed_up,
                                                                         capsys,
                                                                         monkeypatch):
    """A backup killed halfway (a reboot, the OOM killer during an hourly cron's backup)
    leaves ainews-backup.db.partial, which the next backup removes. But the room check
    came first and counted that leftover's megabytes as taken: on a disk with room for
    one more copy only, every later backup was refused ("free space there ... nothing
    written") and the leftover stayed, backups stopped for good until someone found it."""
    import shutil
    from bot import backup as backup_mod
    from storage.store import Store
    path, backup = backed_up
    with Store(path) as store:
        add_stories(store, 300, 400)
    _kill_a_backup(path, backup)
    part = backup.with_name(backup.name + ".partial")
    left = part.stat().st_size
    assert left > 0
    size, real = path.stat().st_size, shutil.disk_usage

    def disk(p):        # a disk with room for one more copy, less what the leftover takes
        taken = part.stat().st_size if part.exists() else 0
        return real(p)._replace(free=size + backup_mod.HEADROOM + left // 2 - taken)

    monkeypatch.setattr(backup_mod.shutil, "disk_usage", disk)
    code, out, err = run_cli(capsys, "--db", str(path), "backup", str(backup))
    assert code == 0, err
    assert not part.exists() and _stories(backup) == 400


@pytest.mark.parametrize("filled", ["copying-it-beside", "putting-it-back"])
def test_a_restore_without_room_says_nothing_changed(backed_up, capsys, monkeypatch, filled):
    """A restore needs room for twice the backup (its marked copy beside the database,
    and SQLite's log as it goes in). A disk that filled as the copy went in said only
    "cannot copy ...: database or disk is full", though the database was as it was,
    which README promises ("database or disk is full; nothing changed")."""
    from bot import backup as backup_mod
    from storage.store import Store
    path, backup = backed_up
    with Store(path) as store:
        add_stories(store, 300, 400)
    real_copy = backup_mod._copy

    def copy_until_full(src, target):
        if (target == path) == (filled == "putting-it-back"):
            src.close()
            raise sqlite3.OperationalError("database or disk is full")
        real_copy(src, target)

    monkeypatch.setattr(backup_mod, "_copy", copy_until_full)
    code, out, err = run_cli(capsys, "--db", str(path), "restore", str(backup))
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.rstrip().endswith("database or disk is full; nothing changed"), err
    assert _restore_mark(path) == (400, False)
    assert sorted(p.name for p in path.parent.iterdir() if ".restor" in p.name) == []
