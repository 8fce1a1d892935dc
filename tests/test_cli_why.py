"""`ainews why STORY`: why a stored story was posted or not, found by the link a post
shows (however the reader copied it) or by its id."""
from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.cli import main
from feeds.classify import Classifier
from feeds.models import Story, utcnow
from storage.store import Store
from tests.fakes.slack import make_brief
from tests.fakes.stories import classified



@pytest.fixture(scope="module")
def classifier():
    return Classifier()


@pytest.fixture
def archive(clean_env, tmp_path, classifier):
    """A strategy story posted to one Slack channel, another outlet's report of it, a
    review that is not strategy, and a backlog story."""
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    now = utcnow()
    stories = [_story("lead", "Alibaba cuts Qwen API prices by 50% to win cloud customers",
                      "Alibaba Cloud said it would cut Qwen model prices for enterprise "
                      "customers as competition with Baidu heats up.", now, classifier),
               _story("copy", "Alibaba halves the price of its Qwen models for businesses",
                      "Alibaba said the 50% cut applies to enterprise customers of Qwen.",
                      now + timedelta(minutes=5), classifier, source="Wire"),
               _story("review", "The best laptops for students, tested",
                      "We tested ten laptops with AI features.", now, classifier)]
    with Store(os.environ["AINEWS_DB"]) as store:
        store.add_new_stories(stories, backlog=False, now=now)
        store.add_new_stories([_story("old", "OpenAI raises $6.6bn at a $157bn valuation",
                                      "OpenAI closed its funding round.", now, classifier)],
                              backlog=True, now=now)
        store.enqueue_post(cluster_id="lead", brief=make_brief(id="lead"), platform="slack",
                           workspace="T1", channel="C1", held=False, now=now)
    return clean_env


