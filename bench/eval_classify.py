"""Evaluate feeds/classify.py against hand-labelled news items.

The labels (tests/data/devset.tsv, tests/data/testset.tsv) hold only links; the text is
read from the shared corpus by link, because the outlets' text is not ours to commit.

    .venv/bin/python bench/eval_classify.py                  # dev and test sets
    .venv/bin/python bench/eval_classify.py --set test --show 20
    .venv/bin/python bench/eval_classify.py --rules             # the rule score alone
    .venv/bin/python bench/eval_classify.py --train             # CV, then write the weights
    .venv/bin/python bench/eval_classify.py --train --prior feeds/data/strategy_model.json \
        --fit-on dev,test,zh1,zh2,zh3,fresh5,fresh6,fresh7,fresh8 \
        --lambdas 3,10,30,100 --lambda-words 10,30,100,300   # as shipped (docs/classifier.md)
    .venv/bin/python bench/eval_classify.py --train --fit-on dev,test --no-words
    .venv/bin/python bench/eval_classify.py --speed             # time with and without the words
    .venv/bin/python bench/eval_classify.py --corpus other/items.jsonl --threshold 0.5
    .venv/bin/python bench/eval_classify.py --set fresh-test --llm-judge   # with the LLM judge
    .venv/bin/python bench/eval_classify.py --set fresh7 --llm-judge --replay tests/data/judge-answers.jsonl
    .venv/bin/python bench/eval_classify.py --extra-set new --extra-items new.jsonl \
        --extra-labels new.tsv --show 0          # score a set kept outside the repository
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds.classify import Classifier, load_gazetteer  # noqa: E402
from feeds.lexical import word_features  # noqa: E402
from bench.trainer import cv_table, fit_items  # noqa: E402

# The shared corpus sits beside the main checkout; worktrees live one level deeper.
DEFAULT_CORPUS = next((p / "shared" / "corpus" / "news" / "items.jsonl" for p in ROOT.parents[:2]
                       if (p / "shared" / "corpus" / "news" / "items.jsonl").exists()),
                      ROOT.parent / "shared" / "corpus" / "news" / "items.jsonl")
# The fresh set's items (2024-25 feed entries, see tests/data/freshset-sources.tsv) are
# kept outside the repository for the same reason; --corpus names another copy.
def _beside(*parts: str) -> Path:
    """A path next to the main checkout (worktrees live one level deeper)."""
    return next((p.joinpath(*parts) for p in ROOT.parents[:2] if p.joinpath(*parts).exists()),
                ROOT.parent.joinpath(*parts))


FRESH_CORPUS = _beside("fresh", "items.jsonl")
# fresh-test (July 2024-June 2025) was held out until the fifth session; now a training set
FRESH_TEST_CORPUS = _beside("fresh", "held", "items-test.jsonl")
# fresh2 (July-December 2025) was held out until scored once; a development set since
FRESH2_CORPUS = _beside("fresh2", "items.jsonl")
# fresh3 (January-October 2026) likewise: scored once held out, a development set since
FRESH3_CORPUS = _beside("fresh3", "items.jsonl")
# fresh4 (January-October 2026, other days; eighth session): scored held out, a training set since
FRESH4_CORPUS = _beside("fresh4", "items.jsonl")
# zh1 (Chinese outlets, July-August 2026; eleventh session): scored held out, a training set since
ZH1_CORPUS = _beside("zh1", "items.jsonl")
# zh2 (more of the same dump, no event shared with zh1): scored held out once, a training set since
ZH2_CORPUS = _beside("zh2", "items.jsonl")
ZH3_CORPUS = _beside("zh3", "items.jsonl")   # and zh3, after zh2, the same way
# fresh5 (February-October 2026, other archives and outlets; twelfth session)
FRESH5_CORPUS = _beside("fresh5", "items.jsonl")
# fresh6 (the same archives, items fresh5 did not draw; scored held out at the session's end)
FRESH6_CORPUS = _beside("fresh6", "items.jsonl")
# fresh7 (the same archives again, items neither drew; thirteenth session)
FRESH7_CORPUS = _beside("fresh7", "items.jsonl")
FRESH8_CORPUS = _beside("fresh8", "items.jsonl")   # and fresh8, the judge's second held-out look
# fresh9 (fourteenth session): the refined model's and the judge's held-out look
FRESH9_CORPUS = _beside("fresh9", "items.jsonl")
# Each set's items kept outside the repository, by the name of its --NAME-corpus option
ITEMS = {"fresh": FRESH_CORPUS, "fresh-test": FRESH_TEST_CORPUS, "fresh2": FRESH2_CORPUS,
         "fresh3": FRESH3_CORPUS, "fresh4": FRESH4_CORPUS, "zh1": ZH1_CORPUS, "zh2": ZH2_CORPUS,
         "zh3": ZH3_CORPUS, "fresh5": FRESH5_CORPUS,
         "fresh6": FRESH6_CORPUS, "fresh7": FRESH7_CORPUS,
         "fresh8": FRESH8_CORPUS, "fresh9": FRESH9_CORPUS}
SETS = {"dev": ROOT / "tests" / "data" / "devset.tsv", "test": ROOT / "tests" / "data" / "testset.tsv",
        "fresh-dev": ROOT / "tests" / "data" / "fresh-dev.tsv",
        "fresh-test": ROOT / "tests" / "data" / "fresh-test.tsv",
        "fresh2": ROOT / "tests" / "data" / "fresh2.tsv",
        "fresh3": ROOT / "tests" / "data" / "fresh3.tsv",
        "fresh4": ROOT / "tests" / "data" / "fresh4.tsv",
        "zh1": ROOT / "tests" / "data" / "zh1.tsv",
        "zh2": ROOT / "tests" / "data" / "zh2.tsv",
        "zh3": ROOT / "tests" / "data" / "zh3.tsv",
        "fresh5": ROOT / "tests" / "data" / "fresh5.tsv",
        "fresh6": ROOT / "tests" / "data" / "fresh6.tsv",
        "fresh7": ROOT / "tests" / "data" / "fresh7.tsv",
        "fresh8": ROOT / "tests" / "data" / "fresh8.tsv",
        "fresh9": ROOT / "tests" / "data" / "fresh9.tsv"}


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


def speed(clf: Classifier, stories: list[tuple[str, str]], passes: int = 9,
          other: tuple[str, Classifier] | None = None) -> None:
    """Stories per second over the whole corpus, with the shipped model and with its word
    features switched off (or, with `other`, against another classifier: another
    revision's data files), passes interleaved (the machine is shared, so the two see the
    same load) after one warm-up pass each; medians and their ratio. CPU time of this
    process, not wall time: on a shared machine the wall clock also counts the others."""
    import statistics
    if other is None:
        other = ("without words", _without_words(clf))
    pair = (("this tree" if other[0] != "without words" else "with words", clf), other)
    times: dict[str, list[float]] = {name: [] for name, _ in pair}
    for n in range(passes + 1):
        for name, c in pair[::1 if n % 2 else -1]:
            start = time.process_time()
            for title, text in stories:
                c.classify(title, text)
            if n:
                times[name].append(time.process_time() - start)
    med = {name: statistics.median(t) for name, t in times.items()}
    chars = sum(len(t) + len(x) for t, x in stories)
    (a, ta), (b, tb) = med.items()
    print(f"speed: {len(stories)} stories ({chars / len(stories):.0f} chars avg), median of {passes}: "
          + ", ".join(f"{name} {len(stories) / m:.0f} stories/s ({m / len(stories) * 1e6:.0f} us)"
                      for name, m in med.items())
          + f"; time ratio {a}/{b} {ta / tb:.3f}")


def _without_words(clf: Classifier) -> Classifier:
    import copy
    plain_clf = copy.copy(clf)
    if clf._model is not None:
        plain_clf._model = copy.copy(clf._model)
        plain_clf._model.lexical = None
    return plain_clf


def classifier_at(rev: str) -> Classifier:
    """A classifier over revision REV's data files (feeds/data: gazetteer and weights),
    today's code: what a vocabulary or model change costs per story."""
    import subprocess
    import tempfile
    import feeds.gazetteer
    import feeds.learned
    tmp = Path(tempfile.mkdtemp(prefix="ainews-data-"))
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", rev, "feeds/data/"],
                           check=True, capture_output=True, text=True).stdout.split()
    for name in names:
        blob = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{name}"], check=True,
                              capture_output=True).stdout
        (tmp / Path(name).name).write_bytes(blob)
    saved = feeds.gazetteer.DATA
    feeds.gazetteer.DATA = feeds.learned.DATA = tmp
    try:
        return Classifier(load_gazetteer())
    finally:
        feeds.gazetteer.DATA = feeds.learned.DATA = saved


