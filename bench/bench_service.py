"""The running bot's CPU share: `ainews run` polling 1,000 feeds every 2 minutes.

    .venv/bin/python -m bench service [--feeds 1000] [--channels 100] [--minutes 10]
                                      [--interval 2] [--aged POSTS] [--quick]

The performance issue's claim, measured end to end: "2-minute polling of 1,000 feeds
costs under 10% of one core". The poll benchmark (section 1) times the pipeline's cycle
alone; this one runs the whole service as an operator would (`ainews run` as a child
process, console adapter, `--channels` console channels following everything,
AINEWS_POLL_MINUTES=`--interval`, adaptive scheduling, delivery, retention, status) against
the loopback feed farm (100 ms latency per request, conditional GET honoured). After
its first cycle (every feed new: the backfill, not measured here), it is watched for
`--minutes`: at the start of each interval 5% of the feeds gain one entry dated now, and
the child's CPU time (utime + stime, /proc/PID/stat) over the window is divided by the
window's wall time. Also reported: polls made, stories posted to each channel, peak RSS.
The farm runs in its own process, so its CPU is not counted. `--aged 60000` starts the
bot on a store that already holds 60,000 posts sent to its channels over the 180 days
retention keeps (bench/bench_outbox.py): what a bot run for months reads on every pass.
Target: CPU share < 10% of one core.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.bench_footprint import _polls, _prepare, _vm_hwm, running_bot
from bench.bench_outbox import age_store
from bench.common import command_line, feed_farm, report

SHARE_TARGET = 0.10
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` so far (fields 14 and 15 of /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()   # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICK


def _sent(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return c.execute("SELECT COUNT(*) FROM outbox WHERE state = 'sent'").fetchone()[0]
    except sqlite3.Error:
        return 0


def _wait_first_cycle(proc, db: Path, feeds: int, limit_s: float) -> float | None:
    t0 = time.perf_counter()
    while proc.poll() is None and time.perf_counter() - t0 < limit_s:
        time.sleep(0.5)
        if (_polls(db)[0] or 0) >= feeds:
            return time.perf_counter() - t0
    return None


def _window(proc, farm, db: Path, minutes: float, interval: float) -> dict:
    """Bump 5% of the feeds at the start of every interval; CPU and wall over the window."""
    generated, step = farm.generated, max(1, round(1 / 0.05))
    polls0, sent0 = _polls(db)[1] or 0, _sent(db)
    cpu0, t0, bumps = _cpu_seconds(proc.pid), time.perf_counter(), 0
    end = t0 + minutes * 60
    while time.perf_counter() < end and proc.poll() is None:
        if time.perf_counter() >= t0 + bumps * interval * 60:
            chosen = generated[bumps % step::step]
            asyncio.run(farm.bump(chosen, datetime.now(timezone.utc)))
            bumps += 1
        time.sleep(min(1.0, max(0.0, end - time.perf_counter())))
    cpu, wall = _cpu_seconds(proc.pid) - cpu0, time.perf_counter() - t0
    return {"cpu_s": cpu, "wall_s": wall, "share": cpu / wall, "bumps": bumps,
            "polls": (_polls(db)[1] or 0) - polls0, "sent": _sent(db) - sent0}


def measure(feeds: int, channels: int, minutes: float, interval: float,
            latency: float, aged: int = 0) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="ainews-bench-service-"))
    db = tmp / "run.db"
    with feed_farm(feeds, latency=latency) as farm:
        env = {**_prepare(tmp, farm.urls, channels), "AINEWS_POLL_MINUTES": f"{interval:g}"}
        if aged:   # the channels' posts of the last 180 days, as a bot run for months has
            age_store(db, channels, aged, ("console", "console", "c"))
        with running_bot(env, tmp) as proc:
            first_s = _wait_first_cycle(proc, db, feeds, limit_s=900)
            window = _window(proc, farm, db, minutes, interval) if first_s else {}
            peak = _vm_hwm(proc.pid)
    shutil.rmtree(tmp, ignore_errors=True)
    return {**window, "first_cycle_s": first_s, "peak_rss_mb": peak}


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench service")
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--channels", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=10.0, help="the measured window")
    ap.add_argument("--interval", type=float, default=2.0, help="AINEWS_POLL_MINUTES")
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--aged", type=int, default=0, metavar="POSTS",
                    help="start from a store holding POSTS sent posts of the last 180 days")
    ap.add_argument("--quick", action="store_true", help="40 feeds, 0.5-min interval, 1 min")
    args, _ = ap.parse_known_args(argv)
    if args.quick:
        args.feeds, args.channels, args.minutes, args.interval = 40, 10, 1.0, 0.5
        args.latency = 0.01
    m = measure(args.feeds, args.channels, args.minutes, args.interval, args.latency,
                args.aged)
    ok = bool(m.get("wall_s")) and m["share"] < SHARE_TARGET
    result = {**m, "feeds": args.feeds, "channels": args.channels, "ok": ok,
              "interval_min": args.interval, "command": command_line("service", argv or [])}
    if not m.get("wall_s"):
        report("Service CPU share", [("ainews run", "did NOT finish its first cycle",
                                      "MISSED")], result["command"])
        return result
    report(f"Service CPU share (target: < {SHARE_TARGET:.0%} of one core)", [
        (f"ainews run: {args.feeds} feeds every {args.interval:g} min, {args.channels} "
         "channels", f"{m['share']:.1%} of one core",
         f"{m['cpu_s']:.1f} CPU-s in {m['wall_s'] / 60:.1f} min", "OK" if ok else "MISSED"),
        ("in the window", f"{m['polls']} polls", f"{m['bumps']} bumps of 5%",
         f"{m['sent']} posts sent"),
        ("store at the start", f"{args.aged:,} posts already sent" if args.aged else "empty"),
        ("first cycle (not measured)", f"{m['first_cycle_s']:.0f} s",
         f"peak RSS {m['peak_rss_mb']:.0f} MB")], result["command"])
    return result


def main(argv: list[str] | None = None) -> dict:
    return run(argv)
