"""A user's search text, read as a search box reads it: what storage/search.py looks for.

Words are all required; `a OR b` takes either (OR binds two words: `openai microsoft OR
google` wants openai and one of the others); `-word` and `NOT word` leave out the stories
with it; "quoted words" are a phrase; AND is the default, so a no-op. Nothing the user
types is FTS5 syntax: each term reaches MATCH as a quoted string of its own, and stray
operators (`AND OR (`) are dropped, so a query never fails to parse.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from feeds.hanzi import simplified

_OPERATORS = {"AND", "OR", "NOT", "NEAR"}
MAX_TERMS = 16   # words looked for, and left out, each: a pasted paragraph is no query
# What a search may ask for (TooBroad otherwise): FTS5 reads the doclist of every word a
# prefix expands to (`a-b*` is the phrase "a b*": every word starting with b) and of each
# word of a phrase, so these bound a search's cost, not its term count. At a million
# stories 16 hyphenated prefixes took 9.7 s and one phrase of 3,000 characters 57 s.
MAX_QUERY = 300      # characters: Discord's /search takes 200
MAX_PREFIXES = 3     # terms ending in *
PREFIX_LETTERS = 3   # letters or digits before a * (after any hyphen or dot)
MAX_PHRASE = 8       # words in one phrase or hyphenated word

# A token: a quoted phrase (its closing quote optional), -"phrase", or a bare word.
_TOKEN = re.compile(r'-?"[^"]*"?|[^\s"]+')
_QUOTES = str.maketrans(dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\uff02", '"'))
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_WORDS = re.compile(r"[^\W_]+")   # the words the index reads in a term
# A word of letters and digits joined by hyphens: "chat-gpt", "gpt-4o", "open-source".
_HYPHENATED = re.compile(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)+")
# An abbreviation written with dots, its last one trimmed: "U.S", "U.K", "E.U".
_DOTTED = re.compile(r"[A-Za-z](?:\.[A-Za-z])+")
# Two capitals typed, "US", "UK", "EU": an abbreviation, as a writer would dot it too.
_CAPITALS = re.compile(r"[A-Z]{2}")
# Scripts written without spaces between words (CJK ideographs, kana): the index holds a
# whole clause as one token, so storage/search.py looks for them as substrings instead.
UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                      "\U00020000-\U0002fa1f]")
# Where a Chinese term parts into words: at punctuation (，、。；：！？「」【】《》..., as
# NFKC leaves them or folds them to ASCII), as a space parts Latin ones; not inside a
# number or a Latin name (4.5, 1,000, GPT-4o). A pasted headline is its clauses.
UNSPACED_BREAK = re.compile(r"(?<![A-Za-z0-9])[\W_]+|[\W_]+(?![A-Za-z0-9])|[^\w.,'-]+")


@dataclass(frozen=True, slots=True)
class TooBroad:
    """Why a search was not run: `kind` "long" (over MAX_QUERY characters, `count`),
    "words" or "left out" (`count` terms to look for or to leave out, over MAX_TERMS),
    "prefix" (`term` has fewer than PREFIX_LETTERS before its *), "prefixes" (`count`
    terms end in *; a Chinese one counts for neither), "phrase" (`term` has `count`
    words) or "slow" (it ran past its time budget, storage/search.py). `unspaced`: the
    query is Chinese (or Japanese), whose words are what lies between its punctuation."""
    kind: str
    term: str = ""
    count: int = 0
    unspaced: bool = False


def too_broad(query: str, wanted: Query) -> TooBroad | None:
    """What of `query` (read as `wanted`) would cost too much to look for, if anything."""
    if len(query) > MAX_QUERY:
        return TooBroad("long", count=len(query))
    if wanted.typed[0] > MAX_TERMS:     # the 17th word would have had no effect, unsaid
        return TooBroad("words", count=wanted.typed[0], unspaced=bool(UNSPACED.search(query)))
    if wanted.typed[1] > MAX_TERMS:
        return TooBroad("left out", count=wanted.typed[1])
    terms = [t for c in wanted.clauses for t in c] + list(wanted.without)
    # A Chinese word is a substring to the bounded scan: its * costs nothing (华为*).
    prefixes = [t for t in terms if t.prefix and not UNSPACED.search(t.text)]
    for term in terms:
        words = _WORDS.findall(term.text)
        if len(words) > MAX_PHRASE:
            return TooBroad("phrase", term.text, len(words))
        if term in prefixes and len(words[-1]) < PREFIX_LETTERS:
            return TooBroad("prefix", term.text)
    return TooBroad("prefixes", count=len(prefixes)) if len(prefixes) > MAX_PREFIXES else None


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
        """The text, and a hyphenated word or a dotted abbreviation closed up: writers
        spell "chat-gpt" ChatGPT, "open-source" opensource and "U.S." US."""
        if _HYPHENATED.fullmatch(self.text):
            return [self.text, re.sub(r"[-\u2010\u2011]", "", self.text)]
        if _DOTTED.fullmatch(self.text):
            return [self.text, self.text.replace(".", "")]
        if _CAPITALS.fullmatch(self.text) and not self.prefix:
            return [self.text, ".".join(self.text) + "."]
        return [self.text]

    def strict(self) -> Written | None:
        """What a story must hold where the index's match is looser than the term, else
        None. The index stems words (porter): a prefix is stemmed too, so `opens*`
        matched every word from "open" ("openai"), and "US" is also "use", "using".
        The index holds "U.S." as the words "u s": only the story's text tells "U.S."
        from "U S". So: a prefix as typed, at a word's start (any case), and an
        abbreviation as written, "U.S." or "US" (case kept: "us" is a pronoun), typed
        either way: "US" found "use" and "using" (281 of 403 results on the shared corpus)."""
        if len(clauses := self.clauses()) > 1:
            return Written(_in_order(tuple(clauses)), folded=True, simplify=True)
        if _DOTTED.fullmatch(self.text) or (_CAPITALS.fullmatch(self.text) and not self.prefix):
            return Written(_at_word_start(tuple(self.forms()), spaced=False), folded=False)
        if not self.prefix:
            return None
        forms = tuple(f.lower() for f in self.forms())
        return Written(_at_word_start(forms, spaced=True, whole=False), folded=True)

    def clauses(self) -> list[str]:
        """A Chinese term's parts between its punctuation, lowercased: more than one only
        in a quoted phrase (parse() parts an unquoted one), which the substring scan
        finds in order (storage/search.py) and strict() next to each other."""
        if not UNSPACED.search(self.text):
            return [self.text.lower()]
        return [p.lower() for p in UNSPACED_BREAK.split(self.text) if p]

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


@dataclass(frozen=True, slots=True)
class Written:
    """A term as a story must write it (Term.strict); `folded`: in any case;
    `simplify`: in simplified or traditional characters (feeds/hanzi.py)."""
    pattern: re.Pattern
    folded: bool
    simplify: bool = False

    def search(self, text: str | None) -> bool:
        text = text or ""
        text = simplified(text) if self.simplify else text
        return self.pattern.search(text.lower() if self.folded else text) is not None


@lru_cache(maxsize=256)
def _in_order(clauses: tuple[str, ...]) -> re.Pattern:
    """A quoted Chinese phrase's parts with only punctuation or spaces between them (the
    story's "，" where the chat folded the typed one to ","), in simplified characters."""
    return re.compile(r"[\W_]*".join(re.escape(simplified(c)) for c in clauses))


