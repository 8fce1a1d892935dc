"""Freshness: how long from an entry appearing in its feed to its post in a channel,
with the bot's shipped settings: poll interval 2 minutes, adaptive scheduling, and the
channel's hourly cap.

    .venv/bin/python -m bench freshness [--feeds 60] [--hours 12] [--runs 5] [--cap N] [--quick]

A fake clock drives the real service loop: every 15 s of simulated time (the service's
TICK_SECONDS) Pipeline.poll_once(now) polls the due feeds from a loopback feed server,
dispatch_new queues the fresh strategy stories and Delivery posts them to one recording
channel that follows every feed. The feeds publish at real times of day: each replays
one (outlet, day) of ../shared/corpus/news/items.jsonl, shifted by a random number of
hours, so some are busy, most post a few times a day, bursts and silences included.
Each feed starts with a backlog of earlier entries (stored, never posted) that the
adaptive schedule learns from. After the simulated hours the loop goes on until nothing
waits, so stories held near the end are timed too.

Delay = the (fake) time the story reached the channel minus its appearance on the
server: its own post, or, past the hourly cap (AINEWS_CHANNEL_HOURLY_CAP, read from
bot/config.py; `--cap` overrides it), the roundup of held posts it went out in (the
roundup's send time, each story in it matched to its own appearance). Reported: all
stories, own posts, stories in roundups. The headline `ok` is the shipped settings.

Side by side in one run, each differing from the shipped settings in one thing: the cap
alone, a busy channel's posts not spread over the hour (shipped until the twenty-second
session: up to 10 at once, then nothing until the first turns an hour old), no
hourly cap (what this benchmark measured until the twenty-first session), the quiet-feed
ceiling at 4 x base (feeds/schedule.py MAX_FACTOR ships 2), and a 10-minute base (the
default until the nineteenth session). 60 feeds into one channel is a busy channel: the
bundled feed list (feeds/data/feeds.toml) has 20, `--feeds 20`.
Target: median <= 2 min, p95 <= 4 min.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from bench.common import SHARED, command_line, median, percentile, report, when

ITEMS = SHARED / "corpus" / "news" / "items.jsonl"
TARGET_MEDIAN, TARGET_P95 = 2.0, 4.0
TICK = 15.0


def day_templates() -> list[list[float]]:
    """Seconds after midnight of each (outlet, day) of the corpus with 2+ items."""
    days: dict[tuple, list[float]] = defaultdict(list)
    if ITEMS.exists():
        for line in ITEMS.open(encoding="utf-8"):
            item = json.loads(line)
            if item.get("published"):
                t = datetime.fromisoformat(item["published"])
                days[(item["outlet"], t.date())].append(t.hour * 3600 + t.minute * 60 + t.second)
    pools = sorted(sorted(v) for v in days.values() if len(v) >= 2)
    return pools or [[h * 3600.0 for h in range(8, 20)]]   # without the corpus: hourly


def schedule_for(j: int, pool: list[list[float]], hours: float, rng) -> list[float]:
    """Appearance times (seconds from the start; negative = backlog) of feed j."""
    tod = pool[(j * 7) % len(pool)]
    shift = rng.uniform(0, 86400)
    times = [d * 86400 + (t + shift) % 86400 for d in (-2, -1, 0, 1) for t in tod]
    return sorted(t for t in times if t <= hours * 3600)


class Farm:
    """In-process feed server whose feeds show the entries that have appeared so far."""

    def __init__(self, feeds: int, hours: float, seed: int):
        from tests.fakes.feedserver import make_entries
        rng, pool = random.Random(seed), day_templates()
        self.times = [schedule_for(j, pool, hours, rng) for j in range(feeds)]
        self.entries = []
        for j, times in enumerate(self.times):
            made = make_entries(len(times), seed=seed * 10_000 + j, paragraphs=3,
                                base_url=f"https://fresh{j}.example.com")
            for e, t in zip(made, times):
                e["published"] = when(t / 60)
                e["guid"] = f"fresh-{j}-{t:.0f}"
            self.entries.append(list(zip(times, made)))
        self.shown = [-1] * feeds
        self.appeared: dict[str, float] = {}

    def update(self, srv, now_s: float) -> None:
        from tests.fakes.feedserver import make_rss
        for j, pairs in enumerate(self.entries):
            visible = [e for t, e in pairs if t <= now_s]
            if len(visible) != self.shown[j]:
                self.shown[j] = len(visible)
                for t, e in pairs:
                    if 0 < t <= now_s:      # t <= 0: the first poll, backlog
                        self.appeared.setdefault(e["guid"], t)
                srv.add(f"/f/{j}.xml", make_rss(f"Fresh {j}", visible[::-1][:20]))


def shipped() -> dict:
    """The bot's defaults, read where they live (not copied): poll interval
    (bot/config.py DEFAULT_POLL_MINUTES), quiet-feed ceiling (feeds/schedule.py
    MAX_FACTOR) and posts an hour per channel (Settings.channel_hourly_cap)."""
    from bot.config import DEFAULT_POLL_MINUTES, Settings
    from feeds import schedule
    return {"base": DEFAULT_POLL_MINUTES, "max_factor": schedule.MAX_FACTOR,
            "cap": Settings().channel_hourly_cap}


async def simulate(feeds: int, hours: float, seed: int, max_factor: float,
                   base: float, cap: int | None, spread: bool | None = None) -> dict:
    """One simulated run; `max_factor` stands in for schedule.MAX_FACTOR meanwhile;
    `cap`: the channel's hourly cap (None: none); `spread`: Delivery's (None: as
    shipped)."""
    from feeds import schedule
    from storage.store import Store
    from tests.fakes.recorder import FakeClock
    farm = Farm(feeds, hours, seed)
    tmp = Path(tempfile.mkdtemp(prefix="ainews-bench-fresh-"))
    clock = FakeClock(when(0))
    store = Store(tmp / "fresh.db", clock=clock)
    saved, schedule.MAX_FACTOR = schedule.MAX_FACTOR, max_factor
    try:
        polls, adapter, drained = await _service_loop(farm, store, clock, hours, base, cap,
                                                      spread)
        seen = _first_seen(store)
        return {**_post_delays(store, adapter, farm), "appeared": len(farm.appeared),
                "seen": [(seen[g] - t) / 60 for g, t in farm.appeared.items() if g in seen],
                "polls": polls, "drained_min": drained,
                "delivered_rows": store.db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE state IN ('sent', 'digested')"
                ).fetchone()[0]}
    finally:
        schedule.MAX_FACTOR = saved
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


DRAIN_HOURS = 3.0


async def _service_loop(farm: Farm, store, clock, hours: float, base: float,
                        cap: int | None, spread: bool | None = None):
    """What bot/service.py's loop does each tick, on the fake clock: poll the due feeds,
    dispatch the fresh stories, deliver. After the hours it goes on (no new entries,
    polls not counted) until every entry is seen and nothing waits in the outbox, so
    stories held for a roundup near the end count too. Returns (feeds polled, the
    channel, minutes it went on)."""
    from bot.delivery import Delivery
    from bot.dispatch import dispatch_new
    from bot.pipeline import Pipeline
    from feeds.classify import Classifier
    from feeds.fetcher import FetchPolicy, Fetcher
    from feeds.formatter import Formatter
    from feeds.models import FeedSource, Subscription
    from tests.fakes.feedserver import FeedServer
    from tests.fakes.recorder import RecordingAdapter
    adapter, polls = RecordingAdapter(clock=clock), 0
    store.add_subscription(Subscription("console", "console", "c", "all", "all"), now=clock())
    delivery = Delivery(store, {"console": adapter},
                        hourly_cap=cap if cap is not None else 10**9, clock=clock,
                        sleep=clock.sleep, **({} if spread is None else {"spread": spread}))
    last = int(hours * 3600 / TICK)
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        for j in range(len(farm.entries)):
            store.upsert_feed(FeedSource(f"Fresh {j}", srv.url(f"/f/{j}.xml")))
        pipe = Pipeline(store, fetcher, Classifier(), Formatter(store),
                        poll_minutes=base)
        tick = 0
        while tick <= last or (tick <= last + DRAIN_HOURS * 3600 / TICK
                               and _waiting(store, farm)):
            clock.now = when(tick * TICK / 60)
            farm.update(srv, tick * TICK)
            summary = await pipe.poll_once(now=clock.now)
            if tick <= last:
                polls += summary.feeds_polled
            if summary.fresh:
                dispatch_new(store, summary.fresh, clock.now)
            await delivery.run_once()
            tick += 1
    return polls, adapter, max(0, tick - 1 - last) * TICK / 60


def _waiting(store, farm: Farm) -> bool:
    """An entry not yet stored, or a post not yet out."""
    (n,) = store.db.execute("SELECT COUNT(*) FROM outbox WHERE state IN "
                            "('due', 'held', 'sending')").fetchone()
    return n > 0 or not set(farm.appeared) <= set(_first_seen(store))


def _first_seen(store) -> dict[str, float]:
    """guid -> seconds from the start to the poll that stored it (all stories, posted
    or not: only strategy stories are posted)."""
    from feeds.models import parse_iso
    rows = store.db.execute("SELECT guid, first_seen FROM stories WHERE status = 'new'")
    return {g: (parse_iso(f) - when(0)).total_seconds() for g, f in rows}


def _post_delays(store, adapter, farm) -> dict:
    """Minutes from appearance to the post: a story of its own (adapter.sends), or one
    in a roundup of held posts (adapter.digests), at the roundup's send time."""
    start = when(0)

    def delay(brief, at) -> float | None:
        story = store.get_story(brief.id)
        t = farm.appeared.get(story.guid) if story else None
        return None if t is None else ((at - start).total_seconds() - t) / 60

    own = [delay(s.brief, s.at) for s in adapter.sends]
    rounded = [delay(b, d.at) for d in adapter.digests for b in d.briefs]
    return {"own": [d for d in own if d is not None],
            "roundup": [d for d in rounded if d is not None],
            "roundups": len(adapter.digests),
            "unmatched": own.count(None) + rounded.count(None)}


