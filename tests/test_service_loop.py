"""The service in-process: start-up failures close what started, a failing or locked
poll cycle is one line and the loop goes on, and stops (during the first poll, or a
SIGTERM lost in start-up) are honoured."""
from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from storage.store import StoreError


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


@pytest.mark.parametrize("error, traced", [
    (RuntimeError("database is locked"), True),   # a bug: its trace is worth having
    # A store locked by another program is the operator's to fix, and StoreError says
    # so in one line: the log showed it with a traceback at every tick.
    (StoreError("store: ainews.db is locked: another program has held it"), False),
], ids=["bug", "store-locked"])
async def test_a_failing_poll_cycle_is_one_line_and_the_service_keeps_running(
        tmp_path, monkeypatch, caplog, error, traced):
    from bot.app import App
    from bot.pipeline import Pipeline, PollSummary
    from bot.service import Service
    app = App(_service_settings(tmp_path, AINEWS_POLL_MINUTES="0.001"))
    service, calls = Service(app), []

    async def failing_poll(self, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise error
        service.stop.set()
        return PollSummary()
    monkeypatch.setattr(Pipeline, "poll_once", failing_poll)
    try:
        assert await service.run() == 0
    finally:
        app.close()
    failed = [r for r in caplog.records if "service: poll cycle failed" in r.getMessage()]
    assert len(calls) == 2 and len(failed) == 1
    assert str(error) in failed[0].getMessage()
    assert (failed[0].exc_info is not None) == traced


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
    from bot.connections import read_connections
    from bot.service import Service
    app = App(_service_settings(tmp_path, **env))
    service = Service(app)
    try:
        adapters = await service._start_adapters()
        shown = read_connections(app.store)["slack"]     # what `ainews status` reads
    finally:
        app.close()
    assert list(adapters) == ["console"]
    assert any(missing in r.getMessage() and "Slack stays off" in r.getMessage()
               and r.levelname == "WARNING" for r in caplog.records)
    # The log line alone scrolled away: status said "bot running" and nothing of Slack.
    assert shown["state"] == "off" and missing in shown["reason"]


@pytest.mark.parametrize("max_age, fate", [
    ("48", "until older than AINEWS_MAX_POST_AGE_HOURS (48), then are not posted"),
    ("0", "for good (AINEWS_MAX_POST_AGE_HOURS=0: no age limit)"),
])
async def test_channels_of_a_platform_not_configured_are_named_at_start(tmp_path, caplog,
                                                                        max_age, fate):
    """Slack switched off, its channels still subscribed: dispatch queues their posts,
    which nothing posts. Said at start, with how long they wait."""
    from bot.app import App
    from bot.service import Service
    from feeds.models import Subscription
    app = App(_service_settings(tmp_path, AINEWS_MAX_POST_AGE_HOURS=max_age))
    for channel in ("C1", "C2"):
        app.store.subscribe(Subscription("slack", "T1", channel, "all", "all"))
    try:
        assert list(await Service(app)._start_adapters()) == ["console"]
    finally:
        app.close()
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"service: 2 channels of slack are subscribed but slack is not configured: their "
        f"posts wait in the outbox {fate}; `ainews subscriptions remove slack CHANNEL` "
        "ends a channel's"]


@pytest.mark.parametrize("waiting, said", [
    (0, "console channel paused while a chat platform runs; AINEWS_CONSOLE=1 keeps it on"),
    (1, "console channel paused while a chat platform runs; 1 waiting post dropped; "
        "AINEWS_CONSOLE=1 keeps it on"),
], ids=["none waiting", "one waiting"])
def test_pausing_the_console_names_dropped_posts_only_when_there_were_some(
        tmp_path, caplog, waiting, said):
    """It logged "(0 waiting posts dropped)" on a first start with a chat platform."""
    from bot.app import App
    from bot.dispatch import dispatch_new
    from bot.service import Service
    from feeds.models import Brief, Subscription, utcnow
    app = App(_service_settings(tmp_path))
    app.store.subscribe(Subscription("console", "console", "console", "all", "all"))
    for i in range(waiting):
        dispatch_new(app.store, [Brief(id=f"x{i}", headline="Left over", bullets=(),
                                       url="https://x/", why_it_matters="", source="S",
                                       published=utcnow(), strategy=True)], utcnow())
    try:
        with caplog.at_level("INFO", logger="ainews"):
            Service(app)._pause_console()
    finally:
        app.close()
    assert [r.getMessage() for r in caplog.records if "console channel" in r.getMessage()] \
        == [f"service: {said}"]


@pytest.mark.parametrize("sig, said", [
    (signal.SIGTERM, "service: SIGTERM received, shutting down"),
    (signal.SIGHUP, "service: SIGHUP received, shutting down (ainews has no reload"),
], ids=["SIGTERM", "SIGHUP"])
async def test_a_stop_signal_lost_during_start_up_still_stops_the_service(tmp_path, caplog,
                                                                          sig, said):
    # Before the service takes signals over, SIGTERM and SIGHUP are an exception
    # (bot/cli.py); one raised inside a finalizer is dropped, and the bot ran on until
    # killed. It stops now, saying which signal came.
    from bot import stopping
    from bot.app import App
    from bot.service import Service
    caplog.set_level("INFO", "ainews")
    app = App(_service_settings(tmp_path, AINEWS_POLL_MINUTES="0.001"))
    stopping.request(sig)   # what the handler records before its exception is lost
    try:
        assert await asyncio.wait_for(Service(app).run(), 30) == 0
    finally:
        stopping.forget()
        app.close()
    assert said in caplog.text


