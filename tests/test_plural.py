"""Counts read right: "1 feed polled", "1 new story", never "1 feeds" or "post(s)".

Driven through the real parts: the CLI's poll summary against a local feed server, the
neutral chat commands, and the Slack digest payload."""
from __future__ import annotations

import asyncio
import os
from datetime import datetime, timezone

import pytest

from bot.cli import main
from feeds.plural import count, plural
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import strategy_entry


@pytest.mark.parametrize("n,noun,text", [
    (0, "feed", "0 feeds"), (1, "feed", "1 feed"), (2, "feed", "2 feeds"),
    (1, "new strategy story", "1 new strategy story"),
    (3, "new strategy story", "3 new strategy stories"),
    (2, "entry", "2 entries"), (2, "day", "2 days"), (1, "failed attempt", "1 failed attempt"),
])
def test_count_says_one_in_the_singular_and_the_rest_in_the_plural(n, noun, text):
    assert count(n, noun) == text
    assert plural(n, noun) == text.split(" ", 1)[1]


@pytest.fixture
def env(clean_env, tmp_path):
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    return clean_env


async def test_a_poll_of_one_feed_with_one_story_reads_in_the_singular(env, capsys, tmp_path):
    async with FeedServer() as srv:
        srv.add("/one.xml", make_rss("One", [strategy_entry(0)]))
        (tmp_path / "feeds.toml").write_text(
            f'[[feed]]\nname = "One"\nurl = "{srv.url("/one.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
        code = await asyncio.to_thread(main, ["poll", "--once"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == (
        "1 feed polled, 1 new story, 1 new strategy story, 0 failed; first polls' backlog "
        "(stored, never posted): 1 story, 1 strategy")


def test_feeds_resume_all_of_one_paused_feed_says_one_feed(env, capsys):
    from feeds.models import FeedSource, utcnow
    from storage.store import Store
    with Store(os.environ["AINEWS_DB"]) as store:
        store.upsert_feed(FeedSource("Gone", "https://gone.example/rss"))
        store.record_fetch_failure("https://gone.example/rss", now=utcnow(), next_poll=utcnow(),
                                   kind="http", message="HTTP 410", pause_after=1)
    assert main(["feeds", "resume", "all"]) == 0
    assert capsys.readouterr().out.startswith("resumed 1 paused feed;")


def test_chat_feed_list_and_delivery_counts_read_in_the_singular(store, clock):
    from bot.commands import Commands
    from bot.config import Settings
    from bot.replies import Caller
    from feeds.classify import Classifier, load_gazetteer
    from feeds.models import FeedSource
    admin = Caller("discord", "g1", "c1", "u1", is_admin=True)
    store.upsert_feed(FeedSource("Only", "https://only.example/rss"))
    commands = Commands(store, Classifier(load_gazetteer()), settings=Settings(),
                        clock=clock, hourly_cap=1)
    listing = asyncio.run(commands.feeds(admin, "list", "", ""))
    assert listing.text.startswith("1 feed")
    commands.subscribe(admin, "all")
    assert "up to 1 post an hour" in commands.subscriptions(admin).text


def test_a_slack_digest_of_one_story_says_one_story():
    from bot.slack.render_roundup import digest_message
    from feeds.models import Brief
    brief = Brief(id="a", headline="Alibaba cuts prices", bullets=("a", "b", "c"),
                  why_it_matters="w", url="https://news.example/a", source="FT",
                  published=datetime(2026, 3, 1, tzinfo=timezone.utc))
    assert digest_message("Digest", [brief])["text"] == "Digest: 1 story: Alibaba cuts prices (FT)"
