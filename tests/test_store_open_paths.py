"""A --db path that runs through a file (`notes.txt/ainews.db`): one line that names
the file in the way, not "[Errno 17] File exists"."""
from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.parametrize("below", ["ainews.db", "sub/ainews.db"])
@pytest.mark.parametrize("argv", [("poll", "--once"), ("run", "--once")])
def test_a_database_path_under_a_file_names_the_file(clean_env, capsys, tmp_path, below,
                                                     argv):
    (tmp_path / "notes.txt").write_text("not a folder")
    (tmp_path / "feeds.toml").write_text("")
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    db = tmp_path / "notes.txt" / below
    assert main(["--db", str(db), *argv]) == 2
    err = capsys.readouterr().err
    assert err == (f"ainews: store: cannot open {db}: {tmp_path / 'notes.txt'} is a file, "
                   "not a folder; give a database path in a folder\n")


@pytest.mark.parametrize("below", ["ainews.db", "sub/ainews.db"])
def test_a_database_folder_linked_to_nothing_says_so(clean_env, capsys, tmp_path, below):
    # data -> a disk not mounted: mkdir said "[Errno 17] File exists: 'data'", of a
    # folder that, to the operator's eye, does not exist.
    (tmp_path / "feeds.toml").write_text("")
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    (tmp_path / "data").symlink_to(tmp_path / "unmounted")
    db = tmp_path / "data" / below
    assert main(["--db", str(db), "poll", "--once"]) == 2
    err = capsys.readouterr().err
    assert err == (f"ainews: store: cannot open {db}: {tmp_path / 'data'} is a link to "
                   f"{tmp_path / 'unmounted'}, which does not exist\n")


def _private(monkeypatch, folder):
    """`folder` as for a user who may not enter it (the tests run as root, whom
    permissions do not stop): looking at anything inside it is refused."""
    import os
    import pathlib
    stat, mkdir = pathlib.Path.stat, os.mkdir

    def refused(path):
        if str(path).startswith(f"{folder}{os.sep}"):
            raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(pathlib.Path, "stat",
                        lambda self, **kw: refused(self) or stat(self, **kw))
    monkeypatch.setattr(os, "mkdir", lambda p, *a, **kw: refused(p) or mkdir(p, *a, **kw))


@pytest.mark.parametrize("argv", [("poll", "--once"), ("latest",)])
def test_a_database_in_a_folder_one_may_not_enter_is_one_line(clean_env, capsys, tmp_path,
                                                               argv):
    # --db /root/x/ainews.db as another user: a PermissionError traceback from the
    # checks that were to say what is wrong with the path.
    (tmp_path / "feeds.toml").write_text("")
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    (tmp_path / "private").mkdir()
    _private(clean_env, tmp_path / "private")
    db = tmp_path / "private" / "sub" / "ainews.db"
    assert main(["--db", str(db), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ainews: ") and "Permission denied" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("given", ["env", "--db"])
@pytest.mark.parametrize("uri", ["file:{db}?mode=rwc", "file://localhost{db}"])
def test_a_database_given_as_an_sqlite_uri_is_the_file_it_names(
        clean_env, capsys, tmp_path, given, uri):
    """SQLite URIs open the file they name, but the folder a new database needs was
    made for a path only ("unable to open database file" for a URI), the run lock was
    skipped and file://localhost/srv/a.db was read as /localhost/srv/a.db."""
    from bot.runlock import lock_path
    (tmp_path / "feeds.toml").write_text("")
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    db = tmp_path / "data" / "ainews.db"
    setting = uri.format(db=db)
    if given == "env":
        clean_env.setenv("AINEWS_DB", setting)
    argv = ["--db", setting] if given == "--db" else []
    assert main([*argv, "run", "--once"]) == 0, capsys.readouterr().err
    assert db.is_file() and lock_path(db).is_file()
    assert main([*argv, "status"]) == 0
    assert main(["--db", str(db), "status"]) == 0       # the same database as a path
    assert not [p for p in tmp_path.rglob("*") if "file:" in p.name]


@pytest.fixture
def umask_022():
    """The usual umask, under which a file made with the default mode is 0644."""
    import os
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("setting", ["{db}", "file:{db}?mode=rwc"])
def test_a_new_store_file_is_readable_by_its_owner_only(umask_022, tmp_path, setting):
    """The store holds feed URLs with their credentials (user:password@, ?token=): made
    0644 by the umask, every user of the machine could read them. Its -wal and -shm
    take the file's mode from SQLite."""
    from storage.store import Store
    db = tmp_path / "data" / "ainews.db"
    with Store(setting.format(db=db)) as store:
        store.set_meta("k", 1)
        made = [db, *(p for p in (tmp_path / "data").iterdir() if p.name != db.name)]
        assert {p.name: p.stat().st_mode & 0o777 for p in made} == {
            p.name: 0o600 for p in made}


def test_an_existing_store_file_keeps_its_mode(umask_022, tmp_path):
    """The mode of a file that is there is the operator's choice (a group that reads it)."""
    from storage.store import Store
    db = tmp_path / "ainews.db"
    Store(db).close()
    db.chmod(0o640)
    with Store(db) as store:
        store.set_meta("k", 1)
    assert db.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("argv", [("poll", "--once"), ("run", "--once")])
def test_an_sqlite_older_than_the_store_needs_is_named_at_open(clean_env, capsys, tmp_path,
                                                               monkeypatch, argv):
    """Python built with SQLite 3.26 made the store and met "error in tokenizer
    constructor" (the search index's remove_diacritics 2) at its first migration; it now
    refuses at once, saying which SQLite it found and which it needs, and makes no file."""
    import sqlite3
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.26.0")
    (tmp_path / "feeds.toml").write_text("")
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    db = tmp_path / "data" / "ainews.db"
    assert main(["--db", str(db), *argv]) == 2
    assert capsys.readouterr().err == (
        "ainews: store: this Python's SQLite is 3.26.0; ainews needs SQLite 3.27 or newer "
        "(a newer Python, or one built with a newer SQLite)\n")
    assert not db.parent.exists()


@pytest.mark.parametrize("kind, says", [
    ("full", "its disk is full (database or disk is full): free space on it and start "
             "ainews again (what is already stored is kept)"),
    ("io", "disk I/O error; check its disk (free space, `dmesg`)"),
])
def test_an_upgrade_that_meets_a_full_or_failing_disk_says_what_to_do(clean_env, capsys,
                                                                      tmp_path, monkeypatch,
                                                                      kind, says):
    """An upgrade's migrations write (the log grows by what they change): on a full disk
    the first command after `git pull` said only "cannot open ainews.db: database or
    disk is full", not that the file is whole and what to do, as the running bot says."""
    from storage.store import Store
    from tests.store_kit import sqlite_error
    db = tmp_path / "ainews.db"
    Store(db).close()

    def fails(conn, migrations, upgrading=None):
        raise sqlite_error(kind)

    monkeypatch.setattr("storage.store.migrate", fails)
    assert main(["--db", str(db), "latest"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ainews: store: cannot open {db}: {says}") and err.count("\n") == 1
