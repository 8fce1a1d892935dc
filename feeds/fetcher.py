"""HTTP fetching for feeds and article pages: one aiohttp session, bounded and guarded.

    async with Fetcher(FetchPolicy()) as f:
        results = await asyncio.gather(*(f.fetch(u) for u in urls), return_exceptions=True)

- Concurrency: at most `policy.concurrency` requests at once and `policy.per_host` per
  host name, enforced here with semaphores, so callers may gather() every feed.
- Conditional GET: pass the stored etag/last_modified; a 304 gives
  `FetchResult(not_modified=True, body=None)`, so the caller skips parsing.
- Timeout: `policy.timeout` seconds of network time per fetch, all redirect hops
  together. Time spent queueing for a concurrency slot is not counted, or a big gather
  against one host would time out feeds that never got to start.
- Size: `policy.max_bytes` caps both the bytes on the wire and the decompressed body
  (feeds/fetch_body.py): the read stops as soon as either passes the cap.
- Redirects are followed here, not by aiohttp, so every hop passes the SSRF guard
  (feeds/guard.py) and loops are reported as such. `FetchResult.redirect` says whether
  the address moved ("permanent": every hop a 301 or 308) or redirects for now
  (feeds/fetch_redirects.py, with which hops keep the feed's credentials).
- TLS: the system's CAs, and `policy.ca_file`'s (AINEWS_CA_FILE: a company CA;
  feeds/tls.py).
- Proxy: `policy.proxies` (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) picks each hop's way out.
  A proxied hop goes through a second session whose connector reaches only the proxy (a
  company proxy is on a private address, which the guarded one would refuse); the
  target is checked by `check_proxied` instead, as the proxy resolves it.
- Encodings: gzip and deflate (br is not advertised: see feeds/fetch_body.py).
Every failure is a FetchError with a one-line message naming the component and host
(feeds/fetch_errors.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from yarl import URL

from feeds.fetch_body import read_body
from feeds.fetch_errors import client_error, http_error, proxy_refused, where
from feeds.fetch_redirects import REDIRECTS, redirect_kind, with_credentials
from feeds.guard import (ALLOWED_SCHEMES, FetchError, GuardedResolver, check_proxied,
                         check_url, parse_url)
from feeds.proxy import Proxies, Proxy
from feeds.tls import aiohttp_context
from feeds.urls import without_secrets

__all__ = ["FetchError", "FetchPolicy", "FetchResult", "Fetcher", "parse_retry_after",
           "parse_max_age"]

log = logging.getLogger("ainews.fetcher")

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True)
class FetchPolicy:
    timeout: float = 15.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False
    concurrency: int = 16
    per_host: int = 2
    ca_file: str | Path | None = None   # PEM: CAs trusted besides the system's (AINEWS_CA_FILE)
    proxies: Proxies = Proxies()
    user_agent: str = "ainews/0.1 (+https://github.com/ainews/ainews; AI strategy news bot)"


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    body: bytes | None            # None when not_modified
    not_modified: bool
    etag: str | None
    last_modified: str | None
    content_type: str | None
    max_age: float | None         # Cache-Control max-age, seconds
    elapsed: float
    # "" not redirected; "permanent" when every hop to final_url was a 301 or 308 (the
    # feed moved: its owner says to use final_url from now on); else "temporary".
    redirect: str = ""


def parse_retry_after(value: str | None, now: datetime | None = None,
                      date: str | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date). A date
    is the server's clock's, so it is read against the response's Date header when that
    parses: a server five hours ahead otherwise meant a wait of five hours more."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():   # "²" is a digit to isdigit(), not to float()
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    now = _http_date(date) or now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _http_date(value: str | None) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(value or "")
    except (TypeError, ValueError, IndexError, OverflowError):   # a year past C's int
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def parse_max_age(cache_control: str | None) -> float | None:
    m = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", cache_control or "", re.I)
    return float(m.group(1)) if m else None


class HostSlots:
    """At most `per_host` fetches at once per host. A host is remembered only while a
    fetch holds or waits for its turn: kept for good, every article page's host and
    redirect hop (AINEWS_FETCH_ARTICLES) stayed for the life of the process."""

    def __init__(self, per_host: int):
        self.per_host = per_host
        self._hosts: dict[str, list] = {}   # host -> [its Semaphore, fetches holding or waiting]

    def __len__(self) -> int:
        return len(self._hosts)

    @contextlib.asynccontextmanager
    async def turn(self, host: str):
        entry = self._hosts.get(host)
        if entry is None:
            entry = self._hosts[host] = [asyncio.Semaphore(self.per_host), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:   # a fetch cancelled while waiting leaves too
            entry[1] -= 1
            if not entry[1]:   # nobody holds or waits: its semaphore is back to full
                del self._hosts[host]


class Fetcher:
    """Async context manager owning ONE aiohttp session; see the module docstring."""

    def __init__(self, policy: FetchPolicy = FetchPolicy(), *,
                 resolver: AbstractResolver | None = None):
        self.policy = policy
        self._inner_resolver = resolver   # tests inject a fake DNS here
        self._session: aiohttp.ClientSession | None = None
        self._proxied: aiohttp.ClientSession | None = None   # through policy.proxies
        self._lookups: AbstractResolver | None = None        # check_proxied's DNS
        self._all = asyncio.Semaphore(policy.concurrency)
        self._hosts = HostSlots(policy.per_host)

    async def __aenter__(self) -> "Fetcher":
        self._ensure_session()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        for session in (self._session, self._proxied):
            if session is not None:
                await session.close()
        self._session = self._proxied = None
        if self._lookups is not None and self._inner_resolver is None:
            await self._lookups.close()
        self._lookups = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = GuardedResolver(self.policy.allow_private, self._inner_resolver)
            self._session = self._new_session(resolver)
        return self._session

    def _proxied_session(self) -> aiohttp.ClientSession:
        """The session whose connector reaches only the proxy (resolved unguarded: the
        operator named it), every request in it carrying `proxy=`."""
        if self._proxied is None or self._proxied.closed:
            self._proxied = self._new_session(self._inner_resolver)
        return self._proxied

    def _new_session(self, resolver: AbstractResolver | None) -> aiohttp.ClientSession:
        # trust_env=False: the proxy is policy.proxies' choice, not the environment's.
        connector = aiohttp.TCPConnector(resolver=resolver, limit=self.policy.concurrency,
                                         ssl=aiohttp_context(self.policy.ca_file) or True)
        return aiohttp.ClientSession(
            connector=connector, auto_decompress=False, trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),  # no state shared between feeds
            timeout=aiohttp.ClientTimeout(total=None),  # we time whole fetches
            headers={"User-Agent": self.policy.user_agent,
                     "Accept-Encoding": "gzip, deflate"})

    async def fetch(self, url: str, *, etag: str | None = None,
                    last_modified: str | None = None) -> FetchResult:
        """GET a feed; raises FetchError. Conditional when etag/last_modified given."""
        headers = {"Accept": FEED_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return await self._get(url, headers)

    async def fetch_page(self, url: str) -> FetchResult:
        """GET an article page with the same guards and limits; raises FetchError."""
        return await self._get(url, {"Accept": PAGE_ACCEPT})

    async def _get(self, url: str, headers: dict[str, str]) -> FetchResult:
        current, spent = parse_url(url), 0.0
        seen, statuses = [str(current)], []
        for _ in range(self.policy.max_redirects + 1):
            check_url(current, self.policy.allow_private)
            outcome, seconds = await self._hop(current, headers, self.policy.timeout - spent)
            spent += seconds
            if isinstance(outcome, FetchResult):
                outcome.url, outcome.elapsed = url, spent
                outcome.redirect = redirect_kind(statuses)
                log.debug("fetcher: %s -> %s (%.2f s)", without_secrets(url), outcome.status,
                          spent)
                return outcome
            location, status = outcome
            statuses.append(status)
            current = self._next_hop(current, location, seen)
        raise FetchError("redirects", f"fetcher: {where(parse_url(url))} redirected more "
                                      f"than {self.policy.max_redirects} times")

    def _next_hop(self, current: URL, location: str, seen: list[str]) -> URL:
        target = current.join(parse_url(location))
        # The scheme first: javascript:, mailto: or data: has no host to compare sites by.
        if (target.scheme or "").lower() not in ALLOWED_SCHEMES:   # said as a redirect
            raise FetchError("blocked", f"fetcher: {where(current)} redirected to "
                                        f"{target}; only http and https are fetched")
        target = with_credentials(current, target)
        if str(target) in seen:
            raise FetchError("redirects", f"fetcher: {where(current)} redirected in a loop "
                                          f"(back to {target})")
        seen.append(str(target))
        return target

    async def _hop(self, url: URL, headers: dict[str, str],
                   budget: float) -> tuple[FetchResult | tuple[str, int], float]:
        """One request: (a FetchResult or a redirect's (Location, status), seconds it took).

        Slots are taken per hop, host first, so a queue for one busy host never holds
        overall slots that fetches from other hosts could use."""
        proxy = self.policy.proxies.for_url(url)
        async with self._hosts.turn((url.host or "").lower()), self._all:
            start = time.monotonic()
            try:
                async with asyncio.timeout(max(budget, 0.001)):
                    return await self._request(url, headers, proxy), time.monotonic() - start
            except FetchError:
                raise
            except (TimeoutError, asyncio.TimeoutError):
                raise FetchError("timeout", f"fetcher: {where(url)} timed out after "
                                            f"{self.policy.timeout:g} s") from None
            except aiohttp.ClientError as e:
                raise client_error(url, e, proxy) from e

    async def _request(self, url: URL, headers: dict[str, str],
                       proxy: Proxy | None) -> FetchResult | tuple[str, int]:
        if proxy is None:
            session, via = self._ensure_session(), {}
        else:
            if self._lookups is None:
                self._lookups = self._inner_resolver or DefaultResolver()
            await check_proxied(url, self.policy.allow_private, self._lookups)
            session, via = self._proxied_session(), {"proxy": proxy.url}
        async with session.get(url, headers=headers, allow_redirects=False, **via) as resp:
            return await self._handle(url, resp, proxy)

    async def _handle(self, url: URL, resp: aiohttp.ClientResponse,
                      proxy: Proxy | None) -> FetchResult | tuple[str, int]:
        status = resp.status
        if status == 407 and proxy is not None:   # an http:// hop: the proxy answers itself
            raise proxy_refused(proxy)
        if status in REDIRECTS:
            location = resp.headers.get("Location")
            if not location:
                raise FetchError("http", f"fetcher: {where(url)} answered HTTP {status} "
                                         "without a Location", status=status)
            return location, status
        if status >= 400 or (300 <= status < 400 and status != 304):
            raise http_error(url, status, resp.headers,
                             parse_retry_after(resp.headers.get("Retry-After"),
                                               date=resp.headers.get("Date")))
        body = None if status == 304 else await read_body(url, resp, self.policy.max_bytes)
        h = resp.headers
        return FetchResult(url=str(url), final_url=str(url), status=status, body=body,
                           not_modified=status == 304, etag=h.get("ETag"),
                           last_modified=h.get("Last-Modified"),
                           content_type=h.get("Content-Type"),
                           max_age=parse_max_age(h.get("Cache-Control")), elapsed=0.0)
