"""Word sets for the condenser: a sentence's content words, and when two overlap.

Bullets, the why line and the dek are compared as sets of lowercased content words
(stop words dropped, a plural's "s" cut; CJK as character bigrams, having no spaces).
"""
from __future__ import annotations

import re

__all__ = ["CJK", "restates", "similar", "tokens", "word_count"]

_STOP = frozenset("""
a an the and or but if of to in on at by for with from as is are was were be been being it
its this that these those has have had do does did not no so than then there their they
them he she his her we our you your i me my will would can could may might should also
about into over after before more most such which who whom what when where while up out
said says say just new one two its it's
""".split())
_TOKEN = re.compile(r"[a-z0-9]+(?:[.\-'’][a-z0-9]+)*|[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+")
# Chinese characters only: the test of a sentence for the Chinese rules (cue phrases,
# shorter sentences).
CJK = re.compile("[\u4e00-\u9fff]")
# Scripts written without spaces (Chinese and Japanese, kana included) are compared as
# character pairs; Korean puts spaces between words, so Hangul stays whole words.
_UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u9fff]")
_HANZI = re.compile("[\u3400-\u9fff]")


def word_count(text: str) -> int:
    """Words in `text`; Chinese, written without spaces, at about two characters a word
    (split() alone made every Chinese list item or headline one "word")."""
    hanzi = len(_HANZI.findall(text))
    return len(_HANZI.sub(" ", text).split()) + (hanzi + 1) // 2


def tokens(text: str) -> frozenset[str]:
    out = set()
    for tok in _TOKEN.findall(text.lower()):
        if _UNSPACED.match(tok):  # no spaces: character pairs stand in for words
            out.update(tok[i:i + 2] for i in range(max(1, len(tok) - 1)))
            continue
        if tok.endswith(("'s", "’s")):
            tok = tok[:-2]
        if tok in _STOP or len(tok) < 2:
            continue
        out.add(tok[:-1] if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss") else tok)
    return frozenset(out)


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    """Near-duplicates: most words shared, in either direction."""
    if not a or not b:
        return False
    shared = len(a & b)
    return shared / len(a | b) >= 0.5 or shared / min(len(a), len(b)) >= 0.8


def restates(toks: frozenset[str], title: frozenset[str]) -> bool:
    """A sentence made mostly of the headline's words adds nothing under it."""
    if not toks or not title:
        return False
    shared = len(toks & title)
    return shared / len(toks) >= 0.6 or shared / len(toks | title) >= 0.5
