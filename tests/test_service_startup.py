"""`ainews run` started while Slack or Discord can't be reached: it waits and retries.

The real clients against the fakes in tests/fakes/: a platform answering 5xx/429, or
not listening at all, is retried with backoff (one warning line per attempt) while the
other platform and the poller run; its posts wait in the outbox and go out once it is
up. A refused token still ends the run at once with its one-line message, and a stop
during the wait ends it cleanly."""
from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

import bot.startup
from bot.app import App
from bot.config import load_settings
from bot.discord.client import apply_endpoints
from bot.dispatch import dispatch_new
from bot.errors import UserError
from bot.service import Service
from bot.startup import retry_delay
from feeds.models import Subscription, utcnow
from storage.store import Store
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack, make_brief

AINEWS = str(Path(sys.executable).parent / "ainews")
RETRYING = "retrying start-up in"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch, caplog):
    # A few hundredths of a second between tries, so a test spends no time waiting.
    monkeypatch.setattr(bot.startup, "RETRY_FIRST", 0.02)
    monkeypatch.setattr(bot.startup, "RETRY_MAX", 0.05)
    caplog.set_level(logging.INFO, "ainews")    # whatever an earlier test configured


def free_port() -> int:
    """A loopback port nothing listens on (yet): a platform that is not up."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_env(tmp_path: Path, slack: FakeSlack | None = None,
                 discord: FakeDiscord | None = None, **extra) -> dict:
    (tmp_path / "feeds.toml").write_text(
        '[[feed]]\nname = "Wire"\nurl = "http://127.0.0.1:9/f.xml"\n')
    env = {"AINEWS_DB": str(tmp_path / "a.db"), "AINEWS_FEEDS": str(tmp_path / "feeds.toml"),
           "AINEWS_ALLOW_PRIVATE_HOSTS": "1", "AINEWS_POLL_MINUTES": "0.01"}
    if slack is not None:
        env.update(SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=slack.app_token,
                   SLACK_API_URL=f"http://127.0.0.1:{slack.port}/api/")
    if discord is not None:
        env.update(DISCORD_TOKEN=discord.token,
                   DISCORD_API_URL=f"http://127.0.0.1:{discord.port}",
                   DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{discord.port}/gateway")
    return {**env, **extra}


def queue_a_post(store: Store, slack: FakeSlack | None, discord: FakeDiscord | None) -> None:
    """One story waiting for each configured platform's channel, as dispatch leaves it
    (news: a post older than AINEWS_MAX_POST_AGE_HOURS by its turn is not made)."""
    if slack is not None:
        store.subscribe(Subscription("slack", slack.team_id, "C1", "all", "all"))
    if discord is not None:
        store.subscribe(Subscription("discord", str(discord.guild_id),
                                     str(discord.channel_ids[0]), "all", "all"))
    assert dispatch_new(store, [make_brief(strategy=True, published=utcnow())],
                        utcnow()) >= 1


@asynccontextmanager
async def running_service(env: dict, slack=None, discord=None):
    """Service(app).run() as a task, with a post queued; stops it and checks exit 0."""
    app = App(load_settings(env, dotenv_path=None))
    queue_a_post(app.store, slack, discord)
    service = Service(app)
    task = asyncio.create_task(service.run())
    try:
        yield service, task
        service.stop.set()
        assert await asyncio.wait_for(task, 30) == 0
    finally:
        task.cancel()
        app.close()
        apply_endpoints(load_settings({}, dotenv_path=None))


def slack_posts(fake: FakeSlack) -> list:
    return fake.calls_to("chat.postMessage")


def discord_posts(fake: FakeDiscord) -> list:
    return fake.find("POST", r"/channels/\d+/messages")


async def until(predicate, timeout: float = 10.0) -> None:
    """Poll `predicate` (for what no fake records, e.g. a connection closed)."""
    async def poll():
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


def bot_tasks_left() -> list[asyncio.Task]:
    """Tasks still running code of ours (bot/) besides the test itself."""
    root = str(Path(bot.startup.__file__).parent)
    return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()
            and not t.done() and t.get_coro().cr_code.co_filename.startswith(root)]


def retry_lines(caplog, platform: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and r.getMessage().startswith(f"{platform}: ")
            and RETRYING in r.getMessage()]


# ---- the backoff ---------------------------------------------------------------------
@pytest.mark.parametrize("failures, rand, retry_after, expected", [
    (1, 0.0, None, 5.0), (2, 0.0, None, 10.0), (3, 0.0, None, 20.0),
    (7, 0.0, None, 300.0), (5000, 0.0, None, 300.0),     # capped at five minutes
    (3, 1.0, None, 18.0),                                 # jitter only shortens, by <= 10%
    (1, 0.0, 42.0, 42.0), (7, 0.0, 30.0, 300.0),          # a Retry-After is a floor
])
def test_start_up_retries_back_off_from_5_s_to_5_minutes(monkeypatch, failures, rand,
                                                         retry_after, expected):
    monkeypatch.setattr(bot.startup, "RETRY_FIRST", 5.0)
    monkeypatch.setattr(bot.startup, "RETRY_MAX", 300.0)
    assert retry_delay(failures, retry_after, rand=lambda: rand) == pytest.approx(expected)


# ---- Slack or Discord in trouble at start-up -------------------------------------------
@pytest.mark.parametrize("method, status, answers, words", [
    ("auth.test", 503, 2, ["answered HTTP 503"] * 2),
    ("apps.connections.open", 502, 2, ["answered HTTP 502"] * 2),
    # The SDK itself retries a 429 once, after its Retry-After: two answers, one failure,
    # and the next try waits at least the Retry-After (1 s, against 0.02 s of backoff).
    ("auth.test", 429, 2, ["answered HTTP 429 (ratelimited); retrying start-up in 1 s"]),
])
async def test_slack_failing_at_start_is_retried_until_the_bot_starts_and_posts(
        tmp_path, caplog, method, status, answers, words):
    slack = await FakeSlack().start()
    slack.fail(method, status=status, times=answers, **(
        {"retry_after": 1} if status == 429 else {"body": "<html>busy</html>"}))
    try:
        async with running_service(settings_env(tmp_path, slack), slack):
            await slack.wait_for(lambda: slack_posts(slack), what="the queued post")
            await slack.wait_connected()
    finally:
        await slack.stop()
    lines = retry_lines(caplog, "slack")
    assert len(lines) == len(words) and all(w in line for w, line in zip(words, lines)), lines
    assert len(slack_posts(slack)) == 1


async def test_discord_down_at_start_does_not_hold_up_slack_and_connects_when_up(
        tmp_path, caplog):
    """Discord's API is not listening at first: Slack's post goes out meanwhile, the
    Discord post waits (no attempt spent), and goes out once Discord is up."""
    slack, discord = await FakeSlack().start(), FakeDiscord()
    discord.port = free_port()
    env = settings_env(tmp_path, slack, discord)
    try:
        async with running_service(env, slack, discord) as (service, _):
            await slack.wait_for(lambda: slack_posts(slack), what="the Slack post")
            await until(lambda: len(retry_lines(caplog, "discord")) >= 2)   # still trying
            [row] = service.app.store.waiting_posts("discord", str(discord.channel_ids[0]))
            assert row.attempts == 0 and row.state == "due"
            await discord.start(discord.port)
            await discord.wait_for(lambda: discord_posts(discord))
    finally:
        await slack.stop()
        await discord.close()
    assert "can't reach http://127.0.0.1:" in retry_lines(caplog, "discord")[0]
    assert any("discord: started after" in r.getMessage() for r in caplog.records)
    assert len(discord_posts(discord)) == 1 and len(slack_posts(slack)) == 1


async def test_discord_answering_5xx_at_login_is_retried(tmp_path, caplog):
    discord = await FakeDiscord().start()
    discord.fail("GET", "/users/@me", 503, times=2)   # 503: discord.py does not retry it
    try:
        async with running_service(settings_env(tmp_path, discord=discord),
                                   discord=discord):
            await discord.wait_for(lambda: discord_posts(discord))
    finally:
        await discord.close()
    lines = retry_lines(caplog, "discord")
    assert len(lines) == 2 and all("answered HTTP 503" in line for line in lines), lines


async def test_slack_not_listening_at_start_is_retried(tmp_path, caplog):
    slack = FakeSlack()
    slack.port = free_port()
    try:
        async with running_service(settings_env(tmp_path, slack), slack):
            await until(lambda: retry_lines(caplog, "slack"))
            await slack.start(slack.port)
            await slack.wait_for(lambda: slack_posts(slack), what="the queued post")
    finally:
        await slack.stop()
    assert "can't reach http://127.0.0.1:" in retry_lines(caplog, "slack")[0]


# ---- configuration errors still end the run ---------------------------------------------
@pytest.mark.parametrize("platform, words", [
    ("slack", "slack: SLACK_BOT_TOKEN was refused (invalid_auth)"),
    ("discord", "discord: DISCORD_TOKEN was refused (401)"),
])
@pytest.mark.parametrize("outage_first", [False, True])
async def test_a_refused_token_ends_the_run_with_its_one_line_message(
        tmp_path, caplog, platform, words, outage_first):
    """At once; and also when the platform first had an outage and, back, refuses the
    token (found by a background retry while the rest runs)."""
    slack, discord = await FakeSlack().start(), await FakeDiscord().start()
    if platform == "slack":
        env = settings_env(tmp_path, slack, SLACK_BOT_TOKEN="xoxb-wrong")
        if outage_first:
            slack.fail("auth.test", status=503)
    else:
        env = settings_env(tmp_path, discord=discord, DISCORD_TOKEN="not-the-token")
        if outage_first:
            discord.fail("GET", "/users/@me", 503)
    app = App(load_settings(env, dotenv_path=None))
    try:
        with pytest.raises(UserError) as err:
            await asyncio.wait_for(Service(app).run(), 30)
    finally:
        app.close()
        apply_endpoints(load_settings({}, dotenv_path=None))
        await slack.stop(), await discord.close()
    assert str(err.value).startswith(words) and "\n" not in str(err.value)
    assert len(retry_lines(caplog, platform)) == int(outage_first)
    gc.collect()
    await asyncio.sleep(0)
    assert not [r for r in caplog.records if "Unclosed" in r.getMessage()]


# ---- stopping while waiting --------------------------------------------------------------
async def test_a_platform_slow_to_answer_does_not_hold_up_the_other(tmp_path, caplog,
                                                                   monkeypatch):
    """Slack never answers auth.test (its client would wait 15 s): after FIRST_TRY_WAIT
    the bot runs without it and Discord posts; when Slack does answer (here: with
    trouble of its own) it is retried, starts and posts too."""
    monkeypatch.setattr(bot.startup, "FIRST_TRY_WAIT", 0.1)
    slack, discord = await FakeSlack().start(), await FakeDiscord().start()
    slack.fail("auth.test", hang=True)
    try:
        async with running_service(settings_env(tmp_path, slack, discord), slack, discord):
            await discord.wait_for(lambda: discord_posts(discord))
            assert not slack_posts(slack)
            slack._release.set()                # the hung auth.test answers: fatal_error
            await slack.wait_for(lambda: slack_posts(slack), what="the Slack post")
    finally:
        await slack.stop()
        await discord.close()
    assert any("service: adapters: slack (still starting), discord" in r.getMessage()
               for r in caplog.records)
    [line] = retry_lines(caplog, "slack")
    assert "answered HTTP 200 (fatal_error)" in line


@pytest.mark.parametrize("first_try_wait", [30.0, 0.05])
async def test_a_stop_during_a_start_up_try_leaves_nothing_open(tmp_path, caplog,
                                                                monkeypatch, first_try_wait):
    """Slack never answers auth.test: a stop does not wait for it (15 s), whether the
    bot still waits for the first try (30) or already runs without it (0.05), and the
    session the try opened is closed."""
    monkeypatch.setattr(bot.startup, "FIRST_TRY_WAIT", first_try_wait)
    slack = await FakeSlack().start()
    slack.fail("auth.test", hang=True)
    try:
        async with running_service(settings_env(tmp_path, slack), slack) as (service, task):
            await slack.wait_for(lambda: slack.calls_to("auth.test"), what="auth.test")
            if first_try_wait < 1:          # running without Slack
                await until(lambda: any("service: adapters" in r.getMessage()
                                        for r in caplog.records))
            service.stop.set()
            assert await asyncio.wait_for(task, 10) == 0
            assert not bot_tasks_left()         # the try was cancelled, not left waiting
    finally:
        await slack.stop()
    gc.collect()
    await asyncio.sleep(0)
    assert not [r for r in caplog.records if "Unclosed" in r.getMessage()]


async def test_a_failure_right_after_start_up_stops_the_platforms_that_started(
        tmp_path, caplog, monkeypatch):
    """Slack connected, then the service fails before its loop (the store unreadable):
    the run ends with the error and Slack's connections are closed, not left running."""
    def broken_delivery(self, adapters):
        raise OSError("disk I/O error")
    monkeypatch.setattr(Service, "_delivery", broken_delivery)
    slack = await FakeSlack().start()
    app = App(load_settings(settings_env(tmp_path, slack), dotenv_path=None))
    try:
        with pytest.raises(OSError, match="disk I/O error"):
            await asyncio.wait_for(Service(app).run(), 30)
        assert slack.calls_to("apps.connections.open")      # Slack had connected
        await until(lambda: not slack._open_sockets())     # and is disconnected again
    finally:
        app.close()
        await slack.stop()
    gc.collect()
    await asyncio.sleep(0)
    assert not [r for r in caplog.records if "Unclosed" in r.getMessage()]