# ---- training the learned layer (--train; the fitting itself is bench/trainer.py) -------
MODEL_FILE = ROOT / "feeds" / "data" / "strategy_model.json"


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


def train(clf: Classifier, rows, corpus, lexical: dict | None, grid: list[dict],
          fit_on: str = "dev", seeds=(1, 2, 3, 4, 5), out: Path = MODEL_FILE) -> None:
    """Choose the L2 strengths and threshold by 5-fold CV (repeated) on the labelled
    rows, fit on all of them, write the weights."""
    data = labelled_items(clf, rows, corpus, lexical)
    f1, settings, t, p, r, _ = cv_table(data, grid, seeds)
    w, b = fit_items(data, settings)
    refined = " (refining a prior model's weights)" if settings.get("prior") else ""
    doc = {"about": "logistic regression over feeds.classify.story_features and feeds.lexical "
                    f"words, trained by bench/eval_classify.py --train on {fit_on}{refined}",
           "lambda": settings["lambda"], "lambda_words": settings["lambda_words"],
           "balanced": settings.get("balanced", False),
           "min_docs": settings["min_docs"], "min_outlets": settings["min_outlets"],
           "threshold": t, "cv": {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f1, 3)},
           "lexical": lexical, "bias": round(b, 4),
           "weights": {k: round(v, 4) for k, v in sorted(w.items(), key=lambda kv: -abs(kv[1]))
                       if round(v, 4)}}
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"train: lambda={settings['lambda']:g} words={settings['lambda_words']:g} threshold={t:.2f} "
          f"cv precision={p:.3f} recall={r:.3f} f1={f1:.3f}; {len(doc['weights'])} weights; "
          f"wrote {out}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    for name, path in ITEMS.items():   # --fresh-corpus, --fresh-test-corpus, ... --zh3-corpus
        ap.add_argument(f"--{name}-corpus", type=Path, default=path, dest=f"items_{name}",
                        help=f"{name}'s items (read when present)")
    ap.add_argument("--set", help="labelled sets to score, comma-separated: dev, test, fresh-dev, "
                                  "fresh-test, fresh2, fresh3, fresh4, zh1, zh2, zh3, fresh5, fresh6, fresh7, fresh8, fresh9, the --extra-set, or both (= dev,test; the default, or the "
                                  "--extra-set alone when one is named; none with --speed alone)")
    ex = ap.add_argument_group("a labelled set kept outside the repository (all three together)")
    ex.add_argument("--extra-set", metavar="NAME", help="its name, for --set and --fit-on")
    ex.add_argument("--extra-items", type=Path, metavar="JSONL",
                    help="its items, one JSON object a line: link, title, summary (or content_html), outlet")
    ex.add_argument("--extra-labels", type=Path, metavar="TSV",
                    help="its labels: link, label (1 = AI strategy), optional reason, tab-separated")
    ap.add_argument("--show", type=int, default=10, help="confusions to list per set")
    ap.add_argument("--threshold", type=float,
                    help="override the verdict threshold: the learned layer's probability, or with --rules the score")
    ap.add_argument("--user-file", type=Path, help="extra gazetteer TOML")
    ap.add_argument("--speed", action="store_true",
                    help="also time the whole corpus, with and without the word features")
    ap.add_argument("--against", metavar="REV",
                    help="with --speed: time against revision REV's data files (gazetteer and weights)")
    ap.add_argument("--farm", type=int, metavar="FEEDS",
                    help="with --speed: time the backfill benchmark's FEEDS farm feeds, not the corpus")
    ap.add_argument("--rules", action="store_true", help="score with the rules alone (no learned layer)")
    ap.add_argument("--llm-judge", action="store_true",
                    help="also run the LLM judge over the sets through the configured endpoint "
                         "(LLM_* settings; bench/eval_judge.py)")
    ap.add_argument("--replay", type=Path, metavar="ANSWERS",
                    help="with --llm-judge: answer from recorded answers (bench/judge_replay.py) "
                         "served on loopback, not from the configured endpoint")
    tr = ap.add_argument_group("training (--train)")
    tr.add_argument("--train", action="store_true",
                    help="fit the learned layer (repeated 5-fold CV for its settings), write its weights")
    tr.add_argument("--fit-on", default="dev", help="labelled sets to train on, e.g. dev or dev,test")
    tr.add_argument("--no-words", action="store_true", help="cue features only, no feeds.lexical words")
    tr.add_argument("--no-bigrams", action="store_true", help="single words only")
    tr.add_argument("--lead-chars", type=int, default=0,
                    help="characters of the text read for words besides the headline (shipped: 0)")
    tr.add_argument("--lambdas", default="0.3,1,3", help="L2 strengths tried for the cue features")
    tr.add_argument("--lambda-words", default="10,30", help="L2 strengths tried for the word features")
    tr.add_argument("--min-docs", type=int, default=3, help="a word must be in this many training items")
    tr.add_argument("--min-outlets", type=int, default=2, help="... from this many outlets")
    tr.add_argument("--repeats", type=int, default=5, help="shuffles of the 5-fold CV")
    tr.add_argument("--out", type=Path, default=MODEL_FILE, help="where to write the weights")
    tr.add_argument("--prior", type=Path, metavar="WEIGHTS",
                    help="refine these weights (e.g. the shipped feeds/data/strategy_model.json) "
                         "with the --fit-on sets: the penalty pulls towards them, not towards 0")
    tr.add_argument("--balanced", action="store_true",
                    help="class-balanced weights (each class weighs as much in all)")
    args = ap.parse_args(argv)
    sets, problem = labelled_sets(args)
    if problem:
        print(f"eval_classify: {problem}", file=sys.stderr)
        return 2
    gz = load_gazetteer(args.user_file)
    if args.threshold is not None:
        gz.rules.setdefault("score" if args.rules else "model", {})["threshold"] = args.threshold
    if args.rules or args.train:
        gz.rules["model"] = {**gz.rules.get("model", {}), "enabled": False}
    clf = Classifier(gz)
    extra = [getattr(args, f"items_{name}") for name in ITEMS]
    corpus = load_corpus(args.corpus, *[p for p in extra if p.exists()], *filter(None, [args.extra_items]))
    if args.train:
        return train_main(clf, corpus, args, sets)
    chosen = args.set or ("none" if args.speed else args.extra_set or "both")
    names = {"both": ["dev", "test"], "none": []}.get(chosen, set_names(chosen))
    unknown = [n for n in names if n not in sets]
    if unknown:
        print(f"eval_classify: --set takes names of labelled sets ({', '.join(sets)}), not {unknown[0]!r}",
              file=sys.stderr)
        return 2
    if args.llm_judge:
        from bench.eval_judge import judge_sets
        labelled = {n: load_labels(sets[n]) for n in names}
        if args.replay:
            from bench.eval_judge import judge_replayed
            return judge_replayed(clf, labelled, corpus, story_text, args.replay)
        return judge_sets(clf, labelled, corpus, story_text)
    for name in names:
        evaluate(clf, load_labels(sets[name]), corpus, args.show, name)
    if args.speed:
        other = (f"at {args.against}", classifier_at(args.against)) if args.against else None
        speed(clf, farm_stories(args.farm) if args.farm else [story_text(i) for i in corpus.values()],
              other=other)
    return 0


