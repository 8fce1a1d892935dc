"""What the story states itself, which the condenser keeps as written: its own bullet
list and its "Why it matters" section; and the length cap every bullet gets.
"""
from __future__ import annotations

import re
from statistics import median

from feeds.headline import trim_words
from feeds.invisible import visible
from feeds.sentences import Block, is_why_heading, split_sentences
from feeds.wordsets import restates, similar, tokens, word_count

__all__ = ["MAX_BULLET", "MAX_DEK", "MAX_WHY", "drop_asides", "stated_why", "story_bullets", "tidy",
           "trim_bullet"]

MAX_BULLET = 200
MAX_WHY = 300
MAX_DEK = 200

_FIELD = re.compile(r"^[\w’'-]+(?: [\w’'-]+){0,2}: ")
_NAV_HEADING = re.compile(r"related|read (?:more|next|also)|more (?:from|on|stories)|see also|"
                          r"recommended|popular|trending|latest|share|tags|follow|newsletter", re.I)


# Asides a long sentence can lose and still read whole, tried in this order, each on top
# of the last: "(...)"; a pair of dashes " — ... — " (spaced em/en dashes or hyphens, or
# unspaced em dashes); a closing " — ..." before the final stop, em dash only and only
# when no other dash comes first (an en dash also joins names: "Canada – China").
_PARENS = re.compile(r" \([^()“”\"]{1,160}\)")
_DASH_PAIR = re.compile(r" (?:—|–|--?) [^—–“”\"]{1,160}? (?:—|–|--?) |(?<=\w)—[^—\s“”\"][^—“”\"]{0,160}?—(?=\w)")
_DASH_TAIL = re.compile(r"(?<=\S) — [^—–“”\"]{1,200}?(?=[.!?][\"'”’]?$)")
_DASHES = re.compile(r"[—–]| --? ")
# A closing clause that elaborates on what came before: a non-restrictive relative
# (", which ...", ", who ..."), an appositive (", a company that ...") or a participle
# (", raising ...", ", making ...").
_TRAILING = re.compile(r", (?:which|who|whose|including|(?:a|an) (?:[\w-]+ ){0,2}(?:company|firm|startup|"
                       r"group|maker|provider|developer|platform|service|nonprofit|organi[sz]ation|"
                       r"agency|unit|subsidiary) (?:that|which|who)|([a-z]{2,}ing))\b")
# Words in -ing that open no droppable clause: nouns, prepositions, and "according (to
# X)", which says whose claim the sentence is: without it a report reads as fact.
_NOT_PARTICIPLES = frozenset("according during something nothing anything everything thing bring "
                             "king string spring morning evening ceiling pricing funding "
                             "building".split())
_FINAL_STOP = re.compile(r"[.!?][\"'”’]?$")
# "While X — an aside — Y": the closing dash stood for the comma that ends the clause.
_CLAUSE_OPENER = re.compile(r"(?:while|although|though|ahead of|soon after|after|before|despite|"
                            r"if|when|as|since|because|unlike|once|until|whereas)\b", re.I)


# "As announced on Monday, X ...", "As an analyst, I ...": a short phrase, then the news.
_ATTRIBUTION = re.compile(r"as (?:\w+ed|part of|an?)\b", re.I)


# Where a clause ends: Chinese sets its commas without a space after them.
_CLAUSE_ENDS = (", ", "; ", " — ", " – ", ": ", "，", "；", "：")


# "ChatGPT , the chatbot": feeds that flatten links leave a space before the comma.
# Not before ; : ! ?, which French typesets with a space.
_SPACE_BEFORE_STOP = re.compile(r"\s+([,.])(?=\s|$)")


def tidy(text: str) -> str:
    """One line as a reader should see it: invisible characters (zero-width spaces, a
    byte-order mark: story HTML is read here, not through the parser's text) dropped,
    whitespace collapsed, no space before a comma or full stop."""
    return _SPACE_BEFORE_STOP.sub(r"\1", " ".join(visible(text).split()))


def trim_bullet(text: str, limit: int = MAX_BULLET) -> str:
    """At most `limit` characters. A longer sentence first drops its asides (a reader
    would rather see the whole sentence without them than its start cut mid-clause);
    if still too long it is cut at a clause boundary if one is late enough, else at a
    word boundary; never mid-word; "…" marks the cut. A quotation the bullet leaves
    open (cut, or a sentence of a longer quote) is closed where the bullet ends."""
    text = tidy(text)
    out = _trim(text, limit)
    mark = _closing_mark(out)
    if mark and len(out) >= limit:
        out = _trim(text, limit - 1)
        mark = _closing_mark(out)
    return out + mark


def _closing_mark(text: str) -> str:
    """The mark that closes the quotation `text` leaves open, if any. A straight " opens
    a quote after a space or at the start, else closes one (13" is a measure; feeds mix
    "..." and "...”)."""
    opened: list[str] = []
    for i, ch in enumerate(text):
        if ch == "“" or (ch == '"' and (i == 0 or text[i - 1] in " (:[—–")
                         and text[i + 1:i + 2].isalnum()):
            opened.append("”" if ch == "“" else '"')
        elif ch in '"”' and opened:
            opened.pop()
    return opened[-1] if opened else ""


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    text = drop_asides(text, limit)
    if len(text) <= limit:
        return text
    window = text[:limit - 1]
    cut = max(window.rfind(sep) for sep in _CLAUSE_ENDS)
    if cut >= limit * 0.6 and not _fronted_clause(text):
        return window[:cut].rstrip(" ,;:—–，；：") + "…"
    return trim_words(text, limit)


