"""Pooled cross-validation of the learned layer by labelled set, and the temporal check.

Pooled: the same repeated stratified 5-fold CV as `bench/eval_classify.py --train`
(lambda and threshold chosen by the precision >= recall rule) on all the sets together,
then the chosen setting's out-of-fold figures on each part (dev+test: 2023 news;
fresh-dev: January-June 2024; fresh-test: July 2024-June 2025; fresh2: July-December 2025;
fresh3 and fresh4: January-October 2026, on different days).

Temporal (the yardstick for decisions, since a held-out set is later news than the
training data): the trainer's whole procedure on the older sets only (CV for lambda
and threshold, then a fit on all of them), scored on the newest set. The main split is
the five older sets -> fresh3 (the newest news, furthest from its training data); the
older three (-> fresh2, -> fresh-test, -> fresh-dev) are printed beside it (`--splits`
chooses). Writes nothing.

`--curve` also prints what each threshold (0.30-0.85) gives with the same probabilities:
the pooled out-of-fold ones (averaged over the repeats) and each temporal split's on its
newer set (settings chosen on the older sets, as above); nothing is re-tuned on the
scored items, only the cut-off moves. See docs/classifier.md, "Choosing the threshold".

    .venv/bin/python bench/cv_by_set.py                        # pooled and temporal figures
    .venv/bin/python bench/cv_by_set.py --errors fresh-test    # also pooled out-of-fold errors of a set
    .venv/bin/python bench/cv_by_set.py --temporal-errors      # also the temporal check's errors
    .venv/bin/python bench/cv_by_set.py --words --lambda-words 10,30   # another model family
    .venv/bin/python bench/cv_by_set.py --words --curve        # the shipped family, threshold by threshold
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import eval_classify as ev  # noqa: E402
from bench import trainer as tr  # noqa: E402
from feeds.classify import Classifier, load_gazetteer  # noqa: E402

PARTS = {"dev+test": {"dev", "test"}, "fresh-dev": {"fresh-dev"}, "fresh-test": {"fresh-test"},
         "fresh2": {"fresh2"}, "fresh3": {"fresh3"}, "fresh4": {"fresh4"},
         "zh1": {"zh1"}, "zh2": {"zh2"}, "zh3": {"zh3"}, "fresh5": {"fresh5"}, "fresh6": {"fresh6"}, "fresh7": {"fresh7"}, "fresh8": {"fresh8"}, "fresh9": {"fresh9"}}
# older sets -> the newer set scored (each split's training data is earlier news); the
# first is the main yardstick (the newest news, the furthest from its training data)
SPLITS = ("dev,test,fresh-dev,fresh-test,fresh2>fresh3;dev,test,fresh-dev,fresh-test>fresh2;"
          "dev,test>fresh-dev;dev,test,fresh-dev>fresh-test")
# --curve's cut-offs (the trainer chooses among 0.30-0.65; an operator may set any)
CURVE = tuple(round(0.30 + 0.05 * k, 2) for k in range(12))   # 0.30 ... 0.85


def pooled_items(names: list[str], lexical: dict | None = None,
                 user_file: Path | None = None) -> tuple[list, list[str], list, dict]:
    """(features, label, gate, outlet) per item, its set's name, its (link, label, reason),
    and the corpus."""
    gz = load_gazetteer(user_file)
    gz.rules["model"] = {**gz.rules.get("model", {}), "enabled": False}   # as --train does
    clf = Classifier(gz)
    paths = list(ev.ITEMS.values())
    corpus = ev.load_corpus(ev.DEFAULT_CORPUS, *[p for p in paths if p.exists()])
    data, tags, rows = [], [], []
    for name in names:
        found = [r for r in ev.load_labels(ev.SETS[name]) if r[0] in corpus]
        data += ev.labelled_items(clf, found, corpus, lexical)
        tags += [name] * len(found)
        rows += found
    return data, tags, rows, corpus


def report_pooled(data, tags, grid, seeds) -> tuple[float, list]:
    """Pooled CV and its parts; the chosen threshold and out-of-fold runs."""
    f1, settings, t, p, r, runs = tr.cv_table(data, grid, seeds, verbose=False)
    ys = [d[1] for d in data]
    print(f"pooled {'+'.join(dict.fromkeys(tags))}: {describe(settings)} threshold={t:.2f} "
          f"precision={p:.3f} recall={r:.3f} f1={f1:.4f} (past the AI gate: {sum(d[2] for d in data)} "
          f"of {len(data)})")
    for part, members in PARTS.items():
        keep = [i for i, tag in enumerate(tags) if tag in members]
        if keep:
            print("  {}: precision={:.3f} recall={:.3f} f1={:.3f}".format(part, *tr.mean_prf(runs, ys, t, keep)))
    return t, runs


def report_temporal(data, tags, grid, seeds, splits: str) -> list[tuple[str, list, list, float]]:
    """Each split's figures on its newer set and their mean F1; returns, per split, the
    newer set's name, its indices, probabilities and threshold (for the error list)."""
    out, f1s, grid_f1s = [], [], []
    for split in splits.split(";"):
        older, newer = split.split(">")
        old = [i for i, tag in enumerate(tags) if tag in older.split(",")]
        new = [i for i, tag in enumerate(tags) if tag == newer]
        if not old or not new:
            continue
        settings, t, (p, r, f1), probs, per_setting = tr.temporal(
            [data[i] for i in old], [data[i] for i in new], grid, seeds)
        print(f"temporal {older.replace(',', '+')} -> {newer}: {describe(settings)} threshold={t:.2f} "
              f"precision={p:.3f} recall={r:.3f} f1={f1:.4f}; over the grid f1 "
              + " ".join(f"{v:.3f}" for v in per_setting) + f" (mean {statistics.mean(per_setting):.4f})")
        out.append((newer, new, probs, t))
        f1s.append(f1)
        grid_f1s.append(statistics.mean(per_setting))
    if f1s:
        print(f"temporal mean f1={statistics.mean(f1s):.4f}, over the grid {statistics.mean(grid_f1s):.4f}")
    return out


