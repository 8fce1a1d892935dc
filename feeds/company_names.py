"""Company names in a text: every name the gazetteer lists for a company (its canonical
name and aliases, Chinese ones included), found as the classifier finds them (one
feeds/phrases.py pass, Latin names on word boundaries, exact-case names only as
written, traditional characters as simplified ones, 文心兰 not Baidu's 文心).

The LLM grounding check (feeds/llm_validate.py) asks of each company a brief names that
the story name it too, by any of its names. Chinese has no capitals for the name check
to find, so this is the only check a Han-script name (腾讯, 字节跳动) gets.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from feeds.gazetteer import Gazetteer, load_gazetteer
from feeds.hanzi import simplified
from feeds.phrases import NOT_A_NAME, PhraseMatcher

__all__ = ["CompanyNames", "Mention", "bundled_names"]


@dataclass(frozen=True)
class Mention:
    text: str                    # as written
    companies: frozenset[str]    # canonical names ("Alibaba" for 阿里云)
    start: int
    end: int


class CompanyNames:
    """Built once per gazetteer (a few milliseconds); find() keeps no state per text."""

    def __init__(self, gazetteer: Gazetteer):
        gz = gazetteer
        names = [(simplified(alias), ("company", canon, 0.0), alias in gz.exact)
                 for canon, aliases in gz.companies.items() for alias in [canon, *aliases]]
        # a longer word holding a name (文心兰, 阿里山) is found instead, and is no company
        not_names = [(simplified(word), NOT_A_NAME, False) for word in gz.not_names]
        self._matcher = PhraseMatcher(names + not_names)
        # What a story names is read in any case: "META shares", an all-caps "APPLE
        # UNVEILS" name the companies a brief may write as "Meta" and "Apple".
        self._any_case = PhraseMatcher([(n, key, False) for n, key, _ in names] + not_names)

    def find(self, text: str) -> list[Mention]:
        """Every company name in text, in order (spans are text's: folding keeps length);
        a name that is also a word ("Apple", "Arm") only as the gazetteer writes it."""
        return _mentions(self._matcher, text)

    def named(self, text: str) -> frozenset[str]:
        """The companies text names by any of their names, in any case."""
        return frozenset().union(*(m.companies for m in _mentions(self._any_case, text)))


def _mentions(matcher: PhraseMatcher, text: str) -> list[Mention]:
    folded, out = simplified(text), []
    for start, end in matcher.spans(folded):
        keys = matcher.keys(folded[start:end])
        companies = frozenset(owner for kind, owner, _ in keys if kind == "company")
        if companies:
            out.append(Mention(text[start:end], companies, start, end))
    return out


@lru_cache(maxsize=1)
def bundled_names() -> CompanyNames:
    """The bundled gazetteer's names, built on first use: a caller with a user's
    gazetteer (more companies, more aliases) builds its own CompanyNames."""
    return CompanyNames(load_gazetteer())
