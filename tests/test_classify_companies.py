"""Companies in a story: resolving names and aliases in either script, suggestions
for typos, word and case rules, Chinese stories, photo credits, share prices in market
reports, shop links and platforms, and the main company first."""
from __future__ import annotations

import pytest

from tests.classify_kit import classifier


clf = pytest.fixture(classifier, name="clf", scope="module")


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
    # a stylus review's "palm rejection", Emma Watson, the rocket maker were Google's,
    # IBM's and Adobe's
    ("Stylus pens with palm rejection and tilt sensing.", "Google", False),
    ("Google opens its PaLM 2 model to developers.", "Google", True),
    ("Trolls cloned the voice of Emma Watson.", "IBM", False),
    ("IBM Watson returns as an AI studio.", "IBM", True),
    ("Firefly Aerospace lands on the Moon.", "Adobe", False),
    ("Fireflies light up the meadow; a firefly landed.", "Adobe", False),
    ("Adobe Firefly now makes video.", "Adobe", True),
    ("Firefly Image 3 adds generative fill.", "Adobe", True),
])
def test_company_matching_respects_words_and_case(clf, text, company, named):
    assert (company in clf.classify("", text).companies) is named


# "Altman" alone is OpenAI's CEO in these years' news; with another first name before
# it, someone else: Robert Altman, the film director, made a Hollywood story OpenAI's.
@pytest.mark.parametrize("title, text, named", [
    ("AI put me in a South Park episode",
     "Writers fear producers trying to become Griffin Mill in Robert Altman's The Player.", False),
    ("Robert Altman retrospective opens", "The director's films return to cinemas.", False),
    ("A Robert Altman Retrospective Opens at the Museum",
     "The museum shows every film Robert Altman directed.", False),
    ("Jack Altman's fund raises $275m", "The investor's second fund closed this week.", False),
    ("Sam Altman says GPT-5 is coming", "", True),
    ("Altman says GPT-5 is coming", "", True),
    ("Microsoft Could Hire Altman", "The talks went on all weekend.", True),
    ("Why Altman Is Back", "", True),
    ("The board's vote", "The board fired Altman on Friday. Yesterday Altman returned.", True),
])
def test_altman_alone_is_openai_and_another_altman_is_not(clf, title, text, named):
    assert ("OpenAI" in clf.classify(title, text).companies) is named


def test_headline_company_comes_first(clf):
    c = clf.classify("Google bets big on Gemini for enterprise customers",
                     "OpenAI and OpenAI's partner Microsoft also sell models; OpenAI leads in usage.")
    assert c.companies[0] == "Google"
    assert set(c.companies) == {"Google", "OpenAI", "Microsoft"}


# ---- Chinese stories: companies in either script, and their verdicts ------------------

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
    # 苹果 alone is Apple in tech news (苹果发布, 苹果的 Vision Pro), the fruit in a recipe
    ("苹果发布新一代Vision Pro头显。", "Apple", True),
    ("苹果的 Vision Pro 销量不及预期。", "Apple", True),
    ("苹果公司宣布与阿里巴巴合作。", "Apple", True),
    ("蘋果宣佈在中國擴大投資。", "Apple", True),
    ("早上喝一杯苹果醋，再来一杯苹果汁。", "Apple", False),
    ("红富士苹果今年丰收，果农忙着采摘。", "Apple", False),
    ("医生建议每天吃苹果，苹果树下乘凉。", "Apple", False),
    ("青苹果味的气泡水和苹果派。", "Apple", False),
])
def test_chinese_names_in_longer_words_and_traditional_script(clf, text, company, named):
    assert (company in clf.classify("", text).companies) is named


# ifanr's footer on every entry names WeChat, an alias of Tencent: /company tencent listed
# 17 of its 20 stories, none about Tencent. A story about WeChat still is.
@pytest.mark.parametrize("title, text, named", [
    ("星河模型上新，多模态能力大幅提升", "那个熟悉的星河模型终于又回来了。 #欢迎关注示例科技官方微信公众号："
     "示例科技（微信号：example），更多精彩内容第一时间为您奉上。", False),
    ("星河模型上新，多模态能力大幅提升", "那个熟悉的星河模型终于又回来了。\n歡迎關注示例科技微信公眾號", False),
    ("星河模型上新，多模态能力大幅提升", "星河模型终于又回来了。\n扫码关注我们的微信公众号", False),
    ("微信上线AI修图功能", "微信今天上线了AI修图。 #欢迎关注示例科技官方微信公众号", True),
])
def test_a_follow_us_footer_names_no_company(clf, title, text, named):
    assert ("Tencent" in clf.classify(title, text).companies) is named


# A news sentence opening "扫码支付" (QR-code payment) is no follow-us footer: the
# company it names is the story's.
def test_a_company_named_in_a_scan_to_pay_sentence_is_kept(clf):
    text = "星河支付公布最新数据。扫码支付用户突破10亿，阿里巴巴称将继续投入海外市场。"
    assert "Alibaba" in clf.classify("星河支付公布年度数据", text).companies


