"""SSRF guard: which URLs and addresses the fetcher may reach.

Two layers, because either alone can be bypassed:
- `check_url(url, allow_private)` runs before every request hop (so also on every
  redirect): only http/https, and literal IP hosts must be public.
- `GuardedResolver` is the resolver of the fetcher's aiohttp connector: every name is
  checked *after* resolution, at connect time, and the connector connects only to the
  addresses it returned. A name that answered "public" to a pre-check and "127.0.0.1"
  a moment later (DNS rebinding) is still refused.
Through a proxy (HTTPS_PROXY) the proxy looks the name up and connects, so the second
layer is `check_proxied`: the name's addresses in our DNS must all be public, and a
name our DNS does not know (proxy-only networks) must not be an intranet name. What the
proxy's own DNS says later is the proxy's to police (README, "Behind a proxy").

`FetchError` lives here because the guard raises it; import it from `feeds.fetcher`.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from feeds.urls import without_secrets

log = logging.getLogger("ainews.fetcher")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOWED_SCHEMES = ("http", "https")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Names that always mean "this machine", whatever DNS says.
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
# Names only an intranet's DNS answers (RFC 6762's .local, ICANN's .internal, the
# never-delegated .corp, .home, .lan ...): through a proxy they are the proxy's neighbours.
_INTRANET_SUFFIXES = ("localhost", "local", "internal", "intranet", "corp", "home", "lan",
                      "home.arpa")
# How long check_proxied waits for our DNS: on a proxy-only network it may never answer.
LOOKUP_SECONDS = 3.0
# Refused even with AINEWS_ALLOW_PRIVATE_HOSTS=1: link-local is where cloud metadata
# services answer (169.254.169.254, fe80::), never an intranet feed.
NEVER_ALLOWED = frozenset({"link-local"})
MAX_SAID = 1024   # hosts whose refused addresses were logged (forgotten all at once past it)


class FetchError(Exception):
    """A fetch that failed; str(e) is a one-line reason naming component and host.

    kind: "invalid-url" | "blocked" | "dns" | "connect" | "timeout" | "http" |
          "too-large" | "redirects" | "tls"
    """

    def __init__(self, kind: str, message: str, *, status: int | None = None,
                 retry_after: float | None = None, host: str | None = None):
        # Logged, stored as the feed's last error and shown in chat: a URL in it (a
        # redirect's target, an invalid URL) may carry the feed's credentials.
        message = one_line(without_secrets(message))
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.host = host     # "blocked": the host refused as private (see refused_as_given)


def refused_as_given(url: str, error: Exception) -> bool:
    """Whether `error` is the guard refusing `url`'s own host as private (an intranet name
    resolving to 10.x): the caller's to change, or AINEWS_ALLOW_PRIVATE_HOSTS, as a URL
    check_url refuses is. Not a redirect's target, which is the server's doing."""
    if not isinstance(error, FetchError) or error.kind != "blocked" or not error.host:
        return False
    try:   # yarl, as the guard reads hosts: it writes an IPv6 address its own way
        given = parse_url(url).raw_host or ""
    except FetchError:
        return False
    return error.host.rstrip(".").lower() == given.rstrip(".").lower()


# A message quotes what a server sent (a Location, an aiohttp parse error): it is logged,
# stored as the feed's last error and shown in `ainews feeds` and chat, so a control or
# bidi character in it is written as an escape instead (no ANSI/OSC reaches a terminal).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
MAX_MESSAGE = 400


def one_line(message: str) -> str:
    """`message` as one printable line of at most MAX_MESSAGE characters."""
    message = _UNSAFE.sub(lambda m: ascii(m[0])[1:-1], message)
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 1] + "…"


def address_problem(ip: IPAddress) -> str | None:
    """Why `ip` must not be fetched from ("loopback", "private", ...), or None if public.

    IPv6 forms that embed an IPv4 address (mapped ::ffff:a.b.c.d, 6to4, NAT64) are
    judged by the embedded address, since that is where the packets end up."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded)
    for label in ("unspecified", "loopback", "link_local", "multicast", "private",
                  "reserved"):
        if getattr(ip, f"is_{label}"):
            return label.replace("_", "-")
    # Catches shared/CGNAT space (100.64/10) and other non-routable blocks.
    return None if ip.is_global else "non-public"


def literal_ip(host: str) -> IPAddress | None:
    """The address when `host` is an IP literal (brackets and zone id allowed)."""
    host = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # legacy forms getaddrinfo would still accept: 127.1, 0x7f.0.0.1, 2130706433
        if host and all(c in "0123456789abcdefxABCDEFX." for c in host):
            return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        pass
    return None


def parse_url(url: str | URL) -> URL:
    """Parse with yarl, the parser aiohttp itself uses, so the guard and the request
    can never disagree about which host a URL names."""
    try:
        parsed = url if isinstance(url, URL) else URL(str(url).strip())
        parsed.port  # an invalid port raises here
    except (ValueError, TypeError) as e:
        raise FetchError("invalid-url",
                         f"fetcher: {without_secrets(str(url)):.200} is not a valid URL ({e})")
    return parsed


def feed_key(url: str) -> str:
    """`url` as the fetcher requests it (yarl: scheme and host lower case, no default
    port, no #fragment: a client never sends it), so two spellings of one feed compare
    equal: HTTP://Example.COM:80/rss was added beside http://example.com/rss and polled
    twice."""
    try:
        return str(parse_url(url).with_fragment(None))
    except FetchError:
        return url


