"""Slash commands and buttons through real slack-bolt, in Socket Mode and HTTP mode,
against the fake Slack on loopback."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.config import Settings
from bot.replies import Caller, Reply
from bot.slack import render
from bot.slack.adapter import SlackAdapter
from bot.slack.app import SlackStartError, SlackUnavailable, start_slack
from bot.slack.listeners import AdminCheck
from bot.slack.webapi import make_client
from tests.fakes.slack import FakeSlack, make_brief

ROOT = Path(__file__).resolve().parents[1]
BOSS = "UBOSS"   # in SLACK_ADMIN_USER_IDS, a plain member as far as users.info knows


class FakeCommands:
    """Stands in for bot.commands.Commands: same method names, records every call."""

    def __init__(self):
        self.calls: list[tuple[str, Caller, tuple]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    def _briefs(self, name, caller, *args, title=""):
        self.calls.append((name, caller, args))
        return Reply(kind="briefs", title=title, briefs=(make_brief(),), shareable=True)

    def _admin_only(self, name, caller, *args, done=""):
        self.calls.append((name, caller, args))
        if not caller.is_admin:
            return Reply.error("Only workspace admins can do that; ask one of them.")
        return Reply.message(done, ephemeral=False)

    def _text(self, name, caller, *args, text=""):
        self.calls.append((name, caller, args))
        return Reply.message(text)

    def company(self, caller, name, limit=5):
        if name == "explode":
            raise RuntimeError("store is locked")
        return self._briefs("company", caller, name, title=f"Latest on {name}")

    def latest(self, caller, limit=5, topic=None):
        return self._briefs("latest", caller, limit, topic, title="Latest")

    async def search(self, caller, query):
        await self.gate.wait()
        return self._briefs("search", caller, query, title=f"Search: {query}")

    def topic(self, caller, slug):
        return self._briefs("topic", caller, slug, title=f"Topic {slug}")

    def topics(self, caller):
        return self._text("topics", caller, text="open-source, pricing, chips")

    def help(self, caller):
        return self._text("help", caller, text="/company NAME: the latest on a company")

    def why(self, caller, link):
        return self._text("why", caller, link, text="verdict:strategy (p 0.93)")

    def subscribe(self, caller, target):
        return self._admin_only("subscribe", caller, target, done=f"Now following {target}.")

    def unsubscribe(self, caller, target):
        return self._admin_only("unsubscribe", caller, target, done=f"Stopped {target}.")

    def subscriptions(self, caller):
        return self._text("subscriptions", caller, text="This channel follows: pricing")

    def digest(self, caller, args_text):
        return self._text("digest", caller, args_text, text=f"Digest set: {args_text}")

    async def feeds(self, caller, args_text):
        return self._admin_only("feeds", caller, args_text, done="3 feeds, all healthy")

    def run_text(self, caller, text):
        return self._text("text", caller, text, text=f"ran: {text}")

    def complete_company(self, prefix):
        return []

    def complete_topic(self, prefix):
        return []


def settings_for(fake: FakeSlack, mode: str, **changes) -> Settings:
    tokens = ({"slack_app_token": fake.app_token} if mode == "socket"
              else {"slack_signing_secret": fake.signing_secret})
    base = Settings(slack_bot_token=fake.bot_token, slack_api_url=fake.api_url, http_port=0,
                    slack_admin_user_ids=(BOSS,), **tokens)
    return replace(base, **changes)


class Bot:
    """Plays Slack's side against a running bot, the same way in both modes."""

    def __init__(self, fake: FakeSlack, runner, mode: str):
        self.fake, self.runner, self.mode = fake, runner, mode

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.runner.http_port}/slack/events"

    async def slash(self, command: str, text: str = "", **who) -> str:
        """Send a slash command, check Slack got its ack; returns the response id."""
        if self.mode == "socket":
            eid, rid = await self.fake.slash_socket(command, text, **who)
            await self.fake.wait_ack(eid, timeout=3)
        else:
            status, _, rid = await self.fake.slash_http(self.url, command, text, **who)
            assert status == 200
        return rid

    async def click(self, action_id: str, value: str = "", **who) -> str:
        if self.mode == "socket":
            eid, rid = await self.fake.action_socket(action_id, value, **who)
            await self.fake.wait_ack(eid, timeout=3)
        else:
            status, _, rid = await self.fake.action_http(self.url, action_id, value, **who)
            assert status == 200
        return rid

    async def answer(self, rid: str) -> dict:
        return await self.fake.wait_response(rid, timeout=5)


@pytest.fixture
async def fake():
    server = await FakeSlack().start()
    for user, flags in {"UADMIN": {"is_admin": True}, "UOWNER": {"is_owner": True},
                        "UPRIMARY": {"is_primary_owner": True, "is_owner": True},
                        "UPLAIN": {}, BOSS: {}, "U1": {}}.items():
        server.add_user(user, **flags)
    yield server
    await server.stop()


@pytest.fixture
def commands():
    return FakeCommands()


@pytest.fixture(params=["socket", "http"])
async def bot(request, fake, commands):
    runner = await start_slack(settings_for(fake, request.param), commands,
                               http_host="127.0.0.1")
    yield Bot(fake, runner, request.param)
    await runner.stop()


def texts(message: dict) -> str:
    return "\n".join(t for _, t in render.all_texts(message["blocks"]))


def action_ids(message: dict) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


