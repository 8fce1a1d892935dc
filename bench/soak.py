"""Soak and fault test: a real `ainews run` against flaky feeds and flaky chat platforms.

    python bench/soak.py                     # 10 minutes, 5 SIGKILLs (make soak)
    python bench/soak.py --minutes 1 --kills 2 --json out.json    # the CI run
    python bench/soak.py --cap 10            # the real hourly cap: roundups, the cap checked

Everything runs on loopback: the local feed server (200 feeds over 8 addresses, a new
AI-strategy story every couple of seconds, a fifth of them hostile, and feeds that
time out, 500, 429, loop, bloat, bomb, truncate, turn into HTML or disappear), the
test suite's fake Discord and fake Slack (429 storms, 5xx, slow answers, a dropped
gateway and Socket Mode connection, a channel deleted mid-run), and `ainews run` as a
subprocess, SIGKILLed at random moments and restarted. At the end it prints what should
have been posted against what was, and exits non-zero when an invariant fails. With
`--cap N` the channels get that hourly cap instead of 100,000, so stories may go in
roundups (bench/soak_cap.py checks them and the cap; bench/soak_publish.py paces the
stories so every one is out before the cap's hour). See docs/reliability.md for what
each check means.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from bot.feed_import import sync_feed_list  # noqa: E402
from feeds.feedlist import load_feed_list  # noqa: E402
from feeds.models import Subscription  # noqa: E402
from soak_check import Channel, posted, unfinished_posts  # noqa: E402
from soak_fakes import SoakDiscord, SoakSlack  # noqa: E402
from soak_feeds import FAULT_KINDS, Fault, FeedFleet  # noqa: E402
from soak_report import judge  # noqa: E402
from soak_llm import SoakLLM, llm_events  # noqa: E402
from soak_publish import CapPace, Pace, check_cap, drain_for, publish  # noqa: E402
from soak_run import BotProcess, bot_env, kill_times, platform_faults, run_schedule  # noqa: E402
from soak_stories import StoryPool  # noqa: E402
from storage.store import Store  # noqa: E402

POLL_MINUTES = 0.05   # 3 s base interval; adaptive polling stretches it to 12 s at most
GUILD = 1200000000000000001
D1, D2, DX = 1300000000000000001, 1300000000000000002, 1300000000000000009
S1, SX = "C0SOAK1", "C0SOAKX"
PRESEEDED = ("html", "gone-410", "redirect-loop", "gzip-bomb")


def assign_faults(fleet: FeedFleet, rng: random.Random, active: float) -> None:
    """Transient faults in staggered windows, two feeds that vanish for good, and four
    feeds that were failing before the soak (their next failure pauses them)."""
    per = max(1, len(fleet.feeds) // 100)
    transient = [k for k in FAULT_KINDS if not k.startswith("gone-")]
    plan = [(k, (0.15 + 0.04 * i) * active, max(8.0, 0.08 * active))
            for i, k in enumerate(transient)]
    plan += [(k, 0.40 * active, None) for k in ("gone-404", "gone-410")]
    picks = rng.sample(fleet.feeds, per * len(plan) + len(PRESEEDED))
    for n, (kind, start, length) in enumerate(p for p in plan for _ in range(per)):
        picks[n].faults.append(Fault(kind, start, None if length is None else start + length))
    for feed, kind in zip(picks[per * len(plan):], PRESEEDED):
        feed.faults.append(Fault(kind, 0.0, None, preseeded=True))


def seed_backlog(fleet: FeedFleet, pool: StoryPool) -> set[str]:
    """Two older stories per feed: the first poll must store them and post none."""
    uids, now = set(), datetime.now(timezone.utc).replace(microsecond=0)
    for feed in fleet.feeds:
        for age in (3, 1):
            entry = pool.next()
            entry.published = now - timedelta(hours=age)
            fleet.publish(feed, entry)
            uids.add(entry.uid)
    return uids


def prepare_store(db: Path, feeds_file: Path, fleet: FeedFleet) -> None:
    """Feeds, subscriptions and the pre-existing failures, as an operator's database
    would hold them before `ainews run` starts."""
    store = Store(db)
    try:
        sync_feed_list(store, load_feed_list(feeds_file))
        for platform, ws, ch in (("discord", GUILD, D1), ("discord", GUILD, D2),
                                 ("discord", GUILD, DX), ("slack", "T0FAKE", S1),
                                 ("slack", "T0FAKE", SX)):
            store.subscribe(Subscription(platform, str(ws), str(ch), "all", "all"))
        now = datetime.now(timezone.utc)
        for feed in fleet.feeds:
            if any(f.preseeded for f in feed.faults):
                for _ in range(9):
                    store.record_fetch_failure(feed.url, now=now, next_poll=now, kind="http",
                                               message="soak: failing before the soak")
    finally:
        store.close()


def write_feeds(path: Path, fleet: FeedFleet) -> None:
    path.write_text("".join(f'[[feed]]\nname = "{f.name}"\nurl = "{f.url}"\n\n'
                            for f in fleet.feeds), encoding="utf-8")


@dataclass
class Rig:
    """Everything one soak run starts, and what it saw."""
    args: argparse.Namespace
    workdir: Path
    fleet: FeedFleet
    discord: SoakDiscord
    slack: SoakSlack
    bot: BotProcess
    pool: StoryPool
    rng: random.Random
    backlog: set[str]
    channels: list[Channel] = field(default_factory=lambda: [
        Channel("discord", str(D1), "discord #d1"), Channel("discord", str(D2), "discord #d2"),
        Channel("discord", str(DX), "discord #dx (deleted)"),
        Channel("slack", S1, "slack #s1"), Channel("slack", SX, "slack #sx (deleted)")])
    expected: dict = field(default_factory=dict)    # story uid -> {t, feed, hostile}
    events_done: list = field(default_factory=list)
    t0: float = 0.0
    llm: SoakLLM | None = None      # --llm: the fake OpenAI-compatible endpoint

    @property
    def active(self) -> float:
        return self.args.minutes * 60

    @property
    def short(self) -> bool:
        return self.active < 180

    @property
    def db(self) -> Path:
        return self.workdir / "ainews.db"

    async def close(self) -> None:
        if self.bot.alive():        # the harness failed: never leave ainews running
            await self.bot.stop(timeout=5)
        await self.discord.close()
        await self.slack.stop()
        await self.fleet.stop()
        if self.llm is not None:
            await self.llm.stop()


async def build(args) -> Rig:
    rng = random.Random(args.seed)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="ainews-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pool, fleet = StoryPool(args.seed), FeedFleet(args.feeds)
    assign_faults(fleet, rng, args.minutes * 60)
    backlog = seed_backlog(fleet, pool)
    await fleet.start()
    discord = await SoakDiscord(guild_id=GUILD, channel_ids=(D1, D2, DX)).start()
    slack = await SoakSlack().start()
    write_feeds(workdir / "feeds.toml", fleet)
    prepare_store(workdir / "ainews.db", workdir / "feeds.toml", fleet)
    env = bot_env(workdir, workdir / "feeds.toml", discord, slack, POLL_MINUTES, args.cap)
    llm = await SoakLLM().start() if args.llm else None
    if llm is not None:
        env.update(llm.env())
    return Rig(args, workdir, fleet, discord, slack, BotProcess(env, workdir), pool, rng,
               backlog, llm=llm)


async def run(rig: Rig) -> float | None:
    """The active period (stories, faults, kills), then the drain; returns when (in
    seconds) everything was delivered, or None if the drain deadline passed first."""
    rig.t0 = rig.fleet.t0 = time.monotonic()
    await rig.bot.start()
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(rig.bot.sample_rss(stop_sampling, rig.t0))
    await asyncio.gather(
        asyncio.sleep(rig.active),
        run_schedule(_events(rig), rig.t0, rig.events_done),
        publish(rig.fleet, rig.pool, rig.rng, rig.db, rig.expected, _pace(rig)))
    drain = rig.args.drain if rig.args.drain is not None else \
        drain_for(rig.args.cap, 45.0 if rig.short else 240.0)
    drained_at = await _drain(rig, drain)
    stop_sampling.set()
    await sampler
    return drained_at


def _pace(rig: Rig) -> Pace:
    every, until = rig.args.publish_every, rig.active * 0.85
    return Pace(every, until) if rig.args.cap is None else CapPace(every, until, rig.args.cap)


def all_delivered(rig: Rig) -> bool:
    posts = posted(rig.discord, rig.slack, rig.t0)
    for ch in rig.channels:
        got = {uid for uid, _ in posts.get((ch.platform, ch.id), [])}
        if ch.deleted_at is None and not set(rig.expected) <= got:
            return False
    return True


async def _drain(rig: Rig, seconds: float) -> float | None:
    """After the last story, give the bot time to deliver (retries, backoff), until
    every story is out and nothing waits in the outbox for a live channel: a retry or
    a second copy held for the cap's next turn comes minutes after the story's first
    appearance, and a run stopped before it never saw the duplicate."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all_delivered(rig) and _outbox_idle(rig):
            await asyncio.sleep(3.0)    # late duplicates would show up now
            return round(time.monotonic() - rig.t0, 1)
        await asyncio.sleep(1.0)
    return None


