"""A brief's "why it matters" and dek: stated in the story, found by a consequence cue,
never a quote, pronoun, headline or definition, marked when only context is left."""
from __future__ import annotations

import pytest

from feeds.condense import condense
from feeds.models import Classification
from tests.condense_kit import story


@pytest.mark.parametrize("tail", [
    "<p><strong>Why it matters:</strong> Cheaper tokens pressure every rival lab.</p>",
    "<h3>The big picture</h3><p>Cheaper tokens pressure every rival lab.</p>",
    "<p><b>What it means</b></p><p>Cheaper tokens pressure every rival lab.</p>",
])
def test_stated_why_in_html_is_kept(tail):
    html = ("<p>DeepSeek cut API prices by half on Monday.</p>"
            "<p>The company also released new model weights for developers.</p>" + tail)
    brief = condense(story("DeepSeek halves prices", html=html))
    assert brief.why_it_matters == "Cheaper tokens pressure every rival lab."
    assert all("Cheaper tokens" not in b for b in brief.bullets)


@pytest.mark.parametrize("line", ["Why this matters: Cheaper tokens pressure every rival lab.",
                                  "WHY IT MATTERS\nCheaper tokens pressure every rival lab."])
def test_stated_why_in_text_is_kept(line):
    text = "DeepSeek cut API prices by half on Monday.\n" + line
    assert condense(story("DeepSeek halves prices", text)).why_it_matters == \
        "Cheaper tokens pressure every rival lab."


def test_why_picked_from_cue_sentence_not_from_bullets():
    text = ("Nvidia will ship a reduced H20 chip to Chinese customers next quarter.\n"
            "The chip complies with the latest U.S. export controls.\n"
            "Shipments start in March with volumes set by license.\n"
            "The move signals that Washington’s rules are reshaping the data-center market.")
    brief = condense(story("Nvidia readies China chip", text))
    assert brief.why_it_matters == "The move signals that Washington’s rules are reshaping the data-center market."
    assert brief.why_it_matters not in brief.bullets and len(brief.bullets) == 3
    assert not brief.why_is_generated


_WHY_FACTS = ("Nimbus Labs cut the price of its Orca model by half on Tuesday.\n"
              "The new price applies to every customer from next month.\n"
              "Orca was released in March and now serves about two million developers.\n")


@pytest.mark.parametrize("why", [
    "The move could push rival labs to cut their own prices before the summer.",
    "The cut sends a clear message that model makers now compete on cost.",
    "Billions of dollars in cloud contracts are at stake as buyers compare offers.",
    "The pricing could serve as a template for other labs selling to small firms.",
    "The cut is the latest sign that prices for capable models are falling fast.",
    "Cheaper tokens could give smaller startups an edge over the largest labs.",
    "Lower prices could reduce costs across the software industry this year.",
    "That means a small team can now afford to run Orca on every support ticket.",
])
def test_why_found_by_a_consequence_cue(why):
    brief = condense(story("Nimbus Labs halves Orca prices", _WHY_FACTS + why))
    assert brief.why_it_matters == why and not brief.why_is_generated
    assert why not in brief.bullets


@pytest.mark.parametrize("line", [
    "“The move could push rival labs to cut their own prices,” the chief executive said.",
    "They said the move could push rival labs to cut their own prices.",
    "Nimbus Labs halves Orca prices, and the move could push rivals to follow.",
    "Orca is what is known as a mixture-of-experts model, which means it is cheap to run.",
    "Rivals said they would match the price even if it means thinner margins.",
    "If it does, the move could push rival labs to cut their own prices before the summer.",
    "If so, the move could push rival labs to cut their own prices.",
])
def test_why_not_taken_from_quote_pronoun_headline_or_definition(line):
    c = Classification(strategy=True, score=3.0, companies=("Nimbus Labs",), topics=("pricing",))
    brief = condense(story("Nimbus Labs halves Orca prices", _WHY_FACTS + line, classification=c))
    assert brief.why_is_generated and brief.why_it_matters == "Context: Nimbus Labs · pricing"


# A why line leaning on a sentence the brief leaves out past its first word (as "There is
# truth in that, and ..." did in an Engadget story) is not taken; one whose "it"/"that"
# points within itself, or at the headline's event, still is.
@pytest.mark.parametrize("line, taken", [
    ("There is some truth in that, and the move could push rival labs to cut prices.", False),
    ("That is why the move could push rival labs to cut their own prices.", False),
    ("On the other hand, it raises questions about how long the cut can last.", False),
    ("That means they could push rival labs to cut their own prices.", False),
    ("The deal matters because it gives Nimbus Labs an edge over the largest labs.", True),
    ("The cut differs in that it could reduce costs across the software industry.", True),
    ("That means a small team can now afford to run Orca on every support ticket.", True),
])
def test_why_leaning_on_an_unshown_sentence_is_not_taken(line, taken):
    c = Classification(strategy=True, score=3.0, companies=("Nimbus Labs",), topics=("pricing",))
    brief = condense(story("Nimbus Labs halves Orca prices", _WHY_FACTS + line, classification=c))
    assert brief.why_it_matters == (line if taken else "Context: Nimbus Labs · pricing")


