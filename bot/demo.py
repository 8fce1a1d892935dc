"""`ainews demo`: the whole pipeline on bundled sample feeds served from loopback.

A tiny feed server publishes a new sample story every few seconds; the real service
polls it, classifies, condenses and prints briefs to the console. No tokens, no network:
chat tokens and LLM settings in .env are left unused (an LLM set there was called, and
billed, for every sample story).
"""
from __future__ import annotations

import asyncio
import tempfile
import tomllib
from dataclasses import replace
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web

from feeds.feedlist import DEFAULT_FEEDS_FILE
from feeds.plural import count

STORIES_FILE = DEFAULT_FEEDS_FILE.parent / "demo_stories.toml"


class DemoFeeds:
    """Serves one RSS feed per sample outlet; `publish()` reveals the next story."""

    def __init__(self, stories: list[dict]):
        self.pending = list(stories)
        self.live: dict[str, list[tuple[dict, datetime]]] = {s["feed"]: [] for s in stories}
        self.runner: web.AppRunner | None = None
        self.base = ""
        self.polled = asyncio.Event()   # every feed served once: the backlog poll has read them
        self._served: set[str] = set()

    def slug(self, feed: str) -> str:
        return feed.lower().replace(" ", "-")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{slug}.xml", self._serve)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def publish(self) -> bool:
        if not self.pending:
            return False
        story = self.pending.pop(0)
        self.live[story["feed"]].append((story, datetime.now(timezone.utc)))
        return True

    async def _serve(self, request: web.Request) -> web.Response:
        feed = next((f for f in self.live if self.slug(f) == request.match_info["slug"]), None)
        if feed is None:
            raise web.HTTPNotFound()
        self._served.add(feed)
        if len(self._served) == len(self.live):
            self.polled.set()
        return web.Response(body=self._rss(feed).encode(), content_type="application/rss+xml")

    def _rss(self, feed: str) -> str:
        items = "".join(self._item(feed, i, s, t) for i, (s, t) in enumerate(self.live[feed]))
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{escape(feed)}</title><link>{self.base}/</link>{items}</channel></rss>")

    def _item(self, feed: str, i: int, story: dict, when: datetime) -> str:
        link = f"{self.base}/{self.slug(feed)}/{i}"
        return (f"<item><title>{escape(story['title'])}</title><link>{link}</link>"
                f"<guid>{link}</guid><pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{escape(story['html'])}</description></item>")


def run_demo(settings, seconds: float = 40.0, interval: float = 2.5) -> int:
    return asyncio.run(_demo(settings, seconds, interval))


async def _demo(settings, seconds: float, interval: float) -> int:
    from bot.app import App
    from bot.service import Service

    stories = tomllib.loads(STORIES_FILE.read_text(encoding="utf-8"))["story"]
    feeds = DemoFeeds(stories)
    await feeds.start()
    # The feeds start empty: their first poll sees no backlog, so every story that
    # appears afterwards is news and (if it is about AI strategy) gets a brief.
    print(f"demo: serving {count(len(feeds.live), 'sample feed')} on {feeds.base}; a new story every "
          f"{interval:g} s; AI-strategy briefs appear below (the review is filtered out)."
          + (f"\n{OFFLINE}" if settings.llm_enabled else "") + "\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="ainews-demo-") as tmp:
        app = App(_demo_settings(settings, Path(tmp), feeds))
        service = Service(app)
        task = asyncio.create_task(service.run())
        # A service that ends without a stop (it failed before its first poll) would
        # leave _release waiting for that poll for ever: its end is a stop too.
        task.add_done_callback(lambda _: service.stop.set())
        try:
            await _release(feeds, service, seconds, interval)
        finally:
            service.stop.set()
            await task
            app.close()
            await feeds.stop()
    print(DONE, flush=True)
    return 0


# The demo ended on its last brief with no word: the operator could not tell it was over,
# and `ainews latest` afterwards said "No stories yet" of the briefs just shown.
DONE = ("demo: done. Its feeds and database were temporary, so `ainews latest` does not "
        "list these stories; `ainews run` polls the real feeds.")


OFFLINE = ("demo: the offline condenser writes these briefs; the LLM configured is not "
           "called (`ainews brief URL` condenses an article with it).")


def _demo_settings(settings, tmp: Path, feeds: DemoFeeds):
    lines = [f'[[feed]]\nname = "{f}"\nurl = "{feeds.base}/{feeds.slug(f)}.xml"\n'
             for f in feeds.live]
    (tmp / "feeds.toml").write_text("\n".join(lines), encoding="utf-8")
    return replace(settings, db_path=tmp / "demo.db", feeds_file=tmp / "feeds.toml",
                   poll_minutes=interval_minutes(), allow_private_hosts=True, console=True,
                   discord_token="", slack_bot_token="", fetch_articles=False,
                   llm_base_url="", llm_api_key="", llm_model="", llm_judge=None)


def interval_minutes() -> float:
    return 0.02   # about a second: the demo should feel live


async def _release(feeds: DemoFeeds, service, seconds: float, interval: float) -> None:
    loop = asyncio.get_running_loop()
    # A story published before the first poll has read its feed would be stored as
    # backlog and never shown: on a loaded machine start-up can take longer than a sleep.
    await _first_poll(feeds, service)
    deadline = loop.time() + seconds
    while loop.time() < deadline and not service.stop.is_set():
        if not feeds.publish():
            await asyncio.sleep(interval * 2)   # let the last story reach the console
            return
        await asyncio.sleep(interval)


async def _first_poll(feeds: DemoFeeds, service) -> None:
    stopped = asyncio.create_task(service.stop.wait())
    polled = asyncio.create_task(feeds.polled.wait())
    await asyncio.wait({stopped, polled}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel(), polled.cancel()
