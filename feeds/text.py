"""HTML -> plain text and whitespace cleanup (feeds/hostile.py flags what chat acts on;
feeds/invisible.py drops the characters that draw nothing).

The condenser reads the text line by line: paragraphs and headings each get a line and
list items become "- item" lines, so the structure the author gave survives.
"""
from __future__ import annotations

import re
import threading

import lxml.etree
import lxml.html

# Elements whose text is never prose: dropped with their content.
NON_PROSE = _DROP = frozenset({
    "script", "style", "noscript", "template", "head", "title", "iframe", "object",
    "embed", "svg", "math", "canvas", "form", "button", "select", "textarea",
})
# Elements that start and end a line.
_BLOCK = frozenset({
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav",
    "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr", "ul", "ol", "dl",
    "dt", "dd", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "address", "details", "summary", "caption", "body", "html", "center", "fieldset",
})
_CELL = frozenset({"td", "th"})
_WS = re.compile(r"\s+")
_NEWLINE = "\n"
_BULLET = "\x00- "  # marks a list-item start until lines are assembled


def clean_line(s: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces; strip the ends.
    (str.split() splits on exactly the characters the regex \\s matches, faster.)"""
    if not s:
        return ""
    if _single_spaced(s):  # the usual title or name: no word list to build and join
        return s.strip()
    return " ".join(s.split())


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML fragment or page (see module docstring)."""
    try:
        return tree_to_text(parse_fragment(html))
    except (ValueError, lxml.etree.LxmlError):  # a whole page, or no one fragment
        return document_to_text(html)


def document_to_text(html: str) -> str:
    """html_to_text through lxml.html, for any HTML, a whole page included. For a
    fragment, parse_fragment + tree_to_text give the same text, several times faster."""
    root = _parse(html)
    if root is None:
        return ""
    _strip_non_prose(root)
    parts: list[str] = []
    in_pre = 0  # inside <pre> source newlines are line breaks; elsewhere just spaces
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if event == "start":
            in_pre += tag == "pre"
            _open(tag, parts)
            parts.append(_flow(el.text, in_pre))
        else:
            in_pre -= tag == "pre"
            _close(tag, parts)
            if el is not root:
                parts.append(_flow(el.tail, in_pre))
    return _assemble("".join(parts))


def _strip_non_prose(root) -> None:
    # Removing comments and non-prose elements merges their tails into the text.
    lxml.etree.strip_elements(root, lxml.etree.Comment, lxml.etree.ProcessingInstruction,
                              *_DROP, with_tail=False)


def _flow(s: str | None, in_pre: int) -> str:
    if not s:
        return ""
    return s if in_pre else _WS.sub(" ", s)


def _parse(html: str):
    if not html or not html.strip():
        return None
    try:
        # A wrapper div so bare text and several top-level elements all survive.
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError, AssertionError):
        # e.g. a full document with an XML declaration, or one without a <body> (lxml
        # asserts there is one): parse it as a document.
        try:
            return lxml.html.document_fromstring(html.encode("utf-8"))
        except (lxml.etree.ParserError, ValueError):
            return None


def _open(tag: str, parts: list[str]) -> None:
    if tag == "li":
        parts.append(_NEWLINE + _BULLET)
    elif tag in _BLOCK:
        parts.append(_NEWLINE)
    elif tag in _CELL:
        parts.append(" ")


def _close(tag: str, parts: list[str]) -> None:
    if tag == "br" or tag == "li" or tag in _BLOCK:
        parts.append(_NEWLINE)


def _assemble(raw: str) -> str:
    """One line per block; whitespace collapsed; empty lines and empty bullets gone."""
    lines = []
    for line in raw.split(_NEWLINE):
        bullet = _BULLET in line
        line = clean_line(line.replace(_BULLET, " "))
        if line:
            lines.append(f"- {line}" if bullet else line)
    return _NEWLINE.join(lines)


# --- fragments: one plain lxml parse, text from the tree ------------------------------

def parse_fragment(html: str):
    """The tree document_to_text reads for an HTML fragment (a wrapper <div>), or None
    when there is no content; ValueError for a whole document, read another way.

    Built as lxml.html.fragment_fromstring builds it, with a plain lxml parser: the
    per-element class lookup of lxml.html's own parser costs more than the parse."""
    if not html or not html.strip():
        return None
    if _FULL_HTML.match(html):
        raise ValueError("text: a whole HTML document, not a fragment")
    parser, doc = _parse_html(f"<html><body>{html}</body></html>")
    bodies = [el for el in doc if el.tag == "body"] if doc is not None else []
    if len(bodies) != 1:
        raise ValueError("text: HTML that does not parse as one fragment")
    body = bodies[0]
    text = body.text
    if body.attrib or body.tail is not None:  # "<body class=x>" in the fragment: copy
        root = parser.makeelement("div")
        root.extend(body)
    else:  # the body itself, renamed: moving its children to a new root costs more
        root = body
        root.tag = "div"
    root.text = text if text and text.strip() else None
    return root


_FULL_HTML = re.compile(r"\s*<(?:html|!doctype)", re.IGNORECASE)  # as lxml.html tells
_LOCAL = threading.local()  # one parser per thread: a parser keeps state while it parses