class _Passes:
    """A pipeline whose passes polled `feeds` feeds and found `new` stories each."""

    def __init__(self):
        self.feeds, self.new = 0, 0

    async def poll_once(self, **kwargs):
        from bot.poll_summary import FeedOutcome, PollSummary
        return PollSummary(outcomes=[FeedOutcome(f"https://f{i}.example/rss", "F", new=self.new)
                                     for i in range(self.feeds)])


QUIET_HOUR = [(m, 3, 0) for m in range(0, 63, 2)]   # a pass every 2 min, nothing new


@pytest.mark.parametrize("passes, expected", [
    (QUIET_HOUR, {0: "", 60: "; nothing new in 30 polls since 2026-12-01 05:00 UTC"}),
    ([(0, 0, 0), (1, 0, 0), (2, 3, 0), (4, 3, 0)], {2: ""}),
    ([(0, 3, 0), (2, 3, 1), (4, 3, 0), (64, 3, 0)],
     {0: "", 2: "", 64: "; nothing new in 2 polls since 2026-12-01 05:02 UTC"}),
], ids=["quiet-hour", "nothing-due-at-first", "after-news"])
async def test_quiet_passes_say_the_bot_is_polling_once_an_hour(tmp_path, caplog, passes,
                                                                 expected):
    # A quiet pass is a DEBUG line: the first one of a run, then a quiet night,
    # logged nothing at all, and the bot looked hung.
    import logging
    from datetime import datetime, timedelta, timezone
    from bot.app import App
    from bot.service import Service
    caplog.set_level(logging.INFO, "ainews")
    start, now = datetime(2026, 12, 1, 5, 0, tzinfo=timezone.utc), [None]
    app = App(_service_settings(tmp_path))
    service, pipeline, said = Service(app, clock=lambda: now[0]), _Passes(), {}
    try:
        for minute, pipeline.feeds, pipeline.new in passes:
            now[0], caplog.records[:] = start + timedelta(minutes=minute), []
            await service._cycle(pipeline)
            said.update({minute: r.getMessage() for r in caplog.records
                         if r.getMessage().startswith("poller: ")})
    finally:
        app.close()
    assert {m: line.partition(" failed")[2] for m, line in said.items()} == expected


async def test_delivery_ending_on_a_bug_ends_the_run_not_a_silent_poll_on(tmp_path,
                                                                          monkeypatch):
    # The service awaited the delivery task only at shutdown: a delivery that died (a
    # bug) left the bot polling and queuing for days with nothing posted, nothing said.
    from bot.app import App
    from bot.delivery import Delivery
    from bot.pipeline import Pipeline, PollSummary
    from bot.service import Service
    app = App(_service_settings(tmp_path, AINEWS_POLL_MINUTES="0.001"))
    service, polls = Service(app), []

    async def broken(self, stop):
        raise RuntimeError("delivery bug")

    async def poll(self, **kwargs):
        polls.append(1)
        if len(polls) == 20:    # polled on without delivery: stop the test
            service.stop.set()
        return PollSummary()
    monkeypatch.setattr(Delivery, "run_forever", broken)
    monkeypatch.setattr(Pipeline, "poll_once", poll)
    try:
        with pytest.raises(RuntimeError, match="delivery bug"):
            await service.run()
    finally:
        app.close()
    assert len(polls) < 20


async def test_a_prune_finding_the_store_locked_is_retried_tomorrow_not_a_crash(
        tmp_path, monkeypatch, caplog):
    # The prune's vacuum runs on its own connection: another program's write lock past
    # the busy timeout came back as a raw sqlite3 error, and the run ended (exit 1).
    import sqlite3
    from bot.app import App
    from bot.retention import DailyPrune
    from bot.service import Service
    app = App(_service_settings(tmp_path))
    service = Service(app)

    async def locked(self):
        raise sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(DailyPrune, "maybe", locked)
    try:
        await service._guarded_prune()
    finally:
        app.close()
    assert "pruning the store failed (database is locked); trying again tomorrow" in caplog.text


class _Backlogs:
    """A pipeline whose first pass stores each feed's current stories (never posted)."""

    def __init__(self):
        self.passes = 0

    async def poll_once(self, **kwargs):
        from bot.poll_summary import FeedOutcome, PollSummary
        self.passes += 1
        first = self.passes == 1
        return PollSummary(outcomes=[FeedOutcome("https://a.example/rss", "A", new=6 * first,
                                                 new_strategy=5 * first, backlog=first)])


@pytest.mark.parametrize("console, where", [(True, "print here"),
                                            (False, "are posted to the channels")])
async def test_the_first_pass_says_the_stories_kept_back_are_read_with_ainews_latest(
        tmp_path, caplog, console, where):
    """`make run` on a fresh clone logged "first polls' backlog (stored, never posted): 6
    stories, 5 strategy" and then nothing for as long as no new story was published: the
    bot's own word, and no next step. One plain line says it, once per start."""
    import logging
    from bot.app import App
    from bot.service import Service
    caplog.set_level(logging.INFO, "ainews")
    app = App(_service_settings(tmp_path))
    service, pipeline = Service(app), _Backlogs()
    service.delivery = type("D", (), {"adapters": {"console": None} if console else {}})()
    if console:         # as `ainews run` sets the console up on a fresh database
        from bot.console import set_up_console
        set_up_console(app.store)
    try:
        for _ in range(3):
            await service._cycle(pipeline)
    finally:
        app.close()
    told = [r.getMessage() for r in caplog.records if "ainews latest" in r.getMessage()]
    assert len(told) == 1, caplog.text
    assert "5 strategy stories already in the feeds were kept, not posted" in told[0], told
    assert where in told[0], told