def _story(sid, title, text, when, classifier, source="Tech Daily") -> Story:
    return classified(classifier, sid, title, text, when, source)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["why", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("ref", [
    "https://news.example.com/lead",
    "https://News.Example.com/lead?utm_source=slack#top",   # as a reader copies a post's link
    "lead",
])
def test_a_posted_story_says_why_and_where(archive, capsys, ref):
    code, out, _ = run(capsys, ref)
    assert code == 0 and out.startswith("Alibaba cuts Qwen API prices")
    assert "verdict: strategy (score" in out and "threshold 0.45" in out
    assert "companies: Alibaba" in out and "rules: company:Alibaba" in out
    assert "learned: feature:rule-score" in out
    assert "cluster: this story leads, also reported by Wire" in out
    assert "posts: slack C1 due" in out


@pytest.mark.parametrize("ref, words", [
    ("copy", ["cluster: another report leads (Tech Daily, lead)", "posts of its cluster: slack C1"]),
    ("review", ["verdict: not strategy", "gate:not about AI", "posts: none (not a strategy story)",
                "cluster: no other outlet's report of this event is stored"]),
    ("old", ["backlog: stored by a feed's first poll, never posted"]),
])
def test_what_kept_a_story_from_being_posted(archive, capsys, ref, words):
    code, out, _ = run(capsys, ref)
    assert code == 0 and all(w in out for w in words), out


def test_why_as_json(archive, capsys):
    code, out, _ = run(capsys, "copy", "--json")
    row = json.loads(out)
    assert code == 0 and row["lead"] == {"id": "lead", "source": "Tech Daily"}
    assert row["strategy"] and row["verdict"].startswith("verdict:strategy")
    assert any(r.startswith("company:Alibaba") for r in row["reasons"])
    assert row["posts"][0]["platform"] == "slack" and row["posts"][0]["state"] == "due"
    assert row["first_seen"].endswith("Z")   # beside "published": how late it was seen


@pytest.mark.parametrize("ref", ["lead", "review"])
def test_why_as_json_words_the_verdict_as_the_text_does(archive, capsys, ref):
    """"verdict" is the raw reason ("verdict:strategy (...)"), kept for scripts that
    read it; "verdict_text" is what the text's verdict line says."""
    _, text, _ = run(capsys, ref)
    _, out, _ = run(capsys, ref, "--json")
    row = json.loads(out)
    (line,) = [x for x in text.splitlines() if x.startswith("verdict: ")]
    assert row["verdict_text"] == line.removeprefix("verdict: ")
    assert row["verdict_text"].startswith(("strategy (", "not strategy ("))
    assert row["verdict"] == "verdict:" + row["verdict_text"]


def test_a_story_is_found_by_an_id_its_feed_gave_it_before(archive, capsys, classifier):
    # Feeds with unstable GUIDs give one story several ids; a log line may name any.
    again = _story("lead-v2", "Alibaba cuts Qwen API prices", "Alibaba cut prices.", utcnow(),
                   classifier)
    with Store(os.environ["AINEWS_DB"]) as store:
        store.add_new_stories([replace(again, url="https://news.example.com/lead")],
                              backlog=False, now=utcnow())
    code, out, _ = run(capsys, "lead-v2")
    assert code == 0 and "https://news.example.com/lead" in out and "posts: slack C1" in out


def test_an_unknown_story_is_one_line(archive, capsys):
    code, out, err = run(capsys, "https://news.example.com/nothing")
    assert code == 1 and out == "" and err.count("\n") == 1 and "ainews search" in err


def test_feed_text_reaches_the_terminal_without_escapes(clean_env, tmp_path, capsys, classifier):
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    with Store(os.environ["AINEWS_DB"]) as store:
        store.add_new_stories([_story("x", "Alibaba \x1b[2Jcuts prices \x1b]8;;evil\x07",
                                      "Alibaba cut prices.", utcnow(), classifier)],
                              backlog=False, now=utcnow())
    code, out, _ = run(capsys, "x")
    assert code == 0 and "\x1b" not in out and "\x07" not in out


def test_why_shows_the_headline_as_the_brief_does(clean_env, tmp_path, capsys, classifier):
    # "FT - Alibaba ..." and "verdict:strategy": not the headline the post showed, and
    # a reason code where the other lines read "name: value".
    from feeds.condense import condense
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    story = _story("ft", "FT - Alibaba shifts towards revenue over open source AI",
                   "Alibaba will charge for Qwen models.", utcnow(), classifier,
                   source="Financial Times")
    with Store(os.environ["AINEWS_DB"]) as store:
        store.add_new_stories([story], backlog=False, now=utcnow())
    code, out, _ = run(capsys, "ft")
    headline, source, verdict = out.splitlines()[:3]
    brief = condense(story)
    assert code == 0 and headline == brief.headline and not headline.startswith("FT")
    assert source.startswith(f"{brief.source} · ")
    assert verdict.startswith(("verdict: strategy (", "verdict: not strategy ("))


def test_a_sent_post_says_when_as_the_other_times_read(archive, capsys):
    # "posts: slack C1 sent 2026-12-01T05:29:57.782384Z": the only raw timestamp in the
    # text, beside "2026-12-01 05:29 UTC" everywhere else.
    from datetime import datetime, timezone
    sent = datetime(2026, 12, 1, 5, 29, 57, 782384, tzinfo=timezone.utc)
    with Store(os.environ["AINEWS_DB"]) as store:
        row = store.outbox_entry("lead", "slack", "C1")
        store.record_sent(row.id, "1.2", sent, shown=make_brief(id="lead"))
    code, out, _ = run(capsys, "lead")
    assert code == 0 and "posts: slack C1 sent 2026-12-01 05:29 UTC" in out
    code, out, _ = run(capsys, "lead", "--json")
    assert json.loads(out)["posts"][0]["sent_at"].startswith("2026-12-01T05:29:57")


@pytest.fixture
def pruned(clean_env, tmp_path, classifier):
    """A story posted 200 days ago, and a first poll's story of that day, after the daily
    prune (AINEWS_KEEP_DAYS, 180) slimmed them and forgot the settled post."""
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    seen = utcnow() - timedelta(days=200)
    with Store(os.environ["AINEWS_DB"]) as store:
        store.add_new_stories([_story(
            "lead", "Alibaba cuts Qwen API prices by 50% to win cloud customers",
            "Alibaba Cloud said it would cut Qwen model prices for enterprise customers as "
            "competition with Baidu heats up.", seen, classifier)], backlog=False, now=seen)
        store.add_new_stories([_story("old", "OpenAI raises $6.6bn at a $157bn valuation",
                                      "OpenAI closed its funding round.", seen, classifier)],
                              backlog=True, now=seen)
        store.enqueue_post(cluster_id="lead", brief=make_brief(id="lead"), platform="slack",
                           workspace="T1", channel="C1", held=False, now=seen)
        store.claim_post(1, seen)
        store.record_sent(1, "m1", seen, shown=make_brief(id="lead"))
    assert main(["prune"]) == 0
    return clean_env


def test_why_of_a_pruned_story_does_not_say_it_was_never_posted(pruned, capsys):
    # The prune marks a slimmed story "backlog" (its edits are never routed again) and
    # forgets its settled posts: `why` told the operator it was "stored by a feed's
    # first poll, never posted", the wrong thing to act on.
    code, out, _ = run(capsys, "lead")
    assert code == 0 and "never posted" not in out
    assert ("pruned: first seen over AINEWS_KEEP_DAYS (180 days) ago: its text and post "
            "records were forgotten") in out
    assert "posts: none left on record" in out
    code, out, _ = run(capsys, "--json", "lead")
    assert json.loads(out)["pruned"] is True
    # A first poll's story was never posted, pruned or not: that stays said.
    code, out, _ = run(capsys, "old")
    assert "backlog: stored by a feed's first poll, never posted" in out
    assert "pruned: first seen over AINEWS_KEEP_DAYS" in out
