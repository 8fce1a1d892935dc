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
- Size: `policy.max_bytes` caps both the bytes on the wire and the decompressed body;
  the read is abandoned (connection closed) as soon as either passes the cap, so a
  huge or endless body or a gzip bomb costs at most about twice the cap in memory.
- Redirects are followed here, not by aiohttp, so every hop passes the SSRF guard
  (feeds/guard.py) and loops are reported as such.
- Encodings: gzip and deflate. br is not advertised: the brotli package is not a
  dependency, and its streaming API cannot bound the output of one input chunk.
Every failure is a FetchError with a one-line message naming the component and host.
"""
from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from feeds.guard import FetchError, GuardedResolver, check_url, parse_url

__all__ = ["FetchError", "FetchPolicy", "FetchResult", "Fetcher", "parse_retry_after",
           "parse_max_age"]

log = logging.getLogger("ainews.fetcher")

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    timeout: float = 15.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False
    concurrency: int = 16
    per_host: int = 2
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


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def parse_max_age(cache_control: str | None) -> float | None:
    m = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", cache_control or "", re.I)
    return float(m.group(1)) if m else None


def _where(url: URL) -> str:
    """The host as messages show it; the port only when it is not the default."""
    host = url.host or "?"
    return f"{host}:{url.port}" if url.explicit_port and not url.is_default_port() else host


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    return f"{n / 1024:.3g} KB" if n >= 1024 else f"{n} bytes"


class _Inflater:
    """Streaming gzip/deflate decoder that never produces more than it is allowed to."""

    def __init__(self, encoding: str):
        self.gzip = encoding in ("gzip", "x-gzip")
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS if self.gzip else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode `data`, returning at most `room` bytes (more pending means too large)."""
        out = bytearray()
        while data and len(out) < room:
            try:
                out += self._z.decompress(data, room - len(out))
            except zlib.error:
                if self._started or self.gzip:
                    raise
                # Some servers send raw deflate without the zlib header.
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                out += self._z.decompress(data, room - len(out))
            self._started = True
            data = self._z.unconsumed_tail
            if self._z.eof and self._z.unused_data and self.gzip:
                data, self._z = self._z.unused_data, zlib.decompressobj(16 + zlib.MAX_WBITS)
        return bytes(out)


