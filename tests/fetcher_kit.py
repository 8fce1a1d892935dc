"""Shared pieces of the fetcher tests: the local feed server with one cached feed, a
fetcher allowed to reach loopback, a resolver sending every name there, one answering
from a table, a policy through the fake proxy (tests/fakes/proxy.py), and the
FetchError a fetch ends with. Modules declare
`server = pytest.fixture(feed_server, name="server")` and the like."""
from __future__ import annotations

import socket
from datetime import datetime, timezone

import pytest
from aiohttp.abc import AbstractResolver

from feeds.fetcher import FetchError, Fetcher, FetchPolicy
from tests.fakes.proxy import proxies_at
from tests.fakes.feedserver import FeedServer, make_entries, make_rss
from tests.fakes.tls import company_signed


FEED = make_rss("Example AI News", make_entries(20, paragraphs=8))


async def feed_server():
    """The `server` fixture: a FeedServer with /feed.xml, cacheable for five minutes."""
    async with FeedServer() as srv:
        srv.add("/feed.xml", FEED, headers={"Cache-Control": "public, max-age=300"},
                last_modified=datetime(2026, 11, 20, 12, tzinfo=timezone.utc))
        yield srv


async def tls_server():
    """The `tls_server` fixture: `feed_server` over https, its certificate signed by
    a company CA (tests/fakes/tls.py's COMPANY_CA)."""
    async with FeedServer(ssl_context=company_signed()) as srv:
        srv.add("/feed.xml", FEED)
        yield srv


async def loopback_fetcher():
    async with Fetcher(FetchPolicy(allow_private=True)) as f:
        yield f


def policy(**kw) -> FetchPolicy:
    return FetchPolicy(allow_private=True, **kw)


class LoopbackDNS(AbstractResolver):
    """Resolves every name to 127.0.0.1, so tests can use many host names."""

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [{"hostname": host, "host": "127.0.0.1", "port": port,
                 "family": socket.AF_INET, "proto": 0, "flags": 0}]

    async def close(self):
        pass


class FakeDNS(AbstractResolver):
    """A DNS that answers from a table: name -> list of addresses. FakeDNS({}) knows no
    name, as on a network where only the proxy reaches the internet."""

    def __init__(self, table: dict[str, list[str]]):
        self.table = table
        self.closed = False

    async def resolve(self, host, port=0, family=socket.AF_INET):
        if host not in self.table:
            raise OSError(f"no such host {host}")
        return [{"hostname": host, "host": a, "port": port, "proto": 0, "flags": 0,
                 "family": socket.AF_INET6 if ":" in a else socket.AF_INET}
                for a in self.table[host]]

    async def close(self):
        self.closed = True


def through(proxy_url: str, *, no_proxy: str = "", **kw) -> FetchPolicy:
    """A policy sending http:// and https:// through the proxy at `proxy_url`, as
    HTTP_PROXY and HTTPS_PROXY set to it would."""
    return FetchPolicy(proxies=proxies_at(proxy_url, no_proxy), **kw)


async def fetch_error(fetcher: Fetcher, url: str, **kw) -> FetchError:
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(url, **kw)
    return info.value