# (slash command, text, user) -> (Commands method, its args, words in the answer, visible?)
CASES = [
    ("/company", "alibaba", "U1", "company", ("alibaba",), "Latest on alibaba", False),
    ("/latest", "", "U1", "latest", (None, None), "Latest", False),
    ("/latest", "pricing 3", "U1", "latest", (3, "pricing"), "Latest", False),
    ("/latest", "7 open source", "U1", "latest", (7, "open source"), "Latest", False),
    ("/latest", "² 3", "U1", "latest", (3, "²"), "Latest", False),    # isdigit, not a number
    # A negative limit was taken for a topic ("no topic '-1'"), unlike `/ainews latest -1`.
    ("/latest", "-1", "U1", "latest", (-1, None), "Latest", False),
    ("/latest", "1.5", "U1", "latest", ("1.5", None), "Latest", False),   # not "no topic"
    # /search and /topic are Slack's built-ins: these two lookups go through /ainews.
    ("/ainews", "search open   weights", "U1", "search", ("open weights",),
     "Search: open weights", False),
    ("/ainews", "topic chips", "U1", "topic", ("chips",), "Topic chips", False),
    ("/ainews", "Topic chips 3", "U1", "topic", ("chips 3",), "Topic chips 3", False),
    ("/topics", "", "U1", "topics", (), "open-source, pricing, chips", False),
    # A link as Slack sends it, wrapped: why reads the URL.
    ("/ainews", "why <https://news.example.com/a?utm_source=x>", "U1", "why",
     ("https://news.example.com/a?utm_source=x",), "verdict:strategy", False),
    ("/subscribe", "pricing", "UADMIN", "subscribe", ("pricing",), "Now following pricing.",
     True),
    ("/unsubscribe", "pricing", "UADMIN", "unsubscribe", ("pricing",), "Stopped pricing.",
     True),
    ("/subscriptions", "", "U1", "subscriptions", (), "This channel follows: pricing", False),
    ("/digest", "daily 09:00", "U1", "digest", ("daily 09:00",), "Digest set: daily 09:00",
     False),
    ("/ainews", "help", "U1", "help", (), "/company NAME", False),
    ("/ainews", "", "U1", "help", (), "/company NAME", False),
    ("/ainews", "feeds list", "UADMIN", "feeds", ("list",), "3 feeds, all healthy", True),
    ("/ainews", "company qwen", "U1", "text", ("company qwen",), "ran: company qwen", False),
    # Slack sends & < > as entities, and a link the client formatted as <url|label>
    ("/ainews", "topic M&amp;A", "U1", "topic", ("M&A",), "Topic M", False),
    ("/ainews", "feeds add <https://example.com/rss?a=1&amp;b=2|example.com/rss> Wire",
     "UADMIN", "feeds", ("add https://example.com/rss?a=1&b=2 Wire",), "3 feeds", True),
]


@pytest.mark.parametrize("command,text,user,method,args,shown,visible", CASES,
                         ids=[f"{c[0]} {c[1]}".strip() for c in CASES])
async def test_every_slash_command_answers_through_the_chat_core(
        bot, commands, command, text, user, method, args, shown, visible):
    rid = await bot.slash(command, text, user=user, channel="C7")
    answer = await bot.answer(rid)
    [(name, caller, got)] = commands.calls
    assert (name, got) == (method, args)
    assert caller == Caller("slack", bot.fake.team_id, "C7", user,
                            is_admin=user in ("UADMIN", BOSS))
    assert shown in texts(answer)
    assert answer["response_type"] == ("in_channel" if visible else "ephemeral")
    is_lookup = method in ("company", "latest", "search", "topic")
    assert (render.SHARE_ACTION in action_ids(answer)) == is_lookup


async def test_slow_command_is_acked_at_once_and_answers_later(bot, commands):
    commands.gate.clear()
    rid = await bot.slash("/ainews", "search tencent pricing")   # returns once acked
    assert bot.fake.responses[rid] == []                  # still computing
    commands.gate.set()
    answer = await bot.answer(rid)
    assert "Search: tencent pricing" in texts(answer)
    assert [e for e in bot.fake.events if e[1] == rid] == [("ack", rid), ("response", rid)]


async def test_share_button_reposts_the_lookup_visibly(bot, commands):
    first = await bot.answer(await bot.slash("/company", "alibaba", user="U1"))
    [button] = [e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == render.SHARE_ACTION]
    shared = await bot.answer(await bot.click(render.SHARE_ACTION, button["value"], user="U1"))
    assert shared["response_type"] == "in_channel" and shared["replace_original"] is False
    assert make_brief().headline in texts(shared) and "Shared by <@U1>" in texts(shared)
    assert render.SHARE_ACTION not in action_ids(shared)
    assert [c[0] for c in commands.calls] == ["company", "company"]


@pytest.mark.parametrize("value", ["not json", '{"cmd": "feeds", "args": "remove x"}',
                                   '{"cmd": "text", "args": "subscribe all"}'])
async def test_share_button_reruns_only_lookups(bot, commands, value):
    answer = await bot.answer(await bot.click(render.SHARE_ACTION, value, user="UADMIN"))
    assert answer["response_type"] == "ephemeral" and "run the command again" in texts(answer)
    assert commands.calls == []


