"""Who counts as a Slack admin (bot.slack.admin_check.AdminCheck): workspace roles,
SLACK_ADMIN_USER_IDS, the users.info cache and its failures."""
from __future__ import annotations

import pytest

from bot.slack.app import start_slack
from bot.replies import Reply
from bot.slack.admin_check import AdminCheck
from bot.slack.webapi import make_client
from tests.slack_kit import settings_for, Bot, texts, served, recording_commands, started_bot


fake = pytest.fixture(served, name="fake")
commands = pytest.fixture(recording_commands, name="commands")
bot = pytest.fixture(started_bot, name="bot", params=["socket", "http"])


async def test_users_info_is_cached_between_commands(bot):
    for _ in range(3):
        await bot.answer(await bot.slash("/subscribe", "pricing", user="UADMIN"))
    assert len(bot.fake.calls_to("users.info")) == 1


@pytest.mark.parametrize("command,text", [("/subscribe", "pricing"),
                                          ("/ainews", "unsubscribe all")])
async def test_a_command_refused_as_too_fast_asks_nobody_who_is_admin(bot, commands, command,
                                                                     text):
    """The throttle decides first: a user hammering an admin command doesn't spend
    users.info's rate limit on commands it then refuses."""
    slow = Reply.error("you're going fast: try again in 2 s")
    commands.too_fast = lambda caller: slow      # the bot's core refuses every command
    answer = await bot.answer(await bot.slash(command, text, user="UADMIN"))
    assert "going fast" in texts(answer)
    assert bot.fake.calls_to("users.info") == []


@pytest.mark.parametrize("command,text", [("/latest", ""), ("/company", "alibaba"),
                                          ("/ainews", "search qwen"), ("/ainews", "topic chips"),
                                          ("/topics", ""), ("/subscriptions", ""),
                                          ("/ainews", "help"),
                                          ("/ainews", "why <https://news.example.com/a>"),
                                          # the console's words, which /ainews takes too
                                          ("/ainews", "company alibaba"),
                                          ("/ainews", "latest 3"), ("/ainews", "Topics"),
                                          ("/ainews", "/subscriptions")])
async def test_lookups_answer_without_asking_who_is_admin(bot, command, text):
    """users.info slow, rate-limited or not granted must not hold up or spam a lookup:
    `/ainews company alibaba` waited out users.info's 429 (20 s) before answering."""
    bot.fake.fail("users.info", status=429, retry_after=30)
    await bot.answer(await bot.slash(command, text, user="UPLAIN"))
    assert bot.fake.calls_to("users.info") == []


@pytest.mark.parametrize("text", ["subscribe pricing", "Unsubscribe all",
                                  "digest daily 08:00", "frobnicate"])
async def test_changes_typed_through_ainews_still_ask_who_is_admin(bot, text):
    """The words after /ainews decide, as the console reads them: a change (or a word
    the bot doesn't know) still asks users.info, so an admin is not refused."""
    await bot.answer(await bot.slash("/ainews", text, user="UADMIN"))
    assert [c.payload.get("user") for c in bot.fake.calls_to("users.info")] == ["UADMIN"]


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


@pytest.mark.parametrize("method", ["users.info", "auth.test"])
async def test_a_failed_lookup_is_remembered_for_a_minute_not_the_cache_time(fake, method):
    """A flaky Slack isn't asked again at every command (each retry of a refused admin
    spent users.info's rate limit), nor does it lock an admin out for five minutes."""
    now = [0.0]
    check = AdminCheck(make_client(fake.bot_token, fake.api_url), (), ttl=300,
                       clock=lambda: now[0])
    fake.fail(method, status=503, body="down")
    assert await check("UADMIN") is False          # can't tell now: not an admin now
    now[0] = 59.0
    assert await check("UADMIN") is False
    assert len(fake.calls_to(method)) == 1
    now[0] = 61.0
    assert await check("UADMIN") is True           # asked again: well before 5 min
    assert len(fake.calls_to(method)) == 2


async def test_a_failed_lookup_after_the_cache_expires_is_no_admin(fake):
    """The admin remembered before is not kept when asking again fails."""
    now = [0.0]
    check = AdminCheck(make_client(fake.bot_token, fake.api_url), (), ttl=300,
                       clock=lambda: now[0])
    assert await check("UADMIN") is True
    now[0] = 301.0
    fake.fail("users.info", status=503, body="down")
    assert await check("UADMIN") is False
    now[0] = 330.0
    assert await check("UADMIN") is False


async def test_an_admin_of_another_workspace_of_our_grid_org_counts(fake):
    fake.add_user("UGRID", is_admin=True, team_id="T0SISTER",
                  enterprise_user={"enterprise_id": "E0OURS"})
    fake.enterprise_id = "E0OURS"
    check = AdminCheck(make_client(fake.bot_token, fake.api_url), ())
    assert await check("UGRID") is True


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
