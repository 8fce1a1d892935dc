"""Shared pieces of the classifier tests: the shipped classifier, the seed story, and
a verdict check that names the reason. Modules declare
`clf = pytest.fixture(classifier, name="clf", scope="module")`."""
from __future__ import annotations

from pathlib import Path

from feeds.classify import Classifier, load_gazetteer


DATA = Path(__file__).parent / "data"


def classifier() -> Classifier:
    return Classifier()


def gazetteer_classifier() -> Classifier:
    """A classifier over the gazetteer load_gazetteer() finds (a user's file, if set)."""
    return Classifier(load_gazetteer())


def seed() -> tuple[str, str]:
    title, _, body = (DATA / "seed-story.txt").read_text(encoding="utf-8").partition("\n")
    return title, body


def assert_verdict(c, strategy: bool, why: str) -> None:
    """The verdict, and the reason that names why (a phrase, a gate, a veto)."""
    assert c.strategy is strategy, c.reasons
    assert any(r.startswith(why) for r in c.reasons), c.reasons
