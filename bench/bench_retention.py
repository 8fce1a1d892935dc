"""Retention: what slimming old stories frees, and how long it takes.

    .venv/bin/python -m bench.bench_retention [--stories 20000] [--old 0.9] [--incremental]

Generates a store of `stories` stories (bench_lookups' generator; each with ~5 KB of text
and its HTML, like make_entries' full-content feeds, a summary, and a cached brief for
the ~40% strategy stories), first seen over 200 days so that `old` of them are older
than the 180-day cutoff. Then Store.slim_stories_older_than(cutoff), timed, and VACUUM.
Prints file size, page count and free pages after each step (WAL checkpointed first).
--incremental makes the file auto_vacuum=INCREMENTAL, as a new store could be.
"""
from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.bench_lookups import _SENTENCES, _REGIONS, Generator, _brief_json

DAYS, KEEP_DAYS, PARAGRAPHS = 200, 180, 12


def build(path: Path, total: int, old: float, incremental: bool):
    """A store of `total` stories, the first `old` share first seen before the cutoff."""
    from feeds.classify import load_gazetteer
    from feeds.models import DEFAULT_TOPICS, utcnow
    from storage.store import Store
    if incremental:   # chosen before anything is written, as SQLite requires
        sqlite3.connect(path).execute("PRAGMA auto_vacuum = INCREMENTAL").connection.close()
    store, now = Store(path), utcnow()
    gen = Generator(list(load_gazetteer().companies), list(DEFAULT_TOPICS))
    cutoff = now - timedelta(days=KEEP_DAYS)
    n_old = int(total * old)
    for start in range(1, total + 1, 2000):
        rows = [_row(gen, pk, _seen(pk, n_old, total, cutoff, now))
                for pk in range(start, min(start + 2000, total + 1))]
        _insert(store, rows)
    return store, now


def _seen(pk: int, n_old: int, total: int, cutoff, now):
    """Old stories spread over the 20 days before the cutoff, the rest after it."""
    if pk <= n_old:
        return cutoff - timedelta(days=DAYS - KEEP_DAYS) * (1 - pk / n_old)
    return cutoff + (now - cutoff) * ((pk - n_old) / (total - n_old + 1))


def _row(gen: Generator, pk: int, seen) -> tuple:
    from feeds.models import iso_utc
    comps, tops, title, _text, _pub, strategy = gen.story(pk, 10**9)   # its dates unused
    a = comps[0]
    paras = [" ".join(gen.rng.choice(_SENTENCES).format(a=a, b=a, n=gen.rng.randint(2, 90),
                                                        r=gen.rng.choice(_REGIONS))
                      for _ in range(4)) for _ in range(PARAGRAPHS)]
    text, html = "\n\n".join(paras), "".join(f"<p>{p}</p>" for p in paras)
    return pk, comps, tops, title, text, html, strategy, iso_utc(seen)


def _insert(store, rows: list[tuple]) -> None:
    """Rows as add_new_stories leaves them: the story, its search index entry, its
    company and topic rows, and its cached brief."""
    import json
    conn = store.db.conn
    with store._write():
        for pk, comps, tops, title, text, html, strategy, seen in rows:
            sid, h = f"s{pk:019d}", f"{pk:032x}"
            conn.execute(
                "INSERT INTO stories (pk, id, url, title, text, html, summary, source, "
                "published, strategy, companies, topics, content_hash, status, first_seen, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'Outlet', ?, ?, ?, ?, ?, 'new', ?, ?)",
                (pk, sid, f"https://news.example.com/{pk}", title, text, html, text[:280],
                 seen, int(strategy), json.dumps(comps), json.dumps(tops), h, seen, seen))
            conn.execute("INSERT INTO stories_fts (rowid, title, text) VALUES (?, ?, ?)",
                         (pk, title, text))
            for table, values in (("story_companies", comps), ("story_topics", tops)):
                conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, 1, ?)",
                                 [(pk, v, seen, int(strategy)) for v in values])
            if strategy:
                conn.execute("INSERT INTO briefs VALUES (?, ?, ?, ?)",
                             (h, sid, _brief_json(sid, title, text, comps, tops, seen), seen))


def footprint(store, path: Path, step: str) -> None:
    conn = store.db.conn
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    pages, free = (conn.execute(f"PRAGMA {p}").fetchone()[0]
                   for p in ("page_count", "freelist_count"))
    print(f"{step:<24} {path.stat().st_size / 1e6:8.1f} MB  {pages:7,} pages  "
          f"{free:7,} free", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="bench.bench_retention")
    ap.add_argument("--stories", type=int, default=20_000)
    ap.add_argument("--old", type=float, default=0.9)
    ap.add_argument("--incremental", action="store_true")
    args = ap.parse_args(argv)
    path = Path(tempfile.mkdtemp(prefix="ainews-retention-")) / "r.db"
    store, now = build(path, args.stories, args.old, args.incremental)
    footprint(store, path, "generated")
    t = time.perf_counter()
    result = store.slim_stories_older_than(now - timedelta(days=KEEP_DAYS))
    spent = time.perf_counter() - t
    footprint(store, path, f"slimmed {result.stories:,}")
    print(f"slimming took {spent:.2f} s")
    store.db.conn.execute("VACUUM")
    footprint(store, path, "after VACUUM")
    store.close()


if __name__ == "__main__":
    main()
