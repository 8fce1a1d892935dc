"""Proxies: which HTTP proxy, if any, a request to a URL goes through.

The standard variables, as curl and Python's urllib read them (bot/config.py reads them
once; nothing here reads the environment): HTTPS_PROXY for https:// and wss:// URLs,
HTTP_PROXY for http:// and ws://, NO_PROXY the hosts reached directly. One Proxies value
decides for every client the bot has (feeds, Discord, Slack, the LLM), so no library's
own reading of the environment (slack_sdk ignores NO_PROXY) makes one differ.

Loopback is never proxied, whatever NO_PROXY says: a proxy's localhost is not ours (a
local Ollama at http://localhost:11434 would be asked of the proxy's machine). Nor is
0.0.0.0, which reaches this machine too.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit


__all__ = ["Proxies", "Proxy", "parse_no_proxy", "parse_proxy"]

SCHEMES = {"https": "https", "wss": "https", "http": "http", "ws": "http"}


@dataclass(frozen=True)
class Proxy:
    # Credentials included (the clients send them as Proxy-Authorization), so not in repr.
    url: str = field(repr=False)
    setting: str        # the variable it came from, named in errors

    @property
    def where(self) -> str:
        """host:port, as an error line names the proxy (never its credentials)."""
        return self.url.rpartition("@")[2].removeprefix("http://").rstrip("/")

    @property
    def shown(self) -> str:
        """The URL as a log line may print it: user:password written as ***."""
        return f"http://{'***@' if self.has_credentials else ''}{self.where}"

    @property
    def has_credentials(self) -> bool:
        return "@" in self.url


@dataclass(frozen=True)
class Proxies:
    http: Proxy | None = None
    https: Proxy | None = None
    no_proxy: tuple[str, ...] = ()   # parse_no_proxy's entries

    def __bool__(self) -> bool:
        return bool(self.http or self.https)

    def for_url(self, url: object) -> Proxy | None:
        """The proxy a request to `url` (a str or yarl URL) goes through, or None:
        straight there."""
        parts = _split(str(url))
        proxy = getattr(self, SCHEMES.get(parts.scheme.lower(), "none"), None)
        if proxy is None or loopback(parts.hostname or "") or self.bypassed(parts):
            return None
        return proxy

    def url_for(self, url: object) -> str | None:
        """for_url's proxy as the clients take it (`proxy=`, credentials included)."""
        proxy = self.for_url(url)
        return proxy.url if proxy is not None else None

    def bypassed(self, parts: SplitResult) -> bool:
        """Whether NO_PROXY names the URL's host: a domain and its subdomains, an
        address, a network (10.0.0.0/8), optionally with :port; `*` names every host."""
        host = (parts.hostname or "").rstrip(".")
        port = _port(parts) or {"http": 80, "ws": 80, "https": 443, "wss": 443}.get(
            parts.scheme.lower())
        return any(_matches(entry, host, port) for entry in self.no_proxy)

    def summary(self) -> str:
        """One start-up line's worth: which proxy for which scheme, and NO_PROXY."""
        parts = [f"{scheme} through {p.shown}" for scheme, p in
                 (("https", self.https), ("http", self.http)) if p is not None]
        direct = ", ".join(self.no_proxy) or "none"
        return f"{'; '.join(parts)} (straight to loopback and NO_PROXY: {direct})"


def parse_proxy(raw: str) -> str:
    """A proxy URL as the clients take it (http://[user:password@]host:port); ValueError
    saying what is wrong. No scheme means http:// (curl's and urllib's reading of
    proxy.corp:3128)."""
    raw = raw.strip()
    if "://" not in raw:
        raw = "http://" + raw
    parts = _split(raw)
    scheme = parts.scheme.lower()
    if not scheme:
        raise ValueError("is not a URL; write it as http://proxy.corp:3128")
    if scheme == "https":
        raise ValueError("must start with http://: a proxy carries https traffic through "
                         "CONNECT, and its own address is http:// (HTTPS proxies are not "
                         "supported)")
    if scheme != "http":
        raise ValueError(f"is a {scheme}:// proxy; only http:// proxies are supported")
    if not parts.hostname or any(c.isspace() for c in raw) or _bad_port(parts):
        raise ValueError("needs a host and port, e.g. http://proxy.corp:3128")
    if "@" in raw[raw.index(parts.netloc) + len(parts.netloc):]:
        raise ValueError("has an '@' after its host, so its password ends early; write "
                         "/ ? # @ in a password as %2F %3F %23 %40")
    # The port written out (80 when none is given, as urllib and httpx read it): every
    # client and every message then names the same one.
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if _port(parts) is None:
        hostport += ":80"
    return f"http://{userinfo + '@' if userinfo else ''}{hostport}"


def parse_no_proxy(raw: str) -> tuple[str, ...]:
    """NO_PROXY's entries, lower case, ".example.com" and "*.example.com" as
    "example.com"; ValueError naming an entry that is a malformed network."""
    entries = []
    for entry in raw.replace(" ", ",").split(","):
        entry = entry.strip().lower().rstrip(".")
        if entry.startswith("*.") or entry.startswith("."):
            entry = entry.lstrip("*").lstrip(".")
        if "/" in entry:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"entry {entry!r} is not a network "
                                 "(e.g. 10.0.0.0/8)") from None
        if entry:
            entries.append(entry)
    return tuple(entries)


def _matches(entry: str, host: str, port: int | None) -> bool:
    if entry == "*":
        return True
    name, _, entry_port = _split_port(entry)
    if entry_port and entry_port != str(port):
        return False
    address = _address(host)
    if "/" in name:
        net = ipaddress.ip_network(name, strict=False)
        return address is not None and address.version == net.version and address in net
    if address is not None or _address(name) is not None:
        return address is not None and address == _address(name)
    return host == name or host.endswith("." + name)


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError:   # "http://[::1": no host anyone could reach
        return urlsplit("")


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def _bad_port(parts: SplitResult) -> bool:
    """A port written but not a number from 1 to 65535 ("proxy:abc", "proxy:0")."""
    hostport = parts.netloc.rpartition("@")[2]
    written = hostport.rpartition("]")[2] if hostport.startswith("[") else hostport
    return ":" in written and not _port(parts)


def _split_port(entry: str) -> tuple[str, str, str]:
    """"host:port", "[::1]:8080", "::1" (an address, no port) apart."""
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        return name, ":", rest.lstrip(":")
    if entry.count(":") == 1:
        return entry.partition(":")
    return entry, "", ""


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def loopback(host: str) -> bool:
    """Whether `host` is this machine however written: as the guard reads addresses
    (127.1, ::ffff:127.0.0.1), and 0.0.0.0 or ::, which reach this machine (Ollama's
    OLLAMA_HOST=0.0.0.0 is often copied into LLM_BASE_URL)."""
    # Imported here: the guard loads aiohttp, and settings (which read the proxies) are
    # loaded by every command, `ainews latest` too, which needs no HTTP client.
    from feeds.guard import LOCAL_NAMES, literal_ip
    host = host.rstrip(".").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    address = literal_ip(host)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped   # is_loopback is False for it before Python 3.13
    return address is not None and (address.is_loopback or address.is_unspecified)
