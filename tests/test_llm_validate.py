"""The grounding check of an LLM brief (feeds/llm_validate.py): a figure is grounded by
its value in any form the story writes it (digits, number words, Chinese numerals, with
scale words), a company name by the story naming that company by any of its names.
Tables of (story, brief text) per rule; the brief text is one bullet of an otherwise
neutral brief. The condenser's end-to-end fallback is at the bottom."""
from __future__ import annotations

import logging

import pytest

from feeds.company_names import CompanyNames
from feeds.gazetteer import load_gazetteer
from feeds.llm_reply import LLMRejected
from feeds.llm_validate import validate
from feeds.models import Story
from tests.llm_kit import FALLBACK, GOOD, STORY, ZH_BRIEF, ZH_STORY, condenser

pytestmark = pytest.mark.usefixtures("close_llms")   # see tests/conftest.py


def _brief(text: str) -> dict:
    # lowercase, no figures, no names: grounded in any story
    return {"headline": "an update", "bullets": [text, "more details are to come.",
                                                  "no comment was given."],
            "why_it_matters": "watch this space."}


def _grounded(source: str, text: str, **kw) -> None:
    validate(_brief(text), source, **kw)


def _rejected(source: str, text: str, **kw) -> str:
    with pytest.raises(LLMRejected) as e:
        validate(_brief(text), source, **kw)
    return str(e.value)


# ---- a figure in another form is the same figure ----------------------------------------
@pytest.mark.parametrize("source, text", [
    ("Alibaba raised two billion dollars.", "Alibaba raised $2bn."),
    ("Alibaba raised $2bn.", "Alibaba raised $2,000 million."),
    ("Alibaba raised two billion dollars.", "Alibaba raised $2,000 million."),
    ("Alibaba 融资20亿元。", "Alibaba raised 2 billion yuan."),
    ("The model has 7 billion parameters.", "The 7B model is open."),
    ("It reads 128,000 tokens.", "It reads 128K tokens."),
    ("3 companies joined.", "Three companies joined."),   # a capitalised number word is no name
    ("Two hundred and five staff left.", "205 staff left."),
    ("It took a dozen engineers.", "It took 12 engineers."),
    ("Two and a half years later it shipped.", "It shipped 2.5 years later."),
    ("Prices fell by half.", "Prices fell 50%."),
    ("Revenue doubled to two million dollars.", "Revenue rose 100% to $2 million."),
    ("Sales were 1,500 units, up eighty percent.", "Sales were 1500 units, up 80%."),
    ("阿里巴巴融资二十亿元。", "阿里巴巴融资20亿元。"),
    ("阿里巴巴融资20亿元，用户增长三成。", "阿里巴巴融资二十亿元，用户增长30%。"),
    ("用户达到一万五千人。", "用户达到1.5万人。"),
    ("用户达到15,000人，增长两成。", "用户达到一万五人，增长20%。"),
    ("投入百亿元。", "投入100亿元。"),
    ("投入1.2万亿元，覆盖五家银行。", "投入一万二千亿元，覆盖5家银行。"),
    ("三亿五千万用户", "3.5亿用户"),
    ("三成用户付费。", "30%的用户付费。"),
    ("30%的用户付费，涉及两家公司。", "三成用户付费，涉及2家公司。"),
    ("毛利率为百分之八十五。", "毛利率为85%。"),
    ("二〇二五年发布。", "2025年发布。"),
    ("价格下调了一半。", "价格下调50%。"),
    ("销量同比翻倍。", "销量增长100%。"),
    ("新增三家合作伙伴。", "新增3家合作伙伴。"),
    ("營收達十億元，新增兩家夥伴。", "营收达10亿元，新增2家伙伴。"),
    ("It raised $1,500, the firm said.", "It raised $1,500."),
])
def test_a_figure_in_another_form_is_grounded(source, text):
    # Digits were compared as strings: "2" was not in "two billion", nor "20" in "二十亿".
    _grounded(source, text)


