"""The model families of bench/eval_nonlin.py: the labelled items as matrices, and how
each family fits on training items and scores others (needs numpy, scipy, scikit-learn).

Every family sees the items past the AI gate only (as the shipped layer does: gate
failures are not strategy) and the same inputs: the cue features of
`feeds.features.story_features` and the headline's words and pairs, whose vocabulary
`trainer.vocabulary` chooses from the training items of each fit.
"""
from __future__ import annotations

import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cv_by_set as cbs  # noqa: E402
from bench import eval_classify as ev  # noqa: E402
from bench import trainer as tr  # noqa: E402
from bench.eval_embed import fit_logistic  # noqa: E402

SETS = "dev,test,fresh-dev,fresh-test,fresh2,fresh3,fresh4"
STACK_LR = {"lambda": 3.0, "lambda_words": 10.0}   # the shipped layer's setting, for the word score


class Data:
    """The pooled items (features, label, gate, outlet), their sets, and their matrices
    per (training items, scored items), cached: every setting of a grid reads the same folds."""

    def __init__(self, lead_chars: int = 0):
        lexical = {"bigrams": True, "lead_chars": lead_chars}
        self.items, self.tags, _, _ = cbs.pooled_items(ev.set_names(SETS), lexical)
        self.y = np.array([d[1] for d in self.items], dtype=float)
        self.gate = np.array([d[2] for d in self.items], dtype=bool)
        self._cache: dict = {}

    def matrix(self, train, test, words: bool = True, inter: int = 0, cache: bool = True):
        """(train matrix, test matrix, column names): cues, words in the training items'
        vocabulary, and products of cue pairs present together in >= `inter` training items."""
        key = (tuple(train), tuple(test), words, inter)
        if key in self._cache:
            return self._cache[key]
        vocab = tr.vocabulary([self.items[i] for i in train]) if words else set()
        pairs = cue_pairs([self.items[i][0] for i in train], inter) if inter else []
        xs = {i: expand(self.items[i][0], vocab, words, pairs) for i in list(train) + list(test)}
        names = sorted({k for i in train for k in xs[i]})
        col = {k: j for j, k in enumerate(names)}
        out = (sparse(xs, train, col), sparse(xs, test, col), names)
        if cache:
            self._cache[key] = out
        return out

    def word_scores(self, train, test):
        """The logistic layer's word score (the words' part of its log-odds) for the
        training items, out-of-fold by an inner 5-fold split, and for the test items,
        from a fit on all the training items."""
        key = ("words", tuple(train), tuple(test))
        if key not in self._cache:
            inner = tr.folds([int(self.y[i]) for i in train], 5, 99)
            train_scores = np.zeros(len(train))
            for f in range(5):
                fit_on = [i for i, g in zip(train, inner) if g != f]
                held = [j for j, g in enumerate(inner) if g == f]
                train_scores[held] = self._word_part(fit_on, [train[j] for j in held])
            self._cache[key] = (train_scores, self._word_part(train, test))
        return self._cache[key]

    def _word_part(self, train, test):
        a, b, names = self.matrix(train, test, cache=False)
        words = np.array([k.startswith(tr.PREFIX) for k in names])
        w, _ = fit_logistic(a, self.y[train], penalties(names, STACK_LR))
        return b @ np.where(words, w, 0.0)


def expand(x: dict, vocab: set, words: bool, pairs: list) -> dict:
    out = {k: v for k, v in x.items() if not k.startswith(tr.PREFIX) or (words and k in vocab)}
    for a, b in pairs:
        if a in x and b in x:
            out[f"{a}*{b}"] = x[a] * x[b]
    return out


def cue_pairs(xs: list[dict], min_items: int) -> list[tuple[str, str]]:
    """Pairs of cue features present together in at least `min_items` of these items."""
    seen: Counter = Counter()
    for x in xs:
        seen.update(combinations(sorted(k for k in x if not k.startswith(tr.PREFIX)), 2))
    return sorted(pair for pair, n in seen.items() if n >= min_items)


