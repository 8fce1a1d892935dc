"""The SSRF guard: URL pre-checks, the connect-time resolver, redirect hops, and
targets a proxy resolves (check_proxied)."""
from __future__ import annotations

import ipaddress

import pytest
from yarl import URL

from feeds import guard
from feeds.fetcher import FetchError, Fetcher, FetchPolicy
from feeds.guard import GuardedResolver, address_problem, check_url, refused_as_given
from tests.fakes.feedserver import FeedServer, make_entries, make_rss
from tests.fakes.proxy import FakeProxy
from tests.fetcher_kit import FakeDNS, through

FEED = make_rss("Guarded", make_entries(2))


@pytest.mark.parametrize("url,problem", [
    ("http://127.0.0.1/feed", "loopback"),
    ("http://[::1]/feed", "loopback"),
    ("http://10.0.0.1/feed", "private"),
    ("http://192.168.1.20:8080/rss", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fd00::1]/", "private"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://100.64.0.1/", "non-public"),
    ("http://127.1/", "loopback"),           # legacy short form
    ("http://2130706433/", "loopback"),      # 127.0.0.1 as one number
    ("http://localhost:8000/", "loopback"),
    ("http://localhost.localdomain/", "loopback"),   # names that mean "this machine"
    ("http://ip6-localhost/", "loopback"),
    ("http://IP6-Loopback./", "loopback"),
    ("http://[4000::1]/", "reserved"),               # reserved, though Python calls it global
    ("http://127.0.0.1%25eth0/", "loopback"),        # a zone id does not hide the address
    ("http://[fe80::1%25eth0]/", "link-local"),
    # A trailing dot: no literal to ip_address, yet getaddrinfo and a proxy reach it.
    ("http://10.0.0.1./feed", "private"),
    ("http://169.254.169.254./latest/meta-data/", "link-local"),
    ("http://2130706433./", "loopback"),
    ("http://127.1.:8080/", "loopback"),
])
def test_literal_private_addresses_are_blocked(url, problem):
    with pytest.raises(FetchError) as info:
        check_url(url, allow_private=False)
    assert info.value.kind == "blocked" and f" {problem} address; refused" in str(info.value)
    if problem == "link-local":   # cloud metadata: refused even for intranet feeds
        with pytest.raises(FetchError, match="never fetched, as cloud metadata"):
            check_url(url, allow_private=True)
    else:
        check_url(url, allow_private=True)  # intranet feeds opt in


@pytest.mark.parametrize("url,message", [
    ("http://10.0.0.1/feed", "fetcher: 10.0.0.1 is a private address; refused "
                             "(AINEWS_ALLOW_PRIVATE_HOSTS=1 allows intranet feeds)"),
    ("http://0.0.0.0/", "fetcher: 0.0.0.0 is an unspecified address; refused "
                        "(AINEWS_ALLOW_PRIVATE_HOSTS=1 allows intranet feeds)"),
])
def test_refusal_says_what_the_address_is_and_how_to_allow_it(url, message):
    with pytest.raises(FetchError) as info:
        check_url(url, allow_private=False)
    assert str(info.value) == message


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.com/feed.xml", "gopher://example.com/",
    "javascript:alert(1)",
])
def test_only_http_and_https_are_fetched(url):
    for allow_private in (False, True):
        with pytest.raises(FetchError) as info:
            check_url(url, allow_private)
        assert info.value.kind == "blocked" and "only http and https" in str(info.value)


@pytest.mark.parametrize("url", ["http://", "http://:80/x", "https://exa mple.com:99999/",
                                 "https://example.com:99999/", "example.com/feed.xml"])
def test_malformed_urls_are_invalid(url):
    with pytest.raises(FetchError) as info:
        check_url(url, allow_private=False)
    assert info.value.kind == "invalid-url"


