"""Classify: strategy or not, companies (main first), topics, and the reasons shown."""
from __future__ import annotations

from pathlib import Path

import pytest

from feeds.classify import Classifier, GazetteerError, load_gazetteer
from feeds.models import DEFAULT_TOPICS

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier()


def seed() -> tuple[str, str]:
    title, _, body = (DATA / "seed-story.txt").read_text(encoding="utf-8").partition("\n")
    return title, body


# ---- the seed story -------------------------------------------------------------------

def test_seed_story_is_strategy_about_alibaba(clf):
    c = clf.classify(*seed())
    assert c.strategy
    assert c.companies[0] == "Alibaba"
    assert {"Tencent", "Baidu", "OpenAI", "Google", "Meta"} <= set(c.companies)
    assert {"open-source", "pricing", "enterprise", "china", "models"} <= set(c.topics)
    assert clf.resolve_company("qwen") == "Alibaba"


def test_seed_story_reasons_name_what_counted(clf):
    c = clf.classify(*seed())
    assert any(r.startswith("company:Alibaba x") and r.endswith("(title)") for r in c.reasons)
    assert any(r.startswith("term:open-source +") and "(title)" in r for r in c.reasons)
    assert any(r.startswith("term:revenue +") and "[pricing]" in r for r in c.reasons)
    assert c.reasons[-1].startswith("verdict:strategy (score ")
    assert c.score >= 10


# ---- company names ----------------------------------------------------------------------

@pytest.mark.parametrize("name, canonical", [
    ("Alibaba Group", "Alibaba"), ("qwen", "Alibaba"), ("ALIBABA", "Alibaba"), ("阿里巴巴", "Alibaba"),
    ("Tongyi", "Alibaba"), ("aliyun", "Alibaba"), ("ChatGPT", "OpenAI"), ("gpt-4o", "OpenAI"),
    ("Sora", "OpenAI"), ("Gemini", "Google"), ("deepmind", "Google"), ("Alphabet", "Google"),
    ("Google Cloud", "Google"), ("llama", "Meta"), ("Hunyuan", "Tencent"), ("WeChat", "Tencent"),
    ("Ernie", "Baidu"), ("文心一言", "Baidu"), ("Claude", "Anthropic"), ("Doubao", "ByteDance"),
    ("tiktok", "ByteDance"), ("Kimi", "Moonshot AI"), ("月之暗面", "Moonshot AI"), ("grok", "xAI"),
    ("Copilot", "Microsoft"), ("Azure", "Microsoft"), ("Nvidia Corporation", "Nvidia"),
    ("英伟达", "Nvidia"), ("Ascend 910B", "Huawei"), ("昇腾", "Huawei"), ("GLM", "Zhipu"),
    ("AWS", "Amazon"), ("Bedrock", "Amazon"), ("hugging face", "Hugging Face"),
    ("Character.AI", "Character.AI"), ("深度求索", "DeepSeek"), ("Arm Holdings", "Arm"),
    # Chinese corporate suffixes, unspaced (百度智能云 was suggested as Baichuan)
    ("腾讯控股", "Tencent"), ("阿里巴巴集团控股有限公司", "Alibaba"), ("百度智能云", "Baidu"),
    ("华为技术", "Huawei"), ("小米集团", "Xiaomi"), ("華為雲", "Huawei"),
    # 2026's AI start-ups the fifth fresh set's misses named
    ("cursor", "Anysphere"), ("lovable", "Lovable"), ("ComfyUI", "Comfy Org"), ("openclaw", "OpenClaw"),
])
def test_resolve_company_by_alias_any_case(clf, name, canonical):
    assert clf.resolve_company(name) == canonical


@pytest.mark.parametrize("name", ["科技", "云", "集团公司", "阿里山集团"])
def test_a_suffix_alone_or_on_no_company_resolves_to_none(clf, name):
    assert clf.resolve_company(name) is None


@pytest.mark.parametrize("name", ["Acme Widgets", "", "   ", "meta data"])
def test_resolve_company_unknown(clf, name):
    assert clf.resolve_company(name) is None


@pytest.mark.parametrize("typo, expected", [
    ("alibabba", "Alibaba"), ("antrhopic", "Anthropic"), ("nvida", "Nvidia"), ("deepsek", "DeepSeek"),
])
def test_suggest_companies_for_typos(clf, typo, expected):
    suggestions = clf.suggest_companies(typo)
    assert suggestions[0] == expected
    assert len(suggestions) <= 3 and len(set(suggestions)) == len(suggestions)


def test_suggest_companies_nothing_close(clf):
    assert clf.suggest_companies("zzzzqqqq") == []


def test_gazetteer_covers_the_companies_users_ask_for(clf):
    names = clf.company_names()
    assert len(names) >= 40
    assert {"Alibaba", "Tencent", "Baidu", "OpenAI", "Google", "Meta", "Anthropic", "ByteDance",
            "Moonshot AI", "xAI", "Microsoft", "DeepSeek", "Mistral", "Nvidia", "AMD", "Intel", "TSMC",
            "Huawei", "Zhipu", "MiniMax", "01.AI", "Baichuan", "SenseTime", "iFlytek", "Samsung",
            "Apple", "Amazon", "Cohere", "Perplexity", "Hugging Face", "Stability AI", "Databricks",
            "Snowflake", "Oracle", "IBM", "Salesforce", "Scale AI", "Inflection AI", "Character.AI",
            "SoftBank", "Arm", "Cerebras", "Groq", "CoreWeave", "Xiaomi"} <= set(names)


# ---- word boundaries and case ---------------------------------------------------------