def sparse(xs: dict, idx, col: dict):
    from scipy.sparse import csr_matrix
    cells = [(r, col[k], v) for r, i in enumerate(idx) for k, v in xs[i].items() if k in col]
    rr, cc, vv = zip(*cells) if cells else ((), (), ())
    return csr_matrix((vv, (rr, cc)), shape=(len(idx), len(col)))


def penalties(names: list[str], s: dict) -> np.ndarray:
    """L2 strength per column: words, cue products and cues each their own."""
    return np.array([s["lambda_words"] if k.startswith(tr.PREFIX) else
                     s.get("lambda_inter", s["lambda"]) if "*" in k else s["lambda"] for k in names])


# ---- families: fit on gated training items, probabilities for gated test items ----------
def fit_lr(d: Data, train, test, s: dict) -> np.ndarray:
    from scipy.special import expit
    a, b, names = d.matrix(train, test, inter=s.get("inter", 0))
    w, b0 = fit_logistic(a, d.y[train], penalties(names, s))
    return expit(b @ w + b0)


def boosted(s: dict):
    from sklearn.ensemble import HistGradientBoostingClassifier
    return HistGradientBoostingClassifier(
        max_depth=s["depth"], learning_rate=s["rate"], max_iter=s["trees"], min_samples_leaf=20,
        l2_regularization=1.0, early_stopping=False, random_state=0)


def fit_gbt(d: Data, train, test, s: dict) -> np.ndarray:
    a, b, _ = d.matrix(train, test, words=s["words"])
    model = boosted(s).fit(a.toarray(), d.y[train])
    return model.predict_proba(b.toarray())[:, 1]


def fit_stack(d: Data, train, test, s: dict) -> np.ndarray:
    a, b, _ = d.matrix(train, test, words=False)
    sa, sb = d.word_scores(train, test)
    model = boosted(s).fit(np.column_stack([a.toarray(), sa]), d.y[train])
    return model.predict_proba(np.column_stack([b.toarray(), sb]))[:, 1]


class Family:
    """A name, a grid of settings and a fit; fit_predict scores every test item (0 for
    those the AI gate stops), as eval_embed's Runner expects."""

    def __init__(self, name: str, grid: list[dict], fit):
        self.name, self.grid, self._fit = name, grid, fit

    def fit_predict(self, d: Data, train, test, s: dict) -> np.ndarray:
        train = [i for i in train if d.gate[i]]
        scored = [i for i in test if d.gate[i]]
        probs = dict(zip(scored, self._fit(d, train, scored, s))) if scored else {}
        return np.array([probs.get(i, 0.0) for i in test])


def families(depths=(2, 3), trees=(100, 300), inter_lambdas=(3, 10, 30, 100),
             inter_min: int = 30) -> dict[str, Family]:
    """The families and their grids (trees at learning rate 0.1)."""
    lr = [{"lambda": lam, "lambda_words": lw} for lam in (0.3, 1, 3) for lw in (10, 30)]
    inter = [{"lambda": lam, "lambda_words": lw, "lambda_inter": li, "inter": inter_min}
             for lam in (1, 3) for lw in (10, 30) for li in inter_lambdas]
    trees = [{"depth": depth, "rate": 0.1, "trees": n} for depth in depths for n in trees]
    return {f.name: f for f in (
        Family("lr", lr, fit_lr), Family("lr-inter", inter, fit_lr),
        Family("gbt", [{**s, "words": False} for s in trees], fit_gbt),
        Family("gbt-words", [{**s, "words": True} for s in trees], fit_gbt),
        Family("stack", trees, fit_stack))}


def describe(s) -> str:
    if not isinstance(s, dict):
        return str(s)
    short = {"lambda": "l", "lambda_words": "lw", "lambda_inter": "li"}
    return " ".join(f"{short.get(k, k)}={v:g}" for k, v in s.items() if not isinstance(v, bool))
