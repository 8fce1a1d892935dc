"""English number words read to values: "two hundred and five" is 205, "two and a half
million" 2,500,000, "a dozen" 12; "two and three" are two numbers (feeds/figures.py
reads a match of its PATTERN's number words with these, and decides what they say).
"""
from __future__ import annotations

import re
from decimal import Decimal

_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
SMALL = {w: i for i, w in enumerate(_UNITS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
SCALES = {"hundred": 100, "dozen": 12, "thousand": 10**3, "million": 10**6,
          "billion": 10**9, "trillion": 10**12}
_TOKEN = re.compile(r"half[ -]an?(?=[ -])|an?[ -]half|[a-z]+", re.I)
_BIG = frozenset(SCALES) - {"hundred", "dozen"}


def word_groups(m: re.Match) -> list[tuple[int, int, list[str]]]:
    """The match's tokens as numbers: (start, end, words) each, "and" dropped."""
    groups: list[tuple[int, int, list[str]]] = []
    joined = False   # an "and" since the last number word
    for t in _TOKEN.finditer(m.group()):
        word = _token(t.group())
        if word == "and":
            joined = True
            continue
        if groups and _continues(groups[-1][2], word, joined):
            start, _, words = groups[-1]
            words.append(word)   # in place: a copy per word was quadratic in a long number
            groups[-1] = (start, m.start() + t.end(), words)
        else:
            groups.append((m.start() + t.start(), m.start() + t.end(), [word]))
        joined = False
    return groups


def _token(token: str) -> str:
    """One spelling per word: "A", "an" are "a"; "half a(n)" is "half"; "a half", "+half"."""
    low = " ".join(re.split(r"[ -]", token.lower()))
    if low in ("a", "an"):
        return "a"
    return _SPELLINGS.get(low, low)


_SPELLINGS = {"half a": "half", "half an": "half", "a half": "+half", "an half": "+half"}


def _continues(words: list[str], word: str, joined: bool) -> bool:
    """Whether word belongs to the number so far: "twenty" "five", "two" "hundred",
    "hundred" (and) "five", "two" and "a half"; not "two" (and) "three"."""
    last = words[-1]
    if word in SCALES:
        return not joined and last not in ("dozen",)
    if word == "+half":
        return joined
    after_scale = last in SCALES and last != "dozen"
    if joined:
        return after_scale
    return after_scale or (last in _TENS and 0 < SMALL.get(word, 0) < 10)


def words_value(words: list[str]) -> tuple[Decimal | None, Decimal]:
    """(the number before its first scale or None when there is none, the value)."""
    total, current, bare = Decimal(0), None, None
    for word in words:
        if word in SCALES:
            bare = current if bare is None and current is not None else bare
            if word in _BIG and current is None and total:   # "thousand million"
                total *= SCALES[word]
            elif word in _BIG:
                total, current = total + (current or 1) * SCALES[word], None
            else:
                current = (current or 1) * SCALES[word]
        else:
            current = (current or 0) + _WORD_VALUES[word]
    bare = current if words[0] not in SCALES and bare is None else bare
    return bare, total + (current or 0)


_WORD_VALUES = {w: Decimal(v) for w, v in SMALL.items()} | {
    "a": Decimal(1), "half": Decimal("0.5"), "+half": Decimal("0.5")}
