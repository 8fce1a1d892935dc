"""Evaluate feeds/classify.py against hand-labelled news items.

The labels (tests/data/devset.tsv, tests/data/testset.tsv) hold only links; the text is
read from the shared corpus by link, because the outlets' text is not ours to commit.

    .venv/bin/python bench/eval_classify.py                  # dev and test sets
    .venv/bin/python bench/eval_classify.py --set test --show 20
    .venv/bin/python bench/eval_classify.py --rules             # the rule score alone
    .venv/bin/python bench/eval_classify.py --train             # CV, then write the weights
    .venv/bin/python bench/eval_classify.py --train --fit-on dev,test --no-words
    .venv/bin/python bench/eval_classify.py --speed             # time with and without the words
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
from feeds.lexical import PREFIX, in_vocabulary, word_features  # noqa: E402

# The shared corpus sits beside the main checkout; worktrees live one level deeper.
DEFAULT_CORPUS = next((p / "shared" / "corpus" / "news" / "items.jsonl" for p in ROOT.parents[:2]
                       if (p / "shared" / "corpus" / "news" / "items.jsonl").exists()),
                      ROOT.parent / "shared" / "corpus" / "news" / "items.jsonl")
# The fresh set's items (2024-25 feed entries, see tests/data/freshset-sources.tsv) are
# kept outside the repository for the same reason; --corpus names another copy.
FRESH_CORPUS = next((p / "fresh" / "items.jsonl" for p in ROOT.parents[:2]
                     if (p / "fresh" / "items.jsonl").exists()), ROOT.parent / "fresh" / "items.jsonl")
SETS = {"dev": ROOT / "tests" / "data" / "devset.tsv", "test": ROOT / "tests" / "data" / "testset.tsv",
        "fresh-dev": ROOT / "tests" / "data" / "fresh-dev.tsv",
        "fresh-test": ROOT / "tests" / "data" / "fresh-test.tsv"}


def plain(html: str | None) -> str:
    """The story text the pipeline would hand over (parser's html_to_text when present)."""
    if not html:
        return ""
    try:
        from feeds.text import html_to_text
        return html_to_text(html)
    except ImportError:  # the parser module is another stage's; keep the bench standalone
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def load_corpus(*paths: Path) -> dict[str, dict]:
    items = {}
    for path in paths:
        with path.open(encoding="utf-8") as f:
            items.update((item["link"], item) for item in map(json.loads, f))
    return items


def load_labels(path: Path) -> list[tuple[str, int, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            link, label, *reason = line.rstrip("\r").split("\t", 2)   # the reason is optional
            rows.append((link.strip(), int(label), reason[0] if reason else ""))
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


def farm_stories(n_feeds: int) -> list[tuple[str, str]]:
    """The backfill benchmark's stories (bench/bench_backfill.py's feed farm), parsed."""
    from bench.bench_backfill import feed_bytes
    from feeds.parser import parse_feed
    return [(s.title, s.text) for url, body in feed_bytes(n_feeds)
            for s in parse_feed(body, feed_url=url).stories]


def speed(clf: Classifier, stories: list[tuple[str, str]], passes: int = 9) -> None:
    """Stories per second over the whole corpus, with the shipped model and with its word
    features switched off, passes interleaved (the machine is shared, so the two see the
    same load) after one warm-up pass each; medians and their ratio. CPU time of this
    process, not wall time: on a shared machine the wall clock also counts the others."""
    import copy
    import statistics
    plain_clf = copy.copy(clf)
    if clf._model is not None:
        plain_clf._model = copy.copy(clf._model)
        plain_clf._model.lexical = None
    times: dict[str, list[float]] = {"with words": [], "without words": []}
    for n in range(passes + 1):
        for name, c in (("with words", clf), ("without words", plain_clf))[::1 if n % 2 else -1]:
            start = time.process_time()
            for title, text in stories:
                c.classify(title, text)
            if n:
                times[name].append(time.process_time() - start)
    med = {name: statistics.median(t) for name, t in times.items()}
    chars = sum(len(t) + len(x) for t, x in stories)
    print(f"speed: {len(stories)} stories ({chars / len(stories):.0f} chars avg), median of {passes}: "
          + ", ".join(f"{name} {len(stories) / m:.0f} stories/s" for name, m in med.items())
          + f"; time ratio with/without words {med['with words'] / med['without words']:.3f}")


# ---- training the learned layer (--train) ---------------------------------------------
MODEL_FILE = ROOT / "feeds" / "data" / "strategy_model.json"


def fit(xs: list[dict], ys: list[int], lam: float, lam_words: float | None = None,
        iters: int = 400) -> tuple[dict, float]:
    """L2-regularised logistic regression by L-BFGS (pure Python over sparse rows: a few
    thousand word features are too many for Newton's dense Hessian). Word features
    (`w:`) take their own, stronger penalty; the bias is not penalised."""
    names = sorted({k for x in xs for k in x})
    idx = {k: i + 1 for i, k in enumerate(names)}       # 0 is the bias
    rows = [([0] + [idx[k] for k in x], [1.0] + list(x.values())) for x in xs]
    lw = lam if lam_words is None else lam_words
    pen = [0.0] + [lw if k.startswith(PREFIX) else lam for k in names]

    def loss_grad(w: list[float]) -> tuple[float, list[float]]:
        g = [p * wi for p, wi in zip(pen, w)]
        loss = 0.5 * sum(p * wi * wi for p, wi in zip(pen, w))
        for (ix, vs), y in zip(rows, ys):
            z = sum(w[j] * v for j, v in zip(ix, vs))
            e = math.exp(-abs(z))
            loss += math.log1p(e) + (max(z, 0.0) - y * z)
            r = (1 / (1 + e) if z >= 0 else e / (1 + e)) - y
            for j, v in zip(ix, vs):
                g[j] += r * v
        return loss, g

    w = lbfgs(loss_grad, [0.0] * (len(names) + 1), iters)
    return {k: w[i] for k, i in idx.items()}, w[0]


def lbfgs(loss_grad, w: list[float], iters: int, m: int = 10, tol: float = 1e-6) -> list[float]:
    """Minimise a smooth convex function: L-BFGS two-loop recursion, backtracking line
    search (Armijo)."""
    loss, g = loss_grad(w)
    hist: list[tuple[list[float], list[float], float]] = []
    for _ in range(iters):
        q = g[:]
        alphas = []
        for s, y, rho in reversed(hist):
            a = rho * _dot(s, q)
            alphas.append(a)
            q = [qi - a * yi for qi, yi in zip(q, y)]
        if hist:
            s, y, _ = hist[-1]
            gamma = _dot(s, y) / _dot(y, y)
            q = [gamma * qi for qi in q]
        for (s, y, rho), a in zip(hist, reversed(alphas)):
            b = rho * _dot(y, q)
            q = [qi + (a - b) * si for qi, si in zip(q, s)]
        slope = -_dot(g, q)
        if slope >= 0:   # not a descent direction: restart from the gradient
            hist, q, slope = [], g[:], -_dot(g, g)
        step = 1.0 if hist else 1.0 / max(1.0, math.sqrt(-slope))
        while True:
            cand = [wi - step * qi for wi, qi in zip(w, q)]
            new_loss, new_g = loss_grad(cand)
            if new_loss <= loss + 1e-4 * step * slope or step < 1e-10:
                break
            step /= 2
        s = [c - wi for c, wi in zip(cand, w)]
        y = [a - b for a, b in zip(new_g, g)]
        sy = _dot(s, y)
        if sy > 1e-12:
            hist = (hist + [(s, y, 1 / sy)])[-m:]
        done = loss - new_loss < tol * max(1.0, abs(loss))
        w, loss, g = cand, new_loss, new_g
        if done and max(map(abs, g)) < 1e-3:
            break
    return w


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


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


def vocabulary(data, min_docs: int = 3, min_outlets: int = 2) -> set[str]:
    """Word features seen in at least min_docs items from at least min_outlets outlets
    (of the items the layer trains on; rarer words would memorise single stories or one
    outlet's habits), less outlet names and stopwords (feeds.lexical.in_vocabulary)."""
    docs: dict[str, int] = {}
    outlets: dict[str, set[str]] = {}
    for x, _, gate, outlet in data:
        if gate:
            for k in x:
                if k.startswith(PREFIX) and in_vocabulary(k[len(PREFIX):]):
                    docs[k] = docs.get(k, 0) + 1
                    outlets.setdefault(k, set()).add(outlet)
    return {k for k, n in docs.items() if n >= min_docs and len(outlets[k]) >= min_outlets}


def restrict(x: dict, vocab: set[str]) -> dict:
    return {k: v for k, v in x.items() if not k.startswith(PREFIX) or k in vocab}


def fit_items(data, settings: dict) -> tuple[dict, float]:
    """Fit on the items that pass the AI gate, words limited to their vocabulary."""
    vocab = vocabulary(data, settings["min_docs"], settings["min_outlets"])
    train = [(restrict(x, vocab), y) for x, y, gate, _ in data if gate]
    return fit([x for x, _ in train], [y for _, y in train], settings["lambda"],
               settings["lambda_words"])


def cv_probs(data, settings: dict, k: int = 5, seeds=(1, 2)) -> list[list[float]]:
    """Out-of-fold probabilities (gate failures are 0) for each repeat of k-fold CV; the
    word vocabulary is chosen inside each fold, from its training items only."""
    ys = [item[1] for item in data]
    runs = []
    for seed in seeds:
        fold = folds(ys, k, seed)
        probs = [0.0] * len(data)
        for f in range(k):
            w, b = fit_items([d for d, g in zip(data, fold) if g != f], settings)
            for i, (x, _, gate, _) in enumerate(data):
                if fold[i] == f and gate:
                    probs[i] = prob(w, b, x)   # words outside the vocabulary weigh 0
        runs.append(probs)
    return runs


def prf(probs: list[float], ys: list[int], t: float) -> tuple[float, float, float]:
    tp = sum(1 for p, y in zip(probs, ys) if p >= t and y)
    fp = sum(1 for p, y in zip(probs, ys) if p >= t and not y)
    fn = sum(1 for p, y in zip(probs, ys) if p < t and y)
    pr = tp / (tp + fp) if tp + fp else 0.0
    rc = tp / (tp + fn) if tp + fn else 0.0
    return pr, rc, (2 * pr * rc / (pr + rc) if pr + rc else 0.0)


THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)


def labelled_items(clf: Classifier, rows, corpus, lexical: dict | None) -> list[tuple]:
    """(features, label, passes the AI gate, outlet) per labelled item in the corpus;
    with lexical settings, the headline's and lead's words join the cue features."""
    data = []
    for link, label, _ in rows:
        if link in corpus:
            title, text = story_text(corpus[link])
            x, gate = clf.features(title, text)
            if lexical:
                x.update(dict.fromkeys(word_features(title, text, lexical["bigrams"],
                                                     lexical["lead_chars"]), 1.0))
            data.append((x, label, gate, corpus[link].get("outlet", "")))
    return data


def cv_table(data, grid: list[dict], seeds) -> tuple:
    """Mean CV precision, recall, F1 per setting and threshold. The choice: the best F1
    among those with precision >= recall (a wrong post costs a reader more than a missed
    story, and the target asks more of precision), else the best F1."""
    ys = [item[1] for item in data]
    table = []
    for settings in grid:
        runs = cv_probs(data, settings, seeds=seeds)
        for t in THRESHOLDS:
            scores = [prf(run, ys, t) for run in runs]
            p, r, f1 = (sum(s[i] for s in scores) / len(scores) for i in range(3))
            print(f"cv: lambda={settings['lambda']:<4g} words={settings['lambda_words']:<4g} "
                  f"threshold={t:.2f} precision={p:.3f} recall={r:.3f} f1={f1:.3f}")
            table.append((f1, settings, t, p, r))
    balanced = [row for row in table if row[3] >= row[4]]
    return max(balanced or table, key=lambda row: row[0])


def train(clf: Classifier, rows, corpus, lexical: dict | None, grid: list[dict],
          fit_on: str = "dev", seeds=(1, 2, 3, 4, 5)) -> None:
    """Choose the L2 strengths and threshold by 5-fold CV (repeated) on the labelled
    rows, fit on all of them, write the weights."""
    data = labelled_items(clf, rows, corpus, lexical)
    f1, settings, t, p, r = cv_table(data, grid, seeds)
    w, b = fit_items(data, settings)
    doc = {"about": "logistic regression over feeds.classify.story_features and feeds.lexical "
                    f"words, trained by bench/eval_classify.py --train on {fit_on}",
           "lambda": settings["lambda"], "lambda_words": settings["lambda_words"],
           "min_docs": settings["min_docs"], "min_outlets": settings["min_outlets"],
           "threshold": t, "cv": {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f1, 3)},
           "lexical": lexical, "bias": round(b, 4),
           "weights": {k: round(v, 4) for k, v in sorted(w.items(), key=lambda kv: -abs(kv[1]))
                       if round(v, 4)}}
    MODEL_FILE.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"train: lambda={settings['lambda']:g} words={settings['lambda_words']:g} threshold={t:.2f} "
          f"cv precision={p:.3f} recall={r:.3f} f1={f1:.3f}; {len(doc['weights'])} weights; "
          f"wrote {MODEL_FILE.relative_to(ROOT)}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--fresh-corpus", type=Path, default=FRESH_CORPUS,
                    help="the fresh set's items (read when present)")
    ap.add_argument("--set", choices=["dev", "test", "both", "fresh-dev", "fresh-test"],
                    help="labelled sets to score (default both; none with --speed alone, so timing "
                         "never prints held-out figures)")
    ap.add_argument("--show", type=int, default=10, help="confusions to list per set")
    ap.add_argument("--threshold", type=float,
                    help="override the verdict threshold: the learned layer's probability, or with --rules the score")
    ap.add_argument("--user-file", type=Path, help="extra gazetteer TOML")
    ap.add_argument("--speed", action="store_true",
                    help="also time the whole corpus, with and without the word features")
    ap.add_argument("--farm", type=int, metavar="FEEDS",
                    help="with --speed: time the backfill benchmark's FEEDS farm feeds, not the corpus")
    ap.add_argument("--rules", action="store_true", help="score with the rules alone (no learned layer)")
    tr = ap.add_argument_group("training (--train)")
    tr.add_argument("--train", action="store_true",
                    help="fit the learned layer (repeated 5-fold CV for its settings), write its weights")
    tr.add_argument("--fit-on", default="dev", help="labelled sets to train on, e.g. dev or dev,test")
    tr.add_argument("--no-words", action="store_true", help="cue features only, no feeds.lexical words")
    tr.add_argument("--no-bigrams", action="store_true", help="single words only")
    tr.add_argument("--lead-chars", type=int, default=0,
                    help="characters of the text read for words besides the headline (shipped: 0)")
    tr.add_argument("--lambdas", default="0.3,1,3", help="L2 strengths tried for the cue features")
    tr.add_argument("--lambda-words", default="3,10,30", help="L2 strengths tried for the word features")
    tr.add_argument("--min-docs", type=int, default=3, help="a word must be in this many training items")
    tr.add_argument("--min-outlets", type=int, default=2, help="... from this many outlets")
    tr.add_argument("--repeats", type=int, default=5, help="shuffles of the 5-fold CV")
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
    corpus = load_corpus(args.corpus, *[p for p in [args.fresh_corpus] if p.exists()])
    if args.train:
        return train_main(clf, corpus, args)
    chosen = args.set or ("none" if args.speed else "both")
    for name in {"both": ["dev", "test"], "none": []}.get(chosen, [chosen]):
        evaluate(clf, load_labels(SETS[name]), corpus, args.show, name)
    if args.speed:
        speed(clf, farm_stories(args.farm) if args.farm else [story_text(i) for i in corpus.values()])
    return 0


def train_main(clf: Classifier, corpus: dict, args) -> int:
    names = [n.strip() for n in args.fit_on.split(",") if n.strip()]
    unknown = [n for n in names if n not in SETS]
    if unknown or not names:
        print(f"eval_classify: --fit-on takes names of labelled sets (dev, test, fresh-dev), not {args.fit_on!r}",
              file=sys.stderr)
        return 2
    rows = [row for n in names for row in load_labels(SETS[n])]
    lexical = None if args.no_words else {"bigrams": not args.no_bigrams, "lead_chars": args.lead_chars}
    floats = lambda text: [float(v) for v in text.split(",")]   # noqa: E731
    grid = [{"lambda": lam, "lambda_words": lw, "min_docs": args.min_docs, "min_outlets": args.min_outlets}
            for lam in floats(args.lambdas) for lw in floats(args.lambda_words)]
    train(clf, rows, corpus, lexical, grid, "+".join(names), seeds=tuple(range(1, args.repeats + 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
