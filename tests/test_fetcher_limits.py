"""The fetcher's limits: an exact size cap (bombs, endless and announced bodies), time
limits for slow servers, per-host and overall connection bounds from the settings, no
shared state, and proxies in the environment ignored."""
from __future__ import annotations

import asyncio
import gzip

import pytest

from feeds.fetch_body import Inflater, size_text
from feeds.fetcher import FetchError, Fetcher, FetchPolicy
from tests.fakes.feedserver import FeedServer
from tests.fakes.tls import COMPANY_CA
from tests.fetcher_kit import FEED, policy, LoopbackDNS, fetch_error, feed_server, tls_server


server = pytest.fixture(feed_server, name="server")
tls_server = pytest.fixture(tls_server, name="tls_server")


CAP = 64 * 1024


async def size_or_error(server, path: str, pol: FetchPolicy) -> int | str:
    """The body's length, or the kind of FetchError the fetch ended with."""
    async with Fetcher(pol) as f:
        try:
            return len((await f.fetch(server.url(path))).body)
        except FetchError as e:
            return e.kind


@pytest.mark.parametrize("extra", [0, 1], ids=["at-the-cap", "one-byte-over"])
@pytest.mark.parametrize("how", ["streamed", "announced", "gzip"])
async def test_the_size_cap_is_exact(server, how, extra):
    """A body of exactly max_bytes is read; one byte more is refused, however it comes."""
    if how == "gzip":
        server.add("/b.xml", gzip.compress(b"x" * (CAP + extra)),
                   headers={"Content-Encoding": "gzip"})
    else:
        server.add_stream("/b.xml", CAP + extra, chunk=4096, content_length=how == "announced")
    assert await size_or_error(server, "/b.xml", policy(max_bytes=CAP)) == \
        {0: CAP, 1: "too-large"}[extra]


@pytest.mark.parametrize("extra", [0, 1], ids=["10-MiB", "one-byte-more"])
async def test_the_default_cap_is_ten_mebibytes(server, extra):
    server.add("/big.xml", gzip.compress(bytes(10 * 1024 * 1024 + extra)),
               headers={"Content-Encoding": "gzip"})
    assert await size_or_error(server, "/big.xml", policy()) == \
        {0: 10 * 1024 * 1024, 1: "too-large"}[extra]


def test_inflater_never_produces_more_than_its_room():
    """A bomb decoded in one call still yields only what is allowed (memory stays bounded)."""
    bomb = gzip.compress(bytes(8 * 1024 * 1024))
    assert len(Inflater("gzip").feed(bomb, 1000)) == 1000


@pytest.mark.parametrize("n,text", [(0, "0 bytes"), (1023, "1023 bytes"), (1024, "1 KB"),
                                    (1536, "1.5 KB"), (1024 * 1024, "1 MB"),
                                    (10 * 1024 * 1024, "10 MB")])
def test_sizes_in_messages_read_naturally(n, text):
    assert size_text(n) == text


async def test_gzip_bomb_is_stopped_at_the_cap(server):
    server.add_gzip_bomb("/bomb.xml", size=64 * 1024 * 1024)
    async with Fetcher(policy()) as f:  # the default 10 MB cap
        err = await fetch_error(f, server.url("/bomb.xml"))
    assert err.kind == "too-large" and "decompresses to more than 10 MB" in str(err)


async def test_endless_body_is_aborted_and_the_connection_dropped(server):
    server.add_stream("/endless.xml")
    async with Fetcher(policy(max_bytes=1024 * 1024)) as f:
        err = await fetch_error(f, server.url("/endless.xml"))
    assert err.kind == "too-large" and "sent more than 1 MB; the limit is 1 MB" in str(err)
    stats = server.streams["/endless.xml"]
    await asyncio.wait_for(stats.done.wait(), 30)
    assert stats.aborted and not stats.completed


async def test_announced_oversized_body_is_refused_before_reading(server):
    total = 64 * 1024 * 1024
    server.add_stream("/huge.xml", total, content_length=True)
    async with Fetcher(policy(max_bytes=1024 * 1024)) as f:
        err = await fetch_error(f, server.url("/huge.xml"))
    assert err.kind == "too-large" and "announced a 64 MB body" in str(err)
    stats = server.streams["/huge.xml"]
    await asyncio.wait_for(stats.done.wait(), 30)
    assert stats.aborted and stats.sent < total


def slow_headers(srv):
    srv.add_slow("/slow.xml", delay=30)


def trickling_body(srv):
    srv.add_stream("/slow.xml", 10_000, chunk=16, delay=0.05)


def slow_redirect_chain(srv):  # every hop is quick enough; together they are not
    srv.latency = 0.15
    for i in range(4):
        srv.add_redirect("/slow.xml" if i == 0 else f"/hop{i}", f"/hop{i + 1}")
    srv.add("/hop4", FEED)


@pytest.mark.parametrize("setup", [slow_headers, trickling_body, slow_redirect_chain])
async def test_slow_server_times_out_with_a_clear_message(server, setup):
    setup(server)
    async with Fetcher(policy(timeout=0.4)) as f:
        err = await fetch_error(f, server.url("/slow.xml"))
    assert err.kind == "timeout"
    assert str(err) == f"fetcher: 127.0.0.1:{server.port} timed out after 0.4 s"


