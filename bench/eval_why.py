"""Precision and recall of the "Why it matters" detector against hand labels.

    .venv/bin/python bench/eval_why.py [--labels PATH] [--show tune|held|all]

Labels: tests/data/why-labels.tsv (its header states the policy), one row per story:
the 54 strategy stories of the shared corpus with >= 800 characters of text (parsed,
classified and condensed as bench/eval_dangling.py does: HTML path) and the 100
CNN/DailyMail articles of bench/eval_rouge.py (cleaned, untitled plain-text stories).
Each row lists which sentences (numbered as feeds.ranking.candidates gives them from
the blocks condense() reads) would make a good why line; the file holds ids, indices
and our own reasons only. Stories are split into two fixed halves by id hash: cue
changes are decided on "tune" and must hold on "held".

Per half: stories, stories with a good sentence, briefs whose why line comes from the
text ("picks"), good picks, bad picks; precision = good picks / picks, recall = stories
with a good pick / stories with a good sentence. A pick is mapped back to the sentence
it came from by word overlap (the why line may be trimmed or have its opening
reference resolved). `--show` prints every pick of a half with its verdict.
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_parse import ITEMS, corpus_feeds  # noqa: E402
from bench.eval_rouge import SAMPLE, clean  # noqa: E402
from feeds.classify import Classifier  # noqa: E402
from feeds.condense import READ_CHARS, condense  # noqa: E402
from feeds.models import Story  # noqa: E402
from feeds.parser import parse_feed  # noqa: E402
from feeds.ranking import candidates  # noqa: E402
from feeds.sentences import blocks_from_html, blocks_from_text  # noqa: E402
from feeds.wordsets import tokens  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

LABELS = Path(__file__).resolve().parents[1] / "tests" / "data" / "why-labels.tsv"


def read_labels(path: Path) -> dict[tuple[str, str], dict]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    out = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        good = set() if row["good"] == "-" else {int(i) for i in row["good"].split(",")}
        out[(row["set"], row["id"])] = {"half": row["half"], "n": int(row["sentences"]), "good": good}
    return out


def corpus_stories(ids: set[str]) -> list[Story]:
    clf, out = Classifier(), []
    for name, body in corpus_feeds(ITEMS).items():
        if name.endswith("(RSS)"):
            outlet = name.removesuffix(" (RSS)")
            for s in parse_feed(body, feed_url=f"https://feeds.example.com/{outlet}", source=outlet).stories:
                if s.id in ids:
                    out.append(s.with_classification(clf.classify(s.title, s.text)))
    return out


def cnndm_stories(ids: set[str]) -> list[Story]:
    csv.field_size_limit(10_000_000)
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["id"] in ids]
    return [Story(id=r["id"], url="", title="", text=clean(r["article"]), source="", feed_url="",
                  published=datetime(2025, 1, 1, tzinfo=timezone.utc)) for r in rows]


def sentences(story: Story) -> list[str]:
    """The sentences condense() ranks, numbered as the labels number them."""
    blocks = (blocks_from_html(story.html[:READ_CHARS]) if story.html.strip()
              else blocks_from_text((story.text or story.summary)[:READ_CHARS]))
    return [s.text for s in candidates(blocks)]


def picked(why: str, sents: list[str]) -> int | None:
    """The index of the sentence a why line came from (best word overlap), if any."""
    w = tokens(why.rstrip("…"))
    best = max(range(len(sents)), key=lambda i: len(w & tokens(sents[i])) / (len(w) or 1), default=None)
    return best if best is not None and len(w & tokens(sents[best])) >= 0.6 * len(w) else None


def evaluate(stories: list[tuple[str, Story]], labels: dict) -> list[dict]:
    out = []
    for kind, story in stories:
        lab, sents = labels[(kind, story.id)], sentences(story)
        if len(sents) != lab["n"]:
            print(f"  warning: {kind} {story.id}: {len(sents)} sentences, labelled {lab['n']}")
        brief = condense(story)
        why = "" if brief.why_is_generated else brief.why_it_matters
        pick = picked(why, sents) if why else None
        out.append({"set": kind, "id": story.id, "half": lab["half"], "good": lab["good"],
                    "why": why, "pick": pick, "ok": pick in lab["good"]})
    return out


def table(results: list[dict]) -> None:
    print(f"  {'half':5} {'set':7} {'stories':>7} {'with good':>9} {'picks':>5} {'good':>4} "
          f"{'bad':>3} {'precision':>9} {'recall':>6}")
    for half in ("tune", "held"):
        for kind in ("corpus", "cnndm", "both"):
            rs = [r for r in results if r["half"] == half and kind in ("both", r["set"])]
            c = Counter(stories=len(rs), with_good=sum(bool(r["good"]) for r in rs),
                        picks=sum(bool(r["why"]) for r in rs), ok=sum(r["ok"] for r in rs))
            prec = f"{c['ok'] / c['picks']:.2f}" if c["picks"] else "-"
            rec = f"{c['ok'] / c['with_good']:.2f}" if c["with_good"] else "-"
            print(f"  {half:5} {kind:7} {c['stories']:7} {c['with_good']:9} {c['picks']:5} "
                  f"{c['ok']:4} {c['picks'] - c['ok']:3} {prec:>9} {rec:>6}")


def show(results: list[dict], half: str) -> None:
    for r in results:
        if r["why"] and half in ("all", r["half"]):
            verdict = "GOOD" if r["ok"] else "bad "
            print(f"  {verdict} [{r['half']} {r['set']} {r['id'][:12]} #{r['pick']}; good "
                  f"{sorted(r['good']) or '-'}] {r['why']}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--show", choices=("tune", "held", "all"), help="print the picks of a half")
    args = ap.parse_args(argv)
    labels = read_labels(args.labels)
    ids = {kind: {i for k, i in labels if k == kind} for kind in ("corpus", "cnndm")}
    stories = ([("corpus", s) for s in corpus_stories(ids["corpus"])]
               + [("cnndm", s) for s in cnndm_stories(ids["cnndm"])])
    results = evaluate(stories, labels)
    print(f"eval_why: {len(results)} stories of {len(labels)} labelled; "
          f"{sum(len(r['good']) for r in results)} good sentences")
    table(results)
    if args.show:
        show(results, args.show)


if __name__ == "__main__":
    main()