async def test_read_button_click_is_acknowledged_silently(bot):
    rid = await bot.click(render.READ_ACTION)             # acked, or Slack shows a warning
    await bot.answer(await bot.slash("/topics"))          # the bot has moved on
    assert bot.fake.responses[rid] == []


async def test_a_button_this_version_does_not_know_is_still_acknowledged(bot):
    """Buttons on posts made by an older or newer version: acked, or Slack shows the
    user a warning icon; nothing else happens."""
    rid = await bot.click("ainews_retired_button", "x")   # asserts the ack
    await bot.answer(await bot.slash("/topics"))
    assert bot.fake.responses[rid] == []


async def test_socket_mode_reconnects_when_slack_drops_the_connection(fake, commands):
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        await fake.drop_connections()
        await fake.wait_for(lambda: len(fake.calls_to("apps.connections.open")) == 2
                            and fake._open_sockets(), what="reconnection")
        bot = Bot(fake, runner, "socket")
        assert "open-source" in texts(await bot.answer(await bot.slash("/topics")))
    finally:
        await runner.stop()


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The reconnect backoff's waits, in order, without waiting them out."""
    from bot.slack import reconnect
    seen: list[float] = []

    async def pause(closed, seconds):
        seen.append(seconds)
        await asyncio.sleep(0)
    monkeypatch.setattr(reconnect, "_pause", pause)
    return seen


async def test_a_refused_app_token_after_start_is_retried_with_backoff_and_said_once(
        fake, commands, caplog, waits):
    """SLACK_APP_TOKEN revoked while the bot runs: alone, slack_sdk asked
    apps.connections.open (a Tier 1 method) again every ping interval for as long as the
    bot ran, with two ERROR lines each time. Now: one line saying what to do, backoff."""
    runner = await start_slack(settings_for(fake, "socket"), commands, ping_interval=0.2)
    try:
        fake.fail("apps.connections.open", error="token_revoked", times=5)
        await fake.drop_connections()
        await fake.wait_for(lambda: not fake._scripts["apps.connections.open"]
                            and fake._open_sockets(), what="reconnection")
        bot = Bot(fake, runner, "socket")
        assert "open-source" in texts(await bot.answer(await bot.slash("/topics")))
    finally:
        await runner.stop()
    assert waits == [5, 10, 20, 40, 80]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["ainews.slack"], [r.getMessage() for r in errors]
    assert "Slack refuses SLACK_APP_TOKEN (token_revoked)" in errors[0].getMessage()
    assert fake.app_token not in caplog.text


async def _through_a_socket_outage(fake, commands, *, tries: int, urls_expire: bool = False):
    """The websocket host refuses `tries` connects (its issued URLs expired meanwhile if
    `urls_expire`), comes back; the bot must reconnect and answer a slash command."""
    runner = await start_slack(settings_for(fake, "socket"), commands, ping_interval=0.05)
    try:
        fake.sockets_down = True
        await fake.drop_connections()
        await fake.wait_for(lambda: fake.socket_refusals >= tries, what="failed tries")
        if urls_expire:
            fake.expire_tickets()
        fake.sockets_down = False
        await fake.wait_for(lambda: fake._open_sockets(), what="reconnection")
        bot = Bot(fake, runner, "socket")
        assert "open-source" in texts(await bot.answer(await bot.slash("/topics")))
    finally:
        await runner.stop()


async def test_an_unreachable_socket_mode_host_is_one_line_then_one_when_back(
        fake, commands, caplog, waits):
    """The websocket host unreachable while the Web API answers: slack_sdk logged a full
    traceback at ERROR for every try, every ping interval (10 s), for as long as it
    lasted. Now one line when it starts failing and one when it is back."""
    await _through_a_socket_outage(fake, commands, tries=4)
    shown = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in shown] == ["ainews.slack", "ainews.slack"], \
        [r.getMessage() for r in shown]
    down, back = (r.getMessage() for r in shown)
    assert down.startswith("slack: socket mode unreachable (WSServerHandshakeError: 503")
    assert "retrying" in down and "ticket=" not in down
    assert back.startswith("slack: Socket Mode connection back after ")
    assert not any(r.exc_info for r in shown)


async def test_the_fake_takes_a_socket_mode_url_once_and_only_while_it_is_fresh(fake):
    """The fake's Socket Mode URLs behave like Slack's one-time tickets."""
    async def open_url() -> str:
        async with session.post(fake.api_url + "apps.connections.open",
                                headers={"Authorization": f"Bearer {fake.app_token}"}) as r:
            return (await r.json())["url"]

    async def status(url: str) -> int:
        try:
            async with session.ws_connect(url) as ws:
                await ws.receive_json()      # hello
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status

    async with aiohttp.ClientSession() as session:
        url = await open_url()
        assert [await status(url), await status(url)] == [101, 408]      # used once
        url = await open_url()
        fake.expire_tickets()
        assert await status(url) == 408                                  # outlived
        fake.ticket_ttl = 0.0
        assert await status(await open_url()) == 408                     # too old
        assert await status(url.replace("ticket=", "ticket=x")) == 408   # never issued
    assert fake.tickets_refused == 4