async def test_per_host_bound_lets_callers_gather_everything(server):
    server.latency = 0.2
    async with Fetcher(policy(per_host=2)) as f:
        results = await asyncio.gather(*(f.fetch(server.url("/feed.xml"))
                                         for _ in range(8)))
    assert all(r.body == FEED for r in results) and server.max_in_flight == 2


async def test_overall_bound_across_hosts(server):
    server.latency = 0.2
    async with Fetcher(policy(concurrency=3, per_host=8), resolver=LoopbackDNS()) as f:
        await asyncio.gather(*(f.fetch(f"http://feed{i}.example:{server.port}/feed.xml")
                               for i in range(9)))
    assert server.max_in_flight == 3 and len(server.requests) == 9


@pytest.mark.parametrize("per_host, concurrency, most", [("1", "16", 1), ("8", "3", 3)])
async def test_the_bots_fetcher_takes_its_bounds_from_the_settings(server, tmp_path,
                                                                   per_host, concurrency,
                                                                   most):
    """AINEWS_PER_HOST and AINEWS_CONCURRENCY reach the fetcher the bot and the CLI
    build (bot/app.py); dropped there, the settings were ignored without a word."""
    from bot.app import App
    from bot.config import load_settings
    app = App(load_settings({"AINEWS_DB": str(tmp_path / "a.db"), "AINEWS_PER_HOST": per_host,
                             "AINEWS_CONCURRENCY": concurrency,
                             "AINEWS_ALLOW_PRIVATE_HOSTS": "1"}, dotenv_path=None))
    server.latency = 0.2
    try:
        async with app.fetcher() as f:
            await asyncio.gather(*(f.fetch(server.url("/feed.xml")) for _ in range(9)))
    finally:
        app.store.close()
    assert server.max_in_flight == most


def test_the_bots_fetcher_keeps_the_documented_limits(tmp_path):
    """docs/architecture.md: a feed gets 15 s, 5 redirects and 10 MB; a feed that could stall
    the bot for longer, or a redirect chain that could go on, holds up other feeds."""
    from bot.app import App
    from bot.config import load_settings
    app = App(load_settings({"AINEWS_DB": str(tmp_path / "a.db")}, dotenv_path=None))
    try:
        p = app.fetch_policy
    finally:
        app.store.close()
    assert (p.timeout, p.max_redirects, p.max_bytes) == (15.0, 5, 10 * 1024 * 1024)
    assert not p.allow_private


async def test_a_busy_host_does_not_hold_up_other_hosts(server):
    server.latency = 0.3
    async with Fetcher(policy(concurrency=2, per_host=1), resolver=LoopbackDNS()) as f:
        urls = [f"http://busy.example:{server.port}/feed.xml"] * 4
        urls.append(f"http://other.example:{server.port}/feed.xml")
        await asyncio.gather(*(f.fetch(u) for u in urls))
    hosts = [r.headers["Host"].split(":")[0] for r in server.requests]
    assert hosts[:2] == ["busy.example", "other.example"]



async def test_a_host_is_forgotten_once_no_fetch_holds_or_waits_for_it(server):
    """Each host fetched kept its per-host slot for the life of the process: with
    AINEWS_FETCH_ARTICLES every article's host and redirect hop, without end. A host is
    now remembered only while a fetch holds or waits for its turn, a cancelled one too."""
    server.add("/a", "<html><body><p>hello</p></body></html>", content_type="text/html")
    async with Fetcher(policy(per_host=1), resolver=LoopbackDNS()) as f:
        for i in range(50):
            await f.fetch_page(f"http://site{i}.example:{server.port}/a")
        assert len(f._hosts) == 0
        server.latency = 0.3
        first = asyncio.create_task(f.fetch(server.url("/feed.xml")))
        waiting = asyncio.create_task(f.fetch(server.url("/feed.xml")))
        await asyncio.sleep(0.1)
        assert len(f._hosts) == 1 and len(server.requests) == 51   # one at a time
        waiting.cancel()
        assert (await first).body == FEED
        assert len(f._hosts) == 0


async def test_no_state_is_shared_between_fetches(server):
    """A cookie one feed sets is never sent back (to it or to any other feed)."""
    server.add("/c.xml", FEED, headers={"Set-Cookie": "sid=abc; Path=/"})
    url = f"http://feeds.example:{server.port}/c.xml"   # a name: cookies for IPs are dropped
    async with Fetcher(policy(), resolver=LoopbackDNS()) as f:
        await f.fetch(url)
        await f.fetch(url)
    assert "Cookie" not in server.requests_for("/c.xml")[1].headers


async def test_proxy_settings_in_the_environment_are_ignored(server, monkeypatch):
    """A proxy would make the connection for us, past the SSRF guard's connect-time check."""
    async with FeedServer() as proxy:
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, proxy.base_url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        async with Fetcher(policy()) as f:
            assert (await f.fetch(server.url("/feed.xml"))).body == FEED
        assert proxy.requests == []


async def test_the_bots_fetcher_trusts_the_ca_file_setting(tls_server, tmp_path):
    """AINEWS_CA_FILE (an intranet's company CA) reaches the fetcher the bot builds."""
    from bot.app import App
    from bot.config import load_settings
    app = App(load_settings({"AINEWS_DB": str(tmp_path / "a.db"), "AINEWS_CA_FILE": str(COMPANY_CA),
                             "AINEWS_ALLOW_PRIVATE_HOSTS": "1"}, dotenv_path=None))
    try:
        async with app.fetcher() as f:
            assert (await f.fetch(tls_server.url("/feed.xml"))).body == FEED
    finally:
        app.store.close()
