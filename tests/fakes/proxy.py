"""A forwarding HTTP proxy on 127.0.0.1 for tests, as a company's would be:

    async with FakeProxy(hosts={"feeds.example.com": "127.0.0.1"}) as proxy:
        ...  # HTTPS_PROXY=proxy.url
        proxy.seen   # [("GET", "http://feeds.example.com:8080/feed.xml"), ("CONNECT", ...)]

It answers CONNECT host:port (a tunnel, for https:// and wss://) and absolute-URI
requests (`GET http://host/path`, for http:// and ws://, upgrades included), looking
names up in `hosts` only: a name it does not know is a 502, as a real proxy's DNS
failure is, so a client that went around the proxy cannot pass for one that went
through it. `credentials=("user", "password")` makes it answer 407 without them.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
from urllib.parse import urlsplit

from feeds.proxy import Proxies, Proxy, parse_no_proxy, parse_proxy

HOP_HEADERS = ("proxy-authorization", "proxy-connection")


class FakeProxy:
    def __init__(self, hosts: dict[str, str] | None = None,
                 credentials: tuple[str, str] | None = None):
        self.hosts = {"127.0.0.1": "127.0.0.1", **(hosts or {})}
        self.credentials = credentials
        self.seen: list[tuple[str, str]] = []    # (method, target) of every request
        self.refused: list[str] = []             # targets answered 407
        self._server: asyncio.Server | None = None
        self.port = 0
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> "FakeProxy":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop listening (a proxy gone down); safe to call twice."""
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def url(self, user: str = "", password: str = "") -> str:
        userinfo = f"{user}:{password}@" if user else ""
        return f"http://{userinfo}127.0.0.1:{self.port}"

    def targets(self, method: str | None = None) -> list[str]:
        return [t for m, t in self.seen if method in (None, m)]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.add(task := asyncio.current_task())
        try:
            await self._one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
        method, target, version = request_line.split(" ")
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines]
        self.seen.append((method, target))
        if not self._authorized(dict((k.lower(), v) for k, v in headers)):
            self.refused.append(target)
            return await _answer(writer, "407 Proxy Authentication Required",
                                 'Proxy-Authenticate: Basic realm="corp"\r\n')
        host, port, path = _target(method, target)
        try:
            up_reader, up_writer = await asyncio.open_connection(self.hosts[host], port)
        except (KeyError, OSError):
            return await _answer(writer, "502 Bad Gateway")
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            up_writer.write(_forwarded(method, path, version, headers))
        await _pipe(reader, writer, up_reader, up_writer)

    def _authorized(self, headers: dict[str, str]) -> bool:
        if self.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return headers.get("proxy-authorization") == f"Basic {expected}"


def proxies_at(url: str, no_proxy: str = "") -> Proxies:
    """Settings.proxies as HTTP_PROXY and HTTPS_PROXY set to `url` make them."""
    url = parse_proxy(url)
    return Proxies(http=Proxy(url, "HTTP_PROXY"), https=Proxy(url, "HTTPS_PROXY"),
                   no_proxy=parse_no_proxy(no_proxy))


def _target(method: str, target: str) -> tuple[str, int, str]:
    if method == "CONNECT":
        host, _, port = target.rpartition(":")
        return host.strip("[]"), int(port), ""
    parts = urlsplit(target)
    default = 443 if parts.scheme in ("https", "wss") else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, parts.port or default, path


def _forwarded(method: str, path: str, version: str, headers: list[tuple[str, ...]]) -> bytes:
    """The request as the origin gets it: origin-form, no proxy headers; one request
    per connection (Connection: close) unless it is an upgrade (a websocket)."""
    kept = [(k, v) for k, v in headers if k.lower() not in HOP_HEADERS]
    if not any(k.lower() == "upgrade" for k, _ in kept):
        kept = [(k, v) for k, v in kept if k.lower() != "connection"] + [("Connection", "close")]
    lines = [f"{method} {path} {version}"] + [f"{k}: {v}" for k, v in kept]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _answer(writer: asyncio.StreamWriter, status: str, extra: str = "") -> None:
    writer.write(f"HTTP/1.1 {status}\r\n{extra}Content-Length: 0\r\n"
                 "Connection: close\r\n\r\n".encode())
    await writer.drain()


async def _pipe(reader, writer, up_reader, up_writer) -> None:
    """Both directions until either side closes."""
    async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        with contextlib.suppress(OSError, RuntimeError):
            dst.write_eof()
    tasks = [asyncio.ensure_future(copy(reader, up_writer)),
             asyncio.ensure_future(copy(up_reader, writer))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        up_writer.close()
