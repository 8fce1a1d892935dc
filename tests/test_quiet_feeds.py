"""A feed gone quiet said in the running bot's log (bot/quiet_feeds.py QuietWatch), as
`ainews status` names it (tests/test_cli_status.py): once, and again only once it has
brought news and gone quiet again."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.quiet_feeds import QuietWatch
from feeds.models import FeedSource
from storage.store import Store

START = datetime(2026, 10, 1, 9, tzinfo=timezone.utc)
URL = "https://wire.example/feed.xml"


def polled(store: Store, day: int, news: int = 0) -> None:
    """A good poll of the feed on `day` (after START), bringing `news` new stories."""
    now = START + timedelta(days=day)
    store.record_fetch_ok(URL, now=now, next_poll=now + timedelta(minutes=15), etag=None,
                          last_modified=None, body_hash=None, new_stories=news)


def said(caplog) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == "ainews.poller"]
    caplog.clear()
    return lines


def test_a_feed_gone_quiet_is_said_once_and_again_after_news(tmp_path, caplog):
    """The bot never said it: only `ainews status` named a feed that answered every poll
    but had stopped bringing stories, and an operator watching the log never knew."""
    with Store(tmp_path / "a.db", clock=lambda: START) as store:
        store.upsert_feed(FeedSource("Wire", URL))
        polled(store, 1, news=1)
        polled(store, 20)            # 19 days: not long enough to tell
        QuietWatch(store).check()
        assert said(caplog) == []
        polled(store, 40)
        QuietWatch(store).check()
        (line,) = said(caplog)
        assert "Wire" in line and URL in line and "39 days" in line
        polled(store, 41)            # a restart: not said again
        QuietWatch(store).check()
        assert said(caplog) == []
        polled(store, 42, news=1)    # news, then quiet again
        polled(store, 80)
        QuietWatch(store).check()
        assert len(said(caplog)) == 1


async def test_the_running_bot_says_a_feed_gone_quiet(tmp_path, caplog):
    """Through `ainews run --once` in-process: the poll finds the feed answering, with
    nothing new for 39 days, and the log says so."""
    from bot.app import App
    from bot.config import load_settings
    from bot.service import Service
    from feeds.models import utcnow
    from tests.fakes.feedserver import FeedServer, make_rss, make_entries
    long_ago = utcnow() - timedelta(days=40)
    async with FeedServer() as srv:
        url = srv.url("/f.xml")
        srv.add("/f.xml", make_rss("Wire", make_entries(1, start=long_ago)))
        (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Wire"\nurl = "{url}"\n')
        with Store(tmp_path / "a.db", clock=lambda: long_ago) as store:
            store.upsert_feed(FeedSource("Wire", url))
            store.record_fetch_ok(url, now=long_ago + timedelta(days=1), etag=None,
                                  next_poll=long_ago, last_modified=None, body_hash=None,
                                  new_stories=1)
        app = App(load_settings({"AINEWS_DB": str(tmp_path / "a.db"),
                                 "AINEWS_FEEDS": str(tmp_path / "feeds.toml"),
                                 "AINEWS_ALLOW_PRIVATE_HOSTS": "1"}, dotenv_path=None))
        try:
            await Service(app).run(once=True)
        finally:
            app.close()
    (line,) = [m for m in said(caplog) if "no new story" in m]
    assert "Wire" in line and "39 days" in line
