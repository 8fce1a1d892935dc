"""Lexical: the words of a story's headline and lead as features for the learned layer.

The gazetteer's phrases carry what we knew to look for; the words carry what the
labelled stories taught. Only the headline is read (and the lead's first characters, if
the model's `lexical.lead_chars` says so), lowercased, with URLs and digits normalised
and outlet names kept out of the vocabulary, so a word stands for the topic rather than
for the outlet that wrote it or the figure it quoted.
A feature is `w:<word>`, `w:<word> <word>` (adjacent words) or `w:<two CJK characters>`,
valued 1 when present; the learned layer's weights (strategy_model.json) decide which
ones count, and a word absent from them costs nothing.
"""
from __future__ import annotations

import re

PREFIX = "w:"
LEAD_CHARS = 300
_URL = re.compile(r"https?://\S+|www\.\S+")
# Every digit becomes 0: "$52bn" and "$6bn" are one word, a year is "0000" (the shape
# of a number says more than its value; this is cheaper than collapsing whole numbers).
_DIGIT = re.compile("[1-9]")
_POSSESSIVE = re.compile(r"'s\b")
_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CHARS}]")
# Latin words (inner apostrophes and dots kept: "don't", "a.i"), CJK runs, and the line
# break between headline and lead (a token, so no pair spans the two; never a feature).
_TOKENS = re.compile(f"[a-z0-9\u00e0-\u024f]+(?:['.][a-z0-9\u00e0-\u024f]+)*|[{_CJK_CHARS}]+|\n")
GAP = "\n"
# Outlet names and photo credits: they would teach the outlet, not the topic (a Verge
# lead starts "Image: The Verge"). The trainer leaves every word and pair holding one
# out of the vocabulary (see in_vocabulary), so the per-story code need not look.
BOILERPLATE = frozenset("""
verge engadget zdnet techcrunch reuters wired gizmodo ars technica cnet macrumors kotaku npr
bbc slashdot hackaday yahoo scmp venturebeat bloomberg image images photo photos illustration
credit getty via continue reading originally appeared post shutterstock screenshot
""".split())


def words(title: str, text: str, bigrams: bool = True, lead_chars: int = LEAD_CHARS) -> set[str]:
    """The headline's and lead's words and adjacent pairs ("cuts prices"), lowercased;
    digits become 0 ("$52bn" -> "00bn"), URLs and possessive 's go, a CJK run becomes its
    character pairs. Inference intersects this with the model's vocabulary, so it is
    built from C-level string, regex and set operations only (it runs per story)."""
    low = (f"{title}\n{text[:lead_chars]}" if lead_chars > 0 else title).lower()
    if "http" in low or "www." in low:
        low = _URL.sub(" ", low)
    low = _DIGIT.sub("0", low).replace("’", "'")
    if "'s" in low:
        low = _POSSESSIVE.sub("", low)
    tokens = _TOKENS.findall(low)
    if not low.isascii() and _CJK.search(low):
        tokens = _cjk_pairs(tokens)
    out = set(tokens)
    if bigrams:
        out.update(map(" ".join, zip(tokens, tokens[1:])))
    return out


def _cjk_pairs(tokens: list[str]) -> list[str]:
    """CJK has no spaces: pairs of characters stand in for its words."""
    out: list[str] = []
    for tok in tokens:
        out += [tok[i:i + 2] for i in range(max(1, len(tok) - 1))] if _CJK.match(tok) else [tok]
    return out


# Words that carry grammar, not topic: a word or pair made of these alone stays out of
# the vocabulary ("plans to" stays in), so the words a verdict lists read as reasons.
STOPWORDS = frozenset("""
a an the of to in on for with and or but is are was were be been being it its this that these
those as at by from has have had will would can could may might do does did not no your you we
our i my he she they their them his her us so if than then there here what which who whom how
why when where all any some more most just also about into over after up out
""".split())


def in_vocabulary(word: str) -> bool:
    """Whether the trainer may give a word or pair a weight: not an outlet name or credit,
    not the headline/lead gap, not stopwords alone."""
    parts = word.split(" ")
    return (GAP not in word and not any(w in BOILERPLATE for w in parts)
            and not all(w in STOPWORDS for w in parts))


def word_features(title: str, text: str, bigrams: bool = True,
                  lead_chars: int = LEAD_CHARS) -> set[str]:
    """words() as feature names (`w:cuts prices`), as the trainer sees them."""
    return {PREFIX + w for w in words(title, text, bigrams, lead_chars)}
