"""feeds/bullets.py as a reader meets it: a long sentence trimmed to a bullet, and a
story's own list (Chinese ones too) kept in story order."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from feeds.bullets import MAX_BULLET, trim_bullet
from feeds.condense import condense
from feeds.models import Story
from tests.condense_kit import PAD


# A closing clause that only elaborates goes, so the sentence ends whole at its own stop;
# before, these read "... which analysts expect to lift…".
@pytest.mark.parametrize("sentence, bullet", [
    (f"Nvidia will sell its new inference chip to cloud providers {PAD}, which analysts "
     f"expect to lift margins in its data centre business by a wide margin.",
     f"Nvidia will sell its new inference chip to cloud providers {PAD}."),
    (f"Amazon will put another $4bn into its model partner {PAD}, raising its total "
     f"commitment to the largest it has made in any startup so far.",
     f"Amazon will put another $4bn into its model partner {PAD}."),
    (f"Microsoft will offer the models to shop owners {PAD} through a deal with Acme "
     f"Robotics, a startup that builds warehouse robots for retailers.",
     f"Microsoft will offer the models to shop owners {PAD} through a deal with Acme Robotics."),
])
def test_a_closing_clause_goes_before_the_sentence_is_cut(sentence, bullet):
    assert len(sentence) > MAX_BULLET >= len(bullet)
    assert trim_bullet(sentence) == bullet


@pytest.mark.parametrize("sentence", [
    # whose claim it is stays: without "according to" a report reads as fact
    f"Baidu will cut the price of its largest model by half {PAD}, according to three "
    f"people familiar with the plans who asked not to be named.",
    # not one clause to the end: dropping from ", including" would leave no verb
    f"The departure of most of the research staff, including the two founders who built "
    f"its first model, means the lab must rebuild {PAD}.",
    # "a spokesperson confirmed that" is a clause of its own, not an aside
    f"The chief executive said the company is exploring ads in its chatbot {PAD}, and "
    f"when asked, a company spokesperson confirmed that ads would come.",
    # inside a quotation the speaker's words are cut, never rewritten
    f"“We will sell the chip to every cloud provider {PAD}, which is what our customers "
    f"have asked us for,” the chief executive said.",
])
def test_a_clause_that_carries_the_sentence_stays(sentence):
    bullet = trim_bullet(sentence).removesuffix("”")   # a quotation cut is closed after "…"
    assert bullet.endswith("…") and sentence.startswith(bullet[:-1])


def test_a_long_chinese_sentence_is_cut_after_a_clause():
    sentence = "百度宣布" + "在全国多个城市" * 20 + "新建算力中心，" + "并向企业客户开放推理服务" * 8 + "。"
    assert trim_bullet(sentence) == sentence[:sentence.index("，")] + "…"


@pytest.mark.parametrize("figure", ["12345亿元", "GPT-5.5"])
def test_a_chinese_sentence_is_never_cut_inside_a_figure_or_a_latin_word(figure):
    sentence = "阿里巴巴" * 48 + "宣布投入" + figure + "用于新模型。"
    start = sentence.index(figure)
    assert start < MAX_BULLET - 1 < start + len(figure)   # the cut would fall inside it
    assert trim_bullet(sentence) == sentence[:start] + "…"


def _story(html: str) -> Story:
    return Story(id="s1", url="https://example.cn/a", title="阿里云下调大模型价格", text="",
                 source="示例新闻", feed_url="https://example.cn/feed",
                 published=datetime(2026, 5, 21, tzinfo=timezone.utc), html=html)


def test_a_chinese_story_keeps_its_own_list_after_its_lead():
    html = ("<p>阿里云宣布旗下主力模型的调用价格大幅下降。</p>"
            "<ul><li>输入价格每百万词元降至一元</li><li>开源模型同步向开发者免费开放</li></ul>")
    assert condense(_story(html)).bullets == (
        "阿里云宣布旗下主力模型的调用价格大幅下降。", "输入价格每百万词元降至一元",
        "开源模型同步向开发者免费开放")


def test_a_chinese_list_of_labels_is_still_navigation():
    html = ("<p>阿里云宣布旗下主力模型的调用价格大幅下降。</p>"
            "<ul><li>相关阅读</li><li>热门文章</li><li>更多资讯</li></ul>")
    assert condense(_story(html)).bullets == ("阿里云宣布旗下主力模型的调用价格大幅下降。",)


@pytest.mark.parametrize("asked, low", [
    ("asked", "low"),
    # the cut falls just after "in" ("... people in" + " charge"): kept as a whole word
    ("asks", "lower"),
])
def test_a_cut_never_ends_on_a_function_word(asked, low):
    head = (f"Data workers {asked} the United States Senate in Washington to guard against {low} "
            "and falling wages across its data centres in Europe and Asia and the Americas over "
            "the next two years for the people")
    sentence = f"{head} in charge of labelling the images that train the models."
    assert len(head + " in") < MAX_BULLET < len(sentence)
    assert trim_bullet(sentence) == head + "…"   # not "... for the people in…"


def test_a_quotation_that_would_lose_its_speaker_gives_way():
    quote = ("“Acme Robotics will put warehouse robots in every shop, every warehouse and every "
             "factory floor in Europe within the decade, and Acme Robotics intends to build "
             "them all in Berlin for retailers,” said Acme Robotics chief executive Jane Roe.")
    text = (f"Acme Robotics raised $50m to build warehouse robots for retailers in Europe. {quote} "
            "Example Ventures led the round, which values the warehouse robots maker at $400m. "
            "Acme Robotics will hire 200 engineers for its warehouse robots next year.")
    brief = condense(Story(id="s2", url="https://example.com/b", title="Acme Robotics raises $50m",
                           text=text, source="Example", feed_url="https://example.com/feed",
                           published=datetime(2026, 5, 21, tzinfo=timezone.utc)))
    assert len(brief.bullets) == 3
    assert not any(b.startswith("“") for b in brief.bullets), brief.bullets
