"""`ainews poll --once` reports each feed's failure and parser warning once, in its
summary (not a log line on stderr too), the way `feeds check` does; the bot's log
(`ainews run`) says a feed's pause once."""
from __future__ import annotations

import asyncio

import pytest

from bot.cli import main
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import strategy_entry


@pytest.fixture
def env(clean_env, tmp_path):
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    return tmp_path


def cut_feed() -> bytes:
    body = make_rss("Cut AI", [strategy_entry(0), strategy_entry(1)])
    return body[:body.index(b"</channel>")] + b"<item><title>thr"   # cut off mid-entry


async def poll(env, capsys, srv: FeedServer, command: str = "poll") -> tuple[int, str, str]:
    (env / "feeds.toml").write_text(
        f'[[feed]]\nname = "Cut"\nurl = "{srv.url("/cut.xml")}"\n'
        f'[[feed]]\nname = "Gone"\nurl = "{srv.url("/gone.xml")}"\n')
    code = await asyncio.to_thread(main, [command, "--once"])
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_a_feeds_warning_and_failure_show_once_in_the_summary(env, capsys):
    async with FeedServer() as srv:
        srv.add("/cut.xml", cut_feed())
        srv.add("/gone.xml", b"", content_type="text/plain")
        srv.script("/gone.xml", [404])
        code, out, err = await poll(env, capsys, srv)
    both = out + err
    assert code == 0 and both.count("malformed XML") == 1 and both.count("HTTP 404") == 1
    assert "  warning: Cut: parser: " in out and "kept 2 entries" in out
    # What the log line said besides: how far the feed is from a pause.
    assert f"  failed: Gone ({srv.url('/gone.xml')}): " in out
    assert "answered HTTP 404 (1 of 10 failures before a pause)" in out


async def test_a_feed_gone_for_good_shows_once_as_paused(env, capsys):
    async with FeedServer() as srv:
        srv.add("/cut.xml", make_rss("Fine AI", [strategy_entry(0)]))
        srv.add("/gone.xml", b"", content_type="text/plain")
        srv.script("/gone.xml", [410])
        code, out, err = await poll(env, capsys, srv)
    assert code == 0 and (out + err).count("HTTP 410") == 1
    assert "answered HTTP 410: gone: the site says the feed was removed for good [paused]" in out
    assert "before a pause" not in out


async def test_the_bots_log_says_a_feeds_pause_once(env, capsys):
    """The store logged the pause too: "store: paused feed ... after 1 failures"."""
    async with FeedServer() as srv:
        srv.add("/cut.xml", make_rss("Fine AI", [strategy_entry(0)]))
        srv.add("/gone.xml", b"", content_type="text/plain")
        srv.script("/gone.xml", [410])
        code, _, err = await poll(env, capsys, srv, "run")
    paused = [line for line in err.splitlines() if "HTTP 410" in line]
    assert code == 0 and len(paused) == 1
    assert f"poller: paused {srv.url('/gone.xml')} after 1 failure: " in paused[0]


@pytest.mark.parametrize("command", ["run", "poll"])
async def test_a_single_pass_offline_promises_no_retry(env, capsys, command):
    # `run --once` with no network said "feeds are retried every 2 min" and exited at once.
    (env / "feeds.toml").write_text("".join(
        f'[[feed]]\nname = "Dead {i}"\nurl = "http://127.0.0.{i + 2}:9/feed.xml"\n'
        for i in range(3)))   # closed loopback ports: refused, as with no network
    code = await asyncio.to_thread(main, [command, "--once"])
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "no feed can be reached" in line]
    assert code == 0 and len(said) == 1 and "retried every" not in said[0]
    assert said[0].endswith("the network looks down: not counted against the feeds")


@pytest.mark.parametrize("json_out", [False, True], ids=["text", "json"])
async def test_a_failing_feeds_credentials_stay_out_of_the_poll_report(env, capsys, json_out):
    """A private feed's user:password@ was printed in the `poll` report's failed line."""
    async with FeedServer() as srv:
        srv.script("/private.xml", [500])
        url = srv.url("/private.xml").replace("http://", "http://alice:s3cretpw@")
        (env / "feeds.toml").write_text(f'[[feed]]\nname = "Private"\nurl = "{url}"\n')
        code = await asyncio.to_thread(main, ["poll", *(["--json"] if json_out else [])])
    out = capsys.readouterr()
    assert code == 0 and "Private" in out.out and "alice:***@" in out.out
    assert "s3cretpw" not in out.out + out.err
