"""The edit rules through the real service: a local feed A/B-tests a story's headline at
every poll; `ainews run --once` after each poll (fetch, parse, classify, store, condense,
dispatch, deliver) prints the post and its edits on the console, on a fake clock.
Without the rules every poll after the post printed an edit."""
from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.config import load_settings
from bot.service import Service
from storage.post_edits import MAX_EDITS
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.recorder import FakeClock
from tests.fakes.stories import archive_entry, strategy_entry

STORY = strategy_entry(1)                      # Tencent cuts prices of its AI models ...
OTHER = "Tencent slashes AI model prices by 13% in a push for enterprise customers"


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


async def test_a_headline_ab_test_edits_the_console_post_once_an_hour_five_times(
        tmp_path, feeds, capsys):
    app, clock = await posted(tmp_path, feeds)
    assert capsys.readouterr().out.count(STORY["title"]) == 1     # posted
    edits = []
    for n in range(1, 8 * 6):                               # 8 hours of 10-minute polls
        clock.advance(minutes=10)
        publish(feeds, OTHER if n % 2 else STORY["title"])
        await Service(app, clock=clock).run(once=True)
        out = capsys.readouterr().out
        edits += [clock.now] * out.count("(update to the post printed")
    app.store.close()
    assert len(edits) == MAX_EDITS
    assert all(b - a >= timedelta(hours=1) for a, b in zip(edits, edits[1:]))
