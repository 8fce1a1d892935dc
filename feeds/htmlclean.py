"""Entry HTML for the parser's fast path: sanitised as feedparser sanitises it, in one
lxml parse that also gives the text.

feedparser reads entry HTML with sgmllib; lxml reads it as HTML5 does. The two agree on
most HTML, not all: some character references, the content of <script>/<style>/<applet>
and markup declarations ("<!x>") read differently. The checks here find those before
parsing and raise Unsupported, so the parser reads that feed with feedparser instead.
"""
from __future__ import annotations

import functools
import html as htmllib
import re
from html.entities import html5, name2codepoint

import lxml.etree
from feedparser.sanitizer import _HTMLSanitizer, _sanitize_html
from feedparser.urls import (RelativeURIResolver, _urljoin, make_safe_absolute_uri,
                             resolve_relative_uris)

from feeds import text as textmod
from feeds.entries import paragraph_list

_GOOD_TAGS = frozenset(_HTMLSanitizer.acceptable_elements)
_GOOD_ATTRS = frozenset(_HTMLSanitizer.acceptable_attributes)
_URI_ATTRS = frozenset(RelativeURIResolver.relative_uris)
# Dropped with their content by feedparser (script...) or, in effect, by html_to_text
# (feedparser keeps inline SVG/MathML, which html_to_text then drops).
_DROP_WITH_CONTENT = ("script", "style", "applet", "svg", "math")
_NOT_PROSE = textmod.NON_PROSE  # kept by the sanitiser, dropped from the text
_NEWLINE = "\n"
# Characters lxml refuses in a string it is given (parsed XML never holds them, but a
# value repaired from mojibake might): the shortcuts that skip lxml must refuse them too.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SGML_REF = re.compile(r"&([a-zA-Z][-.a-zA-Z0-9]*)[^a-zA-Z0-9]")  # as sgmllib matches
# feedparser drops the content of script, style and applet; lxml reads the others' as raw
# text (markup and references shown as typed), where feedparser reads them as HTML.
_RAW_TEXT_TAG = re.compile(r"<(/?)(s(?:cript|tyle)|applet|iframe|textarea|title|xmp|noembed"
                           r"|noframes|plaintext)(?![\w-])", re.IGNORECASE)
_ODD_DECL = re.compile(r"<!(?!--)")
# A "<" before a tag's ">", or in a quoted value (an unclosed quote runs on into the next
# tags): sgmllib ends the tag there, lxml reads on into its attributes ("<b <a href=...>"
# keeps the link for one only). HTML that is one tag, never closed: sgmllib keeps it as
# the content, lxml reads none and the summary stood in (a tag cut off after some text
# reads alike: Engadget's summaries). "<>" and "</>" are SGML shorthand, to sgmllib.
# Three patterns, not one alternation: with the \A branch in it `re` tried every branch
# at every character, and the quoted-value branch's lazy scan ran for every tag (15.4 ms
# over the real items' 962 KB of HTML, x 0.84 on the whole fast path; 2.3 ms so).
_TAG_IN_TAG = re.compile(r"</?(?:[A-Za-z][^<>]*<|>)")
_ONE_OPEN_TAG = re.compile(r"\s*</?[A-Za-z][^<>]*\Z")          # matched at the start
_QUOTE_INTO_TAGS = re.compile(r"<[A-Za-z][^<>]*?=\s*(?:\"[^\"]*<|'[^']*<)")
_QUOTED_LT = re.compile(r"=\s*(?:\"[^\"]*<|'[^']*<)")   # in every match of the above
# Absolute http(s) URLs that urljoin gives back as they are: no params, empty query or
# fragment, brackets, whitespace or non-ASCII host to normalise or reject.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[^;?#\s\x00-\x1f\x7f]*)?"
                        r"(?:\?[^#\s\x00-\x1f\x7f]+)?(?:#[^\s\x00-\x1f\x7f]+)?\Z")


