"""URL canonicalisation: one spelling per article, so tracking variants dedupe.

Outlets decorate the same link with campaign and referral parameters (utm_*, fbclid,
spm, ...) and fragments; stories keyed by URL must not multiply because of them. A
personalised feed signs its links in with the subscriber's credentials (?access_token=,
?token=): those go too, or every channel the story is posted to could read as them.
Everything else in the query is kept, in order and byte for byte, because many sites
route articles by query (``?id=17703``). Also here: finding the feed an HTML page
advertises, for when a user gives a site's page instead of its feed. A URL as people
see it (shown_url, target_url, link_url) is feeds/url_display.py's.
"""
from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

import idna
import lxml.etree
import lxml.html

# Exact (lower-cased) query keys that only track the reader, never select content.
TRACKING_KEYS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
    "ref", "ref_src", "ref_url", "referrer", "referer", "spm", "guccounter",
    "guce_referrer", "guce_referrer_sig", "smid", "cmpid", "ncid", "icid",
    "sr_share", "at_medium", "at_campaign", "wt.mc_id", "wt_mc", "oly_enc_id",
    "oly_anon_id", "vero_id", "__twitter_impression", "share_source", "rss_source",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
# Keys that track only when their value says "came from the feed" (?source=rss).
FEED_SOURCE_KEYS = frozenset({"source", "src", "from", "via", "cmp"})
DEFAULT_PORTS = {"http": 80, "https": 443}
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
              "application/json", "application/rdf+xml")


def is_web_url(s: str) -> bool:
    """True for an absolute http(s) URL (how a GUID that is a link is recognised)."""
    return s.strip().lower().startswith(("http://", "https://"))


def web_link(url: str) -> str:
    """`url` when a reader can follow it: http(s) with a host, anything unprintable in it
    %-escaped (a soft hyphen or an RTL override would hide in it); "" for anything else
    (javascript:, data:, mailto:, a tag: GUID feedparser took for the link), which a
    client given the story's JSON might otherwise make a link of."""
    if not _PLAIN_URL.match(url):   # most links match: no urllib
        try:
            parts = urlsplit(url)
            if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
                return ""
        except ValueError:
            return ""
    return url if url.isprintable() else "".join(
        c if c.isprintable() else quote(c, safe="") for c in url)


def canonical_url(url: str, base: str = "") -> str:
    """The canonical spelling of `url`, resolved against `base` when relative.

    Host lowercased, default port, fragment and userinfo dropped (an article link never
    needs credentials, and "https://reuters.com@evil.example/" disguises its host),
    tracking parameters dropped, other parameters kept in order. Non-web URLs (mailto:,
    tag:) come back stripped."""
    url = (url or "").strip()
    if m := _PLAIN_URL.match(url):   # any base, even one urljoin refuses, leaves it as is
        return _plain_canonical(*m.groups())
    return _parsed_canonical(url, base)


# A host after a user part: a name with a dot, localhost or an [IPv6] literal, and its port.
_HOST = r"(?:[A-Za-z0-9-]+\.[A-Za-z0-9.-]*|localhost|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?(?![\w.@:-])"
# A feed's address may carry its credentials: user:password@ (the fetcher sends it as
# Basic auth) or a query key the service reads (?apikey=, ?token=, ?access_token=,
# a tracker's ?passkey=). A key is one of those by its name: the whole name, or its end
# after _ - or . (x-api-key, oauth_token), but a "key" only of an owner named below
# (sort_key, monkey stay). Reddit's private feeds put their secret in ?feed=, which
# WordPress fills with a format (?feed=rss2): that value goes only when it looks like
# a token (hex, a digest).
# The user part ends at the last "@" before the first "/", "?" or "#", unless no host
# follows it and a password holds one of those unescaped (urllib ends the host there, so
# the URL is refused, and quoted in the error): then, what follows the colon being no
# port, at the last "@" a host follows ("@bob" in a path is none).
_USERINFO = re.compile(
    r"(?<=://)(?:([^/?#\s]*)@(?=" + _HOST + ")"
    r"|([^/?#\s@:\[]*:(?![0-9]*(?:[/?#\s]|\Z))\S*)@(?=" + _HOST + ")"
    r"|([^/?#\s]*)@)")
_PARAM = re.compile(r"([?&;]([\w.-]+)=)([^&#\s)'\"<>]+)")
_OWNERS = "api|access|auth|private|feed|rss|secret|client|app|license|subscription|session"
# A key naming a credential, after any prefix ("x_") and owner ("api_"): the keys hidden
# where people see a URL (_SECRET_KEY) and those dropped from links (_CREDENTIAL_KEY).
_OWNED = rf"(?:.*[_.-])?(?:(?:{_OWNERS})[_.-]?)?"
_CREDENTIAL_WORDS = "token|secret|password|passwd|pwd|passkey|passphrase|auth"
_OWNERS_KEY = rf"(?:.*[_.-])?(?:{_OWNERS})[_.-]?key"
_SECRET_KEY = re.compile(rf"{_OWNED}(?:{_CREDENTIAL_WORDS}|sig|signature)|{_OWNERS_KEY}"
                         "|key|pass|hash|code", re.IGNORECASE)
_TOKEN_VALUE = re.compile(r"(?=.*\d)[A-Za-z0-9]{8,}")
# The query keys dropped from a story's link: those of _SECRET_KEY that only ever hold a
# reader's credentials (a token, secret, password, an API or other owner's key, a JWT, a
# session id), never what selects the article. Not the generic key, pass, hash, code
# (?key=article-slug), nor sig and signature: a signed CDN link is useless without its
# signature, which opens only that one file.
_CREDENTIAL_KEY = re.compile(rf"{_OWNED}(?:{_CREDENTIAL_WORDS})|{_OWNERS_KEY}"
                             r"|jwt|(?:php|j|asp)?sess(?:ion)?[_-]?id")