@pytest.mark.parametrize("text, company, named", [
    ("The metadata of every file was rewritten overnight.", "Meta", False),
    ("Meta unveiled a new Llama model for developers.", "Meta", True),
    ("She ate a pineapple and an apple after lunch.", "Apple", False),
    ("Apple is adding Apple Intelligence to older phones.", "Apple", True),
    ("He broke his arm while skiing and could not type.", "Arm", False),
    ("Arm said its chip designs now ship in servers.", "Arm", True),
    ("The gemini constellation is visible in winter.", "Google", False),
    ("Gemini 1.5 Pro now reads a million tokens.", "Google", True),
    ("A llama farm opened near the lake.", "Meta", False),
    ("OpenAI's latest model is cheaper.", "OpenAI", True),
    ("Intelligence agencies met in Geneva.", "Intel", False),
    ("Intel cut prices on Xeon parts.", "Intel", True),
    ("The amazon rainforest lost more trees this year.", "Amazon", False),
    ("I finally grok how closures work.", "xAI", False),
    ("Move the cursor to the top of the page.", "Anysphere", False),
    ("How to Hide the Mouse Cursor in Windows 11", "Anysphere", False),
    ("Cursor is in talks to raise $2bn at a $50bn valuation.", "Anysphere", True),
    ("The puppy was lovable and calm.", "Lovable", False),
    ("An azure sky over the harbour.", "Microsoft", False),
    ("A moonshot idea for cheap fusion.", "Moonshot AI", False),
    ("阿里的Qwen模型下载量第一", "Alibaba", True),       # Latin name inside Chinese text
    ("通义千问大模型发布新版本", "Alibaba", True),         # CJK alias as a substring
    ("İstanbul start-ups build on Qwen", "Alibaba", True),  # text that lowercases longer
    ("İstanbul's metadata office", "Meta", False),
])
def test_company_matching_respects_words_and_case(clf, text, company, named):
    assert (company in clf.classify("", text).companies) is named


def test_headline_company_comes_first(clf):
    c = clf.classify("Google bets big on Gemini for enterprise customers",
                     "OpenAI and OpenAI's partner Microsoft also sell models; OpenAI leads in usage.")
    assert c.companies[0] == "Google"
    assert set(c.companies) == {"Google", "OpenAI", "Microsoft"}


# ---- strategy or not ------------------------------------------------------------------

CHINESE = ("阿里云宣布通义千问大模型全面降价",
           "阿里巴巴旗下阿里云今天宣布，通义千问系列大模型API价格下调，最高降价97%。"
           "此举将与百度文心一言、字节跳动豆包展开价格战，推动大模型商业化，吸引更多企业客户。")


def test_chinese_story_on_alibaba_pricing_is_strategy(clf):
    c = clf.classify(*CHINESE)
    assert c.strategy
    assert c.companies[0] == "Alibaba"
    assert {"Baidu", "ByteDance"} <= set(c.companies)
    assert {"pricing", "china", "models"} <= set(c.topics)
    assert any(r.startswith("term:降价 +") for r in c.reasons)


# Chinese outlets: a longer word holding an alias is not the company; traditional
# characters (Hong Kong, Taiwan) name the same companies and topics as simplified ones.
@pytest.mark.parametrize("text, company, named", [
    ("文心兰喜欢温暖湿润的环境，浇水要见干见湿。", "Baidu", False),     # an orchid
    ("百度文心大模型用户突破3亿。", "Baidu", True),
    ("百度百科上线了新的人工智能词条。", "Baidu", True),                 # Baidu's own site
    ("阿里山的日出和云海吸引了大批游客。", "Alibaba", False),            # a mountain
    ("阿里云和阿里山都在这篇文章里。", "Alibaba", True),
    ("海纳百川，有容乃大。", "Baichuan", False),                         # an idiom
    ("百川智能发布新一代开源模型。", "Baichuan", True),
    ("每个汉字在GBK编码下占两个字节。", "ByteDance", False),             # bytes
    ("字节跳动旗下豆包上线新功能。", "ByteDance", True),
    ("周末去海螺沟看冰川。", "MiniMax", False),                          # a glacier park
    ("早餐喝了一碗小米粥。", "Xiaomi", False),                          # millet
    ("騰訊雲宣佈混元大模型降價。", "Tencent", True),                     # traditional
    ("華為昇騰晶片出貨量大增。", "Huawei", True),
    ("中芯國際股價重挫。", "SMIC", True),
    ("寒武紀上半年營收大增。", "Cambricon", True),
    ("輝達的H20晶片被要求申請許可證。", "Nvidia", True),
    ("美团收购光年之外。", "Meituan", True),
])
def test_chinese_names_in_longer_words_and_traditional_script(clf, text, company, named):
    assert (company in clf.classify("", text).companies) is named


@pytest.mark.parametrize("name, canonical", [
    ("騰訊", "Tencent"), ("通義千問", "Alibaba"), ("華為雲", "Huawei"), ("字節跳動", "ByteDance"),
    ("中芯国际", "SMIC"), ("寒武纪", "Cambricon"), ("智譜", "Zhipu"),
])
def test_resolve_company_in_either_script(clf, name, canonical):
    assert clf.resolve_company(name) == canonical


@pytest.mark.parametrize("title, text, strategy, topic", [
    ("騰訊混元大模型宣佈降價，混元-lite全面免費",
     "騰訊雲宣佈旗下混元大模型全面降價，推動人工智能應用落地。", True, "pricing"),
    ("美國擴大對華晶片出口管制，中芯國際股價重挫",
     "美國商務部宣佈擴大對中國先進晶片及製造設備的出口管制，多家中國企業被列入實體清單。",
     True, "policy"),
    ("寒武纪上半年营收同比增长43倍，扭亏为盈",
     "公司表示，业绩增长主要来自云端AI芯片产品线。受出口管制影响，国内互联网公司加大了对国产算力的采购。",
     True, "chips"),
    ("通义实验室负责人变动：阿里云CTO将兼任",
     "阿里巴巴内部邮件显示，通义实验室负责人出现变动，阿里云CTO将兼任，此前通义千问技术负责人已离职。",
     True, "leadership"),
    ("一文读懂大模型中的MoE架构：从原理到实践",
     "混合专家模型是近年来大模型的热门架构。本文从原理出发，讲解门控网络和专家路由。", False, None),
    ("文心兰怎么养？这5个养护要点请收好",
     "文心兰又名跳舞兰，是一种常见的观赏兰花，喜欢温暖湿润、半阴的环境。", False, None),
])
def test_chinese_stories_strategy_and_topics(clf, title, text, strategy, topic):
    c = clf.classify(title, text)
    assert c.strategy is strategy, c.reasons
    assert topic is None or topic in c.topics, c.topics


