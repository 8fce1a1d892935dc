"""CDATA sections lifted out of a feed before lxml parses it, and put back after.

libxml2 reads CDATA several times slower per byte than other text (it decodes and checks
each character in turn), and RSS feeds carry each entry's full HTML in one: in the
bench's generated RSS feed, 1.4 of the 1.5 ms XML parse. Here each section becomes a
short marker, the far smaller document is parsed, and each marked text is put back as a
str where the parse would have put it (lxml's setter refuses what XML forbids, as the
parse would). Whenever that might not be the parse's own tree (a marker not back in an
element's text or tail: a "<![CDATA[" inside a comment or an attribute; a character XML
forbids; not UTF-8), parse_lifted returns None and the caller parses the document as it
came, so what it gets, tree or error, is always the plain parse's.
"""
from __future__ import annotations

import re

import lxml.etree

__all__ = ["parse_lifted"]

_OPEN, _CLOSE = b"<![CDATA[", b"]]>"
_MARK = re.compile("\ue000([0-9]+)\ue001")   # private-use characters around the index
_MARKED = lxml.etree.XPath("//text()[contains(., '\ue000')]")
_LIMIT = 10_000_000   # libxml2's longest text node without huge_tree: none can reach it


def parse_lifted(xml: bytes, parser) -> lxml.etree._Element | None:
    """The root lxml.etree.fromstring(xml, parser) gives, parsed without its CDATA
    sections; None where the caller should parse `xml` itself (no sections, or any doubt)."""
    # U+E000-U+EFFF all begin with the byte 0xEE: without one, every marker is ours.
    if b"\xee" in xml or len(xml) >= _LIMIT:
        return None
    lifted = _lift(xml)
    if lifted is None:
        return None
    small, sections = lifted
    try:
        root = lxml.etree.fromstring(small, parser)
        restored = _put_back(root, sections)
    except (lxml.etree.XMLSyntaxError, ValueError):  # (UnicodeDecodeError is a ValueError)
        return None
    return root if restored == len(sections) else None


def _lift(xml: bytes) -> tuple[bytes, list[bytes]] | None:
    """(`xml` with each CDATA section a marker, the sections' contents); None without
    sections or with one left open. Found by single-byte searches ("!" and "]"), which
    run at memchr speed; a search for "<![CDATA[" itself is ~10x slower."""
    parts, sections, done = [], [], 0
    bang = xml.find(b"!")
    while bang >= 0:
        if bang == 0 or not xml.startswith(_OPEN, bang - 1):
            bang = xml.find(b"!", bang + 1)
            continue
        end = _close(xml, bang + len(_OPEN) - 1)
        if end < 0:
            return None
        parts += (xml[done:bang - 1], b"\xee\x80\x80%d\xee\x80\x81" % len(sections))
        sections.append(xml[bang + len(_OPEN) - 1:end])
        done = end + len(_CLOSE)
        bang = xml.find(b"!", done)
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


def _put_back(root, sections: list[bytes]) -> int:
    """Each marker in an element's text or tail replaced by its section's text, as the
    parse reads it (UTF-8, line ends as LF); how many were put back."""
    found = []

    def section(m: re.Match) -> str:
        found.append(m[1])
        data = sections[int(m[1])]
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return data.decode("utf-8")

    done = set()
    for text in _MARKED(root):
        owner, is_tail = text.getparent(), text.is_tail
        if (owner, is_tail) in done:  # (several text nodes of one element: read it once)
            continue
        done.add((owner, is_tail))
        if is_tail:
            owner.tail = _MARK.sub(section, owner.tail)
        else:
            owner.text = _MARK.sub(section, owner.text)
    return len(set(found)) if len(set(found)) == len(found) else -1
