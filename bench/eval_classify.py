"""Evaluate feeds/classify.py against hand-labelled news items.

The labels (tests/data/devset.tsv, tests/data/testset.tsv) hold only links; the text is
read from the shared corpus by link, because the outlets' text is not ours to commit.

    .venv/bin/python bench/eval_classify.py                  # dev and test sets
    .venv/bin/python bench/eval_classify.py --set test --show 20
    .venv/bin/python bench/eval_classify.py --rules             # the rule score alone
    .venv/bin/python bench/eval_classify.py --train             # CV, then write the weights
    .venv/bin/python bench/eval_classify.py --corpus other/items.jsonl --threshold 0.5
"""
from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds.classify import Classifier, load_gazetteer  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "news" / "items.jsonl"
SETS = {"dev": ROOT / "tests" / "data" / "devset.tsv", "test": ROOT / "tests" / "data" / "testset.tsv"}


def plain(html: str | None) -> str:
    """The story text the pipeline would hand over (parser's html_to_text when present)."""
    if not html:
        return ""
    try:
        from feeds.text import html_to_text
        return html_to_text(html)
    except ImportError:  # the parser module is another stage's; keep the bench standalone
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def load_corpus(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8") as f:
        return {item["link"]: item for item in map(json.loads, f)}


def load_labels(path: Path) -> list[tuple[str, int, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            link, label, reason = line.split("\t", 2)
            rows.append((link, int(label), reason))
    return rows


def story_text(item: dict) -> tuple[str, str]:
    title = plain(item.get("title")) or ""
    text = plain(item.get("content_html")) or plain(item.get("summary"))
    return title, text


def evaluate(clf: Classifier, rows, corpus, show: int, name: str) -> dict:
    tp = fp = fn = tn = missing = 0
    wrong = []
    for link, label, reason in rows:
        item = corpus.get(link)
        if item is None:
            missing += 1
            continue
        c = clf.classify(*story_text(item))
        if c.strategy and label:
            tp += 1
        elif c.strategy:
            fp += 1
            wrong.append(("FP", c, item, reason))
        elif label:
            fn += 1
            wrong.append(("FN", c, item, reason))
        else:
            tn += 1
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(f"{name}: n={tp + fp + fn + tn} positives={tp + fn} precision={p:.3f} recall={r:.3f} "
          f"f1={f1:.3f} (tp={tp} fp={fp} fn={fn} tn={tn}" + (f", missing={missing})" if missing else ")"))
    for kind, c, item, reason in wrong[:show]:
        terms = [x for x in c.reasons if x.startswith(("term:", "negative:", "gate:", "veto:"))][:4]
        terms += [x for x in c.reasons if x.startswith("feature:")][:3]
        print(f"  {kind} {c.score:6.2f} {item['title'][:80]!r}  label: {reason}")
        print(f"           {'; '.join(terms)}")
    return {"precision": p, "recall": r, "f1": f1}


def speed(clf: Classifier, corpus: dict, passes: int = 3) -> None:
    """Stories per second over the whole corpus: the first pass (cold: the regex for
    odd-case text compiles on first need) and the best of the rest."""
    stories = [story_text(item) for item in corpus.values()]
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        for title, text in stories:
            clf.classify(title, text)
        times.append(time.perf_counter() - start)
    chars = sum(len(t) + len(x) for t, x in stories)
    print(f"speed: {len(stories)} stories ({chars / len(stories):.0f} chars avg): first pass "
          f"{len(stories) / times[0]:.0f} stories/s, best of {passes} {len(stories) / min(times):.0f} stories/s")


# ---- training the learned layer (--train) ---------------------------------------------
MODEL_FILE = ROOT / "feeds" / "data" / "strategy_model.json"


def fit(xs: list[dict], ys: list[int], lam: float, iters: int = 25) -> tuple[dict, float]:
    """L2-regularised logistic regression by Newton's method (features are sparse and
    few, so the Hessian is small); the bias is not penalised."""
    names = sorted({k for x in xs for k in x})
    idx = {k: i + 1 for i, k in enumerate(names)}       # 0 is the bias
    rows = [[(0, 1.0)] + [(idx[k], v) for k, v in x.items()] for x in xs]
    d = len(names) + 1
    w = [0.0] * d
    for _ in range(iters):
        grad = [lam * wi for wi in w]
        hess = [[0.0] * d for _ in range(d)]
        grad[0] = 0.0
        for i in range(d):
            hess[i][i] = lam if i else 1e-6
        for row, y in zip(rows, ys):
            z = sum(w[j] * v for j, v in row)
            p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
            s = p * (1 - p)
            for j, v in row:
                grad[j] += (p - y) * v
                hj = hess[j]
                for k, u in row:
                    hj[k] += s * v * u
        step = solve(hess, grad)
        w = [wi - si for wi, si in zip(w, step)]
        if max(abs(si) for si in step) < 1e-6:
            break
    return {k: w[i] for k, i in idx.items()}, w[0]


def solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a is positive definite here)."""
    n = len(b)
    m = [row[:] + [bi] for row, bi in zip(a, b)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[piv] = m[piv], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            if f:
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        out[r] = (m[r][n] - sum(m[r][k] * out[k] for k in range(r + 1, n))) / m[r][r]
    return out


def prob(w: dict, b: float, x: dict) -> float:
    z = b + sum(w.get(k, 0.0) * v for k, v in x.items())
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def folds(ys: list[int], k: int, seed: int) -> list[int]:
    """Fold number per item, stratified by label."""
    rng = random.Random(seed)
    out = [0] * len(ys)
    for label in (0, 1):
        members = [i for i, y in enumerate(ys) if y == label]
        rng.shuffle(members)
        for n, i in enumerate(members):
            out[i] = n % k
    return out


def cv_probs(data, lam: float, k: int = 5, seeds=(1, 2)) -> list[list[float]]:
    """Out-of-fold probabilities (gate failures are 0) for each repeat of k-fold CV."""
    ys = [y for _, y, _ in data]
    runs = []
    for seed in seeds:
        fold = folds(ys, k, seed)
        probs = [0.0] * len(data)
        for f in range(k):
            train = [(x, y) for (x, y, gate), g in zip(data, fold) if g != f and gate]
            w, b = fit([x for x, _ in train], [y for _, y in train], lam)
            for i, (x, _, gate) in enumerate(data):
                if fold[i] == f and gate:
                    probs[i] = prob(w, b, x)
        runs.append(probs)
    return runs


def prf(probs: list[float], ys: list[int], t: float) -> tuple[float, float, float]:
    tp = sum(1 for p, y in zip(probs, ys) if p >= t and y)
    fp = sum(1 for p, y in zip(probs, ys) if p >= t and not y)
    fn = sum(1 for p, y in zip(probs, ys) if p < t and y)
    pr = tp / (tp + fp) if tp + fp else 0.0
    rc = tp / (tp + fn) if tp + fn else 0.0
    return pr, rc, (2 * pr * rc / (pr + rc) if pr + rc else 0.0)


def train(clf: Classifier, rows, corpus, lams=(0.3, 1.0, 3.0, 10.0)) -> None:
    """Choose the L2 strength and threshold by 5-fold CV on dev, fit on all of dev,
    write the weights."""
    data = [(*clf.features(*story_text(corpus[link])), label)
            for link, label, _ in rows if link in corpus]
    data = [(x, y, gate) for x, gate, y in data]
    ys = [y for _, y, _ in data]
    best = None
    for lam in lams:
        runs = cv_probs(data, lam)
        for t in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
            scores = [prf(run, ys, t) for run in runs]
            p, r, f1 = (sum(s[i] for s in scores) / len(scores) for i in range(3))
            print(f"cv: lambda={lam:<5g} threshold={t:.2f} precision={p:.3f} recall={r:.3f} f1={f1:.3f}")
            if best is None or f1 > best[0]:
                best = (f1, lam, t, p, r)
    f1, lam, t, p, r = best
    train_set = [(x, y) for x, y, gate in data if gate]
    w, b = fit([x for x, _ in train_set], [y for _, y in train_set], lam)
    doc = {"about": "logistic regression over feeds.classify.story_features, trained by "
                    "bench/eval_classify.py --train on tests/data/devset.tsv",
           "lambda": lam, "threshold": t, "cv": {"precision": round(p, 3), "recall": round(r, 3),
                                                  "f1": round(f1, 3)},
           "bias": round(b, 4),
           "weights": {k: round(v, 4) for k, v in sorted(w.items(), key=lambda kv: -abs(kv[1]))}}
    MODEL_FILE.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"train: lambda={lam:g} threshold={t:.2f} cv precision={p:.3f} recall={r:.3f} "
          f"f1={f1:.3f}; wrote {MODEL_FILE.relative_to(ROOT)}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--set", choices=["dev", "test", "both"], default="both")
    ap.add_argument("--show", type=int, default=10, help="confusions to list per set")
    ap.add_argument("--threshold", type=float,
                    help="override the verdict threshold: the learned layer's probability, or with --rules the score")
    ap.add_argument("--user-file", type=Path, help="extra gazetteer TOML")
    ap.add_argument("--speed", action="store_true", help="also time the whole corpus")
    ap.add_argument("--train", action="store_true",
                    help="fit the learned layer on dev (5-fold CV for its settings), write its weights")
    ap.add_argument("--rules", action="store_true", help="score with the rules alone (no learned layer)")
    args = ap.parse_args(argv)
    if not args.corpus.exists():
        print(f"eval_classify: corpus {args.corpus} not found (use --corpus)", file=sys.stderr)
        return 2
    gz = load_gazetteer(args.user_file)
    if args.threshold is not None:
        gz.rules.setdefault("score" if args.rules else "model", {})["threshold"] = args.threshold
    if args.rules or args.train:
        gz.rules["model"] = {**gz.rules.get("model", {}), "enabled": False}
    clf = Classifier(gz)
    corpus = load_corpus(args.corpus)
    if args.train:
        train(clf, load_labels(SETS["dev"]), corpus)
        return 0
    for name in (["dev", "test"] if args.set == "both" else [args.set]):
        evaluate(clf, load_labels(SETS[name]), corpus, args.show, name)
    if args.speed:
        speed(clf, corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