@pytest.mark.parametrize("title, text, main", [
    ("US tightens export controls on Nvidia AI chips to China",
     "The Commerce Department said the new rules block sales of H20 accelerators to Chinese firms, "
     "a blow to Nvidia's data center business.", "Nvidia"),
    ("OpenAI raises $6.6 billion at a $157 billion valuation",
     "The ChatGPT maker's funding round was led by Thrive Capital, with Microsoft and Nvidia investing.",
     "OpenAI"),
    ("Amazon deepens Anthropic partnership with another $4 billion investment",
     "Anthropic will train its Claude models on AWS Trainium chips under the expanded agreement.",
     "Amazon"),
    ("DeepSeek cuts API prices by 75% as China's AI price war heats up",
     "The Hangzhou start-up's open-source models undercut rivals such as Alibaba's Qwen and Baidu's Ernie.",
     "DeepSeek"),
    ("Microsoft agrees to acquire AI startup Inflection's team in licensing deal",
     "The software giant will pay Inflection AI to license its models and hire its co-founders.",
     "Microsoft"),
])
def test_business_moves_in_ai_are_strategy(clf, title, text, main):
    c = clf.classify(title, text)
    assert c.strategy, c.reasons
    assert c.companies[0] == main


@pytest.mark.parametrize("title, text, why", [
    ("Pixel 9 Pro review: the best camera phone, with AI tricks",
     "In our review the camera impressed; the AI photo editor is fun but the battery could be better.",
     "negative:review"),
    ("How to use ChatGPT to write Excel formulas",
     "Here's how to ask the chatbot for a formula, step by step, with example prompts.",
     "negative:how to"),
    ("Researchers propose a new attention mechanism for long-context language models",
     "In a research paper posted to arXiv, the researchers show the method halves memory use.",
     "negative:research paper"),
    ("Electric truck maker Volta raises $200 million in Series C funding",
     "The investment will expand its factory and battery supply for delivery fleets.",
     "gate:not about AI"),
    ("Save $100 on this robot vacuum during Black Friday",
     "The deal brings the AI-powered mop to a record low price on Amazon.",
     "negative:black friday"),
])
def test_reviews_tutorials_papers_deals_and_non_ai_news_are_not_strategy(clf, title, text, why):
    assert_verdict(clf.classify(title, text), False, why)


# The adjudicated policy's categories (docs/history/classifier-journal.md, "Vocabulary for
# the adjudicated policy"): each sentence must get the verdict the policy gives and name the phrase for it.
@pytest.mark.parametrize("title, text, strategy, why", [
    ("OpenAI unveils GPT-4 Turbo, its most capable model yet",
     "The new model reads longer prompts and is generally available to developers.",
     True, "term:gpt-4 turbo"),
    ("Hands-on with Gemini Ultra, Google's new model",
     "Google's flagship model is now available to everyone who subscribes to Gemini Advanced.",
     True, "term:gemini ultra"),
    ("Everything OpenAI announced at DevDay",
     "At its first developer conference OpenAI launched custom GPTs and a GPT Store.",
     True, "term:devday"),
    ("OpenAI开发者大会发布新一代模型", "OpenAI在发布会上推出新模型并降价。", True, "term:开发者大会"),
    ("OpenAI pauses ChatGPT Plus sign-ups as demand surges",
     "New subscribers join a waitlist while the company adds capacity.",
     True, "term:sign-ups"),
    ("Intel's Meteor Lake chips add a neural processing unit",
     "The Core Ultra processors run AI models on the NPU instead of the GPU.",
     True, "term:neural processing unit"),
    ("英特尔发布AI电脑芯片，内置神经网络处理器", "新芯片可在端侧AI运行大模型。", True, "term:ai电脑"),
    ("Meta's AI lab open-sources a research model that links six kinds of data",
     "The research project is a proof of concept, not a product.",
     False, "negative:research model"),
    ("Op-ed: the AI market is a bubble, and the hype will fade",
     "In this op-ed, a columnist argues that valuations of AI startups cannot last.",
     False, "negative:op-ed"),
], ids=["launch", "launch-hands-on", "launch-event", "launch-event-zh", "paid-tier", "npu-chip",
        "npu-chip-zh", "research-model", "opinion"])
def test_adjudicated_policy_categories_score_as_the_policy_says(clf, title, text, strategy, why):
    assert_verdict(clf.classify(title, text), strategy, why)


def assert_verdict(c, strategy: bool, why: str) -> None:
    """The verdict, and the reason that names why (a phrase, a gate, a veto)."""
    assert c.strategy is strategy, c.reasons
    assert any(r.startswith(why) for r in c.reasons), c.reasons


def test_empty_story(clf):
    c = clf.classify("", "")
    assert (c.strategy, c.companies, c.topics) == (False, (), ())


def test_words_inside_a_name_still_count(clf):
    # "Alibaba Cloud" is one match (the company) that also carries the term "cloud";
    # "开源模型" likewise carries open-source and models
    c = clf.classify("Alibaba Cloud bets on 开源模型", "")
    assert c.companies == ("Alibaba",)
    assert {"enterprise", "open-source", "models"} <= set(c.topics)


