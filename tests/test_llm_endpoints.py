"""The LLM path as operators meet it: what OpenAI, Qwen on DashScope, Ollama, vLLM and
the proxies in front of them really send back. The real poller and openai client against
a fake OpenAI-compatible server and a loopback feed server."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from bot.pipeline import Pipeline
from feeds.classify import Classifier
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.formatter import Formatter
from feeds.judge import Judge
from feeds.llm import LLMCondenser
from feeds.models import FeedSource
from storage.store import Store
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.llm import FakeLLM
from tests.fakes.stories import archive_entry, strategy_entry
from tests.test_llm import FALLBACK, GOOD, STORY, condenser

pytestmark = pytest.mark.usefixtures("close_llms")   # see tests/conftest.py


@pytest.fixture
async def fake_llm():
    server = await FakeLLM().start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
def classifier():
    return Classifier()


@pytest.fixture
async def poll(tmp_path, fake_llm, classifier):
    """poll(entries, llm=..., judge=...) -> the store, after a first poll read the feed's
    archive (so these entries are news to post)."""
    store = Store(tmp_path / "a.db")
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.add("/f.xml", make_rss("Wire", [archive_entry(0)]))
        store.upsert_feed(FeedSource("Wire", srv.url("/f.xml")))

        def pipeline(llm=None, judge=None):
            return Pipeline(store, fetcher, classifier, Formatter(store, llm=llm),
                            poll_minutes=2, max_post_age=timedelta(hours=48), judge=judge)
        await pipeline().poll_once(all_feeds=True)

        async def run(entries, **parts):
            srv.add("/f.xml", make_rss("Wire", entries + [archive_entry(0)]))
            return await pipeline(**parts).poll_once(all_feeds=True)
        yield store, run
    store.close()


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("ainews.") and r.levelno >= logging.WARNING]


@pytest.mark.parametrize("body", [
    '"OK"',                                                   # a health-check proxy
    '[{"generated_text": "Alibaba cut prices."}]',             # a non-OpenAI inference API
    '{"choices": [{"message": null}]}',
    '{"choices": [{"message": {"content": {"headline": "h"}}}]}',
], ids=["string", "list", "null-message", "object-content"])
async def test_an_answer_that_is_no_chat_completion_costs_the_feed_nothing(poll, fake_llm,
                                                                           caplog, body):
    # It used to raise AttributeError out of the brief: the feed was counted as failing
    # (paused after ten such polls) and its new stories were not handed on to post.
    store, run = poll
    fake_llm.script = [("body", body)]
    llm = LLMCondenser(fake_llm.base_url, "k", "qwen-plus")
    summary = await run([strategy_entry(1), strategy_entry(2)], llm=llm)
    (state,) = store.feed_states()
    assert state.failures == 0 and not summary.outcomes[0].error
    assert len(summary.fresh) == 2
    briefs = [store.brief_for_hash(s.content_hash) for s in summary.fresh]
    assert {b.condenser for b in briefs} == {"extractive"}
    (warning,) = _warnings(caplog)   # once, naming the component; no traceback
    assert warning.startswith("llm: qwen-plus ")
    assert not any(r.exc_info for r in caplog.records)


async def test_content_sent_as_text_parts_is_read(fake_llm):
    parts = [{"type": "text", "text": json.dumps(GOOD)[:40]},
             {"type": "text", "text": json.dumps(GOOD)[40:]}]
    fake_llm.script = [("body", json.dumps({"choices": [{"message": {"content": parts}}]}))]
    assert (await condenser(fake_llm).condense(STORY, FALLBACK)).condenser == "llm:qwen-plus"


@pytest.mark.parametrize("content", [
    # Qwen3 or DeepSeek-R1 through Ollama or vLLM without a reasoning parser
    "<think>\nThe article says Alibaba cut prices {maybe}.\n</think>\n\n" + json.dumps(GOOD),
    "Here is the JSON you asked for:\n" + json.dumps(GOOD) + "\nLet me know!",
    "<think>The user wants JSON.</think>```json\n" + json.dumps(GOOD) + "\n```",
], ids=["think", "prose-around", "think-then-fence"])
async def test_a_reasoning_or_chatty_model_s_answer_is_read(fake_llm, content):
    fake_llm.script = [("raw", content)]
    brief = await condenser(fake_llm).condense(STORY, FALLBACK)
    assert brief.condenser == "llm:qwen-plus" and brief.headline == GOOD["headline"]


async def test_a_reasoning_model_s_verdict_is_read(fake_llm):
    fake_llm.script = [("raw", '<think>Chip export rules are policy.</think>\n'
                               '{"strategy": true, "reason": "export controls"}')]
    judge = Judge(condenser(fake_llm))
    judged = await judge.judge(STORY)
    assert "llm: strategy (export controls)" in judged.classification.reasons


@pytest.mark.parametrize("content,words", [
    ("<think>\nLet me think about Alibaba and", "reasoning only"),
    ("", "answer is empty"),
], ids=["cut-off-reasoning", "empty"])
async def test_an_answer_without_json_says_what_it_was(fake_llm, caplog, content, words):
    fake_llm.script = [("raw", content)]
    assert await condenser(fake_llm).condense(STORY, FALLBACK) == FALLBACK
    (warning,) = _warnings(caplog)
    assert words in warning