# ---- an invented figure is rejected, in words or Chinese numerals ------------------------
@pytest.mark.parametrize("source, text, figure", [
    ("Alibaba raised $2 billion.", "Alibaba raised three billion dollars.", "three billion"),
    ("Alibaba raised $2 billion.", "Alibaba raised $2 million.", "2 million"),
    ("Alibaba raised $2 billion.", "Alibaba raised $2bn, three times its last round.", "three"),
    ("Prices fell 30%.", "Prices fell by half.", "half"),
    ("Revenue rose 40%.", "Revenue tripled.", "tripled"),
    ("It took 10 engineers.", "It took a dozen engineers.", "a dozen"),
    ("Two firms joined.", "Four firms joined.", "Four"),
    ("阿里巴巴融资20亿元。", "阿里巴巴融资三十亿元。", "三十亿"),
    ("阿里巴巴融资20亿元。", "阿里巴巴融资20万元。", "20万"),
    ("阿里巴巴融资二十亿元。", "阿里巴巴融资30亿元。", "30亿"),
    ("两成用户付费。", "三成用户付费。", "三成"),
    ("新增三家合作伙伴。", "新增五家合作伙伴。", "五家"),
    ("用户达到一万五千人。", "用户达到一万六人。", "一万六"),
    ("毛利率为85%。", "毛利率为百分之八十。", "百分之八十"),
    ("价格下调30%。", "价格下调了一半。", "一半"),
    ("投入100亿元。", "投入千亿元。", "千亿"),
    # traditional characters: 億, 萬 and 兩 were no numerals, so these said nothing
    ("騰訊營收達十億元。", "騰訊營收達五億元。", "五億"),
    ("用戶達一萬人。", "用戶達三萬人。", "三萬"),
    ("新增三家夥伴。", "新增兩家夥伴。", "兩家"),
    ("It raised $1,500, the firm said.", "It raised $1,600, the firm said.", "1,600"),
])
def test_an_invented_figure_is_rejected_in_any_form(source, text, figure):
    # Only digit runs were checked: worded and Chinese figures went out unchecked.
    assert _rejected(source, text) == f"figure {figure!r} is not in the story"


# ---- the story's amount in another currency is an invented figure ----------------------
@pytest.mark.parametrize("source, text", [
    ("OpenAI 融资66亿美元。", "OpenAI 融资66亿元。"),               # 美元 dropped: 7x less
    ("OpenAI 融资66亿美元。", "OpenAI 融资六十六亿元人民币。"),
    ("OpenAI raised $6.6 billion.", "OpenAI raised 6.6 billion euros."),
    ("OpenAI raised $6.6 billion.", "OpenAI raised ¥6.6 billion."),
    ("Alibaba 融资20亿元。", "Alibaba raised $2 billion."),
    ("It raised HK$5 billion.", "It raised $5 billion."),
    ("It raised 5 billion Hong Kong dollars.", "It raised US$5 billion."),
    ("Mistral raised €600 million.", "Mistral raised $600m."),
    ("台积电营收为新台币7,597亿元。", "台积电营收7,597亿元人民币。"),
])
def test_the_story_s_amount_in_another_currency_is_rejected(source, text):
    # The value alone was compared: "66亿元" (yuan) passed for a story's "66亿美元".
    assert "another currency" in _rejected(source, text)


@pytest.mark.parametrize("source, text", [
    ("OpenAI 融资66亿美元。", "OpenAI 融资六十六亿美元。"),
    ("OpenAI 融资66亿美元（约合470亿元人民币）。", "OpenAI 融资470亿元。"),
    ("OpenAI raised $6.6 billion.", "OpenAI raised US$6.6bn."),
    ("OpenAI raised 6.6 billion dollars.", "OpenAI raised $6.6 billion."),
    ("Alibaba 融资20亿元。", "Alibaba raised 2 billion yuan."),
    ("Alibaba 融资20亿元。", "Alibaba raised ¥2 billion."),
    ("Alibaba raised RMB 2 billion.", "阿里巴巴融资20亿元。"),
    ("It raised HK$5 billion.", "It raised 50亿港元."),
    ("Mistral raised €600 million ($640 million).", "Mistral raised $640 million."),
    # 元 after an amount is the unit of the currency named before it (Taiwan's and Hong
    # Kong's way): TWD and HKD, not yuan
    ("台积电营收为新台币7,597亿元。", "台积电营收7,597亿新台币。"),
    ("台積電營收為新臺幣7,597億元。", "台積電營收7,597億新臺幣。"),
    ("公司融资港币50亿元。", "公司融资50亿港元。"),
    # a story stating the amount without its currency somewhere: not contradicted
    ("OpenAI raised $6.6 billion. The 6.6 billion round closed.", "It raised 6.6 billion yuan."),
    ("The model has 7 billion parameters.", "The model has 7 billion parameters."),
])
def test_the_story_s_amount_in_its_currency_is_grounded(source, text):
    _grounded(source, text)


