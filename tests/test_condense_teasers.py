"""Feed teasers as a brief's bullets: one or two sentences, ones that restate the
headline or the feed's title, truncated ones, and the article text that replaces a teaser."""
from __future__ import annotations

import pytest

from feeds.condense import condense
from tests.condense_kit import story


def test_one_sentence_teaser_gives_one_bullet_and_no_padding():
    teaser = "The Chinese group will stop releasing its largest models for free, people familiar said."
    brief = condense(story("Alibaba pivots to paid AI", teaser, summary=teaser))
    assert brief.bullets == (teaser,)
    assert brief.dek == ""                          # the teaser is shown once


def test_teaser_that_restates_the_headline_gives_no_bullets():
    title = "Alibaba shifts towards revenue over open-source AI"
    brief = condense(story(f"FT - {title}", "Alibaba shifts towards revenue over open-source AI models."))
    assert brief.headline == title
    assert brief.bullets == ()


@pytest.mark.parametrize("title, text", [
    ("Example-V4 发布 2025/12/01", "Example news: Example-V4 发布 2025/12/01"),
    ("Example cuts API prices | Example Wire", "Example Wire: Example cuts API prices"),
])
def test_teaser_repeating_the_feeds_title_is_not_a_bullet(title, text):
    # The headline loses the posting date or outlet; the teaser repeating the feed's
    # title with them still repeats the headline.
    brief = condense(story(title, text, summary=text, source="Example Wire"))
    assert brief.bullets == () and brief.dek == ""
    assert brief.headline in title and len(brief.headline) < len(title)


@pytest.mark.parametrize("title, text, kept", [
    # Japanese has no spaces: a kana-led run was one "word", so a restated headline passed
    ("ソフトバンクがオープンAIに追加出資", "ソフトバンクはオープンAIに追加出資すると発表した。", ()),
    ("ソフトバンク、オープンAIに追加出資へ",
     "ソフトバンクはオープンAIに追加で出資する。出資額は数十億ドル規模になる見通しだ。",
     ("出資額は数十億ドル規模になる見通しだ。",)),
])
def test_japanese_sentence_restating_the_headline_is_not_a_bullet(title, text, kept):
    assert condense(story(title, text)).bullets == kept


def test_two_sentence_teaser_gives_two_bullets():
    text = "Baidu cut Ernie prices by 80%. Rivals are expected to respond within weeks."
    assert len(condense(story("Price war in China", text)).bullets) == 2


def test_truncated_teaser_sentence_is_not_a_bullet():
    text = "Tencent raised prices for its Hunyuan API. The company also said that it would…"
    assert condense(story("Tencent price move", text)).bullets == ("Tencent raised prices for its Hunyuan API.",)


def test_article_text_replaces_the_teaser():
    teaser = "Alibaba is changing its AI strategy, reports say."
    article = ("Alibaba will stop releasing its largest Qwen models under open licenses.\n"
               "Its cloud unit will sell access through paid APIs to enterprise customers.\n"
               "Executives want returns on billions spent on training clusters.\n"
               "For developers, this could mean higher costs and fewer free models.")
    brief = condense(story("Alibaba rethinks open-source AI", teaser, summary=teaser), article_text=article)
    assert len(brief.bullets) == 3 and all(b in article for b in brief.bullets)
    assert brief.why_it_matters == "For developers, this could mean higher costs and fewer free models."


@pytest.mark.parametrize("ads", [0, 3])
def test_article_sentences_go_after_the_entrys_own_list(ads):
    # The page's paragraphs were numbered as if they were the entry's: its lead went
    # before the entry's list, or after it once three "Advertisement" lines came first.
    html = ("<p>Alibaba is changing its AI strategy, reports say.</p>"
            "<ul><li>Its Qwen models will no longer be released under open licenses.</li>"
            "<li>Paid API access replaces the free downloads for enterprise customers.</li></ul>")
    lead = "Executives want returns on the billions Alibaba spent on training clusters in China."
    brief = condense(story("Alibaba rethinks open-source AI", html=html),
                     article_text="Advertisement\n" * ads + lead)
    assert brief.bullets == ("Its Qwen models will no longer be released under open licenses.",
                             "Paid API access replaces the free downloads for enterprise customers.",
                             lead)
