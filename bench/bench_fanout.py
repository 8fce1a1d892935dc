"""Fan-out: one story to 5,000 subscribed channels through fake platforms that enforce
Discord-like and Slack-like rate limits, answering 429 (with Retry-After) past them.

    .venv/bin/python -m bench fanout [--channels 5000] [--runs 5] [--quick]

The real dispatch (subscriptions -> outbox) and Delivery (outbox -> adapter) run on a
time-warping event loop (bench/common.py): waiting costs no real time, CPU work costs
what it costs, so a 100-second rate-limited delivery takes seconds to measure.

Rate-limit models (token buckets: `burst` requests at once, then `rate` per second):
- discord: global 50 requests/s per bot (burst 50); per channel 5 per 5 s (burst 5).
  All channels belong to one bot, so the ideal is (channels - 50) / 50 s.
- slack: chat.postMessage 1 per second per channel (burst 1); workspace-wide "several
  hundred per minute": modelled as 300/min = 5/s with a burst of 30, one workspace (a
  bot token serves one workspace). Ideal (channels - 30) / 5 s.
A 429 is a rejected request: counted, never delivered. Target: all delivered within
1.1 x the ideal, none lost, none duplicated.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import command_line, median, report, run_warped, timed

TARGET = 1.10
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@dataclass
class Bucket:
    rate: float
    burst: float
    tokens: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> float:
        """0 when a request may pass now (token spent), else seconds until one is free."""
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1 - 1e-9:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


MODELS = {
    # (global rate, global burst, per-channel rate, per-channel burst)
    "discord": (50.0, 50.0, 1.0, 5.0),
    "slack": (5.0, 30.0, 1.0, 1.0),
}


@dataclass
class RateLimitedPlatform:
    """An in-process platform: enforces the model's buckets, records what got through."""
    platform: str
    loop: asyncio.AbstractEventLoop
    min_interval: float = 1.0
    accepted: Counter = field(default_factory=Counter)
    rejected: int = 0
    last_accept: float = 0.0

    def __post_init__(self):
        g_rate, g_burst, self.c_rate, self.c_burst = MODELS[self.platform]
        # What the adapter declares: 1% headroom, as a real adapter should leave, so
        # clock rounding never turns the last slot of a second into a 429.
        self.max_rate, self.burst = g_rate * 0.99, g_burst
        self.glob = Bucket(g_rate, g_burst)
        self.channels: dict[str, Bucket] = {}

    def _admit(self, channel: str) -> None:
        from bot.adapter import TransientError
        now = self.loop.time()
        chan = self.channels.setdefault(channel, Bucket(self.c_rate, self.c_burst))
        for bucket in (chan, self.glob):
            wait = bucket.take(now)
            if wait:
                if bucket is self.glob:
                    chan.tokens += 1            # the channel's token was not used
                self.rejected += 1
                raise TransientError(f"{self.platform}: 429 rate limited", retry_after=wait)

    async def send(self, channel: str, brief, *, nonce: str) -> str:
        self._admit(channel)
        self.accepted[channel] += 1
        self.last_accept = self.loop.time()
        return f"{channel}-{nonce}"

    async def edit(self, channel: str, message_id: str, brief) -> None:
        self._admit(channel)

    async def send_digest(self, channel: str, title: str, briefs, *, nonce: str) -> str:
        return await self.send(channel, briefs[0], nonce=nonce)


def ideal_seconds(platform: str, channels: int) -> float:
    g_rate, g_burst, _c, _b = MODELS[platform]
    return max(0.0, channels - g_burst) / g_rate


async def _deliver_all(loop, store, platform: str, channels: int) -> dict:
    start = loop.time()

    def clock() -> datetime:
        return T0 + timedelta(seconds=loop.time() - start)

    queued = _queue_story(store, platform, channels, clock)
    fake = RateLimitedPlatform(platform, loop)
    t0 = loop.time()
    await _deliver_until_done(store, fake, channels, clock)
    return {"queued": queued, "seconds": fake.last_accept - t0, "rejected_429": fake.rejected,
            "delivered": sum(fake.accepted.values()), "lost": channels - len(fake.accepted),
            "duplicated": sum(n - 1 for n in fake.accepted.values() if n > 1),
            "outbox": store.outbox_counts()}


