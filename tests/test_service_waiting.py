"""A bot started while its feeds wait out a failure's backoff says so at once: it polls
nothing until then, and restarted after an outage it looked idle."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from bot.cli import main
from feeds.models import FeedSource, utcnow
from storage.store import Store

URL = "https://down.example/rss"


def _failing_feed(db, minutes: int):
    """The feed, failed once and due again in `minutes`; its next poll."""
    store = Store(db)
    store.upsert_feed(FeedSource("Down", URL))
    next_poll = utcnow() + timedelta(minutes=minutes)
    store.record_fetch_failure(URL, now=utcnow(), next_poll=next_poll, kind="dns",
                               message="fetcher: down.example: DNS lookup failed")
    store.close()
    return next_poll


def _feeds_file(tmp_path) -> str:
    path = tmp_path / "feeds.toml"
    path.write_text(f'[[feed]]\nname = "Down"\nurl = "{URL}"\n')
    return str(path)


@pytest.mark.parametrize("minutes", [25, 26 * 60], ids=["soon", "another-day"])
def test_run_once_says_the_feeds_it_left_to_their_backoff(clean_env, tmp_path, capsys, minutes):
    # `run --once` from cron printed "adapters: console; 1 feed (1 active)" and
    # "stopped": no poll, and nothing said why. A try on another day names the day.
    db = tmp_path / "a.db"
    clean_env.setenv("AINEWS_FEEDS", _feeds_file(tmp_path))
    next_poll = _failing_feed(db, minutes)
    assert main(["--db", str(db), "run", "--once"]) == 0
    err = capsys.readouterr().err
    start = next(line for line in err.splitlines() if "service: adapters:" in line)
    assert f"1 waiting after failures, next try {next_poll:%Y-%m-%d %H:%M} UTC" in start
    assert "ainews feeds list" in start


def test_a_start_with_every_feed_healthy_says_nothing_of_waiting(clean_env, tmp_path,
                                                                 capsys):
    db = tmp_path / "a.db"
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    assert main(["--db", str(db), "run", "--once"]) == 0
    assert "waiting" not in capsys.readouterr().err


def test_a_bot_with_no_feed_to_poll_says_what_to_do(clean_env, tmp_path, capsys):
    # An empty AINEWS_FEEDS file: "0 feeds (0 active)", then silence for good.
    db = tmp_path / "a.db"
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    assert main(["--db", str(db), "run", "--once"]) == 0
    assert "no feeds to poll: add one with `ainews feeds add URL`" in capsys.readouterr().err


def test_a_bot_whose_feeds_are_all_paused_says_so(clean_env, tmp_path, capsys):
    db = tmp_path / "a.db"
    clean_env.setenv("AINEWS_FEEDS", _feeds_file(tmp_path))
    store = Store(db)
    store.upsert_feed(FeedSource("Down", URL))
    store.record_fetch_failure(URL, now=utcnow(), next_poll=utcnow(), kind="http",
                               message="fetcher: down.example answered HTTP 410", pause_after=1)
    store.close()
    assert main(["--db", str(db), "run", "--once"]) == 0
    err = capsys.readouterr().err
    assert "every feed is paused" in err and "ainews feeds resume all" in err


def test_a_start_without_ainews_feeds_says_it_left_the_bundled_list_out(
        clean_env, tmp_path, capsys, monkeypatch):
    """A store seeded from the operator's file got the 20 bundled feeds added by one run
    without AINEWS_FEEDS, and nothing said so. (The bundled list here is a stand-in on
    loopback: no test reaches the internet.)"""
    import feeds.feedlist
    db, mine = tmp_path / "a.db", tmp_path / "mine.toml"
    mine.write_text('[[feed]]\nname = "Mine"\nurl = "http://127.0.0.1:9/mine.xml"\n')
    bundled = tmp_path / "bundled.toml"
    bundled.write_text('[[feed]]\nname = "Bundled"\nurl = "http://127.0.0.2:9/b.xml"\n')
    monkeypatch.setattr(feeds.feedlist, "DEFAULT_FEEDS_FILE", bundled)
    clean_env.setenv("AINEWS_FEEDS", str(mine))
    assert main(["--db", str(db), "run", "--once"]) == 0
    assert f"1 feed (1 active); 1 feed added from {mine}" in capsys.readouterr().err
    clean_env.delenv("AINEWS_FEEDS")
    assert main(["--db", str(db), "run", "--once"]) == 0
    start = next(line for line in capsys.readouterr().err.splitlines()
                 if "service: adapters:" in line)
    assert "1 feed (1 active); the bundled feed list is not added" in start
    with Store(db) as store:
        assert [s.source.name for s in store.feed_states()] == ["Mine"]


def _polled_feeds(db, failing: bool, due_now: bool) -> datetime:
    """Two feeds polled a minute ago (one failed, one due already, as asked); the
    healthy one's next poll."""
    store, now = Store(db), utcnow()
    next_poll = now + timedelta(minutes=3)
    for name, url in (("Up", "https://up.example/rss"), ("Down", URL)):
        store.upsert_feed(FeedSource(name, url))
        store.record_fetch_ok(url, now=now - timedelta(minutes=1), next_poll=next_poll,
                              etag=None, last_modified=None, body_hash="h")
    if failing:
        store.record_fetch_failure(URL, now=now, next_poll=now + timedelta(minutes=30),
                                   kind="dns", message="fetcher: down.example: DNS lookup failed")
    if due_now:
        store.record_fetch_ok(URL, now=now - timedelta(minutes=1), next_poll=now,
                              etag=None, last_modified=None, body_hash="h")
    store.close()
    return next_poll


