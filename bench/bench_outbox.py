"""Delivery's reads at an aged store: what the running bot asks the outbox, by revision.

    .venv/bin/python -m bench outbox [--channels 100] [--sent 60000] [--held 24000]
                                     [--runs 7] [--against REV] [--quick]

The service benchmark (section 8) starts from an empty store and watches 10 minutes, so
it cannot see a read that grows with the store's history. This one fills a store as a
bot that has run for months leaves it: `--sent` posts already out, spread over the 180
days retention keeps, across `--channels` channels (3 posts to a message, as roundups
share one), and `--held` posts waiting for their channel's roundup. Then it times, in
CPU ms per call (medians of `--runs`), the two reads of delivery's loop:
- `outbox_work`: which channels have posts waiting, asked every idle tick (2 s);
- `posts_sent_since`: a channel's posts of the last hour, for the hourly cap, asked on
  every pass over a channel (here once per channel, the mean per call).
With `--against REV` the same rows go into a store made by REV's storage code (loaded
beside today's, as `bench backfill --against` does), and the two alternate.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import command_line, median, report

DAYS = 180
STORAGE = ("storage/migrate.py", "storage/schema.py", "feeds/cluster.py",
           "feeds/event_match.py", "storage/candidates.py", "storage/clusters.py",
           "storage/story_rows.py", "storage/dedupe.py", "storage/briefs.py",
           "storage/stories.py", "storage/delivery_schema.py", "storage/post_edits.py",
           "storage/outbox.py", "storage/outbox_dispatch.py", "storage/outbox_status.py",
           "storage/receipts.py", "storage/dispatch_mark.py", "storage/subscriptions.py",
           "storage/delivery.py", "storage/feedstate.py", "storage/lookups.py",
           "storage/search.py", "storage/records.py", "storage/retention.py",
           "storage/store.py")
COLUMNS = ("cluster_id, story_id, platform, workspace, channel, brief, published, state, "
           "next_attempt, created_at, sent_at, message_id")
INSERT = f"INSERT INTO outbox ({COLUMNS}) VALUES ({','.join('?' * 12)})"


def _ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def outbox_rows(now: datetime, channels: int, sent: int, held: int,
                where: tuple[str, str, str] = ("slack", "T1", "C")) -> list[tuple]:
    """The aged store's outbox: sent posts over DAYS, newest first, then held ones.
    `where`: platform, workspace and the channels' name before their number."""
    platform, workspace, prefix = where
    rows, step = [], timedelta(days=DAYS) / max(sent, 1)
    for i in range(sent):
        at, ch = _ts(now - step * i), f"{prefix}{i % channels}"
        rows.append((f"k{i}", f"s{i}", platform, workspace, ch, "{}", at, "sent", at, at, at,
                     f"{ch}:{i // (3 * channels)}"))
    for i in range(held):
        at = _ts(now - timedelta(seconds=i))
        rows.append((f"h{i}", f"h{i}", platform, workspace, f"{prefix}{i % channels}", "{}",
                     at, "held", at, at, None, None))
    return rows


def age_store(path: Path, channels: int, sent: int, where: tuple[str, str, str]) -> None:
    """Give the store at `path` the posts a bot running for months has sent."""
    import sqlite3
    rows = outbox_rows(datetime.now(timezone.utc), channels, sent, 0, where)
    with sqlite3.connect(path) as conn:
        conn.executemany(INSERT, rows)


def filled_store(store_class, folder: Path, rows: list[tuple]):
    store = store_class(folder / "s.db")
    with store.db.conn:
        store.db.conn.executemany(INSERT, rows)
    return store


def time_reads(store, now: datetime, channels: int) -> dict[str, float]:
    """CPU ms of one outbox_work, and the mean of posts_sent_since over the channels."""
    t0 = time.process_time()
    store.outbox_work(now)
    t1 = time.process_time()
    for c in range(channels):
        store.posts_sent_since("slack", f"C{c}", now - timedelta(hours=1))
    t2 = time.process_time()
    return {"outbox_work": (t1 - t0) * 1e3, "posts_sent_since": (t2 - t1) * 1e3 / channels}


def stores_for(revs: dict, folder: Path, rows: list[tuple]) -> dict:
    stores = {}
    for name, store_class in revs.items():
        (folder / name).mkdir()
        stores[name] = filled_store(store_class, folder / name, rows)
    return stores


def alternate(stores: dict, now: datetime, channels: int, runs: int) -> dict:
    """Per store, per read: the median CPU ms over `runs`, the order reversed each run."""
    got = {name: {"outbox_work": [], "posts_sent_since": []} for name in stores}
    for run in range(runs):
        for name in (list(stores) if run % 2 == 0 else list(stores)[::-1]):
            for read, ms in time_reads(stores[name], now, channels).items():
                got[name][read].append(ms)
    return {name: {read: median(v) for read, v in reads.items()} for name, reads in got.items()}


def store_classes(against: str | None) -> dict:
    from storage.store import Store
    classes = {"today": Store}
    if against:
        from bench.bench_backfill import load_at
        classes[against] = load_at(against, STORAGE, "_outbox_rev_").Store
    return classes


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench outbox")
    ap.add_argument("--channels", type=int, default=100)
    ap.add_argument("--sent", type=int, default=60_000)
    ap.add_argument("--held", type=int, default=24_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--against", metavar="REV")
    ap.add_argument("--quick", action="store_true")
    argv = list(argv or [])
    args = ap.parse_args(argv)
    if args.quick:
        args.channels, args.sent, args.held, args.runs = 5, 300, 60, 3
    now = datetime.now(timezone.utc)
    folder = Path(tempfile.mkdtemp(prefix="ainews-bench-outbox-"))
    try:
        stores = stores_for(store_classes(args.against), folder,
                            outbox_rows(now, args.channels, args.sent, args.held))
        got = alternate(stores, now, args.channels, args.runs)
        for store in stores.values():
            store.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _report(got, args, command_line("outbox", argv))
    return {"channels": args.channels, "sent": args.sent, "held": args.held, "ms": got}


def _report(got: dict, args, command: str) -> None:
    rows = [("store", f"{args.sent:,} posts sent over {DAYS} days, {args.held:,} held, "
                      f"{args.channels} channels")]
    for read in ("outbox_work", "posts_sent_since"):
        cells = [f"{name} {ms[read]:.3f} ms" for name, ms in got.items()]
        if len(got) == 2:
            today, old = (ms[read] for ms in got.values())
            cells.append(f"= x {today / old:.3f}" if old else "")
        rows.append((read, *cells))
    report(f"Delivery's reads at an aged store, CPU ms per call, medians of {args.runs}",
           rows, command)


def main(argv: list[str] | None = None) -> dict:
    return run(argv)
