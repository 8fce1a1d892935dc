"""First cycle (new feeds, backfill): entries/s through parse, classify, store and
condense, the share of each stage, against bare feedparser.parse on the same bytes.

    .venv/bin/python -m bench backfill [--feeds 100] [--runs 5] [--quick] [--against REV]
                                       [--source farm|real|both]

Two sets of bytes, each measured on its own (`--source`, default both), built in-process:
no network, so the stages are all there is.
- farm: the feed farm's generated 20-50 entry feeds of ~100 KB (every 50th a real
  miniflux snapshot). A worst case for the stages after parsing: every generated entry
  is an AI-strategy story about two of the same 20 companies, so each passes the AI gate
  into the whole classifier and meets dozens of clustering candidates.
- real: the shared corpus's 1,469 real news items, one RSS feed per outlet (30 feeds,
  built as bench/bench_parse.py builds them), with the real mix: about a fifth of them
  AI strategy.
Each run goes through a fresh store in the pipeline's order, calling the pipeline's own
stage methods: parse_feed, Pipeline.classify_unseen (known-id check, classify),
add_new_stories (backlog; first polls BACKLOG_BATCH stories to a transaction, as
Pipeline.poll_once writes them), Pipeline.condense_fresh (nothing for a backlog: its briefs
are made when a lookup first shows them, so `latest 25` after the backfill is timed
too, first and again). CPU seconds per stage, median over runs.
Target: the stages after parsing add at most 50% to the parse time, the parse being the
issue's reference, bare feedparser.parse; the share of our own (faster) parse is shown
beside it. --against REV also runs the classifier and store code of git revision REV
(feeds/classify.py, feeds/gazetteer.py, feeds/cluster.py, storage/store.py, stories.py,
schema.py and the modules split out of them; today's data files; a store without `transaction` is given one feed per
transaction, as the pipeline of its time wrote first polls), interleaved with today's in the same process, and prints both side by side.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

from bench.common import (ROOT, FarmContent, command_line, first_polls_transaction, median,
                          report, when)

TARGET = 0.50
STAGES = ("parse", "classify", "store", "condense")
SOURCES = {"farm": "generated farm (every entry AI strategy)",
           "real": "real news items (the shared corpus)"}


def feed_bytes(n: int) -> list[tuple[str, bytes]]:
    content = FarmContent(n)
    return [(f"https://bench.invalid/feeds/{i}.xml", content.body(i)) for i in range(n)]


def real_feed_bytes(items: Path | None = None) -> list[tuple[str, bytes]]:
    """One RSS feed per outlet of the shared corpus's real items (or `items`, a JSONL file
    in its layout). The Atom twin bench_parse also builds is left out: its entries would
    all be known already."""
    from bench.bench_parse import ITEMS, corpus_feeds
    items = items or ITEMS
    feeds = [body for name, body in corpus_feeds(items).items() if name.endswith("(RSS)")]
    if not feeds:
        raise SystemExit(f"bench backfill: no real items in {items} (../shared/corpus/news)")
    return [(f"https://bench.invalid/real/{i}.xml", body) for i, body in enumerate(feeds)]


def baseline(feeds: list[tuple[str, bytes]]) -> float:
    import feedparser
    t0 = time.process_time()
    for _url, body in feeds:
        feedparser.parse(body)
    return time.process_time() - t0


def one_run(feeds: list[tuple[str, bytes]], code: tuple | None = None) -> dict:
    from feeds.formatter import Formatter
    Classifier, Store = code or _today()   # code: another revision's (Classifier, Store)
    forget_story_memos()
    tmp = Path(tempfile.mkdtemp(prefix="ainews-bench-backfill-"))
    store = Store(tmp / "backfill.db")
    classifier = Classifier()
    stages = _Stages(store, classifier, Formatter(store))
    try:
        for url, body in feeds:
            stages.feed(url, body)
        stages.flush()
        lookup = first_lookup(store, classifier)
    finally:
        stages.loop.close()
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"spent": stages.spent, "entries": stages.entries, "strategy": stages.strategy,
            "lookup": lookup}


# Module-level memos keyed by stories' own text or dates (a story's signature, its title
# words). The runs replay the same stories, so without this every run after the first
# found every signature made already, which a real first cycle (a fresh process, new
# stories) never does: the store stage read ~0.4 s (a quarter) low on the farm.
STORY_MEMOS = {"cluster": ("_signature", "_title_words", "_stem", "_name_words", "_SHARED"),
               "candidates": ("_days",)}


def forget_story_memos() -> None:
    """Empty STORY_MEMOS, in today's modules and in every revision's loaded by load_at."""
    for stem, names in STORY_MEMOS.items():
        today = (sys.modules.get(f"feeds.{stem}"), sys.modules.get(f"storage.{stem}"))
        for module in (*today, *LOADED.get(stem, ())):
            for name in names:
                memo = getattr(module, name, None)
                clear = getattr(memo, "cache_clear", None) or getattr(memo, "clear", None)
                if clear is not None:
                    clear()


def _today() -> tuple:
    from functools import partial

    from feeds.classify import Classifier
    from storage.store import Store
    # as `ainews run` makes it by default (bot.app.make_classifier: no LLM judge, so no
    # probability for what the AI gate stopped)
    return partial(Classifier, score_gated=False), Store


def first_lookup(store, classifier) -> dict:
    """CPU of `latest 25` right after the backfill (its backlog briefs made on demand)
    and of the same lookup again (cached): where the condensing went."""
    from bot.commands import Commands
    from bot.replies import Caller
    commands = Commands(store, classifier)
    caller = Caller("console", "console", "bench", "bench")
    out = {}
    for name in ("first", "again"):
        t = time.process_time()
        reply = commands.latest(caller, 25)
        out[name] = time.process_time() - t
    out["briefs"] = sum(bool(b.bullets) for b in reply.briefs)
    return out


class _Stages:
    """One feed through the pipeline's own stage methods, CPU time summed per stage.
    First polls are stored as `Pipeline.poll_once` stores them: BACKLOG_BATCH stories'
    feeds to a transaction (a store without `transaction`, an older revision's, one
    feed to a transaction, as its pipeline did)."""

    def __init__(self, store, classifier, formatter):
        from bot.pipeline import Pipeline
        self.store = store
        self.pipeline = Pipeline(store, None, classifier, formatter)   # no fetching here
        self.loop = asyncio.new_event_loop()   # one per run: loop start-up is not a stage
        self.spent = dict.fromkeys(STAGES, 0.0)
        self.entries = self.strategy = 0
        self.waiting: list[list] = []

    def _timed(self, stage: str, fn, *args):
        t = time.process_time()
        out = fn(*args)
        self.spent[stage] += time.process_time() - t
        return out

    def feed(self, url: str, body: bytes) -> None:
        from bot.pipeline import BACKLOG_BATCH
        from feeds.parser import parse_feed
        parsed = self._timed("parse", lambda: parse_feed(body, feed_url=url, source="Bench",
                                                          fetched_at=when(0)))
        self.waiting.append(self._timed("classify", self.pipeline.classify_unseen,
                                        parsed.stories))
        self.entries += len(parsed.stories)
        if (not hasattr(self.store, "transaction")
                or sum(map(len, self.waiting)) >= BACKLOG_BATCH):
            self.flush()

    def flush(self) -> None:
        waiting, self.waiting = self.waiting, []
        if not waiting:
            return
        add = self.store.add_new_stories
        if hasattr(self.store, "transaction"):
            def store():
                with first_polls_transaction(self.store):
                    return [s for b in waiting for s in add(b, backlog=True, now=when(0))]
        else:
            def store():
                return [s for b in waiting for s in add(b, backlog=True, now=when(0))]
        new = self._timed("store", store)
        # What poll_feed does next on a first poll (backlog): briefs are made on lookup.
        self._timed("condense", lambda: self.loop.run_until_complete(
            self.pipeline.condense_fresh(new, backlog=True)))
        self.strategy += sum(s.classification.strategy for s in new)


def code_at(rev: str) -> tuple:
    """(Classifier, Store) as they were at git revision `rev`: the classify and store
    modules read with `git show` and loaded under other names beside today's. Modules
    split out later (phrases, learned, scan; event_match, candidates, clusters, story_rows,
    dedupe, briefs, search) are loaded where REV has them; lookups too, as search was
    split out of it."""
    classify = load_at(rev, ("feeds/gazetteer.py", "feeds/phrases.py", "feeds/learned.py",
                             "feeds/scan.py", "feeds/classify.py"), "_rev_")
    store = load_at(rev, ("storage/migrate.py", "storage/schema.py", "feeds/cluster.py",
                          "feeds/event_match.py", "storage/candidates.py", "storage/clusters.py",
                          "storage/story_rows.py", "storage/dedupe.py",
                          "storage/briefs.py", "storage/stories.py", "storage/lookups.py",
                          "storage/search.py", "storage/store.py"),
                    "_rev_")
    return classify.Classifier, store.Store


LOADED: dict[str, list[types.ModuleType]] = {}   # stem -> every revision's copy loaded


def load_at(rev: str, paths: tuple[str, ...], prefix: str):
    """Load the modules `paths` (in dependency order) as they were at `rev`, each named
    `prefix` + its stem, their imports of each other pointed at these copies; those REV
    lacks are skipped. Returns the last one loaded."""
    renames: dict[str, str] = {}
    module = None
    for path in paths:
        if not exists_at(rev, path):
            continue
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True,
                             capture_output=True, text=True).stdout
        for old, new in renames.items():
            src = src.replace(f"from {old} import", f"from {new} import")
        name = renames[path[:-3].replace("/", ".")] = prefix + Path(path).stem
        module = sys.modules[name] = types.ModuleType(name)
        LOADED.setdefault(Path(path).stem, []).append(module)   # two revisions: same name
        module.__file__ = str(ROOT / path)   # so the gazetteer reads today's feeds/data
        exec(compile(src, f"{rev}:{path}", "exec"), module.__dict__)
    return module


def exists_at(rev: str, path: str) -> bool:
    return subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{rev}:{path}"],
                          capture_output=True).returncode == 0


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench backfill")
    ap.add_argument("--feeds", type=int, default=100, help="generated farm feeds")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="8 farm feeds, 1 run")
    ap.add_argument("--against", metavar="REV", help="also run revision REV's classify and store")
    ap.add_argument("--source", choices=("farm", "real", "both"), default="both")
    ap.add_argument("--items", type=Path, help="real items (JSONL) instead of the shared corpus's")
    args, _ = ap.parse_known_args(argv)
    if args.quick:
        args.feeds, args.runs = 8, 1
    old = code_at(args.against) if args.against else None
    sources = list(SOURCES) if args.source == "both" else [args.source]
    return {source: measure(source, args, argv or [], old) for source in sources}


def measure(source: str, args, argv: list[str], old: tuple | None) -> dict:
    """One source's runs, interleaved with bare feedparser (and REV's code, if any)."""
    feeds = feed_bytes(args.feeds) if source == "farm" else real_feed_bytes(args.items)
    runs, bases, olds = [], [], []
    for i in range(args.runs):      # interleaved, so machine noise hits all alike
        bases.append(baseline(feeds))
        if old and i % 2:
            olds.append(one_run(feeds, old))
        runs.append(one_run(feeds))
        if old and not i % 2:
            olds.append(one_run(feeds, old))
    result = summarise(runs, bases, feeds, source, args, argv)
    if olds:
        result["against"] = against(olds, runs, bases, source, args.against, argv)
    return result


def against(olds: list[dict], runs: list[dict], bases: list[float], source: str, rev: str,
            argv: list[str]) -> dict:
    """Revision `rev` beside today's code: CPU medians per stage, and the ratio."""
    base = median(bases)
    old = {s: median(r["spent"][s] for r in olds) for s in STAGES}
    new = {s: median(r["spent"][s] for r in runs) for s in STAGES}
    rows = [(f"  {s}", f"{old[s]:.2f} s", f"{new[s]:.2f} s", f"x {new[s] / old[s]:.2f}")
            for s in STAGES if old[s] >= 0.05]
    after_old, after_new = (sum(v.values()) - v["parse"] for v in (old, new))
    rows.append(("stages after parsing / bare feedparser", f"{100 * after_old / base:.0f}%",
                 f"{100 * after_new / base:.0f}%", f"x {after_new / after_old:.2f}"))
    report(f"Backfill, {SOURCES[source]}: {rev} (left) and this tree (right), CPU "
           "medians, same runs",
           rows, command_line("backfill", argv))
    return {"rev": rev, "cpu_rev": old, "cpu": new, "entries_rev": olds[0]["entries"],
            "strategy_rev": olds[0]["strategy"]}