async def _run_until_first_pass(db, feeds_file, monkeypatch) -> None:
    """`ainews run`, stopped at its first poll pass (nothing is fetched)."""
    from bot.app import App
    from bot.config import load_settings
    from bot.pipeline import Pipeline, PollSummary
    from bot.service import Service
    app = App(load_settings({"AINEWS_DB": str(db), "AINEWS_FEEDS": feeds_file},
                            dotenv_path=None))
    service = Service(app)

    async def stop_at_first_pass(self, **kwargs):
        service.stop.set()
        return PollSummary()
    monkeypatch.setattr(Pipeline, "poll_once", stop_at_first_pass)
    try:
        assert await service.run() == 0
    finally:
        app.close()


@pytest.mark.parametrize("failing, due_now, expected", [
    (False, False, "poller: both feeds were polled 1 min ago, none is due yet; next poll "),
    (True, False, "poller: 1 feed was polled 1 min ago, 1 waiting after failures, none is "
                  "due yet; next poll "),
    (False, True, None),
], ids=["all-just-polled", "one-failing", "one-due-now"])
async def test_run_says_when_it_polls_first_when_no_feed_is_due(
        clean_env, tmp_path, caplog, monkeypatch, failing, due_now, expected):
    # Started right after `ainews poll --once`, `ainews run` said nothing until the
    # feeds were due again, minutes later: it looked hung.
    caplog.set_level(logging.INFO, "ainews")
    db = tmp_path / "a.db"
    next_poll = _polled_feeds(db, failing, due_now)
    await _run_until_first_pass(db, _feeds_file(tmp_path), monkeypatch)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("poller: ")]
    if expected is None:
        assert lines == []
    else:
        assert lines == [f"{expected}{next_poll:%Y-%m-%d %H:%M} UTC"]


def _outage(db, kind: str) -> tuple[str, datetime]:
    """Three feeds the last poll could not reach, the network's failure (not counted
    against them, as bot/unreached.py records it); their feeds file and next try."""
    store, now = Store(db), utcnow()
    next_poll, urls = now + timedelta(minutes=2), [f"https://f{i}.example/rss" for i in range(3)]
    for url in urls:
        store.upsert_feed(FeedSource(url, url))
        store.record_unreachable(url, now=now, next_poll=next_poll, kind=kind,
                                 message=f"fetcher: {url}: unreachable")
    store.close()
    path = db.parent / "feeds.toml"
    path.write_text("".join(f'[[feed]]\nname = "{u}"\nurl = "{u}"\n' for u in urls))
    return str(path), next_poll


@pytest.mark.parametrize("kind", ["dns", "connect"])
def test_a_start_during_an_outage_says_the_network_looked_down(clean_env, tmp_path, capsys,
                                                                 kind):
    # It said "3 waiting after failures", though the poller had counted none of it
    # against the feeds (`status` said the network looks down).
    feeds_file, next_poll = _outage(tmp_path / "a.db", kind)
    clean_env.setenv("AINEWS_FEEDS", feeds_file)
    assert main(["--db", str(tmp_path / "a.db"), "run", "--once"]) == 0
    start = next(line for line in capsys.readouterr().err.splitlines()
                 if "service: adapters:" in line)
    assert "waiting after failures" not in start
    assert ("; no feed could be reached at the last poll (the network looked down; not "
            f"counted against the feeds), next try {next_poll:%Y-%m-%d %H:%M} UTC") in start