def _queue_story(store, platform: str, channels: int, clock) -> int:
    """`channels` channels following everything, and one story dispatched to them."""
    from bot.dispatch import dispatch_new
    from feeds.models import Brief, Subscription
    for c in range(channels):
        store.add_subscription(Subscription(platform, "w1", f"c{c}", "all", "all"), now=clock())
    story = Brief(id="story-1", headline="Alibaba cuts Qwen prices", bullets=("a", "b", "c"),
                  why_it_matters="because", url="https://news.example/1", source="Outlet",
                  published=clock(), companies=("Alibaba",), topics=("pricing",),
                  strategy=True)
    return dispatch_new(store, [story], clock())


async def _deliver_until_done(store, fake, channels: int, clock) -> None:
    """The service's delivery loop until every channel has the story (or 20 x ideal)."""
    from bot.delivery import Delivery
    loop = asyncio.get_running_loop()
    delivery = Delivery(store, {fake.platform: fake}, clock=clock, sleep=asyncio.sleep)
    stop = asyncio.Event()
    task = asyncio.create_task(delivery.run_forever(stop))
    deadline = loop.time() + 20 * max(ideal_seconds(fake.platform, channels), 10.0)
    while sum(fake.accepted.values()) < channels and loop.time() < deadline:
        await asyncio.sleep(0.5)
    stop.set()
    await task


def one_run(platform: str, channels: int) -> dict:
    from storage.store import Store
    tmp = Path(tempfile.mkdtemp(prefix="ainews-bench-fanout-"))
    store = Store(tmp / "fanout.db")
    try:
        with timed() as t:
            res = run_warped(lambda loop: _deliver_all(loop, store, platform, channels))
        res["cpu"] = t.cpu
        return res
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _summary(platform: str, channels: int, runs: list[dict]) -> dict:
    ideal = ideal_seconds(platform, channels)
    secs = median(r["seconds"] for r in runs)
    lost, dup = max(r["lost"] for r in runs), max(r["duplicated"] for r in runs)
    ratio = secs / ideal if ideal else float("nan")
    return {"ideal_s": ideal, "median_s": secs, "x_ideal": ratio, "lost": lost,
            "duplicated": dup, "runs": runs,
            "ok": lost == 0 and dup == 0 and (ideal == 0 or ratio <= TARGET)}


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench fanout")
    ap.add_argument("--channels", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--platform", action="append", choices=sorted(MODELS))
    ap.add_argument("--quick", action="store_true", help="300 channels, 1 run")
    args, _ = ap.parse_known_args(argv)
    if args.quick:
        args.channels, args.runs = 300, 1
    result, rows = {"channels": args.channels, "platforms": {}}, []
    for platform in args.platform or sorted(MODELS):
        runs = [one_run(platform, args.channels) for _ in range(args.runs)]
        p = result["platforms"][platform] = _summary(platform, args.channels, runs)
        rows.append((f"{platform}: {args.channels} channels (median of {args.runs})",
                     f"{p['median_s']:.1f} s = {p['x_ideal']:.3f} x ideal {p['ideal_s']:.1f} s",
                     f"429s {median(r['rejected_429'] for r in runs):.0f}",
                     f"lost {p['lost']}", f"duplicated {p['duplicated']}",
                     f"cpu {median(r['cpu'] for r in runs):.1f} s",
                     "OK" if p["ok"] else "MISSED"))
    result["ok"] = all(p["ok"] for p in result["platforms"].values())
    result["command"] = command_line("fanout", argv or [])
    report(f"Fan-out of one story (target <= {TARGET} x rate-limit ideal, none lost or "
           "duplicated)", rows, result["command"])
    return result


def main(argv: list[str] | None = None) -> dict:
    return run(argv)
