"""Validating an LLM brief (feeds/llm.py): three distinct bullets, bounded lengths, and
every figure, capitalised name, company name and web address found in the story the
model was shown.

Figures are compared by value in any form news writes them (feeds/figures.py: "2
billion" = "2bn" = "two billion" = "20亿" = "二十亿"); company names by company, whatever
name the story uses for it (feeds/company_names.py: 阿里云 is Alibaba)."""
from __future__ import annotations

import re

from feeds.company_names import CompanyNames, Mention, bundled_names
from feeds.figures import NUMBER_WORDS, read_figures
from feeds.hostile import named_hosts
from feeds.invisible import visible
from feeds.money import amounts
from feeds.llm_reply import LLMRejected
from feeds.wordsets import CJK

MAX_BULLET = 200
MAX_WHY = 300
MAX_HEADLINE = 120


def validate(answer: dict, source: str, names: CompanyNames | None = None,
             fewest: int = 3) -> tuple[str, list[str], str]:
    """(headline, bullets, why) of a valid answer, or LLMRejected saying what is wrong.
    `names`: the gazetteer's company names (the bundled gazetteer's when None);
    `fewest`: the bullets it must have, up to three (feeds/llm_prompt.py fewest_bullets:
    none for a teaser of a sentence or two)."""
    headline = _field(answer, "headline", MAX_HEADLINE)
    why = _field(answer, "why_it_matters", MAX_WHY)
    bullets = answer.get("bullets")
    if not isinstance(bullets, list) or not fewest <= len(bullets) <= 3:
        raise LLMRejected("bullets must be a list of exactly three" if fewest == 3 else
                          "bullets must be a list of at most three")
    clean = [_text(b, "bullet", MAX_BULLET) for b in bullets]
    if len({b.lower() for b in clean}) < len(clean):
        raise LLMRejected("bullets repeat each other")
    grounded = _Grounding(source, names or bundled_names())
    for b in clean + [headline, why]:
        grounded.check(b)
    return headline, clean, why


# A brief in its story's language (README), told by script: the share of its letters that
# are Chinese characters. The grounding let a brief in the wrong language through: its
# names and figures can all be the story's (companies by company, 85% is 85%). Only a story
# clearly in one script is checked, and a brief must be mostly in the other to fail: an
# English brief quoting 通义千问, a Chinese one naming GPT-4o, pass.
CHINESE_STORY, CHINESE_BRIEF = 0.5, 0.2   # a story this Chinese wants a brief at least this
LATIN_STORY, LATIN_BRIEF = 0.1, 0.5       # a story at most this Chinese, one below this


def same_language(brief: str, source: str) -> None:
    """LLMRejected when the brief's text is in Chinese and the story's not, or the other
    way round. Apart from validate, whose checks are per field (feeds/llm.py calls both)."""
    story, said = _han_share(source), _han_share(brief)
    if story >= CHINESE_STORY and said < CHINESE_BRIEF:
        raise LLMRejected("brief is not in Chinese, the story's language")
    if story <= LATIN_STORY and said >= LATIN_BRIEF:
        raise LLMRejected("brief is in Chinese, the story is not")


def _han_share(text: str) -> float:
    letters = sum(map(str.isalpha, text))   # Han characters are letters too
    return len(CJK.findall(text)) / letters if letters else 0.0


def _field(answer: dict, key: str, limit: int) -> str:
    return _text(answer.get(key), key, limit)


