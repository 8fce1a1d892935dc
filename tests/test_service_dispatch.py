"""Dispatch from the store (bot/service_dispatch.py): what a run routes of the stories
stored since the last dispatch."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Settings
from bot.service import Service
from feeds.formatter import Formatter
from feeds.models import Classification, FeedSource, Story
from storage.store import Store

FEED = "https://outlet001.example.com/rss"
OTHER = "https://outlet002.example.com/rss"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _console_app(tmp_path: Path) -> App:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text("# no feeds: the stories come from the store\n")
    return App(Settings(db_path=tmp_path / "ainews.db", feeds_file=feeds, console=True,
                        channel_hourly_cap=100))


def _story() -> Story:
    text = "Alibaba said it will cut API prices for its Qwen models by 40% to win developers."
    return Story(id="s1", url="https://outlet001.example.com/news/s1",
                 title="Alibaba cuts Qwen API prices by 40%", text=text, source="Outlet 001",
                 feed_url=FEED, published=_now(), summary=text,
                 classification=Classification(strategy=True, score=6.0,
                                               companies=("Alibaba",), topics=("pricing",)))


def _paused_feed(app, name: str, url: str) -> None:
    """A followed feed, paused so the run fetches nothing: its stories come from the store."""
    app.store.upsert_feed(FeedSource(name, url))
    app.store.record_fetch_failure(url, now=_now(), next_poll=_now(), kind="http",
                                   message="test: gone", pause_after=1)


def _removed_while_briefed(monkeypatch, tmp_path) -> None:
    """`ainews feeds remove FEED` from another process while dispatch makes a brief."""
    brief_for = Formatter.brief_for

    async def removed_meanwhile(self, story, **kw):
        with Store(tmp_path / "ainews.db") as other:
            other.remove_feed(FEED)
        return await brief_for(self, story, **kw)
    monkeypatch.setattr(Formatter, "brief_for", removed_meanwhile)


async def test_a_feed_removed_while_its_briefs_are_made_has_nothing_queued(
        tmp_path, capsys, caplog, monkeypatch):
    """`feeds remove` (another process) landed while dispatch made the briefs of the
    feed's stored stories (with an LLM, seconds): the stories were read as followed
    before, so without asking again as the posts are queued they went out from a feed
    no longer followed. Nothing is queued, and the log says why."""
    app = _console_app(tmp_path)
    _paused_feed(app, "Outlet 001", FEED)
    app.store.set_dispatch_mark(app.store.last_story_pk())
    app.store.add_new_stories([_story()], backlog=False, now=_now())
    _removed_while_briefed(monkeypatch, tmp_path)
    with caplog.at_level("INFO", logger="ainews.service"):
        await Service(app).run(once=True)
    (queued,) = app.store.db.execute("SELECT count(*) FROM outbox").fetchone()
    assert queued == 0 and "news/s1" not in capsys.readouterr().out
    assert "dispatch: 1 stored story of a feed removed meanwhile; not posted" in caplog.messages


@pytest.mark.parametrize("when", ["before the run", "while its brief is made"])
@pytest.mark.parametrize("carried", [False, True], ids=["its own", "carried by another"])
async def test_a_removed_feeds_edit_routes_nothing(tmp_path, capsys, caplog, monkeypatch,
                                                   when, carried):
    """A feed's edit made its story strategy (stored by a poll), then the feed was
    removed before dispatch routed the edit (the bot stopped meanwhile, or `feeds remove`
    from another process while the brief was made): the edit was routed all the same and
    the removed feed's story posted. Another followed feed carrying it still brings it."""
    app = _console_app(tmp_path)
    _paused_feed(app, "Outlet 001", FEED)
    plain = replace(_story(), title="Alibaba opens a bookshop",
                    classification=Classification(strategy=False, score=0.5))
    app.store.add_new_stories([plain], backlog=False, now=_now())
    if carried:
        _paused_feed(app, "Outlet 002", OTHER)
        app.store.add_new_stories([replace(plain, feed_url=OTHER)], backlog=False, now=_now())
    app.store.set_dispatch_mark(app.store.last_story_pk())
    app.store.add_new_stories([_story()], backlog=False, now=_now())   # the edit
    assert app.store.last_edit_seq() > 0
    if when == "before the run":
        app.store.remove_feed(FEED)
    else:
        _removed_while_briefed(monkeypatch, tmp_path)
    with caplog.at_level("INFO", logger="ainews.service"):
        await Service(app).run(once=True)
    (queued,) = app.store.db.execute("SELECT count(*) FROM outbox").fetchone()
    assert queued == int(carried) and ("news/s1" in capsys.readouterr().out) == carried
    said = "dispatch: 1 edited story of a feed removed meanwhile; not routed"
    assert (said in caplog.messages) != carried
    assert app.store.last_edit_seq() == 0     # forgotten either way