def threshold_curve(runs: list[list[float]], ys: list[int], keep=None,
                    thresholds=CURVE) -> list[tuple[float, float, float, float, float]]:
    """(threshold, precision, recall, F1, posts per 100 items) at each threshold, from
    fixed probabilities (one list per CV repeat, or one list); `keep`: only these items.
    Precision, recall and F1 are means over the repeats, as `trainer.mean_prf`; a
    threshold that posts nothing has precision 0."""
    keep = list(range(len(ys)) if keep is None else keep)
    rows = []
    for t in thresholds:
        p, r, f1 = tr.mean_prf(runs, ys, t, keep)
        posts = statistics.mean(sum(1 for i in keep if run[i] >= t) for run in runs)
        rows.append((t, p, r, f1, 100 * posts / len(keep) if keep else 0.0))
    return rows


def print_curve(title: str, rows, chosen: float, ys: list[int]) -> None:
    """The curve as a table with its counts (right posts, wrong posts, missed strategy
    stories among the `ys`; means over the repeats for the pooled curve), the chosen
    threshold marked, and the highest precision reached at any threshold with its recall."""
    n, positives = len(ys), sum(ys)
    print(f"curve, {title}:")
    print("  threshold precision recall    f1  posts/100  right  wrong missed")
    for t, p, r, f1, posts in rows:
        right, wrong = r * positives, posts * n / 100 - r * positives
        mark = "  <- chosen" if abs(t - chosen) < 1e-9 else ""
        print(f"  {t:9.2f} {p:9.3f} {r:6.3f} {f1:5.3f} {posts:10.1f} {right:6.0f} {wrong:6.0f} "
              f"{positives - right:6.0f}{mark}")
    t, p, r, _, _ = max(rows, key=lambda row: (row[1], row[2]))
    print(f"  highest precision {p:.3f} at threshold {t:.2f} (recall {r:.3f})")


