"""Feed and LLM text without the characters that draw nothing yet act on whatever shows
it (`visible`), before anyone shows it.
"""
from __future__ import annotations

import re

# Characters that draw nothing yet act on whatever shows the text: C0/C1 controls (an
# ANSI/OSC escape repaints a terminal that prints a log line or a title), bidi embeddings,
# overrides and isolates (U+202E shows "moc.live" as "evil.com"), zero-width spaces and
# invisible operators (they split "@every\u200bone" past a check) and Unicode tag
# characters (text an LLM reads and a person can't see). Also the rest of Unicode's
# default-ignorable marks and letters, which hide inside a word ("paypal.c\u034fom"): the
# combining grapheme joiner, Khmer and Mongolian ones, the standalone Hangul fillers
# and variation selectors, which at most pick a glyph's variant (a run of them carries
# hidden data, as tags do). Kept: tab and newline, ZWNJ and ZWJ (U+200C/D: Persian
# words, emoji sequences), the LRM/RLM marks, which reorder nothing on their own, the
# soft hyphen, the conjoining Hangul fillers (part of a drawn syllable) and an emoji's
# presentation selector U+FE0E/FE0F after what can take one ("❤\ufe0f", a keycap
# "1\ufe0f\u20e3"): not after a letter or dot, nor after another selector.
_DROPPED = ("\x00-\x08\x0b-\x1f\x7f-\x9f\u034f\u061c\u17b4\u17b5\u180b-\u180f\u200b"
            "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0d\ufeff\uffa0\ufff0-\ufff8"
            "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff")
_INVISIBLE = re.compile(f"[{_DROPPED}]|(?:^|(?<=[\x00-\x22\x24-\x29\x2b-\x2f\x3a-\x7f"
                        f"{_DROPPED}\ufe0e\ufe0f]))[\ufe0e\ufe0f]")
# Those isprintable() passes: marks and letters.
_PRINTABLE_INVISIBLE = re.compile("[\u034f\u17b4\u17b5\u180b-\u180d\u180f\u3164\ufe00-\ufe0f"
                                  "\uffa0\U000e0100-\U000e01ef]")


# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters a
# renderer draws as nothing, whatever else they do. Among them marks and letters that
# isprintable() passes: the combining grapheme joiner U+034F, variation selectors, the
# Mongolian and Khmer ones and the Hangul fillers. "paypal.c\u034fom" reads as paypal.com.
IGNORABLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                       "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
                       "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


_ASCII_INVISIBLE = bytes([*range(0x09), *range(0x0b, 0x20), 0x7f])
_ASCII = bytes(range(0x80))


def visible(s: str) -> str:
    """`s` without the characters in _INVISIBLE: feed (and LLM) text, before anyone shows it.

    Every story's text passes here, and the regex's search costs ~5 ns a character (35 us
    for a full-content entry, 20% of the fast parse), so it runs only where a cheaper
    exact test finds a candidate: C0 controls and DEL by a byte delete in C (on ASCII
    text, a flag read, that is all); the other characters, taken out as UTF-8 by another
    delete (a few in English text), by isprintable, false for those in _INVISIBLE that
    are Cc, Cf or unassigned and, once clean_line (feeds/text.py) has run, for little
    else, and by a search for the marks and letters among them. isprintable and that
    search on the whole text took 2.5 times as long on English text."""
    if not s:
        return s
    if s.isascii():   # a flag read, not a scan: then only C0 controls and DEL qualify
        raw = s.encode("ascii")
        if len(raw.translate(None, _ASCII_INVISIBLE)) == len(raw):
            return s
        return _INVISIBLE.sub("", s)
    raw = s.encode("utf-8", "surrogatepass")      # a lone surrogate is no error here
    if len(raw.translate(None, _ASCII_INVISIBLE)) == len(raw):
        # ASCII bytes are never part of a longer character: what is left is whole ones.
        other = raw.translate(None, _ASCII).decode("utf-8", "surrogatepass")
        if other.isprintable() and not _PRINTABLE_INVISIBLE.search(other):
            return s
    return _INVISIBLE.sub("", s)
