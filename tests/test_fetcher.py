"""The fetcher against the local feed server (loopback, so allow_private=True)."""
from __future__ import annotations

import asyncio
import gzip
import random
import socket
import subprocess
import sys
import zlib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import feedparser
import pytest
from aiohttp.abc import AbstractResolver

from feeds.fetch_body import Inflater, size_text
from feeds.fetcher import (FetchError, Fetcher, FetchPolicy, parse_max_age,
                           parse_retry_after)
from tests.fakes.feedserver import (FeedServer, RawServer, Reply, make_atom, make_entries,
                                   make_rss)

ROOT = Path(__file__).resolve().parents[1]
FEED = make_rss("Example AI News", make_entries(20, paragraphs=8))


@pytest.fixture
async def server():
    async with FeedServer() as srv:
        srv.add("/feed.xml", FEED, headers={"Cache-Control": "public, max-age=300"},
                last_modified=datetime(2026, 11, 20, 12, tzinfo=timezone.utc))
        yield srv


@pytest.fixture
async def fetcher():
    async with Fetcher(FetchPolicy(allow_private=True)) as f:
        yield f


def policy(**kw) -> FetchPolicy:
    return FetchPolicy(allow_private=True, **kw)


class LoopbackDNS(AbstractResolver):
    """Resolves every name to 127.0.0.1, so tests can use many host names."""

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [{"hostname": host, "host": "127.0.0.1", "port": port,
                 "family": socket.AF_INET, "proto": 0, "flags": 0}]

    async def close(self):
        pass


async def fetch_error(fetcher: Fetcher, url: str, **kw) -> FetchError:
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(url, **kw)
    return info.value


async def test_fetch_returns_body_validators_and_identifies_itself(server, fetcher):
    r = await fetcher.fetch(server.url("/feed.xml"))
    assert (r.status, r.body, r.not_modified) == (200, FEED, False)
    assert r.etag and r.last_modified == "Fri, 20 Nov 2026 12:00:00 GMT"
    assert r.content_type.startswith("application/rss+xml") and r.max_age == 300
    sent = server.requests_for("/feed.xml")[0].headers
    assert "ainews" in sent["User-Agent"] and sent["Accept-Encoding"] == "gzip, deflate"
    assert "rss+xml" in sent["Accept"]
    assert len(FEED) > 50_000  # a realistic size, not a toy


@pytest.mark.parametrize("validator", ["etag", "last_modified"])
async def test_conditional_get_gives_not_modified_without_body(server, fetcher, validator):
    first = await fetcher.fetch(server.url("/feed.xml"))
    again = await fetcher.fetch(server.url("/feed.xml"),
                                **{validator: getattr(first, validator)})
    assert again.not_modified and again.status == 304 and again.body is None
    header = {"etag": "If-None-Match", "last_modified": "If-Modified-Since"}[validator]
    assert server.requests_for("/feed.xml")[1].headers[header] == getattr(first, validator)


async def test_server_ignoring_conditional_get_still_gives_the_body(server, fetcher):
    server.honour_conditional = False
    first = await fetcher.fetch(server.url("/feed.xml"))
    again = await fetcher.fetch(server.url("/feed.xml"), etag=first.etag)
    assert not again.not_modified and again.body == FEED


@pytest.mark.parametrize("encoding,encode", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),                                   # zlib-wrapped
    ("deflate", lambda b: zlib.compress(b)[2:-4]),                # raw deflate
    ("x-gzip", gzip.compress), ("GZip", gzip.compress),           # legacy name, any case
    ("gzip", lambda b: gzip.compress(b[:1000]) + gzip.compress(b[1000:])),  # two members
    ("", lambda b: b),                                            # an empty header
])
async def test_compressed_bodies_are_decoded(server, fetcher, encoding, encode):
    server.add("/z.xml", encode(FEED), headers={"Content-Encoding": encoding})
    r = await fetcher.fetch(server.url("/z.xml"))
    assert r.body == FEED


@pytest.mark.parametrize("encoding,body,message", [
    ("br", b"\x1b\x00", "unsupported Content-Encoding: br"),
    ("gzip", b"this is not gzip at all", "sent a corrupt compressed body"),
])
async def test_undecodable_bodies_are_refused_with_a_reason(server, fetcher, encoding, body,
                                                           message):
    server.add("/z.xml", body, headers={"Content-Encoding": encoding})
    err = await fetch_error(fetcher, server.url("/z.xml"))
    assert err.kind == "http" and message in str(err)


# Text that compresses about 2:1 (hex digits), so its compressed form takes many reads.
LARGE = random.Random(7).randbytes(300_000).hex().encode()


