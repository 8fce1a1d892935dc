"""What the judge did, as reported: the bench on a labelled set, and `ainews status`
for the last day."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from feeds.judge import judged
from feeds.models import Story, utcnow
from storage.store import Store
from tests.judge_kit import (offline, Scripted, entry, verdict_for, judge_of, poll_with,
                             WRONG, NEAR, UNKNOWN, judged_wire)


pytestmark = pytest.mark.usefixtures("close_llms")   # see tests/conftest.py
wire = pytest.fixture(judged_wire, name="wire")


async def _run_bench(clf, rows, corpus, env):
    import asyncio
    from bench.eval_classify import story_text
    from bench.eval_judge import judge_sets
    # judge_sets runs its own event loop, as the command does
    return await asyncio.to_thread(judge_sets, clf, {"mine": rows}, corpus, story_text, env)


async def test_the_bench_measures_the_judge_on_a_labelled_set(fake_llm, monkeypatch, capsys,
                                                              tmp_path):
    monkeypatch.chdir(tmp_path)   # no .env of the developer's
    clf = Scripted()
    clf.verdicts = {WRONG: offline(0.80), NEAR: offline(0.35), "Soup": offline(0.02)}
    corpus = {f"https://x/{i}": {"title": t, "summary": t + ".", "outlet": "X"}
              for i, t in enumerate([WRONG, NEAR, "Soup"])}
    rows = [("https://x/0", 0, ""), ("https://x/1", 1, ""), ("https://x/2", 0, "")]
    fake_llm.script = [("fn", verdict_for({NEAR}))]
    env = {"LLM_BASE_URL": fake_llm.base_url, "LLM_MODEL": "qwen-plus"}
    assert await _run_bench(clf, rows, corpus, env) == 0
    out = capsys.readouterr().out
    assert "sent to qwen-plus: 2, answered 2, no verdict 0" in out
    assert "offline: precision=0.000 recall=0.000" in out
    assert "offline + judge: precision=1.000 recall=1.000" in out
    assert len(fake_llm.requests) == 2


def test_the_bench_says_when_no_llm_is_configured(monkeypatch, capsys, tmp_path):
    from bench.eval_classify import story_text
    from bench.eval_judge import judge_sets
    monkeypatch.chdir(tmp_path)
    assert judge_sets(Scripted(), {}, {}, story_text, {}) == 2
    assert "--llm-judge needs an LLM" in capsys.readouterr().err


async def test_status_shows_what_the_judge_did_in_the_last_day(wire, fake_llm, capsys):
    from bot.cli import main
    _, store, clf, _ = wire
    assert "LLM judge" not in await _status(main, store, capsys)   # nothing judged yet
    clf.verdicts = {WRONG: offline(0.80), NEAR: offline(0.35), UNKNOWN: offline(0.70, gate=True)}
    fake_llm.script = [("fn", verdict_for({NEAR, UNKNOWN}))]
    await poll_with(wire, judge_of(fake_llm.base_url),
                    [entry(1, WRONG), entry(2, NEAR), entry(3, UNKNOWN)])
    assert store.judge_tally(utcnow() - timedelta(hours=24)) == {
        "asked": 3, "posted": 2, "rescued": 2, "turned_down": 1}
    assert re.search(r"LLM judge +3 stories judged in 24 h: 2 posted, 2 of them missed by the "
                     r"offline classifier; 1 of its posts turned down", await _status(main, store, capsys))


async def _status(main, store, capsys) -> str:
    import asyncio
    assert await asyncio.to_thread(main, ["--db", str(store.path), "status"]) == 0
    return capsys.readouterr().out


def test_status_counts_what_the_judge_did_today_whatever_the_stories_dates(tmp_path):
    """A feed that publishes late (or dates entries by a wrong clock): a story dated 30 h
    ago, judged today, is today's work; one judged yesterday, dated today, is not."""
    store, now = Store(tmp_path / "t.db"), utcnow()

    def judged_story(n: int, published, first_seen) -> None:
        c = judged(offline(0.35), True, "chip export licences")
        s = Story(id=f"s{n}", url=f"https://x.invalid/{n}", title=f"Nvidia news {n}", text="",
                  source="X", feed_url="https://x.invalid/f", published=published)
        store.add_new_stories([s.with_classification(c)], backlog=False, now=first_seen)
    judged_story(1, now - timedelta(hours=26), now - timedelta(hours=25))   # yesterday's
    judged_story(2, now - timedelta(hours=30), now - timedelta(minutes=5))  # late feed
    judged_story(3, now + timedelta(hours=3), now - timedelta(minutes=4))   # clock ahead
    assert store.judge_tally(now - timedelta(hours=24)) == {
        "asked": 2, "posted": 2, "rescued": 2, "turned_down": 0}
    store.close()
