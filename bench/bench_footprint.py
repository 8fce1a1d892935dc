"""Footprint: peak RSS of `ainews run` with 1,000 feeds and 100 subscribed channels,
and the start-up time of `ainews --help`.

    .venv/bin/python -m bench footprint [--feeds 1000] [--channels 100] [--quick]

`ainews run` runs as a child process against the loopback feed farm (AINEWS_FEEDS
lists the farm's feeds, AINEWS_POLL_MINUTES=0.1) with the console adapter and 100
console channels following everything. It is watched through its first cycle (every
feed new: the peak), then 5% of the feeds gain an entry and it runs a further cycle
that dispatches and posts to every channel; then SIGTERM. Peak RSS is the kernel's
high-water mark (VmHWM). `ainews --help` is timed 7 times (median), beside a bare
`python -c pass` as the floor, and checked not to import a chat library.
Targets: peak RSS <= 200 MB; `ainews --help` <= 0.3 s.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench.common import ROOT, command_line, feed_farm, median, report, when

RSS_TARGET_MB, HELP_TARGET_S = 200.0, 0.3
AINEWS = ROOT / ".venv" / "bin" / "ainews"


def _env(tmp: Path, **extra) -> dict:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("AINEWS_", "DISCORD_", "SLACK_", "LLM_"))}
    return {**keep, "AINEWS_DB": str(tmp / "run.db"), **extra}


def time_help(runs: int = 7) -> dict:
    def once(cmd: list[str]) -> float:
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       cwd=tempfile.gettempdir())
        return time.perf_counter() - t0
    cmd = [str(AINEWS), "--help"] if AINEWS.exists() else [sys.executable, "-m", "bot.cli",
                                                             "--help"]
    helps = [once(cmd) for _ in range(runs)]
    floors = [once([sys.executable, "-c", "pass"]) for _ in range(runs)]
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, bot.cli as c; c.build_parser().format_help(); "
         "print(sorted({m.split('.')[0] for m in sys.modules} & {'discord', 'slack_sdk', "
         "'slack_bolt', 'openai', 'aiohttp', 'feedparser', 'lxml', 'trafilatura'}))"],
        capture_output=True, text=True, cwd=ROOT)
    return {"help_s": median(helps), "python_floor_s": median(floors),
            "heavy_imports": probe.stdout.strip()}


def _vm_hwm(pid: int) -> float:
    """Peak resident set of `pid`, MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _polls(db: Path) -> tuple[int, int]:
    """(feeds polled at least once, total successful polls) from the run's store."""
    import sqlite3
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return c.execute("SELECT SUM(polls_ok > 0), SUM(polls_ok) FROM feeds").fetchone()
    except sqlite3.Error:
        return 0, 0


def measure_run(feeds: int, channels: int, latency: float, limit_s: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="ainews-bench-footprint-"))
    with feed_farm(feeds, latency=latency) as farm:
        with running_bot(_prepare(tmp, farm.urls, channels), tmp) as proc:
            watched = _watch(proc, farm, tmp / "run.db", feeds, limit_s)
    shutil.rmtree(tmp, ignore_errors=True)
    return {**watched, "exit": proc.returncode}


@contextmanager
def running_bot(env: dict, cwd: Path):
    """`ainews run` as a child process, stopped with SIGTERM (killed after 30 s)."""
    proc = subprocess.Popen([str(AINEWS), "run"], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _prepare(tmp: Path, urls: list[str], channels: int) -> dict:
    """The feeds file, a store with the channels' subscriptions, and the environment."""
    from feeds.models import Subscription
    from storage.store import Store
    (tmp / "feeds.toml").write_text("".join(
        f'[[feed]]\nname = "Outlet {i}"\nurl = "{u}"\n\n' for i, u in enumerate(urls)))
    with Store(tmp / "run.db") as store:
        for c in range(channels):
            store.add_subscription(Subscription("console", "console", f"c{c}", "all", "all"),
                                   now=when(0))
    # The farm's entries carry fixed dates (the same content every run): no age limit,
    # so the bumped stories are posted and their delivery stays in the measurement.
    return _env(tmp, AINEWS_FEEDS=str(tmp / "feeds.toml"), AINEWS_POLL_MINUTES="0.1",
                AINEWS_ALLOW_PRIVATE_HOSTS="1", AINEWS_CONSOLE="1",
                AINEWS_MAX_POST_AGE_HOURS="0")


def _watch(proc, farm, db: Path, feeds: int, limit_s: float) -> dict:
    """Sample the peak RSS through the first cycle, bump 5% of the feeds, and through
    one more cycle (every feed polled once more)."""
    t0, peak, first_s, target = time.perf_counter(), 0.0, None, None
    while proc.poll() is None and time.perf_counter() - t0 < limit_s:
        time.sleep(0.5)
        peak = max(peak, _vm_hwm(proc.pid))
        seen, total = _polls(db)
        if first_s is None and (seen or 0) >= feeds:
            first_s, target = time.perf_counter() - t0, (total or 0) + feeds
            asyncio.run(farm.bump(farm.generated[::20], when(60)))
        elif target is not None and (total or 0) >= target:
            break
    peak = max(peak, _vm_hwm(proc.pid))
    done = target is not None and (_polls(db)[1] or 0) >= target
    return {"peak_rss_mb": peak, "completed": done, "first_cycle_s": first_s}


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench footprint")
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--channels", type=int, default=100)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--limit", type=float, default=900.0, help="seconds to wait at most")
    ap.add_argument("--quick", action="store_true", help="40 feeds, 10 channels")
    args, _ = ap.parse_known_args(argv)
    if args.quick:
        args.feeds, args.channels, args.latency, args.limit = 40, 10, 0.01, 120.0
    helps = time_help()
    rss = measure_run(args.feeds, args.channels, args.latency, args.limit)
    ok_rss = rss["peak_rss_mb"] <= RSS_TARGET_MB and rss["completed"]
    ok_help = helps["help_s"] <= HELP_TARGET_S and "discord" not in helps["heavy_imports"]
    result = {**helps, **rss, "feeds": args.feeds, "channels": args.channels,
              "ok": ok_rss and ok_help, "command": command_line("footprint", argv or [])}
    report(f"Footprint (targets: peak RSS <= {RSS_TARGET_MB:g} MB, --help <= "
           f"{HELP_TARGET_S} s)", [
               (f"ainews run: {args.feeds} feeds, {args.channels} channels",
                f"peak RSS {rss['peak_rss_mb']:.0f} MB",
                "two cycles done" if rss["completed"] else "did NOT finish two cycles",
                "OK" if ok_rss else "MISSED"),
               ("ainews --help (median of 7)", f"{helps['help_s']:.3f} s",
                f"python -c pass: {helps['python_floor_s']:.3f} s",
                "OK" if ok_help else "MISSED"),
               ("modules loaded by --help", helps["heavy_imports"] or "[]")],
           result["command"])
    return result


def main(argv: list[str] | None = None) -> dict:
    return run(argv)
