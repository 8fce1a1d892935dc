"""Counts in words people read: "1 feed", "2 feeds", "1 story", "3 stories".

Every count shown to a user (CLI summaries, status, chat replies, digests, log lines)
goes through `count`, so none reads "1 feeds" or hides behind "feed(s)". It lives in
feeds/ because both feeds/ (parser notes) and bot/ use it."""
from __future__ import annotations

def plural(n: int, noun: str) -> str:
    """`noun` as `n` of it reads: "story" for 1, "stories" otherwise (0 stories too)."""
    if n == 1:
        return noun
    head, _, last = noun.rpartition(" ")   # "strategy story": only the last word changes
    return f"{head} {_plural_word(last)}".lstrip() if head else _plural_word(last)


def count(n: int, noun: str) -> str:
    """'1 feed', '2 feeds', '0 new stories' (`noun` in the singular)."""
    return f"{n} {plural(n, noun)}"


def _plural_word(word: str) -> str:
    """English's regular plural, all the nouns counted here need: story -> stories,
    day -> days, feed -> feeds."""
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"
