"""First cycle (new feeds, backfill): entries/s through parse, classify, store and
condense, the share of each stage, against bare feedparser.parse on the same bytes.

    .venv/bin/python -m bench backfill [--feeds 100] [--runs 5] [--quick]

The bytes are the feed farm's (generated 20-50 entry feeds of ~100 KB, every 50th a
real miniflux snapshot), built in-process: no network, so the stages are all there is.
Each run goes through a fresh store in the pipeline's order: parse_feed, the known-id
check, classify, add_new_stories (backlog), and the formatter (extractive condense and
the brief cache) for strategy stories. CPU seconds per stage, median over runs.
Target: the stages after parsing add at most 50% to the parse time.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import FarmContent, command_line, median, report, when

TARGET = 0.50
STAGES = ("parse", "classify", "store", "condense")


def feed_bytes(n: int) -> list[tuple[str, bytes]]:
    content = FarmContent(n)
    return [(f"https://bench.invalid/feeds/{i}.xml", content.body(i)) for i in range(n)]


def baseline(feeds: list[tuple[str, bytes]]) -> float:
    import feedparser
    t0 = time.process_time()
    for _url, body in feeds:
        feedparser.parse(body)
    return time.process_time() - t0


def one_run(feeds: list[tuple[str, bytes]]) -> dict:
    from feeds.classify import Classifier
    from feeds.formatter import Formatter
    from storage.store import Store
    tmp = Path(tempfile.mkdtemp(prefix="ainews-bench-backfill-"))
    store = Store(tmp / "backfill.db")
    stages = _Stages(store, Classifier(), Formatter(store))
    try:
        for url, body in feeds:
            stages.feed(url, body)
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"spent": stages.spent, "entries": stages.entries, "strategy": stages.strategy}


class _Stages:
    """One feed through the pipeline's stages, CPU time summed per stage."""

    def __init__(self, store, classifier, formatter):
        self.store, self.classifier, self.formatter = store, classifier, formatter
        self.spent = dict.fromkeys(STAGES, 0.0)
        self.entries = self.strategy = 0

    def _timed(self, stage: str, fn, *args):
        t = time.process_time()
        out = fn(*args)
        self.spent[stage] += time.process_time() - t
        return out

    def feed(self, url: str, body: bytes) -> None:
        from feeds.parser import parse_feed
        parsed = self._timed("parse", lambda: parse_feed(body, feed_url=url, source="Bench",
                                                          fetched_at=when(0)))
        stories = self._timed("classify", self._classify, parsed.stories)
        new = self._timed("store", lambda: self.store.add_new_stories(
            stories, backlog=True, now=when(0)))
        self._timed("condense", self._condense, new)
        self.entries += len(parsed.stories)

    def _classify(self, stories):
        known = self.store.known_story_ids([s.id for s in stories])
        return [s.with_classification(self.classifier.classify(s.title, s.text))
                for s in stories if s.id not in known]

    def _condense(self, new) -> None:
        asyncio.run(self._briefs([s for s in new if s.classification.strategy]))

    async def _briefs(self, stories) -> None:
        # One loop per feed, not per story: loop start-up is not the condenser's cost.
        for story in stories:
            await self.formatter.brief_for(story, use_llm=False)
            self.strategy += 1


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench backfill")
    ap.add_argument("--feeds", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="8 feeds, 1 run")
    args, _ = ap.parse_known_args(argv)
    if args.quick:
        args.feeds, args.runs = 8, 1
    feeds = feed_bytes(args.feeds)
    runs, bases = [], []
    for _ in range(args.runs):      # interleaved, so machine noise hits both alike
        bases.append(baseline(feeds))
        runs.append(one_run(feeds))
    return summarise(runs, bases, feeds, args, argv or [])


def summarise(runs, bases, feeds, args, argv) -> dict:
    spent = {s: median(r["spent"][s] for r in runs) for s in STAGES}
    total, entries = sum(spent.values()), runs[0]["entries"]
    base = median(bases)
    after = (total - spent["parse"]) / spent["parse"]
    mb = sum(len(b) for _u, b in feeds) / 1e6
    result = {"feeds": len(feeds), "entries": entries, "strategy": runs[0]["strategy"],
              "mb": mb, "cpu": spent, "entries_per_s": entries / total,
              "feedparser_entries_per_s": entries / base, "parse_x_feedparser":
              spent["parse"] / base, "after_parse_share_of_parse": after,
              "ok": after <= TARGET, "command": command_line("backfill", argv)}
    rows = [("input", f"{len(feeds)} feeds, {entries} entries, {mb:.1f} MB",
             f"{runs[0]['strategy']} strategy stories condensed"),
            ("bare feedparser.parse (baseline)", f"{base:.2f} s cpu",
             f"{entries / base:,.0f} entries/s"),
            ("whole first cycle (4 stages)", f"{total:.2f} s cpu",
             f"{entries / total:,.0f} entries/s", f"= {total / base:.2f} x feedparser")]
    for s in STAGES:
        rows.append((f"  {s}", f"{spent[s]:.2f} s", f"{100 * spent[s] / total:.0f}% of cycle",
                     f"{entries / spent[s]:,.0f} entries/s" if spent[s] else ""))
    rows.append(("stages after parsing / parse", f"{100 * after:.0f}%",
                 f"target <= {TARGET:.0%}", "OK" if result["ok"] else "MISSED"))
    report(f"Backfill (first cycle), CPU medians of {args.runs} runs", rows, result["command"])
    return result


def main(argv: list[str] | None = None) -> dict:
    return run(argv)
