"""Log lines name their component: ours in the text, a library's by its logger name."""
import logging
import time

import pytest

from bot import logs


@pytest.fixture
def root_logging():
    """setup_logging on a clean root logger, restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, getattr(root, "_ainews_configured", False)
    root.handlers, root._ainews_configured = [], False
    yield
    root.handlers, root.level, root._ainews_configured = saved[0], saved[1], saved[2]


@pytest.mark.parametrize("logger, text, line_ends", [
    ("discord.http", "We are being rate limited.", " discord.http: We are being rate limited."),
    ("slack_sdk.web.base_client", "retrying", " slack_sdk.web.base_client: retrying"),
    ("ainews.fetcher", "fetcher: example.com timed out", "WARNING fetcher: example.com timed out"),
])
def test_every_line_names_where_it_came_from(root_logging, capsys, logger, text, line_ends):
    logs.setup_logging()
    logging.getLogger(logger).warning(text)
    line = capsys.readouterr().err.strip()
    assert line.endswith(line_ends), line


@pytest.mark.parametrize("title", [
    "Wire\n09:00:00 ERROR   service: forged line",       # a newline forging a log line
    "Wire\x1b]0;owned\x07\x1b[2J",                     # OSC title + clear screen
    "Wire\u202egnp.exe",                               # bidi override reordering the line
])
def test_outside_text_in_a_message_cannot_forge_a_line_or_drive_the_terminal(
        root_logging, capsys, title):
    logs.setup_logging()
    logging.getLogger("ainews.poller").warning("poller: %s failed", title)
    err = capsys.readouterr().err
    lines = err.rstrip("\n").split("\n")
    assert all(line.startswith("    ") for line in lines[1:]), err   # continuations only
    assert not logs.CONTROL.search(err), repr(err)


def test_a_traceback_keeps_its_lines(root_logging, capsys):
    logs.setup_logging()
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("ainews.service").exception("service: failed")
    err = capsys.readouterr().err
    assert "\nTraceback (most recent call last):\n" in err and "ValueError: boom" in err


def test_log_times_are_utc_like_the_times_in_the_messages(root_logging, capsys, monkeypatch):
    """On a machine set to Shanghai time a line read `00:10:45 INFO service: ... next
    poll 16:11 UTC`: two clocks in one line."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        logs.setup_logging()
        before = time.gmtime()
        logging.getLogger("ainews.service").warning("service: hello")
        utc = {time.strftime("%H:%M", t) for t in (before, time.gmtime())}
        stamp = capsys.readouterr().err.split()[0]
    finally:
        monkeypatch.undo()
        time.tzset()
    assert stamp[:5] in utc