async def test_after_an_outage_that_outlived_the_socket_mode_url_a_new_one_is_asked_for(
        fake, commands, caplog, waits):
    """Slack's Socket Mode URLs are single-use and short-lived. slack_sdk asked for one
    when the connection dropped, then retried that same URL every ping interval for as
    long as the websocket host was unreachable: once the outage outlived the URL, the
    host refused it for good and slash commands stayed dead after the network was back.
    Now every try after a failed one asks apps.connections.open for a new URL, backing
    off as when apps.connections.open itself fails."""
    # the outage outlives every URL issued so far
    await _through_a_socket_outage(fake, commands, tries=3, urls_expire=True)
    tried = fake.socket_tickets
    assert len(set(tried)) == len(tried), f"a Socket Mode URL was tried twice: {tried}"
    assert len(fake.calls_to("apps.connections.open")) == len(tried)
    assert len(waits) >= 3 and waits == [min(300, 5 * 2 ** i) for i in range(len(waits))]
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(shown) == 2 and shown[0].startswith("slack: socket mode unreachable"), shown
    assert shown[1].startswith("slack: Socket Mode connection back after ")


@pytest.mark.parametrize("reason,said", [("refresh_requested", None),
                                         ("too_many_websockets", None),
                                         ("link_disabled", "Socket Mode was turned off")])
async def test_a_disconnect_message_reconnects_and_commands_are_answered(
        fake, commands, caplog, reason, said):
    """Slack's `disconnect`: slack_sdk reconnects through connect_to_new_endpoint, which
    asks apps.connections.open for a new URL (the fake refuses a used one)."""
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        await fake.send_disconnect(reason)
        await fake.wait_for(lambda: len(fake._sockets) == 2 and fake._open_sockets() == [
            fake._sockets[1]], what="the new connection, and the old one closed")
        bot = Bot(fake, runner, "socket")
        assert "open-source" in texts(await bot.answer(await bot.slash("/topics")))
    finally:
        await runner.stop()
    first, second = fake.socket_tickets
    assert first != second and len(fake.calls_to("apps.connections.open")) == 2
    assert fake.tickets_refused == 0
    lines = [r.getMessage() for r in caplog.records
             if r.name == "ainews.slack" and r.levelno >= logging.WARNING]
    assert len(lines) == (said is not None) and all(said in line for line in lines)


@pytest.mark.parametrize("user,admin", [("UADMIN", True), ("UOWNER", True),
                                        ("UPRIMARY", True), (BOSS, True), ("UPLAIN", False),
                                        ("UNOBODY", False)])
async def test_admin_commands_follow_workspace_roles_and_admin_ids(bot, commands, user, admin):
    answer = await bot.answer(await bot.slash("/ainews", "feeds list", user=user))
    assert commands.calls[0][1].is_admin is admin
    if admin:
        assert "3 feeds, all healthy" in texts(answer)
    else:
        assert "Only workspace admins" in texts(answer)
        assert answer["response_type"] == "ephemeral"
    asked = [c.payload.get("user") for c in bot.fake.calls_to("users.info")]
    assert asked == ([] if user == BOSS else [user])


@pytest.mark.parametrize("command,text", [("/subscribe", "pricing"),
                                          ("/ainews", "subscribe pricing"),
                                          ("/ainews", "/Subscribe pricing")])
async def test_subscribing_where_the_bot_cannot_post_says_to_invite_it(bot, commands,
                                                                      command, text):
    """A private channel the bot wasn't invited to takes slash commands but no posts: a
    subscription there would only pause at its first story. Say how to fix it now."""
    bot.fake.hidden.add("CPRIV")
    answer = await bot.answer(await bot.slash(command, text, user="UADMIN", channel="CPRIV"))
    assert "/invite @ainews" in texts(answer) and answer["response_type"] == "ephemeral"
    assert commands.calls == []
    # Invited: the same command goes through.
    bot.fake.hidden.discard("CPRIV")
    answer = await bot.answer(await bot.slash(command, text, user="UADMIN", channel="CPRIV"))
    assert [c[0] for c in commands.calls] == [command.lstrip("/").replace("ainews", "text")]


@pytest.mark.parametrize("error", ["not_in_channel", "missing_scope", "ratelimited"])
async def test_subscribe_goes_ahead_when_slack_cannot_say_the_bot_is_shut_out(bot, commands,
                                                                              error):
    """not_in_channel is a public channel (chat:write.public posts there); no history
    scope or a busy Slack proves nothing. None of them may refuse an admin."""
    bot.fake.fail("conversations.history", error=error)
    answer = await bot.answer(await bot.slash("/subscribe", "pricing", user="UADMIN"))
    assert "Now following pricing." in texts(answer)


async def test_only_an_admins_subscribe_reads_the_channel(bot, commands):
    """A lookup, or a subscribe the core refuses anyway, costs no Slack call."""
    bot.fake.hidden.add("CPRIV")
    await bot.answer(await bot.slash("/latest", "pricing", user="UADMIN", channel="CPRIV"))
    answer = await bot.answer(await bot.slash("/subscribe", "pricing", user="UPLAIN",
                                              channel="CPRIV"))
    assert "Only workspace admins" in texts(answer)
    assert bot.fake.calls_to("conversations.history") == []


async def test_users_info_is_cached_between_commands(bot):
    for _ in range(3):
        await bot.answer(await bot.slash("/subscribe", "pricing", user="UADMIN"))
    assert len(bot.fake.calls_to("users.info")) == 1


@pytest.mark.parametrize("command,text", [("/latest", ""), ("/company", "alibaba"),
                                          ("/ainews", "search qwen"), ("/ainews", "topic chips"),
                                          ("/topics", ""), ("/subscriptions", ""),
                                          ("/ainews", "help"),
                                          ("/ainews", "why <https://news.example.com/a>")])
