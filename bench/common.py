"""Shared pieces of the benchmarks: statistics, a CPU/wall timer, a time-warping event
loop for rate-limit simulations, and the loopback feed farm.

The feed farm runs in a child process (`python -m bench.common farm ...`) so the CPU
the benchmarks report is the bot's alone, not the server's. It serves N generated feeds
(20-50 entries of full HTML content, ~100 KB each, from tests/fakes/feedserver.py)
plus the real miniflux snapshots from ../shared/corpus, spread over several loopback
addresses (127.0.0.1, 127.0.0.2, ...) because the fetcher limits requests per host,
as it would for 1,000 feeds on many outlets. A control route bumps feeds (one new
entry each) and switches conditional GET on or off.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import selectors
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
# ../shared beside the main checkout; a worktree (e.g. /work/wt/x) finds it further up,
# or its farm would silently leave out the real feeds.
SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared" / "corpus").is_dir()),
              ROOT.parent / "shared")
MINIFLUX = SHARED / "corpus" / "feeds" / "miniflux"
# The real feeds with many entries; the tiny encoding probes would not be realistic.
REAL_FEEDS = ("parser__large_rss.xml", "parser__large_atom.xml", "parser__rdf_UTF8.xml",
              "parser__urdu_UTF8.xml", "parser__encoding_ISO-8859-1.xml",
              "parser__encoding_WINDOWS-1251.xml", "parser__small_atom.xml")
REAL_EVERY = 50          # every 50th feed slot serves a real snapshot instead
PUB_START = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


# -- statistics ----------------------------------------------------------------------
def median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def percentile(values, p: float) -> float:
    """Nearest-rank percentile (p in 0..100): a value that was actually observed."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Timing:
    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def timed():
    """Wall and CPU seconds (this process, all threads) of the block."""
    t = Timing()
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        yield t
    finally:
        t.wall = time.perf_counter() - w0
        t.cpu = time.process_time() - c0


def command_line(name: str, argv: list[str]) -> str:
    return " ".join([".venv/bin/python -m bench", name, *argv]).strip()


def report(title: str, rows: list[tuple], command: str) -> None:
    """Print one benchmark's table and the command that produced it."""
    print(f"\n== {title}")
    print(f"   command: {command}")
    for row in rows:
        label, *vals = row
        print(f"   {label:<44} " + "  ".join(str(v) for v in vals))


# -- time warp -----------------------------------------------------------------------
class _WarpSelector(selectors.DefaultSelector):
    """When the loop would sleep with nothing ready, jump the clock instead."""

    def __init__(self):
        super().__init__()
        self.loop: WarpLoop | None = None

    def select(self, timeout=None):
        ready = super().select(0)
        if ready or timeout is None or timeout <= 0:
            return ready if ready or timeout == 0 else super().select(timeout)
        self.loop.skipped += timeout
        return []


class WarpLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock is real time plus all the idle time it skipped: CPU
    work costs what it costs, sleeps (rate-limit waits) cost nothing. Only for code
    that does no real I/O (in-process fakes)."""

    def __init__(self):
        sel = _WarpSelector()
        super().__init__(sel)
        sel.loop = self
        self.skipped = 0.0

    def time(self) -> float:
        return time.monotonic() + self.skipped


def run_warped(coro_fn):
    """Run `coro_fn(loop)` on a fresh WarpLoop; returns its result."""
    loop = WarpLoop()
    try:
        return loop.run_until_complete(coro_fn(loop))
    finally:
        loop.close()


# -- the feed farm ---------------------------------------------------------------------
def feed_size(i: int) -> tuple[int, int]:
    """(entries, paragraphs per entry) of generated feed i: 20-50 entries, ~100 KB."""
    n = 20 + (i * 7) % 31
    return n, max(4, round(240 / n))


def outlet(i: int) -> str:
    return f"https://outlet{i}.example.com"


class FarmContent:
    """The farm's feeds: generated ones grow one entry per bump; real ones never change."""

    def __init__(self, feeds: int):
        from tests.fakes.feedserver import make_entries
        self.make_entries = make_entries
        self.feeds = feeds
        self.base: dict[int, list[dict]] = {}
        self.added: dict[int, list[dict]] = {}
        self.bodies: dict[int, bytes] = {}
        self.real = {i: (MINIFLUX / REAL_FEEDS[(i // REAL_EVERY) % len(REAL_FEEDS)]).read_bytes()
                     for i in range(0, feeds, REAL_EVERY) if i and MINIFLUX.is_dir()}

    def body(self, i: int) -> bytes:
        if i in self.real:
            return self.real[i]
        if i not in self.bodies:
            self.bodies[i] = self._render(i)
        return self.bodies[i]

    def _render(self, i: int) -> bytes:
        from tests.fakes.feedserver import make_rss
        n, paras = feed_size(i)
        if i not in self.base:
            self.base[i] = self.make_entries(n, seed=i, paragraphs=paras, start=PUB_START,
                                             base_url=outlet(i))
        entries = (self.added.get(i, []) + self.base[i])[:n]   # newest first, window of n
        return make_rss(f"Outlet {i} AI", entries, link=outlet(i) + "/")

    def bump(self, i: int, when: datetime) -> None:
        """One new entry at the top of feed i, published at `when`."""
        k = len(self.added.get(i, []))
        n, paras = feed_size(i)
        entry = self.make_entries(1, seed=1_000_000 + i * 1000 + k, paragraphs=paras,
                                  start=when, base_url=outlet(i))[0]
        entry["guid"] = f"{outlet(i)}/p/new-{i}-{k}"
        self.added.setdefault(i, []).insert(0, entry)
        self.bodies.pop(i, None)

    def generated(self) -> list[int]:
        return [i for i in range(self.feeds) if i not in self.real]


class _FarmServer:
    """The farm process's side: N loopback servers sharing one route table, plus the
    control route."""

    def __init__(self, feeds: int, hosts: int, latency: float):
        from tests.fakes.feedserver import FeedServer
        self.content = FarmContent(feeds)
        self.servers = [FeedServer(f"127.0.0.{h + 1}") for h in range(hosts)]
        self.routes: dict[str, list] = {}
        for srv in self.servers:
            srv.routes, srv.latency = self.routes, latency
        for i in range(feeds):
            self.publish(i)

    def publish(self, i: int) -> None:
        import hashlib
        from tests.fakes.feedserver import Reply
        body = self.content.body(i)
        # A precomputed ETag: the server would otherwise hash 100 KB per request.
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        self.routes[f"/feeds/{i}.xml"] = [Reply(200, body, etag=etag)]

    async def control(self, request):
        from aiohttp import web
        q = request.query
        if "conditional" in q:
            for srv in self.servers:
                srv.honour_conditional = q["conditional"] == "1"
        bumped = json.loads(q.get("bump", "[]"))
        at = datetime.fromisoformat(q.get("when", PUB_START.isoformat()))
        for i in bumped:
            self.content.bump(i, at)
            self.publish(i)
        return web.json_response({"bumped": bumped})

    async def start(self) -> str:
        """Start every server; returns the control URL."""
        from aiohttp import web
        for srv in self.servers:
            await srv.start()
        ctl = web.Application()
        ctl.router.add_post("/control", self.control)
        _runner, port = await serve_loopback(ctl)
        return f"http://127.0.0.1:{port}/control"


async def serve_loopback(app) -> tuple:
    """Start an aiohttp app on a free loopback port: (runner, port); the caller cleans
    the runner up."""
    from aiohttp import web
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


async def _serve_farm(feeds: int, hosts: int, latency: float) -> None:
    farm = _FarmServer(feeds, hosts, latency)
    control = await farm.start()
    urls = [farm.servers[i % hosts].url(f"/feeds/{i}.xml") for i in range(feeds)]
    print(json.dumps({"control": control, "urls": urls, "real": sorted(farm.content.real),
                      "generated": farm.content.generated()}), flush=True)
    await asyncio.Event().wait()


@dataclass
class Farm:
    """Handle on a running farm process."""
    proc: subprocess.Popen
    control: str
    urls: list[str]
    real: list[int]
    generated: list[int] = field(default_factory=list)

    async def call(self, session, **params) -> dict:
        async with session.post(self.control, params={k: str(v) for k, v in params.items()}) as r:
            return await r.json()

    async def bump(self, indexes: list[int], when: datetime) -> None:
        import aiohttp
        async with aiohttp.ClientSession() as s:
            await self.call(s, bump=json.dumps(indexes), when=when.isoformat())

    async def conditional(self, on: bool) -> None:
        import aiohttp
        async with aiohttp.ClientSession() as s:
            await self.call(s, conditional=int(on))


@contextmanager
def feed_farm(feeds: int, *, latency: float = 0.0, hosts: int = 16):
    """Start the farm process; yields a Farm. Generation takes ~8 ms per feed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.common", "farm", "--feeds", str(feeds), "--hosts",
         str(hosts), "--latency", str(latency)], cwd=ROOT, stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("bench: the feed farm did not start")
        info = json.loads(line)
        yield Farm(proc, info["control"], info["urls"], info["real"], info["generated"])
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _exit_with_parent() -> None:
    """The parent holds our stdin open: EOF means it is gone, however it died."""
    import threading

    def watch() -> None:
        sys.stdin.read()
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


def farm_main(argv: list[str]) -> None:
    _exit_with_parent()
    ap = argparse.ArgumentParser(prog="bench.common farm")
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=16)
    ap.add_argument("--latency", type=float, default=0.0)
    args = ap.parse_args(argv)
    try:
        asyncio.run(_serve_farm(args.feeds, args.hosts, args.latency))
    except KeyboardInterrupt:
        pass


def when(minutes: float) -> datetime:
    return PUB_START + timedelta(minutes=minutes)


if __name__ == "__main__":
    if sys.argv[1:2] == ["farm"]:
        farm_main(sys.argv[2:])


def first_polls_transaction(store):
    """The transaction Pipeline.poll_once writes a pass's first polls in: all or nothing
    (`whole`), for a store that has it; an older revision's plain one otherwise."""
    import inspect
    if "whole" in inspect.signature(store.transaction).parameters:
        return store.transaction(whole=True)
    return store.transaction()