def _outbox_idle(rig: Rig) -> bool:
    store = Store(rig.db)
    try:
        return unfinished_posts(store, rig.channels) == 0
    finally:
        store.close()


def _events(rig: Rig) -> list:
    ids = {"d1": D1, "d2": D2, "dx": DX, "sx": SX}
    events = []
    for fault in platform_faults(rig.discord, rig.slack, ids, rig.args.cap is not None):
        if rig.short and not fault.short:
            continue
        action = fault.action
        if "deleted" in fault.name:
            ch = next(c for c in rig.channels if c.platform in fault.name
                      and c.id in (str(DX), SX))
            action = _marking(action, ch, rig.t0)
        events.append((fault.at * rig.active, fault.name, action))
    if rig.llm is not None:
        events += llm_events(rig.llm, rig.active, rig.short)
    for at in kill_times(rig.rng, rig.args.kills, rig.active):
        events.append((at, "SIGKILL ainews and restart it", rig.bot.kill_and_restart))
    return events


def _marking(action, ch: Channel, t0: float):
    def mark_and_delete():
        ch.deleted_at = time.monotonic() - t0
        return action()
    return mark_and_delete


async def soak(args) -> int:
    rig = await build(args)
    try:
        drained_at = await run(rig)
        exit_code = await rig.bot.stop()
        verdict = judge(rig, exit_code, drained_at)
    finally:
        await rig.close()
    print(verdict.data["report"])
    if args.json:
        Path(args.json).write_text(json.dumps(verdict.data, indent=2, default=str))
    if not args.keep and not args.workdir and not verdict.failures:
        shutil.rmtree(rig.workdir, ignore_errors=True)
    else:
        print(f"soak: files kept in {rig.workdir}")
    return 1 if verdict.failures else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="active period (default 10)")
    ap.add_argument("--kills", type=int, default=5, help="SIGKILLs of ainews (default 5)")
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--publish-every", type=float, default=2.0,
                    help="seconds between new stories, on average (with --cap: until "
                         "the channels' spreading starts)")
    ap.add_argument("--cap", type=check_cap, metavar="N",
                    help="the channels' hourly cap (default: none, every story its own post); "
                         "stories may then go in roundups, and the cap is checked")
    ap.add_argument("--drain", type=float, help="seconds allowed for delivery at the end")
    ap.add_argument("--json", help="write the results here as JSON")
    ap.add_argument("--workdir", help="keep the database and ainews.log here")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir even on success")
    ap.add_argument("--llm", action="store_true",
                    help="with a fake LLM (judge, same-event check, briefs) and its faults")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
