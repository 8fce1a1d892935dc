"""Do non-linear learners beat the shipped logistic layer on newer news?

An experiment, not a shipped path: it needs numpy, scipy and scikit-learn, which the
product does not depend on (`.venv/bin/pip install -e '.[dev,ml]'`; the test suite never
imports this module). Results and verdict: docs/classifier.md, "Non-linear learners: an
experiment, not shipped". Every family reads the same inputs as the shipped
layer: `story_features` cues and the `feeds/lexical.py` headline words and pairs, the
vocabulary chosen per fold by `trainer.vocabulary`, items past the AI gate only (gate
failures score 0). Each family's settings and threshold are chosen by repeated 5-fold CV
inside the training items with the trainer's rule (best mean F1 among precision >= recall).

    .venv/bin/python bench/eval_nonlin.py --repeats 5             # the tables (~18 min, 2 cores)
    .venv/bin/python bench/eval_nonlin.py --families lr,gbt --repeats 2   # a trial
    .venv/bin/python bench/eval_nonlin.py --families lr,gbt-words --lead-chars 300   # lead words

Families (bench/nonlin_families.py):
  lr        the shipped family (cues + headline words, L2 logistic; eval_embed's numpy fit)
  lr-inter  the same + pairwise products of cue features that co-occur in >= 30 training
            items (chosen per fold), with their own L2 penalty
  gbt       gradient-boosted trees (sklearn HistGradientBoostingClassifier) on the cues
  gbt-words the same on cues + headline words and pairs
  stack     gbt on the cues + the logistic layer's word score (out-of-fold inside the
            training items, so the trees never see a score fitted on the item itself)
  mean      the mean of lr's and gbt's probabilities (each its own CV setting)

Splits: five older sets -> fresh3, four older -> fresh2, six older (with fresh3) -> fresh4,
and pooled 5-fold CV over all seven sets (pooled counts are means over the repeats). Only
figures are printed: no item of any set is listed. Besides P / R / F1 at the chosen
threshold, each line gives the threshold curve's best precision at recall >= 0.70 and
best recall at precision >= 0.85 (thresholds 0.01-0.99; pooled: means over repeats).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import eval_classify as ev  # noqa: E402
from bench import nonlin_families as nf  # noqa: E402
from bench import trainer as tr  # noqa: E402
from bench.eval_embed import Runner, choose_row, counts, pick, split_rows  # noqa: E402

SPLITS = ("dev,test,fresh-dev,fresh-test,fresh2>fresh3;dev,test,fresh-dev,fresh-test>fresh2;"
          "dev,test,fresh-dev,fresh-test,fresh2,fresh3>fresh4")
FINE = tuple(round(k / 100, 2) for k in range(1, 100))


def curve_points(runs, ys, keep=None) -> tuple[float, float]:
    """(best precision with recall >= 0.70, best recall with precision >= 0.85) over the
    fine thresholds, precision and recall averaged over the runs at each threshold."""
    best_p = best_r = 0.0
    for t in FINE:
        p, r, _ = tr.mean_prf(runs, ys, t, keep)
        if r >= 0.70:
            best_p = max(best_p, p)
        if p >= 0.85:
            best_r = max(best_r, r)
    return best_p, best_r


def mean_runs(chosen) -> list[list[float]]:
    """Per repeat, the mean of the components' out-of-fold probabilities."""
    return [[statistics.mean(v) for v in zip(*rs)] for rs in zip(*(c[5] for c in chosen))]


def pooled(run: Runner, fam, comps=None) -> dict:
    """Repeated 5-fold CV over every item, the setting and threshold chosen on it."""
    d = run.d
    idx = list(range(len(d.items)))
    ys = [int(v) for v in d.y]
    if comps:
        chosen = [choose_row(run.choose(c, idx)) for c in comps]
        f1, s, t, p, r, runs = pick(mean_runs(chosen), ys, "+".join(nf.describe(c[1]) for c in chosen))
    else:
        f1, s, t, p, r, runs = choose_row(run.choose(fam, idx))
    c = [statistics.mean(k) for k in zip(*(counts(rn, ys, t) for rn in runs))]
    parts = {part: tr.mean_prf(runs, ys, t, [i for i, tag in enumerate(d.tags) if tag == part])[2]
             for part in ("fresh3", "fresh4")}
    return {"setting": nf.describe(s), "t": t, "prf": (p, r, f1), "counts": c,
            "curve": curve_points(runs, ys), "parts": parts}


