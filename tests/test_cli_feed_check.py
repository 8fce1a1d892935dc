"""`ainews feeds check URL`: what a feed holds, in words for a person; `--json` keeps
its keys for scripts."""
from __future__ import annotations

import asyncio
import json

import pytest

from bot.cli import main
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import strategy_entry

JSON_KEYS = {"ok", "url", "title", "entries", "strategy_entries", "warning", "final_url",
             "redirect", "etag", "last_modified"}


@pytest.fixture
def env(clean_env, tmp_path):
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    return clean_env


async def _check(capsys, srv: FeedServer, path: str, *flags) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["feeds", "check", srv.url(path), *flags])
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_a_feed_is_described_in_words(env, capsys):
    # It printed "ok: True", an empty "warning:" and "etag: False".
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(0), strategy_entry(1)]),
                etag=None)
        code, out, _ = await _check(capsys, srv, "/feed.xml")
    rows = dict(line.split(None, 1) for line in out.splitlines())
    assert code == 0 and list(rows) == ["feed", "url", "entries", "caching"]   # no warning
    assert rows["feed"] == "Example AI" and rows["url"] == srv.url("/feed.xml")
    assert rows["entries"].startswith("2 found, stored once the feed is followed; "
                                      "2 AI-strategy stories among them")
    assert rows["caching"].startswith("none (no ETag or Last-Modified): every poll downloads")
    assert "True" not in out and "False" not in out


async def test_caching_and_json_keys(env, capsys):
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(0)]))   # with an ETag
        _, out, _ = await _check(capsys, srv, "/feed.xml")
        _, row, _ = await _check(capsys, srv, "/feed.xml", "--json")
    assert "caching  yes (ETag): an unchanged feed is not downloaded again" in out
    row = json.loads(row)
    assert set(row) == JSON_KEYS and row["ok"] is True and row["etag"] is True


async def test_no_feed_is_one_line_on_stderr(env, capsys):
    async with FeedServer() as srv:
        srv.add("/page", "<html><body>no feed here</body></html>", content_type="text/html")
        code, out, err = await _check(capsys, srv, "/page")
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"ainews: feeds check: {srv.url('/page')} is no working feed: ")
    assert "not a feed" in err


@pytest.mark.parametrize("flags", [(), ("--json",)])
@pytest.mark.parametrize("url", ["http://10.1.2.3/rss", "file:///etc/passwd"])
def test_a_refused_url_is_to_be_fixed_not_missing(env, capsys, url, flags):
    # A private host or a scheme never fetched is the user's to change (exit 2), not a
    # URL that holds no feed (exit 1, as a page with none).
    env.setenv("AINEWS_ALLOW_PRIVATE_HOSTS", "0")
    code = main(["feeds", "check", url, *flags])
    out, err = capsys.readouterr()
    said = json.loads(out)["error"] if flags else err
    assert code == 2 and ("10.1.2.3 is a private address" in said or "only http" in said)
    assert flags or err.startswith(f"ainews: feeds check: {url} was not fetched: fetcher: ")


async def test_a_repaired_feed_says_its_warning_once_in_the_report(env, capsys):
    """The parser's note on a broken feed came twice: as an INFO log line on stderr,
    then as the report's warning row."""
    body = make_rss("Cut AI", [strategy_entry(0), strategy_entry(1)])
    body = body[:body.index(b"</channel>")] + b"<item><title>thr"   # cut off mid-entry
    async with FeedServer() as srv:
        srv.add("/cut.xml", body)
        code, out, err = await _check(capsys, srv, "/cut.xml")
    rows = dict(line.split(None, 1) for line in out.splitlines())
    assert code == 0 and "malformed XML" in rows["warning"] and "kept 2 entries" in rows["warning"]
    assert "malformed XML" not in err


async def test_a_followed_feed_is_not_said_to_be_unfollowed(env, capsys):
    # Checking a feed already in the list said its entries are "stored once the feed is
    # followed", as if `feeds add` were still to do.
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(0)]))
        assert await asyncio.to_thread(main, ["feeds", "add", srv.url("/feed.xml")]) == 0
        capsys.readouterr()
        code, out, _ = await _check(capsys, srv, "/feed.xml")
    rows = dict(line.split(None, 1) for line in out.splitlines())
    assert code == 0 and rows["entries"].startswith(
        "1 found, you follow this feed: the bot stores them as it polls; 1 AI-strategy story")


@pytest.mark.parametrize("status, row", [
    (301, "moved permanently to {new}"),
    (308, "moved permanently to {new}"),
    (302, "redirects (temporary) to {new}"),
])
async def test_check_tells_a_feed_that_moved_from_one_that_redirects(env, capsys, status,
                                                                      row):
    # "moved to" was said of a 302 too, which an operator should not follow instead.
    async with FeedServer() as srv:
        srv.add("/new.xml", make_rss("Example AI", [strategy_entry(0)]))
        srv.add_redirect("/old.xml", srv.url("/new.xml"), status=status)
        _, out, _ = await _check(capsys, srv, "/old.xml")
        _, js, _ = await _check(capsys, srv, "/old.xml", "--json")
    rows = dict(line.split(None, 1) for line in out.splitlines())
    assert rows["redirect"] == row.format(new=srv.url("/new.xml"))
    assert json.loads(js)["redirect"] == ("temporary" if status == 302 else "permanent")


@pytest.mark.parametrize("command", [["feeds", "check"], ["brief"]])
async def test_a_url_a_command_fetches_goes_through_the_proxy(env, capsys, monkeypatch, command):
    from tests.fakes.proxy import FakeProxy
    from tests.fetcher_kit import FakeDNS
    monkeypatch.setattr("feeds.fetcher.DefaultResolver", lambda: FakeDNS({}))   # proxy only
    async with FeedServer() as srv, FakeProxy({"news.example.com": "127.0.0.1"}) as proxy:
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(0)]))
        env.setenv("http_proxy", proxy.url())
        url = f"http://news.example.com:{srv.port}/feed.xml"
        code = await asyncio.to_thread(main, [*command, url])
    assert code == 0 and proxy.targets() == [url], capsys.readouterr().err
