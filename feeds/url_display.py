"""URLs as people see them: a story's link with its host as browsers show it (shown_url),
a URL found in feed or LLM text as where it goes (target_url), a link fit for a chat
link or button (link_url). A host in another script is spelt as DNS looks it up, so a
lookalike ("pаypal.com", a Cyrillic "а") never passes for the site it imitates."""
from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from feeds.urls import ascii_netloc, dns_host


def shown_url(url: str) -> str:
    """`url` as text for people: a host in another script in punycode, as browsers show
    it, so "https://pаypal.com/login" (a Cyrillic "а") does not pass for PayPal's; a
    URL urllib can't split comes back as it is. A port no one's site has is no reason
    to show the host as written: ascii_netloc keeps the port as it came."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.netloc.isascii():
        return url
    try:
        netloc = ascii_netloc(parts.netloc)
    except UnicodeError:             # not a name DNS could hold: no one's site either
        netloc = quote(parts.netloc, safe="@:[]")
    return urlunsplit(parts._replace(netloc=netloc))


# A URL's scheme and authority as browsers read them (WHATWG URL): the authority ends at
# the first "/", "\\", "?" or "#", its host after the last "@" in it. A host decoded from
# %-escapes that holds what no host may (WHATWG's forbidden code points) is no address.
_AUTHORITY = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/\\?#]*)")
_HOST_CHARS = re.compile(r"[^\x00-\x20#%/:<>?@\[\\\]^|\x7f]+")


def target_url(url: str) -> str:
    """A URL found in feed or LLM text, as text that reads as where it goes: no user part
    ("https://paypal.com@evil.example/login" goes to evil.example), the host as DNS
    spells it ("https://pаypal.com" with a Cyrillic "а" is xn--pypal-4ve.com, and
    "paypal.com%2Eevil.example" is a host of evil.example), as canonical_url and
    shown_url make a story's own link. The rest is left as written."""
    m = _AUTHORITY.match(url)
    if not m:
        return url
    scheme, authority = m.groups()
    host_port = authority.rpartition("@")[2]
    if host_port == authority and host_port.isascii() and "%" not in host_port:
        return url
    host, colon, port = host_port.partition(":")    # an IDN host is no [IPv6] literal
    if "%" in host and _HOST_CHARS.fullmatch(unquote(host)):
        host = unquote(host)      # browsers look a host up %-decoded
    if not host.isascii():
        try:
            host = dns_host(host)
        except UnicodeError:      # not a name DNS could hold: shown escaped, as shown_url does
            host = quote(host, safe="")
    return f"{scheme}{host}{colon}{port}{url[m.end():]}"


# What a URL may already hold; anything else (spaces, <, >, |, raw non-ASCII) is %-escaped.
_LINK_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


def link_url(url: str, max_len: int) -> str | None:
    """`url` fit for a chat link or button: http(s) with a host, an IDN host in punycode
    (as browsers: straße.de is not strasse.de), the rest %-escaped (Discord refuses raw
    spaces or non-ASCII, Slack reads < > | as markup); None for any other URL, or one
    longer than the platform's `max_len`."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    try:
        netloc = ascii_netloc(parts.netloc)
    except UnicodeError:
        return None
    quoted = quote(urlunsplit(parts._replace(netloc=netloc)), safe=_LINK_SAFE)
    return quoted if len(quoted) <= max_len else None
