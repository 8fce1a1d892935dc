"""The run lock (bot/runlock.py): one `ainews run` per database, through a file beside
it that stays when the bot stops (removing it could let two starting bots both lock)."""
from __future__ import annotations

import os

import pytest

from bot.errors import UserError
from bot.runlock import lock_path, run_lock, running_pid


def test_a_stopped_bot_leaves_its_lock_file_empty(tmp_path):
    """The file stays (expected, harmless); it named the pid of a bot long gone, which
    read as if that bot still ran."""
    db = tmp_path / "ainews.db"
    with run_lock(db):
        assert lock_path(db).read_text() == f"{os.getpid()}\n"
        assert running_pid(db) == str(os.getpid())
    assert lock_path(db).exists() and lock_path(db).read_text() == ""
    assert running_pid(db) is None


def test_a_refused_second_run_leaves_the_running_bots_pid(tmp_path):
    db = tmp_path / "ainews.db"
    with run_lock(db):
        with pytest.raises(UserError, match=f"pid {os.getpid()}"):
            with run_lock(db):
                pass
        assert running_pid(db) == str(os.getpid())
    with run_lock(db):                        # free again once the first one stopped
        assert running_pid(db) == str(os.getpid())


@pytest.mark.parametrize("errno,cause", [
    (28, "No space left on device"), (30, "Read-only file system"), (13, "Permission denied"),
])
def test_a_lock_file_that_cannot_be_written_stops_the_run_with_one_line(
        clean_env, tmp_path, capsys, errno, cause):
    """Writing the pid into the lock file on a full disk ended `ainews run` as a bug:
    an OSError traceback and exit 1, "stopped by an unexpected error"."""
    import bot.runlock
    from bot.cli import main
    db = tmp_path / "ainews.db"
    (tmp_path / "feeds.toml").write_text("")
    clean_env.setenv("AINEWS_DB", str(db))
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))

    def full(fd, data, offset):
        raise OSError(errno, os.strerror(errno))
    clean_env.setattr(bot.runlock.os, "pwrite", full)
    assert main(["run", "--once"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (f"ainews: service: cannot write the lock file "
                                    f"{lock_path(db)}: {cause}")
    assert "Traceback" not in err
    clean_env.undo()
    with run_lock(db):                        # not left locked
        assert running_pid(db) == str(os.getpid())


@pytest.mark.parametrize("uri", ["file:{db}?mode=rwc", "file://{db}", "file://localhost{db}",
                                 "file:{folder}/my%20news.db"])
def test_a_database_named_by_an_sqlite_uri_has_the_same_lock(tmp_path, uri):
    """AINEWS_DB=file:/srv/ainews.db?mode=rwc (an SQLite URI) ran with no lock at all:
    two bots on one database, each posting every story, and `ainews status` said that
    no bot ran."""
    db = tmp_path / ("my news.db" if "%20" in uri else "ainews.db")
    setting = uri.format(db=db, folder=tmp_path)
    assert lock_path(setting) == lock_path(db) == tmp_path / f"{db.name}.run.lock"
    with run_lock(db):
        with pytest.raises(UserError, match="another `ainews run`"):
            with run_lock(setting):
                pass
        assert running_pid(setting) == str(os.getpid())
    assert lock_path("file::memory:?cache=shared") is None
