"""Hanzi: traditional Chinese characters folded to simplified, one character for one.

Hong Kong and Taiwan outlets write 騰訊, 阿里雲, 華為, 降價; the gazetteer lists 腾讯,
阿里云, 华为, 降价. The classifier folds the text and its CJK phrases alike (so a phrase
matches in either script) and search looks for a Chinese word in both scripts. Folding
keeps the length, so positions in the folded text are positions in the original.
The table is feeds/data/traditional.txt.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_TABLE = Path(__file__).parent / "data" / "traditional.txt"


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, str], dict[int, str], re.Pattern]:
    lines = [ln for ln in _TABLE.read_text(encoding="utf-8").splitlines()
             if ln and not ln.startswith("#")]
    cut = lines.index("=")
    trad, simp = "".join(lines[:cut]), "".join(lines[cut + 1:])
    if len(trad) != len(simp):
        raise ValueError(f"{_TABLE}: {len(trad)} traditional and {len(simp)} simplified characters")
    to_simp = str.maketrans(trad, simp)
    to_trad = {ord(s): t for t, s in zip(trad, simp)}
    return to_simp, to_trad, re.compile("[" + re.escape(trad) + "]")


def simplified(text: str) -> str:
    """text with its traditional characters as simplified ones (same length)."""
    if not text or text.isascii():
        return text
    to_simp, _, any_trad = _tables()
    return text.translate(to_simp) if any_trad.search(text) else text


# Spellings of one search word at most: each is one more substring test of every story
# in the scanned window (storage/search.py), so a long clause keeps only three.
MAX_SPELLINGS = 8


def variants(word: str) -> list[str]:
    """A Chinese word as written, in simplified and in traditional characters, and the
    traditional one with any one character kept simplified (each once, MAX_SPELLINGS at
    most). The table gives one traditional character for each simplified one, yet some
    are traditional themselves, which Taiwan and Hong Kong keep where the table has
    another: 台積電 (not only 臺積電), 發布 (not only 發佈), 阿里雲 (not 阿裡雲)."""
    if word.isascii():
        return [word]
    _, to_trad, _ = _tables()
    simp = simplified(word)
    trad = simp.translate(to_trad)
    kept = [trad[:i] + s + trad[i + 1:] for i, (s, t) in enumerate(zip(simp, trad)) if s != t]
    found = list(dict.fromkeys([word, simp, trad]))
    if len(found) + len(kept) > MAX_SPELLINGS:
        return found
    return list(dict.fromkeys(found + kept))
