"""The parser's fast path: well-formed RSS 2.0 and Atom 1.0 read with lxml.

feedparser spends most of a full-content feed's parse in its pure-Python SGML sanitizer.
This reader gives the parser the same entries for the feeds most outlets publish, at a
fraction of the cost: one lxml parse of the XML, one of each entry's HTML (sanitised in
the tree, then serialised and read as text). It mirrors feedparser's rules for the fields
the parser uses: which element wins (feedparser's names for them: feeds/elements.py),
when a GUID is also the link, how URLs resolve, which HTML survives (feeds/htmlclean.py).
Anything else it meets (another format, a DOCTYPE, xml:base, embedded XHTML, an element
feedparser gives a meaning it doesn't copy) raises Unsupported and the parser uses
feedparser: no feed is read worse than before. This module reads the document and the
feed's own elements; entries: feeds/fast_entry.py, values: feeds/fast_values.py, dates:
feeds/fast_dates.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.etree

from feeds.cdata import parse_lifted, sections_in_use
from feeds.elements import check_nested, element_key
from feeds.entries import Entry
from feeds.fast_dates import parse_date
from feeds.fast_entry import read_entry
from feeds.fast_values import finish, link_value, plain_or_html, text_of
from feeds.htmlclean import Unsupported

__all__ = ["ATOM", "FastFeed", "NotWellFormed", "Unsupported", "parse_date", "read_feed"]

ATOM = "http://www.w3.org/2005/Atom"
# A regex finds it in a 400 KB feed 3x faster than `b"xml:base" in` does (0.13 / 0.37 ms).
_XML_BASE = re.compile(rb"xml:base")


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
    if b"<!doctype" in head or b"<!entity" in head or _XML_BASE.search(xml):
        raise Unsupported("DOCTYPE or xml:base")
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                  huge_tree=False, remove_pis=True)
    # Most RSS: far faster without its CDATA, put back as text is read (feeds/cdata.py).
    root, sections = parse_lifted(xml, parser) or (_parse(xml, parser), [])
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:  # also one past the first 4 KB
        raise Unsupported("DOCTYPE")  # undefined entities would become silent gaps
    with sections_in_use(sections):
        return _read_root(root, base)


def _parse(xml: bytes, parser):
    try:
        return lxml.etree.fromstring(xml, parser)
    except lxml.etree.XMLSyntaxError as e:
        raise NotWellFormed(f"not well-formed: {e}") from None


def _read_root(root, base: str) -> FastFeed:
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
            feed.entries.append(read_entry(el, base, is_atom))
            continue
        key = element_key(el)
        if key == "title":
            if titled:
                raise Unsupported("two feed titles")
            titled = True
            feed.title, feed.title_is_html = plain_or_html(el, is_atom)
        elif key == "link":
            feed.link = link_value(el, base, feed.link, in_entry=False)
        elif key in ("ttl", "sy_updateperiod", "sy_updatefrequency"):
            feed.meta[key] = finish(text_of(el))
        elif key in ("dc_title", "media_title", "entry", "item"):
            raise Unsupported(f"feed-level <{key}>")
        elif key not in (None, "image", "textinput"):  # those keep their titles and links
            check_nested(el)
    return feed
