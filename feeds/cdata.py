"""CDATA sections lifted out of a feed before lxml parses it, put back as its text is read.

libxml2 reads CDATA several times slower per byte than other text (it decodes and checks
each character in turn), and RSS feeds carry each entry's full HTML in one: in the
bench's generated RSS feed, 1.4 of the 1.5 ms XML parse. Here each long section becomes
a short marker, the far smaller document is parsed, and text_of (feeds/fast_values.py)
puts the section back where it reads a marker, inside `sections_in_use`. The sections
are checked first for what the parse would refuse (characters XML forbids, bytes that
are not UTF-8) and their line ends read as the parse reads them. Whenever the tree might
not be the parse's own (a marker outside element text: a "<![CDATA[" in a comment or
an attribute), parse_lifted returns None and the caller parses the document as it came.
"""
from __future__ import annotations

import contextlib
import re
from contextvars import ContextVar

import lxml.etree

__all__ = ["lifted_sections", "parse_lifted", "put_back", "sections_in_use"]

_OPEN, _CLOSE = b"<![CDATA[", b"]]>"
_MARK = re.compile("\ue000([0-9]+)\ue001")   # private-use characters around the index
# Shorter sections stay: below ~0.5 KB lifting one costs more than libxml2's reading it.
_WORTH = 512
_LIMIT = 10_000_000   # libxml2's longest text node without huge_tree: none can reach it
_C0_FORBIDDEN = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20))
# A character reference to either marker character (hex digits in any case, leading
# zeros): the feed's own "marker" would count as one of ours in the check below and be
# replaced by a section from a comment, a PI or an attribute, which the parse drops.
_MARK_REF = re.compile(rb"&#(?:x0*[eE]00[01]|0*5734[45]);")
_IN_USE: ContextVar[list[str] | tuple] = ContextVar("cdata_sections", default=())


def parse_lifted(xml: bytes, parser) -> tuple[lxml.etree._Element, list[str]] | None:
    """(the root lxml.etree.fromstring(xml, parser) gives, its sections' texts), parsed
    without its long CDATA sections; None where the caller should parse `xml` itself."""
    # U+E000-U+EFFF all begin with the byte 0xEE: without one, every marker is ours.
    if b"\xee" in xml or len(xml) >= _LIMIT:
        return None
    # `b"&" in` is a memchr; a two-byte `in` scans ~1 ns a byte (0.5 ms a 400 KB feed).
    if b"&" in xml and _MARK_REF.search(xml):
        return None
    lifted = _lift(xml)
    if lifted is None:
        return None
    small, sections = lifted
    try:
        texts = [_as_parsed(data) for data in sections]
        root = lxml.etree.fromstring(small, parser)
    except (lxml.etree.XMLSyntaxError, ValueError):  # (UnicodeDecodeError is a ValueError)
        return None
    # Every marker in text, none in a comment or attribute: each was a section there.
    in_text = lxml.etree.tostring(root, method="text", encoding="unicode").count("\ue000")
    return (root, texts) if in_text == len(texts) else None


@contextlib.contextmanager
def sections_in_use(texts: list[str]):
    """lifted_sections() gives these while the block runs."""
    token = _IN_USE.set(texts)
    try:
        yield
    finally:
        _IN_USE.reset(token)


# The sections of the lifted document being read, () otherwise (a "\ue000" in its text
# is then the feed's own). Asked before a text is searched for a marker: the search
# scans every non-Latin-1 text, the question costs ~10 ns.
lifted_sections = _IN_USE.get


def put_back(text: str, sections) -> str:
    """An element's text with its markers replaced by their `sections`."""
    return _MARK.sub(lambda m: sections[int(m[1])], text)


def _lift(xml: bytes) -> tuple[bytes, list[bytes]] | None:
    """(`xml` with each long CDATA section a marker, those sections' contents); None when
    there is none or a section is left open. Found by single-byte searches ("!" and "]"),
    which run at memchr speed; a search for "<![CDATA[" itself is ~10x slower."""
    parts, sections, done = [], [], 0
    bang = xml.find(b"!")
    while bang >= 0:
        if bang == 0 or not xml.startswith(_OPEN, bang - 1):
            bang = xml.find(b"!", bang + 1)
            continue
        start = bang + len(_OPEN) - 1
        end = _close(xml, start)
        if end < 0:
            return None
        if end - start >= _WORTH:
            parts += (xml[done:bang - 1], b"\xee\x80\x80%d\xee\x80\x81" % len(sections))
            sections.append(xml[start:end])
            done = end + len(_CLOSE)
        bang = xml.find(b"!", end + len(_CLOSE))
    if not sections:
        return None
    parts.append(xml[done:])
    return b"".join(parts), sections


def _close(xml: bytes, start: int) -> int:
    """Where the first "]]>" at or after `start` begins, or -1."""
    end = xml.find(b"]", start)
    while end >= 0 and not xml.startswith(_CLOSE, end):
        end = xml.find(b"]", end + 1)
    return end


def _as_parsed(data: bytes) -> str:
    """A section's text as the parse reads it: UTF-8, line ends as LF; ValueError for a
    character XML forbids (C0 controls but tab, LF and CR; U+FFFE, U+FFFF)."""
    if len(data.translate(None, _C0_FORBIDDEN)) != len(data):
        raise ValueError("a control character XML forbids")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    text = data.decode("utf-8")
    if "\ufffe" in text or "\uffff" in text:
        raise ValueError("a non-character XML forbids")
    return text