@pytest.mark.parametrize("encoding,encode", [
    ("gzip", gzip.compress), ("deflate", zlib.compress),
    ("deflate", lambda b: zlib.compress(b)[2:-4]),
], ids=["gzip", "deflate", "raw-deflate"])
async def test_a_large_compressed_body_is_decoded_across_reads(server, fetcher, encoding,
                                                               encode):
    """A big feed served compressed (hundreds of KB on the wire) is read whole, not
    refused as corrupt after its first read."""
    assert len(encode(LARGE)) > 4 * 64 * 1024
    server.add("/big.xml", encode(LARGE), headers={"Content-Encoding": encoding})
    assert (await fetcher.fetch(server.url("/big.xml"))).body == LARGE


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


async def test_closing_is_safe_whether_or_not_the_fetcher_was_used(server):
    await Fetcher(policy()).close()                      # never used: nothing to close
    async with Fetcher(policy()) as f:
        await f.fetch(server.url("/feed.xml"))
    await f.close()                                      # closing again is harmless
    async with f:                                        # and it can be used again
        assert (await f.fetch(server.url("/feed.xml"))).body == FEED


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


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_chain_is_followed(server, fetcher, status):
    server.add_redirect("/a", server.url("/b"), status)   # absolute
    server.add_redirect("/b", "c", status)                # relative
    server.add_redirect("/c", "/feed.xml", status)
    r = await fetcher.fetch(server.url("/a"))
    assert r.body == FEED and r.url == server.url("/a")
    assert r.final_url == server.url("/feed.xml")


@pytest.mark.parametrize("hops", [["/loop1", "/loop2", "/loop1"],
                                  ["/loop1", "/loop2", "/loop3", "/loop2"]],
                         ids=["back-to-start", "back-to-a-middle-hop"])
async def test_redirect_loop_is_reported(server, fetcher, hops):
    for here, there in zip(hops, hops[1:]):
        server.add_redirect(here, there)
    err = await fetch_error(fetcher, server.url("/loop1"))
    assert err.kind == "redirects" and "loop" in str(err)
    assert len(server.requests) == len(hops) - 1


async def test_a_loop_through_a_long_url_is_reported_in_one_short_line(server, fetcher):
    """The message is shown in `ainews feeds` and in chat: a 1,000-character Location
    is cut at 400 characters rather than flooding them."""
    long_path = "/loop/" + "x" * 1000
    server.add_redirect("/loop1", long_path)
    server.add_redirect(long_path, "/loop2")
    server.add_redirect("/loop2", long_path)
    err = await fetch_error(fetcher, server.url("/loop1"))
    assert err.kind == "redirects" and "redirected in a loop" in str(err)
    assert len(str(err)) == 400 and str(err).endswith("x…")


async def test_redirect_without_a_location_is_an_http_error(server, fetcher):
    server.script("/nowhere", [Reply(302, b"", "text/plain", etag=None)])
    err = await fetch_error(fetcher, server.url("/nowhere"))
    assert (err.kind, err.status) == ("http", 302) and "without a Location" in str(err)


async def test_five_redirects_are_followed(server, fetcher):
    for i in range(5):
        server.add_redirect(f"/r{i}", f"/r{i + 1}")
    server.add("/r5", FEED)
    assert (await fetcher.fetch(server.url("/r0"))).body == FEED


async def test_more_than_five_redirects_are_refused(server, fetcher):
    for i in range(6):
        server.add_redirect(f"/r{i}", f"/r{i + 1}")
    server.add("/r6", FEED)
    err = await fetch_error(fetcher, server.url("/r0"))
    assert err.kind == "redirects" and "more than 5 times" in str(err)
    assert not server.requests_for("/r6")


@pytest.mark.parametrize("status", [300, 305, 400, 403, 404, 500, 502])   # 3xx: no redirect
async def test_http_errors_name_host_and_status(server, fetcher, status):
    server.script("/err.xml", [status])
    err = await fetch_error(fetcher, server.url("/err.xml"))
    assert (err.kind, err.status) == ("http", status)
    assert str(err) == f"fetcher: 127.0.0.1:{server.port} answered HTTP {status}"


@pytest.mark.parametrize("response,shown", [
    (b"HTTP/1.1 302 Found\r\nLocation: http://\x1b[31mevil\x1b]0;owned\x07/\r\n\r\n",
     "http://\\x1b[31mevil\\x1b]0;owned\\x07/ is not a valid URL"),
    (b"HTTP/1.1 2x0 \x1b[2J\r\n\r\n", "sent a malformed response (Bad status line"),
], ids=["location", "status-line"])
async def test_what_a_server_sent_is_quoted_without_control_characters(fetcher, response, shown):
    """The message is logged, stored and printed: an ANSI or OSC escape from the server
    shows as text rather than driving the operator's terminal."""
    async with RawServer(response) as raw:
        err = await fetch_error(fetcher, raw.url("/feed.xml"))
    assert shown in str(err) and not any(c in str(err) for c in "\x1b\x07\n")


