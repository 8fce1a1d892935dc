"""Retention in the bot (bot/retention.py): the service prunes after its first poll and
daily, `ainews prune` on demand, and a slimmed story is still never posted twice."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from bot.app import App
from bot.cli import main
from bot.config import load_settings
from bot.retention import DailyPrune, prune, prune_line
from bot.service import Service
from feeds.models import Subscription, utcnow
from storage.store import Store
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import archive_entry, strategy_entry
from tests.store_kit import make

LINK = "https://news.example.com/story/1"


def undated_feed(*archive: int) -> bytes:
    """story-1 without a date (the parser dates it when fetched), then archive entries."""
    rss = make_rss("Wire", [strategy_entry(1), *map(archive_entry, archive)]).decode()
    return re.sub(r"(>story-1</guid>)<pubDate>[^<]*</pubDate>", r"\1", rss).encode()


@pytest.fixture
async def feeds():
    async with FeedServer() as srv:
        yield srv


def app_for(tmp_path, feeds: FeedServer, **extra) -> App:
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Wire"\nurl = "{feeds.url("/f.xml")}"\n')
    app = App(load_settings({
        "AINEWS_DB": str(tmp_path / "a.db"), "AINEWS_FEEDS": str(tmp_path / "feeds.toml"),
        "AINEWS_ALLOW_PRIVATE_HOSTS": "1", "AINEWS_CONSOLE": "1", **extra}, dotenv_path=None))
    app.store.subscribe(Subscription("console", "console", "console", "all", "all"))
    return app


async def test_an_undated_entry_still_listed_is_not_posted_again_after_slimming(
        feeds, tmp_path, capsys, caplog):
    feeds.add("/f.xml", make_rss("Wire", [archive_entry(0)]))
    app = app_for(tmp_path, feeds)
    await Service(app).run(once=True)                 # first poll: backlog
    feeds.add("/f.xml", undated_feed(0, 1))   # archive 1: a row stored after story 1
    with caplog.at_level(logging.DEBUG, logger="ainews.store"):
        await Service(app).run(once=True)
    assert capsys.readouterr().out.count(LINK) == 1   # posted once, as new
    assert "store: slimmed 0 stories older than 180 days (text and search index); " \
           "0 delivered posts forgotten" in caplog.text
    slimmed = app.store.slim_stories_older_than(utcnow() + timedelta(days=1))
    assert (slimmed.stories, slimmed.posts) == (3, 1)   # and its outbox row is gone
    feeds.add("/f.xml", undated_feed(0, 1, 2))        # still listed; the feed changed
    await Service(app).run(once=True)
    assert LINK not in capsys.readouterr().out
    assert app.store.outbox_counts() == {}
    app.close()


async def test_a_slim_row_no_feed_lists_any_more_is_deleted_long_after(feeds, tmp_path,
                                                                       capsys):
    """A slimmed story kept its row for dedupe for good: the file grew with every story
    ever seen (~2 KB each, 1.5 GB a year with 200 feeds). Past FORGET_DAYS it is
    deleted once no feed lists it any more; one a feed still lists stays, and is still
    never posted again."""
    from bot.retention import FORGET_DAYS
    feeds.add("/f.xml", make_rss("Wire", [archive_entry(0), archive_entry(1)]))
    app = app_for(tmp_path, feeds)
    await Service(app).run(once=True)                 # first poll: backlog
    feeds.add("/f.xml", undated_feed(1))              # archive 0 gone from the feed
    await Service(app).run(once=True)
    assert capsys.readouterr().out.count(LINK) == 1
    ids = lambda: {g for (g,) in app.store.db.execute("SELECT guid FROM stories")}  # noqa: E731
    assert ids() == {"archive-0", "archive-1", "story-1"}
    result = prune(app.store, 180, utcnow() + timedelta(days=FORGET_DAYS + 1))
    assert (result.stories, result.forgotten) == (3, 1)
    assert ids() == {"archive-1", "story-1"}
    assert "1 slim row no feed lists any more deleted" in prune_line(result, 180)
    feeds.add("/f.xml", undated_feed(1, 2))           # still listed; the feed changed
    await Service(app).run(once=True)
    assert LINK not in capsys.readouterr().out
    app.close()


def old_store(path, days: int = 200) -> Store:
    store = Store(path)
    store.add_new_stories([make("Alibaba cuts cloud prices", text="Zorblat body.")],
                          backlog=False, now=utcnow() - timedelta(days=days))
    return store


def test_keep_days_zero_keeps_everything(tmp_path):
    with old_store(tmp_path / "a.db") as store:
        assert prune(store, 0, utcnow()) is None
        assert store.search("zorblat")


async def test_the_daily_prune_runs_after_the_first_poll_then_once_a_day(tmp_path):
    now = [utcnow()]
    with old_store(tmp_path / "a.db") as store:
        daily = DailyPrune(store, 180, lambda: now[0])
        await daily.maybe()
        assert store.search("zorblat") == []
        store.add_new_stories([make("Tencent opens a model", text="Quuxite body.")],
                              backlog=False, now=now[0] - timedelta(days=200))
        now[0] += timedelta(hours=23)
        await daily.maybe()
        assert store.search("quuxite")                # not yet a day since the last
        now[0] += timedelta(hours=2)
        await daily.maybe()
        assert store.search("quuxite") == []


async def test_a_clock_set_back_does_not_put_off_the_daily_prune(tmp_path):
    """Set back three days after a prune, the clock left the next one nearly four days
    off; a last prune "after now" makes one due at once."""
    now = [utcnow()]
    with old_store(tmp_path / "a.db") as store:
        daily = DailyPrune(store, 180, lambda: now[0])
        await daily.maybe()
        now[0] -= timedelta(days=3)
        store.add_new_stories([make("Tencent opens a model", text="Quuxite body.")],
                              backlog=False, now=now[0] - timedelta(days=200))
        now[0] += timedelta(hours=1)
        await daily.maybe()
        assert store.search("quuxite") == []


@pytest.mark.parametrize("age_days, logged", [(200, True), (10, False)],
                         ids=["slimmed", "nothing"])
async def test_the_daily_prune_logs_only_when_it_slimmed_something(tmp_path, caplog,
                                                                 age_days, logged):
    """Each start's prune logged "slimmed 0 stories ... 0 delivered posts forgotten"."""
    with old_store(tmp_path / "a.db", days=age_days) as store, \
            caplog.at_level(logging.INFO, logger="ainews.store"):
        await DailyPrune(store, 180, utcnow).maybe()
    assert ("store: slimmed" in caplog.text) is logged