def _summary(runs: list[dict], v: dict, args) -> dict:
    # Pooled over the runs: a few dozen posts per run make a shaky p95 alone.
    own = [d for r in runs for d in r["own"]]
    rounded = [d for r in runs for d in r["roundup"]]
    pooled = own + rounded
    seen = [d for r in runs for d in r["seen"]]
    med, p95 = median(pooled), percentile(pooled, 95)
    return {**v, "median_min": med, "p95_min": p95,
            "ok": med <= TARGET_MEDIAN and p95 <= TARGET_P95,
            "run_medians": [median(r["own"] + r["roundup"]) for r in runs
                            if r["own"] or r["roundup"]],
            "posted": len(pooled), "appeared": sum(r["appeared"] for r in runs),
            "own_posts": len(own), "own_median_min": median(own),
            "own_p95_min": percentile(own, 95),
            "in_roundups": len(rounded), "roundups": sum(r["roundups"] for r in runs),
            "roundup_median_min": median(rounded), "roundup_p95_min": percentile(rounded, 95),
            "unmatched": sum(r["unmatched"] for r in runs),
            "delivered_rows": sum(r["delivered_rows"] for r in runs),
            "drained_max_min": max(r["drained_min"] for r in runs),
            "seen": len(seen), "seen_median_min": median(seen),
            "seen_p95_min": percentile(seen, 95), "seen_max_min": max(seen, default=0.0),
            "polls_per_feed_hour": median(r["polls"] for r in runs) / args.hours / args.feeds}


