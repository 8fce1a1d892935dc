"""The run lock (bot/runlock.py): one `ainews run` per database, through a file beside
it that stays when the bot stops (removing it could let two starting bots both lock)."""
from __future__ import annotations

import os

import pytest

from bot.errors import UserError
from bot.runlock import lock_path, run_lock, running_pid
from tests.cli_kit import run_cli


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


ZORBLAX = '[companies."Zorblax Robotics"]\naliases = ["Zorblax"]\nai = true\n'


@pytest.fixture
def running_bot(clean_env, tmp_path, monkeypatch):
    """A bot running on the test's database (its lock held by this process), which read
    `.env` (in the working directory) and the AINEWS_USER_DATA file as it started."""
    from storage.store import Store
    db = tmp_path / "ainews.db"
    clean_env.setenv("AINEWS_DB", str(db))
    clean_env.setenv("AINEWS_USER_DATA", str(tmp_path / "user.toml"))
    clean_env.delenv("AINEWS_ALLOW_PRIVATE_HOSTS")      # .env's to say
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("AINEWS_ALLOW_PRIVATE_HOSTS=0\n")
    (tmp_path / "user.toml").write_text("")
    Store(db).close()
    with run_lock(db):
        started = lock_path(db).stat().st_mtime
        for name in (".env", "user.toml"):
            os.utime(tmp_path / name, (started - 60, started - 60))
        yield tmp_path, started


def _edit(path, text: str, when: float) -> None:
    path.write_text(text)
    os.utime(path, (when, when))


@pytest.mark.parametrize("after_start", [True, False], ids=["edited-since", "edited-before"])
@pytest.mark.parametrize("edited,text,argv,named", [
    ("user.toml", ZORBLAX, ["chat", "subscribe", "company:Zorblax"],
     "user.toml (AINEWS_USER_DATA)"),
    (".env", "AINEWS_ALLOW_PRIVATE_HOSTS=1\n", ["feeds", "add", "{feed}"], ".env"),
    (".env", "AINEWS_ALLOW_PRIVATE_HOSTS=1\n", ["feeds", "check", "{feed}"], ".env"),
], ids=["chat-subscribe", "feeds-add", "feeds-check"])
async def test_a_command_reading_a_file_edited_since_the_bot_started_says_restart_it(
        running_bot, capsys, edited, text, argv, named, after_start):
    """A company added to the AINEWS_USER_DATA file, or AINEWS_ALLOW_PRIVATE_HOSTS=1 to
    `.env`, while the bot ran: `chat subscribe company:Zorblax` answered "This channel
    now gets stories about Zorblax Robotics" and `feeds add` "Added feed", from the
    edited file, while the running bot, which read them at its start, never tagged the
    company and refused the feed at every poll; nothing said to restart it."""
    import asyncio
    from tests.fakes.feedserver import FeedServer, make_rss
    from tests.fakes.stories import strategy_entry
    folder, started = running_bot
    _edit(folder / edited, text, started + (5 if after_start else -5))
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Intranet", [strategy_entry(0)]))
        code, out, err = await asyncio.to_thread(
            run_cli, capsys, *[w.format(feed=srv.url("/feed.xml")) for w in argv])
    note = (f"ainews: the running bot (pid {os.getpid()}) started before {folder / named} "
            "changed and reads it only at start: restart it to apply the change")
    if named == ".env":
        note = note.replace(str(folder / named), ".env")
    assert code == 0, err
    assert (note in err.splitlines()) == after_start, err


@pytest.mark.parametrize("after_start", [True, False], ids=["edited-since", "edited-before"])
def test_feeds_list_says_to_restart_not_to_set_what_env_now_sets(running_bot, capsys,
                                                                   after_start):
    """The running bot refused an intranet feed (its error says AINEWS_ALLOW_PRIVATE_HOSTS=1
    allows it); the operator set that in `.env`, and `feeds list` still said to set it."""
    from feeds.models import FeedSource, utcnow
    from storage.store import Store
    folder, started = running_bot
    url = "http://10.1.2.3/rss"
    with Store(folder / "ainews.db") as store:
        store.upsert_feed(FeedSource("Intranet", url))
        store.record_fetch_failure(url, now=utcnow(), next_poll=utcnow(), kind="blocked",
                                   message="fetcher: 10.1.2.3 is a private address; refused "
                                           "(AINEWS_ALLOW_PRIVATE_HOSTS=1 allows it)")
    _edit(folder / ".env", "AINEWS_ALLOW_PRIVATE_HOSTS=1\n", started + (5 if after_start else -5))
    code, out, _ = run_cli(capsys, "feeds", "list")
    assert code == 0
    assert (f"(the running bot (pid {os.getpid()}) started before .env changed and reads it "
            "only at start: restart it to apply the change)" in out) == after_start, out
