"""The `ainews` process as a shell sees it: closed pipes and signals end it without a
traceback, help loads no chat library, and demo refuses a useless run time."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from bot.cli import main
from tests.cli_kit import DATA, AINEWS, run_cli, db_env
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import strategy_entry
from tests.service_kit import hangups_heard


env = pytest.fixture(db_env, name="env")


def test_output_cut_short_by_a_pipe_is_not_a_traceback(tmp_path):
    # `ainews brief feed.xml | head`: head exits early; the rest of the output is unwanted.
    from tests.fakes.feedserver import make_entries
    feed = tmp_path / "big.xml"
    feed.write_bytes(make_rss("Big", make_entries(300, paragraphs=3)))
    proc = subprocess.Popen([AINEWS, "brief", str(feed)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.read(100)   # well under the output, far more than a pipe buffers
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) != 0 and "Traceback" not in err and "Exception ignored" not in err


def test_help_does_not_load_chat_libraries():
    code = ("import sys; from bot.cli import build_parser; build_parser().format_help(); "
            "print(any(m.split('.')[0] in ('discord', 'slack_bolt', 'slack_sdk', 'openai') "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("sig, code", [("SIGTERM", 143), ("SIGHUP", 129)])
async def test_a_stop_signal_ends_a_poll_with_one_line_and_a_clean_exit(env, tmp_path, sig,
                                                                        code):
    """As PID 1 in a container (`docker run ... poll --once`) SIGTERM has no default
    action: `docker stop` waited 10 s, then killed the poll. It now ends as Ctrl-C does.
    SIGHUP (an ssh session dropped) killed it without a word, also in `ainews run` until
    the service took signals over (bot/service.py)."""
    import asyncio
    import signal
    async with FeedServer() as srv:
        srv.add_slow("/slow.xml", 60, make_rss("Slow AI", [strategy_entry(0)]))
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "Slow"\nurl = "{srv.url("/slow.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(feeds))
        proc = await asyncio.create_subprocess_exec(
            AINEWS, "poll", "--once", cwd=tmp_path, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, preexec_fn=hangups_heard)
        for _ in range(600):          # the poll is under way once the feed is asked for
            if srv.requests_for("/slow.xml") or proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        proc.send_signal(getattr(signal, sig))
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == code
    assert err.decode().splitlines()[-1] == f"ainews: stopped ({sig})"
    assert "Traceback" not in err.decode()


@pytest.mark.parametrize("argv", [["topics"], ["brief", str(DATA / "seed-story.xml")]])
def test_output_into_a_closed_pipe_is_no_traceback(tmp_path, argv):
    """`ainews latest --json | head -1`: the reader leaving early is no error to report."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AINEWS_", "SLACK_",
                                                                      "DISCORD_", "LLM_"))}
    subprocess.run([AINEWS, "--db", str(tmp_path / "a.db"), "feeds", "add", "x"], env=env,
                   cwd=tmp_path, capture_output=True, timeout=60)     # creates the database
    try:
        proc = subprocess.run([AINEWS, "--db", str(tmp_path / "a.db"), *argv],
                              stdout=write_end, stderr=subprocess.PIPE, env=env,
                              cwd=tmp_path, timeout=60)
    finally:
        os.close(write_end)
    assert proc.stderr.decode() == ""


@pytest.mark.parametrize("value", ["-1", "0", "nan"])
def test_demo_refuses_a_run_time_it_cannot_show_anything_in(env, capsys, value):
    # `demo --seconds -1` printed its banner and exited 0 before the first story.
    with pytest.raises(SystemExit) as stop:
        main(["demo", "--seconds", value])
    assert stop.value.code == 2 and "is not a number of seconds above 0" in capsys.readouterr().err


@pytest.mark.parametrize("sig, code", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_stop_signal_while_the_command_loads_is_its_exit_not_a_traceback(
        env, capsys, monkeypatch, sig, code):
    """Loading the command's modules takes a while (~50 ms at `ainews run`'s start); a
    SIGTERM then (a supervisor stopping a bot that was just started) raised out of the
    import: a traceback and exit 1, a bug's exit, where README promises 143."""
    import importlib.abc
    import signal

    import bot
    from bot.cli import Terminated

    class SigtermOnImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "bot.cli_commands":
                raise Terminated(getattr(signal, sig))
            return None

    monkeypatch.delitem(sys.modules, "bot.cli_commands", raising=False)
    monkeypatch.delattr(bot, "cli_commands", raising=False)
    monkeypatch.setattr(sys, "meta_path", [SigtermOnImport(), *sys.meta_path])
    try:
        exit_code, _, err = run_cli(capsys, "status")
    except Terminated:      # a KeyboardInterrupt: uncaught, it would end the whole run
        pytest.fail("SIGTERM during the imports escaped main()")
    assert (exit_code, err.splitlines()) == (code, [f"ainews: stopped ({sig})"])


ENDLESS_SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
               "SELECT count(*) FROM c")


def test_a_stop_signal_during_a_search_is_its_exit_not_a_traceback(env, capsys, monkeypatch):
    """`docker stop` (SIGTERM) or Ctrl-C while `ainews search` or `chat` reads: the signal
    arrived inside the search's time budget (storage/budget.py), where sqlite3 swallowed
    it, and the command printed a traceback ending in `OperationalError: interrupted` and
    exited 1, not "ainews: stopped (SIGTERM)" and 143."""
    import signal

    from storage.search import SearchStore
    from storage.store import Store
    from tests.store_kit import add, make
    with Store(os.environ["AINEWS_DB"]) as store:
        add(store, make("OpenAI opens a Tokyo office"))
    real = SearchStore._found

    def slow_found(self, *args):
        # Sent while the search runs (from a thread, as another process would send it).
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
        # A read with no end of its own: only the signal (or the 30 s budget, a failure)
        # ends it, so the signal can't come after the command, when it would stop pytest.
        self.db.conn.execute(ENDLESS_SQL).fetchone()
        return real(self, *args)
    monkeypatch.setattr(SearchStore, "_found", slow_found)
    monkeypatch.setattr("storage.search.SEARCH_BUDGET", 30.0)
    exit_code, _, err = run_cli(capsys, "search", "openai")
    assert (exit_code, err.strip()) == (143, "ainews: stopped (SIGTERM)")