def _cap_text(cap: int | None) -> str:
    return "no hourly cap" if cap is None else f"cap {cap}/h"


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench freshness")
    ap.add_argument("--feeds", type=int, default=60,
                    help="feeds, all into one channel (the bundled list has 20)")
    ap.add_argument("--hours", type=float, default=12.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cap", type=int, default=None,
                    help="the channel's hourly cap (default: as shipped, bot/config.py)")
    ap.add_argument("--quick", action="store_true", help="12 feeds, 2 hours, 1 run")
    args, _ = ap.parse_known_args(argv)
    if args.quick:
        args.feeds, args.hours, args.runs = 12, 2.0, 1
    ship = shipped()
    cap = ship["cap"] if args.cap is None else args.cap
    base, factor = ship["base"], ship["max_factor"]
    # Each differs from the shipped settings in one thing: the hourly cap without
    # spreading a busy channel's posts (bot/pacing.py frees_at), no hourly cap (what this
    # benchmark measured until the twenty-first session), a looser quiet-feed ceiling,
    # the 10-minute interval shipped until the nineteenth session (MonitoRSS's pace).
    variants = {"as shipped": {"max_factor": factor, "base": base, "cap": cap},
                "cap alone, not spread (shipped until the twenty-second session)": {
                    "max_factor": factor, "base": base, "cap": cap, "spread": False},
                "no hourly cap": {"max_factor": factor, "base": base, "cap": None},
                "ceiling 4 x base": {"max_factor": 4.0, "base": base, "cap": cap},
                "base 10 min, the default before": {"max_factor": factor, "base": 10.0,
                                                      "cap": cap}}
    result = {"feeds": args.feeds, "hours": args.hours, "shipped": ship, "variants": {}}
    rows = []
    for label, v in variants.items():
        runs = [asyncio.run(simulate(args.feeds, args.hours, seed + 1, v["max_factor"],
                                     v["base"], v["cap"], v.get("spread")))
                for seed in range(args.runs)]
        s = result["variants"][label] = _summary(runs, v, args)
        rows.append((f"{label} ({_cap_text(v['cap'])})",
                     f"all {s['posted']}: median {s['median_min']:.2f}, p95 "
                     f"{s['p95_min']:.2f} min",
                     f"own posts {s['own_posts']}: median {s['own_median_min']:.2f}, p95 "
                     f"{s['own_p95_min']:.2f}",
                     f"{s['in_roundups']} in {s['roundups']} roundups: median "
                     f"{s['roundup_median_min']:.2f}, p95 {s['roundup_p95_min']:.2f}",
                     f"seen: median {s['seen_median_min']:.2f}, p95 "
                     f"{s['seen_p95_min']:.2f}, max {s['seen_max_min']:.1f} min",
                     f"{s['polls_per_feed_hour']:.1f} polls/feed/h",
                     "OK" if s["ok"] else "MISSED"))
    result["ok"] = result["variants"]["as shipped"]["ok"]   # the others compare
    result["command"] = command_line("freshness", argv or [])
    report(f"Freshness: {args.feeds} feeds into one channel, {args.hours:g} simulated hours,"
           f" poll interval {base:g} min, {_cap_text(cap)} (shipped: {ship['cap']}); "
           f"pooled over {args.runs} runs; target median <= {TARGET_MEDIAN:g}, p95 <= "
           f"{TARGET_P95:g} min", rows, result["command"])
    return result


def main(argv: list[str] | None = None) -> dict:
    return run(argv)