def test_the_prune_command_prints_the_counts(clean_env, tmp_path, capsys):
    old_store(tmp_path / "a.db").close()
    clean_env.setenv("AINEWS_DB", str(tmp_path / "a.db"))
    assert main(["prune"]) == 0
    assert capsys.readouterr().out == ("store: slimmed 1 story older than 180 days (text "
                                       "and search index); 0 delivered posts forgotten\n")
    assert main(["prune", "--days", "3"]) == 0
    assert "slimmed 0 stories older than 3 days" in capsys.readouterr().out


@pytest.mark.parametrize("argv, env, line", [
    # --days 0 was answered "AINEWS_KEEP_DAYS=0", a setting the operator had not made.
    (["prune", "--days", "0"], {}, "store: --days=0: every story is kept whole"),
    (["prune"], {"AINEWS_KEEP_DAYS": "0"}, "store: AINEWS_KEEP_DAYS=0: every story is kept"),
])
def test_the_prune_command_names_what_kept_everything(clean_env, tmp_path, capsys, argv,
                                                      env, line):
    old_store(tmp_path / "a.db").close()
    clean_env.setenv("AINEWS_DB", str(tmp_path / "a.db"))
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(line)


def test_the_prune_command_refuses_a_bad_days_value(clean_env, tmp_path, capsys):
    clean_env.setenv("AINEWS_DB", str(tmp_path / "a.db"))
    with pytest.raises(SystemExit) as stop:
        main(["prune", "--days", "-1"])
    assert stop.value.code == 2 and "--days='-1' must be at least 0" in capsys.readouterr().err