def _text(value, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LLMRejected(f"{what} is missing or empty")
    # The model's answer is as untrusted as the feed it read: the same characters go.
    value = " ".join(visible(value).split())
    if len(value) > limit:
        raise LLMRejected(f"{what} is longer than {limit} characters")
    return value


# A word in any script but the CJK ones (their names have no capitals to find; figures
# and company names are still checked): a name is one with a capital anywhere in it.
# ASCII-only, "Micrоsoft" with a Cyrillic о, "Ｍｅｔａ" in full-width letters, "Ébay" and
# "xAI" went unchecked, so a model could name a company the story never mentions and pass.
_WORD = re.compile(r"[^\W_\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
                   r"(?:[-.][^\W_\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]+)*")
_COMMON = {"The", "This", "That", "These", "It", "Its", "A", "An", "In", "On", "As", "And",
           "But", "For", "With", "Why", "What", "How", "Chinese", "American", "US", "AI",
           # the readers a why line speaks to, capitalised as a sentence's first word
           "Investors", "Developers", "Users", "Customers", "Businesses", "Enterprises",
           "Companies", "Rivals", "Competitors", "Regulators", "Analysts", "Consumers",
           "Startups", "Buyers", "Researchers", "Policymakers", "Governments", "Firms"}


class _Grounding:
    """Every figure, capitalised name and company name must be the story's: no invented
    facts. Whole figures and whole words only: "8%" is not in "85%", nor "Ten" in
    "Tencent"; a figure by value ("three billion" is in "$3bn", not in "$2 billion")."""

    def __init__(self, source: str, names: CompanyNames):
        self.names = names
        self.companies = names.named(source)
        stated = amounts(_unnamed(source, names.find(source)))
        self.values = frozenset().union(*(gives for _, gives, _ in stated))
        self.money = _Money(stated)
        self.lowered = source.lower()
        self.hosts = frozenset(named_hosts(source))

    def check(self, text: str) -> None:
        self._addresses(text)
        mentions = self.names.find(text)
        unnamed = _unnamed(text, mentions)
        for fig in read_figures(unnamed):
            if fig.says and fig.says.isdisjoint(self.values):
                raise LLMRejected(f"figure {fig.text!r} is not in the story",
                                  "figure not in the story")
        self.money.check(unnamed)
        self._names(text)
        for mention in mentions:   # after the name check, which says more of a Latin name
            if mention.companies.isdisjoint(self.companies):
                raise LLMRejected(f"company {mention.text!r} is not in the story",
                                  "company not in the story")

    def _addresses(self, text: str) -> None:
        # A web address is where a reader goes next: one the story never gave ("verify
        # at qwen-billing.example") is as invented as a name, whatever its case. A host
        # is grounded by itself or a subdomain of it in the story; a URL only as written.
        for host in named_hosts(text):
            if not any(h == host or h.endswith("." + host) for h in self.hosts):
                raise LLMRejected(f"web address {host!r} is not in the story",
                                  "web address not in the story")
        for url in _URL.findall(text):
            url = url.rstrip(_URL_END)
            if url.lower() not in self.lowered:
                raise LLMRejected(f"web address {url!r} is not in the story",
                                  "web address not in the story")

    def _names(self, text: str) -> None:
        for name in filter(_is_name, _WORD.findall(text)):
            # Case-insensitive: a sentence's capitalised first word is usually in the text;
            # singular or plural ("APIs" for "API") count as the same word.
            stem = re.escape(re.sub(r"(?<=\w{3})e?s$", "", name.lower()))
            if not re.search(
                    rf"(?<![a-z0-9]){stem}(?:e?s)?(?![a-z0-9])", self.lowered):
                raise LLMRejected(f"name {name!r} is not in the story",
                                  "name not in the story")


class _Money:
    """A brief's amount must not be the story's in another currency: "66亿元" (yuan) for
    the story's "66亿美元", the value alone grounded it (feeds/money.py). Only an amount
    the story states in currencies all different, and never bare, is refused: a story
    naming no currency for it, or the brief none, contradicts nothing."""

    def __init__(self, stated: list[tuple[frozenset, frozenset, frozenset[str]]]):
        self.named: dict = {}   # value -> the currencies the story states it in
        self.bare: set = set()  # values it states without one
        for says, gives, currencies in stated:   # feeds/money.py amounts
            for value in says:
                if currencies:
                    self.named.setdefault(value, set()).update(currencies)
            if not currencies:
                self.bare.update(gives)

    def check(self, text: str) -> None:
        for says, _, currencies in amounts(text):
            stated = [self.named[v] for v in says if v in self.named]
            if (currencies and stated and says.isdisjoint(self.bare)
                    and all(currencies.isdisjoint(c) for c in stated)):
                raise LLMRejected(f"an amount of the story is given in another currency "
                                  f"({'/'.join(sorted(currencies))}, the story's "
                                  f"{'/'.join(sorted(set().union(*stated)))})",
                                  "amount in another currency")


_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s<>\"]+", re.IGNORECASE)
_URL_END = ".,;:!?)]}'\"…"     # punctuation after a URL in a sentence, not part of it


def _unnamed(text: str, mentions: list[Mention]) -> str:
    """text without its Han-script company names, whose characters may be numerals
    (百度, 三星, 零一万物) but are no figures. Latin names keep theirs: "Qwen3" for
    "Qwen2.5" is a figure the story lacks."""
    pieces, at = [], 0
    for m in mentions:   # in order, none overlapping; one copy of text, not one per name
        if CJK.search(m.text):
            pieces += [text[at:m.start], " " * (m.end - m.start)]
            at = m.end
    return "".join(pieces) + text[at:] if pieces else text


def _is_name(word: str) -> bool:
    # A capital anywhere ("xAI"); a script without case (Arabic, Thai) has no names to
    # find. Figures are checked as figures, not names: a word that begins with a digit
    # ("7B", "128K") and number words ("Three-year" is 3, "Hundreds" says none).
    if len(word) < 2 or word in _COMMON or word[0].isdigit():
        return False
    parts = [p for p in re.split(r"[-.]", word) if not _number_word(p)]
    return any(map(str.isupper, "".join(parts)))


def _number_word(part: str) -> bool:
    low = part.lower()
    return low in NUMBER_WORDS or low.removesuffix("s") in NUMBER_WORDS