def test_wildcard_phrase_reports_the_word_it_matched(clf):
    c = clf.classify("Nvidia completes acquisition of AI startup Run:ai", "The deal closed on Monday.")
    assert "acquisitions" in c.topics
    assert any(r.startswith("term:acquisition +") for r in c.reasons)


# ---- topics ---------------------------------------------------------------------------

def test_default_topics_and_labels(clf):
    assert clf.topic_slugs() == list(DEFAULT_TOPICS)
    assert clf.topic_label("chips") == "Chips & compute"
    assert clf.topic_label("no-such-topic") == "no-such-topic"


@pytest.mark.parametrize("typed, slug", [
    ("open-source", "open-source"), ("open source", "open-source"), ("Open Source", "open-source"),
    ("m&a", "acquisitions"), ("M&A", "acquisitions"), ("export controls", "policy"),
    ("regulation", "policy"), ("Chips & compute", "chips"), ("PRICING", "pricing"),
    ("monetization", "pricing"), ("funding", "funding"), ("opensource", "open-source"),
])
def test_resolve_topic_accepts_slugs_labels_synonyms(clf, typed, slug):
    assert clf.resolve_topic(typed) == slug


@pytest.mark.parametrize("typed", ["", "weather", "sports"])
def test_resolve_topic_unknown(clf, typed):
    assert clf.resolve_topic(typed) is None


# ---- user extension -------------------------------------------------------------------

USER_TOML = """
[companies."Acme Robotics"]
aliases = ["AcmeBot", "阿克米"]
ai = true

[companies.alibaba]          # an existing company, any case: adds an alias
aliases = ["Bailian"]

[topics.robotics]
label = "Robots"
terms = ["humanoid", "robot*", "机器人"]
synonyms = ["robots"]

[topics.chips]               # an existing topic: adds a phrase
terms = ["wafer"]
"""


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf-8", "utf-8 with BOM"])
def test_user_file_adds_companies_aliases_and_topics(tmp_path, bom):
    path = tmp_path / "mine.toml"
    path.write_bytes(bom + USER_TOML.encode("utf-8"))   # Windows editors write the BOM
    clf = Classifier(load_gazetteer(path))
    assert clf.resolve_company("acmebot") == "Acme Robotics"
    assert clf.resolve_company("Bailian") == "Alibaba"
    assert clf.resolve_topic("robots") == "robotics"
    assert clf.topic_label("robotics") == "Robots"
    assert clf.topic_slugs()[:len(DEFAULT_TOPICS)] == list(DEFAULT_TOPICS)
    c = clf.classify("AcmeBot raises $50 million to build humanoid robots",
                     "The funding round values the robotics maker at $1 billion; its AI runs on wafer-scale chips.")
    assert c.companies[0] == "Acme Robotics"
    assert "robotics" in c.topics and "funding" in c.topics
    assert any(r.startswith("term:wafer +") for r in c.reasons)
    # the bundled gazetteer is untouched by another classifier's user file
    assert Classifier().resolve_company("acmebot") is None


@pytest.mark.parametrize("content, message", [
    ("[companies.Foo\naliases = 1", "is not valid TOML"),
    ("[companies.Foo]\naliases = 'Bar'", "needs a list of non-empty strings"),
    ("[companies]\nFoo = 3", "must be a table"),
    ("[topics.x.weights]\nrobot = 'high'", "must be a number"),
    ("[negative.weights]\nsponsored = 'a lot'", "must be a number"),
    # A value of the wrong kind ended in a ValueError's or AttributeError's traceback.
    ("[topics.robots]\nweight = 'high'", "weight of topic 'robots' must be a number"),
    ("[topics.robots]\nweights = 3", "topics.robots.weights must be a table ([topics.robots.weights])"),
    ("topics = ['robots']", "topics must be a table"),
    ("companies = 3", "companies must be a table"),
    ("negative = 3", "negative must be a table"),
    ("[negative]\nweights = 3", "negative.weights must be a table"),
    # A misspelt section was ignored: the user's companies never showed up, no word why.
    ("[company.Acme]\naliases = ['AcmeBot']", "unknown section 'company'"),
    ("[Topics.robots]\nterms = ['robot']", "unknown section 'Topics'"),
])
def test_bad_user_file_is_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GazetteerError) as err:
        load_gazetteer(path)
    assert str(err.value).startswith("classify: ")
    assert message in str(err.value)


def test_user_file_adds_negative_phrases(tmp_path, clf):
    story = ("OpenAI raises $6.6 billion in new funding round",
             "Sponsored: the ChatGPT maker's investors include Microsoft.")
    assert clf.classify(*story).strategy
    path = tmp_path / "mine.toml"
    path.write_text('[negative.weights]\n"sponsored" = 10\n', encoding="utf-8")
    c = Classifier(load_gazetteer(path)).classify(*story)
    assert not c.strategy
    assert any(r.startswith("negative:sponsored -") for r in c.reasons)
    assert any(r.startswith("veto:sponsored") for r in c.reasons)   # heavy enough to decide alone


def test_missing_user_file(tmp_path):
    with pytest.raises(GazetteerError, match="cannot read"):
        load_gazetteer(tmp_path / "absent.toml")


# ---- the learned layer ------------------------------------------------------------------

STRATEGIC = [
    "Tencent cuts prices of its AI models by 13% to win enterprise customers",
    "Baidu raises $52bn in new funding to expand AI data centres",
    "Alibaba cuts API prices for its models by 10% to win enterprise customers",  # no word "AI"
]


@pytest.mark.parametrize("title", STRATEGIC)
def test_generated_strategy_headlines_are_strategy(clf, title):
    c = clf.classify(title, "")
    assert c.strategy, c.reasons
    assert c.reasons[-1].startswith("verdict:strategy (score ") and ", p " in c.reasons[-1]


