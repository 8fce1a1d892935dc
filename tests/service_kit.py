"""Shared pieces of the tests that run `ainews` as a real subprocess against a local
feed server: its environment, `run --once` with its output, the story links it printed,
and feeds to publish. Modules declare
`server = pytest.fixture(empty_feed_server, name="server")`."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from tests.fakes.feedserver import FeedServer, make_rss


AINEWS = str(Path(sys.executable).parent / "ainews")


def hangups_heard() -> None:
    """A child's SIGHUP back to its default, as from a terminal: under `nohup make test`
    (or a CI runner started so) it is inherited ignored, and the bot rightly keeps it so."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def env_for(tmp_path: Path, feeds: list[str], **extra) -> dict:
    lines = [f'[[feed]]\nname = "Outlet {i}"\nurl = "{u}"\n' for i, u in enumerate(feeds)]
    (tmp_path / "feeds.toml").write_text("\n".join(lines))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "LLM_"))
           and k.lower() not in ("https_proxy", "http_proxy", "no_proxy")}
    env.update(AINEWS_DB=str(tmp_path / "ainews.db"), AINEWS_FEEDS=str(tmp_path / "feeds.toml"),
               AINEWS_ALLOW_PRIVATE_HOSTS="1", AINEWS_POLL_MINUTES="0.02",
               AINEWS_CHANNEL_HOURLY_CAP="1000", **extra)
    return env


async def run_once(env: dict) -> str:
    return (await _run_once(env))[0]


async def _run_once(env: dict) -> tuple[str, str]:
    """`ainews run --once`: (stdout, stderr), after checking it exited 0."""
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", "--once", env=env,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode(), err.decode()


def story_links(output: str) -> list[str]:
    return re.findall(r"https://news\.example\.com/story/\d+", output)


def publish(server: FeedServer, n_feeds: int, entries: list[dict]) -> None:
    for f in range(n_feeds):
        mine = [e for i, e in enumerate(entries) if i % n_feeds == f]
        server.add(f"/feed{f}.xml", make_rss(f"Outlet {f}", mine))


async def empty_feed_server():
    """The `server` fixture: a FeedServer with nothing published yet."""
    async with FeedServer() as srv:
        yield srv


async def run_once_log(env: dict) -> str:
    return (await _run_once(env))[1]


async def run_once_output_and_log(env: dict) -> tuple[str, str]:
    """`ainews run --once`: (stdout, stderr)."""
    return await _run_once(env)
