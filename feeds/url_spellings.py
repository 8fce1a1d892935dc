"""The spellings one link has: a Chinese outlet's article address holds its headline,
which the feed may write as characters (阿里巴巴) or %-escaped in either case (%E9%98%BF,
WordPress's %e9%98%bf), a chat post escapes (Discord and Slack refuse raw non-ASCII,
feeds.url_display.link_url), a browser's address bar shows as characters again, and a host in
Chinese in punycode. Each is the same address (RFC 3986 6.2.2, RFC 3987 3.1).

Stored links are not made over into one spelling: a story's id and dedupe key come from
its link as canonical_url spells it, so another spelling would give every stored story of
such a feed a new id (its next poll would post it again). A lookup by a link tries the
few spellings it may be stored under instead, each an index seek.
"""
from __future__ import annotations

import re
from urllib.parse import quote

import idna

from feeds.url_display import _LINK_SAFE
from feeds.urls import canonical_url, dns_host

# Characters whose escape says something else than the character would (RFC 3986
# reserved ones, and % itself): kept escaped. Every other escape is the character.
_RESERVED = frozenset(":/?#[]@!$&'()*+,;=%")
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_AUTHORITY = re.compile(r"(https?://)([^/?#]*)")


def link_spellings(url: str) -> list[str]:
    """`url` (a link as a post, a browser or a feed shows it) in each spelling a stored
    link may have: canonical_url's first, then its escapes decoded, made by link_url
    (upper case) and in lower case, each with its host as given and in the other of
    Unicode and punycode. At most 7, each once."""
    url = canonical_url(url)
    m = _AUTHORITY.match(url)
    if not m:
        return [url]
    scheme, netloc = m.groups()
    rest = _decoded(url[m.end():])
    escaped = quote(rest, safe=_LINK_SAFE)
    paths = [rest, escaped, _ESCAPE.sub(lambda e: e.group(0).lower(), escaped)]
    return list(dict.fromkeys([url] + [f"{scheme}{h}{p}" for h in _hosts(netloc)
                                       for p in paths]))


def _hosts(netloc: str) -> list[str]:
    """The host as given, and in Unicode for punycode or punycode for Unicode."""
    host, colon, port = netloc.partition(":")   # an IDN host is no [IPv6] literal
    try:
        other = dns_host(host) if not host.isascii() else (
            idna.decode(host) if "xn--" in host else host)
    except (UnicodeError, idna.IDNAError):
        other = host
    return list(dict.fromkeys([netloc, f"{other}{colon}{port}"]))


def _decoded(text: str) -> str:
    """`text` with each escape of a character that is no delimiter decoded (one of
    UTF-8, 阿, or of an unreserved letter, %65 e); the others upper-cased."""
    return _ESCAPES.sub(lambda m: _run(bytes.fromhex(m.group(0).replace("%", ""))), text)


def _run(raw: bytes) -> str:
    out, i = [], 0
    while i < len(raw):
        size = _utf8_size(raw[i])
        try:
            ch = raw[i:i + size].decode("utf-8") if size else ""
        except UnicodeDecodeError:
            ch = ""
        if ch and ch.isprintable() and ch not in _RESERVED and not ch.isspace():
            out.append(ch)
            i += size
        else:
            out.append(f"%{raw[i]:02X}")
            i += 1
    return "".join(out)


def _utf8_size(lead: int) -> int:
    """Bytes of the UTF-8 character `lead` starts (0: it starts none)."""
    return 1 if lead < 0x80 else 2 if 0xC2 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 \
        else 4 if 0xF0 <= lead < 0xF5 else 0