async def test_lookups_answer_without_asking_who_is_admin(bot, command, text):
    """users.info slow, rate-limited or not granted must not hold up or spam a lookup."""
    bot.fake.fail("users.info", status=429, retry_after=30)
    await bot.answer(await bot.slash(command, text, user="UPLAIN"))
    assert bot.fake.calls_to("users.info") == []


async def test_admin_check_asks_again_after_the_cache_expires(fake):
    now = [0.0]
    check = AdminCheck(make_client(fake.bot_token, fake.api_url), (), ttl=300,
                       clock=lambda: now[0])
    assert await check("UADMIN") is True
    fake.users["UADMIN"]["is_admin"] = False       # demoted in Slack
    now[0] = 299.0
    assert await check("UADMIN") is True
    now[0] = 301.0
    assert await check("UADMIN") is False
    assert len(fake.calls_to("users.info")) == 2


@pytest.mark.parametrize("profile, admin", [
    ({"team_id": "T0OTHER"}, False),                            # another org, Slack Connect
    ({"team_id": "T0OTHER", "enterprise_user": {"enterprise_id": "E0THEM"}}, False),
    ({}, True),                                                  # our own workspace
], ids=["other-org", "other-grid-org", "ours"])
async def test_only_our_own_workspaces_admins_count(fake, profile, admin):
    """A workspace admin of an organisation sharing a channel with us is no admin here."""
    fake.add_user("UGUEST", is_admin=True, is_owner=True)
    fake.users["UGUEST"].update(profile)
    check = AdminCheck(make_client(fake.bot_token, fake.api_url), ())
    assert await check("UGUEST") is admin
    assert await AdminCheck(make_client(fake.bot_token, fake.api_url), ("UGUEST",))("UGUEST")


async def test_a_failed_auth_test_does_not_lock_an_admin_out_for_the_cache_time(fake):
    check = AdminCheck(make_client(fake.bot_token, fake.api_url), ())
    fake.fail("auth.test", status=503, body="down")
    assert await check("UADMIN") is False          # can't tell now: not an admin now
    assert await check("UADMIN") is True           # asked again, not cached for 5 min


async def test_an_admin_of_another_workspace_of_our_grid_org_counts(fake):
    fake.add_user("UGRID", is_admin=True, team_id="T0SISTER",
                  enterprise_user={"enterprise_id": "E0OURS"})
    fake.enterprise_id = "E0OURS"
    check = AdminCheck(make_client(fake.bot_token, fake.api_url), ())
    assert await check("UGRID") is True


async def test_failing_users_info_means_not_admin_and_is_not_cached(fake):
    check = AdminCheck(make_client(fake.bot_token, fake.api_url), ())
    fake.fail("users.info", status=503, body="down")
    assert await check("UADMIN") is False
    assert await check("UADMIN") is True


async def test_users_info_without_its_scope_says_which_scope_to_add(fake, caplog):
    """An app made without users:read refuses every admin: the log names the fix."""
    check = AdminCheck(make_client(fake.bot_token, fake.api_url), ())
    fake.fail("users.info", error="missing_scope")
    assert await check("UADMIN") is False
    [line] = [r.getMessage() for r in caplog.records if "users.info" in r.getMessage()]
    assert "missing_scope" in line and "users:read" in line
    assert "SLACK_ADMIN_USER_IDS" in line


async def test_admin_ids_that_are_not_member_ids_are_named_at_start(fake, commands, caplog):
    """'@alice' or a display name never matches a caller: say so, instead of refusing
    that admin with no clue why. A lowercase ID is still the ID."""
    ids = ("@alice", "u0boss", "UOK1")
    runner = await start_slack(settings_for(fake, "socket", slack_admin_user_ids=ids),
                               commands)
    try:
        bot = Bot(fake, runner, "socket")
        answer = await bot.answer(await bot.slash("/subscribe", "pricing", user="U0BOSS"))
        assert "Now following pricing." in texts(answer)
    finally:
        await runner.stop()
    [warning] = [r.message for r in caplog.records if "SLACK_ADMIN_USER_IDS" in r.message]
    assert warning.startswith("slack: ") and "'@alice'" in warning
    assert "u0boss" not in warning and "UOK1" not in warning


async def test_a_crashing_command_answers_with_an_error_and_the_bot_goes_on(bot):
    answer = await bot.answer(await bot.slash("/company", "explode"))
    assert answer["response_type"] == "ephemeral"
    assert "failed on our side" in texts(answer) and "Try again" in texts(answer)
    assert "Latest on baidu" in texts(await bot.answer(await bot.slash("/company", "baidu")))


async def test_runner_adapter_posts_through_the_same_fake(bot):
    assert isinstance(bot.runner.adapter, SlackAdapter)
    message_id = await bot.runner.adapter.send("C9", make_brief(), nonce="n")
    assert message_id.startswith("C9:") and bot.fake.calls_to("chat.postMessage")


# ---- HTTP mode only: request signatures


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


