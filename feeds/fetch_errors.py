"""The fetcher's failures as one-liners: aiohttp's exceptions and HTTP error statuses
-> FetchError.

Every message names the component ("fetcher:") and the host as `where` spells it, so a
feed's failure reads the same in logs, in `ainews feeds` and in the admin's notice.
"""
from __future__ import annotations

import re

import aiohttp
from yarl import URL

from feeds.guard import FetchError
from feeds.proxy import Proxy
from feeds.tls import tls_reason

__all__ = ["client_error", "http_error", "proxy_refused", "where"]


def where(url: URL) -> str:
    """The host as messages show it; the port only when it is not the default. An IPv6
    address in brackets, as in a URL: "2001:db8::1:8080" hides which part is the port."""
    host = url.host or "?"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{url.port}" if url.explicit_port and not url.is_default_port() else host


# Headers only a bot wall sends (a challenge, a CAPTCHA, a block), at any status...
WALL_HEADERS = (("cf-mitigated", "Cloudflare"), ("x-amzn-waf-action", "AWS WAF"),
                ("x-vercel-mitigated", "Vercel"), ("x-sucuri-block", "Sucuri"))
# ... and the marks of an edge that answers 403 itself when its bot filter blocks: a
# header it adds to every answer (Imperva's X-Iinfo, DataDome's "X-DataDome: protected")
# or its Server. Its 404s, 410s and 502s are the site's: only a 403 is taken for a wall.
EDGE_HEADERS = (("x-datadome", "DataDome"), ("x-iinfo", "Imperva"))
WALL_SERVERS = (("cloudflare", "Cloudflare"), ("akamaighost", "Akamai"),
                ("datadome", "DataDome"), ("sucuri", "Sucuri"))
MEANING = {
    410: "gone: the site says the feed was removed for good",
    451: "unavailable for legal reasons: the site refuses readers where the bot runs",
}


def http_error(url: URL, status: int, headers, retry_after: float | None) -> FetchError:
    """An HTTP error status as a one-liner, with what the site meant when it is clear: a
    bare "answered HTTP 403" from a bot wall read as a broken URL or a broken bot."""
    wall = _bot_wall(status, headers)
    meaning = (f"the site's bot protection ({wall}) turned the bot away: ask the site to "
               "let it read the feed, or follow another") if wall else MEANING.get(status)
    return FetchError("http", f"fetcher: {where(url)} answered HTTP {status}"
                              + (f": {meaning}" if meaning else ""),
                      status=status, retry_after=retry_after)


def _bot_wall(status: int, headers) -> str | None:
    wall = next((vendor for name, vendor in WALL_HEADERS if name in headers), None)
    if wall or status != 403:
        return wall
    server = headers.get("Server", "").lower()
    return next((vendor for name, vendor in EDGE_HEADERS if name in headers), None) or \
        next((vendor for word, vendor in WALL_SERVERS if word in server), None)