# Where feedparser's sgmllib and HTML5 (so lxml) split entry HTML differently, found
# by needs_feedparser and left to feedparser's own sanitiser:
# - U+0085, U+2028 and U+2029, which Python's str.strip() and regex \s take for spaces
#   and HTML5 does not. The sanitiser strips the ends of its output before the
#   windows-1252 mapping every value gets last (U+0085 -> "…"), so it drops a U+0085
#   left at either end; and sgmllib splits a tag at them ("<a\u2028href=...>" keeps its
#   link). In text, U+2028 and U+2029 read alike (both collapse them as spaces).
# - a non-ASCII character right after a tag's name: sgmllib ends the name there, HTML5
#   reads it as part of the name ("<li\x80>" is an item to one, an unknown tag to the
#   other; "</p\x80>" closes the paragraph only for feedparser).
# Left alone, as they change only attributes: other spaces (U+00A0, U+3000...) between a
# tag's attributes, common in text, so costly to look for; and a non-ASCII character in
# an unquoted attribute value, where sgmllib ends the value ("href=/caf\xe9" -> "/caf").
# U+2028/9 inside a tag (after a "<" with no ">" yet): one linear search, where a scan
# back from each separator was quadratic (8.7 s for a 1.8 MB entry full of them).
_SEPARATOR_IN_TAG = re.compile("<[^<>]*[\u2028\u2029]")
_GLUED_TAG = re.compile(r"</?[A-Za-z][-_.:A-Za-z0-9]*[^\x00-\x7f]")


class Unsupported(Exception):
    """Something the fast path does not mirror: the parser falls back to feedparser."""


def needs_feedparser(raw: str) -> bool:
    """True for entry HTML that only feedparser's own sanitiser reads as feedparser does
    (see _GLUED_TAG): rare. ASCII HTML never is; other HTML costs a few scans at memchr
    speed and one search that stops only at "<"."""
    if raw.isascii():
        return False
    return "\x85" in raw or _separator_in_tag(raw) or _GLUED_TAG.search(raw) is not None


def _separator_in_tag(raw: str) -> bool:
    """_SEPARATOR_IN_TAG's search, run only where it can match: finding U+2028/9 costs
    a scan at memchr speed, the regex backtracks over every tag (~80% of the checks)."""
    if "\u2028" not in raw and "\u2029" not in raw:
        return False
    return _SEPARATOR_IN_TAG.search(raw) is not None


def feedparser_html(raw: str, base: str) -> str:
    """feedparser's own sanitised HTML of an entry's HTML, relative URLs resolved against
    `base`: its steps, in its order, minus the repair every value gets last."""
    return _sanitize_html(resolve_relative_uris(raw, base, "utf-8", "text/html"),
                          "utf-8", "text/html")


def clean_html(raw: str, base: str) -> tuple[str, str]:
    """(sanitised HTML, its text) of an entry's non-empty HTML, relative URLs resolved
    against `base`; raises Unsupported where feedparser would read it differently."""
    if "<" not in raw and "&" not in raw and raw.strip() and (
            raw.isprintable() or not _REFUSED.search(raw)):  # (what it refuses is unprintable)
        return _markless(raw)
    if raw.startswith("<p>") and "&" not in raw and (found := _plain_paragraphs(raw)):
        return found
    return _clean_tree(raw, base)


def _clean_tree(raw: str, base: str) -> tuple[str, str]:
    """clean_html through lxml: any HTML."""
    if "!" in raw and _ODD_DECL.search(raw):  # feedparser keeps "<!x>" as text, lxml drops it
        raise Unsupported("markup declaration in HTML")
    if "&" in raw:
        _check_refs(raw)
    if (_TAG_IN_TAG.search(raw) or _ONE_OPEN_TAG.match(raw)
            or _QUOTED_LT.search(raw) and _QUOTE_INTO_TAGS.search(raw)):
        raise Unsupported("a tag inside a tag")
    _check_raw_text_elements(raw)
    root = _fragment(raw)
    prose_only = _sanitize(root, base)
    html = lxml.etree.tostring(root, method="html", encoding="unicode", with_tail=False)
    return html[5:-6].strip(), textmod.tree_to_text(root, clean=not prose_only)