def _parse_html(markup: str):
    """(parser, document) of lxml's HTML parse of `markup`, handed over as UTF-8 bytes:
    for text beyond Latin-1 ~40% faster than the str, which libxml2 would convert from
    UTF-16 or UTF-32 itself; the same tree (a <meta charset> cannot override the
    parser's encoding). A lone surrogate has no UTF-8: that str goes as it is."""
    try:
        data = markup.encode("utf-8")
    except UnicodeEncodeError:
        parser = _html_parser("parser", None)
        return parser, lxml.etree.fromstring(markup, parser)
    parser = _html_parser("utf8_parser", "utf-8")
    return parser, lxml.etree.fromstring(data, parser)


def _html_parser(name: str, encoding: str | None) -> lxml.etree.HTMLParser:
    if (parser := getattr(_LOCAL, name, None)) is None:
        parser = lxml.etree.HTMLParser(encoding=encoding)
        setattr(_LOCAL, name, parser)
    return parser


def tree_to_text(root, *, clean: bool = True) -> str:
    """document_to_text of a tree from parse_fragment (which it modifies); same output.
    `clean=False`: the caller knows the tree holds nothing _strip_non_prose removes.

    The walk is document_to_text's with the helpers inlined (it runs per element, so call
    overhead counts); lxml's HTML parser gives lower-case tag names."""
    if root is None:
        return ""
    if clean:
        _strip_non_prose(root)
    if root.tail is None and next(root.iter("pre"), None) is None:  # (iter: in C, not ElementPath)
        return _fast_assemble(_walk_flat(root))
    parts: list[str] = []
    append, opens, closes = parts.append, _OPENS, _CLOSES
    in_pre = 0  # inside <pre> source newlines are line breaks; elsewhere just spaces
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag
        if event == "start":
            in_pre += tag == "pre"
            if tag in opens:
                append(opens[tag])
            if text := el.text:
                append(text if in_pre else text.replace(_NEWLINE, " "))
        else:
            in_pre -= tag == "pre"
            if tag in closes:
                append(_NEWLINE)
            if (tail := el.tail) and el is not root:
                append(tail if in_pre else tail.replace(_NEWLINE, " "))
    return _fast_assemble("".join(parts))


def _walk_flat(root) -> str:
    """The walk for a tree without <pre> (the usual): every source newline is a space.
    Recursive over children rather than iterwalk's start/end events: half the Python
    work per element (the same order: an element's mark and text, its children, then
    its closing newline and tail). libxml2 nests HTML at most 256 deep: far within
    Python's recursion limit."""
    parts: list[str] = []
    append = parts.append
    if mark := _OPENS.get(root.tag):
        append(mark)
    if text := root.text:
        append(text.replace(_NEWLINE, " "))
    _walk_children(root, append)
    if root.tag in _CLOSES:
        append(_NEWLINE)
    return "".join(parts)  # the root has no tail (checked by the caller)


def _walk_children(parent, append) -> None:
    opens, closes = _OPENS.get, _CLOSES  # locals: looked up once per parent, not per child
    for el in parent:
        tag = el.tag
        if mark := opens(tag):
            append(mark)
        if text := el.text:
            append(text.replace(_NEWLINE, " "))
        if len(el):
            _walk_children(el, append)
        if tag in closes:
            append(_NEWLINE)
        if tail := el.tail:
            append(tail.replace(_NEWLINE, " "))


# What _open and _close emit, by tag. Newlines alone are enough in text: _fast_assemble
# collapses every other whitespace run.
_OPENS = {**{t: _NEWLINE for t in _BLOCK}, **{t: " " for t in _CELL}, "li": _NEWLINE + _BULLET}
_CLOSES = frozenset(_BLOCK | {"br", "li"})


def line_text(s: str) -> str:
    """tree_to_text of a fragment that is text alone (no markup): one line."""
    if _single_spaced(s):  # most summaries: nothing to collapse, no line to split
        return s.strip()
    return _fast_assemble(f"\n{s.replace(_NEWLINE, ' ')}\n")


def lines_text(blocks: list[str]) -> str:
    """tree_to_text of a fragment of blocks (<p>) holding text alone: a line each."""
    if all(map(_single_spaced, blocks)):
        return _NEWLINE.join([line for b in blocks if (line := b.strip())])
    return _fast_assemble(_NEWLINE.join(b.replace(_NEWLINE, " ") for b in blocks))


def _single_spaced(s: str) -> bool:
    """True for text whose only whitespace is single spaces, so that its line is itself,
    stripped: every other whitespace character (and the bullet mark's NUL) is
    unprintable."""
    return "  " not in s and s.isprintable()


def _fast_assemble(raw: str) -> str:
    """_assemble, minus most of its work. ASCII text whose only whitespace is spaces and
    newlines (the usual) is collapsed with str.replace over the whole text; other lines
    go one by one, and only those that need it are split."""
    plain = raw.isascii() and not any(c in raw for c in _ASCII_ODD_SPACE)
    if plain:
        while _DOUBLE_SPACE.search(raw):  # the regex finds "  " faster than `in` does
            raw = raw.replace("  ", " ")
        if "\x00" not in raw:  # i.e. no _BULLET; one character is found far faster
            return _NEWLINE.join([s for line in raw.split(_NEWLINE) if (s := line.strip(" "))])
    lines = []
    for line in raw.split(_NEWLINE):
        bullet = _BULLET in line
        if bullet:
            line = line.replace(_BULLET, " ")
        line = line.strip() if plain else clean_line(line)
        if line:
            lines.append(f"- {line}" if bullet else line)
    return _NEWLINE.join(lines)


_ASCII_ODD_SPACE = "\t\r\x0b\x0c\x1c\x1d\x1e\x1f"
_DOUBLE_SPACE = re.compile("  ")
