"""Redirects and fetch errors: chains, loops and limits of redirects, HTTP errors
naming host and status, defused server text, Retry-After, DNS, refused connections and TLS;
a proxy that can't be reached, wants credentials or won't connect, named without them."""
from __future__ import annotations

import base64
import re
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from yarl import URL

from feeds.fetch_redirects import with_credentials
from feeds.fetcher import Fetcher
from tests.fakes.feedserver import FeedServer, RawServer, Reply
from tests.fakes.proxy import FakeProxy
from tests.fakes.tls import COMPANY_CA
from tests.fetcher_kit import (FEED, FakeDNS, LoopbackDNS, fetch_error, feed_server,
                               loopback_fetcher, policy, through, tls_server)


server = pytest.fixture(feed_server, name="server")
fetcher = pytest.fixture(loopback_fetcher, name="fetcher")
tls_server = pytest.fixture(tls_server, name="tls_server")


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


@pytest.mark.parametrize("location", ["feed://example.com/rss", "ftp://example.com/rss.xml",
                                      "javascript:alert(1)", "mailto:feeds@example.com",
                                      "data:text/plain,hi"])
@pytest.mark.parametrize("credentials", ["", "alice:s3cret@"], ids=["public", "private"])
async def test_a_redirect_to_another_scheme_says_the_feed_went_there(server, fetcher, location,
                                                                     credentials):
    """"fetcher: ftp:// is not fetched" named neither the feed's host nor the redirect:
    the operator, whose URL was https://, could not tell where ftp:// came from. A
    private feed (user:password@) sent to an address without a host (javascript:,
    mailto:, data:) raised ValueError instead, logged by the poller as a bug."""
    server.add_redirect("/r", location, 301)
    err = await fetch_error(fetcher, server.url("/r").replace("://", f"://{credentials}"))
    assert (err.kind, str(err)) == ("blocked", f"fetcher: 127.0.0.1:{server.port} redirected "
                                               f"to {location}; only http and https are fetched")


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


BLOCKED = ("the site's bot protection ({}) turned the bot away: ask the site to let it "
           "read the feed, or follow another")


@pytest.mark.parametrize("status, headers, said", [
    (403, {"Server": "cloudflare", "cf-mitigated": "challenge"}, BLOCKED.format("Cloudflare")),
    (403, {"Server": "cloudflare"}, BLOCKED.format("Cloudflare")),   # a firewall rule
    (503, {"cf-mitigated": "challenge"}, BLOCKED.format("Cloudflare")),
    (403, {"Server": "AkamaiGHost"}, BLOCKED.format("Akamai")),
    (403, {"X-DataDome": "protected"}, BLOCKED.format("DataDome")),
    (405, {"x-amzn-waf-action": "captcha"}, BLOCKED.format("AWS WAF")),
    (429, {"x-vercel-mitigated": "challenge"}, BLOCKED.format("Vercel")),
    (403, {"X-Iinfo": "10-1234"}, BLOCKED.format("Imperva")),
    (451, {}, "unavailable for legal reasons: the site refuses readers where the bot runs"),
    (410, {}, "gone: the site says the feed was removed for good"),
], ids=["cf-challenge", "cf-firewall", "cf-503", "akamai", "datadome", "aws-waf", "vercel",
        "imperva", "451", "410"])
async def test_an_http_error_says_what_the_site_meant(server, fetcher, status, headers, said):
    """A feed behind a bot wall failed with a bare "answered HTTP 403": the operator took
    the URL or the bot for broken. The line now says who turned it away and what to do."""
    server.script("/err.xml", [Reply(status, b"<html>Just a moment...</html>", "text/html",
                                     headers, etag=None)])
    err = await fetch_error(fetcher, server.url("/err.xml"))
    assert (err.kind, err.status) == ("http", status)
    assert str(err) == f"fetcher: 127.0.0.1:{server.port} answered HTTP {status}: {said}"


@pytest.mark.parametrize("status", [404, 410, 502])
@pytest.mark.parametrize("headers", [
    {"Server": "cloudflare"}, {"Server": "AkamaiGHost"},
    {"X-Iinfo": "47-168755796-168755839 NNNN CT(0 0 0) RT(1 2)", "X-CDN": "Imperva"},
    {"X-DataDome": "protected"},
], ids=["cloudflare", "akamai", "imperva", "datadome"])
async def test_a_cdns_own_errors_are_not_taken_for_bot_protection(server, fetcher, headers,
                                                                  status):
    """Behind a CDN every answer names it: a 404, 410 or 502 there is no bot wall. Imperva
    adds X-Iinfo to every answer through its edge and DataDome X-DataDome: protected, so
    a moved feed's 404 from such a site said to ask the site to let the bot in."""
    server.script("/err.xml", [Reply(status, b"", "text/plain", headers, etag=None)])
    err = str(await fetch_error(fetcher, server.url("/err.xml")))
    assert f"answered HTTP {status}" in err and "bot protection" not in err, err


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


