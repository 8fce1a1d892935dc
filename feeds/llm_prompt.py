"""What the LLM condenser sends: its instructions (SYSTEM), the start-up check's (CHECK)
and a story's message, bounded, with a Chinese story's instruction to answer in Chinese.
"""
from __future__ import annotations

import re

from feeds.models import Story
from feeds.plural import count
from feeds.sentences import split_sentences
from feeds.wordsets import CJK   # Chinese characters: the Chinese rules' test

MAX_SOURCE_CHARS = 12_000   # what we send: enough for a news article, bounded cost
# ... and of its title, which a feed may make as long as the feed (10 MB): it was sent
# whole, and checked whole on the event loop (feeds/judge.py sends as much).
MAX_TITLE_CHARS = 300

SYSTEM = (
    "You condense AI-industry news for busy readers. Answer with one JSON object only: "
    '{"headline": str, "bullets": [str, str, str], "why_it_matters": str}. '
    "headline: the story in plain words, at most 120 characters, no outlet name. "
    "bullets: three key facts (fewer when the message says the article has fewer), one "
    "sentence each, at most 200 characters, not repeating the headline. "
    "why_it_matters: one or two sentences on the consequence "
    "for the reader. Use only facts, names and figures stated in the article. "
    "Write in the article's language."
)

CHECK = 'Answer with this JSON object only: {"ok": true}'

_KANA = re.compile(r"[\u3040-\u30ff]")
CHINESE_NOTE = "The article is in Chinese: write the brief in Chinese, in its script.\n\n"


def brief_prompt(story: Story) -> tuple[str, str]:
    """The user message asking for `story`'s brief, and what it shows the model of the
    story (its title and text, as cut): the text the answer is checked against."""
    source, title = _source_text(story), story.title[:MAX_TITLE_CHARS]
    note = language_note(title, source) + _short_note(len(split_sentences(source)))
    return f"{note}Title: {title}\n\n{source}", f"{title}\n{source}"


def fewest_bullets(story: Story) -> int:
    """The bullets a brief of `story` must have (feeds/llm_validate.py): three when its
    text has three sentences or more, else none. Most feeds carry a teaser of a sentence
    or two, and a model told to give three facts of one padded it with the headline
    reworded; a teaser's one sentence may hold nothing the headline does not."""
    return 3 if len(split_sentences(_source_text(story))) >= 3 else 0


def _short_note(sentences: int) -> str:
    if sentences >= 3:
        return ""
    what = "its title alone" if not sentences else count(sentences, "sentence")
    return (f"The article is {what}: give at most {count(sentences, 'bullet')}, each a "
            "fact it states, none repeating the title ([] for none).\n\n")


def language_note(title: str, source: str) -> str:
    """A Chinese story's explicit instruction. Told in English only, models answer in
    English, and the English names ("Alibaba") and figures ("2 billion") are not in the
    Chinese text the answer is checked against: every such brief fell back."""
    sample = f"{title}\n{source[:600]}"
    han, letters = len(CJK.findall(sample)), sum(map(str.isalpha, sample))
    if _KANA.search(sample) or not letters or han * 2 < letters:   # kana: Japanese
        return ""
    return CHINESE_NOTE


def _source_text(story: Story) -> str:
    text = story.text or story.summary
    return text[:MAX_SOURCE_CHARS]