def _fronted_clause(text: str) -> bool:
    """True when `text` opens with a clause before its subject ("While X, ...",
    "Drawing on X, ..."): a cut at a clause end may keep that clause alone, without the
    sentence's news, so it is cut at a word boundary, further on, instead."""
    first = text.split(" ", 1)[0].lower()
    if _ATTRIBUTION.match(text):
        return False
    return bool(_CLAUSE_OPENER.match(text)) or (
        first.endswith("ing") and first not in _NOT_PARTICIPLES)


def drop_asides(text: str, limit: int) -> str:
    """`text` without parenthetical and dashed asides, removed only until it fits in
    `limit`; asides inside a quotation stay (a quote is not ours to shorten)."""
    for aside in (_PARENS, _DASH_PAIR, _DASH_TAIL):
        if len(text) <= limit or (aside is _DASH_TAIL and len(_DASHES.findall(text)) != 1):
            break
        text = aside.sub(lambda m: _aside_replacement(m, text), text)
    return text if len(text) <= limit else _drop_trailing(text, limit)


def _drop_trailing(text: str, limit: int) -> str:
    """`text` without its closing ", which ..." / ", raising ..." clause, the shortest
    such that makes it fit, when what stays is most of a bullet: the sentence then ends
    whole at its own stop instead of being cut mid-clause with "…"."""
    end = _FINAL_STOP.search(text)
    if not end:
        return text
    for m in reversed(list(_TRAILING.finditer(text, 0, end.start()))):
        before, tail = text[:m.start()], text[m.end():end.start()]
        if (m.group(1) or "") in _NOT_PARTICIPLES or "," in tail or _open_quote(tail):
            continue   # not a participle; not one clause to the end ("..., including X, means")
        if _open_quote(before):
            continue   # inside a quotation
        if len(before) + len(end.group(0)) <= limit:
            return before + end.group(0) if len(before) >= limit * 0.4 else text
    return text


def _open_quote(text: str) -> bool:
    """True when `text` leaves a quotation open."""
    return text.count("“") > text.count("”") or text.count('"') % 2 == 1


def _aside_replacement(m: re.Match, text: str) -> str:
    before = text[:m.start()]
    if _open_quote(before):
        return m.group(0)   # inside a quotation
    if m.re is not _DASH_PAIR:
        return ""
    return ", " if _CLAUSE_OPENER.match(text) and "," not in before else " "


def stated_why(blocks: list[Block] | None) -> str:
    for i, b in enumerate(blocks or ()):
        if b.label and is_why_heading(b.label) and b.text:
            return _short_why(b.text)
        if b.kind == "h" and is_why_heading(b.text):
            body = next((n.text for n in blocks[i + 1:] if n.kind != "h"), "")
            if body:
                return _short_why(body)
    return ""


def _short_why(text: str) -> str:
    return trim_bullet(" ".join(split_sentences(text)[:2]), MAX_WHY)


def story_bullets(blocks: list[Block], title: frozenset[str]) -> tuple[list[str], int]:
    """Items of the story's own bullet list (the first that is not navigation), and where
    in `blocks` that list starts (len(blocks) when there is none)."""
    groups, heading = _list_groups(blocks)
    for gid, items in groups.items():
        if _is_content_list(items, heading[gid]):
            picked: list[str] = []
            for item in items:
                toks = tokens(item.text)
                if not restates(toks, title) and not any(similar(toks, tokens(p)) for p in picked):
                    picked.append(trim_bullet(item.text))
            return picked[:3], next(i for i, b in enumerate(blocks) if b is items[0])
    return [], len(blocks)


def _list_groups(blocks: list[Block]) -> tuple[dict[int, list[Block]], dict[int, str]]:
    """The list items by list, and the heading each list stands under."""
    groups: dict[int, list[Block]] = {}
    heading: dict[int, str] = {}
    last_heading = ""
    for b in blocks:
        if b.kind == "h":
            last_heading = b.text
        elif b.kind == "li" and not b.text.endswith(":"):  # "Read some books:" heads a sub-list
            groups.setdefault(b.group, []).append(b)
            heading.setdefault(b.group, last_heading)
    return groups, heading


def _is_content_list(items: list[Block], heading: str) -> bool:
    if len(items) < 2 or (heading and _NAV_HEADING.search(heading)):
        return False
    if median(word_count(b.text) for b in items) < 4:
        # "Gambling", "Sexual themes": labels, not statements (the median, not the upper
        # one: 2, 2, 4, 6 words is a list of labels, and one long label cannot pass it)
        return False
    if sum(bool(_FIELD.match(b.text)) for b in items) * 2 > len(items):
        return False  # "Authors: ...", "PDF: ...": metadata, not the story's points
    return sum(b.links for b in items) / len(items) < 0.6  # lists of links are navigation
