"""Store lookups (storage/lookups.py; storage/search.py): cached briefs, latest, company,
topic and search (safe, ranked, inside unspaced Chinese and Latin text), counts."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from feeds.models import Brief
from tests.store_kit import T0, make, add, both_stores


store = pytest.fixture(both_stores, name="store", params=["memory", "file"])


def test_brief_cache_by_content_hash_and_lookups_use_it(store):
    s = make("FT - China's Alibaba shifts towards revenue over open-source AI",
             companies=("Alibaba", "Tencent"), topics=("open-source",))
    add(store, s)
    brief = Brief(id=s.id, headline="China's Alibaba shifts towards revenue over open-source AI",
                  bullets=("a", "b", "c"), why_it_matters="Fewer free models.", url=s.url,
                  source="FT", published=s.published, companies=("Alibaba",))
    assert store.brief_for_hash(s.content_hash) is None
    store.save_brief(s.id, s.content_hash, brief)
    assert store.brief_for_hash(s.content_hash) == brief
    [found] = store.stories_for_company("Tencent")
    assert (found.headline, found.bullets, found.why_it_matters) == \
        (brief.headline, ("a", "b", "c"), "Fewer free models.")
    assert found.companies == ("Alibaba", "Tencent"), "the story's classification is current"


def test_lookup_without_brief_is_built_from_the_story(store):
    s = replace(make("Tencent opens Hunyuan weights", companies=("Tencent",)),
                subtitle="The model is free to download.")
    add(store, s)
    [b] = store.stories_for_company("Tencent")
    assert (b.headline, b.bullets, b.why_it_matters, b.dek, b.url, b.source) == \
        (s.title, (), "", s.subtitle, s.url, s.source)
    assert b.published == s.published


# lookups

@pytest.fixture
def news(store):
    stories = [
        make("Alibaba cuts Qwen API prices", hours=1, companies=("Alibaba",),
             topics=("pricing",)),
        make("Baidu open-sources Ernie 4.5", hours=2, companies=("Baidu",),
             topics=("open-source", "models")),
        make("Tencent and Alibaba battle over AI agents", hours=3,
             companies=("Tencent", "Alibaba"), topics=("china",)),
        make("Alibaba phone sales up in the holidays", hours=4, companies=("Alibaba",),
             topics=(), strategy=False),
        make("OpenAI cuts GPT prices for developers", hours=30, companies=("OpenAI",),
             topics=("pricing",)),
    ]
    add(store, *stories)
    return store, stories


def test_latest_is_newest_first_and_strategy_only_by_default(news):
    store, s = news
    assert [b.id for b in store.latest(3)] == [s[4].id, s[2].id, s[1].id]
    assert [b.id for b in store.latest(2, strategy_only=False)] == [s[4].id, s[3].id]
    assert [b.id for b in store.latest(topic="pricing")] == [s[4].id, s[0].id]


def test_company_and_topic_lookups(news):
    store, s = news
    assert [b.id for b in store.stories_for_company("Alibaba")] == \
        [s[3].id, s[2].id, s[0].id]
    assert [b.id for b in store.stories_for_company("Alibaba", 1)] == [s[3].id]
    assert store.stories_for_company("alibaba") == store.stories_for_company("Alibaba")
    assert [b.id for b in store.stories_for_topic("open-source")] == [s[1].id]
    assert store.stories_for_company("Nobody") == []


@pytest.mark.parametrize("query,expect", [
    ("qwen", [0]),
    ("QWEN prices", [0]),
    ("developers", [4]),
    ("alibaba qwen", [0]),
    ("qwe*", [0]),
    ("tencent nonexistentword", [2]),      # no story has both: any-word fallback
    ('alibaba "qwen', [0]),
    ('"qwen"', [0]),
    ("AND OR (", []),
    ("qwen OR", [0]),
    ("NOT qwen", []),                      # NOT leaves out, as -qwen (the command says so)
    ("ernie 4.5", [1]),
    ("open-source", [1]),
    ("price:cut", []),
    ("^qwen", [0]),
    ("*", []),
    ("", []),
    ("'); DROP TABLE stories; --", []),
    ("qw\x00en", []),
    ("qwen\x00", [0]),
    ("qwen " + "x " * 140, [0]),           # a paste of words: deduplicated, capped
    ("qwen " + "x " * 5000, []),           # a long paste: refused (Found.too_broad)
    ("x" * 60_000, []),                    # one huge word: likewise
    ("x" * 300, []),                       # a long word, searched
    ("50%_off", []),                       # LIKE's wildcards are text
    # -word leaves out the stories with it (it required the word, the opposite)
    ("alibaba -qwen", [2, 3]),            # strategy first: 3, newer, is phone sales
    ("prices -OpenAI", [0]),
    ("alibaba -qwen -agents", [3]),
    ("cuts -qwen -gpt", []),
    ("-qwen", []),                         # nothing to look for (the command says so)
    ("open-source", [1]),                  # a hyphen inside a word is no exclusion
])
def test_search_is_safe_and_ranked(news, query, expect):
    store, s = news
    assert [b.id for b in store.search(query)] == [s[i].id for i in expect]
    assert store.latest(1), "the table survives hostile queries"


@pytest.mark.parametrize("query, expect", [
    ("阿里巴巴", [0]),
    ("价格", [0]),                  # a two-character word inside an unspaced sentence
    ("降价", [1]),
    ("通义千问 价格", [0]),
    ("qwen 价格", [0]),             # mixed scripts: every word still required
    ("模型", [0, 1]),               # in the older story's headline: it ranks first
    ("腾讯 不存在的词", [1]),        # no story has both: any-word fallback
    ("字节跳动", []),
    ("模型 -降价", [0]),             # -word leaves out: here the newer story's headline
    ("阿里巴巴 -qwen", []),
    # Punctuation between Chinese words parts them, as a space does: a headline pasted
    # (its "，" read as "," by the chat's NFKC), a list typed with 、, a 「name」.
    ("阿里巴巴下调通义千问大模型价格,通义千问", [0]),
    ("阿里巴巴、价格", [0]),
    ("通义千问「价格」", [0]),
    ("阿里巴巴;价格", [0]),
    ("-通义千问、qwen 模型", [1]),       # and so are the words left out
])
def test_chinese_words_are_found_inside_unspaced_text(store, query, expect):
    # The index splits words at spaces and punctuation; Chinese has neither between words.
    s = add(store, make("阿里巴巴下调通义千问大模型价格", hours=1,
                        text="阿里云宣布通义千问（Qwen）主力模型的调用价格大幅下降。"),
            make("百度与腾讯跟进降价", hours=2, companies=("Baidu", "Tencent"),
                 text="百度文心一言与腾讯混元宣布部分模型免费。"))
    assert [b.id for b in store.search(query)] == [s[i].id for i in expect]
    # find() says which: a reader must be told when stories lack some of the words
    assert store.find(query).any_word == (query == "腾讯 不存在的词")


@pytest.mark.parametrize("query, expect", [
    ("降价", [1, 0]),               # newest first; simplified finds the Hong Kong outlet's 降價 too
    ("降價", [1, 0]),               # and the other way round
    ("腾讯 降价", [1]),
    ("騰訊", [1]),
    ("降价 -腾讯", [0]),             # -word leaves out either script
    ("降价 -騰訊", [0]),
])
def test_chinese_search_finds_simplified_and_traditional(store, query, expect):
    s = add(store, make("阿里云宣布通义千问降价", hours=1, text="阿里云宣布通义千问API降价。"),
            make("騰訊混元大模型宣佈降價", hours=2, companies=("Tencent",),
                 text="騰訊雲宣佈混元大模型全面降價。"))
    assert [b.id for b in store.search(query)] == [s[i].id for i in expect]


@pytest.mark.parametrize("query, title, expect", [
    # 台 is a traditional character too, and Taiwan writes TSMC 台積電: 台积电 was looked
    # for as 臺積電 only; 發布 is Taiwan's standard spelling, and 发布 was 發佈 only.
    ("台积电", "台積電擴大先進封裝產能", [1, 0]),
    ("台湾", "台灣加強AI晶片出口管制", [0]),
    ("发布", "百度發布文心大模型4.5", [1, 0]),
    ("发布会", "騰訊混元發布會宣布降價", [0]),
    ("臺積電", "台積電擴大先進封裝產能", [1, 0]),      # the formal 臺 typed
    ("阿里云", "阿里雲宣布降價", [0]),                 # 里 kept in traditional text (not 裡)
    ("台积电 -发布", "台積電擴大先進封裝產能", [0]),    # a -WORD left out in either spelling
])
def test_chinese_search_finds_a_traditional_text_keeping_a_simplified_character(
        store, query, title, expect):
    s = add(store, make(title, hours=1), make("台積電發布新晶片", hours=2))
    assert [b.id for b in store.search(query)] == [s[i].id for i in expect]


@pytest.mark.parametrize("query, expect", [
    ("H20", [0]),                   # a Latin word glued to Chinese on both sides
    ("h20", [0]),
    ("qwen3", [1]),
    ("Qwen3 API", [1]),             # every word, both inside the unspaced clause
    ("qwen3 降价", [1]),             # mixed scripts
    ("英伟达 h20", [0]),
    ("ai", [3, 2]),                 # a whole word: "AI芯片" and "OpenAI's AI", not "said"
    ("ai -h20", [3, 2]),
    ("api", [1]),                   # not inside "rapid" (story 2)
    ("qwen", [1]),                  # a name with its version written on: "Qwen3"
    ("qwe", []),                    # not inside a longer word
    ("h2", []),
    ("qwen3 -降价", []),             # -word exclusion: either script
    ("h20 -阿里云", [0]),
    ("h20 -nvidia", []),            # a Latin -word inside the Chinese text too
    ("ai -baidu", [3]),
    ("ai -rapid", [3]),             # an English -word through the index
])
def test_latin_words_are_found_inside_unspaced_text(store, query, expect):
    """FTS5 keeps an unspaced clause as one token with the Latin words glued to it:
    `search H20` missed "英伟达H20被要求…". Found as whole words, never inside a longer
    Latin word ("ai" is not in "said"), a name of letters with a version after it
    ("qwen" in "Qwen3", as `GPT-5` finds GPT-5.1)."""
    s = add(store,
            make("英伟达H20被要求停止对华销售", hours=1, companies=("Nvidia",),
                 text="美国商务部通知英伟达（Nvidia）H20芯片需要许可证。"),
            make("阿里云宣布Qwen3 API降价", hours=2,
                 text="阿里云宣布通义千问Qwen3系列模型API价格下调。"),
            make("Analysts said the rollout was rapid", hours=3, companies=("Baidu",),
                 text="Baidu said its AI芯片 plans are on track."),
            make("OpenAI's AI chief leaves", hours=4, companies=("OpenAI",),
                 text="The chief scientist said he would start a company."))
    assert [b.id for b in store.search(query)] == [s[i].id for i in expect]


def test_search_prefers_title_matches_then_recency(store):
    in_text = make("Cloud outage hits services", hours=5, companies=("Alibaba",),
                   text="Customers say Qwen endpoints were slow.")
    in_title = make("Qwen endpoints now cheaper", hours=1, companies=("Alibaba",))
    older = make("Tencent trims Hunyuan prices", hours=0, companies=("Tencent",))
    newer = make("Baidu trims Ernie prices", hours=2, companies=("Baidu",))
    add(store, in_text, in_title, older, newer)
    assert [b.id for b in store.search("qwen")] == [in_title.id, in_text.id]
    assert [b.id for b in store.search("trims prices")] == [newer.id, older.id]


def test_counts_since(news):
    store, s = news
    topics, companies = store.counts_since(T0 + timedelta(hours=2))
    assert topics == {"china": 1, "models": 1, "open-source": 1, "pricing": 1}
    assert companies == {"Alibaba": 2, "Baidu": 1, "OpenAI": 1, "Tencent": 1}
    assert list(companies)[0] == "Alibaba", "most first"
    topics, _ = store.counts_since(T0 + timedelta(hours=2), strategy_only=True)
    assert topics["pricing"] == 1


def test_a_story_without_a_brief_is_listed_as_its_brief_would_be(store):
    """`ainews latest` listed a story that was never condensed (not strategy) with the
    outlet still glued to its title ("... | TechCrunch") under the feed's name."""
    add(store, make("Roots launches a screen time app | TechCrunch", source="TC Local",
                    strategy=False))
    [b] = store.latest(strategy_only=False)
    assert (b.headline, b.source) == ("Roots launches a screen time app", "TechCrunch")
