"""Slack's HTTP mode: request signatures, replays, bodies that are not Slack's, and
the endpoint's port."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode, urlsplit

import aiohttp
import pytest

from bot import logs
from bot.slack import render_reply
from bot.slack.app import SlackStartError, start_slack
from bot.slack.http_mode import BAD_SIGNATURE, Refusals
from tests.slack_kit import settings_for, Bot, texts, served, recording_commands


fake = pytest.fixture(served, name="fake")
commands = pytest.fixture(recording_commands, name="commands")


@pytest.fixture
async def http_bot(fake, commands):
    runner = await start_slack(settings_for(fake, "http"), commands, http_host="127.0.0.1")
    yield Bot(fake, runner, "http")
    await runner.stop()


@pytest.mark.parametrize("signing", [
    {"secret": "not-the-secret"},
    {"signature": "v0=" + "0" * 64},
    {"age": 6 * 60},                                   # signed correctly, but stale
    {"age": -6 * 60},                                  # from the future
], ids=["wrong-secret", "forged", "stale", "future"])
async def test_bad_or_stale_signatures_are_rejected(http_bot, commands, signing):
    signing = dict(signing)
    if "age" in signing:   # taken now, not at collection: the suite may run for minutes
        signing["timestamp"] = int(time.time()) - signing.pop("age")
    status, _, rid = await http_bot.fake.slash_http(http_bot.url, "/company", "alibaba",
                                                    **signing)
    assert status == 401
    assert commands.calls == [] and http_bot.fake.responses[rid] == []


@pytest.fixture
async def bot_as_run(fake, commands, caplog):
    """The bot logging as `ainews run` sets it up before Slack starts: the root at INFO,
    the chat libraries at WARNING (bot/logs.py)."""
    quiet = {name: logging.getLogger(name).level for name in logs._QUIET}
    for name in quiet:      # (caplog.set_level would also raise its handler's level)
        logging.getLogger(name).setLevel(logging.WARNING)
    quiet["ainews"] = logging.getLogger("ainews").level     # restored too, if bolt moves it
    caplog.set_level(logging.INFO)
    runner = await start_slack(settings_for(fake, "http"), commands, http_host="127.0.0.1")
    yield Bot(fake, runner, "http")
    await runner.stop()
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


async def test_badly_signed_requests_are_said_once_without_their_bodies(bot_as_run, caplog):
    """bolt logged each refused request at INFO with its whole body: anyone who could
    reach the port grew the log by a megabyte a request, and a real request signed with
    an old secret put its response_url (which can post to the channel) in the log."""
    for _ in range(5):
        status, _, _ = await bot_as_run.fake.slash_http(
            bot_as_run.url, "/company", "response-url-like-secret " + "A" * 5000,
            secret="not-the-secret")
        assert status == 401
    logged = [r.getMessage() for r in caplog.records]
    assert not any("response-url-like-secret" in m for m in logged)
    (line,) = [m for m in logged if "signature" in m]
    assert line.startswith("slack: refused 1 request to /slack/events with a bad or stale")
    assert "check SLACK_SIGNING_SECRET and this machine's clock" in line


async def test_a_request_handled_leaves_the_bots_own_log_lines_on(bot_as_run):
    """bolt configures a logger by the app's name at every request: named "ainews", the
    bot's own INFO lines (every poll line) went silent once Slack answered a command."""
    status, _, rid = await bot_as_run.fake.slash_http(bot_as_run.url, "/company", "alibaba")
    await bot_as_run.answer(rid)
    assert status == 200
    assert logging.getLogger("ainews.poller").isEnabledFor(logging.INFO)


async def test_the_start_line_names_where_http_mode_listens(bot_as_run, caplog):
    """`slack: connected to team ... (http mode)` left the operator to guess the port
    their proxy must forward to."""
    [line] = [r.getMessage() for r in caplog.get_records("setup")     # logged at start
              if "connected to team" in r.getMessage()]
    port = bot_as_run.runner.http_port
    assert f"(http mode, listening on 127.0.0.1:{port} at /slack/events)" in line, line


def test_bad_signatures_are_counted_between_notes(caplog):
    """One warning at most every ten minutes, counting the refusals in between."""
    caplog.set_level(logging.WARNING, logger="ainews.slack")
    refusals = Refusals(BAD_SIGNATURE, gap=600)
    for now in (0, 1, 2, 599, 600, 601):
        refusals.refused(now)
    assert [r.getMessage().split(" with")[0] for r in caplog.records] == [
        "slack: refused 1 request to /slack/events",
        "slack: refused 4 requests to /slack/events"]
    assert "in the last 10 minutes" in caplog.records[1].getMessage()


