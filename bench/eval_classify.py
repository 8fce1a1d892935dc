"""Evaluate feeds/classify.py against hand-labelled news items.

The labels (tests/data/devset.tsv, tests/data/testset.tsv) hold only links; the text is
read from the shared corpus by link, because the outlets' text is not ours to commit.

    .venv/bin/python bench/eval_classify.py                  # dev and test sets
    .venv/bin/python bench/eval_classify.py --set test --show 20
    .venv/bin/python bench/eval_classify.py --corpus other/items.jsonl --threshold 2.5
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
        terms = [x for x in c.reasons if x.startswith(("term:", "negative:", "gate:"))][:4]
        print(f"  {kind} {c.score:6.2f} {item['title'][:80]!r}  label: {reason}")
        print(f"           {'; '.join(terms)}")
    return {"precision": p, "recall": r, "f1": f1}


def speed(clf: Classifier, corpus: dict) -> None:
    stories = [story_text(item) for item in corpus.values()]
    start = time.perf_counter()
    for title, text in stories:
        clf.classify(title, text)
    elapsed = time.perf_counter() - start
    chars = sum(len(t) + len(x) for t, x in stories)
    print(f"speed: {len(stories)} stories ({chars / len(stories):.0f} chars avg) in {elapsed:.2f} s "
          f"= {len(stories) / elapsed:.0f} stories/s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--set", choices=["dev", "test", "both"], default="both")
    ap.add_argument("--show", type=int, default=10, help="confusions to list per set")
    ap.add_argument("--threshold", type=float, help="override [score] threshold")
    ap.add_argument("--user-file", type=Path, help="extra gazetteer TOML")
    ap.add_argument("--speed", action="store_true", help="also time the whole corpus")
    args = ap.parse_args(argv)
    if not args.corpus.exists():
        print(f"eval_classify: corpus {args.corpus} not found (use --corpus)", file=sys.stderr)
        return 2
    gz = load_gazetteer(args.user_file)
    if args.threshold is not None:
        gz.rules["score"]["threshold"] = args.threshold
    clf = Classifier(gz)
    corpus = load_corpus(args.corpus)
    for name in (["dev", "test"] if args.set == "both" else [args.set]):
        evaluate(clf, load_labels(SETS[name]), corpus, args.show, name)
    if args.speed:
        speed(clf, corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