def client_error(url: URL, e: aiohttp.ClientError, proxy: Proxy | None = None) -> FetchError:
    """Translate an aiohttp exception into a one-line FetchError; through `proxy`, one
    about reaching the proxy names it (host:port, never its credentials)."""
    host = where(url)
    if isinstance(e.__cause__, FetchError):
        return e.__cause__
    if proxy is not None and (said := _proxy_error(url, e, proxy)) is not None:
        return said
    if isinstance(e, aiohttp.ClientConnectorDNSError):
        return FetchError("dns", f"fetcher: {host}: DNS lookup failed")
    if isinstance(e, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
        return FetchError("tls", f"fetcher: {host}: TLS handshake failed ({_tls_reason(e)})")
    if isinstance(e, aiohttp.ClientConnectorError):
        return FetchError("connect", f"fetcher: {host}: could not connect "
                                     f"({_connect_reason(e.os_error)})")
    if isinstance(e, aiohttp.InvalidURL):
        return FetchError("invalid-url", f"fetcher: {url} is not a valid URL")
    if isinstance(e, aiohttp.ClientPayloadError):
        return FetchError("connect", f"fetcher: {host} sent a body cut short "
                                     f"({_cut_short(e)})")
    if isinstance(e, aiohttp.ClientResponseError):
        # A response aiohttp could not read (headers too large, a bad status line). Its
        # str() appends the whole request URL, query and all (a private feed's token):
        # messages name the host only.
        return FetchError("connect", f"fetcher: {host} sent a malformed response "
                                     f"({_first_line(e.message)})")
    return FetchError("connect", f"fetcher: {host}: connection failed "
                                 f"({type(e).__name__}: {e})")


def _cut_short(e: aiohttp.ClientPayloadError) -> str:
    """aiohttp's "Response payload is not completed: <ContentLengthError: 400, message=
    '...'>" in words."""
    text = str(getattr(e.__cause__, "message", None) or e)
    if m := re.search(r"received (\d+) of (\d+) bytes", text):
        return (f"the connection closed after {m[1]} of the {m[2]} bytes its Content-Length "
                "announced")
    if "transfer length" in text:
        return "the connection closed before its last chunk"
    if "content length" in text.lower():   # aiohttp before 3.11 gives no counts
        return "the connection closed before all the bytes its Content-Length announced"
    return _first_line(text)


def _first_line(message: str) -> str:
    """A parse error's first line: the rest quotes the bytes and draws a caret under them."""
    return str(message).strip().splitlines()[0].rstrip(" :.") if str(message).strip() else "?"


def proxy_refused(proxy: Proxy) -> FetchError:
    """A 407 (Proxy Authentication Required): every feed through the proxy fails alike,
    so it is the bot's own network trouble ("connect"), no feed's failure to count."""
    if proxy.has_credentials:
        return FetchError("connect", f"fetcher: proxy {proxy.where} refused the credentials "
                                     f"in {proxy.setting} (HTTP 407 Proxy Authentication "
                                     "Required); check the user and password there")
    return FetchError("connect", f"fetcher: proxy {proxy.where} asks for credentials (HTTP "
                                 "407 Proxy Authentication Required); add the user and "
                                 f"password to {proxy.setting}")


def _proxy_error(url: URL, e: aiohttp.ClientError, proxy: Proxy) -> FetchError | None:
    """Through a proxy aiohttp resolves and connects to the proxy only, so a DNS or
    connect error is the proxy's; TLS errors are the target's (inside the tunnel)."""
    if isinstance(e, aiohttp.ClientHttpProxyError):   # CONNECT answered with an error
        if e.status == 407:
            return proxy_refused(proxy)
        return FetchError("http", f"fetcher: proxy {proxy.where} would not connect to "
                                  f"{where(url)} (HTTP {e.status} {e.message})", status=e.status)
    if isinstance(e, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
        return None
    if isinstance(e, aiohttp.ClientConnectorDNSError):
        return FetchError("connect", f"fetcher: proxy {proxy.where}: DNS lookup failed "
                                     f"(check {proxy.setting})")
    if isinstance(e, aiohttp.ClientConnectorError):
        if isinstance(e.os_error, ConnectionRefusedError):
            return FetchError("connect", f"fetcher: proxy {proxy.where} refused the "
                                         f"connection (check {proxy.setting})")
        return FetchError("connect", f"fetcher: proxy {proxy.where}: could not connect "
                                     f"({_connect_reason(e.os_error)})")
    return None


def _connect_reason(os_error: OSError) -> str:
    if isinstance(os_error, ConnectionRefusedError):
        return "connection refused"
    return os_error.strerror or type(os_error).__name__


def _tls_reason(e: aiohttp.ClientError) -> str:
    """The short part of an SSL error: "certificate verify failed: ...", "WRONG_VERSION..."."""
    return tls_reason(e) or str(getattr(e, "certificate_error", None)
                                or getattr(e, "os_error", None) or e)
