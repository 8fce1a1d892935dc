"""feedparser's names for feed elements, and which of them the fast path must read.

feedparser calls an element by its namespace's usual prefix and its local name
("dc_creator", "content_encoded") and acts only on names it has a handler for. The fast
path (feeds/fastparse.py) walks the same names, so it can tell an element that changes
what feedparser would read (and must be read or declined) from one it can skip.
"""
from __future__ import annotations

import functools

from feedparser.api import StrictFeedParser
from feedparser.mixin import _FeedParserMixin

from feeds.htmlclean import Unsupported

_NS_PREFIX = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
# Child elements feedparser handles specially but in ways no field we read depends on.
_HARMLESS = frozenset({
    "category", "comments", "enclosure", "source", "keywords", "tags", "expirationdate",
    "rights", "copyright", "language", "contributor", "dc_subject", "dc_language",
    "dc_rights", "media_content", "media_thumbnail", "media_category", "media_rating",
    "media_credit", "media_restriction", "media_license", "media_player", "itunes_image",
    "itunes_keywords", "itunes_category", "itunes_explicit", "itunes_block",
    "cc_license", "creativecommons_license", "generator", "image",
    "cloud", "textinput", "webmaster", "managingeditor", "dc_publisher", "icon", "logo",
})
# Entry elements read at most once: a repeat means rules of feedparser's we don't copy.
_ONCE = frozenset({"title", "description", "summary", "author", "dc_creator", "dc_author",
                   "itunes_author", "content", "itunes_subtitle", "guid", "id"})
# Elements feedparser stores in one field by rules we don't copy when both appear.
_SAME_FIELD = {"summary": "description", "dc_creator": "author", "dc_author": "author",
               "itunes_author": "author", "guid": "id"}


def element_key(el) -> str | None:
    """feedparser's name for an element: its known namespace prefix + local name."""
    tag = el.tag
    if (key := _KEY_BY_TAG.get(tag)) is not None:
        return key
    if not isinstance(tag, str):
        return None
    key = _key_of(tag, el.prefix)
    known_ns = tag[:1] != "{" or tag[1:].rpartition("}")[0].lower() in _NS_PREFIX
    if known_ns and len(_KEY_BY_TAG) < 1024:  # bounded: a feed may invent any names
        _KEY_BY_TAG[tag] = key  # the document's own prefix plays no part: remember it
    return key


# Keys of tags in no namespace or a known one; el.prefix costs a namespace lookup.
_KEY_BY_TAG: dict[str, str] = {}


def children(parent, once: set):
    """(element, feedparser's name for it) of each child that matters; raises Unsupported
    for nested elements feedparser would read and for repeats whose rules we don't copy.
    `once` collects the fields seen, across calls for the same entry."""
    routes = _ROUTES
    for el in parent:
        key, field_ = routes.get(el.tag) or _route(el)
        if key is None:  # skipped, unless it holds an element that is read
            if len(el):
                check_nested(el)
            continue
        if field_ is not None:
            if field_ in once:
                raise Unsupported(f"repeated <{key}>")
            once.add(field_)
        yield el, key


def _route(el) -> tuple[str | None, str | None]:
    """(key or None when skipped, the field a key read once fills): what children()
    does with an element, remembered by tag where the key is (one dict lookup a child
    instead of three calls)."""
    key = element_key(el)
    if key is None or key in _HARMLESS or not _has_handler(key):
        route = (None, None)
    else:
        route = (key, _SAME_FIELD.get(key, key) if key in _ONCE else None)
    if el.tag in _KEY_BY_TAG:  # the key is the tag's in every document: bounded there
        _ROUTES[el.tag] = route
    return route


_ROUTES: dict[str, tuple[str | None, str | None]] = {}


def check_nested(el) -> None:
    """Raise Unsupported when an element we skip holds one feedparser would read."""
    for sub in el.iterdescendants():
        key = element_key(sub)
        if key is not None and key not in _HARMLESS and _has_handler(key):
            raise Unsupported(f"<{key}> nested in <{element_key(el)}>")


@functools.lru_cache(maxsize=512)
def _key_of(tag: str, prefix: str | None) -> str:
    ns, _, local = tag[1:].rpartition("}") if tag[:1] == "{" else ("", "", tag)
    ns = ns.lower()
    if "backend.userland.com/rss" in ns:
        ns = "http://backend.userland.com/rss"
    prefix = _NS_PREFIX.get(ns, prefix)
    return f"{prefix.lower()}_{local.lower()}" if prefix else local.lower()


_HANDLERS: dict[str, bool] = {}


def _has_handler(key: str) -> bool:
    if key not in _HANDLERS:
        _HANDLERS[key] = (hasattr(StrictFeedParser, f"_start_{key}")
                          or hasattr(StrictFeedParser, f"_end_{key}"))
    return _HANDLERS[key]
