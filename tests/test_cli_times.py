"""Every time in the command line's text reads one way, "2026-12-01 05:29 UTC", as
`why` shows a post's (commit 4a960e6); `--json` keeps the stored ISO form."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.cli import main
from feeds.models import FeedSource, iso_utc, utcnow
from storage.store import Store

URL = "https://down.example/rss"


@pytest.fixture
def polled(clean_env, tmp_path):
    """A feed that failed at `polled` and is tried again at `next_poll`."""
    clean_env.setenv("AINEWS_DB", str(tmp_path / "a.db"))
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Down"\nurl = "{URL}"\n')
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    polled, next_poll = utcnow() - timedelta(minutes=5), utcnow() + timedelta(hours=1)
    with Store(tmp_path / "a.db") as store:
        store.upsert_feed(FeedSource("Down", URL))
        store.record_fetch_failure(URL, now=polled, next_poll=next_poll, kind="http",
                                   message="fetcher: down.example answered HTTP 503")
    return polled, next_poll


def shown(when) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"


def run(capsys, *argv) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_feeds_list_says_its_times_are_utc(polled, capsys):
    """It showed "2026-12-01 06:29", with no zone."""
    _, next_poll = polled
    [row] = run(capsys, "feeds", "list").splitlines()[1:]
    assert f" {shown(next_poll)} " in row
    assert json.loads(run(capsys, "feeds", "list", "--json"))["next_poll"] == \
        iso_utc(next_poll)


def test_status_shows_the_last_poll_as_every_other_time(polled, capsys):
    """It printed the raw 2026-12-01T05:24:11Z."""
    last, _ = polled
    [line] = [x for x in run(capsys, "status").splitlines() if x.startswith("last poll")]
    assert line.split(None, 2)[2] == shown(last)
    assert json.loads(run(capsys, "status", "--json"))["last_poll"] == iso_utc(last)


def test_poll_shows_a_waiting_feeds_next_try_as_every_other_time(polled, capsys):
    """It printed "next try 2026-12-01T06:29:11Z"."""
    _, next_poll = polled
    assert f"; next try {shown(next_poll)}\n" in run(capsys, "poll", "--once")
