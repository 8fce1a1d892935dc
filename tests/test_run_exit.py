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
