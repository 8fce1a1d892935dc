"""The soak's feed fleet: many feeds on the local feed server, some of them hostile.

Feeds are spread over several loopback addresses (127.0.0.1, 127.0.0.2, ...) because
the fetcher limits requests per host, as it would across real outlets. Each feed is one
route answering either its RSS (ETag and conditional GET honoured) or, inside its fault
window, the fault: timeouts, 500s, 429 with Retry-After, redirect loops, oversized
and gzip-bomb bodies, truncated XML, entity bombs, HTML instead of XML, 404/410.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import time
import zlib
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

from soak_stories import StoryEntry
from tests.fakes.feedserver import RSS_TYPE, FeedServer, make_rss

# kind -> the FetchError/ParseError kind the bot should record for it ("" = may parse).
FAULT_KINDS = {
    "timeout": "timeout", "http-500": "http", "http-429": "http",
    "redirect-loop": "redirects", "oversized": "too-large", "oversized-declared": "too-large",
    "gzip-bomb": "too-large", "truncated": "", "entity-bomb": "", "html": "not-a-feed",
    "gone-404": "http", "gone-410": "http",
}
TIMEOUT_DELAY = 20.0          # the fetcher gives up after 15 s
OVERSIZE = 11 * 1024 * 1024   # the fetcher's cap is 10 MiB
ENTITY_BOMB = (b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
               + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&%s;" % bytes([97 + i])) * 10)
                          for i in range(9))
               + b']>\n<rss version="2.0"><channel><title>&j;</title>'
                 b"<item><title>&j;</title></item></channel></rss>\n")
HTML_PAGE = (b"<!doctype html><html><head><title>Outlet</title></head><body><h1>Moved</h1>"
             b"<p>Our newsroom has a new website.</p></body></html>")


@dataclass
class Fault:
    kind: str
    start: float                  # seconds into the run
    end: float | None = None      # None: for good (a feed that is gone stays gone)
    preseeded: bool = False       # had 9 failures before the soak: the next one pauses it

    def on(self, t: float) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


@dataclass
class Feed:
    no: int
    path: str
    url: str = ""
    entries: deque = field(default_factory=lambda: deque(maxlen=20))
    faults: list[Fault] = field(default_factory=list)
    body: bytes = b""
    etag: str = ""
    requests: int = 0

    @property
    def name(self) -> str:
        return f"Outlet {self.no:03d}"

    def fault_at(self, t: float) -> Fault | None:
        return next((f for f in self.faults if f.on(t)), None)

    def clean_until(self, t: float) -> bool:
        """No fault before `t`: a fault leaves the feed in backoff for a while, so an
        entry counts as "should be posted" only on a feed that stays clean meanwhile."""
        return not any(f.start <= t for f in self.faults)

    def render(self) -> None:
        items = [e.rss_entry(self.no) for e in self.entries]
        self.body = make_rss(self.name, items, link=f"https://outlet{self.no:03d}.example.com/")
        self.etag = '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


class FeedFleet:
    def __init__(self, n_feeds: int, hosts: int = 8):
        self.feeds = [Feed(i, f"/feeds/{i:03d}.xml") for i in range(n_feeds)]
        self.hosts = hosts
        self.servers: list[FeedServer] = []
        self.t0 = time.monotonic()
        self.fault_hits: dict[str, int] = {}

    def now(self) -> float:
        return time.monotonic() - self.t0

    async def start(self) -> None:
        handlers: dict = {}
        for k in range(self.hosts):
            srv = FeedServer(host=f"127.0.0.{k + 1}")
            srv.handlers = handlers               # every address serves every feed
            srv.requests = deque(maxlen=1000)     # bounded: the soak runs for long
            await srv.start()
            self.servers.append(srv)
        for feed in self.feeds:
            srv = self.servers[feed.no % self.hosts]
            feed.url = srv.url(feed.path)
            feed.render()
            handlers[feed.path] = functools.partial(self._serve, feed)

    async def stop(self) -> None:
        for srv in self.servers:
            await srv.stop()

    def publish(self, feed: Feed, entry: StoryEntry) -> None:
        feed.entries.appendleft(entry)
        feed.render()

    # ---- serving -----------------------------------------------------------------
    async def _serve(self, feed: Feed, request: web.Request) -> web.StreamResponse:
        feed.requests += 1
        fault = feed.fault_at(self.now())
        if fault is None:
            return self._ok(feed, request)
        self.fault_hits[fault.kind] = self.fault_hits.get(fault.kind, 0) + 1
        return await FAULTS[fault.kind](self, feed, request)

    @staticmethod
    def _ok(feed: Feed, request: web.Request) -> web.Response:
        headers = {"ETag": feed.etag}
        inm = request.headers.get("If-None-Match", "")
        if feed.etag in [t.strip() for t in inm.split(",")]:
            return web.Response(status=304, headers=headers)
        return web.Response(body=feed.body, headers={**headers, "Content-Type": RSS_TYPE})

    async def _timeout(self, feed: Feed, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(TIMEOUT_DELAY)
        return self._ok(feed, request)

    async def _redirect_loop(self, feed: Feed, request: web.Request) -> web.Response:
        target = feed.path if "hop" in request.query else feed.path + "?hop=1"
        return web.Response(status=302, headers={"Location": target})

    async def _oversized(self, feed: Feed, request: web.Request, *,
                         declared: bool = False) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        if declared:
            resp.content_length = OVERSIZE
        await resp.prepare(request)
        block, sent = b"<!-- padding -->" * 4096, 0
        try:
            while sent < OVERSIZE:
                await resp.write(block)
                sent += len(block)
            await resp.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass                                   # the client hung up at its cap
        return resp

    async def _plain(self, status: int, body: bytes, content_type: str = "text/plain",
                     **headers) -> web.Response:
        return web.Response(status=status, body=body,
                            headers={"Content-Type": content_type, **headers})


def _gzip_bomb(size: int = 64 * 1024 * 1024) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    return b"".join(z.compress(block) for _ in range(size // len(block))) + z.flush()


@functools.lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    return _gzip_bomb()


FAULTS = {
    "timeout": FeedFleet._timeout,
    "http-500": lambda s, f, r: s._plain(500, b"internal error"),
    "http-429": lambda s, f, r: s._plain(429, b"slow down", **{"Retry-After": "20"}),
    "redirect-loop": FeedFleet._redirect_loop,
    "oversized": FeedFleet._oversized,
    "oversized-declared": functools.partial(FeedFleet._oversized, declared=True),
    "gzip-bomb": lambda s, f, r: s._plain(200, gzip_bomb(), RSS_TYPE,
                                          **{"Content-Encoding": "gzip"}),
    "truncated": lambda s, f, r: s._plain(200, f.body[: len(f.body) // 2], RSS_TYPE),
    "entity-bomb": lambda s, f, r: s._plain(200, ENTITY_BOMB, RSS_TYPE),
    "html": lambda s, f, r: s._plain(200, HTML_PAGE, "text/html; charset=utf-8"),
    "gone-404": lambda s, f, r: s._plain(404, b"not found"),
    "gone-410": lambda s, f, r: s._plain(410, b"gone"),
}