@pytest.mark.parametrize("kind", ["slash", "button"])
async def test_a_replayed_request_is_refused(http_bot, commands, kind):
    """Someone who captured a signed request (a proxy's log, say) sends it again within
    the five minutes its timestamp is good for: it must not run twice."""
    fake = http_bot.fake
    if kind == "slash":
        rid, payload = fake.slash_payload("/company", "alibaba")
        body = urlencode(payload)
    else:
        value = render.share_value("company", "alibaba")
        rid, payload = fake.action_payload(render.SHARE_ACTION, value)
        body = urlencode({"payload": json.dumps(payload)})
    signed = {"timestamp": int(time.time()), "rid": rid}
    assert (await fake.post_signed(http_bot.url, body, **signed))[0] == 200
    await http_bot.answer(rid)
    assert (await fake.post_signed(http_bot.url, body, **signed))[0] == 401
    assert len(commands.calls) == 1 and len(fake.responses[rid]) == 1


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


# ---- start-up


async def test_socket_mode_opens_its_connection_through_slack_api_url(fake, commands):
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        [open_call] = fake.calls_to("apps.connections.open")
        assert open_call.token == fake.app_token
        assert runner.mode == "socket" and runner.team_id == fake.team_id
        await fake.wait_connected()
    finally:
        await runner.stop()
    await fake.wait_for(lambda: not fake._open_sockets(), what="socket closed")


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
async def test_start_up_failures_say_what_to_fix(fake, commands, change, words, retried):
    """`retried`: `ainews run` waits and tries again (SlackUnavailable); else it exits."""
    settings = settings_for(fake, "socket", **change)
    with pytest.raises(SlackStartError) as err:
        await start_slack(settings, commands, connect_timeout=5)
    assert words in str(err.value) and str(err.value).startswith("slack: ")
    assert isinstance(err.value, SlackUnavailable) == retried


async def test_busy_http_port_is_a_clear_error(fake, commands):
    first = await start_slack(settings_for(fake, "http"), commands, http_host="127.0.0.1")
    try:
        busy = settings_for(fake, "http", http_port=first.http_port)
        with pytest.raises(SlackStartError, match="AINEWS_HTTP_PORT"):
            await start_slack(busy, commands, http_host="127.0.0.1")
    finally:
        await first.stop()


