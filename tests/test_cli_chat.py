"""`ainews chat`: the chat commands for the console channel, which `ainews run` prints
to without chat tokens. What the console follows is chosen here and kept."""
from __future__ import annotations

import io
import os

import pytest

from bot.cli_chat import session
from bot.console import set_up_console
from bot.dispatch import dispatch_new
from feeds.models import utcnow
from storage.store import Store
from tests.cli_kit import db_env, run_cli
from tests.fakes.slack import make_brief

no_db = pytest.fixture(db_env, name="no_db")


@pytest.fixture
def env(no_db):
    """A database there, as `make run` (or `ainews poll --once`) leaves it."""
    _store().close()
    return no_db


def _store() -> Store:
    os.makedirs(os.path.dirname(os.environ["AINEWS_DB"]), exist_ok=True)
    return Store(os.environ["AINEWS_DB"])


def test_the_console_starts_following_all_as_run_would(env, capsys):
    """`chat subscriptions` on a new database said "follows nothing yet" while `run`
    would print every strategy story."""
    code, out, _ = run_cli(capsys, "chat", "subscriptions")
    assert code == 0 and "This channel gets:\n  - all AI strategy stories" in out


def test_what_the_console_follows_is_chosen_in_chat_and_printed_so(env, capsys):
    run_cli(capsys, "chat", "unsubscribe", "all")
    code, out, _ = run_cli(capsys, "chat", "subscribe", "company:alibaba")
    assert code == 0 and out.startswith("This channel now gets stories about Alibaba:")
    with _store() as store:
        set_up_console(store)          # as `ainews run` starts the console again
        dispatch_new(store, [make_brief(id="a", companies=("Alibaba",)),
                             make_brief(id="t", url="https://example.com/t",
                                        headline="Tencent prices its models",
                                        companies=("Tencent",))], utcnow())
        queued = [r.brief.id for r in store.waiting_posts("console", "console")]
    assert queued == ["a"]


def test_a_quote_left_open_in_a_chat_line_is_no_part_of_the_name(env, capsys):
    """`subscribe 'alibaba` in `ainews chat` refused "no topic or company ''alibaba'"."""
    run_cli(capsys, "chat", "unsubscribe", "all")
    code, out, _ = run_cli(capsys, "chat", "subscribe 'alibaba")
    assert code == 0 and out.startswith("This channel now gets stories about Alibaba:"), out


@pytest.mark.parametrize("words", [
    ["search", "export controls", "nvidia"],
    ['search "export controls" nvidia'],         # the whole line as one argument
    ["search", '"export controls" nvidia'],
])
def test_a_phrase_quoted_in_the_shell_is_searched_as_one(env, capsys, words):
    """`ainews chat search "export controls" nvidia` searched the three words apart:
    the shell took the quotes off and the words were joined again without them."""
    code, out, _ = run_cli(capsys, "chat", *words)
    assert """Nothing matches '"export controls" nvidia'.""" in out


