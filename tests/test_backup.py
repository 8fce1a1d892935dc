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


@pytest.mark.parametrize("earlier", [False, True], ids=["no-backup-yet", "over-a-backup"])
def test_a_backup_that_fails_midway_leaves_no_partial_file(env, capsys, tmp_path,
                                                           monkeypatch, earlier):
    """A backup onto a full disk was written in place: it left a 0-byte or partial file
    at FILE (and, made over last night's backup, destroyed that one), which a later
    `ainews restore` could take. Now the copy is made beside FILE and renamed over it
    only once whole; on failure FILE is as it was, and no temporary file is left."""
    import errno
    import bot.backup
    from storage.store import Store
    path, backup = tmp_path / "ainews.db", tmp_path / "ainews-backup.db"
    with Store(path) as store:
        add_stories(store, 0, 50)
    if earlier:
        assert run_cli(capsys, "--db", str(path), "backup", str(backup))[0] == 0
    before = backup.read_bytes() if earlier else None
    real = bot.backup._copy

    def full_disk(src, target):     # half the pages written, then the disk is full
        real(src, target)
        with open(target, "r+b") as f:
            f.truncate(os.path.getsize(target) // 2)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(bot.backup, "_copy", full_disk)
    code, out, err = run_cli(capsys, "--db", str(path), "backup", str(backup))
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert str(backup) in err and "No space left on device" in err
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == (
        ["ainews-backup.db"] if earlier else [])
    if earlier:
        assert backup.read_bytes() == before