def summarise(runs, bases, feeds, source, args, argv) -> dict:
    spent = {s: median(r["spent"][s] for r in runs) for s in STAGES}
    total, entries = sum(spent.values()), runs[0]["entries"]
    base = median(bases)
    after_s = total - spent["parse"]
    # The reference parse is bare feedparser; ours is faster, so both are shown.
    after, after_ours = after_s / base, after_s / spent["parse"]
    lookup = {k: median(r["lookup"][k] for r in runs) for k in ("first", "again")}
    mb = sum(len(b) for _u, b in feeds) / 1e6
    result = {"feeds": len(feeds), "entries": entries, "strategy": runs[0]["strategy"],
              "mb": mb, "cpu": spent, "entries_per_s": entries / total,
              "feedparser_entries_per_s": entries / base, "parse_x_feedparser":
              spent["parse"] / base, "after_parse_share_of_feedparser": after,
              "after_parse_share_of_parse": after_ours, "lookup_cpu": lookup,
              "lookup_briefs": runs[0]["lookup"]["briefs"],
              "ok": after <= TARGET, "command": command_line("backfill", argv)}
    rows = [("input", f"{len(feeds)} feeds, {entries} entries, {mb:.1f} MB",
             f"{runs[0]['strategy']} strategy stories (backlog: briefs on lookup)"),
            ("bare feedparser.parse (baseline)", f"{base:.2f} s cpu",
             f"{entries / base:,.0f} entries/s"),
            ("whole first cycle (4 stages)", f"{total:.2f} s cpu",
             f"{entries / total:,.0f} entries/s", f"= {total / base:.2f} x feedparser")]
    for s in STAGES:
        rows.append((f"  {s}", f"{spent[s]:.2f} s", f"{100 * spent[s] / total:.0f}% of cycle",
                     f"{entries / spent[s]:,.0f} entries/s" if spent[s] else ""))
    rows += [("stages after parsing / bare feedparser", f"{100 * after:.0f}%",
              f"target <= {TARGET:.0%}", "OK" if result["ok"] else "MISSED"),
             ("stages after parsing / our parse", f"{100 * after_ours:.0f}%"),
             ("then `latest 25`: first / again", f"{1000 * lookup['first']:.1f} ms",
              f"{1000 * lookup['again']:.1f} ms cpu",
              f"{result['lookup_briefs']} of 25 with bullets")]
    report(f"Backfill (first cycle), {SOURCES[source]}, CPU medians of {args.runs} runs",
           rows, result["command"])
    return result


def main(argv: list[str] | None = None) -> dict:
    return run(argv)
