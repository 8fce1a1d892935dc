"""Headline cleaning: attribution ("FT - ", " | TechCrunch") moves out of the headline.

Aggregators and some outlets glue the outlet's name to the title. A reader wants the
headline in plain words and the outlet shown as the source. We strip a prefix only
when it is a known outlet or the feed's own name ("Meta - the company ..." is a
headline), and a suffix when it is a known outlet, the feed's name, or (after " - " or
" | ") a short capitalised name that looks like an outlet.
"""
from __future__ import annotations

import re

from feeds.wordsets import word_count

__all__ = ["clean_headline", "cut_at_word", "outlet_name", "trim_words", "MAX_HEADLINE"]

MAX_HEADLINE = 120

# alias (lowercase) -> how the source is shown
_OUTLETS = {
    "ft": "FT", "financial times": "Financial Times", "ft.com": "FT",
    "reuters": "Reuters", "bloomberg": "Bloomberg", "the verge": "The Verge",
    "verge": "The Verge", "techcrunch": "TechCrunch", "wired": "Wired",
    "ars technica": "Ars Technica", "engadget": "Engadget", "zdnet": "ZDNET",
    "cnbc": "CNBC", "cnn": "CNN", "bbc": "BBC", "bbc news": "BBC News",
    "the information": "The Information", "axios": "Axios", "wsj": "WSJ",
    "the wall street journal": "The Wall Street Journal",
    "wall street journal": "The Wall Street Journal", "nyt": "NYT",
    "the new york times": "The New York Times", "new york times": "The New York Times",
    "the guardian": "The Guardian", "associated press": "AP", "ap": "AP",
    "south china morning post": "South China Morning Post", "scmp": "SCMP",
    "caixin": "Caixin", "nikkei asia": "Nikkei Asia", "nikkei": "Nikkei",
    "the next web": "The Next Web", "venturebeat": "VentureBeat",
    "mit technology review": "MIT Technology Review", "semafor": "Semafor",
    "business insider": "Business Insider", "fortune": "Fortune", "forbes": "Forbes",
    "the economist": "The Economist", "gizmodo": "Gizmodo", "cnet": "CNET",
    "yahoo finance": "Yahoo Finance", "marketwatch": "MarketWatch",
    "pandaily": "Pandaily", "technode": "TechNode", "36kr": "36Kr", "rest of world": "Rest of World",
    # Chinese outlets, shown as their readers know them
    "36氪": "36氪", "钛媒体": "钛媒体", "量子位": "量子位", "机器之心": "机器之心", "爱范儿": "爱范儿",
    "虎嗅": "虎嗅", "财新": "财新",
}

# Chinese titles set full-width "：" "｜" (or "丨") without spaces: "36氪：...", "...｜36氪".
_PREFIX = re.compile(r"^\s*(?P<name>[^:：｜丨\-–—|]{2,40}?)\s*(?:(?:[:|]|\s[-–—])\s+|[：｜丨]\s*)"
                     r"(?P<rest>\S.*)$")
# Separators for a trailing outlet name. " — " and " – " also join clauses in
# headlines, so those only strip known names; " - " and " | " allow the heuristic;
# "｜" only known names too (Chinese columns: "...｜深氪" is a section and stays).
_SUFFIX = re.compile(r"^(?P<rest>.*\S)(?:\s+(?P<sep>[-|–—])\s+|\s*(?P<wide>[｜丨])\s*)"
                     r"(?P<name>[^-|–—｜丨]{2,60})$")
# A posting date glued to the end ("DeepSeek-V3 发布 2024/12/26", "... - 2025-03-01"): the
# brief shows the published time already. Numeric dates only: "... in 2025" is a headline.
_TRAILING_DATE = re.compile(r"\s*(?:[-–—|]\s*)?[(\[]?\d{4}([/.-])\d{1,2}\1\d{1,2}[)\]]?$")
_CONNECTORS = {"of", "the", "and", "&", "for", "on", "de", "in"}


def outlet_name(name: str) -> str | None:
    """The display name of a known outlet, or None."""
    return _OUTLETS.get(_key(name))


def clean_headline(title: str, source: str = "") -> tuple[str, str]:
    """Return (headline, source) with attribution moved from the title into source."""
    headline = " ".join(title.split())
    source = " ".join(source.split())
    original = source
    headline = _TRAILING_DATE.sub("", headline) or headline
    headline, source = _strip_prefix(headline, source)
    for _ in range(2):  # "Title | Section | Outlet": the outlet, found first, names the source
        guess = not original or source != original   # no feed name, or the title named one
        stripped, found = _strip_suffix(headline, source, guess)
        if stripped == headline:
            break
        headline, source = stripped, found if source == original else source
    return trim_words(headline, MAX_HEADLINE), source


