"""The store stage alone, several revisions side by side, and the SQL it cannot avoid.

    .venv/bin/python -m bench.store_alone REV [REV ...] [--runs 7] [--feeds 100]
    .venv/bin/python -m bench.store_alone --floor [--runs 7]
    .venv/bin/python -m bench.store_alone --parts [--runs 7]
    (each also takes --source real: the backfill bench's real feeds instead of the farm)

The backfill bench's feeds, parsed and classified once, then stored by each revision's
store (storage/ and feeds/cluster.py as `bench backfill --against` loads them; any git
revision: 17ef05a, HEAD~1) as Pipeline.poll_once stores first polls: BACKLOG_BATCH
stories to a transaction, one add_new_stories call per feed. Revisions alternate (order
reversed every other run) so machine noise hits all alike; CPU medians and ratios to the
first (and minima: on a shared machine, the least disturbed run).
--floor writes the rows this tree's store produced (stories, search index, company and
topic rows) again with bare executemany into a fresh store of the same schema: what the
stage would cost with no Python work at all.
--parts times this tree's store as it is, with the cluster search's comparisons left
out, and with no cluster search at all, alternating: what finding clusters costs.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from bench.bench_backfill import code_at, forget_story_memos
from bench.common import first_polls_transaction, median, when

TABLES = ("stories", "story_companies", "story_topics")


def store_all(store_class, batches: list[list]) -> tuple[float, Path]:
    """CPU seconds to store `batches`; the store's file (the caller removes it)."""
    from bot.pipeline import BACKLOG_BATCH
    forget_story_memos()   # each run a first cycle: no signature made by the last one
    path = Path(tempfile.mkdtemp(prefix="ainews-store-alone-")) / "s.db"
    store, waiting = store_class(path), []

    def flush() -> None:
        with first_polls_transaction(store):
            for batch in waiting:
                store.add_new_stories(batch, backlog=True, now=when(0))
        waiting.clear()
    t = time.process_time()
    for batch in batches:
        waiting.append(batch)
        if sum(map(len, waiting)) >= BACKLOG_BATCH:
            flush()
    if waiting:
        flush()
    spent = time.process_time() - t
    store.close()
    return spent, path


def revisions(revs: list[str], batches: list[list], runs: int) -> None:
    alternate({rev: code_at(rev)[1] for rev in revs}, batches, runs)


def parts(batches: list[list], runs: int) -> None:
    """This tree's store as it is, without the comparisons (candidates gathered, none
    compared) and without any cluster search: what the cluster search costs. Without
    it every story leads its own cluster, so the index writes differ a little too."""
    from storage.store import Store

    class NoComparisons(Store):
        def _first_match(self, story, mine, pks):
            return None

    class NoClusterSearch(Store):
        def _find_cluster(self, pk, story, key):
            return None, None   # (cluster, signature): no signature made either

    alternate({"store": Store, "no comparisons": NoComparisons,
               "no cluster search": NoClusterSearch}, batches, runs)


def alternate(stores: dict, batches: list[list], runs: int) -> None:
    """Each store class over the batches in turn, the order reversed every other run."""
    names = list(stores)
    spent: dict[str, list[float]] = {name: [] for name in names}
    for i in range(runs):
        for name in names if i % 2 == 0 else names[::-1]:
            seconds, path = store_all(stores[name], batches)
            spent[name].append(seconds)
            shutil.rmtree(path.parent, ignore_errors=True)
    base = median(spent[names[0]])
    for name in names:
        runs_text = " ".join(f"{s:.2f}" for s in spent[name])
        print(f"{name:>17}  store {median(spent[name]):.3f} s cpu  x "
              f"{median(spent[name]) / base:.2f}  min {min(spent[name]):.3f} s  (runs: {runs_text})")


def floor(batches: list[list], runs: int) -> None:
    from storage.store import Store
    seconds, path = store_all(Store, batches)
    with Store(path) as done:
        rows = {t: done.db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}
        columns = [d[0] for d in done.db.execute("SELECT * FROM stories LIMIT 0").description]
    shutil.rmtree(path.parent, ignore_errors=True)
    bare = [_bare_writes(rows, columns) for _ in range(runs)]
    print(f"this tree's store {seconds:.3f} s cpu; the same rows by bare executemany, "
          f"500 stories a transaction: {median(bare):.3f} s cpu")


def _bare_writes(rows: dict[str, list[tuple]], columns: list[str]) -> float:
    from storage.store import Store
    path = Path(tempfile.mkdtemp(prefix="ainews-store-floor-")) / "s.db"
    store = Store(path)
    conn, title, text = store.db.conn, columns.index("title"), columns.index("text")
    insert = {"stories": f"INSERT INTO stories VALUES ({', '.join('?' * len(columns))})",
              "stories_fts": "INSERT INTO stories_fts (rowid, title, text) VALUES (?, ?, ?)",
              **{t: f"INSERT INTO {t} VALUES (?, ?, ?, ?, ?)" for t in TABLES[1:]}}
    batches = []   # made before the clock starts: only SQLite's work is timed
    for i in range(0, len(rows["stories"]), 500):
        chunk = rows["stories"][i:i + 500]
        pks = {r[0] for r in chunk}
        batches.append({"stories": chunk,
                        "stories_fts": [(r[0], r[title], r[text]) for r in chunk],
                        **{t: [r for r in rows[t] if r[0] in pks] for t in TABLES[1:]}})
    t = time.process_time()
    for batch in batches:
        conn.execute("BEGIN IMMEDIATE")
        for table, values in batch.items():
            conn.executemany(insert[table], values)
        conn.execute("COMMIT")
    spent = time.process_time() - t
    store.close()
    shutil.rmtree(path.parent, ignore_errors=True)
    return spent


def real_batches(classifier) -> list[list]:
    """The backfill bench's real feeds (the shared corpus, one feed per outlet), parsed
    and classified: one batch per feed."""
    from bench.bench_backfill import real_feed_bytes
    from feeds.parser import parse_feed
    return [[s.with_classification(classifier.classify(s.title, s.text))
             for s in parse_feed(body, feed_url=url, source="Bench",
                                 fetched_at=when(0)).stories]
            for url, body in real_feed_bytes()]


def main(argv: list[str] | None = None) -> None:
    from bench.same_store import farm_batches
    from feeds.classify import Classifier
    ap = argparse.ArgumentParser(prog="bench.store_alone")
    ap.add_argument("revs", nargs="*")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--feeds", type=int, default=100)
    ap.add_argument("--floor", action="store_true")
    ap.add_argument("--parts", action="store_true")
    ap.add_argument("--source", choices=("farm", "real"), default="farm")
    args = ap.parse_args(argv)
    classifier = Classifier()
    batches = (real_batches(classifier) if args.source == "real"
               else farm_batches(args.feeds, classifier))
    if args.floor:
        floor(batches, args.runs)
    if args.parts:
        parts(batches, args.runs)
    if args.revs:
        revisions(args.revs, batches, args.runs)


if __name__ == "__main__":
    main()
