"""`ainews run` end to end, as a real subprocess: local feed server -> console output.

Covers first-poll silence, `run --once` posting a new story, and crash safety: a SIGKILL
mid-delivery followed by a restart loses nothing."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from feeds.models import utcnow
from storage.store import Store
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import archive_entry, strategy_entry

AINEWS = str(Path(sys.executable).parent / "ainews")
RULE = "-" * 72


def env_for(tmp_path: Path, feeds: list[str], **extra) -> dict:
    lines = [f'[[feed]]\nname = "Outlet {i}"\nurl = "{u}"\n' for i, u in enumerate(feeds)]
    (tmp_path / "feeds.toml").write_text("\n".join(lines))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "LLM_"))}
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


@pytest.fixture
async def server():
    async with FeedServer() as srv:
        yield srv


async def test_first_poll_is_silent_then_new_story_is_posted(server, tmp_path):
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    first = await run_once(env)
    assert story_links(first) == []           # backlog: stored, never posted
    publish(server, 1, [strategy_entry(0), strategy_entry(1)])
    second = await run_once(env)
    assert story_links(second) == ["https://news.example.com/story/1"]
    assert "Tencent cuts prices of its AI models" in second and "Why it matters" in second
    assert story_links(await run_once(env)) == []   # nothing twice


async def read_until_posts(proc, count: int) -> str:
    seen = ""
    while seen.count(RULE) < count:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line, "ainews run exited before posting"
        seen += line.decode()
    return seen


async def test_sigkill_mid_delivery_loses_nothing(server, tmp_path):
    n_feeds, n_new = 4, 48
    publish(server, n_feeds, [archive_entry(f) for f in range(n_feeds)])
    env = env_for(tmp_path, [server.url(f"/feed{f}.xml") for f in range(n_feeds)])
    await run_once(env)                          # first poll: feeds known, nothing posted
    publish(server, n_feeds, [strategy_entry(i) for i in range(n_new)])
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", env=env,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL)
    # We read slowly: the pipe fills and the bot is blocked mid-delivery when killed.
    printed = await read_until_posts(proc, 3)
    proc.send_signal(signal.SIGKILL)
    printed += (await proc.stdout.read()).decode()
    await proc.wait()
    with Store(tmp_path / "ainews.db") as store:
        pending = store.outbox_counts()
    assert sum(n for state, n in pending.items() if state != "sent") > 0, pending
    printed += await run_once(env)
    with Store(tmp_path / "ainews.db") as store:   # every new strategy story (cluster lead)
        expected = {b.url for b in store.latest(1000, strategy_only=True)}
    assert len(expected) > n_new * 3 // 4
    links = story_links(printed)
    assert set(links) == expected
    assert len(links) - len(expected) <= 1       # at most the one in flight at the kill


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_stops_the_service_cleanly(server, tmp_path, sig):
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", env=env,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    log = b""
    while b"service: adapters: console" not in log:
        log += await asyncio.wait_for(proc.stderr.readline(), 30)
    proc.send_signal(sig)
    rest = await asyncio.wait_for(proc.stderr.read(), 30)
    assert await proc.wait() == 0
    assert b"service: stopped" in rest and b"Traceback" not in log + rest


async def test_demo_shows_briefs_and_filters_the_review():
    proc = await asyncio.create_subprocess_exec(AINEWS, "demo", "--seconds", "9",
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "China’s Alibaba shifts towards revenue over open-source AI" in text
    assert "Why it matters" in text and "headphones" not in text


# ---- in-process: start-up and loop failures ----------------------------------------------
def _service_settings(tmp_path: Path, **env):
    from bot.config import load_settings
    (tmp_path / "feeds.toml").write_text('[[feed]]\nname = "Wire"\nurl = "http://127.0.0.1:9/f.xml"\n')
    return load_settings({"AINEWS_DB": str(tmp_path / "a.db"),
                          "AINEWS_FEEDS": str(tmp_path / "feeds.toml"),
                          "AINEWS_ALLOW_PRIVATE_HOSTS": "1", **env}, dotenv_path=None)


async def test_discord_refusing_its_token_also_closes_the_started_slack_connection(tmp_path):
    from bot.app import App
    from bot.errors import UserError
    from bot.service import Service
    from tests.fakes.discord import FakeDiscord
    from tests.fakes.slack import FakeSlack
    slack, discord = FakeSlack(), FakeDiscord()
    await slack.start(), await discord.start()
    app = None
    try:
        app = App(_service_settings(
            tmp_path, SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=slack.app_token,
            SLACK_API_URL=slack.api_url, DISCORD_TOKEN="not-the-token",
            DISCORD_API_URL=discord.api_url, DISCORD_GATEWAY_URL=discord.gateway_url))
        with pytest.raises(UserError, match="DISCORD_TOKEN was refused"):
            await Service(app).run(once=True)
        await slack.wait_for(lambda: not slack._open_sockets(), what="Slack socket closed")
    finally:
        if app is not None:
            app.close()
        await slack.stop(), await discord.close()


async def test_a_failing_poll_cycle_is_logged_and_the_service_keeps_running(
        tmp_path, monkeypatch, caplog):
    from bot.app import App
    from bot.pipeline import Pipeline
    from bot.service import Service
    app = App(_service_settings(tmp_path, AINEWS_POLL_MINUTES="0.001"))
    service, calls = Service(app), []

    async def flaky_poll(self, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        service.stop.set()
        return PollSummary()
    from bot.pipeline import PollSummary
    monkeypatch.setattr(Pipeline, "poll_once", flaky_poll)
    try:
        assert await service.run() == 0
    finally:
        app.close()
    assert len(calls) == 2
    assert any("service: poll cycle failed" in r.getMessage() and "database is locked"
               in r.getMessage() for r in caplog.records)


async def test_a_locked_store_in_a_poll_cycle_is_one_warning_line(
        tmp_path, monkeypatch, caplog):
    # A store locked by another program is the operator's to fix, and StoreError says
    # so in one line: the log showed it with a traceback at every tick.
    from bot.app import App
    from bot.pipeline import Pipeline, PollSummary
    from bot.service import Service
    from storage.store import StoreError
    app = App(_service_settings(tmp_path, AINEWS_POLL_MINUTES="0.001"))
    service, calls = Service(app), []

    async def locked_poll(self, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise StoreError("store: ainews.db is locked: another program has held it")
        service.stop.set()
        return PollSummary()
    monkeypatch.setattr(Pipeline, "poll_once", locked_poll)
    try:
        assert await service.run() == 0
    finally:
        app.close()
    failed = [r for r in caplog.records if "poll cycle failed" in r.getMessage()]
    assert len(calls) == 2 and len(failed) == 1
    assert "ainews.db is locked" in failed[0].getMessage() and failed[0].exc_info is None


async def test_a_stop_during_the_first_poll_does_not_wait_for_a_prune(tmp_path, monkeypatch):
    # The start's first prune ran after the abandoned pass, on the way out: on a big
    # store it held a SIGTERM'd shutdown for seconds (a supervisor's SIGKILL comes at 10).
    from bot.app import App
    from bot.pipeline import Pipeline, PollSummary
    from bot.retention import DailyPrune
    from bot.service import Service
    app = App(_service_settings(tmp_path))
    service, pruned = Service(app), []

    async def stopped_poll(self, **kwargs):
        service.stop.set()
        return PollSummary()

    async def prune(self):
        pruned.append(1)
    monkeypatch.setattr(Pipeline, "poll_once", stopped_poll)
    monkeypatch.setattr(DailyPrune, "maybe", prune)
    try:
        assert await service.run() == 0
    finally:
        app.close()
    assert pruned == []


@pytest.mark.parametrize("env,missing", [
    ({"SLACK_BOT_TOKEN": "xoxb-only"}, "SLACK_APP_TOKEN"),
    # The other half alone was silent: the bot ran on the console without a word.
    ({"SLACK_APP_TOKEN": "xapp-only"}, "SLACK_BOT_TOKEN"),
    ({"SLACK_SIGNING_SECRET": "secret-only"}, "SLACK_BOT_TOKEN"),
])
async def test_half_a_slack_configuration_is_reported(tmp_path, caplog, env, missing):
    from bot.app import App
    from bot.service import Service
    app = App(_service_settings(tmp_path, **env))
    service = Service(app)
    try:
        adapters = await service._start_adapters()
    finally:
        app.close()
    assert list(adapters) == ["console"]
    assert any(missing in r.getMessage() and "Slack stays off" in r.getMessage()
               and r.levelname == "WARNING" for r in caplog.records)


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


async def test_stop_does_not_wait_for_a_slow_feed(server, tmp_path):
    publish(server, 1, [strategy_entry(0)])
    server.add_slow("/slow.xml", 30.0, make_rss("Slow", []))
    env = env_for(tmp_path, [server.url("/feed0.xml"), server.url("/slow.xml")])
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", env=env,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    while not server.requests_for("/slow.xml"):       # the pass is waiting on the slow feed
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    rest = await asyncio.wait_for(proc.stderr.read(), 10)   # well before the 15 s timeout
    assert await proc.wait() == 0 and b"poll pass in progress is abandoned" in rest


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_run_once_without_waiting_for_a_slow_feed(server, tmp_path, sig):
    """Ctrl-C on a cron-style `run --once` must stop it, as it stops `run`."""
    publish(server, 1, [strategy_entry(0)])
    server.add_slow("/slow.xml", 30.0, make_rss("Slow", []))
    env = env_for(tmp_path, [server.url("/feed0.xml"), server.url("/slow.xml")])
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", "--once", env=env,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    while not server.requests_for("/slow.xml"):       # the pass is waiting on the slow feed
        await asyncio.sleep(0.05)
    proc.send_signal(sig)
    rest = await asyncio.wait_for(proc.stderr.read(), 10)   # well before the 15 s timeout
    assert await proc.wait() == 0 and b"poll pass in progress is abandoned" in rest


@pytest.mark.parametrize("second", [["run", "--once"], ["run"]])
async def test_a_second_instance_on_the_same_database_refuses_to_start(server, tmp_path,
                                                                      second):
    """Two `ainews run` on one database would both post (a second start also puts the
    first one's posts in flight back to due: duplicates). `ainews poll` may run beside
    it: it leaves posting to the bot (test_a_manual_poll_leaves_its_new_stories_to_the_bot_to_post)."""
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    first = await asyncio.create_subprocess_exec(AINEWS, "run", env=env,
                                                 stdout=asyncio.subprocess.DEVNULL,
                                                 stderr=asyncio.subprocess.PIPE)
    try:
        log = b""
        while b"service: adapters: console" not in log:
            log += await asyncio.wait_for(first.stderr.readline(), 30)
        proc = await asyncio.create_subprocess_exec(AINEWS, *second, env=env,
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 2 and out == b""
        assert err.decode().startswith("ainews: service: another `ainews run` is using ")
        assert f"(pid {first.pid})" in err.decode() and "Traceback" not in err.decode()
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.communicate(), 30)
    assert first.returncode == 0
    assert "service: stopped" in await run_once_log(env)   # free again once it stopped


async def run_once_log(env: dict) -> str:
    return (await _run_once(env))[1]


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


async def test_a_sigterm_lost_during_start_up_still_stops_the_service(tmp_path, caplog):
    # Before the service takes signals over, SIGTERM is an exception (bot/cli.py); one
    # raised inside a finalizer is dropped, and the bot ran on until killed.
    from bot import stopping
    from bot.app import App
    from bot.service import Service
    caplog.set_level("INFO", "ainews")
    app = App(_service_settings(tmp_path, AINEWS_POLL_MINUTES="0.001"))
    stopping.request()      # what the handler records before its exception is lost
    try:
        assert await asyncio.wait_for(Service(app).run(), 30) == 0
    finally:
        stopping.forget()
        app.close()
    assert "service: SIGTERM received, shutting down" in caplog.text
