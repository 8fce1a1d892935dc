"""The fast path's values: what feedparser makes of one element's text and attributes.

Text constructs (plain or HTML, by type= or by feedparser's guess), content (sanitised
HTML and its text: feeds/htmlclean.py), links, GUIDs and authors, each finished as
feedparser finishes every value (Latin-1 mojibake undone, C1 controls mapped). Anything
these cannot reproduce raises Unsupported, and the parser uses feedparser instead.
"""
from __future__ import annotations

import functools
import re

from feedparser.mixin import _cp1252 as CP1252, _FeedParserMixin
from feedparser.sanitizer import _sanitize_html

from feeds import author_email
from feeds.cdata import lifted_sections, put_back
from feeds.elements import element_key
from feeds.htmlclean import (Unsupported, clean_html, feedparser_html, join_url,
                             needs_feedparser, plain_html)

author_email.install()   # author_name runs feedparser's e-mail search: linear there

__all__ = ["atom_author", "attr", "attrs", "author_name", "content_type", "finish", "guid_value",
           "html_value", "link_value", "plain_or_html", "text_of"]

_C1 = re.compile("[\x80-\x9f]")


def text_of(el) -> str:
    """An element's text, as every value here is read (a lifted CDATA section put back)."""
    if len(el):
        raise Unsupported(f"markup inside <{element_key(el)}>")
    text = el.text
    if not text:
        return ""
    if (sections := lifted_sections()) and "\ue000" in text:
        text = put_back(text, sections)
    return text.strip()


def finish(s: str) -> str:
    """What feedparser does to every value last: undo UTF-8 read as Latin-1, map C1
    controls to the windows-1252 characters they usually stand for."""
    if s.isascii():
        return s
    try:
        s = s.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return s.translate(CP1252) if _has_c1(s) else s


def _has_c1(s: str) -> bool:
    """_C1.search(s), exactly: a C1 control is \\xc2\\x80-\\x9f in UTF-8, and finding
    the byte \\xc2 in the encoded text is ~5x cheaper than the regex's scan of a long
    non-ASCII value (most have none: no Latin-1 supplement characters at all)."""
    if b"\xc2" not in s.encode("utf-8", "surrogatepass"):
        return False
    return _C1.search(s) is not None


def plain_or_html(el, is_atom: bool) -> tuple[str, bool]:
    """A short text construct: (value, is_html), sanitised by feedparser itself."""
    kind = content_type(el, "text/plain")
    value = text_of(el)
    if not is_atom and _looks_like_html(value):
        kind = "text/html"
    if kind == "text/html":
        value = _sanitize_html(value, "utf-8", kind)
    return finish(value), kind == "text/html"


def _looks_like_html(value: str) -> bool:
    """feedparser's guess, whose first test needs a close tag or a reference: text with
    neither "</" nor "&" (most titles) is plain without its regexes."""
    return ("</" in value or "&" in value) and _FeedParserMixin.looks_like_html(value)


def content_type(el, default: str) -> str:
    """"text/plain" or "text/html" as feedparser reads type=; Unsupported otherwise."""
    if el.get("mode") is not None:
        raise Unsupported("mode= (base64 or escaped content)")
    given = attr(el, "type", default).lower()
    kind = _TYPES.get(given, given)
    if kind not in ("text/plain", "text/html"):
        raise Unsupported(f"content type {kind}")
    return kind


_NAMED_REF = re.compile(r"&([A-Za-z0-9_]+);")
_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html",
          "xhtml": "application/xhtml+xml"}


def attr(el, name: str, default: str | None = None) -> str | None:
    """An attribute by its lower-cased name, as feedparser looks them up."""
    items = el.items()
    if not items:  # most elements: no generator to set up
        return default
    return next((v for k, v in items if k.lower() == name), default)


def html_value(el, base: str, default: str) -> tuple[str, str | None]:
    """(HTML, its text) of a content construct: sanitised HTML, or plain text as
    paragraphs, by type= (`default` without one)."""
    is_html = content_type(el, default) == "text/html"
    raw = text_of(el)
    if not is_html:
        return plain_html(finish(raw))
    if needs_feedparser(raw):  # feedparser sanitises before it repairs: so must we here
        return finish(feedparser_html(raw, base)), None
    value = finish(raw)
    # Whitespace-only HTML is no text, as feedparser reads it (lxml would find no root).
    return clean_html(value, base) if value.strip() else ("", "")


def attrs(el) -> dict[str, str]:
    """Every attribute by its lower-cased name, the first of a name winning (as attr()
    finds it): for elements read by several names."""
    return {k.lower(): v for k, v in reversed(el.items())}


def link_value(el, base: str, current, *, in_entry: bool):
    found = attrs(el)
    href = found.get("url", found.get("uri", found.get("href")))
    if href is None:  # RSS: the link is the element's text
        text = text_of(el)
        value = finish(join_url(base, text) if text else "")
        if "&" not in value:
            return value
        if in_entry:
            value = value.replace("&amp;", "&")
        return _NAMED_REF.sub(r"&\g<1>", value)
    rel = found.get("rel", "alternate").lower()
    kind = found.get("type", "application/atom+xml" if rel == "self" else "text/html").lower()
    if rel == "alternate" and _TYPES.get(kind, kind) in ("text/html", "application/xhtml+xml"):
        return join_url(base, href)
    return current


def guid_value(el, base: str, is_link: bool) -> tuple[str, str]:
    """(guid, link it implies): a permalink GUID resolves like a link and stands in for one."""
    value = text_of(el)
    if is_link and value:
        value = join_url(base, value)
    value = finish(value)
    return value, value if is_link else ""


class _AuthorContext:
    """Just enough of feedparser's state to run its own author/e-mail splitting."""

    def __init__(self, author: str):
        self.context = {"author": author}

    def _get_context(self):
        return self.context


@functools.lru_cache(maxsize=256)
def author_name(value: str) -> str:
    """feedparser's name from an author value: a pure function of it, and a feed's
    entries mostly share a few authors, so remembered (~3 us a call)."""
    ctx = _AuthorContext(value)
    ctx.context["authors"] = [{}]
    _FeedParserMixin._sync_author_detail(ctx)
    return ctx.context.get("author_detail", {}).get("name") or value


def atom_author(el) -> str:
    name = ""
    for sub in el:
        key = element_key(sub)
        if key == "name":
            name = text_of(sub)
        elif key not in (None, "email", "uri"):
            raise Unsupported(f"author <{key}>")
    if not name:
        raise Unsupported("author without a name")
    return name  # feedparser stores <name> raw: no Latin-1 or windows-1252 repair
