"""Steady-state poll cycle: 1,000 feeds on loopback with 100 ms added latency each.

    .venv/bin/python -m bench poll [--feeds 1000] [--latency 0.1] [--cycles 5] [--quick]

A first full cycle (every feed new: fetch, parse, classify, store, condense), then
`cycles` more in which 5% of the generated feeds gain one entry each, first with the
farm honouring conditional GET (unchanged feeds answer 304), then ignoring it (the same
200 body every time). Each cycle is Pipeline.poll_once over every feed, the code path
of `ainews run`. Reported: wall per cycle against the ideal (feeds x latency /
concurrency), CPU per cycle against the first cycle's, and a naive sequential
feedparser.parse(url) loop over `--naive` feeds scaled to all of them.
Targets: wall <= 1.25 x ideal; CPU <= 5% of the first cycle's, in both variants.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import tempfile
from pathlib import Path

from bench.common import command_line, feed_farm, median, report, timed, when

WALL_TARGET = 1.25
CPU_TARGET = 0.05


def _pipeline(store, fetcher, poll_minutes: float = 2.0):
    from bot.pipeline import Pipeline
    from feeds.classify import Classifier
    from feeds.formatter import Formatter
    return Pipeline(store, fetcher, Classifier(), Formatter(store), poll_minutes=poll_minutes)


async def _cycles(farm, store, args) -> dict:
    from feeds.fetcher import FetchPolicy, Fetcher
    from feeds.models import FeedSource
    for i, url in enumerate(farm.urls):
        store.upsert_feed(FeedSource(f"Outlet {i}", url))
    policy = FetchPolicy(allow_private=True, concurrency=args.concurrency)
    out = {"variants": {}, "floor": {}}
    async with Fetcher(policy) as fetcher:
        pipe = _pipeline(store, fetcher)
        out["first"] = await _cycle(pipe, 0)
        steady = _Steady(farm, pipe, random.Random(5))
        for variant, conditional in (("304", True), ("same-body", False)):
            await farm.conditional(conditional)
            out["variants"][variant] = [await steady.cycle() for _ in range(args.cycles)]
            out["floor"][variant] = [await _fetch_only(fetcher, store, farm.urls)
                                     for _ in range(args.cycles)]
    return out


async def _cycle(pipe, minute: int) -> dict:
    """One timed poll of every feed."""
    with timed() as t:
        s = await pipe.poll_once(now=when(minute), all_feeds=True)
    # A feed that failed its first poll brings its backlog now: not a new entry.
    return {"wall": t.wall, "cpu": t.cpu, "stories": s.new_stories,
            "new": sum(o.new for o in s.outcomes if not o.backlog),
            "failures": len(s.failures), "unchanged": sum(o.unchanged for o in s.outcomes)}


class _Steady:
    """Steady-state cycles: 5% of the generated feeds gain an entry before each."""

    def __init__(self, farm, pipe, rng):
        self.farm, self.pipe, self.rng, self.minute = farm, pipe, rng, 0

    async def cycle(self) -> dict:
        self.minute += 2
        gen = self.farm.generated
        bumped = self.rng.sample(gen, max(1, len(gen) // 20))
        await self.farm.bump(bumped, when(self.minute))
        return {**await _cycle(self.pipe, self.minute), "bumped": len(bumped)}


async def _fetch_only(fetcher, store, urls: list[str]) -> float:
    """The transport floor: the same requests (same validators), bodies discarded."""
    states = {s.source.url: s for s in store.feed_states()}
    with timed() as t:
        await asyncio.gather(*(fetcher.fetch(u, etag=states[u].etag,
                                             last_modified=states[u].last_modified)
                               for u in urls))
    return t.wall


def naive_loop(urls: list[str]) -> dict:
    """What a first bot would write: feedparser.parse(url) for each feed in turn."""
    import feedparser
    with timed() as t:
        for url in urls:
            feedparser.parse(url)
    return {"wall": t.wall, "cpu": t.cpu, "feeds": len(urls)}


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench poll")
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--naive", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="60 feeds, 20 ms latency, 5 cycles")
    args, _ = ap.parse_known_args(argv)
    if args.quick:
        args.feeds, args.latency, args.naive = 60, 0.02, 10
    from storage.store import Store
    tmp = Path(tempfile.mkdtemp(prefix="ainews-bench-poll-"))
    try:
        with feed_farm(args.feeds, latency=args.latency) as farm:
            store = Store(tmp / "poll.db")
            try:
                data = asyncio.run(_cycles(farm, store, args))
            finally:
                store.close()
            naive = naive_loop(farm.urls[: args.naive])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summarise(data, naive, args, argv or [])


def summarise(data: dict, naive: dict, args, argv: list[str]) -> dict:
    ideal = args.feeds * args.latency / args.concurrency
    first, scale = data["first"], args.feeds / naive["feeds"]
    result = {"feeds": args.feeds, "latency": args.latency, "ideal_wall": ideal,
              "first": first, "naive_scaled": {"wall": naive["wall"] * scale,
                                                "cpu": naive["cpu"] * scale},
              "variants": {}, "load_avg": os.getloadavg()}
    rows = [("first cycle (all new)", f"wall {first['wall']:.1f} s",
             f"cpu {first['cpu']:.1f} s", f"{first['stories']} stories",
             f"{first['failures']} failed"),
            (f"naive feedparser loop (x{scale:g})", f"wall {naive['wall'] * scale:.1f} s",
             f"= {naive['wall'] * scale / ideal:.1f} x ideal",
             f"cpu {naive['cpu'] * scale:.1f} s")]
    for variant, cycles in data["variants"].items():
        v = _variant(cycles, data["floor"][variant], ideal, first["cpu"])
        result["variants"][variant] = v
        rows.append((f"steady cycle, server {variant} (median of {len(cycles)})",
                     f"wall {v['wall_median']:.2f} s = {v['wall_x_ideal']:.2f} x ideal "
                     f"{ideal:.2f} s", f"cpu {v['cpu_median']:.2f} s = "
                     f"{100 * v['cpu_share_of_first']:.1f}% of first",
                     f"fetch-only floor {v['fetch_only_wall']:.2f} s "
                     f"({v['wall_x_fetch_only']:.2f} x)",
                     f"vs naive: {naive['wall'] * scale / v['wall_median']:.0f}x faster",
                     f"missed {v['new_entries_missed']}", "OK" if v["ok"] else "MISSED"))
    rows.append(("machine load (1, 5, 15 min)", " ".join(f"{x:.1f}" for x in os.getloadavg()),
                 f"on {os.cpu_count()} cores"))
    result["ok"] = all(v["ok"] for v in result["variants"].values())
    result["command"] = command_line("poll", argv)
    report(f"Poll cycle: {args.feeds} feeds, {args.latency * 1000:g} ms latency, "
           f"concurrency {args.concurrency} (targets: wall <= {WALL_TARGET} x ideal, "
           f"cpu <= {CPU_TARGET:.0%} of first)", rows, result["command"])
    return result


def _variant(cycles: list[dict], floors: list[float], ideal: float, first_cpu: float) -> dict:
    wall, cpu = median(c["wall"] for c in cycles), median(c["cpu"] for c in cycles)
    floor = median(floors)
    missed = sum(c["bumped"] - c["new"] for c in cycles)
    return {"wall_median": wall, "wall_x_ideal": wall / ideal, "cpu_median": cpu,
            "cpu_share_of_first": cpu / first_cpu, "fetch_only_wall": floor,
            "wall_x_fetch_only": wall / floor, "new_entries_missed": missed,
            "cycles": cycles, "ok": wall / ideal <= WALL_TARGET
            and cpu / first_cpu <= CPU_TARGET and missed == 0}


def main(argv: list[str] | None = None) -> dict:
    return run(argv)