# aiohttp's parser words some of these differently across the releases the bot takes
# (3.10: no byte counts, "Expected HTTP/" for a bad status line): either form is one line.
@pytest.mark.parametrize("response, said", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<rss>",
     r"sent a body cut short \(the connection closed (after 5 of the 1000 bytes|before all "
     r"the bytes) its Content-Length announced\)"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<rss>\r\n",
     r"sent a body cut short \(the connection closed before its last chunk\)"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<rss>\r\nZZ\r\n",
     r"sent a malformed response \(Invalid character in chunk size\)"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n<rss></rss>",   # more than it said
     r"sent a malformed response \((Bad status line|Expected HTTP/)\)"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n<rss>",
     r"sent a malformed response \(Duplicate Content-Length\)"),
], ids=["short-body", "short-chunks", "bad-chunk-size", "long-body", "two-lengths"])
async def test_a_broken_response_is_named_in_a_few_words(fetcher, response, said):
    """aiohttp's account of a broken response runs over lines (the bytes it choked on,
    a caret under them) and wraps exceptions in exceptions: `feeds list` showed
    "Invalid character in chunk size:\\n\\n  b'ZZ'\\n    ^"."""
    async with RawServer(response) as raw:
        err = await fetch_error(fetcher, raw.url("/feed.xml"))
    assert err.kind == "connect"
    assert re.fullmatch(f"fetcher: 127.0.0.1:{raw.port} {said}", str(err)), str(err)


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


@pytest.mark.parametrize("skew", [timedelta(hours=5), timedelta(hours=-5)],
                         ids=["ahead", "behind"])
async def test_a_retry_after_date_is_read_on_the_servers_clock(server, fetcher, skew):
    """A Retry-After date is the server's clock's: five hours ahead, its "in 5 minutes"
    kept the feed waiting five hours and five minutes; behind, it read as "now"."""
    theirs = datetime.now(timezone.utc) + skew
    server.script("/busy.xml", [Reply(503, b"", "text/plain", etag=None, headers={
        "Date": format_datetime(theirs, usegmt=True),
        "Retry-After": format_datetime(theirs + timedelta(seconds=300), usegmt=True)})])
    err = await fetch_error(fetcher, server.url("/busy.xml"))
    assert 298 <= err.retry_after <= 302


@pytest.mark.parametrize("headers", [
    {"Retry-After": "Wed, 21 Oct 99999999999 07:28:00 GMT"},
    {"Retry-After": format_datetime(datetime.now(timezone.utc), usegmt=True),
     "Date": "Wed, 21 Oct 99999999999 07:28:00 GMT"},
], ids=["retry-after", "date"])
async def test_a_date_no_calendar_holds_is_a_503_all_the_same(server, fetcher, headers):
    """A year past a C integer's (a hostile or broken server) raised OverflowError out of
    the fetch: the poll logged 'failed unexpectedly' with a traceback, at every poll."""
    server.script("/busy.xml", [Reply(503, b"", "text/plain", etag=None, headers=headers)])
    err = await fetch_error(fetcher, server.url("/busy.xml"))
    assert err.status == 503 and not err.retry_after   # no wait read: none asked


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


@pytest.mark.parametrize("url, shown", [
    ("http://[2001:db8::1]:8080/feed.xml", "[2001:db8::1]:8080"),
    ("http://[2001:db8::1]/feed.xml", "[2001:db8::1]"),
])
async def test_an_ipv6_host_is_named_in_brackets(url, shown):
    """"fetcher: 2001:db8::1:8080: could not connect": which part was the port?"""
    async with Fetcher(policy(timeout=0.2)) as f:   # a documentation address: no answer
        err = await fetch_error(f, url)
    assert str(err).startswith(f"fetcher: {shown}:") or \
        str(err).startswith(f"fetcher: {shown} timed out")


