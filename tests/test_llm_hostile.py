"""A hostile or degenerate LLM answer (a compromised endpoint, a prompt-injected article,
a small local model looping on one token) costs a brief at most: it never holds the
event loop, never shows as a bug, and never slips an invented name past the grounding
check. The real openai client against the fake server, as in tests/test_llm.py."""
from __future__ import annotations

import json
import logging

import pytest

from feeds.judge import Judge
from feeds.models import Classification
from tests.fakes.llm import FakeLLM
from tests.test_llm import FALLBACK, GOOD, STORY, condenser

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
