"""The classifier's evaluation tooling: scoring a set kept outside the repository, training
on any labelled set, class-balanced weights and the temporal check (bench/)."""
from __future__ import annotations

import json

import pytest

from bench import cv_by_set, eval_classify, trainer
from feeds.learned import StrategyModel

# Invented stories (not any outlet's text): AI business moves and AI how-tos.
MOVES = ["Acme AI raises $50 million in funding", "Zeta Labs acquires chatbot startup Qixel",
         "OpenAI cuts API prices for its models", "Chipmaker signs AI chip export deal",
         "Regulators open antitrust probe into AI startup deal", "Anthropic raises new funding round"]
TIPS = ["How to write better chatbot prompts", "Tips for using AI chatbots at home: a guide",
        "I tried an AI chatbot for a week", "What is a large language model? Explained",
        "Best AI laptops on sale for Black Friday", "Step-by-step tutorial: build a chatbot"]


def _write_set(tmp_path, n_each: int = 3, missing: int = 0):
    """Items as JSON lines and labels as the repository's TSV; `missing` labelled links
    have no item."""
    items, labels = [], ["# link\tlabel\treason"]
    for i in range(n_each):
        for label, titles in ((1, MOVES), (0, TIPS)):
            link = f"https://news.invalid/{label}/{i}"
            items.append({"id": link, "title": titles[i % len(titles)], "summary": "", "link": link,
                          "published": "2025-10-01T00:00:00+00:00", "outlet": f"Outlet {i % 3}"})
            labels.append(f"{link}\t{label}\tinvented")
    labels += [f"https://news.invalid/gone/{i}\t1\tno item" for i in range(missing)]
    (tmp_path / "items.jsonl").write_text("\n".join(map(json.dumps, items)) + "\n", encoding="utf-8")
    (tmp_path / "labels.tsv").write_text("\n".join(labels) + "\n", encoding="utf-8")
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    return ["--corpus", str(tmp_path / "empty.jsonl"), "--extra-set", "late",
            "--extra-items", str(tmp_path / "items.jsonl"), "--extra-labels", str(tmp_path / "labels.tsv")]


