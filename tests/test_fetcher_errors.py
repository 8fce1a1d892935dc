"""Redirects and fetch errors: chains, loops and limits of redirects, HTTP errors
naming host and status, defused server text, Retry-After, DNS, refused connections and TLS;
a proxy that can't be reached, wants credentials or won't connect, named without them."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from feeds.fetcher import Fetcher
from tests.fakes.feedserver import RawServer, Reply
from tests.fakes.proxy import FakeProxy
from tests.fetcher_kit import FEED, FakeDNS, fetch_error, feed_server, loopback_fetcher, through


server = pytest.fixture(feed_server, name="server")
fetcher = pytest.fixture(loopback_fetcher, name="fetcher")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_chain_is_followed(server, fetcher, status):
    server.add_redirect("/a", server.url("/b"), status)   # absolute
    server.add_redirect("/b", "c", status)                # relative
    server.add_redirect("/c", "/feed.xml", status)
    r = await fetcher.fetch(server.url("/a"))
    assert r.body == FEED and r.url == server.url("/a")
    assert r.final_url == server.url("/feed.xml")


@pytest.mark.parametrize("statuses, redirect", [
    ([], ""), ([301], "permanent"), ([308], "permanent"), ([301, 308], "permanent"),
    ([302], "temporary"), ([307], "temporary"), ([301, 302], "temporary"),
    ([302, 301], "temporary"),
], ids=lambda v: str(v))
async def test_a_redirect_is_permanent_only_when_every_hop_is(server, fetcher, statuses,
                                                               redirect):
    # A feed that moved for good (301/308) must be named to the operator; one that
    # redirects for now (a 302 to a CDN, a login wall) must not be taken for moved.
    paths = [f"/hop{n}" for n in range(len(statuses))] + ["/feed.xml"]
    for here, there, status in zip(paths, paths[1:], statuses):
        server.add_redirect(here, there, status)
    r = await fetcher.fetch(server.url(paths[0]))
    assert r.redirect == redirect and r.final_url == server.url("/feed.xml")


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


@pytest.mark.parametrize("where", ["loop", "scheme", "invalid"])
async def test_a_fetch_error_never_shows_the_feeds_credentials(server, fetcher, where):
    """The error is logged, stored and shown in `feeds list` and chat: a private feed's
    user:password@ (sent as Basic auth) came along in a loop's "back to" URL."""
    server.add_redirect("/loop1", "/loop2")
    server.add_redirect("/loop2", "/loop1")
    url = {"loop": server.url("/loop1?token=t0k3n"), "scheme": "ftp://h.example/rss?key=t0k3n",
           "invalid": server.url("/rss?key=t0k3n").replace("/rss", ":99999/rss")}[where]
    err = await fetch_error(fetcher, url.replace("://", "://alice:s3cretpw@"))
    assert "alice:***@" in str(err) and "***" in str(err).split("?", 1)[-1]
    assert "s3cretpw" not in str(err) and "t0k3n" not in str(err)


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
    # aiohttp's own words vary ("Bad status line", 3.10's "Invalid status code").
    (b"HTTP/1.1 2x0 \x1b[2J\r\n\r\n", "sent a malformed response ("),
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


def free_port() -> int:
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("scheme, setting", [("http", "HTTP_PROXY"), ("https", "HTTPS_PROXY")])
async def test_a_proxy_refusing_the_connection_is_named(scheme, setting):
    port = free_port()
    async with Fetcher(through(f"http://bob:s3cret@127.0.0.1:{port}"), resolver=FakeDNS({})) as f:
        err = await fetch_error(f, f"{scheme}://news.example.com/feed.xml")
    assert str(err) == (f"fetcher: proxy 127.0.0.1:{port} refused the connection (check "
                        f"{setting})")
    assert err.kind == "connect"      # the bot's own network, no feed's failure


async def test_a_proxy_name_that_does_not_resolve_is_named():
    async with Fetcher(through("http://proxy.corp:3128"), resolver=FakeDNS({})) as f:
        err = await fetch_error(f, "https://news.example.com/feed.xml")
    assert str(err) == "fetcher: proxy proxy.corp:3128: DNS lookup failed (check HTTPS_PROXY)"


@pytest.mark.parametrize("scheme", ["http", "https"])   # absolute URI; CONNECT
@pytest.mark.parametrize("user, password, words", [
    ("", "", "fetcher: proxy 127.0.0.1:{port} asks for credentials (HTTP 407 Proxy "
             "Authentication Required); add the user and password to {setting}"),
    ("bob", "wr0ng", "fetcher: proxy 127.0.0.1:{port} refused the credentials in {setting} "
                     "(HTTP 407 Proxy Authentication Required); check the user and password "
                     "there"),
])
async def test_a_proxy_asking_for_credentials_is_one_clear_line(server, scheme, user, password,
                                                                words):
    async with FakeProxy({"news.example.com": "127.0.0.1"}, ("bob", "s3cret")) as proxy, \
            Fetcher(through(proxy.url(user, password)), resolver=FakeDNS({})) as f:
        err = await fetch_error(f, f"{scheme}://news.example.com:{server.port}/feed.xml")
    setting = {"http": "HTTP_PROXY", "https": "HTTPS_PROXY"}[scheme]
    assert str(err) == words.format(port=proxy.port, setting=setting)
    assert err.kind == "connect" and "wr0ng" not in str(err) and len(proxy.refused) == 1
    assert not server.requests


async def test_a_proxy_that_cannot_reach_the_target_names_both():
    async with FakeProxy() as proxy, Fetcher(through(proxy.url()), resolver=FakeDNS({})) as f:
        err = await fetch_error(f, "https://gone.example.com/feed.xml")
    assert str(err) == (f"fetcher: proxy 127.0.0.1:{proxy.port} would not connect to "
                        "gone.example.com (HTTP 502 Bad Gateway)")
    assert err.kind == "http" and err.status == 502
