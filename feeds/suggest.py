"""Closest names for a mistyped one: "alibba" -> Alibaba, "acquisition" -> acquisitions.

A wrong suggestion is worse than none: "robots" was offered OpenClaw (difflib found
the letters of its old name Moltbot similar enough). A name is offered only when it is
a typo away (a letter or two wrong, missing, extra or swapped) or the same word with
another ending (leaders -> leadership, policies -> policy); else none is."""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Mapping

from feeds.hanzi import simplified

# A typo in three letters makes another word ("llm" -> GLM, Zhipu's), and two in seven
# or eight another name ("ZeniMax" -> MiniMax, "Training" -> Amazon: 12 of the 13 such
# capitalised words of the news corpus were wrong): one typo from 4 letters, two from LONG.
MIN_TYPED = 4
LONG = 9
# A typo in a name under SHORT letters is mostly another word: a letter added ("being"
# -> Bing, "metal" -> Meta, "harm" -> Arm) or the first changed ("beta" -> Meta, "card"
# -> Bard). There only a later letter changed counts (mata -> Meta), and in an alias or
# product (Bard, Sora: words too) only two swapped (qwne -> Qwen; "sort" is no Sora):
# of the 3000 commonest lower-case corpus words, 31 got a company, 14 do now.
SHORT = 5
# A Chinese, Japanese or Korean character is a syllable, most of a word: "阿里巴" is
# Alibaba (阿里巴巴) with one left out, and was offered nothing at 4 letters. Two
# characters with one wrong are another word (微博 is Weibo, not WeChat's 微信).
WIDE_MIN_TYPED = 3
WIDE_LONG = 6
# An everyday word (`words`) is offered for a typo in it from 5 letters, two from 10.
WORD_TYPO, WORD_TWO_TYPOS = 5, 10
# Endings a word takes (plural, -ed, -ing, -er, -ship) and what its base ends in then:
# policies/policy, partnered/partner, raised/raise, computers/computer/compute. A word
# is offered a name that shares a base; a final y is no ending ("getting" is no Getty).
_ENDINGS = (("ies", "y"), ("ied", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"),
            ("ing", ""), ("ing", "e"), ("er", ""), ("er", "e"), ("ship", ""))
# Three letters are a base only of a plural: ceos (ceo), laws (law); "armed" is no Arm.
_MIN_BASE, _MIN_PLURAL_BASE = 4, 3


def closest(typed: str, names: Mapping[str, str], n: int,
            words: Mapping[str, str] | None = None) -> list[str]:
    """Up to `n` answers (the values of `names`, keyed by each way to spell one, in
    lower case) whose spelling is a typo away from `typed` or has its stem, best first.
    `words`: other spellings that are everyday words (a topic's synonyms: deal, paid,
    alliance), offered by their stem, or a typo in a longer one: a typo in a short
    everyday word, or two in one of eight letters, makes another word or a name ("dell"
    was offered partnerships by "deal", "plaid" pricing by "paid", "reliance"
    partnerships by "alliance")."""
    key = simplified(" ".join((typed or "").split())).casefold()
    shortest, short, long = (WIDE_MIN_TYPED, 0, WIDE_LONG) if wide(key) else (
        MIN_TYPED, SHORT, LONG)
    if len(key) < shortest:
        return []
    most = 2 if len(key) >= long else 1
    allowed = [(spelled, answer, most if len(spelled) >= short else
                _short_typos(key, spelled, answer)) for spelled, answer in names.items()]
    allowed += [(spelled, answer, min(most, _word_typos(spelled)))
                for spelled, answer in (words or {}).items()]
    scored = sorted((typos, answer) for spelled, answer, limit in allowed
                    if (typos := _typos(key, spelled, limit)) <= limit)
    found: list[str] = []
    for _, answer in scored:
        if answer not in found:
            found.append(answer)
    return found[:n]


def wide(text: str) -> bool:
    """Written in wide characters (Chinese, Japanese, Korean), where each says more."""
    return any(unicodedata.east_asian_width(ch) == "W" for ch in text)


def _short_typos(key: str, spelled: str, answer: str) -> int:
    """Typos that still point at a short name: a later letter changed, and in an alias
    (not the `answer` itself) only two swapped."""
    if len(key) != len(spelled) or key[0] != spelled[0]:
        return 0
    if spelled == answer.casefold() or sorted(key) == sorted(spelled):
        return 1
    return 0


def _word_typos(word: str) -> int:
    """Typos that still point at an everyday word: none in a short one."""
    return 0 if len(word) < WORD_TYPO else 1 if len(word) < WORD_TWO_TYPOS else 2


def _typos(key: str, spelled: str, most: int) -> int:
    """0 for a shared base (partnered, partner), else the typos between the two (more
    than `most`: most + 1)."""
    if _bases(key) & _bases(spelled):
        return 0
    if abs(len(key) - len(spelled)) > most:
        return most + 1
    return min(_distance(key, spelled), most + 1)


def _distance(a: str, b: str) -> int:
    """Letters to change, add, drop or swap with a neighbour to make `a` into `b`."""
    before, row = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
    return row[-1]


@lru_cache(maxsize=4096)
def _bases(word: str) -> frozenset[str]:
    """The word and those it is made of by endings: computers, computer, compute."""
    found, todo = {word}, [word]
    while todo:
        word = todo.pop()
        for ending, base in _ENDINGS:
            stem = word[:-len(ending)] + base
            least = _MIN_PLURAL_BASE if ending == "s" else _MIN_BASE
            if word.endswith(ending) and len(stem) >= least and stem not in found:
                found.add(stem)
                todo.append(stem)
    return frozenset(found)
