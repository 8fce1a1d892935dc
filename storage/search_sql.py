"""The substring scan's SQL (storage/search.py): a word looked for in a column as LIKE
finds it, a Chinese word as a substring, a Latin one then as a whole word (has_word, a
SQL function the store registers), with a version written onto a name of letters."""
from __future__ import annotations

import re
from functools import lru_cache

from storage.query import UNSPACED as _UNSPACED, UNSPACED_BREAK

__all__ = ["anywhere", "has_word", "has_sql", "joined"]


def _cased(word: str) -> bool:
    return any(ch.isascii() and ch.isalpha() for ch in word)


def _latin(word: str) -> bool:
    """A word of Latin letters and digits (h20, qwen3, gpt-4o): found only as a whole word."""
    return not _UNSPACED.search(word) and any(ch.isascii() and ch.isalnum() for ch in word)


@lru_cache(maxsize=256)
def _whole_word(word: str) -> re.Pattern:
    # A name of letters takes a version written onto it: the index holds "Qwen3.5" as
    # "qwen3 5", so `qwen` found no Qwen3 (`GPT-5` finds GPT-5.1 as the words "gpt 5").
    after = "A-Za-z" if word.isascii() and word.isalpha() else "A-Za-z0-9"
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![{after}])",
                      re.ASCII | re.IGNORECASE)


def has_word(text: str | None, word: str) -> bool:
    """SQL function has_word(text, word): `word` in `text` with no Latin letter or digit
    right before or after it, ASCII case ignored ("H20" in "英伟达H20被要求", "ai" not in
    "said"), but for digits after a word of letters (`qwen` in "Qwen3.5", a model's
    version). The store registers it on its connection."""
    return bool(text) and _whole_word(word).search(text) is not None


def has_sql(word: str, column: str) -> tuple[str, list]:
    """SQL (and its parameters) true when `column` holds `word`: a Chinese word as a
    substring, a Latin one as a whole word (see has_word)."""
    # LIKE ignores ASCII case without copying the text (instr(lower()) copied it, 5 x
    # slower), and reads Chinese text in half the time instr takes (which a word's
    # spellings in both scripts, hanzi.variants, each cost); then the whole-word test
    # (in Python) where LIKE found one. A pasted word longer than SQLite's LIKE pattern
    # limit (50,000) keeps instr.
    if len(word) > 1000:
        found, params = (f"instr(lower({column}), ?)" if _cased(word)
                         else f"instr({column}, ?)"), [word]
    else:
        found, params = f"{column} LIKE ? ESCAPE '\\'", [_like(word)]
    if not _latin(word):
        return found, params
    return f"(CASE WHEN {found} THEN has_word({column}, ?) ELSE 0 END)", [*params, word]


def _like(word: str) -> str:
    """LIKE pattern for `word` anywhere. A Chinese one with punctuation in it (a quoted
    phrase: the chat folds its "，" to ",", which the story keeps full-width) is its
    clauses in order (LIKE bounds no gap: Term.strict then wants only punctuation
    between them, storage/query.py)."""
    pieces = [p for p in UNSPACED_BREAK.split(word) if p] if _UNSPACED.search(word) else [word]
    return "%" + "%".join(re.sub(r"([\\%_])", r"\\\1", p) for p in pieces) + "%"


def anywhere(forms: list[str]) -> tuple[str, list]:
    """SQL (and its parameters) true when the title or the text holds any of `forms`."""
    return joined([has_sql(f, c) for f in forms for c in ("title", "text")], " OR ")


def joined(parts: list[tuple[str, list]], join: str) -> tuple[str, list]:
    """SQL pieces joined by `join` (" AND ", " OR "), in parentheses, with their parameters."""
    return ("(" + join.join(sql for sql, _ in parts) + ")",
            [v for _, params in parts for v in params])