def test_a_story_of_many_amounts_is_read_for_currencies_in_one_pass(monkeypatch):
    """Each figure's currency was read from the whole story made simplified again: a
    story of 4,000 amounts with one traditional character (its 12,000 characters, as
    sent) held the event loop, every chat command and post, for seconds per brief."""
    import feeds.money as money
    passes = []
    monkeypatch.setattr(money, "simplified",
                        lambda text, real=money.simplified: passes.append(1) or real(text))
    source = "臺" + "1亿" * 4000 + "台積電營收為新臺幣7,597億元。"
    _grounded(source, "台積電營收7,597億新臺幣。")
    assert len(passes) <= 6      # the story once, and each of the brief's five fields


# ---- common words with a number in them are no figures ---------------------------------
EN_STORY = "OpenAI and Google released new models this week."
ZH_STORY_TEXT = "百度、三星、零一万物和阿里巴巴的通义千问本周发布了新模型。"


@pytest.mark.parametrize("source, text, invented, figure", [
    (EN_STORY, "OpenAI released one of the new models.", " It raised $3 billion.", "3 billion"),
    (EN_STORY, "Google was the first to release.", " Three rivals followed.", "Three"),
    (EN_STORY, "A single model was released.", " Two rivals followed.", "Two"),
    (EN_STORY, "OpenAI said no one expected a one-time release.", " Two followed.", "Two"),
    (EN_STORY, "Hundreds of developers use billion-dollar models.", " Four joined.", "Four"),
    (EN_STORY, "Zero-shot results improved for dozens of tasks.", " Five joined.", "Five"),
    (ZH_STORY_TEXT, "一些公司一起发布了新模型。", "融资三十亿元。", "三十亿"),
    (ZH_STORY_TEXT, "这是统一的、唯一的、同一个模型。", "融资三十亿元。", "三十亿"),
    (ZH_STORY_TEXT, "百度是之一，一直在发布新一代模型。", "融资三十亿元。", "三十亿"),
    (ZH_STORY_TEXT, "三星第三次在周三发布，星期五上线。", "新增五家伙伴。", "五家"),
    (ZH_STORY_TEXT, "四川和两岸的用户十分关注。", "新增五家伙伴。", "五家"),
    (ZH_STORY_TEXT, "数十亿用户、上万家企业关注。", "新增五家伙伴。", "五家"),
    (ZH_STORY_TEXT, "零成本接入，零部件供应商在十四五期间万一受影响。", "新增五家伙伴。", "五家"),
    (ZH_STORY_TEXT, "零一万物和通义千问的新模型发布。", "融资三十亿元。", "三十亿"),
    (ZH_STORY_TEXT, "周二部分二次元用户看到两位数增长。", "新增五家伙伴。", "五家"),
    (ZH_STORY_TEXT, "新模型走进千家万户，百家争鸣。", "新增五家伙伴。", "五家"),
])
def test_common_words_are_no_figures(source, text, invented, figure):
    # The check is on for this very text: the same text with an invented figure fails.
    _grounded(source, text)
    assert _rejected(source, text + invented) == f"figure {figure!r} is not in the story"