def test_a_console_told_to_follow_nothing_stays_so_at_the_next_start(env, capsys, caplog):
    """The next start gave it all strategy stories back, and told nobody."""
    from bot.app import App
    from bot.config import load_settings
    from bot.service import Service
    run_cli(capsys, "chat", "unsubscribe", "all")
    app = App(load_settings({"AINEWS_DB": os.environ["AINEWS_DB"]}, dotenv_path=None))
    try:
        Service(app)._console_adapter()
        subs = app.store.subscriptions_for_channel("console", "console")
    finally:
        app.close()
    assert subs == []
    assert any("console channel follows nothing" in r.getMessage()
               and "ainews chat subscribe all" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("argv, shown", [
    (("chat", "help"), "`ainews chat subscribe TARGET`"),
    (("chat", "company", "qwen", "-3"), "e.g. `ainews chat company Alibaba 3`"),
    (("chat", "subscribe", "pricng"), "no topic or company 'pricng' — did you mean pricing"),
])
def test_examples_in_replies_are_spelled_as_the_shell_takes_them(env, capsys, argv, shown):
    code, out, err = run_cli(capsys, *argv)
    assert shown in out + err


def test_commands_one_a_line_from_stdin_until_quit(env, capsys):
    """A script pipes commands in: each is answered, a failed one is reported and the
    exit code says so; `quit` ends the session."""
    from bot.app import App
    from bot.config import load_settings
    app = App(load_settings({"AINEWS_DB": os.environ["AINEWS_DB"]}, dotenv_path=None))
    try:
        set_up_console(app.store)
        lines = io.StringIO("subscriptions\n\nbogus\nquit\nunsubscribe all\n")
        code = session(app, lines, interactive=False)
        still = app.store.subscriptions_for_channel("console", "console")
    finally:
        app.close()
    out, err = capsys.readouterr()
    assert code == 1 and "all AI strategy stories" in out
    # Which of the script's lines failed: the third (the blank second counts).
    assert "ainews: line 3: unknown command 'bogus'; `help` lists the commands" in err
    assert [s.kind for s in still] == ["all"]         # nothing after quit ran


def test_at_a_terminal_the_prompt_reads_until_ctrl_d(env, capsys, monkeypatch):
    """At a terminal: a prompt for each line (input(), so readline edits it), errors
    without line numbers, and Ctrl-D leaves the shell's prompt on a line of its own."""
    from bot.app import App
    from bot.config import load_settings
    app = App(load_settings({"AINEWS_DB": os.environ["AINEWS_DB"]}, dotenv_path=None))
    monkeypatch.setattr("sys.stdin", io.StringIO("bogus\nhelp\n"))
    try:
        code = session(app, __import__("sys").stdin, interactive=True)
    finally:
        app.close()
    out, err = capsys.readouterr()
    assert code == 1 and out.count("ainews> ") == 3 and out.endswith("ainews> \n")
    assert "ainews: unknown command 'bogus'" in err and "line" not in err


@pytest.mark.parametrize("line", [
    ("subscribe", "pricing"), ("help",), ("latest",), ("/ainews", "unsubscribe", "all"),
    # as run_text reads them: full width (an IME), a pasted zero-width space, quoted
    ("ｓｕｂｓｃｒｉｂｅ", "pricing"), ("subscribe\u200b", "pricing"), ('"subscribe" pricing',),
    ("subscriptions",)])
def test_with_a_chat_platform_the_console_channel_is_left_alone(env, capsys, line):
    """On a Discord setup `ainews chat help` gave the console its "all" subscription,
    and `subscribe` lifted the console's pause: the running Discord bot then queued
    every story for a console nobody reads."""
    env.setenv("DISCORD_TOKEN", "x" * 59)
    code, out, err = run_cli(capsys, "chat", *line)
    with _store() as store:
        subs = store.subscriptions_for_channel("console", "console")
    assert subs == []
    if line == ("subscriptions",):
        assert "channel is off while Discord or Slack is set up" in err
    if line[-1].endswith(("pricing", "all")):
        assert code == 1 and "channel is off while Discord or Slack is set up" in err
    else:
        assert code == 0 and out


@pytest.mark.parametrize("words", [("unsubscribe", "all"), ("subscriptions",), ()])
def test_chat_on_a_path_with_no_database_changes_nothing_and_says_so(no_db, capsys, words,
                                                                     monkeypatch):
    """From another directory (or with a mistyped AINEWS_DB) it made a new, empty
    database there, answered as if done, and the running bot never saw the change."""
    monkeypatch.setattr("sys.stdin", io.StringIO("subscribe pricing\n"))
    code, out, err = run_cli(capsys, "chat", *words)
    assert code == 2 and "no database at" in err and out == ""
    assert not os.path.exists(os.environ["AINEWS_DB"])
    assert run_cli(capsys, "chat", "help")[0] == 0        # help needs none


@pytest.mark.parametrize("words", [("help",), ("help", "subscribe"), ("/ainews", "help")])
def test_chat_help_on_a_path_with_no_database_creates_none(no_db, capsys, words):
    """`ainews chat help` in the wrong directory created an empty database there, so the
    next `ainews chat unsubscribe all` changed that file (exit 0), which the running bot
    never reads; help needs no database and leaves none, and the next command stops."""
    code, out, _ = run_cli(capsys, "chat", *words)
    assert code == 0 and out
    assert not os.path.exists(os.environ["AINEWS_DB"])
    code, out, err = run_cli(capsys, "chat", "unsubscribe", "all")
    assert code == 2 and out == ""
    assert err.startswith("ainews: cli: no database at") and err.count("\n") == 1
