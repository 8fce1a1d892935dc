"""Slash commands and buttons through real slack-bolt, in Socket Mode and HTTP mode,
against the fake Slack on loopback, with a recording stand-in for the chat core."""
from __future__ import annotations

import pytest

from bot.replies import Caller
from bot.slack import render, render_reply
from bot.slack.adapter import SlackAdapter
from tests.fakes.slack import make_brief
from tests.slack_kit import BOSS, texts, action_ids, served, recording_commands, started_bot


fake = pytest.fixture(served, name="fake")
commands = pytest.fixture(recording_commands, name="commands")
bot = pytest.fixture(started_bot, name="bot", params=["socket", "http"])


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
    assert (render_reply.SHARE_ACTION in action_ids(answer)) == is_lookup


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
                if e["action_id"] == render_reply.SHARE_ACTION]
    shared = await bot.answer(await bot.click(render_reply.SHARE_ACTION, button["value"],
                                              user="U1"))
    assert shared["response_type"] == "in_channel" and shared["replace_original"] is False
    assert make_brief().headline in texts(shared) and "Shared by <@U1>" in texts(shared)
    assert render_reply.SHARE_ACTION not in action_ids(shared)
    assert [c[0] for c in commands.calls] == ["company", "company"]


async def test_share_clicked_twice_posts_the_lookup_once(bot, commands):
    """The private answer kept its "Share in channel" button after a share, and a second
    click (a double click, or a later one) posted the lookup to everyone again; Discord's
    "Post to channel" answers "Already posted to the channel." instead."""
    first = await bot.answer(await bot.slash("/company", "alibaba", user="U1"))
    [button] = [e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == render_reply.SHARE_ACTION]
    rids = [await bot.click(render_reply.SHARE_ACTION, button["value"], user="U1",
                            message_ts="1700000000.000100") for _ in range(2)]
    answers = [await bot.answer(rid) for rid in rids]
    await bot.fake.wait_for(lambda: len(bot.fake.responses[rids[0]]) == 2, what="replace")
    shared, replaced = bot.fake.responses[rids[0]]
    assert shared["response_type"] == "in_channel"
    # The private answer loses its button, so no later click (after a restart too) shares.
    assert replaced["replace_original"] is True and "blocks" not in replaced
    assert replaced["text"] == "Shared in the channel."
    assert answers[1]["response_type"] == "ephemeral" and answers[1]["replace_original"] is False
    assert "Already posted to the channel." in texts(answers[1])
    assert len(bot.fake.responses[rids[1]]) == 1


async def test_a_share_that_failed_can_be_clicked_again(bot, commands):
    """A share that posted nothing (the lookup failed) keeps its button working."""
    commands.company = lambda caller, name, limit=None: 1 / 0
    value = render_reply.share_value("company", "alibaba")
    failed = await bot.answer(await bot.click(render_reply.SHARE_ACTION, value,
                                              message_ts="1700000000.000100"))
    del commands.company
    again = await bot.answer(await bot.click(render_reply.SHARE_ACTION, value,
                                             message_ts="1700000000.000100"))
    assert failed["response_type"] == "ephemeral" and again["response_type"] == "in_channel"


@pytest.mark.parametrize("value", ["not json", '{"cmd": "feeds", "args": "remove x"}',
                                   '{"cmd": "text", "args": "subscribe all"}'])
async def test_share_button_reruns_only_lookups(bot, commands, value):
    answer = await bot.answer(await bot.click(render_reply.SHARE_ACTION, value, user="UADMIN"))
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


async def test_a_crashing_command_answers_with_an_error_and_the_bot_goes_on(bot):
    answer = await bot.answer(await bot.slash("/company", "explode"))
    assert answer["response_type"] == "ephemeral"
    assert "failed on our side" in texts(answer) and "Try again" in texts(answer)
    assert "Latest on baidu" in texts(await bot.answer(await bot.slash("/company", "baidu")))


@pytest.mark.parametrize("command,text,typed", [
    ("/company", "alibaba", "/company"), ("/ainews", "company alibaba", "/ainews company"),
    ("/ainews", "search qwen", "/ainews search"), ("/ainews", "topic chips", "/ainews topic")])
