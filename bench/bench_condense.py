"""Throughput of the extractive condenser: stories per second on ~600-word articles.

    .venv/bin/python bench/bench_condense.py [--stories 200] [--runs 7]

Articles are the CNN/DailyMail sample (/work/shared/eval/cnndm-sample/train_sample.csv)
cut to ~600 words, condensed both as plain text and as HTML (<p> per 3 sentences, plus a
navigation list the condenser must skip). One process pinned to one core; the figure is
the median over the runs of stories per CPU-second (wall-clock shown beside it).
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feeds.condense import condense  # noqa: E402
from feeds.models import Classification, Story  # noqa: E402
from feeds.sentences import split_sentences  # noqa: E402

SAMPLE = Path("/work/shared/eval/cnndm-sample/train_sample.csv")
WORDS = 600


def articles(limit: int) -> list[str]:
    csv.field_size_limit(10_000_000)
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        rows = [r["article"] for r in csv.DictReader(f)]
    out = []
    for text in rows:
        words = text.split()
        while len(words) < WORDS:  # short ones repeat so every article is ~600 words
            words += text.split()
        out.append(" ".join(words[:WORDS]))
    return (out * (limit // len(out) + 1))[:limit]


def as_html(text: str) -> str:
    sents = split_sentences(text)
    paras = "".join(f"<p>{' '.join(sents[i:i + 3])}</p>" for i in range(0, len(sents), 3))
    return paras + "<h3>Related</h3><ul><li><a href='/x'>Another story about the same thing</a></li></ul>"


def stories(texts: list[str], html: bool) -> list[Story]:
    when = datetime(2025, 1, 1, tzinfo=timezone.utc)
    c = Classification(strategy=True, score=3.0, companies=("Alibaba",), topics=("pricing",))
    return [Story(id=str(i), url=f"https://example.com/{i}", title=" ".join(t.split()[40:50]),
                  text="" if html else t, html=as_html(t) if html else "", source="Bench",
                  feed_url="https://example.com/feed", published=when, classification=c)
            for i, t in enumerate(texts)]


def run(batch: list[Story]) -> tuple[float, float]:
    """(stories per CPU second, stories per wall second). CPU time is the figure: the
    machine is shared, and wall time then measures the neighbours as much as us."""
    wall, cpu = time.perf_counter(), time.process_time()
    for s in batch:
        condense(s)
    return (len(batch) / (time.process_time() - cpu), len(batch) / (time.perf_counter() - wall))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stories", type=int, default=200)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    texts = articles(args.stories)
    print(f"bench_condense: {len(texts)} stories of ~{WORDS} words, median of {args.runs} runs, one core")
    for label, html in (("text", False), ("html", True)):
        batch = stories(texts, html)
        run(batch[:20])  # warm-up: imports, regex compilation
        rates = [run(batch) for _ in range(args.runs)]
        cpu = [r[0] for r in rates]
        wall = statistics.median(r[1] for r in rates)
        print(f"  {label:4}: {statistics.median(cpu):7.1f} stories/CPU-s (min {min(cpu):.1f}, "
              f"max {max(cpu):.1f}); wall-clock median {wall:.1f}/s; target >= 200")


if __name__ == "__main__":
    main()