def test_no_consequence_stated_gives_marked_context_line():
    text = "Alibaba cut Qwen API prices by 40% on Monday. The cut applies to all regions."
    c = Classification(strategy=True, score=3.0, companies=("Alibaba",), topics=("pricing", "open-source"))
    brief = condense(story("Alibaba cuts prices", text, classification=c))
    assert brief.why_it_matters == "Context: Alibaba · pricing, open-source"
    assert brief.why_is_generated


# A why line opening "However," leans on a sentence the brief does not show (6 of the 22
# why lines taken from the corpus's text): the connective goes, the sentence stays.
NIMBUS = ("Nimbus Labs is putting another $2 billion into its partnership with Orca Cloud.\n"
          "The deal will widen the use of Orca's models across Nimbus products.\n"
          "Orca Cloud will remain the sole provider for Nimbus research and services.\n"
          "Neither company said how the money would be split over the coming years.\n")


@pytest.mark.parametrize("opener", ["However, ", "Moreover, ", "Nevertheless, ", "Even so, ",
                                    "Still, ", "Yet ", "But "])
def test_why_line_loses_a_connective_it_opens_with(opener):
    text = NIMBUS + opener + "the expansion may help Nimbus seize a competitive advantage."
    brief = condense(story("Nimbus Labs expands its pact with Orca Cloud", text,
                           classification=Classification(strategy=True, companies=("Nimbus Labs",))))
    assert brief.why_it_matters == "The expansion may help Nimbus seize a competitive advantage."


def test_why_line_after_a_connective_still_needs_its_own_subject():
    text = NIMBUS + "However, they said the expansion may help Nimbus seize a competitive advantage."
    brief = condense(story("Nimbus Labs expands its pact with Orca Cloud", text,
                           classification=Classification(strategy=True, companies=("Nimbus Labs",))))
    assert brief.why_is_generated


def test_no_consequence_and_no_classification_leaves_why_empty():
    brief = condense(story("Alibaba cuts prices", "Alibaba cut Qwen API prices by 40% on Monday."))
    assert (brief.why_it_matters, brief.why_is_generated) == ("", False)


def test_dek_prefers_subtitle_then_a_summary_sentence_that_adds_something():
    text = "Google signed a cloud deal with Anthropic worth billions. TPU capacity doubles next year."
    assert condense(story("Google and Anthropic deal", text, subtitle="A bigger bet on TPUs.")).dek == \
        "A bigger bet on TPUs."
    summary = "The agreement is the largest in Google Cloud’s history. More details later."
    assert condense(story("Google and Anthropic deal", text, summary=summary)).dek == \
        "The agreement is the largest in Google Cloud’s history."
    same = "Google signed a cloud deal with Anthropic worth billions."
    assert condense(story("Google and Anthropic deal", text, summary=same)).dek == ""


def test_story_list_with_a_consequence_sentence_gets_that_why():
    html = ("<p>OpenAI changed how it sells API access to large customers this week.</p>"
            "<ul><li>Prices for the largest model fall by a third.</li>"
            "<li>Committed-use discounts start at one million dollars.</li>"
            "<li>Batch jobs get a further half-price tier.</li></ul>"
            "<p>The cut puts pressure on Anthropic and Google to follow.</p>")
    brief = condense(story("OpenAI reprices its API", html=html))
    assert brief.bullets[0] == "Prices for the largest model fall by a third."
    assert brief.why_it_matters == "The cut puts pressure on Anthropic and Google to follow."


# Bullets drop a dateline (docs/condenser.md step 5); the dek kept it: "36氪获悉，..." opened
# the dek of 10 of 421 Chinese items.
@pytest.mark.parametrize("summary, dek", [
    ("36氪获悉，星河集团发布2027财年第一季度财报，云业务外部收入加速增长31%。",
     "星河集团发布2027财年第一季度财报，云业务外部收入加速增长31%。"),
    ("据科技日报记者获悉：星河集团将开源新一代大模型。", "星河集团将开源新一代大模型。"),
    ("BEIJING (Reuters) - The agreement is the largest in Google Cloud’s history.",
     "The agreement is the largest in Google Cloud’s history."),
])
def test_dek_has_no_dateline(summary, dek):
    text = "Google signed a cloud deal with Anthropic worth billions. TPU capacity doubles next year."
    assert condense(story("Google and Anthropic deal", text, summary=summary)).dek == dek


def test_dek_has_no_space_before_a_comma():
    summary = "Qwen , the model family from Alibaba, is going premium for business users."
    brief = condense(story("AI pricing moves", "Baidu will follow with its own cuts next week.",
                           summary=summary))
    assert brief.dek == "Qwen, the model family from Alibaba, is going premium for business users."


def test_a_chinese_story_states_why_it_matters_in_its_own_words():
    # The consequence cues were English only: a Chinese outlet's "这可能意味着..." became
    # a bullet and the brief fell back to a generated "Context:" line.
    text = ("阿里云宣布通义千问主力模型的调用价格大幅下降，降幅最高达百分之九十。\n"
            "百度随后表示将跟进降价。\n腾讯混元也宣布部分模型免费。\n"
            "分析人士认为，这可能意味着大模型价格战进一步升级。")
    brief = condense(story("阿里巴巴下调通义千问价格", text, classification=Classification(
        strategy=True, companies=("Alibaba", "Baidu", "Tencent"), topics=("pricing",))))
    assert brief.why_it_matters == "分析人士认为，这可能意味着大模型价格战进一步升级。"
    assert not brief.why_is_generated and brief.why_it_matters not in brief.bullets
