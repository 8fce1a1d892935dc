"""What `ainews run` posts, as a real subprocess: stories a manual poll stored,
stories routed late, article pages never read from private hosts, the console paused
for a chat platform, and a story that cannot be condensed."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from feeds.models import utcnow
from storage.store import Store
from tests.fakes.feedserver import make_rss
from tests.fakes.stories import strategy_entry
from tests.service_kit import AINEWS, env_for, run_once, story_links, publish, empty_feed_server


server = pytest.fixture(empty_feed_server, name="server")


async def test_a_manual_poll_leaves_its_new_stories_to_the_bot_to_post(server, tmp_path):
    """`ainews poll --once` posts nothing itself, but beside a running bot (same
    database) it must not swallow news: it used to move the bot's dispatch mark past
    every stored story, its own finds and the bot's stored-but-not-yet-routed ones."""
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    assert story_links(await run_once(env)) == []          # the bot's first poll: backlog
    publish(server, 1, [strategy_entry(0), strategy_entry(1)])
    poll = await asyncio.create_subprocess_exec(AINEWS, "poll", "--once", env=env,
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await poll.communicate()
    assert await poll.wait() == 0 and b"1 new strategy story," in out
    assert story_links(await run_once(env)) == ["https://news.example.com/story/1"]


async def test_a_manual_poll_before_the_bots_first_run_leaves_it_the_news(server, tmp_path):
    """README: `poll --once` posts nothing itself; the next `ainews run` posts its new
    strategy stories. Before the bot had ever run, that run took them for history."""
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    for entries in ([strategy_entry(0)], [strategy_entry(0), strategy_entry(1)]):
        publish(server, 1, entries)    # first poll: backlog; second: one new story
        poll = await asyncio.create_subprocess_exec(AINEWS, "poll", "--once", env=env,
                                                    stdout=asyncio.subprocess.PIPE)
        await poll.communicate()
    assert story_links(await run_once(env)) == ["https://news.example.com/story/1"]


async def test_a_story_stored_fresh_but_routed_late_is_not_posted(server, tmp_path):
    """The age limit holds when a story is routed, not only when it is stored: here a
    manual poll stored it while it was news, and the bot ran only when it no longer was
    (a 1-hour limit on a story published 3 hours ago stands for a week offline)."""
    from datetime import timedelta
    from feeds.models import utcnow
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    assert story_links(await run_once(env)) == []          # the bot's first poll: backlog
    publish(server, 1, [strategy_entry(0),
                        strategy_entry(1, published=utcnow() - timedelta(hours=3))])
    poll = await asyncio.create_subprocess_exec(AINEWS, "poll", "--once", env=env,
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await poll.communicate()
    assert b"1 new strategy story," in out                # stored as news (48 h limit)
    late = {**env, "AINEWS_MAX_POST_AGE_HOURS": "1"}
    assert story_links(await run_once(late)) == []


async def _feeds_remove(env: dict, url: str) -> None:
    proc = await asyncio.create_subprocess_exec(AINEWS, "feeds", "remove", url, env=env,
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0 and out.startswith(b"removed "), out


@pytest.mark.parametrize("removed", ["its-feed", "every-feed"])
async def test_a_story_stored_before_its_feed_was_removed_is_posted_only_if_followed(
        server, tmp_path, removed):
    """Stored but not routed yet (a manual poll; with an LLM the judge's and the brief's
    calls take seconds between storing and routing) when `ainews feeds remove` came: the
    bot then posted it from a feed no longer followed. A story another followed feed
    carries too is still posted: its readers want it."""
    entries = [strategy_entry(0)]
    for f in range(2):                 # an outlet's main feed and its AI section
        server.add(f"/feed{f}.xml", make_rss(f"Outlet {f}", entries))
    env = env_for(tmp_path, [server.url("/feed0.xml"), server.url("/feed1.xml")])
    assert story_links(await run_once(env)) == []          # the bot's first poll: backlog
    entries.append(strategy_entry(1))
    for f in range(2):
        server.add(f"/feed{f}.xml", make_rss(f"Outlet {f}", entries))
    poll = await asyncio.create_subprocess_exec(AINEWS, "poll", "--once", env=env,
                                                stdout=asyncio.subprocess.PIPE)
    await poll.communicate()
    with Store(tmp_path / "ainews.db") as store:
        (own,) = store.db.execute("SELECT feed_url FROM stories WHERE url LIKE '%/story/1'"
                                  ).fetchone()
    gone = [own] if removed == "its-feed" else [server.url(f"/feed{f}.xml") for f in range(2)]
    for url in gone:
        await _feeds_remove(env, url)
    posted = story_links(await run_once(env))
    assert posted == (["https://news.example.com/story/1"] if removed == "its-feed" else [])


async def test_a_post_that_waited_in_the_outbox_past_the_age_limit_is_not_posted(server,
                                                                                 tmp_path):
    """Queued while news, then the bot was stopped (or its channel paused, a long 429):
    at the next start the channel got it however old it had grown meanwhile (a 1-hour
    limit on a post queued 3 hours ago stands for a week offline)."""
    from bot.dispatch import dispatch_new
    from feeds.models import Brief
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    await run_once(env)                                     # console mode: follows all
    with Store(tmp_path / "ainews.db") as store:            # a post the bot never made
        dispatch_new(store, [Brief(id="x", headline="Left over", bullets=(), url="https://x/",
                                   why_it_matters="", source="S", strategy=True,
                                   published=utcnow() - timedelta(hours=3))], utcnow())
    out = await run_once({**env, "AINEWS_MAX_POST_AGE_HOURS": "1"})
    assert "Left over" not in out
    with Store(tmp_path / "ainews.db") as store:
        assert store.outbox_counts().get("stale") == 1


async def test_article_pages_are_never_fetched_from_private_hosts(server, tmp_path):
    """AINEWS_ALLOW_PRIVATE_HOSTS lets the operator's own feeds live on an intranet; a
    story link in feed text must not turn that into a way to reach internal services."""
    from bot.app import App
    from bot.config import load_settings
    from bot.service import poll_only
    entry = strategy_entry(0)
    entry.update(link=server.url("/internal/admin"), content_html="<p>Teaser only.</p>")
    server.add("/internal/admin", "<html><body><p>secret</p></body></html>",
               content_type="text/html")
    publish(server, 1, [])
    env = env_for(tmp_path, [server.url("/feed0.xml")], AINEWS_FETCH_ARTICLES="1")
    app = App(load_settings({k: v for k, v in env.items() if k.startswith("AINEWS_")},
                            dotenv_path=None))
    try:
        await poll_only(app)                     # first poll: the feed is known
        publish(server, 1, [entry])              # a new strategy story with a teaser
        summary = await poll_only(app)
    finally:
        app.close()
    assert summary.new_strategy == 1               # so its brief was made (articles on)
    assert not server.requests_for("/internal/admin")


async def test_the_console_channel_is_paused_while_a_chat_platform_replaces_it(server,
                                                                              tmp_path):
    """Tried without tokens first (the console follows everything), then run on Slack:
    the console's posts must not pile up unseen in the outbox for months, nor flood the
    terminal when the console is used again."""
    from bot.app import App
    from bot.config import load_settings
    from bot.service import Service
    from tests.fakes.slack import FakeSlack
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    await run_once(env)                                     # console mode: follows all
    with Store(tmp_path / "ainews.db") as store:            # a post it never printed
        from bot.dispatch import dispatch_new
        from feeds.models import Brief
        dispatch_new(store, [Brief(id="x", headline="Left over", bullets=(), url="https://x/",
                                   why_it_matters="", source="S", published=utcnow(),
                                   strategy=True)], utcnow())
    publish(server, 1, [strategy_entry(0), strategy_entry(1)])
    slack = await FakeSlack().start()
    try:
        app = App(load_settings({**{k: v for k, v in env.items() if k.startswith("AINEWS_")},
                                 "SLACK_BOT_TOKEN": slack.bot_token,
                                 "SLACK_APP_TOKEN": slack.app_token,
                                 "SLACK_API_URL": slack.api_url}, dotenv_path=None))
        try:
            assert await Service(app).run(once=True) == 0
            [sub] = app.store.subscriptions_for_channel("console", "console")
            waiting = app.store.due_posts(utcnow() + timedelta(days=1), "console", "console")
            failed = app.store.outbox_failures()
        finally:
            app.close()
    finally:
        await slack.stop()
    assert sub.paused and "console" in sub.paused_reason and waiting == []
    assert failed == []                        # `status` reports no failed posts for it
    publish(server, 1, [strategy_entry(i) for i in range(3)])
    assert story_links(await run_once(env)) == ["https://news.example.com/story/2"]


async def test_a_story_that_cannot_be_condensed_does_not_wedge_dispatch(server, tmp_path,
                                                                       monkeypatch, capsys):
    """A condenser bug on one story: that story still goes out (headline and link), and
    the stories routed with it too; before, each dispatch failed on it again, for good."""
    import feeds.formatter
    from bot.app import App
    from bot.config import load_settings
    from bot.service import Service
    real = feeds.formatter.condense

    def fragile(story, **kw):
        if "Tencent" in story.title:
            raise ValueError("condense: a bug")
        return real(story, **kw)
    monkeypatch.setattr(feeds.formatter, "condense", fragile)
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    settings = load_settings({k: v for k, v in env.items() if k.startswith("AINEWS_")},
                             dotenv_path=None)
    publish(server, 1, [strategy_entry(0)])
    for entries in ([0], [0, 1, 2]):                  # backlog; the bad one and another
        publish(server, 1, [strategy_entry(i) for i in entries])
        app = App(settings)
        try:
            assert await Service(app).run(once=True) == 0
        finally:
            app.close()
    out = capsys.readouterr().out
    assert story_links(out) == ["https://news.example.com/story/2",
                                "https://news.example.com/story/1"]
    assert strategy_entry(1)["title"] in out