def test_importing_bot_slack_does_not_load_the_slack_libraries():
    code = ("import sys, bot.slack, bot.slack.render; "
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


async def test_search_and_topic_answer_through_ainews_with_the_real_core(fake):
    """`/ainews search` and `/ainews topic` are lookups like /company: answered privately
    without asking users.info, with a share button that posts them."""
    from bot.commands import Commands
    from feeds.classify import Classifier
    from feeds.models import Classification, Story
    from storage.store import Store
    store = Store(":memory:")
    story = Story(id="q3", url="https://news.example/qwen", title="Alibaba open-sources Qwen 3",
                  text="Alibaba released Qwen 3 weights under Apache-2.0.", source="Reuters",
                  feed_url="https://news.example/rss", published=make_brief().published,
                  classification=Classification(strategy=True, score=5.0,
                                                companies=("Alibaba",), topics=("open-source",)))
    store.add_new_stories([story], backlog=False, now=make_brief().published)
    runner = await start_slack(settings_for(fake, "socket"), Commands(store, Classifier()))
    try:
        bot = Bot(fake, runner, "socket")
        helped = texts(await bot.answer(await bot.slash("/ainews", "help")))
        assert "/ainews search QUERY" in helped and "/ainews topic SLUG" in helped
        assert "/search" not in helped.replace("/ainews search", "")
        for text in ("search qwen", "topic open-source 1"):
            answer = await bot.answer(await bot.slash("/ainews", text, user="UPLAIN"))
            assert answer["response_type"] == "ephemeral"
            assert "Alibaba open-sources Qwen 3" in texts(answer)
            [share] = [e for b in answer["blocks"] if b["type"] == "actions"
                       for e in b["elements"] if e["action_id"] == render.SHARE_ACTION]
            shared = await bot.answer(await bot.click(render.SHARE_ACTION, share["value"]))
            assert shared["response_type"] == "in_channel"
            assert "Alibaba open-sources Qwen 3" in texts(shared)
        assert fake.calls_to("users.info") == []
    finally:
        await runner.stop()


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
        await bot.answer(await bot.click(render.SHARE_ACTION,
                                         render.share_value("company", "alibaba")))
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


async def test_real_chat_core_answers_through_slack(fake):
    """The real bot.commands.Commands behind the listeners (empty archive)."""
    from bot.commands import Commands
    from feeds.classify import Classifier
    from storage.store import Store
    core = Commands(Store(":memory:"), Classifier())
    runner = await start_slack(settings_for(fake, "socket"), core)
    try:
        bot = Bot(fake, runner, "socket")
        helped = await bot.answer(await bot.slash("/ainews", "help"))
        assert "company NAME" in texts(helped)
        unknown = await bot.answer(await bot.slash("/company", "qwen 3"))
        assert unknown["response_type"] == "ephemeral" and "Alibaba" in texts(unknown)
        refused = await bot.answer(await bot.slash("/ainews", "feeds list", user="UPLAIN"))
        assert "only admins" in texts(refused)
        listed = await bot.answer(await bot.slash("/ainews", "feeds list", user="UADMIN"))
        assert "only admins" not in texts(listed)
        digest = await bot.answer(await bot.slash("/digest", "daily 08:30", user="UADMIN"))
        assert digest["response_type"] == "in_channel" and "08:30" in texts(digest)
    finally:
        await runner.stop()


async def test_a_member_is_told_who_can_change_the_channel_in_slacks_terms(fake):
    """Slack has channel managers, who are no admins here: "only channel admins can..."
    sent them to the wrong people. The refusal and the help name workspace admins."""
    from bot.commands import Commands
    from feeds.classify import Classifier
    from storage.store import Store
    runner = await start_slack(settings_for(fake, "socket"), Commands(Store(":memory:"),
                                                                      Classifier()))
    try:
        bot = Bot(fake, runner, "socket")
        refused = texts(await bot.answer(await bot.slash("/subscribe", "pricing",
                                                         user="UPLAIN")))
        helped = texts(await bot.answer(await bot.slash("/ainews", "help", user="UPLAIN")))
    finally:
        await runner.stop()
    assert "only workspace admins and owners" in refused
    assert "channel admins" not in refused and "Discord" not in refused
    assert "workspace admins and owners" in helped and "Channel admins" not in helped


WRONG = [("/company", "", "UPLAIN"), ("/company", "NoSuchCorp", "UPLAIN"),
         ("/ainews", "topic", "UPLAIN"), ("/ainews", "topic nonsense", "UPLAIN"),
         ("/ainews", "search", "UPLAIN"),
         ("/latest", "0", "UPLAIN"), ("/latest", "99999999999999999999", "UPLAIN"),
         ("/latest", "nonsense", "UPLAIN"), ("/latest", "²", "UPLAIN"),
         ("/latest", "3 5", "UPLAIN"), ("/latest", "pricing 3 5", "UPLAIN"),
         ("/subscribe", "", "UADMIN"),
         ("/subscribe", "nonsense", "UADMIN"), ("/subscribe", "pricing", "UPLAIN"),
         ("/unsubscribe", "pricing", "UADMIN"), ("/digest", "daily 25:00", "UADMIN"),
         ("/digest", "weekly", "UADMIN"), ("/ainews", "bogus", "UPLAIN"),
         ("/ainews", "feeds add javascript:alert(1)", "UADMIN"),
         ("/ainews", "feeds remove https://nowhere.example/feed", "UADMIN")]


@pytest.mark.parametrize("command,text,user", WRONG, ids=[f"{c} {t}" for c, t, _ in WRONG])
async def test_wrong_arguments_get_an_error_only_the_caller_sees(fake, command, text, user):
    """The real chat core: a mistake answers privately with what to do, never a crash."""
    from bot.commands import Commands
    from feeds.classify import Classifier
    from storage.store import Store
    runner = await start_slack(settings_for(fake, "socket"), Commands(Store(":memory:"),
                                                                      Classifier()))
    try:
        bot = Bot(fake, runner, "socket")
        answer = await bot.answer(await bot.slash(command, text, user=user))
    finally:
        await runner.stop()
    assert answer["response_type"] == "ephemeral"
    shown = texts(answer)
    assert shown.startswith(":warning: ") and "on our side" not in shown, shown


async def test_the_biggest_answer_fits_slacks_limits(bot, commands, maximal_reply):
    """25 long, hostile briefs: the fake refuses a response_url answer over Block Kit's
    limits as Slack does, so the answer and its share both get through."""
    commands.company = lambda caller, name, limit=None: maximal_reply
    answer = await bot.answer(await bot.slash("/company", "tencent"))
    [share] = [e for b in answer["blocks"] if b["type"] == "actions"
               for e in b["elements"] if e["action_id"] == render.SHARE_ACTION]
    shared = await bot.answer(await bot.click(render.SHARE_ACTION, share["value"]))
    assert not any(bot.fake.refused.values())
    assert "No story has all of" in texts(answer) and shared["response_type"] == "in_channel"
    assert sum(texts(answer).count(f"{i} @") for i in range(25)) >= 25   # every brief


SLACK_BREACHES = [    # a response_url answer Slack refuses, and what it answers
    ({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]},
     "invalid_blocks"),
    ({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}]},
     "invalid_blocks"),
    ({"blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
    ({"blocks": [], "text": ""}, "no_text"),
]


@pytest.mark.parametrize("message, error", SLACK_BREACHES,
                         ids=["header", "section", "51 blocks", "empty"])
async def test_an_answer_slack_refuses_is_logged_and_the_user_told(bot, monkeypatch, caplog,
                                                                    message, error):
    """response_url answers a bad payload with HTTP 400, which bolt's respond() returns
    instead of raising: the user got nothing and the log said nothing."""
    import logging
    from bot.slack import listeners
    monkeypatch.setattr(render, "reply_message",
                        lambda reply, **kw: {"response_type": "ephemeral", "text": "", **message})
    caplog.set_level(logging.WARNING, logger="ainews")
    rid = await bot.slash("/company", "tencent")
    await bot.fake.wait_for(lambda: bot.fake.responses[rid], what="the plain-text answer")
    assert [e for e, _ in bot.fake.refused[rid]] == [error]
    assert bot.fake.responses[rid] == [{"text": listeners.REFUSED, "response_type":
                                        "ephemeral", "replace_original": False}]
    assert f"Slack refused the answer to /company: HTTP 400 {error}" in caplog.text


LIMIT_ERRORS = [
    # (slash command, its text) -> (what is wrong, the command with a good limit)
    ("/company", "alibaba -1", "limit -1 is out of range", "/company Alibaba 3"),
    ("/ainews", "company alibaba -1", "limit -1 is out of range", "/company Alibaba 3"),
    ("/company", "alibaba 1.5", "limit '1.5' is not a number", "/company Alibaba 3"),
    ("/ainews", "company alibaba 1.5", "limit '1.5' is not a number", "/company Alibaba 3"),
    ("/ainews", "topic pricing 99", "limit 99 is out of range", "/ainews topic pricing 3"),
    ("/ainews", "topic pricing -2", "limit -2 is out of range", "/ainews topic pricing 3"),
    ("/latest", "-1", "limit -1 is out of range", "/latest 5"),
]


async def plain_answer(fake, command: str, text: str) -> str:
    """The text a plain user sees for one slash command, from a bot over an empty store."""
    from bot.commands import Commands
    from feeds.classify import Classifier
    from storage.store import Store
    runner = await start_slack(settings_for(fake, "socket"), Commands(Store(":memory:"),
                                                                      Classifier()))
    try:
        bot = Bot(fake, runner, "socket")
        return texts(await bot.answer(await bot.slash(command, text, user="UPLAIN")))
    finally:
        await runner.stop()


@pytest.mark.parametrize("command, text, wrong, eg", LIMIT_ERRORS,
                         ids=[f"{c} {t}" for c, t, _, _ in LIMIT_ERRORS])
async def test_a_bad_limit_is_named_with_the_command_typed(fake, command, text, wrong, eg):
    """`/company alibaba -1` answered "no company 'alibaba -1'" where `/ainews company
    alibaba -1` said the limit was wrong; and its example was `/latest 5`."""
    shown = await plain_answer(fake, command, text)
    assert shown.startswith(":warning: ") and wrong in shown and f"e.g. {eg}" in shown, shown
    assert "no company" not in shown and "no topic" not in shown


EXTRA_COUNTS = [
    # (slash command, its text) -> the usage the answer names
    ("/company", "alibaba 3 4", "/company NAME [LIMIT]"),
    ("/ainews", "company alibaba 3 4", "/company NAME [LIMIT]"),
    ("/ainews", "topic chips 3 4", "/ainews topic SLUG [LIMIT]"),
    ("/latest", "3 4", "/latest [LIMIT] [TOPIC]"),
    ("/latest", "pricing 3 4", "/latest [LIMIT] [TOPIC]"),
    ("/ainews", "latest 3 4", "/latest [LIMIT] [TOPIC]"),
]


@pytest.mark.parametrize("command, text, usage", EXTRA_COUNTS,
                         ids=[f"{c} {t}" for c, t, _ in EXTRA_COUNTS])
async def test_a_second_count_gets_the_commands_usage(fake, command, text, usage):
    """`/company alibaba 3 4` answered "no company 'alibaba 3' — did you mean Alibaba or
    Meta?", and `/latest 3 4` "limit '3 4' is not a number": one line of what the
    command takes says it."""
    shown = await plain_answer(fake, command, text)
    assert shown.startswith(":warning: ") and f"use {usage}" in shown, shown
    assert "at most one LIMIT" in shown and "\n" not in shown.strip()
    for confusing in ("no company", "no topic", "not a number", "on our side"):
        assert confusing not in shown, shown


@pytest.mark.parametrize("command, text", [
    ("/ainews", 'topic "chips"'), ("/ainews", "topic “chips”"), ("/ainews", "topic 「芯片」"),
    ("/latest", "“chips”"), ("/subscribe", "「芯片」"), ("/subscribe", '"chips"'),
])
async def test_a_quoted_topic_is_taken_as_a_quoted_company_is(fake, command, text):
    """Discord's topic picker offered nothing for "chips"; Slack has no picker, and its
    commands must take the topic quoted as well (they do: this keeps it so)."""
    from bot.commands import Commands
    from feeds.classify import Classifier
    from storage.store import Store
    runner = await start_slack(settings_for(fake, "socket"), Commands(Store(":memory:"),
                                                                      Classifier()))
    try:
        bot = Bot(fake, runner, "socket")
        shown = texts(await bot.answer(await bot.slash(command, text, user="UADMIN")))
    finally:
        await runner.stop()
    assert "Chips & compute" in shown and not shown.startswith(":warning:"), shown


@pytest.mark.parametrize("method", ["auth.test", "apps.connections.open"])
@pytest.mark.parametrize("status, error, body", [
    (503, None, "<html>503 Service Unavailable</html>"),
    (200, "fatal_error", None),        # Slack's own trouble, said in a 200 answer
])
async def test_a_slack_outage_at_start_is_not_blamed_on_the_tokens(fake, commands, method,
                                                                   status, error, body):
    fake.fail(method, status=status, error=error, body=body, times=5)
    with pytest.raises(SlackUnavailable) as err:
        await start_slack(settings_for(fake, "socket"), commands, connect_timeout=5)
    message = str(err.value)
    assert message.startswith("slack: ") and f"HTTP {status}" in message
    assert "try again" in message and "refused" not in message


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


async def test_the_bot_keeps_one_connection_to_the_web_api(fake, commands):
    """Posts reuse the connection the start-up opened, instead of a new one (and a TLS
    handshake with Slack) per call; stopping closes it."""
    from tests.fakes.slack import make_brief
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        for n in range(3):
            await runner.adapter.send("C42", make_brief(), nonce=f"row-{n}")
    finally:
        await runner.stop()
    peers = {c.peer for c in fake.calls if c.method in ("auth.test", "chat.postMessage")}
    assert len(peers) == 1 and runner.client.session.closed
