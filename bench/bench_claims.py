"""What a durable claim costs: delivery's writes per post, with the claim synced or not.

    .venv/bin/python -m bench.bench_claims [--posts 400] [--runs 5] [--dir DIR]

A post's writes are its claim (Store.claim_post, synced to disk since a power cut
could take it back: storage/transactions.py _synced) and its sent mark (record_sent, not
synced). Times both, wall clock per post (medians of `--runs` runs of `--posts`
posts), with the claim synced and with it left to WAL's NORMAL, in a store under
`--dir` (default: a temporary folder; give one on the disk the bot's database is on,
as a sync on tmpfs costs nothing).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.common import median, report

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def _filled(folder: Path, posts: int):
    from feeds.models import Brief
    from storage.store import Store
    store = Store(folder / "claims.db")
    brief = Brief("s", "A headline", ("a", "b", "c"), "why", "https://a.example/s", "A", NOW)
    with store.transaction():
        for i in range(posts):
            store.enqueue_post(cluster_id=f"k{i}", brief=brief, platform="slack",
                               workspace="T", channel="C", held=False, now=NOW)
    return store


def _per_post_ms(folder: Path, posts: int, synced: bool) -> float:
    store = _filled(folder, posts)
    store._wal = synced     # False: the claim's commit left at NORMAL, as before
    try:
        ids = [r.id for r in store.due_posts(NOW)]
        start = time.perf_counter()
        for row_id in ids:
            row = store.claim_post(row_id, NOW)
            store.record_sent(row_id, f"m{row_id}", NOW, shown=row.brief)
        return (time.perf_counter() - start) * 1000 / len(ids)
    finally:
        store.close()
        for f in folder.glob("claims.db*"):
            f.unlink()


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench.bench_claims")
    ap.add_argument("--posts", type=int, default=400)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        times = {True: [], False: []}
        for _ in range(args.runs):
            for synced in (False, True):     # alternated, so drift hits both alike
                times[synced].append(_per_post_ms(Path(tmp), args.posts, synced))
    got = {("synced" if k else "normal"): round(median(v), 3) for k, v in times.items()}
    report("claim + sent mark, ms per post (wall clock, median)",
           [("claim at NORMAL (before)", got["normal"]),
            ("claim synced (FULL)", got["synced"])],
           " ".join(["python -m bench.bench_claims", *(sys.argv[1:] if argv is None
                                                         else argv)]))
    return {"ms_per_post": got}


def main(argv: list[str] | None = None) -> dict:
    return run(argv)


if __name__ == "__main__":
    main()