async def test_run_once_leaves_the_unreachable_platforms_posts_in_the_outbox(tmp_path):
    """A cron-style `run --once` with Slack down: exit 0, the post waits for a later run."""
    slack = FakeSlack()
    slack.port = free_port()
    app = App(load_settings(settings_env(tmp_path, slack), dotenv_path=None))
    try:
        queue_a_post(app.store, slack, None)
        assert await asyncio.wait_for(Service(app).run(once=True), 30) == 0
        [row] = app.store.waiting_posts("slack", "C1")
    finally:
        app.close()
    assert row.attempts == 0


@pytest.mark.parametrize("platform, sig", [("slack", signal.SIGTERM),
                                           ("discord", signal.SIGINT)])
async def test_a_signal_while_waiting_to_retry_exits_0_cleanly(tmp_path, platform, sig):
    """The real `ainews run` (the real 5 s backoff): a signal in the wait stops it at
    once, with nothing left half-open."""
    slack, discord = FakeSlack(), FakeDiscord()
    slack.port = discord.port = free_port()       # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    env.update(settings_env(tmp_path, **{platform: {"slack": slack,
                                                    "discord": discord}[platform]}))
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", env=env,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    log = b""
    while RETRYING.encode() not in log:
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert line, log.decode()
        log += line
    proc.send_signal(sig)
    rest = await asyncio.wait_for(proc.stderr.read(), 30)
    assert await proc.wait() == 0, (log + rest).decode()
    text = (log + rest).decode()
    assert f"{platform}: can't reach http://127.0.0.1:{slack.port}" in text
    assert f"service: adapters: {platform} (retrying start-up)" in text
    assert "service: stopped" in text
    assert "Traceback" not in text and "Unclosed" not in text
