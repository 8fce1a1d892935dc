"""The key dedupe knows a story's link by: one spelling of each address.

canonical_url keeps a link's path and query byte for byte (a story's id comes from it,
and another spelling would give stored stories new ids), so the same article listed
raw by one feed (/café, /~bob) and %-escaped by another or by a later poll (/caf%C3%A9,
/caf%c3%a9, /%7Ebob) had two links and was stored, and posted, twice. These are one
address (RFC 3986 6.2.2): the key writes each as a URI in its normal form, escapes of
unreserved characters (letters, digits, - . _ ~) decoded, every other escape in upper
case, a character a URI cannot hold (é, 阿, a space) as its UTF-8 bytes escaped, and a
host in punycode. An escape that changes the address (%2F is no /, %3F no ?) stays.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from feeds.urls import ascii_netloc

__all__ = ["link_key"]

# Characters a URI holds as they are (RFC 3986 unreserved and reserved): a link of
# these alone, without escapes, is its own key (most links).
_PLAIN = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]*")
_RESERVED = ":/?#[]@!$&'()*+,;="
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_AUTHORITY = re.compile(r"[a-z]+://[^/?#]*")


def link_key(url: str) -> str:
    """`url` (as canonical_url spells it) in the spelling dedupe compares."""
    if _PLAIN.fullmatch(url):
        return url
    m = _AUTHORITY.match(url)
    head, rest = (m.group(0), url[m.end():]) if m else ("", url)
    if head and not head.isascii():
        scheme, _, netloc = head.partition("://")
        try:
            head = f"{scheme}://{ascii_netloc(netloc)}"
        except UnicodeError:    # no DNS could hold it: compared as written
            pass
    return head + _ESCAPE.sub(_normal_escape, quote(rest, safe=_RESERVED + "%"))


def _normal_escape(m: re.Match) -> str:
    char = chr(int(m.group(1), 16))
    return char if char in _UNRESERVED else "%" + m.group(1).upper()
