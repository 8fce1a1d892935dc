"""Sentence splitting for news text: condense ranks sentences, so it needs them whole.

A period is only a boundary when it is followed by space and something that can start a
sentence, and the word before it is not an abbreviation ("U.S.", "Inc.", "Dr.") or an
initial. Decimals and versions ("$1.5bn", "GPT-4.5") never qualify because no space
follows the dot. CJK full stops (。！？) end a sentence with or without a space.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["split_sentences", "Block", "blocks_from_html", "blocks_from_text", "is_why_heading"]

# Never end a sentence: titles and Latin shorthands always have a word after them.
_NEVER_FINAL = frozenset("""
mr mrs ms dr prof sr jr st sen rep gov gen lt col capt sgt rev hon pres supt
e.g i.e vs v cf al fig figs no nos vol pp approx est dept ca
jan feb mar apr jun jul aug sep sept oct nov dec
""".split())

# May end a sentence ("... joined Apple Inc. The company ..."): split only when a
# typical sentence opener follows.
_MAYBE_FINAL = frozenset("""
inc corp ltd co llc plc bros etc u.s u.k u.n e.u u.s.a a.m p.m
""".split())

_OPENERS = frozenset("""
the a an it its he she they we i this that these those there but and so yet however
in on at for as after before when while if meanwhile also still now then separately
according his her their our its
""".split())

_CANDIDATE = re.compile(
    r"""(?:\.{3}|…|[.!?]+)["'”’»)\]]*(?=\s|$)   # Latin end mark, closing quotes, space
      | [。！？]+[」』”’)）]*                      # CJK end mark: no space needed
    """,
    re.VERBOSE,
)
_NEXT_START = re.compile(r"\s*([\"'“‘«(\[]?)(\S*)")


def split_sentences(text: str) -> list[str]:
    """Split plain text into sentences; line breaks always separate sentences."""
    out: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            out.extend(_split_line(line))
    return out


def _split_line(line: str) -> list[str]:
    parts, start = [], 0
    for m in _CANDIDATE.finditer(line):
        end = m.end()
        if end >= len(line) or not _is_boundary(line, m.start(), end):
            continue
        piece = line[start:end].strip()
        if piece:
            parts.append(piece)
        start = end
    tail = line[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def _is_boundary(line: str, mark_start: int, end: int) -> bool:
    mark = line[mark_start:end]
    if mark[0] in "。！？":
        return True   # CJK full stops need no following space
    opener, word = _NEXT_START.match(line, end).groups()
    if not word and not opener:
        return False
    first = (word or opener)[0]
    if first.islower() and not opener:
        return False  # "e.g. the", "Inc. said", "... and then": same sentence
    if mark[0] != ".":
        return True   # "!", "?", "…" followed by a capital/digit
    return _period_ends_sentence(line, mark_start + 1, word)


def _period_ends_sentence(line: str, end: int, next_word: str) -> bool:
    """Whether the period just before `end` ends a sentence. Only its word is copied:
    a copy of the line up to each period was quadratic (a 2.5 MB summary of short
    sentences: 36 s on the event loop)."""
    token = line[line.rfind(" ", 0, end) + 1:end]  # lines are whitespace-collapsed already
    bare = token.lstrip("\"'“‘(([").rstrip(".").lower()
    if bare in _NEVER_FINAL:
        return False
    if re.fullmatch(r"[A-Z]", token.lstrip("\"'“‘([").rstrip(".")):
        # An initial ("John F. Kennedy", "J. A. Smith"), unless a sentence plainly opens
        # after it: "raised a Series A. The company ...", "shared on X. It said ..."
        opener = next_word.strip("\"'“‘")
        return len(opener) > 1 and opener.lower() in _OPENERS
    if bare in _MAYBE_FINAL or re.fullmatch(r"(?:[a-z]\.)+[a-z]", bare):
        return next_word.strip("\"'“‘").lower() in _OPENERS
    return True


# --- Blocks: the story's structure (paragraphs, headings, list items) -----------------
# condense keeps what a story already states (its bullet list, its "Why it matters"), so it
# reads the structure, from the entry's HTML when there is some, else from text lines.

_WHY = re.compile(r"(?:why (?:it|this) matters|the big picture|what it means|"
                  r"why (?:it|this) is important)\s*[:.!?—–-]?", re.I)
_SKIP_TAGS = frozenset("script style figure figcaption nav aside footer form iframe noscript "
                       "button svg img video audio picture table select template pre".split())
_EMBED = re.compile(r"twitter|instagram|tiktok|embed|share|related|newsletter|ad-", re.I)
_BR = "\ue000"  # private-use char: marks a <br> until lines are split
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_BLOCK_TAGS = frozenset("p div section article blockquote dd dt pre header main li ul ol "
                        "h1 h2 h3 h4 h5 h6 figure table".split())
_TEXT_ITEM = re.compile(r"^\s*(?:[-*•–▪◦]|\d{1,2}[.)])\s+(\S.*)$")
_MD_HEADING = re.compile(r"^\s*#{1,6}\s+(\S.*)$")
_LEAD_IN = re.compile(r"^((?:why (?:it|this) matters|the big picture|what it means|"
                      r"why (?:it|this) is important))\s*[:—–-]\s+(\S.*)$", re.I)


@dataclass
class Block:
    kind: str            # "p" paragraph, "h" heading, "li" list item
    text: str
    group: int = 0       # which list an item belongs to
    links: float = 0.0   # share of an item's text inside <a>: lists of links are navigation
    label: str = ""      # a bold lead-in such as "Why it matters"


def is_why_heading(text: str) -> bool:
    """True for "Why it matters", "Why This Matters:", "The big picture", "What it means"."""
    return bool(_WHY.fullmatch(" ".join(text.split()).strip()))


def blocks_from_text(text: str) -> list[Block]:
    """Structure of plain text: "- item" lines, heading-like lines, paragraphs."""
    out: list[Block] = []
    lines = [" ".join(ln.split()) for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    group, prev_item = 0, False
    for i, line in enumerate(lines):
        item = _TEXT_ITEM.match(line)
        if item:
            group += 0 if prev_item else 1
            out.append(Block("li", item.group(1), group=group))
        elif m := _MD_HEADING.match(line):
            out.append(Block("h", m.group(1)))
        elif m := _LEAD_IN.match(line):
            out.append(Block("p", m.group(2), label=m.group(1)))
        elif is_why_heading(line) or (i + 1 < len(lines) and _heading_like(line)):
            out.append(Block("h", line.rstrip(":")))
        else:
            out.append(Block("p", line))
        prev_item = bool(item)
    return out


def _heading_like(line: str) -> bool:
    return len(line.split()) <= 8 and not re.search(r"[.!?,;\"”…。！？]$", line)


# C0 controls XML forbids, raw or as numeric references (HTML lets the ";" go).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
                       r"|&#0*(?:[0-8]|1[124-9]|2\d|3[01])(?!\d);?"
                       r"|&#[xX]0*(?:[0-8bcefBCEF]|1[\da-fA-F])(?![\da-fA-F]);?")


def blocks_from_html(html: str) -> list[Block]:
    """Structure of an entry's HTML; embeds, figures and scripts are left out."""
    import lxml.html  # the text path must not pay for lxml's import

    # lxml parses a control character (raw or "&#8;") into the tree but refuses to set
    # text holding one, as drop_tree and the <br> marks below do: drop them first.
    html = _CONTROLS.sub("", html)
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:  # lxml rejects some garbage (e.g. only a comment): read it as text
        return blocks_from_text(re.sub(r"<[^>]+>", "\n", html))
    for el in list(root.iterdescendants()):
        if _tag(el) in _SKIP_TAGS or _EMBED.search(el.get("class", "") or ""):
            el.drop_tree()  # keeps the tail: text after an inline <img> stays
    for br in root.iter("br"):
        br.tail = _BR + (br.tail or "")  # source newlines are just spaces; <br> breaks
    out: list[Block] = []
    _walk(root, out, [0])
    return out


