"""Headline cleaning: attribution moves to the source; the headline stays as written."""
from __future__ import annotations

import pytest

from feeds.headline import MAX_HEADLINE, clean_headline


@pytest.mark.parametrize("title, source, expected", [
    ("FT - China’s Alibaba shifts towards revenue over open-source AI", "",
     ("China’s Alibaba shifts towards revenue over open-source AI", "FT")),
    ("Reuters: Nvidia wins approval to sell chips in China", "Google News",
     ("Nvidia wins approval to sell chips in China", "Reuters")),
    ("OpenAI cuts API prices again - Reuters", "Google News", ("OpenAI cuts API prices again", "Reuters")),
    ("Anthropic raises $5bn in new round | TechCrunch", "TechCrunch",
     ("Anthropic raises $5bn in new round", "TechCrunch")),
    ("Google ships Gemini 3 to everyone — The Verge", "", ("Google ships Gemini 3 to everyone", "The Verge")),
    ("Tencent launches Hunyuan model - South China Morning Post", "",
     ("Tencent launches Hunyuan model", "South China Morning Post")),
    ("Baidu opens Ernie to developers - Pandaily Daily", "",
     ("Baidu opens Ernie to developers", "Pandaily Daily")),           # unknown but outlet-like
    ("OpenAI raises $40bn - SoftBank Leads", "The Verge",              # the feed names the
     ("OpenAI raises $40bn - SoftBank Leads", "The Verge")),           # source: no guessing
    ("AI Weekly: Moonshot ships Kimi K3 today", "AI Weekly", ("Moonshot ships Kimi K3 today", "AI Weekly")),
    ("DeepSeek cuts prices by half | Tech News | TechCrunch", "", ("DeepSeek cuts prices by half", "TechCrunch")),
])
def test_attribution_moves_to_source(title, source, expected):
    assert clean_headline(title, source) == expected


@pytest.mark.parametrize("title, source", [
    ("Meta - the company that bet on open models - changes course", "Meta AI"),
    ("OpenAI: the next chapter of the company begins", "OpenAI blog"),
    ("Humane’s new AI demo is wild to watch — and we have lots of questions", "The Verge"),
    ("Nvidia earnings — What Wall Street Expects", ""),     # em dash joins a clause here
    ("Alibaba’s Qwen beats rivals - here's why", ""),
    ("Short - Reuters", ""),                                 # would leave too little
])
def test_headline_text_is_not_mistaken_for_attribution(title, source):
    assert clean_headline(title, source) == (title, source)


# A Chinese headline counted as one word ("fewer than three would remain"), so it never
# lost its outlet; nor were "｜" and "：" read as separators.
@pytest.mark.parametrize("title, source, expected", [
    ("星河集团发布新一代通义大模型 - 36氪", "36氪", ("星河集团发布新一代通义大模型", "36氪")),
    ("星河集团发布新一代通义大模型 | 36Kr", "", ("星河集团发布新一代通义大模型", "36Kr")),
    ("星河集团发布新一代通义大模型｜36氪", "36氪", ("星河集团发布新一代通义大模型", "36氪")),
    ("星河集团发布新一代通义大模型｜36氪", "", ("星河集团发布新一代通义大模型", "36氪")),
    ("36氪：星河集团发布新一代通义大模型", "36氪", ("星河集团发布新一代通义大模型", "36氪")),
    ("星河科技发布 - 钛媒体", "", ("星河科技发布", "钛媒体")),
    # a column label or a company before "：" is the headline's own
    ("星河集团发布新一代通义大模型｜深氪", "36氪", ("星河集团发布新一代通义大模型｜深氪", "36氪")),
    ("星河集团：2027财年第一季度营收1200亿元", "36氪", ("星河集团：2027财年第一季度营收1200亿元", "36氪")),
    ("早报｜星河集团发布新一代通义大模型", "爱范儿", ("早报｜星河集团发布新一代通义大模型", "爱范儿")),
    ("大模型 - 36氪", "36氪", ("大模型 - 36氪", "36氪")),                     # too little would remain
])
def test_a_chinese_headline_loses_its_outlet(title, source, expected):
    assert clean_headline(title, source) == expected


@pytest.mark.parametrize("title, expected", [
    ("Example-V4 发布 2025/12/01", "Example-V4 发布"),
    ("Example API adds context caching 2024-08-02", "Example API adds context caching"),
    ("Example Lab ships its new model (2025.03.25)", "Example Lab ships its new model"),
    ("Example Lab ships its new model - 2025-03-25", "Example Lab ships its new model"),
    ("Example Lab raises $2bn in 2025", "Example Lab raises $2bn in 2025"),   # a year is news
    ("2025-03-25", "2025-03-25"),                                             # nothing else
])
def test_posting_date_glued_to_headline_is_dropped(title, expected):
    assert clean_headline(title, "Example Lab (news)")[0] == expected


def test_suffix_equal_to_feed_name_is_dropped_without_changing_source():
    assert clean_headline("Zhipu files for IPO in Hong Kong | Pandaily", "pandaily") == \
        ("Zhipu files for IPO in Hong Kong", "pandaily")


def test_typography_kept_and_whitespace_collapsed():
    assert clean_headline("  “Open”   models —\tAlibaba’s\n bet  ") == ("“Open” models — Alibaba’s bet", "")


@pytest.mark.parametrize("title", [
    "Alibaba " + "strategy shift " * 40,
    "word " * 23 + "x" * 30 + " tail",
])
def test_long_headlines_trimmed_at_word_boundary(title):
    headline, _ = clean_headline(title)
    assert len(headline) <= MAX_HEADLINE and headline.endswith("…")
    assert headline[:-1].split() == title.split()[:len(headline[:-1].split())]


def test_short_headline_untouched():
    assert clean_headline("A" * 120) == ("A" * 120, "")
