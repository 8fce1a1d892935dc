"""The real chat core answering through real slack-bolt and the fake Slack: lookups,
wrong arguments, limits and quoted topics, answered only to the caller."""
from __future__ import annotations

import pytest

from bot.slack import render_reply
from bot.slack.app import start_slack
from tests.fakes.slack import make_brief
from tests.slack_kit import settings_for, Bot, texts, served


fake = pytest.fixture(served, name="fake")


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
                       for e in b["elements"] if e["action_id"] == render_reply.SHARE_ACTION]
            shared = await bot.answer(await bot.click(render_reply.SHARE_ACTION, share["value"]))
            assert shared["response_type"] == "in_channel"
            assert "Alibaba open-sources Qwen 3" in texts(shared)
        assert fake.calls_to("users.info") == []
    finally:
        await runner.stop()


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
        assert "Only workspace admins and owners" in texts(refused)
        listed = await bot.answer(await bot.slash("/ainews", "feeds list", user="UADMIN"))
        assert "Only workspace admins" not in texts(listed)
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
    assert "Only workspace admins and owners" in refused
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


LIMIT_ERRORS = [
    # (slash command, its text) -> (what is wrong, the command with a good limit)
    ("/company", "alibaba -1", "Limit -1 is out of range", "/company Alibaba 3"),
    ("/ainews", "company alibaba -1", "Limit -1 is out of range", "/company Alibaba 3"),
    ("/company", "alibaba 1.5", "Limit '1.5' is not a whole number", "/company Alibaba 3"),
    ("/ainews", "company alibaba 1.5", "Limit '1.5' is not a whole number", "/company Alibaba 3"),
    ("/ainews", "topic pricing 99", "Limit 99 is out of range", "/ainews topic pricing 3"),
    ("/ainews", "topic pricing -2", "Limit -2 is out of range", "/ainews topic pricing 3"),
    ("/latest", "-1", "Limit -1 is out of range", "/latest 5"),
]


async def plain_answer(fake, command: str, text: str, user: str = "UPLAIN") -> str:
    """The text `user` (a plain one) sees for one slash command, from a bot over an
    empty store."""
    from bot.commands import Commands
    from feeds.classify import Classifier
    from storage.store import Store
    runner = await start_slack(settings_for(fake, "socket"), Commands(Store(":memory:"),
                                                                      Classifier()))
    try:
        bot = Bot(fake, runner, "socket")
        return texts(await bot.answer(await bot.slash(command, text, user=user)))
    finally:
        await runner.stop()


@pytest.mark.parametrize("command, text, wrong, eg", LIMIT_ERRORS,
                         ids=[f"{c} {t}" for c, t, _, _ in LIMIT_ERRORS])
async def test_a_bad_limit_is_named_with_the_command_typed(fake, command, text, wrong, eg):
    """`/company alibaba -1` answered "no company 'alibaba -1'" where `/ainews company
    alibaba -1` said the limit was wrong; and its example was `/latest 5`."""
    shown = await plain_answer(fake, command, text)
    assert shown.startswith(":warning: ") and wrong in shown and f"e.g. {eg}" in shown, shown
    assert "No company" not in shown and "No topic" not in shown
    assert "from 1 to 25" in shown and "Discord" not in shown   # Slack shows 25 at once


@pytest.mark.parametrize("text, what, eg", [
    ("company:pricing", "'pricing' is a topic, not a company", "/subscribe pricing"),
    ("topic:qwen", "'qwen' is a company, not a topic", "/subscribe Alibaba")])
async def test_a_target_of_the_other_kind_is_named_as_what_it_is(fake, text, what, eg):
    """`/subscribe company:pricing` answered "No topic or company 'pricing' — did you
    mean pricing?": as if pricing were not a topic."""
    shown = await plain_answer(fake, "/subscribe", text, user="UADMIN")
    assert shown.startswith(":warning: ") and what in shown and eg in shown, shown
    assert "did you mean" not in shown.lower()


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
    assert shown.startswith(":warning: ") and f"Use {usage}" in shown, shown
    assert "at most one LIMIT" in shown and "\n" not in shown.strip()
    for confusing in ("No company", "No topic", "not a number", "on our side"):
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


async def test_a_grid_member_typing_in_another_workspace_is_told_of_their_channels_post(
        chat_core):
    """Slack gives the workspace the user typed a command in (team_id): in an Enterprise
    Grid channel shared with the bot's workspace, a member of the org's other workspace
    asked why and was told the post in front of them was not made (tests/test_why.py)."""
    from feeds.models import utcnow
    from tests.fakes.chat import QWEN, WHEN, slack_chat
    async with slack_chat(chat_core) as chat:
        _, rid = await chat.fake.slash_socket("/subscribe", "Alibaba", user="UADMIN",
                                              channel="C1")
        await chat.fake.wait_response(rid)
        store = chat_core.store
        store.enqueue_post(cluster_id="q3", brief=make_brief(id="q3", url=QWEN.url),
                           platform="slack", workspace=chat.fake.team_id, channel="C1",
                           held=False, now=WHEN)
        store.record_sent(1, "C1:1700000000.000100", utcnow(), shown=make_brief(id="q3"))
        _, rid = await chat.fake.slash_socket("/ainews", f"why {QWEN.url}", user="UPLAIN",
                                              channel="C1", team="T0OTHER")
        answer = texts(await chat.fake.wait_response(rid, timeout=5))
    assert "This channel: posted" in answer and "Not posted" not in answer, answer