def test_an_outside_set_is_scored_from_its_items_and_labels(tmp_path, capsys):
    args = _write_set(tmp_path, n_each=6, missing=2)
    assert eval_classify.main(args + ["--show", "0"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("late: n=12 positives=6 precision=")
    assert "missing=2" in line
    # the shipped model posts the funding, deal and pricing moves and none of the how-tos
    assert "precision=1.000" in line and "tp=" in line and "fp=0" in line


@pytest.mark.parametrize("drop, clash, message", [
    ("--extra-labels", None, "--extra-set, --extra-items and --extra-labels go together"),
    (None, "dev", "'dev' is already a labelled set"),
])
def test_outside_set_options_are_checked(tmp_path, capsys, drop, clash, message):
    args = _write_set(tmp_path)
    if drop:
        del args[args.index(drop):args.index(drop) + 2]
    if clash:
        args[args.index("--extra-set") + 1] = clash
    assert eval_classify.main(args) == 2
    assert message in capsys.readouterr().err


def test_missing_items_file_is_named(tmp_path, capsys):
    args = _write_set(tmp_path)
    args[args.index("--extra-items") + 1] = str(tmp_path / "absent.jsonl")
    assert eval_classify.main(args) == 2
    assert "absent.jsonl not found" in capsys.readouterr().err


def test_training_on_an_outside_set_writes_weights_that_load(tmp_path, capsys):
    out = tmp_path / "model.json"
    args = _write_set(tmp_path, n_each=10)
    assert eval_classify.main(args + ["--train", "--fit-on", "late", "--no-words", "--lambdas", "1",
                                      "--repeats", "1", "--out", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["about"].endswith("on late") and doc["balanced"] is False
    model = StrategyModel.from_doc(doc)
    assert model.weights and 0 < model.threshold < 1
    assert f"wrote {out}" in capsys.readouterr().out


def test_every_set_name_is_offered_for_training(tmp_path, capsys):
    args = _write_set(tmp_path)
    assert eval_classify.main(args + ["--train", "--fit-on", "fresh-test,holdout"]) == 2
    assert "(dev, test, fresh-dev, fresh-test, fresh2, fresh3, fresh4, zh1, zh2, zh3, fresh5, fresh6, fresh7, fresh8, fresh9, late)" in capsys.readouterr().err


def test_balanced_weights_lift_the_rare_class():
    """Few positives: unweighted, an ambiguous story leans negative; balanced, it does
    not, since each class then weighs as much in the loss."""
    xs = [{"a": 1.0}] * 4 + [{"a": 1.0}] * 12 + [{"b": 1.0}] * 30
    ys = [1] * 4 + [0] * 12 + [0] * 30
    ambiguous = {"a": 1.0}
    w, b = trainer.fit(xs, ys, lam=0.1)
    wb, bb = trainer.fit(xs, ys, lam=0.1, balanced=True)
    assert trainer.prob(w, b, ambiguous) < 0.3 < trainer.prob(wb, bb, ambiguous)
    assert trainer.class_weights(ys) == pytest.approx((46 / 84, 46 / 8))


def test_temporal_check_learns_from_older_items_only():
    """Newer items carry a cue the older ones never had: a check that trained on the
    newer labels would find them all; the temporal check misses them."""
    def item(x, y):
        return (x, y, True, "o")
    older = [item({"pricing@title": 1.0}, 1)] * 20 + [item({}, 0)] * 20
    newer = ([item({"pricing@title": 1.0}, 1)] * 5 + [item({"agents@title": 1.0}, 1)] * 5
             + [item({}, 0)] * 10)
    grid = [{"lambda": 1.0, "lambda_words": 3.0, "min_docs": 3, "min_outlets": 2}]
    settings, t, (p, r, f1), probs, per_setting = trainer.temporal(older, newer, grid, seeds=(1,))
    assert settings is grid[0] and len(probs) == len(newer)
    assert (p, r) == (1.0, 0.5) and per_setting == [pytest.approx(2 / 3)]


def test_cv_by_set_takes_only_labelled_set_names(capsys):
    assert cv_by_set.main(["--sets", "dev,holdout"]) == 2
    assert "not 'holdout'" in capsys.readouterr().err


def test_threshold_curve_posts_fewer_as_the_threshold_rises(tmp_path, monkeypatch, capsys):
    """cv_by_set --curve on two tiny invented sets: pooled and temporal curves, each
    posting no more (and finding no more) as the threshold rises."""
    _write_set(tmp_path, n_each=10)
    rows = (tmp_path / "labels.tsv").read_text(encoding="utf-8").splitlines()[1:]
    (tmp_path / "old.tsv").write_text("\n".join(rows[:12]) + "\n", encoding="utf-8")
    (tmp_path / "new.tsv").write_text("\n".join(rows[12:]) + "\n", encoding="utf-8")
    monkeypatch.setattr(eval_classify, "SETS", {"old": tmp_path / "old.tsv", "new": tmp_path / "new.tsv"})
    monkeypatch.setattr(eval_classify, "DEFAULT_CORPUS", tmp_path / "items.jsonl")
    for name in ("FRESH_CORPUS", "FRESH_TEST_CORPUS", "FRESH2_CORPUS", "FRESH3_CORPUS"):
        monkeypatch.setattr(eval_classify, name, tmp_path / "absent.jsonl")
    assert cv_by_set.main(["--sets", "old,new", "--splits", "old>new", "--repeats", "1",
                           "--lambdas", "1", "--curve"]) == 0
    out = capsys.readouterr().out
    curves = out.split("curve, ")[1:]
    assert [c.split(",")[0].split(" ->")[0] for c in curves] == ["pooled CV out-of-fold", "temporal"]
    for curve in curves:
        table = [line.split() for line in curve.splitlines()[2:] if line.strip()[:1].isdigit()]
        assert [float(row[0]) for row in table] == list(cv_by_set.CURVE)
        posts = [float(row[4]) for row in table]
        recall = [float(row[2]) for row in table]
        assert posts == sorted(posts, reverse=True) and posts[0] > 0
        assert recall == sorted(recall, reverse=True)
        assert "<- chosen" in curve and "highest precision" in curve


def test_threshold_curve_counts_posts_per_hundred_items():
    ys = [1, 1, 0, 0]
    rows = cv_by_set.threshold_curve([[0.9, 0.5, 0.6, 0.1], [0.9, 0.3, 0.2, 0.1]], ys,
                                     thresholds=(0.4, 0.95))
    (t, p, r, f1, posts), (_, p_none, r_none, _, posts_none) = rows
    assert t == 0.4 and posts == pytest.approx(100 * (3 + 1) / 2 / 4)
    assert p == pytest.approx((2 / 3 + 1) / 2) and r == pytest.approx((1 + 0.5) / 2)
    assert (p_none, r_none, posts_none) == (0.0, 0.0, 0.0)



def test_a_prior_model_is_refined_not_forgotten():
    """Retraining when the old sets' items are gone: new items refine the shipped weights."""
    xs, ys = [{"a": 1.0}, {"a": 1.0}, {}, {}], [1, 1, 0, 0]
    prior = ({"a": 2.0, "b": -3.0}, -1.0)
    w, _ = trainer.fit(xs, ys, lam=1000.0, prior=prior)
    assert w["b"] == -3.0                          # not in the new items: kept as it was
    assert w["a"] == pytest.approx(2.0, abs=0.05)  # a strong penalty keeps it near the prior
    w0, _ = trainer.fit(xs, ys, lam=1000.0)
    assert abs(w0["a"]) < 0.05 and "b" not in w0   # without a prior: pulled to 0
    loose, _ = trainer.fit(xs, ys, lam=0.01, prior=prior)
    assert loose["a"] > 3.0                        # a weak one lets the new items speak


def test_training_from_a_prior_keeps_its_features(tmp_path, capsys):
    prior, out = tmp_path / "prior.json", tmp_path / "model.json"
    prior.write_text(json.dumps({"weights": {"cue:never-seen": 1.5}, "bias": -2.0}), encoding="utf-8")
    args = _write_set(tmp_path, n_each=10)
    assert eval_classify.main(args + ["--train", "--fit-on", "late", "--no-words", "--lambdas", "1",
                                      "--repeats", "1", "--prior", str(prior), "--out", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["weights"]["cue:never-seen"] == 1.5
    assert doc["about"].endswith("on late (refining a prior model's weights)")