# ---- a company the story never names is rejected, in any script ----------------------
@pytest.mark.parametrize("source, grounded, invented, company", [
    ("阿里巴巴发布通义千问新模型。", "阿里巴巴发布千问新模型。", "腾讯发布新模型。", "腾讯"),
    ("字节跳动发布新模型。", "豆包发布新模型。", "百度发布新模型。", "百度"),
    ("Tencent unveiled a new Hunyuan model.", "腾讯发布混元新模型。", "字节跳动发布新模型。",
     "字节跳动"),
    ("騰訊發布混元新模型。", "腾讯发布混元新模型。", "百度发布文心新模型。", "百度"),
    ("文心兰开花了。", "文心兰开花了。", "文心发布新版本。", "文心"),
    ("零一万物发布新模型。", "零一万物发布新模型。", "月之暗面发布新模型。", "月之暗面"),
    # a story names a company in any case (a ticker, an all-caps headline); a brief must
    # name one the story names, whichever name it uses (Tim Cook is Apple's)
    ("META shares rose as Tim, a cook, spoke.", "Meta shares rose.", "Tim Cook spoke.",
     "Tim Cook"),
])
def test_a_company_the_story_never_names_is_rejected(source, grounded, invented, company):
    # CJK was left out of the name check: a Chinese brief could name any company.
    _grounded(source, grounded)
    assert _rejected(source, invented) == f"company {company!r} is not in the story"


def test_a_user_gazetteer_s_companies_are_checked_when_given(tmp_path):
    # The bundled gazetteer is the default; a condenser may pass the user's (more names).
    user = tmp_path / "companies.toml"
    user.write_text('[companies.AgiBot]\naliases = ["智元机器人"]\n', encoding="utf-8")
    names = CompanyNames(load_gazetteer(user))
    source, text = "阿里巴巴发布新模型。", "智元机器人发布新模型。"
    _grounded(source, text)
    assert _rejected(source, text, names=names) == "company '智元机器人' is not in the story"


# ---- a web address is the story's -------------------------------------------------------
PRICES = "Alibaba Cloud cut the price of its Qwen models by 85% on Monday."


@pytest.mark.parametrize("source, text", [
    ("Prices are listed at qwen.ai/pricing.", "prices are listed at qwen.ai."),
    ("See https://qwen.ai/pricing for prices.", "prices are at https://qwen.ai/pricing."),
    ("The api.qwen.ai endpoint costs less.", "the qwen.ai endpoint costs less."),  # its parent
    ("Sign up at WWW.QWEN.AI today.", "sign up at qwen.ai today."),
    (PRICES, "prices fell 85% on monday, e.g. for the qwen models."),   # no address at all
])
def test_a_web_address_the_story_gives_is_grounded(source, text):
    _grounded(source, text)


@pytest.mark.parametrize("text, address", [
    ("customers must re-verify at https://qwen-billing.example/login.", "qwen-billing.example"),
    ("customers must re-verify at qwen-billing.example today.", "qwen-billing.example"),
    ("verify at p\u0430ypal.com.", "xn--pypal-4ve.com"),                  # a Cyrillic "а"
    ("verify at paypal\uff0ecom.", "paypal.com"),                           # a full-width dot
    ("log in at 203.0.113.9/login.", "203.0.113.9"),
    ("sign in at login.qwen.ai.", "login.qwen.ai"),                          # a subdomain
    ("sign in at https://qwen.ai/verify-account.", "https://qwen.ai/verify-account"),
])
def test_a_web_address_the_story_never_gave_is_rejected(text, address):
    """A lowercase address is no capitalised name, so an invented one passed: a post then
    sent readers to "verify" at an address the story never gave."""
    source = PRICES + " Details are at https://qwen.ai/pricing and api.qwen.ai."
    assert _rejected(source, text) == f"web address {address!r} is not in the story"


# ---- end to end: the condenser posts the extractive brief instead ---------------------
@pytest.mark.parametrize("bullet, reason", [
    ("阿里巴巴为此投入三十亿元。", "figure '三十亿' is not in the story"),
    ("字节跳动可能跟进。", "company '字节跳动' is not in the story"),
], ids=["invented-figure", "invented-company"])
async def test_a_chinese_brief_with_an_invented_fact_falls_back(fake_llm, caplog, bullet,
                                                                 reason):
    fake_llm.script = [("json", {**ZH_BRIEF, "bullets": [*ZH_BRIEF["bullets"][:2], bullet]})]
    brief = await condenser(fake_llm).condense(ZH_STORY, FALLBACK)
    assert brief == FALLBACK
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "ainews.llm" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and reason in warnings[0]