async def test_a_crash_names_the_command_the_user_typed(bot, commands, command, text, typed):
    """It said "Sorry, /text failed" for `/ainews company`, and "/search failed" for
    `/ainews search` (/search is Slack's own command)."""
    def boom(*args):
        raise RuntimeError("database is locked")
    commands.company = commands.search = commands.topic = commands.run_text = boom
    said = texts(await bot.answer(await bot.slash(command, text)))
    assert f"Sorry, {typed} failed on our side" in said


async def test_runner_adapter_posts_through_the_same_fake(bot):
    assert isinstance(bot.runner.adapter, SlackAdapter)
    message_id = await bot.runner.adapter.send("C9", make_brief(), nonce="n")
    assert message_id.startswith("C9:") and bot.fake.calls_to("chat.postMessage")


async def test_the_biggest_answer_fits_slacks_limits(bot, commands, maximal_reply):
    """25 long, hostile briefs: the fake refuses a response_url answer over Block Kit's
    limits as Slack does, so the answer and its share both get through."""
    commands.company = lambda caller, name, limit=None: maximal_reply
    answer = await bot.answer(await bot.slash("/company", "tencent"))
    [share] = [e for b in answer["blocks"] if b["type"] == "actions"
               for e in b["elements"] if e["action_id"] == render_reply.SHARE_ACTION]
    shared = await bot.answer(await bot.click(render_reply.SHARE_ACTION, share["value"]))
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
    monkeypatch.setattr(render_reply, "reply_message",
                        lambda reply, **kw: {"response_type": "ephemeral", "text": "", **message})
    caplog.set_level(logging.WARNING, logger="ainews")
    rid = await bot.slash("/company", "tencent")
    await bot.fake.wait_for(lambda: bot.fake.responses[rid], what="the plain-text answer")
    assert [e for e, _ in bot.fake.refused[rid]] == [error]
    assert bot.fake.responses[rid] == [{"text": listeners.REFUSED, "response_type":
                                        "ephemeral", "replace_original": False}]
    assert f"Slack refused the answer to /company: HTTP 400 {error}" in caplog.text


@pytest.mark.parametrize("args, secrets", [
    ("feeds add https://alice:s3cretpw@feeds.example/rss?token=t0k3n", ("s3cretpw", "t0k3n")),
    # The text was cut at 100 characters before anything was hidden: a password the cut
    # split had no "@" after it any more, and its first half was written as typed.
    ("feeds add https://" + "a" * 75 + ":s3cretpw@feeds.example/rss", ("s3cr",)),
], ids=["password-and-token", "password-at-the-cut"])
async def test_a_private_feeds_credentials_stay_out_of_the_log_of_a_command_that_broke(
        caplog, args, secrets):
    """`/ainews feeds add https://user:password@host/rss?token=...` that failed on our side
    (any bug in the add, the test fetch or the store) logged the command's text as typed,
    the feed's password and token in the clear, at ERROR with a traceback: the line an
    operator pastes into an issue. Everywhere else the log writes user:***@ and token=***."""
    import logging
    from bot.slack.listeners import plan, run_command

    class Broken:
        def feeds(self, caller, args):
            raise RuntimeError("a bug")

        def store_failure(self, e):
            return None

    caplog.set_level(logging.ERROR, logger="ainews")
    caller = Caller("slack", "T1", "C1", "UADMIN", is_admin=True)
    reply = await run_command(Broken(), *plan("/ainews", args), caller)
    assert "failed on our side" in reply.text
    assert "failed for UADMIN" in caplog.text, caplog.text
    assert not [s for s in secrets if s in caplog.text], caplog.text


async def test_a_private_feeds_credentials_stay_out_of_the_debug_line_of_each_command(
        bot, caplog):
    """AINEWS_LOG_LEVEL=DEBUG writes each command as it came: `/ainews feeds add` with a
    private feed's URL wrote its password and token as typed."""
    import logging
    caplog.set_level(logging.DEBUG, logger="ainews.slack")
    await bot.answer(await bot.slash(
        "/ainews", "feeds add https://alice:s3cretpw@feeds.example/rss?token=t0k3n",
        user="UADMIN"))
    assert "feeds.example/rss" in caplog.text, caplog.text
    assert "s3cretpw" not in caplog.text and "t0k3n" not in caplog.text, caplog.text