@pytest.mark.parametrize("url", [
    "https://alice:s3cr/etpw@private.example/rss", "https://alice:s3cr?etpw@private.example/rss",
    "https://alice:s3cr#etpw@private.example/rss?token=t0k3n",
])
def test_a_password_that_breaks_its_url_is_not_quoted_in_the_error(url):
    """A password with "/", "?" or "#" not %-escaped ends the host early, so `feeds add`
    refuses the URL: the error, shown in chat and the log, quoted the password."""
    with pytest.raises(FetchError) as info:
        check_url(url, allow_private=False)
    assert str(info.value).startswith("fetcher: https://alice:***@private.example/rss"), \
        str(info.value)


@pytest.mark.parametrize("url", [
    # A host and port typed without http:// read as a scheme: "localhost:// is not fetched".
    "localhost:8080/feed.xml", "127.0.0.1:8080/rss", "news.example.com:443/feed",
    "news.example.com/feed", "localhost:8/feed.xml",
])
def test_a_url_without_a_scheme_says_to_add_one(url):
    with pytest.raises(FetchError) as info:
        check_url(url, allow_private=True)
    assert info.value.kind == "invalid-url"
    assert str(info.value) == (f"fetcher: {url} has no scheme; start it with https:// or "
                               "http://")


@pytest.mark.parametrize("url", [
    "https://example.com/feed.xml", "HTTP://News.Example.COM/rss", "http://8.8.8.8/",
    "http://[2606:4700::1111]/feed",
])
def test_public_urls_pass(url):
    check_url(url, allow_private=False)


@pytest.mark.parametrize("ip,problem", [
    ("8.8.8.8", None), ("2606:4700::1111", None), ("127.0.0.53", "loopback"),
    ("172.16.5.4", "private"), ("2002:7f00:1::", "loopback"),     # 6to4 of 127.0.0.1
    ("64:ff9b::a00:1", "private"),                                 # NAT64 of 10.0.0.1
    ("ff02::1", "multicast"), ("::", "unspecified"),
])
def test_address_problem(ip, problem):
    assert address_problem(ipaddress.ip_address(ip)) == problem


@pytest.mark.parametrize("length,shown", [(400, "x" * 400), (401, "x" * 399 + "…")])
def test_an_error_line_is_cut_only_past_400_characters(length, shown):
    """Shown in `ainews feeds` and chat: a line of 400 characters is kept whole."""
    assert str(FetchError("http", "x" * length)) == shown


async def test_a_host_with_a_private_address_beside_its_public_one_is_said_once(caplog):
    """A feed whose DNS also lists a private address (a leaked intranet record) logged a
    warning at every poll, every two minutes for as long as the bot ran; now once, and
    again only when the refused addresses change."""
    dns = FakeDNS({"leaky.example": ["10.1.2.3", "93.184.216.34"]})
    r = GuardedResolver(False, dns)
    for _ in range(3):
        assert [a["host"] for a in await r.resolve("leaky.example", 80)] == ["93.184.216.34"]
    dns.table["leaky.example"] = ["10.1.2.4", "93.184.216.34"]
    await r.resolve("leaky.example", 80)
    assert [m.getMessage() for m in caplog.records if m.levelname == "WARNING"] == [
        f"fetcher: leaky.example resolved to refused address(es) {a}; using the others"
        for a in ("10.1.2.3", "10.1.2.4")]


async def test_resolver_keeps_only_public_addresses(caplog):
    dns = FakeDNS({"mixed.example": ["10.1.2.3", "93.184.216.34"],
                   "inside.example": ["10.1.2.3", "fd00::7"], "public.example": ["8.8.8.8"]})
    r = GuardedResolver(False, dns)
    assert len(await r.resolve("public.example", 80)) == 1 and not caplog.records
    assert [a["host"] for a in await r.resolve("mixed.example", 80)] == ["93.184.216.34"]
    assert "mixed.example resolved to refused address(es) 10.1.2.3" in caplog.text
    assert {r.name for r in caplog.records} == {"ainews.fetcher"}
    with pytest.raises(FetchError) as info:
        await r.resolve("inside.example", 80)
    assert info.value.kind == "blocked" and "inside.example (10.1.2.3)" in str(info.value)
    assert len(await GuardedResolver(True, dns).resolve("inside.example", 80)) == 2
    with pytest.raises(FetchError):      # private hosts are refused unless asked for
        await GuardedResolver(inner=dns).resolve("inside.example", 80)
    with pytest.raises(FetchError) as literal:   # an address is not repeated after itself
        await GuardedResolver(False, FakeDNS({"10.9.9.9": ["10.9.9.9"]})).resolve("10.9.9.9")
    assert str(literal.value).startswith("fetcher: 10.9.9.9 is a private address")