def without_secrets(text: str) -> str:
    """`text` (a feed's URL, or a message or log line naming one) as people may see it:
    a URL's password, or a lone user part (often a token), and the values of query keys
    that hold credentials become ***. Chat replies and logs are read by many; the host,
    path and other parameters stay, so the feed is still known. Never for the stored URL."""
    if "@" in text:
        text = _USERINFO.sub(_hidden_user, text)
    return _PARAM.sub(_hidden_value, text) if "=" in text else text


def _hidden_value(m: re.Match) -> str:
    key, value = m.group(2), m.group(3)
    secret = _SECRET_KEY.fullmatch(key) or (
        key.lower() == "feed" and _TOKEN_VALUE.fullmatch(value))
    return m.group(1) + "***" if secret else m.group(0)


def _hidden_user(m: re.Match) -> str:
    user, colon, _ = next(g for g in m.groups() if g is not None).partition(":")
    return f"{user}:***@" if colon else "***@"


def ascii_netloc(netloc: str) -> str:
    """`netloc` with its host as `dns_host` spells it, its user and port as written (the
    whole netloc through the codec made "straße.de:8443" strasse.de's). Raises
    UnicodeError for a host no DNS could hold."""
    user, at, host_port = netloc.rpartition("@")
    host, colon, port = host_port.partition(":")   # an IDN host is no [IPv6] literal
    if host.isascii():
        return netloc
    return f"{user}{at}{dns_host(host)}{colon}{port}"


def dns_host(host: str) -> str:
    """`host` in ASCII as browsers and the fetcher (yarl) look it up: IDNA 2008 (UTS 46),
    where "straße.de" is xn--strae-oqa.de; Python's own "idna" codec is IDNA 2003, which
    makes it strasse.de, someone else's site. That codec still takes what 2008 refuses
    (an emoji label), as yarl does. Raises UnicodeError for what neither can spell."""
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except UnicodeError:
        return host.encode("idna").decode("ascii")


def base_plays_no_part(url: str, base: str) -> bool:
    """True when canonical_url(url, base) == canonical_url(url): an absolute URL that
    takes the plain route, with any base as without one."""
    return _PLAIN_URL.match(url.strip()) is not None


def _parsed_canonical(url: str, base: str) -> str:
    """canonical_url through urllib: any URL."""
    if base:   # urljoin parses both URLs, so it raises on a malformed base as well
        try:
            url = urljoin(base.strip(), url)
        except ValueError:   # an absolute link is still cleaned when the feed's base is bad
            pass
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # e.g. "http://[bad" or a non-numeric port: keep as given
        return url
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return url
    return urlunsplit((scheme, _netloc(parts, scheme, port), parts.path or "/",
                       _clean_query(parts.query), ""))


# An absolute http(s) URL that urljoin and urlsplit give back as it is: lower-case
# scheme, ASCII host without port or userinfo, no params, whitespace or controls (most
# links). Its canonical form is built from the match, sparing ~5 us of urllib per URL.
_PLAIN_URL = re.compile(r"(https?)://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?)"
                        r"(/[^?#;\s\x00-\x1f\x7f]*)?(?:\?([^#\s\x00-\x1f\x7f]*))?"
                        r"(?:#[^\s\x00-\x1f\x7f]*)?\Z")


def _plain_canonical(scheme: str, host: str, path: str | None, query: str | None) -> str:
    query = _clean_query(query) if query else ""
    return f"{scheme}://{host.lower().rstrip('.')}{path or '/'}{'?' if query else ''}{query}"


def _netloc(parts, scheme: str, port: int | None) -> str:
    host = parts.hostname.rstrip(".")  # hostname is already lower-cased
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return host


def _clean_query(query: str) -> str:
    kept = [p for p in query.split("&") if p and not _is_dropped(p)]
    return "&".join(kept)


def _query_key(pair: str) -> str:
    return unquote_plus(pair.partition("=")[0]).strip().lower()


def _is_dropped(pair: str) -> bool:
    """A tracking parameter, or a reader's credential."""
    key = _query_key(pair)
    if key in TRACKING_KEYS or key.startswith(TRACKING_PREFIXES) or _is_credential(pair):
        return True
    value = unquote_plus(pair.partition("=")[2]).lower()
    return key in FEED_SOURCE_KEYS and ("rss" in value or "feed" in value)


def _is_credential(pair: str) -> bool:
    return _CREDENTIAL_KEY.fullmatch(_query_key(pair)) is not None


def without_credentials(link: str) -> str:
    """A stored link as canonical_url makes it now: its credential keys dropped, the
    rest byte for byte (a #fragment too: entries sharing a page are told apart by it)."""
    rest, hashmark, fragment = link.partition("#")
    path, mark, query = rest.partition("?")
    pairs = query.split("&")
    if not any(map(_is_credential, pairs)):
        return link
    kept = [p for p in pairs if p and not _is_credential(p)]
    return path + ("?" + "&".join(kept) if kept else "") + hashmark + fragment


def find_alternate(page: str, page_url: str) -> str | None:
    """The first feed a page advertises with <link rel="alternate" type=...>, absolute."""
    try:
        doc = lxml.html.document_fromstring(page.encode("utf-8"))
    except (ValueError, lxml.etree.ParserError):
        return None
    base = urljoin(page_url, (doc.xpath("//base/@href") or [""])[0].strip())
    for link in doc.xpath("//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in FEED_TYPES and link.get("href").strip():
            return urljoin(base, link.get("href").strip())
    return None
