"""The parser's fast path: well-formed RSS 2.0 and Atom 1.0 read with lxml.

feedparser spends most of a full-content feed's parse in its pure-Python SGML sanitizer.
This reader gives the parser the same entries for the feeds most outlets publish, at a
fraction of the cost: one lxml parse of the XML, one of each entry's HTML (sanitised in
the tree, then serialised and read as text). It mirrors feedparser's rules for the fields
the parser uses: which element wins, when a GUID is also the link, how URLs resolve,
which HTML survives. Anything else it meets (another format, a DOCTYPE, xml:base,
embedded XHTML, an element feedparser gives a meaning it doesn't copy) raises
Unsupported and the parser uses feedparser: no feed is read worse than before.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.entities import html5, name2codepoint

import lxml.etree
from feedparser.api import StrictFeedParser
from feedparser.datetimes import _parse_date as feedparser_date
from feedparser.mixin import _cp1252 as CP1252, _FeedParserMixin
from feedparser.sanitizer import _HTMLSanitizer, _sanitize_html
from feedparser.urls import RelativeURIResolver, _urljoin, make_safe_absolute_uri

from feeds import text as textmod
from feeds.parser import Entry, paragraphs

ATOM = "http://www.w3.org/2005/Atom"
_NS_PREFIX = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
_C1 = re.compile("[\x80-\x9f]")
_GOOD_TAGS = frozenset(_HTMLSanitizer.acceptable_elements)
_GOOD_ATTRS = frozenset(_HTMLSanitizer.acceptable_attributes)
_URI_ATTRS = frozenset(RelativeURIResolver.relative_uris)
# Dropped with their content by feedparser (script...) or, in effect, by html_to_text
# (feedparser keeps inline SVG/MathML, which html_to_text then drops).
_DROP_WITH_CONTENT = ("script", "style", "applet", "svg", "math")
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
_SGML_REF = re.compile(r"&([a-zA-Z][-.a-zA-Z0-9]*)[^a-zA-Z0-9]")  # as sgmllib matches
_DROPPED_TAG = re.compile(r"<(/?)(script|style|applet)(?![\w-])", re.IGNORECASE)
# Absolute http(s) URLs that urljoin gives back as they are: no params, empty query or
# fragment, brackets, whitespace or non-ASCII host to normalise or reject.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[^;?#\s\x00-\x1f\x7f]*)?"
                        r"(?:\?[^#\s\x00-\x1f\x7f]+)?(?:#[^\s\x00-\x1f\x7f]+)?\Z")
_ODD_DECL = re.compile(r"<!(?!--)")


class Unsupported(Exception):
    """Something this reader does not mirror: the parser falls back to feedparser."""


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
        raise Unsupported(f"not well-formed: {e}") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:  # also one past the first 4 KB
        raise Unsupported("DOCTYPE")  # undefined entities would become silent gaps
    if root.tag == "rss" and root.get("version", "").strip() in ("2.0", "2.0.1"):
        if any(_key(el) not in (None, "channel") for el in root):
            raise Unsupported("elements beside <channel>")  # e.g. items outside it
        return _read(_only(root, "channel"), base, "item", _rss_item, is_atom=False)
    if root.tag == f"{{{ATOM}}}feed":
        return _read(root, base, f"{{{ATOM}}}entry", _atom_entry, is_atom=True)
    raise Unsupported(f"root element {root.tag}")


def _only(root, tag: str):
    found = [el for el in root if el.tag == tag]
    if len(found) != 1:
        raise Unsupported(f"{len(found)} <{tag}> elements")
    return found[0]


def _read(container, base: str, item_tag: str, read_item, *, is_atom: bool) -> FastFeed:
    feed, titled = FastFeed("", False, "", []), False
    for el in container:
        if el.tag == item_tag:
            if el.get("href") is not None or el.get("lastmod") is not None:
                raise Unsupported("CDF attributes on an entry")
            feed.entries.append(read_item(el, base))
            continue
        key = _key(el)
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
            _check_nested(el)
    return feed


# --- one entry -----------------------------------------------------------------------

@dataclass
class _Dates:
    published: tuple | None = None
    updated: tuple | None = None
    created: tuple | None = None


def _rss_item(item, base: str) -> Entry:
    e, dates, once = Entry(), _Dates(), set()
    link, permalink = None, ""
    for el, key in _children(item, once):
        if key == "title":
            e.title, e.title_is_html = _plain_or_html(el, is_atom=False)
        elif key == "link":
            link = _link(el, base, link, in_entry=True)
        elif key in ("guid", "id"):
            e.guid, permalink = _guid(el, base, _attr(el, "ispermalink", "true") == "true")
        elif key in ("description", "summary"):
            e.summary_html, e.summary_text = _html(el, base, "text/html")
        elif key == "content_encoded":
            if not e.content_html:  # the parser reads the first content
                e.content_html, e.content_text = _html(el, base, "text/html")
        elif key in ("author", "dc_creator", "dc_author", "itunes_author"):
            e.author = _author(_finish(_text(el)))
        elif key == "itunes_subtitle":
            e.subtitle = _plain_or_html(el, is_atom=False)[0]
        elif not _date(key, el, dates):
            raise Unsupported(f"item <{key}>")
    # feedparser: a permalink GUID is the link when the item has none
    e.link = link if link is not None else permalink
    e.published = _pick(dates)
    return e


def _atom_entry(entry, base: str) -> Entry:
    e, dates, once = Entry(), _Dates(), set()
    alternate, id_link = None, ""
    for el, key in _children(entry, once):
        if key == "title":
            e.title, e.title_is_html = _plain_or_html(el, is_atom=True)
        elif key == "link":
            alternate = _link(el, base, alternate, in_entry=True)
        elif key == "id":
            e.guid, id_link = _guid(el, base, True)
        elif key == "summary":
            e.summary_html, e.summary_text = _atom_text(el, base)
        elif key == "content":
            if el.get("src") is not None:
                raise Unsupported("out-of-line content")
            e.content_html, e.content_text = _atom_text(el, base)
        elif key == "author":
            e.author = _atom_author(el)
        elif not _date(key, el, dates):
            raise Unsupported(f"entry <{key}>")
    e.link = alternate if alternate is not None else id_link
    e.published = _pick(dates)
    return e


_ONCE = frozenset({"title", "description", "summary", "author", "dc_creator", "dc_author",
                   "itunes_author", "content", "itunes_subtitle", "guid", "id"})
# Elements feedparser stores in one field by rules we don't copy when both appear.
_SAME_FIELD = {"summary": "description", "dc_creator": "author", "dc_author": "author",
               "itunes_author": "author", "guid": "id"}


def _children(parent, once: set):
    """(element, feedparser's name for it) of each child that matters; raises Unsupported
    for nested elements feedparser would read and for repeats whose rules we don't copy."""
    for el in parent:
        key = _key(el)
        if key is None or key in _HARMLESS or not _has_handler(key):
            _check_nested(el)
            continue
        if key in _ONCE:
            field_ = _SAME_FIELD.get(key, key)
            if field_ in once:
                raise Unsupported(f"repeated <{key}>")
            once.add(field_)
        yield el, key


def _check_nested(el) -> None:
    for sub in el.iterdescendants():
        key = _key(sub)
        if key is not None and key not in _HARMLESS and _has_handler(key):
            raise Unsupported(f"<{key}> nested in <{_key(el)}>")


def _key(el) -> str | None:
    """feedparser's name for an element: its known namespace prefix + local name."""
    tag = el.tag
    return _key_of(tag, el.prefix) if isinstance(tag, str) else None


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


# --- values --------------------------------------------------------------------------

def _text(el) -> str:
    if len(el):
        raise Unsupported(f"markup inside <{_key(el)}>")
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


_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html",
          "xhtml": "application/xhtml+xml"}


