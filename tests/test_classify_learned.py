"""The learned layer (feeds/learned.py): a user's model and threshold, switching it
off, bad settings, the shipped weights, and the trainer."""
from __future__ import annotations

from pathlib import Path

import pytest

from feeds.classify import Classifier, GazetteerError, load_gazetteer
from tests.classify_kit import classifier


clf = pytest.fixture(classifier, name="clf", scope="module")


def _user(tmp_path, text: str) -> Classifier:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return Classifier(load_gazetteer(path))


def test_user_model_threshold_makes_posts_fewer_and_surer(tmp_path, clf):
    story = ("Microsoft debuts new unified security solution with Security Copilot",
             "The enterprise tool bundles threat intelligence with the AI assistant.")
    assert clf.classify(*story).strategy
    c = _user(tmp_path, "[model]\nthreshold = 0.99\n").classify(*story)
    assert not c.strategy and "threshold 0.99" in c.reasons[-1]


def test_model_can_be_switched_off_for_the_rule_score(tmp_path, clf):
    story = ("Sam Altman is back at OpenAI", "")   # a bare executive change: the learned layer posts it
    assert clf.classify(*story).strategy
    c = _user(tmp_path, "[model]\nenabled = false\n").classify(*story)
    assert not c.strategy
    assert c.reasons[-1].endswith("threshold 2.25)") and not any(r.startswith("feature:") for r in c.reasons)


@pytest.mark.parametrize("content, message", [
    ('[model]\nweights = "absent.json"\n', "cannot load model weights"),
    ("[model]\nthreshold = 'high'\n", "must be a number"),
])
def test_bad_model_settings_are_one_line_errors(tmp_path, content, message):
    with pytest.raises(GazetteerError) as err:
        _user(tmp_path, content)
    assert str(err.value).startswith("classify: ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_shipped_weights_are_cues_or_vocabulary_words():
    """Every weight is a gazetteer group, a named cue, or a word the trainer may weigh
    (feeds.lexical: lowercased, digits as 0, no outlet names, not stopwords alone)."""
    import json
    from feeds.lexical import PREFIX, in_vocabulary, words
    doc = json.loads((Path(__file__).parents[1] / "feeds" / "data" / "strategy_model.json").read_text())
    groups = {"open-source", "pricing", "funding", "acquisitions", "partnerships", "chips", "policy",
              "models", "leadership", "enterprise", "china", "strategy", "negative", "other", "ai"}
    cues = set(load_gazetteer().rules["cues"])
    named = {"ai-company", "ai-company@title", "company@title", "companies", "money@title", "money@lead",
             "percent@title", "first-person@title", "short-title", "no-text", "lab-post", "rule-score",
             "near-ai", "near-gate"}
    for name in doc["weights"]:
        base, _, place = name.partition("@")
        if name.startswith(PREFIX):
            word = name.removeprefix(PREFIX)
            assert in_vocabulary(word) and word in words(word, ""), name
            continue
        ok = name in named or (place in ("title", "lead", "body")
                               and (base in groups or base.removeprefix("cue:") in cues))
        assert ok, name
    assert len(doc["weights"]) >= 50          # the cue features, not an empty model


def test_trainer_learns_a_separable_rule_and_regularisation_shrinks_it():
    from bench.trainer import fit, prob
    xs = [{"pricing@title": 1.0}] * 20 + [{"cue:howto@title": 1.0}] * 20
    ys = [1] * 20 + [0] * 20
    w, b = fit(xs, ys, lam=0.1)
    assert prob(w, b, {"pricing@title": 1.0}) > 0.9 > 0.1 > prob(w, b, {"cue:howto@title": 1.0})
    w_strong, _ = fit(xs, ys, lam=10.0)
    assert abs(w_strong["pricing@title"]) < abs(w["pricing@title"])
