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


def variants(word: str) -> list[str]:
    """A Chinese word as written, in simplified and in traditional characters (each once)."""
    if word.isascii():
        return [word]
    _, to_trad, _ = _tables()
    simp = simplified(word)
    return list(dict.fromkeys([word, simp, simp.translate(to_trad)]))