def _attr(el, name: str, default: str | None = None) -> str | None:
    """An attribute by its lower-cased name, as feedparser looks them up."""
    return next((v for k, v in el.items() if k.lower() == name), default)


def _atom_text(el, base: str) -> tuple[str, str | None]:
    if _content_type(el, "text/plain") == "text/plain":
        return _plain(_finish(_text(el)))
    return _html(el, base, "text/html")


def _plain(value: str) -> tuple[str, str]:
    """Plain text as the parser's paragraphs, with their text (one fast parse)."""
    html = paragraphs(value)
    return html, textmod.tree_to_text(_fragment(html)) if html else ""


def _html(el, base: str, default: str) -> tuple[str, str | None]:
    """(sanitised HTML, its text) of an HTML construct, from one lxml parse."""
    if _content_type(el, default) != "text/html":
        return _plain(_finish(_text(el)))
    raw = _finish(_text(el))
    if not raw:
        return "", ""
    if _ODD_DECL.search(raw):  # feedparser keeps "<!x>" as text, lxml drops it
        raise Unsupported("markup declaration in HTML")
    _check_refs(raw)
    _check_dropped_elements(raw)
    root = _fragment(raw)
    _sanitize(root, base)
    html = lxml.etree.tostring(root, method="html", encoding="unicode")[5:-6].strip()
    return html, textmod.tree_to_text(root)


def _check_refs(html: str) -> None:
    """Raise Unsupported for a named reference the two readers don't read alike.

    feedparser (sgmllib's rule: a name, then any non-alphanumeric character) completes a
    name it knows ("&copy " -> "&copy; ") and writes any other as text, losing its ";".
    lxml reads references as HTML5 does: only some names may omit the ";", and a name
    it knows may be a prefix ("&notin " -> "¬in "). Numeric references read alike; an
    "&" sgmllib doesn't take for a reference reaches lxml unchanged either way."""
    i = html.find("&")
    while i >= 0:
        m = _SGML_REF.match(html, i)
        if m:
            name, semicolon = m[1], m[0].endswith(";")
            if name in name2codepoint or name == "apos":
                alike = semicolon or name in html5
            else:
                prefixes = (name[:k] for k in range(2, len(name) + 1))
                alike = not semicolon and not any(p in html5 for p in prefixes)
            if not alike:
                raise Unsupported(f"reference {m[0]!r}")
        i = html.find("&", i + 1)