async def test_a_chinese_brief_stating_the_story_s_figures_in_numerals_is_posted(fake_llm):
    # The story writes 二十亿元, the brief 20亿元: "20" was not among the story's digits.
    story = Story(id="s4", url="https://example.cn/b", title=ZH_STORY.title,
                  text=ZH_STORY.text + "公司今年将投入二十亿元。", source="Example", feed_url="",
                  published=ZH_STORY.published)
    fake_llm.script = [("json", {**ZH_BRIEF, "why_it_matters": "阿里巴巴今年投入20亿元。"})]
    brief = await condenser(fake_llm).condense(story, FALLBACK)
    assert brief.condenser == "llm:qwen-plus"


EN_BRIEF_OF_ZH = {   # ZH_STORY in English: no figure or capitalised word it lacks
    "headline": "The company cuts the prices of its models by 85%",
    "bullets": ["The cut covers its family of models.",
                "Customers in the country will pay less for calls.",
                "Analysts expect rivals to follow with cuts of their own."],
    "why_it_matters": "A price war could squeeze margins across the sector."}
ZH_BRIEF_OF_EN = {"headline": "阿里巴巴将通义千问价格下调85%",
                  "bullets": ["阿里云将通义千问模型价格下调85%。", "中国企业客户调用接口的费用将减少。",
                              "百度和腾讯预计将作出回应。"],
                  "why_it_matters": "价格战可能压低整个行业的利润。"}


@pytest.mark.parametrize("story, answer, reason", [
    (STORY, ZH_BRIEF_OF_EN, "brief is in Chinese, the story is not"),
    (ZH_STORY, EN_BRIEF_OF_ZH, "brief is not in Chinese, the story's language"),
], ids=["english-story-chinese-brief", "chinese-story-english-brief"])
async def test_a_brief_in_another_language_than_its_story_falls_back(fake_llm, caplog, story,
                                                                     answer, reason):
    # README: "A brief is written in its story's language". Every name and figure of
    # these is the story's (companies by company, 85% is 85%): both were posted.
    fake_llm.script = [("json", answer)]
    assert await condenser(fake_llm).condense(story, FALLBACK) == FALLBACK
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "ainews.llm" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and reason in warnings[0]


async def test_an_english_brief_quoting_a_chinese_name_is_posted(fake_llm):
    fake_llm.script = [("json", {**GOOD, "headline": "Alibaba cuts Qwen (通义千问) prices by 85%"})]
    brief = await condenser(fake_llm).condense(STORY, FALLBACK)
    assert brief.condenser == "llm:qwen-plus"


async def test_the_bot_checks_briefs_against_the_operator_s_companies(fake_llm, tmp_path):
    # A company added in AINEWS_USER_DATA was checked by the classifier but not in briefs:
    # the bot's condenser is built with the classifier's gazetteer.
    from bot.app import App
    from bot.config import load_settings
    user = tmp_path / "companies.toml"
    user.write_text('[companies.AgiBot]\naliases = ["智元机器人"]\n', encoding="utf-8")
    app = App(load_settings({"AINEWS_DB": str(tmp_path / "a.db"), "AINEWS_USER_DATA": str(user),
                             "LLM_BASE_URL": fake_llm.base_url, "LLM_API_KEY": "k",
                             "LLM_MODEL": "qwen-plus"}, dotenv_path=None))
    try:
        fake_llm.script = [("json", {**ZH_BRIEF, "why_it_matters": "智元机器人可能跟进。"})]
        assert await app.llm.condense(ZH_STORY, FALLBACK) == FALLBACK
    finally:
        await app.llm.aclose()
        app.close()


# ---- long untrusted text ----------------------------------------------------------------
@pytest.mark.parametrize("names", ["腾讯", "百度 "])
def test_a_story_naming_a_chinese_company_a_million_times_is_checked(names):
    # Each Han-script name was blanked out by copying the whole text (quadratic: 94 s for
    # a megabyte of 腾讯, on the event loop); a feed's title has no length limit.
    source = "腾讯发布新模型。" + names * (2_000_000 // len(names))
    assert _rejected(source, "腾讯融资三十亿元。") == "figure '三十亿' is not in the story"