class Fetcher:
    """Async context manager owning ONE aiohttp session; see the module docstring."""

    def __init__(self, policy: FetchPolicy = FetchPolicy(), *,
                 resolver: AbstractResolver | None = None):
        self.policy = policy
        self._inner_resolver = resolver   # tests inject a fake DNS here
        self._session: aiohttp.ClientSession | None = None
        self._all = asyncio.Semaphore(policy.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> "Fetcher":
        self._ensure_session()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = GuardedResolver(self.policy.allow_private, self._inner_resolver)
            connector = aiohttp.TCPConnector(resolver=resolver, limit=self.policy.concurrency)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # no state shared between feeds
                timeout=aiohttp.ClientTimeout(total=None),  # we time whole fetches
                headers={"User-Agent": self.policy.user_agent,
                         "Accept-Encoding": "gzip, deflate"})
        return self._session

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
        seen = [str(current)]
        for _ in range(self.policy.max_redirects + 1):
            check_url(current, self.policy.allow_private)
            outcome, seconds = await self._hop(current, headers, self.policy.timeout - spent)
            spent += seconds
            if isinstance(outcome, FetchResult):
                outcome.url, outcome.elapsed = url, spent
                log.debug("fetcher: %s -> %s (%.2f s)", url, outcome.status, spent)
                return outcome
            current = self._next_hop(current, outcome, seen)
        raise FetchError("redirects", f"fetcher: {_where(parse_url(url))} redirected more "
                                      f"than {self.policy.max_redirects} times")

    def _next_hop(self, current: URL, location: str, seen: list[str]) -> URL:
        target = current.join(parse_url(location))
        if str(target) in seen:
            raise FetchError("redirects", f"fetcher: {_where(current)} redirected in a loop "
                                          f"(back to {target})")
        seen.append(str(target))
        return target

    def _host_slot(self, url: URL) -> asyncio.Semaphore:
        key = (url.host or "").lower()
        if key not in self._hosts:
            self._hosts[key] = asyncio.Semaphore(self.policy.per_host)
        return self._hosts[key]

    async def _hop(self, url: URL, headers: dict[str, str],
                   budget: float) -> tuple[FetchResult | str, float]:
        """One request: (a FetchResult or a redirect's Location, seconds it took).

        Slots are taken per hop, host first, so a queue for one busy host never holds
        overall slots that fetches from other hosts could use."""
        async with self._host_slot(url), self._all:
            start = time.monotonic()
            try:
                async with asyncio.timeout(max(budget, 0.001)):
                    return await self._request(url, headers), time.monotonic() - start
            except FetchError:
                raise
            except (TimeoutError, asyncio.TimeoutError):
                raise FetchError("timeout", f"fetcher: {_where(url)} timed out after "
                                            f"{self.policy.timeout:g} s") from None
            except aiohttp.ClientError as e:
                raise _client_error(url, e) from e

    async def _request(self, url: URL, headers: dict[str, str]) -> FetchResult | str:
        session = self._ensure_session()
        async with session.get(url, headers=headers, allow_redirects=False) as resp:
            return await self._handle(url, resp)

    async def _handle(self, url: URL, resp: aiohttp.ClientResponse) -> FetchResult | str:
        status = resp.status
        if status in REDIRECTS:
            location = resp.headers.get("Location")
            if not location:
                raise FetchError("http", f"fetcher: {_where(url)} answered HTTP {status} "
                                         "without a Location", status=status)
            return location
        if status >= 400 or (300 <= status < 400 and status != 304):
            raise FetchError("http", f"fetcher: {_where(url)} answered HTTP {status}",
                             status=status,
                             retry_after=parse_retry_after(resp.headers.get("Retry-After")))
        body = None if status == 304 else await self._read_body(url, resp)
        h = resp.headers
        return FetchResult(url=str(url), final_url=str(url), status=status, body=body,
                           not_modified=status == 304, etag=h.get("ETag"),
                           last_modified=h.get("Last-Modified"),
                           content_type=h.get("Content-Type"),
                           max_age=parse_max_age(h.get("Cache-Control")), elapsed=0.0)

    async def _read_body(self, url: URL, resp: aiohttp.ClientResponse) -> bytes:
        cap = self.policy.max_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise self._too_large(url, resp, f"announced a {_size(resp.content_length)} "
                                             "body")
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            resp.close()
            raise FetchError("http", f"fetcher: {_where(url)} sent an unsupported "
                                     f"Content-Encoding: {encoding}")
        inflater = _Inflater(encoding) if encoding not in ("identity", "") else None
        received, body = 0, bytearray()
        async for chunk in resp.content.iter_chunked(CHUNK):
            received += len(chunk)
            if received > cap:
                raise self._too_large(url, resp, f"sent more than {_size(cap)}")
            body += self._decode(url, inflater, chunk, cap + 1 - len(body))
            if len(body) > cap:
                raise self._too_large(url, resp, "sent a body that decompresses to more "
                                                 f"than {_size(cap)}")
        return bytes(body)

    @staticmethod
    def _decode(url: URL, inflater: _Inflater | None, chunk: bytes, room: int) -> bytes:
        if inflater is None:
            return chunk
        try:
            return inflater.feed(chunk, room)
        except zlib.error as e:
            raise FetchError("http", f"fetcher: {_where(url)} sent a corrupt "
                                     f"compressed body ({e})") from None

    def _too_large(self, url: URL, resp: aiohttp.ClientResponse, what: str) -> FetchError:
        resp.close()  # drop the connection now rather than drain the rest
        return FetchError("too-large", f"fetcher: {_where(url)} {what}; the limit is "
                                       f"{_size(self.policy.max_bytes)}")


def _client_error(url: URL, e: aiohttp.ClientError) -> FetchError:
    """Translate an aiohttp exception into a one-line FetchError."""
    where = _where(url)
    if isinstance(e.__cause__, FetchError):
        return e.__cause__
    if isinstance(e, aiohttp.ClientConnectorDNSError):
        return FetchError("dns", f"fetcher: {where}: DNS lookup failed")
    if isinstance(e, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
        return FetchError("tls", f"fetcher: {where}: TLS handshake failed ({_tls_reason(e)})")
    if isinstance(e, aiohttp.ClientConnectorError):
        os_error = e.os_error
        reason = ("connection refused" if isinstance(os_error, ConnectionRefusedError)
                  else os_error.strerror or type(os_error).__name__)
        return FetchError("connect", f"fetcher: {where}: could not connect ({reason})")
    if isinstance(e, aiohttp.InvalidURL):
        return FetchError("invalid-url", f"fetcher: {url} is not a valid URL")
    if isinstance(e, aiohttp.ClientPayloadError):
        return FetchError("connect", f"fetcher: {where} sent a broken body ({e})")
    return FetchError("connect", f"fetcher: {where}: connection failed "
                                 f"({type(e).__name__}: {e})")


def _tls_reason(e: aiohttp.ClientError) -> str:
    """The short part of an SSL error: "certificate verify failed: ...", "WRONG_VERSION..."."""
    err = getattr(e, "certificate_error", None) or getattr(e, "os_error", None) or e
    if getattr(err, "verify_message", None):
        return f"certificate verify failed: {err.verify_message}"
    code = getattr(err, "reason", None)   # e.g. WRONG_VERSION_NUMBER
    return code.replace("_", " ").lower() if isinstance(code, str) else str(err)