def test_a_feed_failing_on_its_own_is_named_beside_an_outage(clean_env, tmp_path, capsys):
    # A feed with its own counted failures (a 404, backed off for hours) was folded into
    # "no feed could be reached ... not counted against the feeds": its backoff hidden.
    db = tmp_path / "a.db"
    feeds_file, next_poll = _outage(db, "dns")
    own_try = _failing_on_its_own(db, feeds_file)
    clean_env.setenv("AINEWS_FEEDS", feeds_file)
    assert main(["--db", str(db), "run", "--once"]) == 0
    start = next(line for line in capsys.readouterr().err.splitlines()
                 if "service: adapters:" in line)
    assert (f"counted against the feeds), next try {next_poll:%Y-%m-%d %H:%M} UTC; 1 waiting "
            f"after its own failures, next try {own_try:%Y-%m-%d %H:%M} UTC (`ainews feeds "
            "list` says why)") in start, start


def _failing_on_its_own(db, feeds_file: str) -> datetime:
    """A fourth feed, beside an outage's three: 4 counted 404s, its next try hours away."""
    url, next_poll = "https://gone.example/rss", utcnow() + timedelta(hours=6)
    with Store(db) as store:
        store.upsert_feed(FeedSource(url, url))
        for _ in range(4):
            store.record_fetch_failure(url, now=utcnow(), next_poll=next_poll, kind="http",
                                       message="fetcher: gone.example answered HTTP 404")
    with open(feeds_file, "a") as f:
        f.write(f'[[feed]]\nname = "{url}"\nurl = "{url}"\n')
    return next_poll


@pytest.mark.parametrize("seconds_ago, said", [
    ((10, 170), "both feeds were polled 0-3 min ago"),      # was "<1-3 min ago"
    ((10, 20), "both feeds were polled <1 min ago"),
    ((90, 170), "both feeds were polled 2-3 min ago"),
])
def test_the_first_poll_note_gives_the_feeds_ages_as_a_range(seconds_ago, said):
    from types import SimpleNamespace
    from bot.poll_summary import first_poll_note
    now = utcnow()
    feeds = [SimpleNamespace(paused=False, failures=0, next_poll=now + timedelta(minutes=2),
                             last_polled=now - timedelta(seconds=s)) for s in seconds_ago]
    assert first_poll_note(feeds, now).startswith(f"poller: {said}, none is due yet; ")


@pytest.mark.parametrize("failures", [0, 3], ids=["on-time", "backing-off"])
def test_start_up_says_nothing_is_waiting_when_the_clock_went_back(failures):
    """Feeds polled "after now" (the clock was set back since) are due at once; the
    start-up line said they were "polled -180 min ago, none is due yet" or waited
    after failures until a time hours off."""
    from types import SimpleNamespace
    from bot.poll_summary import first_poll_note, waiting_note
    now = utcnow()
    feeds = [SimpleNamespace(paused=False, failures=failures, last_error="http: 500",
                             last_polled=now + timedelta(hours=3),
                             next_poll=now + timedelta(hours=3, minutes=m)) for m in (5, 9)]
    assert (first_poll_note(feeds, now), waiting_note(feeds, now)) == ("", "")


async def test_feeds_refused_as_private_hosts_are_polled_once_they_are_allowed(
        clean_env, tmp_path, capsys):
    """Started without AINEWS_ALLOW_PRIVATE_HOSTS=1, every intranet feed failed as
    blocked; restarted with it, the bot said "1 waiting after failures, next try ..."
    and polled none of them until their backoff ended."""
    import asyncio
    from tests.fakes.feedserver import FeedServer, make_rss
    from tests.fakes.stories import strategy_entry
    db = tmp_path / "a.db"
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Intranet AI", [strategy_entry(0)]))
        url = srv.url("/feed.xml")
        clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
        (tmp_path / "feeds.toml").write_text(f'[[feed]]\nurl = "{url}"\n')
        clean_env.setenv("AINEWS_ALLOW_PRIVATE_HOSTS", "0")
        assert await asyncio.to_thread(main, ["--db", str(db), "run", "--once"]) == 0
        with Store(db) as store:
            assert store.feed_state(url).last_error.startswith("blocked: ")
            assert store.feed_state(url).next_poll > utcnow()
        capsys.readouterr()
        clean_env.setenv("AINEWS_ALLOW_PRIVATE_HOSTS", "1")
        assert await asyncio.to_thread(main, ["--db", str(db), "run", "--once"]) == 0
    assert "waiting after failures" not in capsys.readouterr().err
    with Store(db) as store:
        state = store.feed_state(url)
    assert (state.health, state.failures, state.last_error) == ("ok", 0, "")