async def test_closing_the_resolver_closes_the_dns_it_used():
    dns = FakeDNS({})
    await GuardedResolver(False, dns).close()
    await GuardedResolver(False).close()     # never resolved anything: nothing to close
    assert dns.closed


async def test_a_name_resolving_to_cloud_metadata_is_refused_even_for_intranet_feeds():
    dns = FakeDNS({"metadata.example": ["169.254.169.254"], "v6.example": ["fe80::1"],
                   "zoned.example": ["fe80::1%eth0"]})     # a zone id as getaddrinfo gives
    for name in ("metadata.example", "v6.example", "zoned.example"):
        with pytest.raises(FetchError, match="link-local address; refused"):
            await GuardedResolver(True, dns).resolve(name, 80)


@pytest.fixture
async def public_server(monkeypatch):
    """A server on 127.0.0.1 that the guard treats as a public host, plus an
    "intranet" server on 127.0.0.2 that must stay unreachable."""
    real = guard.address_problem
    monkeypatch.setattr(guard, "address_problem",
                        lambda ip: None if str(ip) == "127.0.0.1" else real(ip))
    async with FeedServer("127.0.0.1") as public, FeedServer("127.0.0.2") as inside:
        inside.add("/secret", "internal data")
        yield public, inside


def guarded_fetcher() -> Fetcher:
    dns = FakeDNS({"news.example": ["127.0.0.1"], "intranet.example": ["127.0.0.2"]})
    return Fetcher(FetchPolicy(allow_private=False), resolver=dns)


async def test_public_name_is_fetched(public_server):
    public, _ = public_server
    public.add("/feed.xml", FEED)
    async with guarded_fetcher() as f:
        r = await f.fetch(f"http://news.example:{public.port}/feed.xml")
    assert r.body == FEED


@pytest.mark.parametrize("target,reason", [
    ("http://intranet.example:{port}/secret", "is a loopback address"),   # by name
    ("http://127.0.0.2:{port}/secret", "is a loopback address"),          # literal
    ("file:///etc/passwd", "only http and https"),
])
async def test_redirect_to_a_private_host_is_refused(public_server, target, reason):
    public, inside = public_server
    public.add_redirect("/go", target.format(port=inside.port))
    async with guarded_fetcher() as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(f"http://news.example:{public.port}/go")
    assert info.value.kind == "blocked" and reason in str(info.value)
    assert public.requests_for("/go") and not inside.requests


async def test_name_resolving_to_loopback_is_refused_at_connect_time():
    async with FeedServer() as srv:
        srv.add("/feed.xml", FEED)
        dns = FakeDNS({"looks-public.example": ["127.0.0.1"]})
        async with Fetcher(FetchPolicy(), resolver=dns) as f:
            with pytest.raises(FetchError) as info:
                await f.fetch(f"http://looks-public.example:{srv.port}/feed.xml")
            with pytest.raises(FetchError) as literal:
                await f.fetch(srv.url("/feed.xml"))
    assert info.value.kind == literal.value.kind == "blocked"
    assert str(info.value).startswith("fetcher: looks-public.example (127.0.0.1) is a "
                                      "loopback address")
    assert not srv.requests


# Through a proxy the proxy resolves the name and connects: the guard checks the name as
# our DNS answers for it, and one it does not know by its form (tests/fakes/proxy.py).
INSIDE = {"intranet.example.com": ["10.1.2.3"], "mixed.example.com": ["93.184.216.34", "10.1.2.3"],
          "rebound.example.com": ["fd00::7"], "metadata.example.com": ["169.254.169.254"]}


