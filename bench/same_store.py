"""Same store, old code and new: the check behind bench 2's store and clustering changes.

    .venv/bin/python -m bench.same_store REV [--feeds 100]

Stores the same stories with revision REV's store (storage/ and feeds/cluster.py, loaded
as `bench backfill --against` loads them) and with this tree's, twice: one batch per
add_new_stories call, as REV's pipeline wrote them, and BACKLOG_BATCH stories to a
transaction, as Pipeline.poll_once writes first polls now. Then compares every row of
stories (pk, cluster, lead, status, ...), story_companies, story_topics, story_aliases,
every FTS token instance (fts5vocab), 8 searches, `latest 200` with also-reported-by and
cluster_info of every story. Inputs: the backfill bench's feeds (parsed, classified; in
order and with each feed shuffled, feeds reversed) and, when present, the shared corpus
(items.jsonl: one batch per source file; all by time in one batch; shuffled in 40s).
A third of the batches are stored as new, not backlog. Exit status 1 on any difference.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bench.bench_backfill import code_at, feed_bytes
from bench.bench_parse import ITEMS
from bench.common import first_polls_transaction, when

QUERIES = ["openai", "alibaba prices", "chips export", "funding round", "nvidia", "qwen",
           "google gemini", "meta llama"]


def farm_batches(n: int, classifier) -> list[list]:
    from feeds.parser import parse_feed
    return [[s.with_classification(classifier.classify(s.title, s.text))
             for s in parse_feed(body, feed_url=url, source="Bench",
                                 fetched_at=when(0)).stories]
            for url, body in feed_bytes(n)]


def corpus_batches(classifier) -> list[list]:
    """items.jsonl as stories, one batch per source file (a feed snapshot)."""
    from feeds.models import Story
    batches: list[list] = []
    last = None
    for line in ITEMS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        text = re.sub(r"<[^>]+>", " ", item.get("content_html") or item.get("summary") or "")
        published = datetime.fromisoformat(item["published"]).astimezone(timezone.utc)
        story = Story(item["link"], item["link"], item["title"], text, item["outlet"],
                      item["source_file"], published, summary=item.get("summary") or "")
        if item["source_file"] != last:
            batches.append([])
            last = item["source_file"]
        batches[-1].append(story.with_classification(
            classifier.classify(story.title, story.text)))
    return batches


def dump(store_class, batches: list[list], *, grouped: bool) -> dict:
    from bot.pipeline import BACKLOG_BATCH
    tmp = Path(tempfile.mkdtemp(prefix="ainews-same-store-"))
    store = store_class(tmp / "s.db")
    waiting: list[tuple[int, list]] = []

    def add(i: int, batch: list) -> None:
        store.add_new_stories(batch, backlog=i % 3 != 1, now=when(i))

    def flush() -> None:
        with first_polls_transaction(store):
            for i, batch in waiting:
                add(i, batch)
        waiting.clear()
    try:
        for i, batch in enumerate(batches):
            if not grouped:
                add(i, batch)
                continue
            waiting.append((i, batch))
            if sum(len(b) for _i, b in waiting) >= BACKLOG_BATCH:
                flush()
        if waiting:
            flush()
        return _rows(store)
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _rows(store) -> dict:
    def q(sql: str) -> list:
        return store.db.execute(sql).fetchall()
    store.db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, stories_fts, "
                     "instance)")
    return {"stories": q("SELECT * FROM stories ORDER BY pk"),
            "leads": q("SELECT count(*) FROM stories WHERE is_lead = 1")[0][0],
            "companies": q("SELECT * FROM story_companies ORDER BY 1, 2"),
            "topics": q("SELECT * FROM story_topics ORDER BY 1, 2"),
            "aliases": q("SELECT * FROM story_aliases ORDER BY 1"),
            "fts": q("SELECT * FROM temp.vocab ORDER BY 1, 2, 3, 4"),
            "search": [[b.id for b in store.search(w, 50)] for w in QUERIES],
            "latest": [b.to_json() for b in store.latest(200, strategy_only=False)],
            "cluster_info": [store.cluster_info(sid) for (sid,) in
                             q("SELECT id FROM stories ORDER BY pk")]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.same_store")
    ap.add_argument("rev")
    ap.add_argument("--feeds", type=int, default=100)
    args = ap.parse_args(argv)
    from feeds.classify import Classifier
    from storage.store import Store
    _old_classifier, old_store = code_at(args.rev)
    classifier, rnd = Classifier(), random.Random(7)
    farm = farm_batches(args.feeds, classifier)
    sets = {"farm": farm,
            "farm, each feed shuffled, feeds reversed":
                [rnd.sample(b, len(b)) for b in reversed(farm)]}
    if ITEMS.exists():
        corpus = corpus_batches(classifier)
        flat = [s for b in corpus for s in b]
        shuffled = rnd.sample(flat, len(flat))
        sets.update({"corpus": corpus,
                     "corpus by time, one batch": [sorted(flat, key=lambda s: s.published)],
                     "corpus shuffled, 40 a batch":
                         [shuffled[i:i + 40] for i in range(0, len(shuffled), 40)]})
    same = True
    for name, batches in sets.items():
        old = dump(old_store, batches, grouped=False)   # REV's pipeline: per batch
        new, grouped = (dump(Store, batches, grouped=g) for g in (False, True))
        diff = [k for k in old if old[k] != new[k]]
        diff += [f"{k} (batched)" for k in old if old[k] != grouped[k]]
        print(f"{name}: {len(new['stories'])} stories, {new['leads']} cluster leads, "
              f"{len(new['fts'])} FTS tokens: "
              + (f"DIFFERENT: {', '.join(diff)}" if diff else "identical (per batch and batched)"))
        same &= not diff
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