def _markless(raw: str) -> tuple[str, str]:
    """clean_html of text without tags or references (many summaries), without lxml:
    the HTML parser would only turn CR and CRLF into LF, and the serialiser write ">"
    as "&gt;"."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    return raw.replace(">", "&gt;").strip(), textmod.line_text(raw)


def _plain_paragraphs(raw: str) -> tuple[str, str] | None:
    """clean_html of HTML that is nothing but "<p>text</p>" back to back, each text
    printable, single-spaced and free of "<", ">" and "&" (the bench's generated feeds;
    1 of the shared corpus's 485 real contents), without lxml; None for anything else. Such HTML parses to the same
    <p>s, serialises back to itself and reads as each paragraph's text, stripped, a
    line each: ~21 us for a 7 KB entry, against ~55 through the parse, the sanitiser,
    the serialiser and the walk."""
    pieces = raw.split("</p>")
    if pieces[-1]:
        return None
    texts = [piece[3:] for piece in pieces[:-1]]
    for piece, text in zip(pieces, texts):  # (real HTML fails here, at its first link)
        if piece[:3] != "<p>" or "<" in text or ">" in text:
            return None
    if not _printable(raw) or _DOUBLE_SPACE.search(raw):
        return None
    return raw, _NEWLINE.join([line for text in texts if (line := text.strip())])


_C0_AND_DEL = bytes([*range(0x20), 0x7f])
_DOUBLE_SPACE = re.compile("  ")  # found faster than by `in` over text full of spaces


def _printable(s: str) -> bool:
    """s.isprintable(): for ASCII text (no whitespace but the space, no control), one
    byte delete in C, ~4x faster than isprintable's per-character category lookup."""
    if s.isascii():
        data = s.encode("ascii")
        return len(data.translate(None, _C0_AND_DEL)) == len(data)
    return s.isprintable()


def plain_html(value: str) -> tuple[str, str]:
    """Plain text as the parser's paragraphs, with their text. No parse: reading the
    escaped paragraphs back gives each one's text (with CRs as LFs, which the text
    collapses like any whitespace)."""
    paras = paragraph_list(value)
    html = "".join(f"<p>{htmllib.escape(p)}</p>" for p in paras)
    return html, textmod.lines_text(paras)


def join_url(base: str, url: str) -> str:
    """feedparser's _urljoin(base, url), skipping the join where it changes nothing."""
    if _PLAIN_URL.match(url) and (not base or _web_base(base)):
        return url
    return _urljoin(base, url)


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


def _check_raw_text_elements(html: str) -> None:
    """<script>, <style>, <applet> and the elements lxml reads as raw text (<iframe>,
    <textarea>...) must open and close in turn and hold no markup or references:
    feedparser drops the first three's text by counting open tags, yet still writes the
    tags and references inside, so a stray close tag silences the rest of the entry and
    a <br> in a script breaks a line; an unclosed <iframe> made the rest of an entry
    raw markup in its text for lxml alone. <plaintext> never ends for lxml."""
    opened = None
    for m in _RAW_TEXT_TAG.finditer(html):
        closing, tag = bool(m[1]), m[2].lower()
        if tag == "plaintext":
            raise Unsupported("<plaintext>")
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
    except ValueError as e:  # a whole document: document_to_text reads those differently
        raise Unsupported(str(e)) from None


def _sanitize(root, base: str) -> bool:
    """feedparser's sanitising, in the tree: dangerous elements go with their content,
    unknown ones lose only their tags, unknown attributes go, URLs resolve and only safe
    schemes survive. True when what is left is prose only: no comment, processing
    instruction or element whose text html_to_text drops."""
    lxml.etree.strip_elements(root, *_DROP_WITH_CONTENT, with_tail=False)
    unknown, prose_only = set(), True
    for el in root.iterdescendants():
        tag = el.tag
        if not isinstance(tag, str):
            prose_only = False
            continue
        if tag not in _GOOD_TAGS:
            unknown.add(tag)
            continue
        if tag in _NOT_PROSE:
            prose_only = False
        for name, value in el.items():
            if name not in _GOOD_ATTRS or name == "style":
                del el.attrib[name]
                continue
            if (tag, name) in _URI_ATTRS:
                safe = _resolve(base, value.strip())
            elif name == "href":
                safe = make_safe_absolute_uri(value)
            else:
                continue
            if safe != value:  # most links are already absolute: no need to set them
                el.set(name, safe)
    if unknown:
        lxml.etree.strip_tags(root, *unknown)
    return prose_only


def _resolve(base: str, url: str) -> str:
    """make_safe_absolute_uri(base, url), skipping the join for a plain absolute http(s)
    URL, which it returns unchanged (most links in an article; the join costs ~20 us)."""
    if _PLAIN_URL.match(url) and _web_base(base):
        return url
    return make_safe_absolute_uri(base, url)


@functools.lru_cache(maxsize=64)
def _web_base(base: str) -> bool:
    return bool(_PLAIN_URL.match(base))