async def _unfinished_post(url: str, headers: str = "") -> asyncio.StreamWriter:
    """A request to the endpoint whose body never comes: its headers are read, and it
    holds its signature while the server waits for the rest."""
    parts = urlsplit(url)
    _, w = await asyncio.open_connection(parts.hostname, parts.port)
    w.write((f"POST {parts.path} HTTP/1.1\r\nHost: x\r\n{headers}"
             "Content-Length: 100\r\n\r\nab").encode())
    await w.drain()
    return w


async def test_a_stranger_cannot_log_a_line_per_replayed_request(http_bot, caplog):
    """A forged signature held by an unfinished request made every later request with
    it a "replay", each logged: anyone who could reach the port filled the log."""
    caplog.set_level(logging.INFO)
    forged = {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": "1"}
    held = await _unfinished_post(http_bot.url, "".join(f"{k}: {v}\r\n"
                                                        for k, v in forged.items()))
    await asyncio.sleep(0.2)            # (its headers read: the signature is held)
    async with aiohttp.ClientSession() as session:
        for _ in range(50):
            async with session.post(http_bot.url, data=b"x=1", headers=forged) as resp:
                assert resp.status == 401
    held.close()
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) <= 2 and all(m.startswith("slack: refused 1 request") for m in said)


async def test_a_sender_gone_mid_body_is_no_error_with_a_traceback(http_bot, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(3):
        w = await _unfinished_post(http_bot.url)
        await asyncio.sleep(0.05)
        w.close()
    await asyncio.sleep(0.3)            # (the server sees each connection go)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("kind", ["slash", "button"])
async def test_a_replayed_request_is_refused(http_bot, commands, kind):
    """Someone who captured a signed request (a proxy's log, say) sends it again within
    the five minutes its timestamp is good for: it must not run twice."""
    fake = http_bot.fake
    if kind == "slash":
        rid, payload = fake.slash_payload("/company", "alibaba")
        body = urlencode(payload)
    else:
        value = render_reply.share_value("company", "alibaba")
        rid, payload = fake.action_payload(render_reply.SHARE_ACTION, value)
        body = urlencode({"payload": json.dumps(payload)})
    signed = {"timestamp": int(time.time()), "rid": rid}
    assert (await fake.post_signed(http_bot.url, body, **signed))[0] == 200
    await http_bot.answer(rid)
    assert (await fake.post_signed(http_bot.url, body, **signed))[0] == 401
    # (A share also replaces the private answer it came from: not a second answer.)
    answers = [r for r in fake.responses[rid] if not r.get("replace_original")]
    assert len(commands.calls) == 1 and len(answers) == 1


@pytest.mark.parametrize("body", [b"payload=not+json", b"command=%2Ftopics&text=\xff\xfe"],
                         ids=["payload-not-json", "not-utf8"])
async def test_a_body_that_is_not_a_slack_payload_is_refused_in_one_line(http_bot, caplog,
                                                                          body):
    """bolt parses the body before it checks the signature: such a body was a 500 and a
    30-line traceback per request, from anyone who could reach the port."""
    fake = http_bot.fake
    status, _ = await fake.post_signed(http_bot.url, body, secret="not-the-secret")
    assert status == 401 and caplog.records == []          # a stranger's: refused quietly
    status, _ = await fake.post_signed(http_bot.url, body)
    assert status == 400
    (line,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.name == "ainews.slack" and "not a Slack payload" in line.getMessage()
    assert not line.exc_info and fake.signing_secret not in caplog.text
    assert "open-source" in texts(await http_bot.answer(await http_bot.slash("/topics")))


async def test_good_signature_five_minutes_old_is_still_accepted(http_bot):
    status, _, rid = await http_bot.fake.slash_http(
        http_bot.url, "/company", "alibaba", timestamp=int(time.time()) - 4 * 60)
    assert status == 200 and "Latest on alibaba" in texts(await http_bot.answer(rid))


async def test_stop_closes_the_http_endpoint(fake, commands):
    runner = await start_slack(settings_for(fake, "http"), commands, http_host="127.0.0.1")
    url = f"http://127.0.0.1:{runner.http_port}/slack/events"
    await runner.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await fake.slash_http(url, "/topics")


async def test_busy_http_port_is_a_clear_error(fake, commands):
    first = await start_slack(settings_for(fake, "http"), commands, http_host="127.0.0.1")
    try:
        busy = settings_for(fake, "http", http_port=first.http_port)
        with pytest.raises(SlackStartError, match="AINEWS_HTTP_PORT"):
            await start_slack(busy, commands, http_host="127.0.0.1")
    finally:
        await first.stop()
