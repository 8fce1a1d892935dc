"""Starting the Slack bot: failures that say what to fix, and the app manifest
declaring every command and scope the bot uses."""
from __future__ import annotations

import logging
import re
import subprocess
import sys

import pytest

from bot.slack import render_reply
from bot.slack.app import SlackStartError, SlackUnavailable, start_slack
from tests.fakes.slack import make_brief
from tests.slack_kit import ROOT, settings_for, Bot, served, recording_commands


fake = pytest.fixture(served, name="fake")
commands = pytest.fixture(recording_commands, name="commands")


async def test_a_bot_token_in_the_environment_starts_without_bolts_unused_token_warning(
        fake, commands, monkeypatch, caplog):
    # Docker and systemd set SLACK_BOT_TOKEN in the environment; bolt reads it itself and
    # warned at every start that it was unused (we hand it a client made from settings).
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake.bot_token)
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        await fake.wait_connected()
    finally:
        await runner.stop()
    assert "will be unused" not in caplog.text


@pytest.mark.parametrize("change,words,retried", [
    ({"slack_bot_token": "xoxb-wrong"}, "SLACK_BOT_TOKEN was refused (invalid_auth)", False),
    ({"slack_app_token": "xapp-wrong"}, "SLACK_APP_TOKEN was refused (invalid_auth)", False),
    ({"slack_app_token": "", "slack_signing_secret": ""}, "set SLACK_APP_TOKEN", False),
    # Nothing listening: after a reboot, the network may not be up yet.
    ({"slack_api_url": "http://127.0.0.1:9/api/"}, "check SLACK_API_URL", True),
])
async def test_start_up_failures_say_what_to_fix(fake, commands, caplog, change, words,
                                                retried):
    """`retried`: `ainews run` waits and tries again (SlackUnavailable); else it exits.
    The error is the one line: slack_bolt logged its own "Failed to retrieve WSS URL"
    with Slack's whole answer before it, for a refused SLACK_APP_TOKEN."""
    settings = settings_for(fake, "socket", **change)
    with pytest.raises(SlackStartError) as err:
        await start_slack(settings, commands, connect_timeout=5)
    assert words in str(err.value) and str(err.value).startswith("slack: ")
    assert isinstance(err.value, SlackUnavailable) == retried
    assert errors_logged(caplog) == []


def errors_logged(caplog) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def test_importing_bot_slack_does_not_load_the_slack_libraries():
    code = ("import sys, bot.slack, bot.slack.render, bot.slack.render_roundup, "
            "bot.slack.render_reply; "
            "assert not [m for m in sys.modules if m.startswith(('slack_bolt', 'slack_sdk'))]")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_manifest_declares_every_command_the_bot_listens_to():
    import re

    from bot.slack.listeners import SLASH_COMMANDS
    manifest = (ROOT / "slack-manifest.yml").read_text()
    assert re.findall(r"- command: (/\w+)", manifest) == list(SLASH_COMMANDS)
    scopes = re.findall(r"^\s+- ([a-z]+:[a-z.]+|commands)\b", manifest, re.M)
    assert scopes == ["chat:write", "chat:write.public", "commands", "users:read",
                      "channels:history", "groups:history"]
    assert re.search(r"socket_mode_enabled: true", manifest)
    assert re.search(r"interactivity:\s+is_enabled: true", manifest)


# Slack's own commands (slack.com/help/articles/201259356): an app can't register these,
# and a manifest that declares one is refused.
SLACK_BUILT_INS = {"/active", "/away", "/archive", "/call", "/collapse", "/dm", "/dnd",
                   "/expand", "/feed", "/feedback", "/invite", "/invite_people", "/join",
                   "/leave", "/me", "/msg", "/mute", "/open", "/prefs", "/pro", "/remind",
                   "/remove", "/rename", "/search", "/shortcuts", "/shrug", "/star",
                   "/status", "/topic", "/who"}


def test_manifest_declares_none_of_slacks_built_in_commands():
    manifest = (ROOT / "slack-manifest.yml").read_text()
    assert set(re.findall(r"- command: (/\w+)", manifest)) & SLACK_BUILT_INS == set()


# Web API method -> the bot scope it needs (None: any token, or the app-level token).
SCOPES = {"auth.test": None, "apps.connections.open": None, "users.info": "users:read",
          "chat.postMessage": "chat:write", "chat.update": "chat:write",
          "conversations.history": "channels:history"}


async def test_manifest_grants_every_scope_the_bot_uses(fake, commands):
    """Run everything the bot does against the fake; each method it called must be in
    SCOPES (a new one fails here until it is), and its scope in the manifest."""
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        bot = Bot(fake, runner, "socket")
        await bot.answer(await bot.slash("/subscribe", "pricing", user="UPLAIN"))
        await bot.answer(await bot.click(render_reply.SHARE_ACTION,
                                         render_reply.share_value("company", "alibaba")))
        message_id = await runner.adapter.send("C1", make_brief(), nonce="ainews-1")
        await runner.adapter.edit("C1", message_id, make_brief(also_reported_by=("AP",)))
        await runner.adapter.find_sent("C1", "ainews-1")
    finally:
        await runner.stop()
    manifest = (ROOT / "slack-manifest.yml").read_text()
    granted = set(re.findall(r"^\s+- ([a-z]+:[a-z.]+|commands)\b", manifest, re.M))
    called = {c.method for c in fake.calls}
    assert called <= set(SCOPES), f"add to SCOPES: {called - set(SCOPES)}"
    assert {SCOPES[m] for m in called} - {None} <= granted


@pytest.mark.parametrize("method", ["auth.test", "apps.connections.open"])
@pytest.mark.parametrize("status, error, body", [
    (503, None, "<html>503 Service Unavailable</html>"),
    (200, "fatal_error", None),        # Slack's own trouble, said in a 200 answer
    (200, "team_added_to_org", None),  # the workspace moving into an Enterprise Grid org
])
async def test_a_slack_outage_at_start_is_not_blamed_on_the_tokens(fake, commands, caplog,
                                                                   method, status, error, body):
    fake.fail(method, status=status, error=error, body=body, times=5)
    with pytest.raises(SlackUnavailable) as err:
        await start_slack(settings_for(fake, "socket"), commands, connect_timeout=5)
    message = str(err.value)
    assert message.startswith("slack: ") and f"HTTP {status}" in message
    assert "try again" in message and "refused" not in message
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("fault", ["http-404", "socket-timeout"])
async def test_start_up_failures_tell_a_wrong_url_from_a_slow_network(fake, commands, fault):
    """A 404 means SLACK_API_URL is not Slack's API: no retry mends that. A Socket Mode
    connection that does not come up in time may be a slow network: worth retrying."""
    if fault == "http-404":
        fake.fail("auth.test", status=404, body="<html>Not Found</html>")
    with pytest.raises(SlackStartError) as err:
        await start_slack(settings_for(fake, "socket"), commands,
                          connect_timeout=0 if fault == "socket-timeout" else 5)
    assert isinstance(err.value, SlackUnavailable) == (fault == "socket-timeout")
    assert ("HTTP 404" if fault == "http-404" else "no Socket Mode connection") in str(err.value)
    await fake.wait_for(lambda: not fake._open_sockets(), what="no socket left open")
