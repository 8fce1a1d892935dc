"""The extractive condenser: Story -> Brief (headline, dek, up to 3 bullets, why it matters).

Offline and deterministic. What the story already states wins: its own bullet list and
"Why it matters" section are kept as written. Otherwise sentences are ranked (centrality,
position, relevance to the headline, salience of companies, figures and strategy terms)
and up to three non-redundant ones become the bullets, in story order. "Why it matters"
comes from a sentence that states a consequence; when none does we say less rather than
invent: a line marked "Context:" built from the classification (why_is_generated=True),
or nothing when there is no classification either. The parts: feeds/bullets.py (what
the story states), feeds/ranking.py (ranked sentences), feeds/why_line.py (the why line
from them), feeds/boilerplate.py (sentences that are no news), feeds/wordsets.py (word
overlap).
"""
from __future__ import annotations

from feeds.boilerplate import opening_label, strip_tail, usable
from feeds.bullets import MAX_BULLET, MAX_DEK, stated_why, story_bullets, trim_bullet
from feeds.headline import clean_headline, trim_words
from feeds.models import Brief, Story
from feeds.ranking import candidates, fill
from feeds.sentences import blocks_from_html, blocks_from_text, split_sentences
from feeds.wordsets import restates, similar, tokens

__all__ = ["condense", "trim_bullet", "MAX_BULLET"]

# What of a story the condenser reads: a brief comes from its first part, and it runs on
# the event loop, where a hostile 3 MB story took seconds (chat answers must come in 3 s).
READ_CHARS = 200_000


def condense(story: Story, *, article_text: str | None = None) -> Brief:
    """Condense a story into a Brief; article_text (the fetched page) replaces a teaser."""
    headline, source = clean_headline(story.title, story.source)
    # The feed's whole title: a sentence repeating what the headline lost (an outlet's
    # name, a posting date) plus the headline still adds nothing under it.
    title = tokens(headline) | tokens(story.title)
    blocks = (blocks_from_html(story.html[:READ_CHARS]) if story.html.strip()
              else blocks_from_text((story.text or story.summary)[:READ_CHARS]))
    article = (blocks_from_text(article_text[:READ_CHARS])
               if article_text and article_text.strip() else [])
    bullets, list_at = story_bullets(blocks, title)
    why = stated_why(blocks) or stated_why(article)
    if len(bullets) < 3 or not why:
        # A sentence of the fetched page has no place among the entry's blocks (its block
        # numbers are the page's): it goes after the entry's own list.
        bullets, why = fill(bullets, why, candidates(article or blocks), title, story,
                            headline=headline, list_at=0 if article else list_at)
    if not headline and bullets:  # an untitled entry: its lead sentence stands in, once
        headline, bullets = trim_words(bullets[0], 120), bullets[1:]
    c = story.classification
    generated = _context_line(c.companies, c.topics) if not why else ""
    return Brief(
        id=story.id, headline=headline, bullets=tuple(bullets), why_it_matters=why or generated,
        url=story.url, source=source, published=story.published,
        dek=_dek(story, title, bullets, why or generated), companies=c.companies,
        topics=c.topics, strategy=c.strategy, score=c.score, condenser="extractive",
        why_is_generated=bool(generated))


def _context_line(companies: tuple[str, ...], topics: tuple[str, ...]) -> str:
    parts = [", ".join(companies[:3]), ", ".join(topics[:3])]
    parts = [p for p in parts if p]
    return "Context: " + " · ".join(parts) if parts else ""


def _dek(story: Story, title: frozenset[str], bullets: list[str], why: str) -> str:
    if story.subtitle.strip():
        return trim_bullet(story.subtitle, MAX_DEK)
    # Its first sentence, from the part condense reads: the whole of a 10 MB summary was
    # split into sentences to take one (seconds on the event loop).
    first = next(iter(split_sentences(strip_tail(story.summary[:READ_CHARS]))), "")
    first = opening_label(first)   # "36氪获悉，", "BEIJING (Reuters) - ", as bullets drop them
    toks = tokens(first)
    if not toks or restates(toks, title) or not usable(first, last=True):
        return ""
    if any(similar(toks, tokens(t)) for t in (*bullets, why) if t):
        return ""
    return trim_bullet(first, MAX_DEK)
