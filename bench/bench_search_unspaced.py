"""Chinese (unspaced) search: the bounded substring scan's cost at its worst.

    .venv/bin/python bench/bench_search_unspaced.py [--stories 25000]

Builds bench/out/unspaced-<N>.db once (stories of ~3 KB of text each, none containing
the Chinese words, so every query reads the whole UNSPACED_SCAN window and, with two
words, scans twice: all words, then any word). Prints the median of 7 calls of
Store.search per query, with an English query through FTS5 alongside for scale, and English words no story has
(FTS5 finds none, so the scan for a Latin word inside Chinese text reads the window).
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from bench.common import OUT
from feeds.models import Classification, Story, story_id
from storage.search import UNSPACED_SCAN
from storage.store import Store

WORDS = "alpha beta gamma delta model price cloud chips open source funding talks".split()
# "h20" and "qwen3 api" are Latin words no story has: FTS5 finds nothing, so the bounded
# scan for a Latin word glued to Chinese text ("英伟达H20") reads the whole window too.
QUERIES = ["阿里巴巴", "价格 模型", "alpha", "h20", "qwen3 api"]


def build(store: Store, n: int) -> None:
    rng, t0 = random.Random(1), datetime(2026, 1, 1, tzinfo=timezone.utc)
    for start in range(0, n, 1000):
        batch = []
        for i in range(start, min(n, start + 1000)):
            url = f"https://x.example/{i}"
            batch.append(Story(id=story_id("f", "", url), url=url, title=f"Story {i}",
                               text=" ".join(rng.choice(WORDS) for _ in range(450)),
                               source="X", feed_url="f", published=t0 + timedelta(minutes=i),
                               classification=Classification(False, 0.0, (), (), ())))
        store.add_new_stories(batch, backlog=True, now=t0)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stories", type=int, default=25_000)
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    store = Store(OUT / f"unspaced-{args.stories}.db")
    if not store.latest(1, strategy_only=False):
        build(store, args.stories)
    result = {}
    for q in QUERIES:
        times = []
        for _ in range(7):
            t = time.perf_counter()
            store.search(q)
            times.append(time.perf_counter() - t)
        result[q] = round(statistics.median(times) * 1000, 1)
        print(f"{q!r}: median {result[q]} ms (scan window {UNSPACED_SCAN} stories)")
    store.close()
    return result


if __name__ == "__main__":
    main()
