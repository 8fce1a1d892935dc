"""Shared pieces of the edit-rule tests through the real service (test_edit_cap_*.py):
a local feed's one story, `publish` to put a headline of it on the feed, and `posted`,
the app and its fake clock once that story's post is out on the console."""
from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.config import load_settings
from bot.service import Service
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.recorder import FakeClock
from tests.fakes.stories import archive_entry, strategy_entry

STORY = strategy_entry(1)                      # Tencent cuts prices of its AI models ...


def app_for(tmp_path, feeds: FeedServer) -> App:
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Wire"\nurl = "{feeds.url("/f.xml")}"\n')
    return App(load_settings({
        "AINEWS_DB": str(tmp_path / "a.db"), "AINEWS_FEEDS": str(tmp_path / "feeds.toml"),
        "AINEWS_ALLOW_PRIVATE_HOSTS": "1"}, dotenv_path=None))


def publish(feeds: FeedServer, title: str | None) -> None:
    entries = [{**STORY, "title": title}] if title else []
    feeds.add("/f.xml", make_rss("Wire", entries + [archive_entry(0)]))


async def posted(tmp_path, feeds: FeedServer):
    """(app, clock) once STORY's post is out: a first poll (backlog), then STORY as new."""
    clock = FakeClock(STORY["published"] + timedelta(minutes=5))
    app = app_for(tmp_path, feeds)
    publish(feeds, None)
    await Service(app, clock=clock).run(once=True)          # the first poll: backlog
    publish(feeds, STORY["title"])
    await Service(app, clock=clock).run(once=True)
    return app, clock
