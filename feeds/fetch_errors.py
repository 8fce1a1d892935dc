"""The fetcher's failures as one-liners: aiohttp's exceptions -> FetchError.

Every message names the component ("fetcher:") and the host as `where` spells it, so a
feed's failure reads the same in logs, in `ainews feeds` and in the admin's notice.
"""
from __future__ import annotations

import aiohttp
from yarl import URL

from feeds.guard import FetchError
from feeds.proxy import Proxy

__all__ = ["client_error", "proxy_refused", "where"]


def where(url: URL) -> str:
    """The host as messages show it; the port only when it is not the default."""
    host = url.host or "?"
    return f"{host}:{url.port}" if url.explicit_port and not url.is_default_port() else host


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
        return FetchError("connect", f"fetcher: {host} sent a broken body ({e})")
    if isinstance(e, aiohttp.ClientResponseError):
        # A response aiohttp could not read (headers too large, a bad status line). Its
        # str() appends the whole request URL, query and all (a private feed's token):
        # messages name the host only.
        return FetchError("connect", f"fetcher: {host} sent a malformed response "
                                     f"({e.message})")
    return FetchError("connect", f"fetcher: {host}: connection failed "
                                 f"({type(e).__name__}: {e})")


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
    err = getattr(e, "certificate_error", None) or getattr(e, "os_error", None) or e
    if getattr(err, "verify_message", None):
        return f"certificate verify failed: {err.verify_message}"
    code = getattr(err, "reason", None)   # e.g. WRONG_VERSION_NUMBER
    return code.replace("_", " ").lower() if isinstance(code, str) else str(err)
