"""Another person with a company's person's surname: "Altman" alone is OpenAI's Sam
Altman in these years' news, but "Robert Altman's The Player" names the film director,
and made a Hollywood story OpenAI's.

A surname alias is a one-word alias that ends a person's two-word alias of the same
company ("Sam Altman" and "Altman"). Where another first name stands right before it, the
classifier reads the surname as no name at all (feeds/classify.py). A title-case
headline capitalises every word ("Microsoft Could Hire Altman"), so there a capitalised
word before the surname is a first name only when the story's text has the same pair.
"""
from __future__ import annotations

import re

__all__ = ["Surnames"]

# Capitalised words that stand before a surname in a sentence without being a first
# name: sentence openers, titles, verbs of saying.
_NOT_FIRST = frozenset(
    "The A An And But Or So Then Now When While After Before As If Still Yet Also Even Only "
    "Meanwhile However Here There Today Yesterday Instead Why How What Who Where Will Can "
    "Could Would Should Does Did Is Was Has Had Not For From With Without Against Versus By "
    "At In On To Of Mr Mrs Ms Dr Sir Lord President Chief Executive Founder Cofounder Boss "
    "Director Chairman Former Ex Says Said Asked Told According Let Meet Ask Hire Fire Back "
    "Oust Sue Dear Bad Big Inside".split())
_TITLE_WORD = re.compile(r"[A-Za-z]{4,}")


class Surnames:
    """Built once per gazetteer; masked() keeps no state per story."""

    def __init__(self, companies: dict[str, list[str]], people: list[str]):
        """`people`: the names strategy.toml's [cues] people lists ("Sam Altman"): a
        two-word alias is a person's only then ("Microsoft Copilot" is a product)."""
        self._firsts: dict[str, set[str]] = {}
        for canon, aliases in companies.items():
            names = [canon, *aliases]
            for name in set(names) & set(people):
                parts = name.split()
                if len(parts) == 2 and parts[1] in names:
                    self._firsts.setdefault(parts[1], set()).add(parts[0])
        alternatives = "|".join(map(re.escape, sorted(self._firsts, key=len, reverse=True)))
        self._pair = re.compile(rf"\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?) ({alternatives})\b") \
            if self._firsts else None

    def masked(self, title: str, text: str) -> tuple[str, str]:
        """`title` and `text` with each surname that another first name stands before
        blanked out (same length: spans and places stay where they were)."""
        if self._pair is None or not any(s in title or s in text for s in self._firsts):
            return title, text
        others = self._others(text)
        if not _title_case(title):
            others |= self._others(title)
        return _blank(title, self._pair, others), _blank(text, self._pair, others)

    def _others(self, text: str) -> set[tuple[str, str]]:
        """(first name, surname) pairs of people other than the gazetteer's in `text`."""
        return {(first, last) for first, last in self._pair.findall(text)
                if first not in _NOT_FIRST and first not in self._firsts[last]}


def _blank(text: str, pair: re.Pattern, others: set[tuple[str, str]]) -> str:
    if not others:
        return text
    return pair.sub(lambda m: m[0] if (m[1], m[2]) not in others
                    else m[1] + " " + " " * len(m[2]), text)


def _title_case(title: str) -> bool:
    """Most of the headline's longer words are capitalised ("A Robert Altman
    Retrospective Opens at the Museum")."""
    words = _TITLE_WORD.findall(title)
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.6 * len(words)
