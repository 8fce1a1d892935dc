"""`ainews topics`: the text and `--json` tell the same counts, topics at 0 included."""
from __future__ import annotations

import json
import re

import pytest

from bot.cli import main
from feeds.classify import Classifier
from feeds.models import utcnow
from storage.store import Store
from tests.fakes.stories import classified


@pytest.fixture
def env(clean_env, tmp_path):
    db = tmp_path / "ainews.db"
    clean_env.setenv("AINEWS_DB", str(db))
    store = Store(db)
    store.add_new_stories([classified(
        Classifier(), "cut", "Alibaba cuts Qwen API prices by 50%",
        "Alibaba Cloud said it would cut Qwen prices for enterprise customers.", utcnow())],
        backlog=False, now=utcnow())
    store.close()
    return clean_env


def _topics(capsys, *argv) -> str:
    assert main(["topics", *argv]) == 0
    return capsys.readouterr().out


def test_topics_json_counts_every_topic_the_text_lists(env, capsys):
    # --json left out the topics at 0 that the text lists: a script saw them missing.
    text = dict(re.findall(r"^  ([a-z-]+) \(.*\): (\d+)$", _topics(capsys), re.M))
    counted = json.loads(_topics(capsys, "--json"))["topics"]
    assert counted == {slug: int(n) for slug, n in text.items()}
    assert counted["pricing"] == 1 and counted["chips"] == 0