def describe(settings: dict) -> str:
    words = f" words={settings['lambda_words']:g}" if settings.get("words") else ""
    return f"lambda={settings['lambda']:g}{words}" + (" balanced" if settings.get("balanced") else "")


def list_errors(indices, probs, t, rows, corpus) -> None:
    for i, p in zip(indices, probs):
        link, label, reason = rows[i]
        if (p >= t) != bool(label):
            title = ev.story_text(corpus[link])[0]
            print(f"  {'FP' if label == 0 else 'FN'} p={p:.2f} {title[:90]!r}  label: {reason[:60]}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="dev,test,fresh-dev,fresh-test,fresh2,fresh3,fresh4")
    ap.add_argument("--splits", default=SPLITS, help="temporal splits, 'older,sets>newer;...' ('' for none)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--errors", default="", help="list the pooled out-of-fold errors of these sets")
    ap.add_argument("--temporal-errors", action="store_true", help="list each temporal split's errors")
    ap.add_argument("--curve", action="store_true",
                    help="precision, recall, F1 and posts per 100 items at thresholds 0.30-0.85")
    ap.add_argument("--lambdas", default="0.3,1,3")
    ap.add_argument("--balanced", action="store_true", help="class-balanced weights")
    ap.add_argument("--words", action="store_true", help="the headline's words too (feeds.lexical)")
    ap.add_argument("--lambda-words", default="10,30")
    ap.add_argument("--lead-chars", type=int, default=0)
    ap.add_argument("--min-docs", type=int, default=3, help="a word must be in this many training items")
    ap.add_argument("--no-bigrams", action="store_true")
    ap.add_argument("--user-file", type=Path, help="extra gazetteer TOML (a vocabulary trial)")
    args = ap.parse_args(argv)
    names = ev.set_names(args.sets)
    unknown = [n for n in names if n not in ev.SETS]
    if unknown:
        print(f"cv_by_set: --sets takes {', '.join(ev.SETS)}, not {unknown[0]!r}", file=sys.stderr)
        return 2
    lexical = {"bigrams": not args.no_bigrams, "lead_chars": args.lead_chars} if args.words else None
    data, tags, rows, corpus = pooled_items(names, lexical, args.user_file)
    floats = lambda text: [float(v) for v in text.split(",")]   # noqa: E731
    grid = [{"lambda": lam, "lambda_words": lw, "min_docs": args.min_docs, "min_outlets": 2, "words": args.words,
             "balanced": args.balanced}
            for lam in floats(args.lambdas) for lw in (floats(args.lambda_words) if args.words else [3.0])]
    seeds = tuple(range(1, args.repeats + 1))
    t, runs = report_pooled(data, tags, grid, seeds)
    splits = report_temporal(data, tags, grid, seeds, args.splits) if args.splits else []
    wanted = ev.set_names(args.errors)
    keep = [i for i, tag in enumerate(tags) if tag in wanted]
    list_errors(keep, [statistics.mean(run[i] for run in runs) for i in keep], t, rows, corpus)
    if args.curve:
        ys = [d[1] for d in data]
        print_curve(f"pooled CV out-of-fold, {len(data)} items, mean of {len(runs)} repeats",
                    threshold_curve(runs, ys), t, ys)
        for newer, indices, probs, t_new in splits:
            new_ys = [ys[i] for i in indices]
            print_curve(f"temporal -> {newer}, {len(indices)} items", threshold_curve([probs], new_ys),
                        t_new, new_ys)
    for newer, indices, probs, t_new in splits if args.temporal_errors else []:
        print(f"temporal errors on {newer}:")
        list_errors(indices, probs, t_new, rows, corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
