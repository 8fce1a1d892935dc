"""A local feed server on 127.0.0.1 for tests, benchmarks and the soak test.

    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Example AI", make_entries(20)))
        srv.script("/flaky.xml", [Reply(500), Reply(500), Reply(200, body)])
        srv.add_redirect("/old", "/feed.xml")
        url = srv.url("/feed.xml")
        ...
        srv.requests_for("/feed.xml")[-1].headers["If-None-Match"]

Every route answers from a list of `Reply`s, one per request, the last one repeating.
Conditional GET (ETag / Last-Modified -> 304) is honoured unless `conditional=False`
(per route) or `srv.honour_conditional = False` (server-wide). `srv.latency` adds a
delay to every request; `srv.max_in_flight` is the most requests handled at once.
Special routes: a gzip bomb, an endless or oversized streaming body (with
`srv.streams[path]` telling how much was sent and whether the client hung up), a slow
route, and an HTML page linking to its feed.

Also a separate process for subprocess tests; it serves DIR and prints its base URL
on the first line of stdout:  python -m tests.fakes.feedserver --dir DIR --port 0
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import gzip
import hashlib
import mimetypes
import random
import ssl
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


@dataclass
class Reply:
    """One scripted response. `etag=True` derives a strong ETag from the body."""
    status: int = 200
    body: bytes | str = b""
    content_type: str = RSS_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | bool | None = True
    last_modified: datetime | str | None = None
    gzip: bool = False
    latency: float = 0.0
    conditional: bool = True

    @property
    def data(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body

    def etag_value(self) -> str | None:
        if self.etag is True:
            return '"' + hashlib.sha1(self.data).hexdigest()[:16] + '"'
        return self.etag or None

    def last_modified_value(self) -> str | None:
        lm = self.last_modified
        return format_datetime(lm, usegmt=True) if isinstance(lm, datetime) else lm


@dataclass
class Logged:
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class StreamStats:
    """What a streaming route sent: the client hanging up early sets `aborted`."""
    sent: int = 0
    completed: bool = False
    aborted: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class FeedServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 ssl_context: ssl.SSLContext | None = None):
        self.host, self.port = host, port
        self.ssl_context = ssl_context   # https: see tests/fetcher_kit.py's tls_server
        self.routes: dict[str, list[Reply]] = {}
        self.handlers: dict[str, object] = {}
        self.requests: list[Logged] = []
        self.streams: dict[str, StreamStats] = {}
        self.honour_conditional = True
        self.latency = 0.0
        self.in_flight = self.max_in_flight = 0
        self.directory: Path | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> "FeedServer":
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # Slow routes must not hold up stop(): pending handlers are cut short.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FeedServer":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl_context else 'http'}://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- registering routes ----------------------------------------------------
    def add(self, path: str, body: bytes | str, *, content_type: str = RSS_TYPE,
            **reply) -> Reply:
        """A static route; keyword arguments are Reply fields (headers, etag, gzip...)."""
        r = Reply(200, body, content_type, **reply)
        self.routes[path] = [r]
        return r

    def script(self, path: str, replies: list[Reply | int]) -> None:
        """Answer successive requests with `replies` (ints are bare statuses)."""
        self.routes[path] = [Reply(r, b"", "text/plain", etag=None) if isinstance(r, int) else r
                             for r in replies]

    def add_redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = [Reply(status, b"", "text/plain", {"Location": location},
                                   etag=None)]

    def add_rate_limited(self, path: str, retry_after: str = "120",
                         status: int = 429) -> None:
        self.routes[path] = [Reply(status, b"slow down", "text/plain",
                                   {"Retry-After": retry_after}, etag=None)]

    def add_slow(self, path: str, delay: float, body: bytes | str = b"") -> None:
        self.routes[path] = [Reply(200, body, latency=delay)]

    def add_gzip_bomb(self, path: str, size: int = 64 * 1024 * 1024) -> None:
        """`size` zero bytes, gzip-compressed to about size/1000 on the wire."""
        self.routes[path] = [Reply(200, _bomb(size), headers={"Content-Encoding": "gzip"},
                                   etag=None)]

    def add_stream(self, path: str, total: int | None = None, *, chunk: int = 64 * 1024,
                   content_length: bool = False, delay: float = 0.0) -> None:
        """A body streamed in chunks (`delay` seconds apart): endless when total is None."""
        self.handlers[path] = functools.partial(self._stream, total=total, chunk=chunk,
                                                content_length=content_length, delay=delay)

    def add_html_with_feed(self, path: str = "/", feed_href: str = "/feed.xml",
                           title: str = "Example AI News") -> None:
        html = (f"<!doctype html><html><head><title>{escape(title)}</title>"
                f'<link rel="alternate" type="application/rss+xml" title="{escape(title)}"'
                f' href="{escape(feed_href)}"></head><body><h1>{escape(title)}</h1>'
                "<p>Latest stories.</p></body></html>")
        self.add(path, html, content_type="text/html; charset=utf-8")

    def serve_dir(self, directory: str | Path) -> None:
        """Serve files under `directory` for paths no route claims."""
        self.directory = Path(directory).resolve()

    def requests_for(self, path: str) -> list[Logged]:
        return [r for r in self.requests if r.path == path]

    # -- handling ----------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        entry = Logged(request.method, request.path, dict(request.headers))
        self.requests.append(entry)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            resp = await self._respond(request)
            entry.status = resp.status
            return resp
        finally:
            self.in_flight -= 1

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        if request.path in self.handlers:
            return await self.handlers[request.path](request)
        replies = self.routes.get(request.path)
        if replies:
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
            return await self._reply(request, reply)
        if self.directory is not None:
            return await self._file(request)
        return web.Response(status=404, text="not found")

    async def _reply(self, request: web.Request, r: Reply) -> web.Response:
        if r.latency:
            await asyncio.sleep(r.latency)
        headers = dict(r.headers)
        etag, lm = r.etag_value(), r.last_modified_value()
        if etag:
            headers["ETag"] = etag
        if lm:
            headers["Last-Modified"] = lm
        if r.status == 200 and self._not_modified(request, r, etag, lm):
            return web.Response(status=304, headers=headers)
        data = r.data
        if r.gzip:
            data, headers["Content-Encoding"] = gzip.compress(data), "gzip"
        headers["Content-Type"] = r.content_type
        return web.Response(status=r.status, body=data, headers=headers)

    def _not_modified(self, request: web.Request, r: Reply, etag, lm) -> bool:
        if not (self.honour_conditional and r.conditional):
            return False
        inm = request.headers.get("If-None-Match")
        if inm is not None:
            return bool(etag) and etag in [t.strip() for t in inm.split(",")]
        ims = request.headers.get("If-Modified-Since")
        if ims and lm:
            try:
                return parsedate_to_datetime(lm) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False

    async def _stream(self, request: web.Request, *, total: int | None, chunk: int,
                      content_length: bool, delay: float) -> web.StreamResponse:
        stats = self.streams[request.path] = StreamStats()
        resp = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        if content_length and total is not None:
            resp.content_length = total
        block = b"<!-- padding -->" * (chunk // 16)
        try:
            await resp.prepare(request)
            while total is None or stats.sent < total:
                part = block if total is None else block[: total - stats.sent]
                await resp.write(part)
                stats.sent += len(part)
                if delay:
                    await asyncio.sleep(delay)
            await resp.write_eof()
            stats.completed = True
        except (ConnectionError, asyncio.CancelledError):
            stats.aborted = True
        finally:
            stats.done.set()
        return resp

    async def _file(self, request: web.Request) -> web.StreamResponse:
        target = (self.directory / request.path.lstrip("/")).resolve()
        if not target.is_file() or self.directory not in target.parents:
            return web.Response(status=404, text="not found")
        mtime = datetime.fromtimestamp(int(target.stat().st_mtime), timezone.utc)
        # Re-read on every request: the soak test rewrites files while serving.
        reply = Reply(200, target.read_bytes(), _file_type(target), last_modified=mtime)
        return await self._reply(request, reply)


def _file_type(path: Path) -> str:
    if path.suffix in (".xml", ".rss"):
        return "application/xml"
    if path.suffix == ".atom":
        return "application/atom+xml"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class RawServer:
    """Answers every connection with the same raw bytes: responses aiohttp's own server
    refuses to write (control characters in a header, a bad status line, huge headers).

        async with RawServer(b"HTTP/1.1 302 Found\\r\\nLocation: ...\\r\\n\\r\\n") as raw:
            await fetcher.fetch(raw.url("/feed.xml"))
    """

    def __init__(self, response: bytes):
        self.response = response
        self.port = 0
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> "RawServer":
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.response)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@functools.lru_cache(maxsize=4)
def _bomb(size: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [z.compress(block[: min(len(block), size - i)]) for i in range(0, size, len(block))]
    return b"".join(parts) + z.flush()


# -- realistic synthetic feeds -------------------------------------------------------
COMPANIES = ["Alibaba", "Tencent", "Baidu", "OpenAI", "Google", "Meta", "Microsoft",
             "Anthropic", "Nvidia", "ByteDance", "Mistral AI", "DeepSeek", "Amazon",
             "Huawei", "xAI", "Moonshot AI", "Zhipu AI", "Apple", "AMD", "Samsung"]
_TITLES = [
    "{a} cuts API prices for its flagship model by {pct}%",
    "{a} open-sources a {n}-billion-parameter model to court developers",
    "{a} raises ${m} billion at a ${v} billion valuation",
    "{a} agrees to acquire {b} AI unit for ${m} billion",
    "{a} and {b} sign a multi-year cloud and chips partnership",
    "{a} names new chief scientist as rivalry with {b} heats up",
    "Export controls squeeze {a}'s access to advanced chips",
    "{a} bets on paid enterprise agents as {b} goes open",
]
_SENTENCES = [
    "{a} said on {day} that it would lower prices for developers by as much as {pct}%.",
    "The move puts pressure on {b}, which has kept its most capable models closed.",
    "Analysts at {bank} estimate the company will spend ${m} billion on data centres "
    "this year.",
    "The model, which has {n} billion parameters, will be released under an Apache 2.0 "
    "licence.",
    "{a} shares rose {pct2}% in {market} trading after the announcement.",
    "Regulators in {region} are reviewing the deal, according to people familiar with "
    "the matter.",
    "The company said revenue from its cloud unit grew {pct}% year on year to "
    "${m} billion.",
    "{b} declined to comment on the report.",
    "The partnership gives {a} access to {n},000 accelerators over three years.",
    "Executives described the shift as a bet that distribution matters more than model "
    "size.",
    "Chinese developers have flocked to open-weight models as export controls tighten.",
    "{a} will also offer the model through its cloud marketplace at a discount.",
]
_FILL = {"bank": ["Morgan Stanley", "Goldman Sachs", "Bernstein", "Jefferies", "UBS"],
         "market": ["Hong Kong", "New York", "Shanghai", "pre-market"],
         "region": ["the EU", "the US", "China", "the UK"],
         "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]}


def _fill(template: str, rng: random.Random, a: str, b: str) -> str:
    return template.format(
        a=a, b=b, pct=rng.choice([10, 25, 40, 50, 80, 97]), pct2=rng.randint(1, 12),
        n=rng.choice([7, 14, 32, 72, 110, 235, 480]), m=rng.choice([1.5, 2, 4, 6.6, 10, 40]),
        v=rng.choice([30, 61, 157, 300]), **{k: rng.choice(v) for k, v in _FILL.items()})


def make_entries(n: int, *, seed: int = 0, paragraphs: int = 12,
                 start: datetime | None = None, gap_minutes: float = 45.0,
                 base_url: str = "https://news.example.com") -> list[dict]:
    """`n` realistic AI-industry entries, newest first: title, link, guid, published,
    author, summary (text), content_html (`paragraphs` paragraphs of ~0.4 KB);
    make_rss of 20 default entries is ~95 KB, a typical full-content news feed."""
    rng = random.Random(seed)
    start = start or datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    entries = []
    for i in range(n):
        a, b = rng.sample(COMPANIES, 2)
        title = _fill(rng.choice(_TITLES), rng, a, b)
        paras = [" ".join(_fill(s, rng, a, b) for s in rng.sample(_SENTENCES, 4))
                 for _ in range(paragraphs)]
        slug = "-".join(title.lower().split()[:6]).replace("$", "").replace("'", "")
        entries.append({
            "title": title, "link": f"{base_url}/{2026}/{seed}-{i}-{slug}",
            "guid": f"{base_url}/p/{seed}-{i}", "author": rng.choice(["Staff", "Reuters"]),
            "published": start - timedelta(minutes=gap_minutes * i),
            "summary": paras[0][:280], "content_html": "".join(
                f"<p>{escape(p)}</p>" for p in paras)})
    return entries


def make_rss(title: str, entries: list[dict], *, link: str = "https://news.example.com/",
             ttl: int | None = None) -> bytes:
    """An RSS 2.0 feed of `entries`; an entry whose guid is "" has no <guid>."""
    items = "".join(
        f"<item><title>{escape(e['title'])}</title><link>{escape(e['link'])}</link>"
        + (f"<guid isPermaLink=\"false\">{escape(e['guid'])}</guid>" if e["guid"] else "")
        + f"<pubDate>{format_datetime(e['published'], usegmt=True)}</pubDate>"
        f"<dc:creator>{escape(e['author'])}</dc:creator>"
        f"<description>{escape(e['summary'])}</description>"
        f"<content:encoded><![CDATA[{e['content_html']}]]></content:encoded></item>\n"
        for e in entries)
    ttl_el = f"<ttl>{ttl}</ttl>" if ttl else ""
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{escape(title)}</title><link>{escape(link)}</link>"
            f"<description>{escape(title)}</description>{ttl_el}\n{items}"
            "</channel></rss>\n").encode("utf-8")


def make_atom(title: str, entries: list[dict], *,
              link: str = "https://news.example.com/") -> bytes:
    def iso(d: datetime) -> str:
        return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    updated = iso(entries[0]["published"]) if entries else "2026-01-01T00:00:00Z"
    items = "".join(
        f"<entry><title>{escape(e['title'])}</title><link href=\"{escape(e['link'])}\"/>"
        f"<id>{escape(e['guid'])}</id><published>{iso(e['published'])}</published>"
        f"<updated>{iso(e['published'])}</updated>"
        f"<author><name>{escape(e['author'])}</name></author>"
        f"<summary>{escape(e['summary'])}</summary>"
        f"<content type=\"html\">{escape(e['content_html'])}</content></entry>\n"
        for e in entries)
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><link href=\"{escape(link)}\"/>"
            f"<id>{escape(link)}</id><updated>{updated}</updated>\n{items}</feed>\n"
            ).encode("utf-8")


# -- separate process ----------------------------------------------------------------
async def _serve(directory: str, host: str, port: int) -> None:
    srv = FeedServer(host, port)
    srv.serve_dir(directory)
    await srv.start()
    print(srv.base_url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await srv.stop()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Serve feed files from a directory.")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        asyncio.run(_serve(args.dir, args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
