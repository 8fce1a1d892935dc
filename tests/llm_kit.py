"""Shared pieces of the LLM condenser tests (test_llm*.py): one English and one Chinese
story with the extractive brief to fall back on, a valid answer for each, and
`condenser`, an LLMCondenser pointed at the fake server."""
from __future__ import annotations

from datetime import datetime, timezone

from feeds.llm import LLMCondenser
from feeds.models import Brief, Story
from tests.fakes.llm import FakeLLM

TEXT = ("Alibaba Cloud cut prices of its Qwen models by 85% on Tuesday. "
        "The company said enterprise customers in China would pay less for API calls. "
        "Rivals Baidu and Tencent are expected to respond as competition intensifies. "
        "Analysts said the move could pressure margins across the sector.")
STORY = Story(id="s1", url="https://example.com/a", title="Alibaba cuts Qwen prices by 85%",
              text=TEXT, source="Example", feed_url="", summary=TEXT,
              published=datetime(2026, 11, 1, tzinfo=timezone.utc))
FALLBACK = Brief(id="s1", headline="extractive headline", bullets=("x",),
                 why_it_matters="", url=STORY.url, source="Example", published=STORY.published)
GOOD = {"headline": "Alibaba cuts Qwen model prices by 85%",
        "bullets": ["Alibaba Cloud cut Qwen prices by 85%.",
                    "Enterprise customers in China pay less for API calls.",
                    "Baidu and Tencent are expected to respond."],
        "why_it_matters": "A price war could squeeze margins across the sector."}


def condenser(server: FakeLLM, **kw) -> LLMCondenser:
    return LLMCondenser(server.base_url, "test-key", "qwen-plus", **kw)


def stories(n: int) -> list[Story]:
    """n stories of one text, each its own id and link (each gets its own LLM call)."""
    return [Story(id=f"s{i}", url=f"https://example.com/{i}", title=STORY.title, text=TEXT,
                  source="Example", feed_url="", published=STORY.published) for i in range(n)]


ZH_TEXT = ("阿里巴巴周二表示，将把通义千问模型的价格下调85%。"
           "公司称，国内企业客户调用接口的费用将随之减少。"
           "分析人士认为，百度和腾讯可能跟进，价格战将压低行业利润。")
ZH_STORY = Story(id="s3", url="https://example.cn/a", title="阿里巴巴下调通义千问价格85%",
                 text=ZH_TEXT, source="Example", feed_url="", summary=ZH_TEXT,
                 published=STORY.published)
ZH_BRIEF = {"headline": "阿里巴巴将通义千问价格下调85%",
            "bullets": ["阿里巴巴将通义千问模型价格下调85%。", "企业客户调用接口的费用减少。",
                        "百度和腾讯可能跟进。"],
            "why_it_matters": "价格战将压低行业利润。"}