def _check_dropped_elements(html: str) -> None:
    """<script>, <style> and <applet> must open and close in turn and hold no markup or
    references: feedparser drops their text by counting open tags, yet still writes the
    tags and references inside, so a stray close tag silences the rest of the entry and
    a <br> in a script breaks a line."""
    opened = None
    for m in _DROPPED_TAG.finditer(html):
        closing, tag = bool(m[1]), m[2].lower()
        if closing != (opened is not None) or (closing and tag != opened[0]):
            raise Unsupported(f"unbalanced <{m[1]}{tag}>")
        if closing:
            inside = html[html.find(">", opened[1]) + 1:m.start()]
            if "<" in inside or "&" in inside:
                raise Unsupported(f"markup inside <{tag}>")
        opened = None if closing else (tag, m.end())
    if opened is not None:
        raise Unsupported(f"unclosed <{opened[0]}>")


def _fragment(html: str):
    try:
        return textmod.parse_fragment(html)
    except ValueError as e:  # a whole document: html_to_text reads those differently
        raise Unsupported(str(e)) from None


def _sanitize(root, base: str) -> None:
    """feedparser's sanitising, in the tree: dangerous elements go with their content,
    unknown ones lose only their tags, unknown attributes go, URLs resolve and only safe
    schemes survive."""
    lxml.etree.strip_elements(root, *_DROP_WITH_CONTENT, with_tail=False)
    unknown = set()
    for el in root.iterdescendants():
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if tag not in _GOOD_TAGS:
            unknown.add(tag)
            continue
        for name, value in el.items():
            if name not in _GOOD_ATTRS or name == "style":
                del el.attrib[name]
            elif (tag, name) in _URI_ATTRS:
                el.set(name, _resolve(base, value.strip()))
            elif name == "href":
                el.set(name, make_safe_absolute_uri(value))
    if unknown:
        lxml.etree.strip_tags(root, *unknown)


def _resolve(base: str, url: str) -> str:
    """make_safe_absolute_uri(base, url), skipping the join for a plain absolute http(s)
    URL, which it returns unchanged (most links in an article; the join costs ~20 us)."""
    if _PLAIN_URL.match(url) and _web_base(base):
        return url
    return make_safe_absolute_uri(base, url)


def _join(base: str, url: str) -> str:
    """feedparser's _urljoin(base, url), with the same shortcut."""
    if _PLAIN_URL.match(url) and (not base or _web_base(base)):
        return url
    return _urljoin(base, url)


@functools.lru_cache(maxsize=64)
def _web_base(base: str) -> bool:
    return bool(_PLAIN_URL.match(base))


def _link(el, base: str, current, *, in_entry: bool):
    href = _attr(el, "url", _attr(el, "uri", _attr(el, "href")))
    if href is None:  # RSS: the link is the element's text
        text = _text(el)
        value = _finish(_join(base, text) if text else "")
        if in_entry:
            value = value.replace("&amp;", "&")
        return re.sub(r"&([A-Za-z0-9_]+);", r"&\g<1>", value)
    rel = _attr(el, "rel", "alternate").lower()
    kind = _attr(el, "type", "application/atom+xml" if rel == "self" else "text/html").lower()
    if rel == "alternate" and _TYPES.get(kind, kind) in ("text/html", "application/xhtml+xml"):
        return _join(base, href)
    return current


def _guid(el, base: str, is_link: bool) -> tuple[str, str]:
    """(guid, link it implies): a permalink GUID resolves like a link and stands in for one."""
    value = _text(el)
    if is_link and value:
        value = _join(base, value)
    value = _finish(value)
    return value, value if is_link else ""


class _AuthorContext:
    """Just enough of feedparser's state to run its own author/e-mail splitting."""

    def __init__(self, author: str):
        self.context = {"author": author}

    def _get_context(self):
        return self.context


def _author(value: str) -> str:
    ctx = _AuthorContext(value)
    ctx.context["authors"] = [{}]
    _FeedParserMixin._sync_author_detail(ctx)
    return ctx.context.get("author_detail", {}).get("name") or value


def _atom_author(el) -> str:
    name = ""
    for sub in el:
        key = _key(sub)
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
    setattr(dates, kind, feedparser_date(_finish(_text(el))))  # the last one wins
    return True


def _pick(dates: _Dates) -> datetime | None:
    for parsed in (dates.published, dates.updated, dates.created):
        if parsed:
            return datetime(*parsed[:6], tzinfo=timezone.utc)
    return None