@pytest.mark.parametrize("name, canonical", [
    ("騰訊", "Tencent"), ("通義千問", "Alibaba"), ("華為雲", "Huawei"), ("字節跳動", "ByteDance"),
    ("中芯国际", "SMIC"), ("寒武纪", "Cambricon"), ("智譜", "Zhipu"),
    ("甲骨文", "Oracle"), ("博通", "Broadcom"), ("苹果", "Apple"), ("蘋果", "Apple"),
])
def test_resolve_company_in_either_script(clf, name, canonical):
    assert clf.resolve_company(name) == canonical


# 36Kr names Oracle and Broadcom in Chinese only: /company oracle missed 3 of its 4
# headlines. 殷墟甲骨文 (oracle-bone script) is no company.
@pytest.mark.parametrize("title, company", [
    ("甲骨文与星河云扩大长期战略合作协议", "Oracle"), ("報道：博通尋求600億美元債務融資", "Broadcom"),
    ("殷墟甲骨文新发现：星河大学用大模型释读", None),
])
def test_a_chinese_name_tags_its_company(clf, title, company):
    assert clf.classify(title, "").companies[:1] == ((company,) if company else ())


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


# A market report quotes a dozen companies' share prices: /company nvidia listed every
# close. A company the report is about, or names as news too, stays.
@pytest.mark.parametrize("title, text, named", [
    ("美股三大指数集体收涨，星河科技涨超5%",
     "大型科技股多数上涨，星河科技涨超5%，特斯拉、英伟达小幅上涨；苹果（AAPL） 跌7.35%。", False),
    ("恒指午间休盘涨0.72%", "36氪获悉，恒指午间休盘涨0.72%；科技股跌幅居前，星河科技、英伟达跌超3%。", False),
    ("英伟达盘前涨2.5%", "英伟达盘前涨2.5%，特斯拉跌0.3%。", True),
    ("美股三大指数集体收涨", "英伟达发布新一代AI芯片，英伟达涨超3%，特斯拉跌0.3%。", True),
    ("DeepSeek发布新模型", "英伟达涨价后，DeepSeek转向国产芯片。", True),
    ("显卡价格上调", "英伟达显卡8月起涨30%，整机厂商跟进。", True),
    ("港股AI概念股午后走强", "英伟达涨5%，因公司当日发布新一代AI芯片。", True),   # with its news
    ("港股AI概念股午后走强", "英伟达涨5%，此前公司宣布未来三年向AI投入3800亿元。", True),
])
def test_a_company_quoted_only_by_its_share_price_is_not_the_storys(clf, title, text, named):
    assert ("Nvidia" in clf.classify(title, text).companies) is named


# A deals post names Amazon as the shop: /company amazon listed headphone deals. Named
# as an investor or a cloud, with money in the sentence, it stays.
@pytest.mark.parametrize("text, named", [
    ("The Acme X2 earbuds are $30 off at Amazon, their lowest price yet.", False),
    ("Grab the tablet at Amazon for $229 this week.", False),
    ("You can pre-order the controller from Amazon ahead of its May release.", False),
    ("Acme raised $4 billion from Amazon to train its next model.", True),
    ("Acme signed a $38 billion deal to run its models on Amazon's cloud.", True),
    ("Claude Sonnet is now 50% off on Amazon Bedrock through June.", True),
    ("Llama 4 is available on Amazon SageMaker at 30% off for launch week.", True),
    ("The Acme model is $2 off per million tokens on Amazon Web Services.", True),
    ("Acme's agents are 40% off via Amazon's Bedrock this month.", True),
])
def test_amazon_named_only_as_the_shop_is_not_the_storys(clf, text, named):
    assert ("Amazon" in clf.classify("Acme's new gadget", text).companies) is named


# An app's launch names Android and the iPhone as platforms: /company google listed
# ChatGPT's voice mode "on Android and iOS".
@pytest.mark.parametrize("text, company, named", [
    ("Acme's voice mode comes to Android and iOS next week.", "Google", False),
    ("The widget works on iPhone and Android.", "Apple", False),
    ("It pairs with Windows, Android and Steam Deck.", "Google", False),
    ("Acme ships its app on Android first, where Google lets it set defaults.", "Google", True),
    ("Android will let users pick their default assistant.", "Google", True),
])
def test_a_company_named_only_as_a_platform_is_not_the_storys(clf, text, company, named):
    assert (company in clf.classify("Acme's app gets a new mode", text).companies) is named


# The same rules in the headline: "... comes to iOS and Android" made ChatGPT's voice
# mode Google's, "$60 off at Amazon" a deals post Amazon's.
@pytest.mark.parametrize("title, company, named", [
    ("Acme's voice mode comes to iOS and Android", "Google", False),
    ("Acme's app is now on iPhone and Android", "Apple", False),
    ("The Acme X2 earbuds are $30 off at Amazon", "Amazon", False),
    ("Android will let users pick their default assistant", "Google", True),
    ("Acme raised $4 billion from Amazon", "Amazon", True),
    ("Google brings Gemini to iOS and Android", "Google", True),
])
def test_a_headline_naming_a_company_only_as_shop_or_platform_is_not_its(clf, title, company,
                                                                          named):
    text = "The app gets a new mode for everyone next week."
    assert (company in clf.classify(title, text).companies) is named


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