@lru_cache(maxsize=256)
def _at_word_start(forms: tuple[str, ...], *, spaced: bool, whole: bool = True) -> re.Pattern:
    """Any of `forms` with no Latin letter or digit before it (`whole`: nor after it:
    "AI" is a word in "AI芯片", as the unspaced scan finds it, search_sql.has_word);
    `spaced`: its words apart as the index reads them (any punctuation or space between),
    else exactly as written. The look-behind comes after a form's first word: a pattern
    opening with a literal word is found fast (one opening with the look-behind read
    2,000 stories of 2 KB in ~100 ms, not ~5)."""
    def one(form: str) -> str:
        words = re.split(r"[\W_]+", form) if spaced else [form]
        head, rest = words[0], "".join(r"[\W_]+" + re.escape(w) for w in words[1:])
        return rf"{re.escape(head)}(?<![A-Za-z0-9].{{{len(head)}}}){rest}"
    end = r"(?![A-Za-z0-9])" if whole else ""
    return re.compile("(?:" + "|".join(one(f) for f in forms) + ")" + end)


def _either(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


@dataclass(frozen=True, slots=True)
class Query:
    """Every clause required, any term of a clause enough; none of `without`. `typed`:
    how many different terms the user gave to look for and to leave out, those past
    MAX_TERMS (not kept) too."""
    clauses: tuple[tuple[Term, ...], ...] = ()
    without: tuple[Term, ...] = ()
    typed: tuple[int, int] = (0, 0)

    def match(self, *, any_term: bool = False) -> str:
        """The FTS5 MATCH expression: all clauses (any of their terms with any_term).
        "" with nothing to look for (FTS5 has no NOT on its own)."""
        clauses = ([tuple(t for c in self.clauses for t in c)] if any_term and self.clauses
                   else self.clauses)
        found = " AND ".join(_either([t.fts() for t in c]) for c in clauses)
        if not found or not self.without:
            return found
        return f"({found})" + "".join(f" NOT {t.fts()}" for t in self.without)

    def loose(self, *, any_term: bool = False) -> list[list[Written]]:
        """Per clause (as match() joins them) that the index matches more loosely than
        it reads, its terms' strict() tests: a story found must pass one of each. (A
        clause with a term of no such test, `opens* OR openai`, stays as the index
        reads it: which of its terms a story matched is the index's to say.)"""
        clauses = ([tuple(t for c in self.clauses for t in c)] if any_term and self.clauses
                   else self.clauses)
        tests = [[t.strict() for t in c] for c in clauses]
        return [ts for ts in tests if all(ts)]

    def substrings(self) -> list[list[str]]:
        """Per clause, the substrings any of which satisfies it."""
        return [[s for t in c for s in t.substrings()] for c in self.clauses]

    def shunned(self) -> list[str]:
        return [s for t in self.without for s in t.substrings()]

    def wanted(self) -> str:
        """The words looked for, as a reply repeats them: `openai microsoft OR google`."""
        return " ".join(" OR ".join(t.shown() for t in c) for c in self.clauses)


def tokens(query: str) -> list[str]:
    """The user's text as the search splits it: words, "phrases" (the closing quote
    optional) and -"phrases", an apostrophe part of its word (nvidia's)."""
    # Control characters (NUL ends a string inside SQLite's FTS parser) become spaces;
    # a phone's or a Mac's curly quotes are quotes (“open source” is a phrase).
    query = "".join(ch if ch.isprintable() else " " for ch in query).translate(_QUOTES)
    return _TOKEN.findall(query)


def parse(query: str) -> Query:
    """The user's text as a Query; at most MAX_TERMS words looked for and left out each
    (too_broad refuses more), every term once."""
    clauses: list[list[Term]] = []
    without: list[Term] = []
    typed: tuple[set[Term], set[Term]] = (set(), set())   # a set: a pasted page is long
    op, joinable = None, False
    for raw in tokens(query):
        if raw in _OPERATORS:
            op = raw
            continue
        leave_out = op == "NOT" or excluded(raw)
        # Punctuation alone (`( openai OR microsoft )`) is no term: it still reads.
        for term in _terms(raw.lstrip("-") if excluded(raw) else raw):
            typed[leave_out].add(term)
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
    return Query(tuple(tuple(c) for c in clauses), tuple(without), tuple(map(len, typed)))


def _terms(raw: str) -> list[Term]:
    """A token's terms: one, or a Chinese one's words between its punctuation (a pasted
    headline's clauses, 芯片、英伟达): each required, as words apart are. A quoted
    phrase is kept whole, as typed: its words must stand together."""
    term = _term(raw)
    if term is None or raw.startswith('"') or not UNSPACED.search(term.text):
        return [term] if term else []
    words = [t for w in UNSPACED_BREAK.split(term.text) if (t := _term(w))]
    return [replace(t, prefix=term.prefix) if i == len(words) - 1 else t
            for i, t in enumerate(words)]


def _term(raw: str) -> Term | None:
    """A token as a Term: quotes and stars are no syntax here, outer punctuation goes
    (`(openai`, `gpt-4o.`); None when no letter or digit is left."""
    prefix = raw.rstrip('"').endswith("*")
    text = " ".join(raw.replace('"', " ").replace("*", " ").split())
    text = _EDGES.sub("", text)
    if not any(ch.isalnum() for ch in text):
        return None
    return Term(text, prefix)