def trim_words(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters at a word boundary, marked with "…"."""
    if len(text) <= limit:
        return text
    return cut_at_word(text[:limit - 1], text[limit - 1]) + "…"   # room for the ellipsis


def cut_at_word(cut: str, following: str) -> str:
    """`cut`, the first part of a text whose next character is `following`, backed off
    to a word boundary and without the function words or punctuation it would end on;
    cut where it is when that would leave less than half (one huge token: a URL).
    The renderers' cuts use it too: "procurement t…" in a chat post read as a typo."""
    floor = (len(cut) + 1) // 2
    if following.isspace():   # the cut falls after a whole word: maybe "in"
        cut = _content_end(cut.rstrip(), floor)
    else:
        space = cut.rfind(" ")
        if _UNSPACED.search(cut, space + 1):
            # Chinese or Japanese since the last space (which may be a bullet's "• "
            # lines back): any character is a boundary, a clause's end the best one.
            cut = _clause_end(cut, floor) or _outside_run(cut, following, floor)
        elif space > floor:
            cut = _content_end(cut[:space], floor)
        else:
            cut = _outside_run(cut, following, floor)
    return cut.rstrip(" ,;:-–—，；：、")


# Scripts written without spaces between words (kana, CJK ideographs), and the marks that
# end a sentence or clause in them.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CLAUSE_END = re.compile(r"[。！？；，、]")
CLAUSE_REACH = 12     # characters a cut backs off to end at a clause, at most


def _clause_end(cut: str, floor: int) -> str:
    """`cut` up to the last clause mark of its final CLAUSE_REACH characters ("" if none)."""
    start = max(floor, len(cut) - CLAUSE_REACH)
    ends = [m.end() for m in _CLAUSE_END.finditer(cut, start)]
    return cut[:ends[-1]] if ends else ""


def mark_cut(text: str) -> str:
    """`text` where a feed cut it without saying so ("... that allows businesses to"):
    without the function words or open bracket it ends on, marked "…" as our cuts are."""
    cut = _content_end(text.rstrip(), len(text) // 2).rstrip(" ,;:-–—(")
    if cut.count("(") > cut.count(")"):   # "... flagship model (before": the aside goes
        cut = cut[:cut.rfind("(")].rstrip(" ,;:-–—")
    return cut + "…"


# Words a cut must not end on: "... for the people in…", "... was false, according…"
# leave the reader a preposition pointing at nothing.
_FUNCTION_WORDS = frozenset("""a an the of in on at to for with from by into onto over about
and or but nor as than that which who whom whose its their his her our your this these
those according such like via per""".split())


def _content_end(cut: str, floor: int) -> str:
    """`cut` without the function words it ends on (up to three), if enough is left."""
    for _ in range(3):
        head, _, last = cut.rpartition(" ")
        if last.lower() not in _FUNCTION_WORDS or len(head) <= floor:
            break
        cut = head
    return cut


# The end of a Latin word or a figure, and what may follow a figure: text without spaces
# (Chinese) cut there would read "12…" for "122亿" or "GP…" for "GPT-5".
_RUN_END = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,%$€£¥-]*$")
_RUN_NEXT = re.compile(r"[A-Za-z0-9.,%/亿万千百-]")


def _outside_run(cut: str, following: str, floor: int) -> str:
    """`cut` backed off to before a word or figure it would split, unless that leaves
    less than `floor` characters (one huge token: cutting it is all we can do)."""
    m = _RUN_END.search(cut)
    if m and _RUN_NEXT.match(following) and m.start() > floor:
        return cut[:m.start()]
    return cut


def _key(name: str) -> str:
    return " ".join(name.lower().split()).strip(" .")


def _strip_prefix(headline: str, source: str) -> tuple[str, str]:
    m = _PREFIX.match(headline)
    if not m or word_count(m.group("rest")) < 3:
        return headline, source
    name = m.group("name")
    known = outlet_name(name)
    if known:
        return m.group("rest"), known
    if source and _key(name) == _key(source):
        return m.group("rest"), source
    return headline, source


def _strip_suffix(headline: str, source: str, guess: bool) -> tuple[str, str]:
    m = _SUFFIX.match(headline)
    if not m or word_count(m.group("rest")) < 3:   # Chinese at about two characters a word
        return headline, source
    name, sep = m.group("name").strip(), m.group("sep") or m.group("wide")
    if source and _key(name) == _key(source):
        return m.group("rest"), source  # the feed's own name: just noise
    known = outlet_name(name)
    if known:
        return m.group("rest"), known
    # An unknown name-like tail is taken for the outlet (or a section after it) only
    # when the feed's name doesn't already say who published it: with a feed name,
    # "OpenAI raises $40bn - SoftBank Leads" keeps its tail.
    if guess and sep in "-|" and _looks_like_outlet(name):
        return m.group("rest"), name
    return headline, source


def _looks_like_outlet(name: str) -> bool:
    words = name.split()
    if not 1 <= len(words) <= 4 or words[0].lower() in _CONNECTORS:
        return False
    if any(ch in name for ch in "?!:,\"“”'’"):
        return False  # "Here's why", "What's next?": a clause, not a name
    return all(w[0].isupper() or w[0].isdigit() or w.lower() in _CONNECTORS for w in words)
