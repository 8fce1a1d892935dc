"""The fast path's entries: one RSS <item> or Atom <entry> -> an Entry.

Each child element is read as feedparser reads it (its name for the element:
feeds/elements.py; its value: feeds/fast_values.py); an element feedparser gives a
meaning not copied here raises Unsupported, and the parser uses feedparser instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.elements import children
from feeds.entries import Entry, first_date
from feeds.fast_dates import parse_date
from feeds.fast_values import (atom_author, attr, author_name, finish, guid_value, html_value,
                               link_value, plain_or_html, text_of)
from feeds.htmlclean import Unsupported

__all__ = ["read_entry"]


@dataclass
class _Dates:
    """Each kind's last date text: read only when the kinds before it give no date (an
    Atom entry's <updated> is rarely needed once <published> reads)."""
    published: str | None = None
    updated: str | None = None
    created: str | None = None


def read_entry(item, base: str, is_atom: bool) -> Entry:
    """An RSS <item> or Atom <entry>: the elements both have here, the others in
    _rss_field / _atom_field."""
    e, dates, once = Entry(), _Dates(), set()
    link, id_link = None, ""
    read_field = _atom_field if is_atom else _rss_field
    for el, key in children(item, once):
        if key == "title":
            e.title, e.title_is_html = plain_or_html(el, is_atom)
        elif key == "link":
            link = link_value(el, base, link, in_entry=True)
        elif key == "id" or (key == "guid" and not is_atom):
            is_link = is_atom or attr(el, "ispermalink", "true") == "true"
            e.guid, id_link = guid_value(el, base, is_link)
        elif not (read_field(e, key, el, base) or _date(key, el, dates)):
            raise Unsupported(f"{'entry' if is_atom else 'item'} <{key}>")
    # feedparser: a permalink GUID (an Atom id) is the link when the entry has none
    e.link = link if link is not None else id_link
    e.published = _pick(dates)
    return e


def _rss_field(e: Entry, key: str, el, base: str) -> bool:
    """Read an RSS-only element into `e`; False when `key` is none of them."""
    if key in ("description", "summary"):
        e.summary_html, e.summary_text = html_value(el, base, "text/html")
    elif key == "content_encoded":
        if not e.content_html:  # the parser reads the first content
            e.content_html, e.content_text = html_value(el, base, "text/html")
    elif key in ("author", "dc_creator", "dc_author", "itunes_author"):
        e.author = author_name(finish(text_of(el)))
    elif key == "itunes_subtitle":
        e.subtitle = plain_or_html(el, is_atom=False)[0]
    else:
        return False
    return True


def _atom_field(e: Entry, key: str, el, base: str) -> bool:
    """Read an Atom-only element into `e`; False when `key` is none of them."""
    if key == "summary":
        e.summary_html, e.summary_text = html_value(el, base, "text/plain")
    elif key == "content":
        if el.get("src") is not None:
            raise Unsupported("out-of-line content")
        e.content_html, e.content_text = html_value(el, base, "text/plain")
    elif key == "author":
        e.author = atom_author(el)
    else:
        return False
    return True


# feedparser's date elements and the field each fills (published_parsed and so on).
_DATE_KEYS = {"pubdate": "published", "published": "published", "issued": "published",
              "dcterms_issued": "published", "updated": "updated", "modified": "updated",
              "dc_date": "updated", "dcterms_modified": "updated", "lastbuilddate": "updated",
              "created": "created", "dcterms_created": "created"}


def _date(key: str, el, dates: _Dates) -> bool:
    kind = _DATE_KEYS.get(key)
    if kind is None:
        return False
    setattr(dates, kind, finish(text_of(el)))  # the last one wins
    return True


def _pick(dates: _Dates) -> datetime | None:
    texts = (dates.published, dates.updated, dates.created)
    # first_date stops at the first real date: later kinds are then never parsed
    return first_date(parse_date(t) if t is not None else None for t in texts)
