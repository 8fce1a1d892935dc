"""How `ainews run` ends, for a supervisor (systemd, Docker) to act on: 0 after a
requested stop (SIGTERM, SIGINT: tests/test_service.py) or `--once`; 2 with one line
when something must be fixed, also when found mid-run (a store that refuses writes);
1 with one line after a bug's traceback. Driven through the CLI's main(), in process,
against a local feed server."""
from __future__ import annotations

import asyncio

import pytest

from bot.cli import main
from bot.service import Service
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import strategy_entry


@pytest.fixture
def env(clean_env, tmp_path):
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    clean_env.setenv("AINEWS_POLL_MINUTES", "0.005")
    return clean_env


@pytest.fixture
async def feed(env, tmp_path):
    async with FeedServer() as srv:
        srv.add("/f.xml", make_rss("Wire", [strategy_entry(0)]))
        (tmp_path / "feeds.toml").write_text(
            f'[[feed]]\nname = "Wire"\nurl = "{srv.url("/f.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
        yield srv


async def test_a_store_that_turns_read_only_mid_run_ends_it_with_exit_2(feed, env, capsys):
    """A read-only remount, a chmod, a full quota: every poll logged the same warning
    forever, nothing was stored or posted, and the process looked healthy (exit 0 at
    the next stop). SQLite's query_only answers writes exactly as a read-only file does
    ("attempt to write a readonly database")."""
    real_cycle, cycles = Service._cycle, []

    async def cycle(self, pipeline, **kwargs):
        cycles.append(1)
        if len(cycles) == 2:      # the first poll stored its backlog; now writes fail
            self.app.store.db.conn.execute("PRAGMA query_only = 1")
        if len(cycles) == 6:      # the old code never stopped: end it as SIGTERM would
            self.stop.set()
        await real_cycle(self, pipeline, **kwargs)
    env.setattr(Service, "_cycle", cycle)
    code = await asyncio.to_thread(main, ["run"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.splitlines()[-1].startswith("ainews: store: cannot write ")
    assert "read-only" in err.splitlines()[-1] and "Traceback" not in err
    assert len(cycles) == 2


async def test_a_bug_that_ends_the_run_is_one_line_and_exit_1(feed, env, capsys):
    def broken(self, adapters, **kwargs):
        raise RuntimeError("boom")
    env.setattr(Service, "_log_startup", broken)
    code = await asyncio.to_thread(main, ["run"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[-1] == ("ainews: service: stopped by an unexpected error "
                                    "(RuntimeError: boom); the traceback is logged above")
    assert "Traceback" in err      # logged, for the bug report


async def test_run_once_exits_0(feed, capsys):
    assert await asyncio.to_thread(main, ["run", "--once"]) == 0


async def test_a_second_signal_is_not_a_second_shutdown(env, tmp_path, caplog):
    """`make run` stopped by `timeout`: make passes the signal on, so the bot got two
    and logged "shutting down" again after "service: stopped"."""
    import logging
    import signal
    from bot.app import App
    from bot.config import load_settings
    caplog.set_level(logging.INFO, "ainews")
    app = App(load_settings(dotenv_path=None))
    try:
        service = Service(app)
        service._on_signal(signal.SIGTERM)
        service._on_signal(signal.SIGTERM)
    finally:
        app.close()
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert said == ["service: SIGTERM received, shutting down"]


def _fill_disk(store) -> None:
    """SQLITE_FULL, as on a full disk: the file may not grow past the pages it has."""
    (pages,) = store.db.conn.execute("PRAGMA page_count").fetchone()
    store.db.conn.execute(f"PRAGMA max_page_count = {pages}")


def _damage(path) -> None:
    """Garbage over the stories' index pages: a bad disk block. The rest stays readable,
    so the bot starts, and the poll storing a story finds the damage."""
    import sqlite3
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (size,) = conn.execute("PRAGMA page_size").fetchone()
    roots = [r for (r,) in conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'stories'")]
    conn.close()
    with open(path, "r+b") as f:
        for root in roots:
            f.seek((root - 1) * size)
            f.write(b"\xa5" * size)


@pytest.mark.parametrize("failure,words", [
    ("full", ["disk is full", "free space on it"]),
    ("full at the first poll", ["disk is full", "free space on it"]),
    ("damaged", ["is damaged", "sqlite3 FILE .recover", "restore a backup"]),
])
async def test_a_store_that_fails_mid_poll_ends_the_run_and_charges_no_feed(
        feed, env, tmp_path, capsys, failure, words):
    """A full disk or a damaged file while polling: the feed being stored was charged a
    failure (backed off, then paused, "failing" in `ainews status`), a traceback logged
    at every poll, and the bot ran on storing nothing. Now it stops: exit 2, one line
    naming the file and what to do; what was stored before is all there."""
    from storage.store import Store
    db = tmp_path / "ainews.db"
    first = failure.endswith("first poll")
    if not first:
        assert await asyncio.to_thread(main, ["poll", "--once"]) == 0      # one story stored
    if failure == "damaged":
        _damage(db)
    feed.add("/f.xml", make_rss("Wire", [strategy_entry(i) for i in range(40)]))
    real_cycle, cycles = Service._cycle, []

    async def cycle(self, pipeline, **kwargs):
        cycles.append(1)
        if failure.startswith("full") and len(cycles) == 1:
            _fill_disk(self.app.store)
        if len(feed.requests_for("/f.xml")) > 3 or len(cycles) > 400:
            self.stop.set()       # the old code never stopped: end it as SIGTERM would
        await real_cycle(self, pipeline, **kwargs)
    env.setattr(Service, "_cycle", cycle)
    code = await asyncio.to_thread(main, ["run"])
    err = capsys.readouterr().err
    last = err.splitlines()[-1]
    assert code == 2, err
    assert last.startswith("ainews: store: ") and str(db) in last, last
    assert all(w in last for w in words), last
    assert "Traceback" not in err
    with Store(db) as store:
        (state,) = store.feed_states()
        assert (state.failures, state.last_error) == (0, "")
        if failure.startswith("full"):
            assert len(store.latest(50)) == (0 if first else 1)
            assert store.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("kind,words", [("full", "its disk is full"), ("io", "disk I/O error"),
                                        ("damaged", "is damaged")])
async def test_a_read_the_disk_refuses_at_start_up_is_one_line_and_exit_2(
        feed, env, tmp_path, capsys, kind, words):
    """A disk I/O error (or a full temp disk) on a read outside the poll loop, as the
    bot starts, ended as a bug: a traceback and exit 1. It is the store's, as mid-run."""
    from storage.store import Store
    from tests.store_kit import sqlite_error

    def failing(self):
        raise sqlite_error(kind)
    env.setattr(Store, "feed_states", failing)
    code = await asyncio.to_thread(main, ["run", "--once"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert err.splitlines()[-1].startswith("ainews: store: ") and words in err.splitlines()[-1]
    assert str(tmp_path / "ainews.db") in err.splitlines()[-1]


async def test_a_store_a_chat_command_finds_unusable_ends_the_run(feed, env, tmp_path, capsys):
    """A damaged file found by a user's search (a part of it the poller may not read for
    hours): the bot ran on, each such command answered "failed on our side" with a
    traceback. The run now ends as when the poller finds it: exit 2, the store's line."""
    from bot.replies import Caller
    from bot.slack.listeners import run_command
    from storage.store import Store
    from tests.store_kit import sqlite_error

    def damaged(self, *args, **kwargs):
        raise sqlite_error("damaged")
    env.setattr(Store, "find", damaged)
    real_cycle, cycles, answers = Service._cycle, [], []

    async def cycle(self, pipeline, **kwargs):
        cycles.append(1)
        if len(cycles) == 1:   # as the Slack adapter calls the core, beside the poll loop
            caller = Caller("slack", "T1", "C1", "U1")
            asyncio.get_running_loop().create_task(run_command(
                self.app.commands, "text", "search qwen", caller)).add_done_callback(
                lambda t: answers.append(t.result().text))
        if len(cycles) > 20:
            self.stop.set()       # the old code never stopped: end it as SIGTERM would
        await real_cycle(self, pipeline, **kwargs)
    env.setattr(Service, "_cycle", cycle)
    code = await asyncio.to_thread(main, ["run"])
    err = capsys.readouterr().err
    assert answers and answers[0].startswith("the bot's store is unavailable right now")
    last = err.splitlines()[-1]
    assert code == 2 and last.startswith("ainews: store: ") and "is damaged" in last, err
    assert "Traceback" not in err


def _remove_folder(db) -> None:
    """`rm -rf data/` by mistake: the file, its -wal and -shm, the run lock, all gone."""
    import shutil
    shutil.rmtree(db.parent)


def _replace_file(db) -> None:
    """Another database put in its place (a backup tool, a restore run by hand)."""
    import os
    from storage.store import Store
    Store(db.with_name("other.db")).close()
    os.replace(db.with_name("other.db"), db)


@pytest.mark.parametrize("change", [_remove_folder, _replace_file])
@pytest.mark.parametrize("found_by", ["the next poll pass", "the daily prune"])
async def test_a_database_removed_or_replaced_mid_run_ends_it_and_makes_no_new_one(
        feed, env, tmp_path, capsys, change, found_by):
    """The bot's connection kept writing into the removed file without an error, lost at
    exit, and the daily prune's own connection made a new, empty database at the path,
    which `ainews status` and `ainews latest` then showed. Now the run ends (exit 2, one
    line naming the file) and nothing is made at the path."""
    import os
    db = tmp_path / "data" / "ainews.db"
    env.setenv("AINEWS_DB", str(db))
    real_cycle, cycles, after = Service._cycle, [], {}

    async def cycle(self, pipeline, **kwargs):
        cycles.append(1)
        if found_by == "the next poll pass" and len(cycles) == 2:
            changed(db)
        if len(cycles) == 6:      # the old code never stopped: end it as SIGTERM would
            self.stop.set()
        await real_cycle(self, pipeline, **kwargs)
        if found_by == "the daily prune" and len(cycles) == 1:
            changed(db)           # the first prune comes right after the first pass

    def changed(db):
        change(db)
        after["there"] = db.exists() and os.stat(db).st_ino
    env.setattr(Service, "_cycle", cycle)
    code = await asyncio.to_thread(main, ["run"])
    err = capsys.readouterr().err
    last = err.splitlines()[-1]
    assert code == 2, err
    assert last.startswith(f"ainews: store: {db} was ") and "while ainews ran" in last, last
    assert "Traceback" not in err
    if change is _remove_folder:
        assert "removed" in last and "ainews restore" in last
        assert not db.parent.exists()     # no new, empty database in its place
    else:
        assert "replaced" in last and "start ainews again" in last
        assert db.exists() and os.stat(db).st_ino == after["there"]   # left as it was
    assert len(cycles) == (1 if found_by == "the daily prune" else 2)
