"""The fetcher against the local feed server (loopback, so allow_private=True): bodies,
validators, conditional GETs, compression, closing, through a proxy or not; Retry-After
and max-age; and the fake feed server itself."""
from __future__ import annotations

import asyncio
import gzip
import random
import subprocess
import sys
import zlib
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import pytest

from feeds.fetcher import Fetcher, parse_max_age, parse_retry_after
from tests.fakes.feedserver import make_atom, make_entries, make_rss
from tests.fakes.proxy import FakeProxy
from tests.fetcher_kit import (FEED, FakeDNS, policy, fetch_error, feed_server, loopback_fetcher,
                               through)


server = pytest.fixture(feed_server, name="server")
fetcher = pytest.fixture(loopback_fetcher, name="fetcher")


ROOT = Path(__file__).resolve().parents[1]


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


async def test_closing_is_safe_whether_or_not_the_fetcher_was_used(server):
    await Fetcher(policy()).close()                      # never used: nothing to close
    async with Fetcher(policy()) as f:
        await f.fetch(server.url("/feed.xml"))
    await f.close()                                      # closing again is harmless
    async with f:                                        # and it can be used again
        assert (await f.fetch(server.url("/feed.xml"))).body == FEED


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
    # ASCII digits only (RFC 9110): "²" passed isdigit() and failed float(), so the
    # fetch ended in a ValueError instead of a FetchError.
    ("\u00b2", None), ("\u0661\u0662\u0660", None),
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


async def test_a_feed_is_fetched_through_the_proxy_conditional_get_and_all(server):
    """A network where only the proxy reaches out: our DNS knows no name, the proxy
    does (tests/fakes/proxy.py answers a name it does not know with a 502)."""
    url = f"http://news.example.com:{server.port}/feed.xml"
    async with FakeProxy({"news.example.com": "127.0.0.1"}) as proxy, Fetcher(
            through(proxy.url()), resolver=FakeDNS({})) as f:
        first = await f.fetch(url)
        again = await f.fetch(url, etag=first.etag)
    assert first.body == FEED and again.not_modified and again.body is None
    assert proxy.targets() == [url, url]      # absolute-URI requests, as HTTP_PROXY asks
    assert server.requests_for("/feed.xml")[-1].headers["If-None-Match"] == first.etag
    assert "Proxy-Authorization" not in server.requests_for("/feed.xml")[0].headers


async def test_a_proxy_with_credentials_is_sent_them(server):
    url = f"http://news.example.com:{server.port}/feed.xml"
    async with FakeProxy({"news.example.com": "127.0.0.1"}, ("bob", "s3cret")) as proxy, \
            Fetcher(through(proxy.url("bob", "s3cret")), resolver=FakeDNS({})) as f:
        assert (await f.fetch(url)).body == FEED
    assert proxy.refused == []


async def test_an_https_feed_goes_through_a_connect_tunnel(server):
    """CONNECT host:port, then TLS with the feed's own server inside the tunnel (this
    one speaks plain HTTP, so the handshake fails there, not at the proxy)."""
    async with FakeProxy({"news.example.com": "127.0.0.1"}) as proxy, Fetcher(
            through(proxy.url()), resolver=FakeDNS({})) as f:
        err = await fetch_error(f, f"https://news.example.com:{server.port}/feed.xml")
    assert proxy.seen == [("CONNECT", f"news.example.com:{server.port}")]
    assert err.kind == "tls" and "TLS handshake failed" in str(err)


@pytest.mark.parametrize("no_proxy", ["news.example.com", ".example.com", "*", "127.0.0.0/8"])
async def test_hosts_in_no_proxy_and_loopback_are_fetched_straight(server, no_proxy):
    dns = FakeDNS({"news.example.com": ["127.0.0.1"]})
    async with FakeProxy() as proxy, Fetcher(
            through(proxy.url(), no_proxy=no_proxy, allow_private=True), resolver=dns) as f:
        if no_proxy != "127.0.0.0/8":   # a network names addresses, not names
            assert (await f.fetch(f"http://news.example.com:{server.port}/feed.xml")).body == FEED
        assert (await f.fetch(server.url("/feed.xml"))).body == FEED   # loopback: never
    assert proxy.seen == []