def set_names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def labelled_sets(args) -> tuple[dict[str, Path], str]:
    """The repository's sets plus the --extra-set, and what is wrong with the options."""
    if not args.corpus.exists():
        return SETS, f"corpus {args.corpus} not found (use --corpus)"
    given = [args.extra_set, args.extra_items, args.extra_labels]
    if not any(given):
        return SETS, ""
    if not all(given):
        return SETS, "--extra-set, --extra-items and --extra-labels go together"
    if args.extra_set in SETS:
        return SETS, f"--extra-set {args.extra_set!r} is already a labelled set; choose another name"
    for path in given[1:]:
        if not path.exists():
            return SETS, f"{path} not found"
    return {**SETS, args.extra_set: args.extra_labels}, ""


def train_main(clf: Classifier, corpus: dict, args, sets: dict[str, Path]) -> int:
    names = set_names(args.fit_on)
    unknown = [n for n in names if n not in sets]
    if unknown or not names:
        print(f"eval_classify: --fit-on takes names of labelled sets ({', '.join(sets)}), not {args.fit_on!r}",
              file=sys.stderr)
        return 2
    rows = [row for n in names for row in load_labels(sets[n])]
    lexical = None if args.no_words else {"bigrams": not args.no_bigrams, "lead_chars": args.lead_chars}
    floats = lambda text: [float(v) for v in text.split(",")]   # noqa: E731
    prior = None
    if args.prior:
        doc = json.loads(args.prior.read_text(encoding="utf-8"))
        prior = (doc["weights"], doc["bias"])
    grid = [{"lambda": lam, "lambda_words": lw, "min_docs": args.min_docs, "min_outlets": args.min_outlets,
             "balanced": args.balanced, "prior": prior}
            for lam in floats(args.lambdas) for lw in floats(args.lambda_words)]
    train(clf, rows, corpus, lexical, grid, "+".join(names), seeds=tuple(range(1, args.repeats + 1)),
          out=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
