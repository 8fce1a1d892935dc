"""Tables on the command line (`feeds list`, `subs`, `status`, `feeds check`): columns
lined up as a terminal shows them, each cell one line of text it can show."""
from __future__ import annotations

from unicodedata import category, east_asian_width


def format_table(head: list[str], rows: list[list[str]]) -> str:
    rows = [[_cell(v) for v in r] for r in rows]
    widths = [max(map(_width, col)) for col in zip(head, *rows)] if rows else map(len, head)
    lines = ["  ".join(_pad(str(v), w) for v, w in zip(r, widths)).rstrip()
             for r in [head, *rows]]
    return "\n".join(lines)


def _width(text: str) -> int:
    """Columns a terminal gives the text: a CJK feed name (科技快讯) takes two per
    character, and padding by len() pushed the rest of its row out of line."""
    return sum(map(_columns, str(text)))


def _columns(c: str) -> int:
    """As the terminal (wcwidth): none for an accent written after its letter (Café
    as e + U+0301, Thai and Hindi vowel signs) or a zero-width mark (a title's BOM)."""
    if east_asian_width(c) in "WF":
        return 2
    return 0 if category(c) in ("Mn", "Me", "Cf") and c != "\xad" else 1   # soft hyphen: 1


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _cell(value) -> str:
    """One table cell: one line, no control characters (feed text: see terminal_text)."""
    from bot.console import terminal_text
    return terminal_text(" ".join(str(value).split()))