def temporal(run: Runner, fam, split: str, comps=None) -> dict:
    """Chosen by CV on the older sets, fitted on all of them, scored on the newer."""
    d = run.d
    old, new, ys_old, ys_new = split_rows(d, split)
    grid = None
    if comps:
        chosen = [choose_row(run.choose(c, old)) for c in comps]
        _, s, t, *_ = pick(mean_runs(chosen), ys_old, "+".join(nf.describe(c[1]) for c in chosen))
        probs = [statistics.mean(v) for v in zip(*(comp.fit_predict(d, old, new, c[1])
                                                   for comp, c in zip(comps, chosen)))]
    else:
        rows = run.choose(fam, old)
        grid = statistics.mean(tr.prf(list(fam.fit_predict(d, old, new, row[1])), ys_new, row[2])[2]
                               for row in rows)
        _, s, t, *_ = choose_row(rows)
        probs = [float(p) for p in fam.fit_predict(d, old, new, s)]
    return {"setting": nf.describe(s), "t": t, "prf": tr.prf(probs, ys_new, t),
            "counts": counts(probs, ys_new, t), "curve": curve_points([probs], ys_new), "grid": grid}


def line(name: str, what: str, res: dict) -> str:
    p, r, f1 = res["prf"]
    tp, fp, fn = res["counts"]
    grid = f" grid-mean-f1={res['grid']:.3f}" if res.get("grid") is not None else ""
    parts = "".join(f" {k}-part-f1={v:.3f}" for k, v in res.get("parts", {}).items())
    cp, cr = res["curve"]
    return (f"{name:9s} {what:18s} P={p:.3f} R={r:.3f} F1={f1:.3f} right={tp:g} wrong={fp:g} "
            f"missed={fn:g} t={res['t']:.2f} P@R>=.70={cp:.3f} R@P>=.85={cr:.3f} "
            f"[{res['setting']}]{grid}{parts}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--splits", default=SPLITS, help="'older,sets>newer;...' ('' for none)")
    ap.add_argument("--families", default="lr,lr-inter,gbt,gbt-words,stack,mean")
    ap.add_argument("--no-pooled", action="store_true")
    ap.add_argument("--lead-chars", type=int, default=0, help="the words read this much of the lead too")
    ap.add_argument("--depths", default="2,3", help="the trees' depths tried")
    ap.add_argument("--trees", default="100,300", help="the numbers of trees tried (learning rate 0.1)")
    ap.add_argument("--inter-lambdas", default="3,10,30,100", help="lr-inter: the products' L2 strengths")
    ap.add_argument("--inter-min", type=int, default=30, help="lr-inter: a pair's training items")
    args = ap.parse_args(argv)
    d = nf.Data(args.lead_chars)
    run = Runner(d, tuple(range(1, args.repeats + 1)))
    ints = lambda text: tuple(int(v) for v in text.split(","))   # noqa: E731
    fams = nf.families(ints(args.depths), ints(args.trees), ints(args.inter_lambdas), args.inter_min)
    for name in ev.set_names(args.families):
        start = time.perf_counter()
        comps = [fams["lr"], fams["gbt"]] if name == "mean" else None
        fam = fams.get(name)
        for split in filter(None, args.splits.split(";")):
            print(line(name, "-> " + split.split(">")[1], temporal(run, fam, split, comps)), flush=True)
        if not args.no_pooled:
            print(line(name, "pooled CV, 7 sets", pooled(run, fam, comps)), flush=True)
        print(f"  ({name}: {time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