async def test_a_malformed_response_names_the_host_not_the_url(fetcher):
    """aiohttp's message for it ends with the request URL: a private feed's token too."""
    huge = b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 20_000 + b"\r\nContent-Length: 0\r\n\r\n"
    async with RawServer(huge) as raw:
        err = await fetch_error(fetcher, raw.url("/feed.xml?token=s3cr3t"))
    assert err.kind == "connect" and "s3cr3t" not in str(err)
    assert str(err).startswith(f"fetcher: 127.0.0.1:{raw.port} sent a malformed response "
                               "(Got more than 8190 bytes")
    assert len(str(err)) <= 400


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("header,low,high", [("120", 120, 120), ("http-date", 200, 301)])
async def test_retry_after_is_parsed(server, fetcher, status, header, low, high):
    if header == "http-date":
        header = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=300),
                                 usegmt=True)
    server.add_rate_limited("/busy.xml", header, status)
    err = await fetch_error(fetcher, server.url("/busy.xml"))
    assert err.status == status and low <= err.retry_after <= high


async def test_feed_recovers_after_scripted_failures(server, fetcher):
    server.script("/flaky.xml", [500, 500, Reply(200, FEED)])
    for _ in range(2):
        assert (await fetch_error(fetcher, server.url("/flaky.xml"))).status == 500
    assert (await fetcher.fetch(server.url("/flaky.xml"))).body == FEED


async def test_dns_failure(fetcher):
    err = await fetch_error(fetcher, "http://no.such.host.invalid/feed.xml")
    assert err.kind == "dns"
    assert str(err) == "fetcher: no.such.host.invalid: DNS lookup failed"


async def test_connection_refused(fetcher):
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = await fetch_error(fetcher, f"http://127.0.0.1:{port}/feed.xml")
    assert err.kind == "connect" and "connection refused" in str(err)


async def test_https_to_a_server_without_tls_is_a_tls_error(server, fetcher):
    err = await fetch_error(fetcher, f"https://127.0.0.1:{server.port}/feed.xml")
    assert err.kind == "tls"
    assert str(err) == (f"fetcher: 127.0.0.1:{server.port}: TLS handshake failed "
                        "(wrong version number)")


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


async def test_fetch_page_asks_for_html(server, fetcher):
    server.add_html_with_feed("/article")
    r = await fetcher.fetch_page(server.url("/article"))
    assert b'type="application/rss+xml" title="Example AI News" href="/feed.xml"' in r.body
    assert server.requests_for("/article")[0].headers["Accept"].startswith("text/html")


async def test_feedserver_runs_as_a_separate_process(tmp_path):
    body = make_rss("Caf\u00e9 AI", make_entries(3)).replace(b"utf-8", b"iso-8859-1", 1)
    (tmp_path / "feed.xml").write_bytes(body)
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.feedserver", "--dir",
                             str(tmp_path), "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        base = await asyncio.to_thread(proc.stdout.readline)
        async with Fetcher(policy()) as f:
            r = await f.fetch(base.strip() + "/feed.xml")
            again = await f.fetch(base.strip() + "/feed.xml", etag=r.etag)
            missing = await fetch_error(f, base.strip() + "/../../etc/passwd")
        assert r.body == body and r.content_type == "application/xml"
        assert again.not_modified and missing.status == 404
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("make", [make_rss, make_atom])
def test_generated_feeds_are_realistic_and_valid(make):
    entries = make_entries(20, seed=3)
    body = make("Example AI News", entries)
    parsed = feedparser.parse(body)
    assert not parsed.bozo and 60_000 < len(body) < 150_000
    assert [e.title for e in parsed.entries] == [e["title"] for e in entries]
    assert parsed.entries[0].published_parsed[:4] == (2026, 11, 20, 12)
    assert "<p>" in parsed.entries[0].content[0].value
    assert len({e["title"] for e in entries}) > 10  # not one story repeated


@pytest.mark.parametrize("value,expected", [
    ("120", 120.0), (" 0 ", 0.0), ("soon", None), ("", None), (None, None),
    ("Wed, 21 Oct 2026 07:28:00 GMT", 3600.0),
    ("Wed, 21 Oct 2026 05:00:00 GMT", 0.0),   # a date in the past: retry now
    ("Wed, 21 Oct 2026 07:28:00 -0000", 3600.0),   # no zone given: read as UTC
])
def test_parse_retry_after(value, expected):
    now = datetime(2026, 10, 21, 6, 28, tzinfo=timezone.utc)
    assert parse_retry_after(value, now) == expected


@pytest.mark.parametrize("value,expected", [
    ("max-age=600", 600.0), ("public, max-age=60, must-revalidate", 60.0),
    ("no-cache", None), (None, None), ("s-maxage=30", None),
])
def test_parse_max_age(value, expected):
    assert parse_max_age(value) == expected
