"""A hostile or degenerate LLM answer (a compromised endpoint, a prompt-injected article,
a small local model looping on one token) costs a brief at most: it never holds the
event loop, never shows as a bug, and never slips an invented name past the grounding
check. The real openai client against the fake server, as in tests/test_llm.py."""
from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest

from feeds.judge import Judge
from feeds.models import Classification
from tests.fakes.llm import FakeLLM
from tests.llm_kit import FALLBACK, GOOD, STORY, condenser

pytestmark = pytest.mark.usefixtures("close_llms")   # see tests/conftest.py


@pytest.fixture
async def fake_llm():
    server = await FakeLLM().start()
    yield server
    await server.stop()


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("ainews.") and r.levelno >= logging.WARNING]


# Each took the old regexes minutes to hours on the event loop (a fence followed by 8,000
# spaces: 221 s; 10,000 unclosed <think> tags: 2.5 s, growing with the square), while every
# chat connection, slash command and post waited; pytest-timeout's 120 s ends them.
@pytest.mark.parametrize("content,brief", [
    ("```json\n" + "\n" * 50_000 + json.dumps(GOOD), "llm"),    # a fence never closed
    ("<think>" * 150_000 + json.dumps(GOOD), "extractive"),     # reasoning never closed
    ("x<think>" * 120_000 + json.dumps(GOOD), "llm"),            # JSON after prose
], ids=["unclosed-fence-then-newlines", "think-tags", "prose-and-think-tags"])
async def test_a_degenerate_answer_is_read_in_one_pass(fake_llm, content, brief):
    fake_llm.script = [("raw", content)]
    got = await condenser(fake_llm).condense(STORY, FALLBACK)
    assert got.condenser == ("llm:qwen-plus" if brief == "llm" else FALLBACK.condenser)


@pytest.mark.parametrize("content", [
    "[" * 100_000,                               # json.loads: RecursionError
    '{"strategy": true, "reason": ' + "7" * 5_000 + "}",   # ValueError: int digits limit
], ids=["nested-arrays", "huge-integer"])
async def test_an_answer_json_cannot_read_is_a_rejection_not_a_bug(fake_llm, caplog, content):
    # It escaped as RecursionError/ValueError: the judge logged an ERROR with a traceback
    # for every story ("judging s1 failed"), the condenser called it a bug.
    fake_llm.script = [("raw", content)]
    story = STORY.with_classification(Classification(strategy=True, score=4.0))
    judged = await Judge(condenser(fake_llm)).judge_all([story])
    assert judged == [story]   # the offline verdict stands
    assert not any(r.exc_info for r in caplog.records)
    (warning,) = _warnings(caplog)
    assert "rejected" in warning and "not JSON" in warning


def _with_bullet(bullet: str) -> dict:
    return {**GOOD, "bullets": [bullet, *GOOD["bullets"][1:]]}


@pytest.mark.parametrize("bullet,name", [
    ("Micr\u043esoft will invest in Qwen.", "Micr\u043esoft"),      # a Cyrillic о inside
    ("\uff2d\uff45\uff54\uff41 will invest in Qwen.", "\uff2d\uff45\uff54\uff41"),  # full-width
    ("\u00c9lys\u00e9e backs the Qwen price cut.", "\u00c9lys\u00e9e"),   # a capital not in A-Z
    ("xAI matched the Qwen price cut.", "xAI"),                     # a capital inside
], ids=["homoglyph", "full-width", "accented-capital", "inner-capital"])
async def test_a_name_the_story_never_mentions_is_rejected_in_any_script(fake_llm, caplog,
                                                                         bullet, name):
    # The check found names with [A-Z] only: these went out in a post as if reported.
    fake_llm.script = [("json", _with_bullet(bullet))]
    assert await condenser(fake_llm).condense(STORY, FALLBACK) == FALLBACK
    (warning,) = _warnings(caplog)
    assert f"name {name!r} is not in the story" in warning


@pytest.mark.parametrize("bullet", [
    "Alibaba Cloud cut Qwen prices by 85%.",
    "阿里巴巴Qwen降价85%.",             # a Latin name against Han characters
    "Alibaba's Qwen models cost less.",
])
async def test_names_in_the_story_still_pass(fake_llm, bullet):
    fake_llm.script = [("json", _with_bullet(bullet))]
    story = STORY if bullet.isascii() else replace(STORY, text=STORY.text + " 阿里巴巴Qwen降价85%。")
    assert (await condenser(fake_llm).condense(story, FALLBACK)).condenser == "llm:qwen-plus"


@pytest.mark.parametrize("bullet,address", [
    ("Customers must re-verify at https://qwen-billing.example/login.", "qwen-billing.example"),
    ("Customers must re-verify their Qwen accounts at qwen-billing.example.",
     "qwen-billing.example"),
], ids=["url", "domain"])
async def test_a_web_address_the_story_never_gave_is_rejected(fake_llm, caplog, bullet, address):
    # Lowercase, so no name to check: a prompt-injected article had the model send every
    # reader of the post to "verify" at an address the story never gave.
    fake_llm.script = [("json", _with_bullet(bullet))]
    assert await condenser(fake_llm).condense(STORY, FALLBACK) == FALLBACK
    (warning,) = _warnings(caplog)
    assert f"web address {address!r} is not in the story" in warning