async def test_https_to_a_server_without_tls_is_a_tls_error(server, fetcher):
    err = await fetch_error(fetcher, f"https://127.0.0.1:{server.port}/feed.xml")
    assert err.kind == "tls"
    assert str(err) == (f"fetcher: 127.0.0.1:{server.port}: TLS handshake failed "
                        "(wrong version number)")


@pytest.mark.parametrize("location, sent", [
    ("{base}/feed.xml", True),                        # the same site, written out in full
    ("/feed.xml", True),                              # a path
    ("http://feeds.example:{port}/feed.xml", False),  # another host
    ("http://127.0.0.1:{other}/feed.xml", False),     # another port
], ids=["absolute-same-site", "path", "other-host", "other-port"])
async def test_a_feeds_credentials_follow_a_redirect_only_within_its_site(server, location,
                                                                          sent):
    """A private feed (user:password@ in its URL, sent as Basic auth) whose server
    redirects to its own address written out in full (a trailing slash added, a
    canonical host name) answered 401: the credentials were dropped on that hop. They
    now go along within the site, never to another host or port."""
    other = FeedServer()
    await other.start()
    try:
        target = location.format(base=server.base_url, port=server.port, other=other.port)
        server.add_redirect("/private", target, 301)
        other.add("/feed.xml", FEED)
        url = server.url("/private").replace("://", "://alice:s3cret@")
        async with Fetcher(policy(), resolver=LoopbackDNS()) as f:
            await f.fetch(url)
        hop = other if "{other}" in location else server
        auth = hop.requests_for("/feed.xml")[0].headers.get("Authorization")
        assert (auth == "Basic " + base64.b64encode(b"alice:s3cret").decode()) is sent
    finally:
        await other.stop()


@pytest.mark.parametrize("target, kept", [
    ("https://intranet.example/feed", True),          # http -> https on the same host
    ("https://intranet.example:8443/feed", False),    # another port
    ("https://www.intranet.example/feed", False),     # another host
    ("https://bob@intranet.example/feed", False),     # credentials of its own
])
def test_credentials_follow_an_upgrade_to_https_on_the_same_host(target, kept):
    """The commonest redirect of all, http:// to https:// (ports 80 and 443: not
    testable on loopback)."""
    current = URL("http://alice:s3cret@intranet.example/feed")
    hop = with_credentials(current, URL(target))
    assert (hop.user, hop.password) == (("alice", "s3cret") if kept else (URL(target).user, None))
    downgrade = with_credentials(URL("https://alice:s3cret@intranet.example/feed"),
                                  URL("http://intranet.example/feed"))
    assert downgrade.user is None


@pytest.mark.parametrize("feed, target", [
    ("https://alice:s3cret@intranet.example/feed", "https://intranet.example:443/feed/"),
    ("https://alice:s3cret@intranet.example:443/feed", "https://intranet.example/feed/"),
    ("http://alice:s3cret@intranet.example/feed", "http://intranet.example:80/feed/"),
])
def test_credentials_follow_a_redirect_that_writes_out_the_default_port(feed, target):
    """https://host/feed redirected to https://host:443/feed/ is the same site, but the
    port written out made it look like another one and the private feed answered 401."""
    hop = with_credentials(URL(feed), URL(target))
    assert (hop.user, hop.password) == ("alice", "s3cret")


async def test_an_https_feed_signed_by_an_unknown_ca_says_how_to_trust_it(tls_server, fetcher):
    """An intranet feed signed by the company's own CA failed with "unable to get local
    issuer certificate" and no way to trust that CA short of replacing the system's."""
    err = await fetch_error(fetcher, tls_server.url("/feed.xml"))
    assert err.kind == "tls"
    assert str(err) == (f"fetcher: 127.0.0.1:{tls_server.port}: TLS handshake failed "
                        "(certificate verify failed: unable to get local issuer certificate; "
                        "AINEWS_CA_FILE names a CA to trust, such as a company's)")


@pytest.mark.parametrize("host, error", [
    ("intranet.test", None), ("127.0.0.1", None),
    ("other.test", "Hostname mismatch, certificate is not valid for 'other.test'"),
])
async def test_a_ca_file_is_trusted_and_names_are_still_checked(tls_server, host, error):
    async with Fetcher(policy(ca_file=str(COMPANY_CA)), resolver=LoopbackDNS()) as f:
        url = f"https://{host}:{tls_server.port}/feed.xml"
        if error is None:
            assert (await f.fetch(url)).body == FEED
        else:
            err = await fetch_error(f, url)
            assert err.kind == "tls" and error in str(err)


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
