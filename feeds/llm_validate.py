"""Validating an LLM brief (feeds/llm.py): three distinct bullets, bounded lengths, and
every figure and capitalised name found in the story the model was shown."""
from __future__ import annotations

import re

from feeds.llm_reply import LLMRejected
from feeds.text import visible

MAX_BULLET = 200
MAX_WHY = 300
MAX_HEADLINE = 120


def validate(answer: dict, source: str) -> tuple[str, list[str], str]:
    headline = _field(answer, "headline", MAX_HEADLINE)
    why = _field(answer, "why_it_matters", MAX_WHY)
    bullets = answer.get("bullets")
    if not isinstance(bullets, list) or len(bullets) != 3:
        raise LLMRejected("bullets must be a list of exactly three")
    clean = [_text(b, "bullet", MAX_BULLET) for b in bullets]
    if len({b.lower() for b in clean}) < 3:
        raise LLMRejected("bullets repeat each other")
    grounded = _Grounding(source)
    for b in clean + [headline, why]:
        grounded.check(b)
    return headline, clean, why


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


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
# A word in any script but the CJK ones (their names have no capitals to find; figures
# are still checked): a name is one with a capital anywhere in it. ASCII-only, "Micrоsoft"
# with a Cyrillic о, "Ｍｅｔａ" in full-width letters, "Ébay" and "xAI" went unchecked, so
# a model could name a company the story never mentions and pass.
_WORD = re.compile(r"[^\W_\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
                   r"(?:[-.][^\W_\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]+)*")
_COMMON = {"The", "This", "That", "These", "It", "Its", "A", "An", "In", "On", "As", "And",
           "But", "For", "With", "Why", "What", "How", "Chinese", "American", "US", "AI",
           # the readers a why line speaks to, capitalised as a sentence's first word
           "Investors", "Developers", "Users", "Customers", "Businesses", "Enterprises",
           "Companies", "Rivals", "Competitors", "Regulators", "Analysts", "Consumers",
           "Startups", "Buyers", "Researchers", "Policymakers", "Governments", "Firms"}


class _Grounding:
    """Every figure and capitalised name must appear in the source: no invented facts.

    Whole figures and whole words only: "8%" is not in "85%", nor "Ten" in "Tencent"."""

    def __init__(self, source: str):
        self.figures = {_plain(f) for f in _FIGURE.findall(source)}
        self.lowered = source.lower()

    def check(self, text: str) -> None:
        for fig in _FIGURE.findall(text):
            if _plain(fig) not in self.figures:
                raise LLMRejected(f"figure {fig!r} is not in the story")
        for name in filter(_is_name, _WORD.findall(text)):
            # Case-insensitive: a sentence's capitalised first word is usually in the text;
            # singular or plural ("APIs" for "API") count as the same word.
            stem = re.escape(re.sub(r"(?<=\w{3})e?s$", "", name.lower()))
            if not re.search(
                    rf"(?<![a-z0-9]){stem}(?:e?s)?(?![a-z0-9])", self.lowered):
                raise LLMRejected(f"name {name!r} is not in the story")


def _is_name(word: str) -> bool:
    # A capital anywhere ("xAI"); a script without case (Arabic, Thai) has no names to find.
    return len(word) > 1 and word not in _COMMON and any(map(str.isupper, word))


def _plain(figure: str) -> str:
    """"1,500" and "1500" are one figure."""
    return figure.replace(",", "")