@pytest.mark.parametrize("url, words", [
    ("http://10.1.2.3/feed", "10.1.2.3 is a private address; refused"),
    ("https://[::ffff:10.0.0.1]/feed", "is a private address; refused"),
    ("http://169.254.169.254/latest/meta-data/", "is a link-local address; refused"),
    ("http://localhost:8080/feed", "localhost is a loopback address; refused"),
    ("http://intranet.example.com/feed", "intranet.example.com (10.1.2.3) is a private address"),
    # The proxy may pick the private one of a name's addresses.
    ("https://mixed.example.com/feed", "mixed.example.com (10.1.2.3) is a private address"),
    ("https://rebound.example.com/feed", "(fd00::7) is a private address"),
    # Names our DNS does not know: the proxy's DNS would answer with its neighbours.
    ("http://wiki/feed", "wiki is an intranet name this machine's DNS does not know; refused, "
                         "not asked of the proxy (AINEWS_ALLOW_PRIVATE_HOSTS=1 allows"),
    ("https://jenkins.corp/rss", "jenkins.corp is an intranet name"),
    ("https://db.internal/rss", "db.internal is an intranet name"),
    ("https://printer.local/rss", "printer.local is an intranet name"),
    # Squid strips a trailing dot and connects to the address.
    ("http://10.0.0.1./feed", "10.0.0.1. is a private address; refused"),
    ("http://169.254.169.254./latest/meta-data/", "is a link-local address; refused"),
    ("http://2130706433./", "is a loopback address; refused"),
    ("http://127.1.:8080/", "is a loopback address; refused"),
])
async def test_the_guard_refuses_a_private_target_before_the_proxy_is_asked(url, words):
    async with FakeProxy() as proxy, Fetcher(through(proxy.url()),
                                             resolver=FakeDNS(INSIDE)) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(url)
    assert info.value.kind == "blocked" and words in str(info.value)
    assert proxy.seen == []
    # The URL as given is refused: `ainews feeds add` and `feeds check` exit 2 (fix it).
    assert refused_as_given(url, info.value)


async def test_through_a_proxy_intranet_feeds_are_allowed_as_asked_but_metadata_never():
    async with FakeProxy() as proxy, Fetcher(through(proxy.url(), allow_private=True),
                                             resolver=FakeDNS(INSIDE)) as f:
        for url in ("http://intranet.example.com/feed", "http://wiki/feed"):
            assert (await fetch_status(f, url)) == 502    # asked of the proxy: it can't reach
        with pytest.raises(FetchError, match="link-local address; refused"):
            await f.fetch("http://metadata.example.com/latest/meta-data/")
    assert proxy.targets() == ["http://intranet.example.com/feed", "http://wiki/feed"]


async def fetch_status(fetcher: Fetcher, url: str) -> int | None:
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(url)
    return info.value.status


@pytest.mark.parametrize("target", ["http://10.0.0.5/secret", "http://intranet.example.com/x",
                                    "http://127.0.0.2:{port}/secret",
                                    "http://169.254.169.254./latest/meta-data/"])
async def test_a_redirect_through_the_proxy_to_a_private_host_is_refused(feeds, target):
    feeds.add_redirect("/go", target.format(port=feeds.port))
    async with FakeProxy({"news.example.com": "127.0.0.1"}) as proxy, Fetcher(
            through(proxy.url()), resolver=FakeDNS(INSIDE)) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(f"http://news.example.com:{feeds.port}/go")
    assert info.value.kind == "blocked"
    assert proxy.targets() == [f"http://news.example.com:{feeds.port}/go"]



@pytest.mark.parametrize("url, allow_private", [
    ("http://10.0.0.1./feed", False), ("http://127.1./", False),
    ("http://169.254.169.254./latest/meta-data/", True),
])
async def test_the_proxy_check_judges_an_address_itself(url, allow_private):
    """check_proxied is the last word before the proxy is asked: an address check_url
    read as a name (it did so with a trailing dot) was passed as "judged already"."""
    with pytest.raises(FetchError) as info:
        await guard.check_proxied(URL(url), allow_private, FakeDNS({}))
    assert info.value.kind == "blocked"
    await guard.check_proxied(URL("http://93.184.216.34./feed"), False, FakeDNS({}))
