"""The soak's moving parts: the `ainews run` process (killed and restarted), its memory,
and the schedule of platform faults. See bench/soak.py for the whole run."""
from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("ainews.soak")

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class BotProcess:
    """`ainews run` as a real subprocess; SIGKILL and restart on demand."""
    env: dict
    workdir: Path
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0
    kills: int = 0
    rss: list[tuple[float, int, int]] = field(default_factory=list)  # (t, start no, kB)
    exit_code: int | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "ainews.log"

    async def start(self) -> None:
        exe = ROOT / ".venv" / "bin" / "ainews"
        with open(self.log_path, "ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                str(exe), "run", cwd=self.workdir, env=self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out)
        self.starts += 1
        log.info("soak: ainews started (pid %d, start %d)", self.proc.pid, self.starts)

    async def kill_and_restart(self) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()
            self.kills += 1
            log.info("soak: SIGKILL sent to ainews (kill %d)", self.kills)
        await self.start()

    async def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, as an operator would; the exit status says whether it shut down clean."""
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()
            self.exit_code = None
        return self.exit_code

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def sample_rss(self, stop: asyncio.Event, t0: float) -> None:
        """VmRSS of the ainews process once a second, tagged with which start it was."""
        while not stop.is_set():
            kb = vm_rss(self.proc.pid) if self.alive() else None
            if kb:
                self.rss.append((time.monotonic() - t0, self.starts, kb))
            await asyncio.sleep(1.0)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def vm_rss(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def rss_verdict(rss: list[tuple[float, int, int]], min_span: float = 120.0) -> dict:
    """Peak RSS, and whether it kept growing in the longest-lived process.

    Growth is judged on one process (restarts reset memory) after a warm-up of a fifth
    of its life: the peak of its last third against the peak of its first third.
    Shorter than `min_span` seconds: too short to tell ("n/a")."""
    peak = max((kb for _, _, kb in rss), default=0)
    by_start: dict[int, list[tuple[float, int]]] = {}
    for t, n, kb in rss:
        by_start.setdefault(n, []).append((t, kb))
    longest = max(by_start.values(), key=lambda s: s[-1][0] - s[0][0], default=[])
    span = longest[-1][0] - longest[0][0] if longest else 0.0
    if span < min_span:
        return {"peak_kb": peak, "span_s": round(span), "growing": None}
    body = [kb for t, kb in longest if t >= longest[0][0] + span / 5]
    third = max(1, len(body) // 3)
    early, late = max(body[:third]), max(body[-third:])
    return {"peak_kb": peak, "span_s": round(span), "early_kb": early, "late_kb": late,
            "growing": late > early * 1.15}


@dataclass
class PlatformFault:
    at: float             # fraction of the active period
    name: str
    short: bool           # also in the short (CI) run
    action: object = None


def platform_faults(discord, slack, ids: dict, until_met: bool = False) -> list[PlatformFault]:
    """What goes wrong on the chat side, and when (fractions of the active period);
    `until_met`: the outages and slow answers last until a post has met them."""
    d1, d2, dx, sx = ids["d1"], ids["d2"], ids["dx"], ids["sx"]
    met = {"until_met": until_met}

    async def gateway():
        await discord.drop_gateway()

    async def socket():
        await slack.drop_connections()

    return [
        PlatformFault(0.10, "discord 429 storm (bucket, Via)", True,
                      lambda: discord.rate_limit_storm(d1, 5, is_global=False)),
        PlatformFault(0.16, "slack 429 storm (Retry-After 1 s)", True,
                      lambda: slack.rate_limit_storm(4, 1)),
        PlatformFault(0.22, "discord gateway dropped", True, gateway),
        PlatformFault(0.28, "discord 429 storm (global)", True,
                      lambda: discord.rate_limit_storm(d2, 3, is_global=True)),
        PlatformFault(0.33, "slack Socket Mode disconnect", True, socket),
        PlatformFault(0.36, "discord 5xx burst (3 x 502)", True,
                      lambda: discord.fail("POST", rf"/channels/{d1}/messages", 502, times=3)),
        PlatformFault(0.40, "discord 429 without Via (Retry-After 2 s)", True,
                      lambda: discord.fail("POST", rf"/channels/{d2}/messages", 429,
                                           retry_after=2.0, via=False)),
        PlatformFault(0.44, "discord 5xx outage (8 s)", False,
                      lambda: discord.outage.open(8, **met)),
        PlatformFault(0.47, "slack 5xx outage (6 s)", False, lambda: slack.outage.open(6, **met)),
        PlatformFault(0.50, "discord channel deleted (10003)", True,
                      lambda: discord.delete_channel(int(dx))),
        PlatformFault(0.55, "slack channel deleted (channel_not_found)", True,
                      lambda: slack.delete_channel(sx)),
        PlatformFault(0.60, "discord slow responses (35 s > 30 s timeout)", False,
                      lambda: discord.slow.open(4, **met)),
        PlatformFault(0.66, "slack slow responses (20 s > 15 s timeout)", False,
                      lambda: slack.slow.open(4, **met)),
    ]


async def run_schedule(events: list[tuple[float, str, object]], t0: float,
                       done: list[tuple[float, str]]) -> None:
    """Run (seconds, name, action) in time order; actions may be sync or async."""
    for at, name, action in sorted(events, key=lambda e: e[0]):
        await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
        result = action()
        if asyncio.iscoroutine(result):
            await result
        done.append((round(time.monotonic() - t0, 1), name))
        log.info("soak: t=%.0f s: %s", time.monotonic() - t0, name)


def kill_times(rng: random.Random, kills: int, active: float) -> list[float]:
    """Random moments in the first two thirds, at least 6 s apart (time to start up),
    so the last process lives long enough to judge its memory."""
    lo, hi = 0.12 * active, 0.66 * active
    for _ in range(1000):
        times = sorted(rng.uniform(lo, hi) for _ in range(kills))
        if all(b - a >= 6.0 for a, b in zip(times, times[1:])):
            return times
    return [lo + i * (hi - lo) / max(kills, 1) for i in range(kills)]


def bot_env(workdir: Path, feeds_file: Path, discord, slack, poll_minutes: float,
            cap: int | None = None) -> dict:
    """ainews's whole configuration. No cap: 100,000 posts an hour, every story its own
    post (the soak's default); with `cap`, the channels' real cap and its roundups."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
    return {**keep, "HOME": str(workdir), "PYTHONUNBUFFERED": "1",
            "AINEWS_DB": str(workdir / "ainews.db"), "AINEWS_FEEDS": str(feeds_file),
            "AINEWS_POLL_MINUTES": str(poll_minutes), "AINEWS_ALLOW_PRIVATE_HOSTS": "1",
            "AINEWS_CHANNEL_HOURLY_CAP": str(cap or 100000), "AINEWS_LOG_LEVEL": "INFO",
            "DISCORD_TOKEN": discord.token, "DISCORD_API_URL": discord.api_url,
            "DISCORD_GATEWAY_URL": discord.gateway_url,
            "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url}
