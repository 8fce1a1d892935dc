"""What a search the store will not run is told: a query with nothing to look for, and
one too costly to run or stopped at its time budget (storage/query.py too_broad,
storage/search.py), each with what to change. Used by Commands.search (bot/commands.py)."""
from __future__ import annotations

import re

from bot import examples as ex
from bot.commands_text import quote
from bot.examples import Text, say
from storage.query import (MAX_PHRASE, MAX_PREFIXES, MAX_QUERY, MAX_TERMS, PREFIX_LETTERS,
                           Query, TooBroad)


# A phrase to look for: opening quotes not after a -, which leaves the phrase out.
_PHRASE = re.compile(r'(?<![-\w])"([^"]*)"?')
_CURLY = str.maketrans(dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\uff02", '"'))


def words_apart(query: str) -> str | None:
    """`query` with its phrases to look for unquoted (`"alibaba revenue"` -> alibaba
    revenue), or None when it has none; phrases left out (-"x y", NOT "x y") stay."""
    typed = query.translate(_CURLY)
    if re.search(r'\bNOT\s+"', typed):
        return None
    apart = " ".join(_PHRASE.sub(lambda m: f" {m.group(1)} ", typed).split())
    return apart if apart != " ".join(typed.split()) else None


def nothing_to_find(query: str, wanted: Query) -> Text:
    """Why a query has nothing to look for: only -WORDs, or no letter or digit at all."""
    if wanted.without:
        return say("give a word to look for too: -WORD only leaves out the stories with "
                   "WORD (as NOT WORD does), e.g. {}", ex.SEARCH_EXCLUDE_EG)
    return say("'{}' has no word to search for (letters or digits), e.g. {}", quote(query),
               ex.SEARCH_EG)


def too_broad_text(why: TooBroad) -> Text:
    """What of a search would take too long, and how to narrow it: an answer, not a
    silent change of the query (storage/query.py too_broad, storage/search.py)."""
    if why.kind == "long":
        return say(f"that search is {why.count} characters long, over {MAX_QUERY}: keep "
                   "the few words that tell the story apart, e.g. {}", ex.SEARCH_EG)
    if why.kind == "phrase" and " " not in why.term:    # typed as one word, no quotes
        return _one_long_word(why)
    if why.kind in ("words", "left out", "phrase"):
        return _too_many_words(why)
    if why.kind in ("prefix", "prefixes"):
        return _too_many_prefixes(why)
    return say("that search is too broad to answer quickly: add a rarer word, drop a common "
               "one or write out a word ending in *, e.g. {}", ex.SEARCH_EG)


def _too_many_words(why: TooBroad) -> Text:
    """Too many words to look for, to leave out, or in one quoted phrase."""
    if why.kind == "words":
        counted = ("a Chinese one is read as the words between its punctuation"
                   if why.unspaced else "a quoted phrase is one")
        return say(f"that search looks for {why.count} words, at most {MAX_TERMS} "
                   f"({counted}): keep the few that tell the story apart, e.g. {{}}",
                   ex.SEARCH_CHINESE_EG if why.unspaced else ex.SEARCH_EG)
    if why.kind == "left out":
        return say(f"that search leaves out {why.count} words, at most {MAX_TERMS}: leave "
                   "out only the few that bring the wrong stories, e.g. {}",
                   ex.SEARCH_EXCLUDE_EG)
    return say(f"'{{}}' is too long to search for as one phrase ({why.count} words, "
               f"at most {MAX_PHRASE}): quote only the words that must stand together, "
               "e.g. {}", quote(why.term), ex.SEARCH_PHRASE_EG)


def _too_many_prefixes(why: TooBroad) -> Text:
    """A start of a word too short to look for, or too many words ending in *."""
    if why.kind == "prefix" and _version(why.term):
        return say("'{}*' is too short a start of a word to search for: search for '{}' "
                   "without the *, which finds the versions after it too: {} finds GPT-5.1 "
                   "and GPT-5-mini", quote(why.term), quote(why.term), ex.SEARCH_VERSION_EG)
    if why.kind == "prefix":
        return say(f"'{{}}*' is too short a start of a word to search for: give at least "
                   f"{PREFIX_LETTERS} letters before the * (after any hyphen), e.g. {{}}",
                   quote(why.term), ex.SEARCH_PREFIX_EG)
    return say(f"that search has {why.count} words ending in *, at most {MAX_PREFIXES}: "
               "write the others out in full, e.g. {}", ex.SEARCH_PREFIX_EG)


def _version(term: str) -> bool:
    """A model and its version (`gpt-4o`, `qwen2.5`, `GPT-5`): a last part with a digit
    after a hyphen or dot. Typed without a *, the index finds it as the words it holds, so
    with whatever follows (GPT-5.1 is "gpt 5 1" to it)."""
    parts = re.findall(r"[^\W_]+", term)
    return len(parts) > 1 and any(ch.isdigit() for ch in parts[-1])


def _one_long_word(why: TooBroad) -> Text:
    """A word of too many parts to the index (`a-b-c-...`), or a story's link pasted in
    (11 "words"), which /why reads: no quotes to drop."""
    if re.match(r"https?://", why.term, re.IGNORECASE):
        return say("that is a link: {} says why its story was posted or not; to search, "
                   "type a few words of its headline, e.g. {}", ex.why_named(why.term),
                   ex.SEARCH_EG)
    return say(f"'{{}}' is too long to search for as one word ({why.count} parts, at most "
               f"{MAX_PHRASE}): search for its telling parts, with spaces between them, "
               "e.g. {}", quote(why.term), ex.SEARCH_EG)
