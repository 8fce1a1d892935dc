"""`ainews status` beside a running bot: whether it runs, and each chat platform's
connection as the bot last saw it (bot/connections.py). The real `ainews run` as a
subprocess against the fake Slack, whose Socket Mode websocket is made unreachable."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from slack_sdk.errors import SlackApiError

from bot.cli import main
from bot.connections import ConnectionLog, read_connections
from bot.slack.reconnect import PacedReconnect, QuietSocketRetries
from storage.store import Store
from tests.fakes.slack import FakeSlack

AINEWS = str(Path(sys.executable).parent / "ainews")


@pytest.fixture
def env(clean_env, tmp_path):
    (tmp_path / "feeds.toml").write_text(
        '[[feed]]\nname = "Wire"\nurl = "http://127.0.0.1:9/f.xml"\n')
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    return clean_env


async def status_lines(capsys) -> dict[str, str]:
    assert await asyncio.to_thread(main, ["status"]) == 0
    rows = [line.split(None, 1) for line in capsys.readouterr().out.splitlines() if line]
    return {r[0]: r[1] if len(r) > 1 else "" for r in rows}


async def read_until(proc, words: bytes) -> None:
    while words not in (line := await asyncio.wait_for(proc.stderr.readline(), 30)):
        assert line, f"ainews run exited before logging {words!r}"


async def test_status_says_when_slack_socket_mode_is_down_and_since_when(env, capsys):
    fake = await FakeSlack().start()
    env.setenv("SLACK_BOT_TOKEN", fake.bot_token)
    env.setenv("SLACK_APP_TOKEN", fake.app_token)
    env.setenv("SLACK_API_URL", fake.api_url)
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        await read_until(proc, b"service: adapters:")
        lines = await status_lines(capsys)
        assert lines["bot"] == f"running (pid {proc.pid})"
        assert lines["slack"].startswith("connected since ")
        assert await asyncio.to_thread(main, ["status", "--json"]) == 0
        st = json.loads(capsys.readouterr().out)   # the pid a number in both places
        assert st["bot_pid"] == st["connections"]["slack"]["pid"] == proc.pid
        fake.sockets_down = True
        await fake.drop_connections()
        await read_until(proc, b"slack: socket mode unreachable")
        lines = await status_lines(capsys)
        assert lines["slack"].startswith("reconnecting since ")
        assert "UTC (socket mode unreachable: WSServerHandshakeError: 503" in lines["slack"]
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake.stop()
    lines = await status_lines(capsys)
    assert lines["bot"] == "not running (no `ainews run` on this database)"
    assert "slack" not in lines


# What a server (or whatever answers on SLACK_API_URL) may put in an error: it reaches
# the log and `ainews status` through the reconnect code's reason.
SERVER_TEXTS = ["\x1b]0;pwned\x07\x1b[2J\x1b[31mred", "a\u202eb\u2066c", "x\n12:00:00 ERROR forged line",
                "tab\tcr\rnel\x85ls\u2028", "y" * 100_000]
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("text", SERVER_TEXTS)
def test_a_servers_error_text_is_one_short_clean_line_in_the_log_and_status(text, tmp_path, caplog):
    store = Store(tmp_path / "a.db")
    connection = ConnectionLog(store, "slack")
    paced = PacedReconnect(SimpleNamespace(), connection)
    paced.quiet = QuietSocketRetries(connection)
    refused = SlackApiError("refused", SimpleNamespace(get=lambda k: text, status_code=400,
                                                       headers={}))
    with caplog.at_level(logging.DEBUG, logger="ainews"):
        for failures in (1, 2):
            paced._failed(refused, failures)
            reasons = [read_connections(store)["slack"]["reason"]]
            paced.quiet.filter(logging.LogRecord("slack_sdk", logging.ERROR, "", 0,
                                                 "Failed to connect (error: %s)", (text,), None))
            reasons.append(read_connections(store)["slack"]["reason"])
    store.close()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("ainews")]
    assert len(lines) == 4   # two of each: the first failure, then the next
    for line in lines + reasons:
        assert not _UNSAFE.search(line) and len(line) < 500, line
    assert any(w in reasons[0] for w in ("red", "b", "forged", "nel", "yyy"))   # still readable
