"""A user's search text, read as a search box reads it: what storage/lookups.py looks for.

Words are all required; `a OR b` takes either (OR binds two words: `openai microsoft OR
google` wants openai and one of the others); `-word` and `NOT word` leave out the stories
with it; "quoted words" are a phrase; AND is the default, so a no-op. Nothing the user
types is FTS5 syntax: each term reaches MATCH as a quoted string of its own, and stray
operators (`AND OR (`) are dropped, so a query never fails to parse.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_OPERATORS = {"AND", "OR", "NOT", "NEAR"}
MAX_TERMS = 16   # a pasted paragraph is not a query; bound its cost

# A token: a quoted phrase (its closing quote optional), -"phrase", or a bare word.
_TOKEN = re.compile(r'-?"[^"]*"?|[^\s"]+')
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
# A word of letters and digits joined by hyphens: "chat-gpt", "gpt-4o", "open-source".
_HYPHENATED = re.compile(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)+")


def excluded(raw: str) -> bool:
    """`-word` (as in every search box): stories with that word are left out."""
    return raw.startswith("-") and any(ch.isalnum() for ch in raw)


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase as typed, outer punctuation and quotes trimmed ("gpt-4o",
    "open source"); `prefix` for a trailing `*`."""
    text: str
    prefix: bool = False

    def forms(self) -> list[str]:
        """The text, and a hyphenated word closed up: writers spell "chat-gpt" ChatGPT
        and "open-source" opensource, and the index holds those as one word."""
        if _HYPHENATED.fullmatch(self.text):
            return [self.text, re.sub(r"[-\u2010\u2011]", "", self.text)]
        return [self.text]

    def fts(self) -> str:
        """FTS5 text for the term: quoted strings (the tokenizer splits `gpt-4o` into the
        phrase "gpt 4o"), OR'd when the term has two forms."""
        star = "*" if self.prefix else ""
        return _either([f'"{form}"{star}' for form in self.forms()])

    def substrings(self) -> list[str]:
        """The forms for a substring scan, lowercased as SQLite's lower() does (ASCII)."""
        return ["".join(ch.lower() if ch.isascii() else ch for ch in form)
                for form in self.forms()]

    def shown(self) -> str:
        return f'"{self.text}"' if " " in self.text else self.text


def _either(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


@dataclass(frozen=True, slots=True)
class Query:
    """Every clause required, any term of a clause enough; none of `without`."""
    clauses: tuple[tuple[Term, ...], ...] = ()
    without: tuple[Term, ...] = ()

    def match(self, *, any_term: bool = False) -> str:
        """The FTS5 MATCH expression: all clauses (any of their terms with any_term).
        "" with nothing to look for (FTS5 has no NOT on its own)."""
        clauses = ([tuple(t for c in self.clauses for t in c)] if any_term and self.clauses
                   else self.clauses)
        found = " AND ".join(_either([t.fts() for t in c]) for c in clauses)
        if not found or not self.without:
            return found
        return f"({found})" + "".join(f" NOT {t.fts()}" for t in self.without)

    def substrings(self) -> list[list[str]]:
        """Per clause, the substrings any of which satisfies it."""
        return [[s for t in c for s in t.substrings()] for c in self.clauses]

    def shunned(self) -> list[str]:
        return [s for t in self.without for s in t.substrings()]

    def wanted(self) -> str:
        """The words looked for, as a reply repeats them: `openai microsoft OR google`."""
        return " ".join(" OR ".join(t.shown() for t in c) for c in self.clauses)


def parse(query: str) -> Query:
    """The user's text as a Query; at most MAX_TERMS words looked for and left out each,
    every term once."""
    # Control characters (NUL ends a string inside SQLite's FTS parser) become spaces.
    query = "".join(ch if ch.isprintable() else " " for ch in query)
    clauses: list[list[Term]] = []
    without: list[Term] = []
    op, joinable = None, False
    for raw in _TOKEN.findall(query):
        if raw in _OPERATORS:
            op = raw
            continue
        leave_out = op == "NOT" or excluded(raw)
        term = _term(raw.lstrip("-") if excluded(raw) else raw)
        if term is None:        # punctuation: `( openai OR microsoft )` still reads
            continue
        seen = [t for c in clauses for t in c]
        if leave_out:
            if term not in without and len(without) < MAX_TERMS:
                without.append(term)
        elif term not in seen and len(seen) < MAX_TERMS:
            if op == "OR" and joinable:
                clauses[-1].append(term)
            else:
                clauses.append([term])
        op, joinable = None, not leave_out
    return Query(tuple(tuple(c) for c in clauses), tuple(without))


def _term(raw: str) -> Term | None:
    """A token as a Term: quotes and stars are no syntax here, outer punctuation goes
    (`(openai`, `gpt-4o.`); None when no letter or digit is left."""
    prefix = raw.rstrip('"').endswith("*")
    text = " ".join(raw.replace('"', " ").replace("*", " ").split())
    text = _EDGES.sub("", text)
    if not any(ch.isalnum() for ch in text):
        return None
    return Term(text, prefix and len(text) >= 2)
