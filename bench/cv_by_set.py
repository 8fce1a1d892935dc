"""Pooled cross-validation of the learned layer, broken down by labelled set.

The same repeated stratified 5-fold CV as `bench/eval_classify.py --train --no-words`
(cues only, lambda chosen by the precision >= recall rule), on the pooled sets; then the
chosen setting's out-of-fold figures on each part, so a vocabulary change that helps
2024-25 news (fresh-dev) can be seen not to hurt 2023 news (dev+test). Writes nothing.

    .venv/bin/python bench/cv_by_set.py                       # dev+test+fresh-dev, parts dev+test / fresh-dev
    .venv/bin/python bench/cv_by_set.py --errors fresh-dev    # also the out-of-fold errors of a set
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import eval_classify as ev  # noqa: E402
from feeds.classify import Classifier, load_gazetteer  # noqa: E402

PARTS = {"dev+test": {"dev", "test"}, "fresh-dev": {"fresh-dev"}}


def pooled_items(names: list[str]) -> tuple[list, list[str], list, dict]:
    """(features, label, gate, outlet) per item, its set's name, its (link, label, reason),
    and the corpus."""
    gz = load_gazetteer()
    gz.rules["model"] = {**gz.rules.get("model", {}), "enabled": False}   # as --train does
    clf = Classifier(gz)
    corpus = ev.load_corpus(ev.DEFAULT_CORPUS, *[p for p in [ev.FRESH_CORPUS] if p.exists()])
    data, tags, rows = [], [], []
    for name in names:
        found = [r for r in ev.load_labels(ev.SETS[name]) if r[0] in corpus]
        data += ev.labelled_items(clf, found, corpus, None)
        tags += [name] * len(found)
        rows += found
    return data, tags, rows, corpus


def mean_prf(runs, ys, t, keep) -> tuple[float, float, float]:
    scores = [ev.prf([run[i] for i in keep], [ys[i] for i in keep], t) for run in runs]
    return tuple(statistics.mean(s[k] for s in scores) for k in range(3))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="dev,test,fresh-dev")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--errors", default="", help="list the out-of-fold errors of these sets")
    args = ap.parse_args(argv)
    names = args.sets.split(",")
    if "fresh-test" in names:
        print("cv_by_set: fresh-test is held out; it is not read here", file=sys.stderr)
        return 2
    data, tags, rows, corpus = pooled_items(names)
    ys, everyone = [d[1] for d in data], range(len(data))
    best = None
    for lam in (0.3, 1.0, 3.0):
        settings = {"lambda": lam, "lambda_words": 3.0, "min_docs": 3, "min_outlets": 2}
        runs = ev.cv_probs(data, settings, seeds=tuple(range(1, args.repeats + 1)))
        for t in ev.THRESHOLDS:
            p, r, f1 = mean_prf(runs, ys, t, everyone)
            if p >= r and (best is None or f1 > best[0]):
                best = (f1, lam, t, p, r, runs)
    f1, lam, t, p, r, runs = best
    print(f"pooled {'+'.join(names)}: lambda={lam:g} threshold={t:.2f} precision={p:.3f} "
          f"recall={r:.3f} f1={f1:.4f} (past the AI gate: {sum(d[2] for d in data)} of {len(data)})")
    for part, members in PARTS.items():
        keep = [i for i, tag in enumerate(tags) if tag in members]
        if keep:
            p, r, f1 = mean_prf(runs, ys, t, keep)
            print(f"  {part}: precision={p:.3f} recall={r:.3f} f1={f1:.3f}")
    for i, (link, label, reason) in enumerate(rows):
        prob = statistics.mean(run[i] for run in runs)
        if tags[i] in args.errors.split(",") and (prob >= t) != bool(label):
            title = ev.story_text(corpus[link])[0]
            print(f"  {'FP' if label == 0 else 'FN'} p={prob:.2f} {title[:90]!r}  label: {reason[:60]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