def test_reasons_list_the_features_that_counted(clf):
    c = clf.classify("How to use ChatGPT on your new Pixel phone", "Here's how, step by step.")
    assert not c.strategy
    feats = [r for r in c.reasons if r.startswith("feature:")]
    assert feats and any(r.startswith("feature:cue:consumer@title -") for r in feats), c.reasons


def _user(tmp_path, text: str) -> Classifier:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return Classifier(load_gazetteer(path))


def test_user_model_threshold_makes_posts_fewer_and_surer(tmp_path, clf):
    story = ("Microsoft debuts new unified security solution with Security Copilot",
             "The enterprise tool bundles threat intelligence with the AI assistant.")
    assert clf.classify(*story).strategy
    c = _user(tmp_path, "[model]\nthreshold = 0.99\n").classify(*story)
    assert not c.strategy and "threshold 0.99" in c.reasons[-1]


def test_model_can_be_switched_off_for_the_rule_score(tmp_path, clf):
    story = ("Sam Altman is back at OpenAI", "")   # a bare executive change: the learned layer posts it
    assert clf.classify(*story).strategy
    c = _user(tmp_path, "[model]\nenabled = false\n").classify(*story)
    assert not c.strategy
    assert c.reasons[-1].endswith("threshold 2.25)") and not any(r.startswith("feature:") for r in c.reasons)


