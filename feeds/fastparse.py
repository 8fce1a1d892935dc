"""The parser's fast path: well-formed RSS 2.0 and Atom 1.0 read with lxml.

feedparser spends most of a full-content feed's parse in its pure-Python SGML sanitizer.
This reader gives the parser the same entries for the feeds most outlets publish, at a
fraction of the cost: one lxml parse of the XML, one of each entry's HTML (sanitised in
the tree, then serialised and read as text). It mirrors feedparser's rules for the fields
the parser uses: which element wins (feedparser's names for them: feeds/elements.py),
when a GUID is also the link, how URLs resolve, which HTML survives (feeds/htmlclean.py).
Anything else it meets (another format, a DOCTYPE, xml:base, embedded XHTML, an element
feedparser gives a meaning it doesn't copy) raises Unsupported and the parser uses
feedparser: no feed is read worse than before.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import lxml.etree
from feedparser.datetimes import _parse_date as feedparser_date
from feedparser.mixin import _cp1252 as CP1252, _FeedParserMixin
from feedparser.sanitizer import _sanitize_html

from feeds.elements import check_nested, children, element_key
from feeds.entries import Entry, first_date
from feeds.htmlclean import (Unsupported, clean_html, feedparser_html, join_url,
                             needs_feedparser, plain_html)

__all__ = ["ATOM", "FastFeed", "NotWellFormed", "Unsupported", "read_feed"]

ATOM = "http://www.w3.org/2005/Atom"
_C1 = re.compile("[\x80-\x9f]")


class NotWellFormed(Unsupported):
    """XML that lxml refuses (the parser may then try it re-encoded, see feeds/parser.py)."""


@dataclass
class FastFeed:
    title: str
    title_is_html: bool
    link: str
    entries: list[Entry]
    meta: dict = field(default_factory=dict)   # ttl, sy_updateperiod, sy_updatefrequency


def read_feed(xml: bytes, base: str) -> FastFeed:
    """Entries of a UTF-8 RSS 2.0 or Atom 1.0 document; raises Unsupported otherwise."""
    head = xml[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in head or b"xml:base" in xml:
        raise Unsupported("DOCTYPE or xml:base")
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                  huge_tree=False, remove_pis=True)
    try:
        root = lxml.etree.fromstring(xml, parser)
    except lxml.etree.XMLSyntaxError as e:
        raise NotWellFormed(f"not well-formed: {e}") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:  # also one past the first 4 KB
        raise Unsupported("DOCTYPE")  # undefined entities would become silent gaps
    if root.tag == "rss" and root.get("version", "").strip() in ("2.0", "2.0.1"):
        if any(element_key(el) not in (None, "channel") for el in root):
            raise Unsupported("elements beside <channel>")  # e.g. items outside it
        return _read(_only(root, "channel"), base, "item", is_atom=False)
    if root.tag == f"{{{ATOM}}}feed":
        return _read(root, base, f"{{{ATOM}}}entry", is_atom=True)
    raise Unsupported(f"root element {root.tag}")


def _only(root, tag: str):
    found = [el for el in root if el.tag == tag]
    if len(found) != 1:
        raise Unsupported(f"{len(found)} <{tag}> elements")
    return found[0]


def _read(container, base: str, item_tag: str, *, is_atom: bool) -> FastFeed:
    feed, titled = FastFeed("", False, "", []), False
    for el in container:
        if el.tag == item_tag:
            if el.get("href") is not None or el.get("lastmod") is not None:
                raise Unsupported("CDF attributes on an entry")
            feed.entries.append(_entry(el, base, is_atom))
            continue
        key = element_key(el)
        if key == "title":
            if titled:
                raise Unsupported("two feed titles")
            titled = True
            feed.title, feed.title_is_html = _plain_or_html(el, is_atom)
        elif key == "link":
            feed.link = _link(el, base, feed.link, in_entry=False)
        elif key in ("ttl", "sy_updateperiod", "sy_updatefrequency"):
            feed.meta[key] = _finish(_text(el))
        elif key in ("dc_title", "media_title", "entry", "item"):
            raise Unsupported(f"feed-level <{key}>")
        elif key not in (None, "image", "textinput"):  # those keep their titles and links
            check_nested(el)
    return feed


# --- one entry -----------------------------------------------------------------------

@dataclass
class _Dates:
    published: tuple | None = None
    updated: tuple | None = None
    created: tuple | None = None


def _entry(item, base: str, is_atom: bool) -> Entry:
    """An RSS <item> or Atom <entry>: the elements both have here, the others in
    _rss_field / _atom_field."""
    e, dates, once = Entry(), _Dates(), set()
    link, id_link = None, ""
    read_field = _atom_field if is_atom else _rss_field
    for el, key in children(item, once):
        if key == "title":
            e.title, e.title_is_html = _plain_or_html(el, is_atom)
        elif key == "link":
            link = _link(el, base, link, in_entry=True)
        elif key == "id" or (key == "guid" and not is_atom):
            is_link = is_atom or _attr(el, "ispermalink", "true") == "true"
            e.guid, id_link = _guid(el, base, is_link)
        elif not (read_field(e, key, el, base) or _date(key, el, dates)):
            raise Unsupported(f"{'entry' if is_atom else 'item'} <{key}>")
    # feedparser: a permalink GUID (an Atom id) is the link when the entry has none
    e.link = link if link is not None else id_link
    e.published = _pick(dates)
    return e


def _rss_field(e: Entry, key: str, el, base: str) -> bool:
    """Read an RSS-only element into `e`; False when `key` is none of them."""
    if key in ("description", "summary"):
        e.summary_html, e.summary_text = _html(el, base, "text/html")
    elif key == "content_encoded":
        if not e.content_html:  # the parser reads the first content
            e.content_html, e.content_text = _html(el, base, "text/html")
    elif key in ("author", "dc_creator", "dc_author", "itunes_author"):
        e.author = _author(_finish(_text(el)))
    elif key == "itunes_subtitle":
        e.subtitle = _plain_or_html(el, is_atom=False)[0]
    else:
        return False
    return True


def _atom_field(e: Entry, key: str, el, base: str) -> bool:
    """Read an Atom-only element into `e`; False when `key` is none of them."""
    if key == "summary":
        e.summary_html, e.summary_text = _html(el, base, "text/plain")
    elif key == "content":
        if el.get("src") is not None:
            raise Unsupported("out-of-line content")
        e.content_html, e.content_text = _html(el, base, "text/plain")
    elif key == "author":
        e.author = _atom_author(el)
    else:
        return False
    return True


# --- values --------------------------------------------------------------------------

def _text(el) -> str:
    if len(el):
        raise Unsupported(f"markup inside <{element_key(el)}>")
    return (el.text or "").strip()


def _finish(s: str) -> str:
    """What feedparser does to every value last: undo UTF-8 read as Latin-1, map C1
    controls to the windows-1252 characters they usually stand for."""
    if s.isascii():
        return s
    try:
        s = s.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return s.translate(CP1252) if _C1.search(s) else s


def _plain_or_html(el, is_atom: bool) -> tuple[str, bool]:
    """A short text construct: (value, is_html), sanitised by feedparser itself."""
    kind = _content_type(el, "text/plain")
    value = _text(el)
    if not is_atom and _FeedParserMixin.looks_like_html(value):
        kind = "text/html"
    if kind == "text/html":
        value = _sanitize_html(value, "utf-8", kind)
    return _finish(value), kind == "text/html"


def _content_type(el, default: str) -> str:
    """"text/plain" or "text/html" as feedparser reads type=; Unsupported otherwise."""
    if el.get("mode") is not None:
        raise Unsupported("mode= (base64 or escaped content)")
    given = _attr(el, "type", default).lower()
    kind = _TYPES.get(given, given)
    if kind not in ("text/plain", "text/html"):
        raise Unsupported(f"content type {kind}")
    return kind


_NAMED_REF = re.compile(r"&([A-Za-z0-9_]+);")
_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html",
          "xhtml": "application/xhtml+xml"}


def _attr(el, name: str, default: str | None = None) -> str | None:
    """An attribute by its lower-cased name, as feedparser looks them up."""
    items = el.items()
    if not items:  # most elements: no generator to set up
        return default
    return next((v for k, v in items if k.lower() == name), default)


def _html(el, base: str, default: str) -> tuple[str, str | None]:
    """(HTML, its text) of a content construct: sanitised HTML, or plain text as
    paragraphs, by type= (`default` without one)."""
    is_html = _content_type(el, default) == "text/html"
    raw = _text(el)
    if not is_html:
        return plain_html(_finish(raw))
    if needs_feedparser(raw):  # feedparser sanitises before it repairs: so must we here
        return _finish(feedparser_html(raw, base)), None
    value = _finish(raw)
    # Whitespace-only HTML is no text, as feedparser reads it (lxml would find no root).
    return clean_html(value, base) if value.strip() else ("", "")


def _link(el, base: str, current, *, in_entry: bool):
    href = _attr(el, "url", _attr(el, "uri", _attr(el, "href")))
    if href is None:  # RSS: the link is the element's text
        text = _text(el)
        value = _finish(join_url(base, text) if text else "")
        if "&" not in value:
            return value
        if in_entry:
            value = value.replace("&amp;", "&")
        return _NAMED_REF.sub(r"&\g<1>", value)
    rel = _attr(el, "rel", "alternate").lower()
    kind = _attr(el, "type", "application/atom+xml" if rel == "self" else "text/html").lower()
    if rel == "alternate" and _TYPES.get(kind, kind) in ("text/html", "application/xhtml+xml"):
        return join_url(base, href)
    return current


def _guid(el, base: str, is_link: bool) -> tuple[str, str]:
    """(guid, link it implies): a permalink GUID resolves like a link and stands in for one."""
    value = _text(el)
    if is_link and value:
        value = join_url(base, value)
    value = _finish(value)
    return value, value if is_link else ""


class _AuthorContext:
    """Just enough of feedparser's state to run its own author/e-mail splitting."""

    def __init__(self, author: str):
        self.context = {"author": author}

    def _get_context(self):
        return self.context


