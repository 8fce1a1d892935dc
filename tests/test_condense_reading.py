"""Defects found by reading real briefs beside their stories (docs/condenser.md, "Reading
briefs, third pass"), each pinned on synthetic text shaped like what the feeds sent."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from feeds.bullets import MAX_BULLET, trim_bullet
from feeds.condense import condense
from feeds.models import Classification, Story

WHEN = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)
FACT = "Example Labs will cut its API prices for business users next month."
CLASSIFIED = Classification(strategy=True, score=5.0, companies=("Example Labs",),
                            topics=("pricing",))


def story(text: str, title: str = "AI pricing moves", **kw) -> Story:
    return Story(id="s-1", url="https://example.com/a", title=title, text=text,
                 source="Example News", feed_url="https://example.com/feed", published=WHEN, **kw)


@pytest.mark.parametrize("line", [
    "This story originally appeared in The Example, our weekly newsletter on AI.",
    "To get stories like this in your inbox first, sign up here.",
    "I’m Jane Example, Chief Content Officer at Example Media Group.",
    "Each week, I round up the most important AI developments.",
])
def test_a_column_introducing_itself_gives_no_bullet(line):
    # Every issue opens with the same line about the newsletter or its writer.
    assert condense(story(f"{line}\n{FACT}")).bullets == (FACT,)


@pytest.mark.parametrize("teaser, bullet", [
    # a feed that cuts every teaser at 20 words, without "…"
    ("Example Labs on Wednesday launched Example Agents, a new service that allows "
     "businesses to quickly build",
     "Example Labs on Wednesday launched Example Agents, a new service that allows "
     "businesses to quickly build…"),
    # the cut leaves a function word and an open bracket: neither is shown
    ("Example Labs launched Model 5 on Friday, the latest version of what used to be "
     "its flagship model (before the",
     "Example Labs launched Model 5 on Friday, the latest version of what used to be "
     "its flagship model…"),
])
def test_a_teaser_the_feed_cut_unmarked_is_shown_as_cut(teaser, bullet):
    assert condense(story(teaser, title="Example Labs ships")).bullets == (bullet,)


def test_a_sentence_of_a_longer_quotation_is_closed():
    text = ('Asked about the launch, Example Labs chief Jane Example said: "We clearly have '
            'more capable models. They will reach every paying customer this spring."')
    assert 'said: "We clearly have more capable models."' in condense(story(text)).bullets[0]


@pytest.mark.parametrize("sentence", [
    'The tablet uses "nano-matrix lithography” to sharpen its screen, Example Corp said.',
    'Example Corp sells a 13" laptop with its own AI chip from next month.',
])
def test_a_closed_quotation_or_a_measure_is_left_as_written(sentence):
    # a feed mixing " and ” closed its quote; 13" is inches: adding a mark misquotes
    assert trim_bullet(sentence) == sentence


def test_a_quotation_cut_to_fit_is_closed_after_the_cut():
    quote = ("“the transformational innovation that pushes the boundaries of medicine, energy "
             "and science, and the sustainable innovation necessary to drive advancements in "
             "security, accountability and transparency,” according to the release.")
    bullet = trim_bullet("On the agenda: " + quote)
    assert bullet.endswith("…”") and len(bullet) <= MAX_BULLET


@pytest.mark.parametrize("line", [
    "But with this much at stake, what could the move mean for its rivals?",
    "We’ve asked Example Labs for details, but remember the move could hurt smaller rivals.",
    # the writer addressing the reader: an aside, not why the news matters
    "If you’ve ever priced a chatbot, you know the move could hurt smaller rivals.",
    "You might think the move could hurt smaller rivals across the industry.",
    "Your next bill could fall, and the move could hurt smaller rivals.",
])
def test_a_question_or_the_writer_speaking_is_not_why_it_matters(line):
    text = f"{FACT} The cut applies to every model it sells today. {line}"
    brief = condense(story(text, classification=CLASSIFIED))
    assert brief.why_is_generated and brief.why_it_matters.startswith("Context:")


def test_a_long_sentence_opening_with_a_clause_keeps_its_news_when_cut():
    # Cut at the clause end, it showed the "While ..." clause alone, without the news.
    text = ("While Example Corp has been dealing with fierce competition on all sides and is "
            "putting AI into as many of its products as it can, its ads business, the company’s "
            "bread and butter, is still humming along, analysts said on Tuesday.")
    bullet = trim_bullet(text)
    assert "is still" in bullet and bullet.endswith("…") and len(bullet) <= MAX_BULLET


@pytest.mark.parametrize("text, end", [
    ("As announced earlier this week, Senator Jane Example and Representatives John Example, "
     "Ann Example, and Bob Example have introduced the Example Act, which would stop federal "
     "funds from paying for such launches, a step its supporters call overdue.",
     "the Example Act…"),
    # a role, not a clause: cut at "will…" it read "... what I discovered is so horrifying I will…"
    ("As an environmental journalist, I have visited Example Land, the world’s leading exporter "
     "of farmed prawns, many times to investigate the prawn trade, and what I discovered is so "
     "horrifying I will never eat another one.",
     "to investigate the prawn trade…"),
])
def test_a_short_phrase_before_the_news_still_cuts_at_a_clause_end(text, end):
    assert trim_bullet(text).endswith(end)