@pytest.mark.parametrize("content, message", [
    ('[model]\nweights = "absent.json"\n', "cannot load model weights"),
    ("[model]\nthreshold = 'high'\n", "must be a number"),
])
def test_bad_model_settings_are_one_line_errors(tmp_path, content, message):
    with pytest.raises(GazetteerError) as err:
        _user(tmp_path, content)
    assert str(err.value).startswith("classify: ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_shipped_weights_are_cues_or_vocabulary_words():
    """Every weight is a gazetteer group, a named cue, or a word the trainer may weigh
    (feeds.lexical: lowercased, digits as 0, no outlet names, not stopwords alone)."""
    import json
    from feeds.lexical import PREFIX, in_vocabulary, words
    doc = json.loads((Path(__file__).parents[1] / "feeds" / "data" / "strategy_model.json").read_text())
    groups = {"open-source", "pricing", "funding", "acquisitions", "partnerships", "chips", "policy",
              "models", "leadership", "enterprise", "china", "strategy", "negative", "other", "ai"}
    cues = set(load_gazetteer().rules["cues"])
    named = {"ai-company", "ai-company@title", "company@title", "companies", "money@title", "money@lead",
             "percent@title", "first-person@title", "short-title", "no-text", "lab-post", "rule-score",
             "near-ai", "near-gate"}
    for name in doc["weights"]:
        base, _, place = name.partition("@")
        if name.startswith(PREFIX):
            word = name.removeprefix(PREFIX)
            assert in_vocabulary(word) and word in words(word, ""), name
            continue
        ok = name in named or (place in ("title", "lead", "body")
                               and (base in groups or base.removeprefix("cue:") in cues))
        assert ok, name
    assert len(doc["weights"]) >= 50          # the cue features, not an empty model


def test_trainer_learns_a_separable_rule_and_regularisation_shrinks_it():
    from bench.trainer import fit, prob
    xs = [{"pricing@title": 1.0}] * 20 + [{"cue:howto@title": 1.0}] * 20
    ys = [1] * 20 + [0] * 20
    w, b = fit(xs, ys, lam=0.1)
    assert prob(w, b, {"pricing@title": 1.0}) > 0.9 > 0.1 > prob(w, b, {"cue:howto@title": 1.0})
    w_strong, _ = fit(xs, ys, lam=10.0)
    assert abs(w_strong["pricing@title"]) < abs(w["pricing@title"])


# ---- the word-level scan finds what the full regex scan finds ----------------------------

def _corpus_texts() -> list[str]:
    """Real feeds in tests/data and generated entries: headlines, summaries, bodies."""
    from feeds.parser import ParseError, parse_feed
    from feeds.text import html_to_text
    from tests.fakes.feedserver import make_entries
    texts = []
    for path in sorted(DATA.glob("*.xml")):
        try:
            stories = parse_feed(path.read_bytes(), feed_url=f"https://t.invalid/{path.name}").stories
        except ParseError:
            continue
        texts += [t for s in stories for t in (s.title, s.text)]
    for e in make_entries(60, seed=3):
        texts += [e["title"], e["summary"], html_to_text(e["content_html"])]
    return texts


TRICKY = [
    "Apple’s and apple's APPLE Meta meta-analysis Metaverse _Meta Meta_ éMeta Metaé",
    "open-source open source opensource open-sourced gpt-4o gpt-4o-mini GPT4 OpenAI's",
    "百度的Qwen模型 阿里巴巴和腾讯 阿里云Qwen开源模型 智谱AI 智谱ai发布",
    "monetization monetize Monetizing remonetize price-cut $1bn raised 1.5 billion",
    "xAI X.ai Nvidia-backed nvidia’s Arm ARM arms Character.AI A.I. ai-powered AI.",
    "a bet that data center on data centers new features chief scientist closed.",
    "", " ", "Meta", "?", "(Alibaba)", "Alibaba Cloud's cloud", "Hugging Face.hugging face",
    # a wildcard running on over the start of a longer phrase, which hides a later start
    "monetiz_oracle cloud infra", "semiconductorascend chips", "thai chips", "open sourced",
    "OpenAI \ud800 open source Qwen",   # a lone surrogate (JSON feeds can carry one)
]


def _glued(matcher, n: int, seed: int) -> list[str]:
    """The gazetteer's own phrases and their beginnings glued by word characters,
    spaces, punctuation and CJK: phrases overlapping and running into each other."""
    import random
    rng = random.Random(seed)
    stems = sorted({*matcher._keys, *matcher._prefixes})
    frags = stems + [s[:k] for s in stems[::7] for k in range(1, len(s))] + ["thai", "s", "é"]
    seps = ["", " ", "-", "的", "\n", ".", "'", "_", "é", ",", "?", "$", "😀"]
    return ["".join(rng.choice(frags) + rng.choice(seps) for _ in range(rng.randint(1, 10)))
            for _ in range(n)]


@pytest.mark.parametrize("source", ["corpus", "tricky", "shuffled", "glued"])
def test_word_scan_finds_exactly_the_regex_matches(clf, source):
    import random
    m = clf._matcher
    if source == "corpus":
        texts = _corpus_texts()
    elif source == "tricky":
        texts = TRICKY
    elif source == "shuffled":   # tricky words glued by spaces, nothing, hyphens and CJK
        rng, words = random.Random(7), " ".join(TRICKY).split()
        texts = [rng.choice(["", " ", "-", "的", "\n"]).join(rng.sample(words, 8)) for _ in range(800)]
    else:
        texts = _glued(m, 4000, seed=11)
    differing = [t for t in texts if [x.span() for x in m._re.finditer(t.lower())] != m.spans(t)]
    assert len(texts) > 10 or source == "tricky"
    assert differing == []
    # found(), the classifier's path, reports the same matches, as written (a phrase
    # with no case-sensitive key may come back lowercased: its keys are the same)
    for t in texts:
        written = [t[a:b] for a, b in m.spans(t)]
        assert [f.lower() for f in m.found(t)] == [w.lower() for w in written]
        assert all(m.keys(f) == m.keys(w) for f, w in zip(m.found(t), written))
    assert sum(len(m.find(t)) for t in texts) > len(texts)   # the texts do name things


@pytest.mark.parametrize("odd", ["İstanbul", "\ud800"], ids=["longer-lowercased", "lone-surrogate"])
def test_text_the_fast_scan_cannot_take_still_matches(clf, odd):
    # "İ" lowercases to two characters (no shared positions); a lone surrogate is not
    # UTF-8 for the automaton: both go to the regex alone
    c = clf.classify(f"{odd} startup raises funding from OpenAI", "")
    assert "OpenAI" in c.companies


# ---- 2024-25 wording (docs/history/classifier-journal.md, "Fresh set and 2024-25 vocabulary")

@pytest.mark.parametrize("title, first_person", [
    ("Chipmakers bet on generative A.I. as profits climb", False),
    ("The A.I. spending spree, explained by the numbers", False),
    ("I tried the new AI assistant for a week", True),
    ("What my team learned from an AI pilot", True),
], ids=["nyt-spelling", "nyt-spelling-start", "first-person", "first-person-my"])
def test_nyt_ai_spelling_counts_as_ai_and_is_not_first_person(clf, title, first_person):
    x, about_ai = clf.features(title, "")
    assert about_ai
    assert bool(x.get("first-person@title")) is first_person


# The categories of 2024-25 news the fourth session's vocabulary was written for: each
# sentence (our own words) gets the policy's verdict and names the phrase that decided it.
@pytest.mark.parametrize("title, text, strategy, why", [
    ("Nvidia's Blackwell chips are sold out for the next year",
     "Cloud providers have ordered the B200 and GB200 systems through next year.", True, "ai:Blackwell"),
    ("Smugglers keep Nvidia chips flowing to China",
     "Traders route the most advanced chips around US export controls.", True, "term:nvidia chips"),
    ("Nvidia's new GeForce graphics cards are cheaper and faster",
     "The RTX 4070 Super targets gamers who want higher frame rates.", False, "negative:gamers"),
    ("Google unveils Veo, a video generator to rival Sora",
     "The model makes minute-long clips from a text prompt.", True, "term:veo"),
    ("OpenAI signs a content deal with a newspaper group",
     "The licensing agreement lets ChatGPT quote the publisher's articles.", True, "term:content deal"),
    ("Meta's profits double as its AI spending climbs",
     "The company raised its capital expenditure forecast for data centres.", True, "term:ai spending"),
    ("Meta will label AI-manipulated videos under new rules",
     "The platform's policy now requires a label on realistic synthetic media.", True, "term:ai-manipulated"),
    ("Survey finds most managers plan to buy AI tools this year",
     "Respondents said productivity was their main reason.", False, "negative:survey finds"),
    ("Get a lifetime licence to an AI writing app with this deal",
     "The app drafts emails and posts for a one-time price.", False, "negative:with this deal"),
    ("AI video throwdown: three generators put to the test",
     "We gave the same prompts to each tool and compared the clips.", False, "negative:throwdown"),
], ids=["ai-chip-by-name", "chip-export-controls", "gaming-gpu", "launch-by-name", "content-deal",
        "earnings-capex", "platform-ai-content-rule", "survey", "lifetime-deal", "hands-on-comparison"])
def test_2024_25_categories_score_as_the_policy_says(clf, title, text, strategy, why):
    assert_verdict(clf.classify(title, text), strategy, why)


@pytest.mark.parametrize("title, cues", [
    ("Mistral raises $600m from investors", {"money@title"}),
    ("In 2024, OpenAI raised $6.6bn; in 2025 more", {"money@title"}),   # a year comes first
    ("ByteDance valued at 300 Billion", {"money@title"}),
    ("Alibaba sets aside 5BN for AI", {"money@title"}),
    ("智谱融资5亿元", {"money@title"}),
    ("Top 10 AI models of 2024", set()),
    ("Nvidia event at 5pm, 20 minutes", set()),
    ("Google cuts Gemini prices 40%", {"percent@title"}),
    ("Prices fall 40 PERCENT", {"percent@title"}),
    ("Percentage of firms using AI grows", set()),
    ("I tried Gemini for a week", {"first-person@title"}),
    ("We're testing Copilot: my verdict", {"first-person@title"}),
    ("Our $20 AI pin", {"first-person@title", "money@title"}),
    ("AI weekly: Myanmar, Owe, Iowa", set()),   # the words inside others do not count
])
def test_money_percent_and_first_person_cues_in_headlines(clf, title, cues):
    x, _ = clf.features(title, "")
    named = {"money@title", "percent@title", "first-person@title"}
    assert {k for k in named if x.get(k) == 1.0} == cues


def test_a_long_running_classifier_forgets_spellings_without_changing_results(monkeypatch):
    """The scan remembers each spelling's phrase keys; past a limit it starts afresh
    (odd spellings must not grow a long-running bot's memory), between stories."""
    import feeds.scan
    texts = _corpus_texts()[:400]
    stories = [seed(), *zip(texts[0::2], texts[1::2])] + [(t, "") for t in TRICKY]
    first = Classifier()
    fresh = [first.classify(t, x) for t, x in stories]
    monkeypatch.setattr(feeds.scan, "MEMO_LIMIT", 5)
    clf = Classifier()
    assert [clf.classify(t, x) for t, x in stories * 2] == fresh * 2
    assert len(clf._scanner._terms_of) < 400   # it did start afresh


# ---- fifth session: 2024-25 AI companies, AI evidence, governments' acts on AI ------------

@pytest.mark.parametrize("title, text, strategy, why", [
    ("Thinking Machines raises $2 billion seed round",
     "The startup founded by former lab executives is valued at $10 billion.", True,
     "ai-company:Thinking Machines Lab"),
    ("Runway signs deal with film studio to train video models",
     "The studio will provide its library of films.", True, "ai-company:Runway"),
    ("State passes AI law requiring chatbot safeguards for minors",
     "The governor signed the bill on Monday after months of debate.", True, "term:ai law"),
    ("Regulator fines telecom over deepfake robocalls",
     "The calls imitated a candidate's voice days before the primary.", True, "ai:deepfake"),
    ("How to spot a deepfake: 5 tips", "Look closely at the hands and the lighting.", False,
     "negative:how to"),
    ("Animal shelter promises humane treatment for all its dogs",
     "Volunteers say thinking machines cannot replace their care.", False, "gate:not about AI"),
], ids=["ai-native-lab-funding", "ai-native-company-deal", "state-ai-law", "deepfake-is-ai",
        "deepfake-how-to", "ordinary-words-are-no-companies"])
def test_2025_categories_score_as_the_policy_says(clf, title, text, strategy, why):
    c = clf.classify(title, text)
    assert_verdict(c, strategy, why)
    if not strategy:
        assert c.companies == ()


def test_shipped_model_lists_the_headline_words_that_counted(clf):
    """The shipped model weighs headline words (fifth session); a word that moved the
    verdict is named in the reasons with its weight, after the features."""
    c = clf.classify("Runway signs deal with film studio to train video models",
                     "The studio will provide its library of films.")
    words = [r for r in c.reasons if r.startswith("word:")]
    assert words and all(float(r.rsplit(" ", 1)[1]) != 0 for r in words)
    assert c.reasons.index(words[0]) > max(i for i, r in enumerate(c.reasons) if r.startswith("feature:"))


# ---- fifth session, second round: the AI gate opens on near-AI evidence ------------------
# 2025's AI business is often told as chips, their export rules, data centres and crawlers,
# with no AI word: such a story reaches the learned layer ("gate:near AI"), which decides;
# the policy's zeros among them (gaming GPUs, phones, EVs) stay zero, and a story with no AI,
# chip, data-centre or crawler evidence at all is still vetoed by the gate.
@pytest.mark.parametrize("title, text, strategy, why", [
    ("Chipmakers agree to pay the government a share of their China sales for export licences",
     "The two GPU makers will hand over part of the revenue from chips sold to Chinese customers.",
     True, "gate:near AI"),
    ("Beijing regulator rules that Nvidia broke its antitrust law",
     "The ruling over an earlier acquisition comes as trade talks with Washington resume.",
     True, "gate:near AI"),
    ("Search giant buys a data center developer for $4 billion",
     "The deal brings the company several campuses under construction and their power contracts.",
     True, "gate:near AI"),
    ("Gaming laptop maker cuts prices on models with new GPUs",
     "The machines target gamers who want high frame rates in new games.", False, "gate:near AI"),
    ("Phone maker unveils a foldable handset with a brighter screen",
     "The device goes on sale next month in three colours.", False, "gate:not about AI"),
    ("Electric carmaker raises $500 million to build a new factory",
     "The funding round values the company at $4 billion.", False, "gate:not about AI"),
], ids=["chip-export-licence-deal", "chip-antitrust-ruling", "data-centre-acquisition",
        "gaming-laptop", "phone-launch", "ev-funding"])
def test_near_ai_stories_pass_the_gate_and_the_learned_layer_decides(clf, title, text, strategy, why):
    assert_verdict(clf.classify(title, text), strategy, why)


def test_a_crawler_story_without_ai_words_reaches_the_learned_layer(clf):
    """Crawlers and scrapers are near-AI evidence: the gate no longer vetoes such a story
    (the learned layer, with few crawler stories to learn from, still decides)."""
    c = clf.classify("Network company will charge crawlers for every page they scrape",
                     "Publishers can now block bots by default or set a price for each crawl.")
    assert any(r.startswith("gate:near AI") for r in c.reasons), c.reasons
    assert any(r.startswith("feature:near-gate") for r in c.reasons), c.reasons


def test_rule_score_alone_keeps_the_strict_gate(tmp_path):
    """Without the learned layer nothing has learned which near-AI stories are strategy,
    so the rule score asks for AI evidence itself."""
    user = tmp_path / "rules.toml"
    user.write_text("[model]\nenabled = false\n", encoding="utf-8")
    rules = Classifier(load_gazetteer(user))
    c = rules.classify("Search giant buys a data center developer for $4 billion",
                       "The deal brings the company several campuses under construction.")
    assert not c.strategy and any(r.startswith("gate:near AI") for r in c.reasons)


# The 2025 categories added with it: chatbots as regulated products, a lab's launch told as
# what its new agent can do (both strategy), and a chatbot's controversies (not strategy).
@pytest.mark.parametrize("title, text, strategy, why", [
    ("Regulator opens an inquiry into AI chatbots and child safety",
     "The agency asked seven companies how they test their chatbots for harm to minors.",
     True, "term:inquiry"),
    ("OpenAI's new agent can book trips and fill in forms for you",
     "The agent mode is rolling out to paying subscribers first.", True, "term:new agent"),
    ("xAI's Grok chatbot draws backlash after offensive posts",
     "The company said it removed the posts and changed the chatbot's instructions.",
     False, "feature:cue:incident@title"),
], ids=["chatbot-inquiry", "agent-launch", "chatbot-incident"])
def test_2025_chatbot_and_agent_categories_score_as_the_policy_says(clf, title, text, strategy, why):
    assert_verdict(clf.classify(title, text), strategy, why)


# The eighth session's cue groups for the 2026 adjudication's policy lines (our own
# made-up headlines): a call, proposal or letter is not an act, an introduced bill is;
# usage claims, robotics, tests inside a company. Each headline fires its cue.
@pytest.mark.parametrize("title, text, cue", [
    ("OpenAI urges governments to tax robots", "", "cue:statement@title"),
    ("AI lab CEO calls for a global pause on superintelligence", "", "cue:statement@title"),
    ("Senator proposes a wishlist of AI safety rules", "", "cue:statement@title"),
    ("Chatbot maker says 800 million people use its assistant every week", "", "cue:usage@title"),
    ("Humanoid robot start-up shows off its AI warehouse robots", "", "cue:robotics@title"),
    ("Search giant tests its new AI assistant internally with staff", "", "cue:internal@title"),
    ("Rogue AI agent hacked a hospital's network", "", "cue:incident@title"),
])
def test_2026_policy_cues_fire(clf, title, text, cue):
    x, about_ai = clf.features(title, text)
    assert about_ai and x.get(cue, 0) > 0, x


@pytest.mark.parametrize("title, text, strategy, why", [
    ("Senator introduces bill to ban AI toys",
     "The legislation would bar chatbots in toys sold to children.", True, "term:introduces bill"),
    ("Chatbot maker says 800 million people use its assistant every week",
     "The figure comes from the company's own usage data.", False, "verdict:not strategy"),
    ("Nvidia acquires an AI software start-up for $700 million",
     "The deal brings the company's inference tools in-house.", True, "verdict:strategy"),
], ids=["introduced-bill-is-an-act", "usage-claim", "acquisition-keeps-its-cues"])
# Not here: "OpenAI urges governments to tax robots" is still posted (p 0.85; the statement
# cue learns little from the older sets), a known limit in docs/classifier.md.
def test_2026_policy_lines_score_as_the_policy_says(clf, title, text, strategy, why):
    assert_verdict(clf.classify(title, text), strategy, why)


# A photo credit names who took the picture: a brief read "Context: Getty · policy".
@pytest.mark.parametrize("credit", ["Photo by Jane Doe / Getty Images", "Image: Getty Images",
                                    "A robot arm on a factory floor. | Photo: Getty Images",
                                    "The chief executive on stage. | Photo by Jane Doe/Getty Images"])
def test_a_company_named_only_in_a_photo_credit_is_not_the_storys(clf, credit):
    text = f"{credit}\nOpenAI raised $6bn from investors to build data centres for its models."
    c = clf.classify("OpenAI raises $6bn for compute", text)
    assert c.companies == ("OpenAI",)


def test_a_credited_company_the_story_names_stays(clf):
    text = "Image: Getty Images\nGetty Images will license its photo library to train image models."
    assert "Getty" in clf.classify("Getty Images licenses photos for AI training", text).companies


@pytest.mark.parametrize("title, text, first", [
    # The case: the body names OpenAI more, the headline's subject is Microsoft.
    ("Microsoft hires former OpenAI CEO Sam Altman",
     "OpenAI's board fired Altman on Friday. OpenAI investors pushed for his return; "
     "OpenAI staff threatened to quit. Microsoft will set up a new AI research team.",
     "Microsoft"),
    ("Microsoft just made a huge investment in ChatGPT maker OpenAI",
     "OpenAI will use the money to scale its models. OpenAI said the deal runs for years.",
     "Microsoft"),
    # A company that only qualifies another's news does not lead it.
    ("Microsoft-backed OpenAI raises $6.6 billion in new funding",
     "Microsoft has invested in OpenAI since 2019. Microsoft and Nvidia joined the round.",
     "OpenAI"),
    ("Four years after Apple, Google will finally kill third-party cookies in AI ads push",
     "Apple blocked them in Safari. Apple's move hurt ad firms; Apple users were spared.",
     "Google"),
])
def test_the_company_the_headline_is_about_comes_first(clf, title, text, first):
    c = clf.classify(title, text)
    assert c.companies[0] == first, c.companies


def test_the_order_of_companies_does_not_change_the_verdict(clf):
    """The lead is for people; the score's AI lab bonus keeps the order it was measured
    with, so the same story scores the same whichever company leads."""
    title = "Microsoft hires former OpenAI CEO Sam Altman"
    text = "OpenAI's board fired Altman. OpenAI investors and OpenAI staff protested."
    swapped = clf.classify(title.replace("Microsoft hires former OpenAI CEO",
                                         "Former OpenAI CEO joins Microsoft:"), text)
    assert clf.classify(title, text).score == swapped.score