def _tag(el) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _walk(el, out: list[Block], lists: list[int]) -> None:
    tag = _tag(el)
    if tag in ("ul", "ol"):
        _walk_list(el, out, lists)
    elif tag in _HEADINGS:
        _add_lines("h", el.text_content(), out)
    elif not any(_tag(d) in _BLOCK_TAGS for d in el.iterdescendants()):
        _add_paragraph(el, out)
    else:
        _walk_mixed(el, out, lists)


def _walk_list(el, out: list[Block], lists: list[int]) -> None:
    lists[0] += 1
    gid = lists[0]
    for child in el:
        if _tag(child) == "li":
            _add_item(child, gid, out)
        elif _tag(child):
            _walk(child, out, lists)


def _walk_mixed(el, out: list[Block], lists: list[int]) -> None:
    """A container holding both loose text and blocks: each run of text is a paragraph."""
    run = [el.text or ""]
    for child in el:
        if _tag(child) in _BLOCK_TAGS:
            _add_lines("p", "".join(run), out)
            _walk(child, out, lists)
            run = [child.tail or ""]
        else:
            run += [child.text_content() if _tag(child) else "", child.tail or ""]
    _add_lines("p", "".join(run), out)


def _add_item(li, gid: int, out: list[Block]) -> None:
    for sub in li.xpath(".//ul|.//ol"):
        sub.drop_tree()  # nested lists: the item's own words are enough
    text = " ".join(li.text_content().split())
    if text:
        linked = sum(len(" ".join(a.text_content().split())) for a in li.iter("a"))
        out.append(Block("li", text, group=gid, links=min(1.0, linked / len(text))))


def _add_paragraph(el, out: list[Block]) -> None:
    text = el.text_content()
    first = el[0] if len(el) else None
    if first is not None and _tag(first) in ("strong", "b") and not (el.text or "").strip():
        label = " ".join(first.text_content().split())
        rest = " ".join(((first.tail or "") + "".join(
            (c.text_content() if _tag(c) else "") + (c.tail or "") for c in el[1:]))
            .split()).lstrip(":—–- ")
        if label and not rest:
            out.append(Block("h", label.rstrip(":")))
            return
        if label.endswith(":") or is_why_heading(label):
            out.append(Block("p", rest, label=label.rstrip(": ")))
            return
    _add_lines("p", text, out)


def _add_lines(kind: str, text: str, out: list[Block]) -> None:
    for line in text.split(_BR):
        line = " ".join(line.split())
        if line:
            out.append(Block(kind, line))