def check_url(url: str | URL, allow_private: bool) -> None:
    """Raise FetchError("invalid-url" | "blocked") unless `url` may be fetched.

    Checks scheme and literal addresses only (no DNS): names are judged at connect time
    by GuardedResolver."""
    parsed = parse_url(url)
    scheme = (parsed.scheme or "").lower()
    if not scheme or _host_as_scheme(str(url), scheme):
        raise FetchError("invalid-url", f"fetcher: {without_secrets(str(url)):.200} has no "
                                        "scheme; start it with https:// or http://")
    if scheme not in ALLOWED_SCHEMES:
        raise FetchError("blocked", f"fetcher: {scheme}:// is not fetched "
                                    f"({without_secrets(str(url)):.200}); only http and https are")
    host = parsed.raw_host or ""
    if not host:
        raise FetchError("invalid-url", f"fetcher: {without_secrets(str(url)):.200} has no host")
    # "10.0.0.1." is no literal to ip_address, yet a resolver and a proxy (Squid strips
    # the dot) reach 10.0.0.1 by it.
    ip = literal_ip(host.rstrip("."))
    problem = address_problem(ip) if ip is not None else None
    if allow_private and problem not in NEVER_ALLOWED:
        return
    if problem is None and host.rstrip(".").lower() in LOCAL_NAMES:
        problem = "loopback"
    if problem:
        raise blocked(host, problem)


def _host_as_scheme(url: str, scheme: str) -> bool:
    """"localhost:8080/feed.xml" parses as scheme "localhost": a host (and port) typed
    without http://, which was refused as "localhost:// is not fetched"."""
    rest = url.strip()[len(scheme) + 1:]
    return not rest.startswith("/") and (rest[:1].isdigit() or "." in scheme)


# The end of a private host's refusal: the setting that lifts it (bot.service retries
# the feeds refused so once it is set).
PRIVATE_HOSTS_HINT = "AINEWS_ALLOW_PRIVATE_HOSTS=1 allows intranet feeds"


def blocked(host: str, problem: str, address: object = None) -> FetchError:
    at = f" ({address})" if address is not None and str(address) != host else ""
    article = "an" if problem[0] in "aeiou" else "a"
    hint = ("never fetched, as cloud metadata services answer there" if problem in NEVER_ALLOWED
            else PRIVATE_HOSTS_HINT)
    return FetchError("blocked", f"fetcher: {host}{at} is {article} {problem} address; refused "
                                 f"({hint})", host=host)


async def check_proxied(url: URL, allow_private: bool, resolver: AbstractResolver) -> None:
    """Raise FetchError("blocked") unless a proxy may fetch `url` (check_url passed).

    The proxy resolves the name and picks an address, so every address our DNS gives
    must be allowed (one private among public ones could be the one it picks). A name our
    DNS does not answer for is the proxy's to resolve: allowed unless it names an
    intranet host (one label, .internal, .corp, ...)."""
    host = (url.raw_host or "").rstrip(".").lower()
    ip = literal_ip(host)
    # Judged here too, not left to check_url: the proxy is asked for whatever passes, so
    # a spelling check_url misread as a name must not reach it.
    addresses = [ip] if ip is not None else await _addresses(resolver, host, url.port or 0)
    for address in addresses:
        problem = address_problem(address)
        if problem and (not allow_private or problem in NEVER_ALLOWED):
            raise blocked(host, problem, address)
    if not addresses and not allow_private and _intranet_name(host):
        raise FetchError("blocked", f"fetcher: {host} is an intranet name this machine's DNS "
                                    f"does not know; refused, not asked of the proxy "
                                    f"({PRIVATE_HOSTS_HINT})", host=host)


async def _addresses(resolver: AbstractResolver, host: str, port: int) -> list[IPAddress]:
    """`host`'s addresses in our DNS; none when it does not answer (in time)."""
    try:
        async with asyncio.timeout(LOOKUP_SECONDS):
            results = await resolver.resolve(host, port, socket.AF_UNSPEC)
    except (OSError, TimeoutError, asyncio.TimeoutError):
        return []
    return [ipaddress.ip_address(r["host"].split("%", 1)[0]) for r in results]


def _intranet_name(host: str) -> bool:
    return "." not in host or host.endswith(tuple("." + s for s in _INTRANET_SUFFIXES))


class GuardedResolver(AbstractResolver):
    """Resolver that drops non-public addresses; raises FetchError("blocked") if none
    remain. `inner` does the real lookups (aiohttp's default, or a fake in tests)."""

    def __init__(self, allow_private: bool = False, inner: AbstractResolver | None = None):
        self.allow_private = allow_private
        self._inner = inner
        self._said: dict[str, set[str]] = {}   # host -> refused addresses already logged

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = DefaultResolver()
        results = await self._inner.resolve(host, port, family)
        kept, refused = [], []
        for r in results:
            problem = self._problem(ipaddress.ip_address(r["host"].split("%", 1)[0]))
            (refused if problem else kept).append((r, problem))
        if refused and kept:
            self._say_refused(host, [r["host"] for r, _ in refused])
        if refused and not kept:
            r, problem = refused[0]
            raise blocked(host, problem, r["host"])
        return [r for r, _ in kept]

    def _say_refused(self, host: str, addresses: list[str]) -> None:
        """Once per host and set of addresses: said at every poll, a leaked intranet
        record beside a public one filled the log for as long as the bot ran."""
        if self._said.get(host) == set(addresses):
            return
        if len(self._said) >= MAX_SAID:
            self._said.clear()
        self._said[host] = set(addresses)
        log.warning("fetcher: %s resolved to refused address(es) %s; using the others", host,
                    ", ".join(addresses))

    def _problem(self, ip: IPAddress) -> str | None:
        problem = address_problem(ip)
        return problem if not self.allow_private or problem in NEVER_ALLOWED else None

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()
