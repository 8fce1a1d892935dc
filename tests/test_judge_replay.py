"""Recorded judge answers (bench/judge_replay.py): the requests the bot would send are
dumped, answered elsewhere, and replayed through the real openai client and judge."""
from __future__ import annotations

import json

import pytest

from bench import eval_classify, judge_replay
from bench.eval_judge import _stories
from feeds.classify import Classifier, load_gazetteer
from feeds.judge import SYSTEM

# Invented stories (not any outlet's text): AI business moves and AI how-tos.
MOVES = ["Acme AI raises $50 million in funding", "OpenAI cuts API prices for its models",
         "Anthropic raises new funding round", "Zeta Labs acquires chatbot startup Qixel"]
TIPS = ["How to write better chatbot prompts", "I tried an AI chatbot for a week"]


@pytest.fixture
def labelled(tmp_path, monkeypatch):
    """A labelled set outside the repository, its dumped requests, and the command's
    arguments; no margin setting of the developer's applies."""
    for name in ("AINEWS_LLM_JUDGE_MARGIN", "AINEWS_LLM_JUDGE_GATE_MARGIN"):
        monkeypatch.delenv(name, raising=False)
    items, labels = [], []
    for label, titles in ((1, MOVES), (0, TIPS)):
        for i, title in enumerate(titles):
            link = f"https://news.invalid/{label}/{i}"
            items.append({"title": title, "summary": title + ".", "link": link, "outlet": "Wire"})
            labels.append(f"{link}\t{label}\tinvented")
    (tmp_path / "items.jsonl").write_text("\n".join(map(json.dumps, items)) + "\n", encoding="utf-8")
    (tmp_path / "labels.tsv").write_text("\n".join(labels) + "\n", encoding="utf-8")
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    corpus = eval_classify.load_corpus(tmp_path / "items.jsonl")
    clf = Classifier(load_gazetteer())
    rows = eval_classify.load_labels(tmp_path / "labels.tsv")
    out = tmp_path / "requests" / "late.jsonl"
    judge_replay.dump({"late": rows}, lambda r: _stories(clf, r, corpus, eval_classify.story_text), out)
    args = ["--corpus", str(tmp_path / "empty.jsonl"), "--extra-set", "late", "--set", "late",
            "--extra-items", str(tmp_path / "items.jsonl"), "--extra-labels", str(tmp_path / "labels.tsv"),
            "--llm-judge", "--replay", str(tmp_path / "answers.jsonl")]
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()], args


def answer(requests, path, says, system=SYSTEM):
    """Record one answer per request: strategy when `says(user message)`."""
    lines = [json.dumps({"key": judge_replay.request_key(system, r["user"]),
                         "content": json.dumps({"strategy": says(r["user"]), "reason": "invented"})})
             for r in requests]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_dump_holds_what_the_bot_would_ask(labelled, tmp_path):
    requests, _ = labelled
    asked = {r["user"].split("\n")[1] for r in requests}
    # the moves are near or past the threshold; the how-tos are not sent at all
    assert {f"Title: {t}" for t in MOVES} <= asked
    assert not any(t in u for t in TIPS for u in asked)
    assert (tmp_path / "requests" / "system.txt").read_text(encoding="utf-8") == SYSTEM + "\n"


def test_replayed_verdicts_decide_the_figures(labelled, tmp_path, capsys):
    requests, args = labelled
    answer(requests, tmp_path / "answers.jsonl", lambda user: "prices" in user)
    assert eval_classify.main(args) == 0
    out = capsys.readouterr().out
    assert f"sent to replay of answers.jsonl: {len(requests)}, answered {len(requests)}, no verdict 0" in out
    # the model turned three of the four moves down: only the price cut is posted
    assert "offline + judge: precision=1.000 recall=0.250 f1=0.400 (tp=1 fp=0 fn=3)" in out


@pytest.mark.parametrize("system", ["another policy", SYSTEM], ids=["other-policy", "half"])
def test_a_request_without_its_answer_keeps_the_offline_verdict(labelled, tmp_path, capsys, system):
    requests, args = labelled
    kept = requests if system != SYSTEM else requests[: len(requests) // 2]
    answer(kept, tmp_path / "answers.jsonl", lambda user: False, system)
    assert eval_classify.main(args) == 0
    missing = len(requests) - (0 if system != SYSTEM else len(kept))
    assert f"no verdict {missing}" in capsys.readouterr().out


def test_a_malformed_answers_file_is_named_with_its_line(labelled, tmp_path):
    _, args = labelled
    (tmp_path / "answers.jsonl").write_text('{"key": "a", "content": "{}"}\n{"key": "b"}\n',
                                            encoding="utf-8")
    with pytest.raises(SystemExit, match=r"answers.jsonl:2: not a \{key, content\} line"):
        eval_classify.main(args)


def test_a_missing_answers_file_is_one_line(labelled, capsys):
    _, args = labelled
    assert eval_classify.main(args) == 2
    assert "--replay" in capsys.readouterr().err