@functools.lru_cache(maxsize=256)
def _author(value: str) -> str:
    """feedparser's name from an author value: a pure function of it, and a feed's
    entries mostly share a few authors, so remembered (~3 us a call)."""
    ctx = _AuthorContext(value)
    ctx.context["authors"] = [{}]
    _FeedParserMixin._sync_author_detail(ctx)
    return ctx.context.get("author_detail", {}).get("name") or value


def _atom_author(el) -> str:
    name = ""
    for sub in el:
        key = element_key(sub)
        if key == "name":
            name = _text(sub)
        elif key not in (None, "email", "uri"):
            raise Unsupported(f"author <{key}>")
    if not name:
        raise Unsupported("author without a name")
    return name  # feedparser stores <name> raw: no Latin-1 or windows-1252 repair


# feedparser's date elements and the field each fills (published_parsed and so on).
_DATE_KEYS = {"pubdate": "published", "published": "published", "issued": "published",
              "dcterms_issued": "published", "updated": "updated", "modified": "updated",
              "dc_date": "updated", "dcterms_modified": "updated", "lastbuilddate": "updated",
              "created": "created", "dcterms_created": "created"}


def _date(key: str, el, dates: _Dates) -> bool:
    kind = _DATE_KEYS.get(key)
    if kind is None:
        return False
    setattr(dates, kind, parse_date(_finish(_text(el))))  # the last one wins
    return True


