"""Feed and LLM text without the characters that draw nothing yet act on whatever shows
it (`visible`), before anyone shows it.
"""
from __future__ import annotations

import re

# Characters that draw nothing yet act on whatever shows the text: C0/C1 controls (an
# ANSI/OSC escape repaints a terminal that prints a log line or a title), bidi embeddings,
# overrides and isolates (U+202E shows "moc.live" as "evil.com"), zero-width spaces and
# invisible operators (they split "@every\u200bone" past a check) and Unicode tag
# characters (text an LLM reads and a person can't see). Kept: tab and newline, ZWNJ and
# ZWJ (U+200C/D: Persian words, emoji sequences) and the LRM/RLM marks, which reorder
# nothing on their own.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u202a-\u202e"
                        "\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")


# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters a
# renderer draws as nothing, whatever else they do. Among them marks and letters that
# isprintable() passes: the combining grapheme joiner U+034F, variation selectors, the
# Mongolian and Khmer ones and the Hangul fillers. "paypal.c\u034fom" reads as paypal.com.
IGNORABLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                       "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
                       "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


_ASCII_INVISIBLE = bytes([*range(0x09), *range(0x0b, 0x20), 0x7f])


def visible(s: str) -> str:
    """`s` without the characters in _INVISIBLE: feed (and LLM) text, before anyone shows it.

    Every story's text passes here, and the regex's search costs ~5 ns a character (35 us
    for a full-content entry, 20% of the fast parse), so it runs only where a cheaper
    exact test finds a candidate: ASCII text by a byte delete in C; other text by
    isprintable, false for every character in _INVISIBLE (all are Cc, Cf or unassigned)
    and, once clean_line (feeds/text.py) has run, for little else."""
    if not s:
        return s
    if s.isascii():   # a flag read, not a scan: then only C0 controls and DEL qualify
        raw = s.encode("ascii")
        if len(raw.translate(None, _ASCII_INVISIBLE)) == len(raw):
            return s
    elif all(map(str.isprintable, s.split("\n"))):
        return s
    return _INVISIBLE.sub("", s)
