"""Closest names for a mistyped one (feeds/suggest.py), as /company, /topic and
/subscribe offer them: a typo or another ending of the same word, else nothing."""
from __future__ import annotations

import pytest

from tests.classify_kit import gazetteer_classifier

clf = pytest.fixture(gazetteer_classifier, name="clf", scope="module")


@pytest.mark.parametrize("typed, meant", [
    ("alibba", "Alibaba"), ("googel", "Google"), ("mata", "Meta"), ("tencnet", "Tencent"),
    ("bytedanse", "ByteDance"), ("opnai", "OpenAI"), ("Microsof", "Microsoft"),
    ("perplxeity", "Perplexity"),
])
def test_a_typo_of_a_company_is_offered_alone(clf, typed, meant):
    assert clf.suggest_companies(typed) == [meant]


@pytest.mark.parametrize("typed, meant", [
    ("policies", "policy"), ("funds", "funding"), ("leader", "leadership"),
    ("pricng", "pricing"), ("enterprize", "enterprise"),
])
def test_another_ending_or_a_typo_of_a_topic_is_offered(clf, typed, meant):
    assert clf.suggest_topics(typed) == [meant]


@pytest.mark.parametrize("typed", ["robots", "gaming", "llm", "search", "startup", "ai",
                                   "ZeniMax", "Training", "Sundance", "Stephen"])
def test_a_word_only_some_letters_alike_gets_no_company(clf, typed):
    """"robots" was offered OpenClaw (by the letters of its old name Moltbot), "gaming"
    Gemini, "search" SearchGPT's OpenAI, ZeniMax (Microsoft's studio) MiniMax: no
    suggestion beats a wrong one."""
    assert clf.suggest_companies(typed) == []


@pytest.mark.parametrize("typed", ["being", "bring", "metal", "harm", "amid", "laws",
                                   "beta", "card", "sort", "gets", "memo"])
def test_an_everyday_word_a_typo_from_a_short_name_gets_no_company(clf, typed):
    """A letter added to a name under 5 letters ("being": Bing, "metal": Meta, "harm":
    Arm), its first changed ("beta": Meta, "card": Bard) or a letter changed in a short
    product ("sort": Sora, "gets": GPTs) makes another word, and was offered Microsoft,
    Meta, Arm, Google, OpenAI."""
    assert clf.suggest_companies(typed) == []


@pytest.mark.parametrize("typed, meant", [
    ("mata", "Meta"), ("metq", "Meta"), ("gorq", "Groq"), ("udoi", "Udio"),
    ("qwne", "Alibaba"), ("sroa", "OpenAI"), ("bign", "Microsoft"), ("kiim", "Moonshot AI"),
])
def test_a_short_name_with_a_later_letter_changed_or_two_swapped_is_offered(clf, typed, meant):
    """A changed letter in a short name (Meta, Groq), two swapped in a product (Qwen, Sora)."""
    assert clf.suggest_companies(typed) == [meant]


@pytest.mark.parametrize("typed, meant", [
    ("partnered", "partnerships"), ("ceos", "leadership"), ("computers", "chips"),
    ("computing", "chips"), ("raising", "funding"), ("laws", "policy"),
])
def test_a_topic_word_with_another_ending_finds_its_topic(clf, typed, meant):
    """A plural, -ed, -ing or -er of a topic's word or synonym (partner, ceo, compute)
    got no topic once a synonym's typos were limited."""
    assert clf.suggest_topics(typed) == [meant]


@pytest.mark.parametrize("typed", ["getting", "armed"])
def test_a_word_whose_ending_leaves_no_name_gets_no_company(clf, typed):
    """"getting" was offered Getty (both cut to "gett"); "armed" is no Arm."""
    assert clf.suggest_companies(typed) == []


@pytest.mark.parametrize("typed", ["Dell", "Plaid", "Reliance", "said", "details"])
def test_a_word_a_typo_from_a_topics_everyday_synonym_gets_no_topic(clf, typed):
    """A topic's synonyms are everyday words: "Dell" was offered partnerships (by
    "deal"), "Plaid" pricing (by "paid"), "Reliance" partnerships (by "alliance")."""
    assert clf.suggest_topics(typed) == []


@pytest.mark.parametrize("typed, meant", [
    ("raised", "funding"), ("goverment", "policy"), ("semiconductr", "chips"),
    ("opensources", "open-source"),
])
def test_a_typo_in_a_longer_synonym_still_finds_its_topic(clf, typed, meant):
    assert clf.suggest_topics(typed) == [meant]


@pytest.mark.parametrize("typed, meant", [
    ("阿里巴", "Alibaba"), ("字节跳", "ByteDance"), ("月之暗", "Moonshot AI"),
    ("英伟大", "Nvidia"), ("深度求", "DeepSeek"),
])
def test_a_chinese_name_with_a_character_missing_or_wrong_is_offered(clf, typed, meant):
    """Three characters were too few letters to offer anything: "阿里巴" (阿里巴巴 with
    one left out) got no suggestion, where the old rule offered Alibaba."""
    assert clf.suggest_companies(typed) == [meant]


@pytest.mark.parametrize("typed", ["微博", "小红", "腾迅"])
def test_two_chinese_characters_one_wrong_get_no_company(clf, typed):
    """微博 is Weibo, not WeChat (微信): one character of two is another word."""
    assert clf.suggest_companies(typed) == []


@pytest.mark.parametrize("typed", ["公司", "科技", "智能", "模型", "大模型", "云", "芯", "集团"])
def test_a_generic_chinese_word_inside_a_name_gets_no_company(clf, typed):
    """`/company 公司` was asked "did you mean Apple?" (by 苹果公司), `/search 模型`
    pointed to Baidu (文心大模型), 科技 to MiniMax (稀宇科技): a word that only ends or
    sits inside a company's name is no part of it a user types."""
    assert clf.suggest_companies(typed) == []


@pytest.mark.parametrize("typed, meant", [
    ("英伟", ["Nvidia"]), ("月之", ["Moonshot AI"]), ("腾", ["Tencent"]), ("科大", ["iFlytek"]),
    ("零一", ["01.AI"]), ("微", ["Microsoft", "Tencent"]),
])
def test_the_start_of_a_chinese_name_is_offered_its_company(clf, typed, meant):
    """An IME types a name a character at a time: the start of one is a close match (腾
    was offered Huawei too, by the end of 昇腾)."""
    assert clf.suggest_companies(typed) == meant