def parse_date(s: str):
    """feedparser's UTC time tuple for a date (its first six fields). The two spellings
    feeds use most (RFC 822 with a numeric or GMT zone, W3C-DTF with Z or +hh:mm) are read
    here as feedparser's handlers read them; the rest, and out-of-range values, by
    feedparser itself (its handler chain and struct_time cost ~4 us a date)."""
    low = s.lower()
    m = _RFC822.match(low) or _W3CDTF.match(low)
    if m is None:
        return feedparser_date(s)
    year, month, day, hour, minute, second, zone = m.group("y", "mo", "d", "h", "mi", "s", "z")
    month = _MONTHS.get(month) or int(month)
    zone_min = 0
    if zone[0] in "+-":
        zone_min = (-1 if zone[0] == "-" else 1) * (int(zone[1:3]) * 60 + int(zone[-2:]))
    try:
        stamp = datetime(int(year), month, int(day), int(hour), int(minute), int(second))
        if zone_min:
            stamp -= timedelta(minutes=zone_min)
    except (ValueError, OverflowError):
        return feedparser_date(s)  # out of range: whatever feedparser's other handlers make of it
    # The fields first_date reads (a struct_time costs more than the parse)
    return stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                        "sep", "oct", "nov", "dec"), 1)}
# Both lower-cased, ASCII digits only (int() would take others too).
_RFC822 = re.compile(r"(?:(?:mon|tue|wed|thu|fri|sat|sun),? )?(?P<d>\d{1,2}) "
                     r"(?P<mo>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) (?P<y>\d{4}) "
                     r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d) (?P<z>gmt|ut|utc|z|[+-]\d{4})\Z",
                     re.ASCII)
_W3CDTF = re.compile(r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)t(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
                     r"(?:\.\d{1,6})?(?P<z>z|[+-]\d\d:\d\d)\Z", re.ASCII)


def _pick(dates: _Dates) -> datetime | None:
    return first_date((dates.published, dates.updated, dates.created))
