"""The learned layer's trainer: L2-regularised logistic regression, repeated stratified
k-fold CV, the choice of penalty and threshold, and the temporal check.

Pure Python over sparse rows (a few seconds for ~2,000 items), so the bench needs no
numerical library. `bench/eval_classify.py --train` and `bench/cv_by_set.py` drive it.
"""
from __future__ import annotations

import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feeds.lexical import PREFIX, in_vocabulary  # noqa: E402


def fit(xs: list[dict], ys: list[int], lam: float, lam_words: float | None = None,
        iters: int = 400, balanced: bool = False,
        prior: tuple[dict, float] | None = None) -> tuple[dict, float]:
    """L2-regularised logistic regression by L-BFGS (pure Python over sparse rows: a few
    thousand word features are too many for Newton's dense Hessian). Word features
    (`w:`) take their own, stronger penalty; the bias is not penalised. `balanced`
    weighs each class by n / (2 n_class), so the rarer class counts as much in all.

    `prior` (weights, bias), e.g. the shipped model: the penalty pulls each weight towards
    its prior value instead of 0, so new items refine a model whose own training items
    are no longer at hand; the prior's features absent from `xs` keep their weights."""
    names = sorted({k for x in xs for k in x})
    idx = {k: i + 1 for i, k in enumerate(names)}       # 0 is the bias
    rows = [([0] + [idx[k] for k in x], [1.0] + list(x.values())) for x in xs]
    lw = lam if lam_words is None else lam_words
    pen = [0.0] + [lw if k.startswith(PREFIX) else lam for k in names]
    cw = class_weights(ys) if balanced else (1.0, 1.0)
    sw = [cw[y] for y in ys]
    pw, pb = prior or ({}, 0.0)
    w0 = [pb] + [pw.get(k, 0.0) for k in names]

    def loss_grad(w: list[float]) -> tuple[float, list[float]]:
        d = [wi - ci for wi, ci in zip(w, w0)]
        g = [p * di for p, di in zip(pen, d)]
        loss = 0.5 * sum(p * di * di for p, di in zip(pen, d))
        for (ix, vs), y, c in zip(rows, ys, sw):
            z = sum(w[j] * v for j, v in zip(ix, vs))
            e = math.exp(-abs(z))
            loss += c * (math.log1p(e) + (max(z, 0.0) - y * z))
            r = c * ((1 / (1 + e) if z >= 0 else e / (1 + e)) - y)
            for j, v in zip(ix, vs):
                g[j] += r * v
        return loss, g

    w = lbfgs(loss_grad, w0[:], iters)
    return {**pw, **{k: w[i] for k, i in idx.items()}}, w[0]


def class_weights(ys: list[int]) -> tuple[float, float]:
    n, pos = len(ys), sum(ys)
    return (n / (2 * max(1, n - pos)), n / (2 * max(1, pos)))


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
    prior = settings.get("prior")
    vocab = vocabulary(data, settings["min_docs"], settings["min_outlets"])
    if prior:   # the prior's words were chosen on its own items: they stay in play
        vocab |= {k for k in prior[0] if k.startswith(PREFIX)}
    train = [(restrict(x, vocab), y) for x, y, gate, _ in data if gate]
    return fit([x for x, _ in train], [y for _, y in train], settings["lambda"],
               settings["lambda_words"], balanced=settings.get("balanced", False), prior=prior)


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


def mean_prf(runs: list[list[float]], ys: list[int], t: float,
             keep=None) -> tuple[float, float, float]:
    """Precision, recall, F1 at threshold t, averaged over the CV repeats; `keep`: only
    these items (a part of the pooled set)."""
    keep = range(len(ys)) if keep is None else keep
    scores = [prf([run[i] for i in keep], [ys[i] for i in keep], t) for run in runs]
    return tuple(sum(s[k] for s in scores) / len(scores) for k in range(3))


def cv_table(data, grid: list[dict], seeds, verbose: bool = True) -> tuple:
    """Mean CV precision, recall, F1 per setting and threshold. The choice: the best F1
    among those with precision >= recall (a wrong post costs a reader more than a missed
    story, and the target asks more of precision), else the best F1. Returns (f1,
    settings, threshold, precision, recall, the chosen setting's out-of-fold runs)."""
    ys = [item[1] for item in data]
    table = []
    for settings in grid:
        runs = cv_probs(data, settings, seeds=seeds)
        for t in THRESHOLDS:
            p, r, f1 = mean_prf(runs, ys, t)
            if verbose:
                print(f"cv: lambda={settings['lambda']:<4g} words={settings['lambda_words']:<4g} "
                      f"threshold={t:.2f} precision={p:.3f} recall={r:.3f} f1={f1:.3f}")
            table.append((f1, settings, t, p, r, runs))
    balanced = [row for row in table if row[3] >= row[4]]
    return max(balanced or table, key=lambda row: row[0])


def temporal(older, newer, grid: list[dict], seeds) -> tuple:
    """The held-out test's question: settings and threshold chosen by CV on the older
    items alone, fitted on all of them, then scored on the newer ones. Returns (settings,
    threshold, (precision, recall, F1) on the newer items, their probabilities, and the
    newer items' F1 for every setting of the grid, each at its own CV threshold): the
    choice between settings flips on small differences, so the mean over the grid says
    more about a vocabulary change than the chosen setting's figure alone."""
    ys = [item[1] for item in newer]
    chosen, per_setting = None, []
    for settings in grid:
        f1, _, t, p, r, _ = cv_table(older, [settings], seeds, verbose=False)
        w, b = fit_items(older, settings)
        probs = [prob(w, b, x) if gate else 0.0 for x, _, gate, _ in newer]
        per_setting.append(prf(probs, ys, t)[2])
        if chosen is None or (p >= r, f1) > chosen[0]:   # cv_table's rule across the grid
            chosen = ((p >= r, f1), settings, t, probs)
    _, settings, t, probs = chosen
    return settings, t, prf(probs, ys, t), probs, per_setting
