"""The chat core as a user meets it: what they type in Slack and Discord, through the
real slack-bolt and discord.py against the fakes on loopback, and what comes back.
(test_commands.py calls the core directly; test_slack_app.py and
test_discord_client.py check the adapters with a stand-in core.)"""
from __future__ import annotations

import contextlib
import re
from datetime import datetime, timezone

import pytest

from bot.commands import Commands
from bot.config import Settings
from bot.slack import render
from bot.slack.app import start_slack
from feeds.classify import Classifier
from feeds.models import Classification, Story, Subscription
from storage.store import Store
from tests.fakes.discord import ALL_PERMISSIONS, MEMBER_PERMISSIONS, FakeDiscord, running_bot
from tests.fakes.slack import FakeSlack

WHEN = datetime(2026, 3, 1, tzinfo=timezone.utc)
MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_~|>#\-\[\]()])")
QWEN = Story(id="q3", url="https://news.example/qwen", title="Alibaba open-sources Qwen 3",
             text="Alibaba released Qwen 3 weights under Apache-2.0.", source="Reuters",
             feed_url="https://news.example/rss", published=WHEN,
             classification=Classification(strategy=True, score=5.0, companies=("Alibaba",),
                                           topics=("open-source",)))


class Slack:
    """Types a slash command in channel C1 of the fake Slack; the answer as shown."""
    platform, channel = "slack", "C1"

    def __init__(self, fake: FakeSlack):
        self.fake = fake

    async def ask(self, slack: tuple[str, str], discord, *, admin: bool = False) -> str:
        user = "UADMIN" if admin else "UPLAIN"
        _, rid = await self.fake.slash_socket(*slack, user=user, channel=self.channel)
        answer = await self.fake.wait_response(rid, timeout=5)
        return "\n".join(t for _, t in render.all_texts(answer["blocks"]))


class Discord:
    """Runs a slash command in the fake guild's first channel; the answer as shown."""
    platform = "discord"

    def __init__(self, fake: FakeDiscord):
        self.fake, self.channel = fake, str(fake.channel_ids[0])

    async def ask(self, slack, discord: tuple[str, dict], *, admin: bool = False) -> str:
        perms = ALL_PERMISSIONS if admin else MEMBER_PERMISSIONS
        name, values, *how = discord        # how: {"subcommand": "add"}
        inter = await self.fake.command(name, values, permissions=perms, **dict(*how))
        answer = await self.fake.callback(inter)
        data = (await self.fake.followup(inter)) if answer["type"] == 5 else answer["data"]
        shown = [data.get("content") or ""] + [e.get("title") or e.get("description") or ""
                                               for e in data.get("embeds") or []]
        return MARKDOWN_ESCAPE.sub(r"\1", "\n".join(shown))    # Discord shows \_ as _


@contextlib.asynccontextmanager
async def slack_chat(core):
    fake = await FakeSlack().start()
    fake.add_user("UADMIN", is_admin=True)
    fake.add_user("UPLAIN")
    settings = Settings(slack_bot_token=fake.bot_token, slack_api_url=fake.api_url,
                        slack_app_token=fake.app_token, http_port=0)
    runner = await start_slack(settings, core)
    try:
        yield Slack(fake)
    finally:
        await runner.stop()
        await fake.stop()


@contextlib.asynccontextmanager
async def discord_chat(core):
    fake = await FakeDiscord().start()
    try:
        async with running_bot(fake, core, core.store):
            yield Discord(fake)
    finally:
        await fake.close()


@pytest.fixture
def core():
    store = Store(":memory:")
    store.add_new_stories([QWEN], backlog=False, now=WHEN)
    yield Commands(store, Classifier(), Settings())
    store.close()


@pytest.fixture(params=["slack", "discord"])
async def chat(request, core):
    opened = slack_chat if request.param == "slack" else discord_chat
    async with opened(core) as platform:
        yield platform


# (what the user types in Slack, the same in Discord, admin?) -> words in the answer
NAMES = {
    # Quotes around a name with a space in it; a phone's smart quotes; a Chinese IME's.
    "quoted company": (("/company", '"Alibaba Group"'),
                       ("company", {"name": '"Alibaba Group"'}), False,
                       "Alibaba open-sources Qwen 3"),
    "smart quotes and a limit": (("/company", "“Alibaba Group” 2"),
                                 ("company", {"name": "“Alibaba Group”", "limit": 2}), False,
                                 "Alibaba open-sources Qwen 3"),
    "corner brackets": (("/company", "「阿里巴巴」"), ("company", {"name": "「阿里巴巴」"}),
                        False, "Alibaba open-sources Qwen 3"),
    "quoted topic": (("/latest", '"open source"'), ("latest", {"topic": '"open source"'}),
                     False, "Alibaba open-sources Qwen 3"),
    # Alibaba's legal name, as filings and Wikipedia give it.
    "legal name": (("/company", "Alibaba Group Holding Limited"),
                   ("company", {"name": "Alibaba Group Holding Limited"}), False,
                   "Alibaba open-sources Qwen 3"),
    "quoted subscribe": (("/subscribe", "‘Alibaba Group’"),
                         ("subscribe", {"target": "‘Alibaba Group’"}), True,
                         "This channel now gets stories about Alibaba."),
}


@pytest.mark.parametrize("slack, discord, admin, shown", NAMES.values(), ids=NAMES)
async def test_a_name_in_quotes_or_in_full_is_the_name(chat, slack, discord, admin, shown):
    """`/company "Alibaba Group"` answered "no company '"Alibaba Group"' — did you mean
    Alibaba?": the quotes were read as part of the name."""
    answer = await chat.ask(slack, discord, admin=admin)
    assert shown in answer and "no company" not in answer, answer


MIXED_UP = {
    "topic for a company": (("/company", "pricing"), ("company", {"name": "pricing"}),
                            "'pricing' is a topic, not a company: ",
                            {"slack": "/ainews topic pricing", "discord": "/topic slug:pricing"}),
    "company for a topic": (("/ainews", "topic alibaba"), ("topic", {"slug": "alibaba"}),
                            "'alibaba' is a company, not a topic: ",
                            {"slack": "/company Alibaba", "discord": "/company name:Alibaba"}),
    "alias for a topic": (("/latest", "qwen"), ("latest", {"topic": "qwen"}),
                          "'qwen' is a company, not a topic: ",
                          {"slack": "/company Alibaba", "discord": "/company name:Alibaba"}),
}


@pytest.mark.parametrize("slack, discord, said, example", MIXED_UP.values(), ids=MIXED_UP)
async def test_a_topic_typed_for_a_company_or_back_says_where_it_goes(chat, slack, discord,
                                                                      said, example):
    """`/company pricing` said to look at /topics for companies, `/latest alibaba` listed
    the topic slugs: the user had the right word in the wrong command."""
    answer = await chat.ask(slack, discord)
    assert said in answer and example[chat.platform] in answer, answer


@pytest.mark.parametrize("zone, quoted", [("Europe", "Europe"),
                                          ("E" * 5000, "E" * 59 + "…")],
                         ids=["region", "5000 characters"])
async def test_a_time_zone_that_is_no_zone_file_is_refused_with_the_reason(chat, core, zone,
                                                                         quoted):
    """`/digest daily 08:30 Europe` (a region: a directory of zone files) or a very long
    name (too long for a file name) crashed the command: "Sorry, /digest failed"."""
    answer = await chat.ask(("/digest", f"daily 08:30 {zone}"),
                            ("digest", {"mode": "daily", "at": "08:30", "timezone": zone}),
                            admin=True)
    assert f"unknown time zone '{quoted}'" in answer and "failed" not in answer, answer
    assert core.store.digest_setting(chat.platform, chat.channel) is None


async def test_unsubscribing_one_topic_of_all_says_it_comes_with_all(chat, core):
    """A channel following all: `/unsubscribe chips` said "this channel doesn't follow
    'chips'", as if no chip stories would come; they still come, through all."""
    core.store.subscribe(Subscription(chat.platform, "w", chat.channel, "all", "all"))
    answer = await chat.ask(("/unsubscribe", "chips"), ("unsubscribe", {"target": "chips"}),
                            admin=True)
    assert "they come with all strategy stories, which it follows" in answer, answer
    assert {"slack": "/unsubscribe all", "discord": "/unsubscribe target:all"}[
        chat.platform] in answer
    assert [s.kind for s in core.store.subscriptions_for_channel(chat.platform,
                                                                 chat.channel)] == ["all"]


async def test_a_link_wrapped_to_hide_its_preview_is_the_link(core):
    """Discord users write <https://...> to keep a link from unfurling; /why said no
    story has that link. (Slack sends links wrapped anyway: test_slack_app.)"""
    async with discord_chat(core) as chat:
        answer = await chat.ask(None, ("why", {"link": f"<{QWEN.url}>"}))
    assert "verdict: strategy" in answer and "no stored story" not in answer, answer


@pytest.mark.parametrize("zone", ["GMT+8", "UTC+8", "+08:00"])
async def test_a_utc_offset_for_a_time_zone_is_pointed_to_the_zones_at_that_offset(chat, core,
                                                                                  zone):
    """`/digest daily 08:30 GMT+8`, how China writes its time: the answer suggested
    GMT+0, a digest 8 hours off; UTC+8 got no suggestion at all."""
    answer = await chat.ask(("/digest", f"daily 08:30 {zone}"),
                            ("digest", {"mode": "daily", "at": "08:30", "timezone": zone}),
                            admin=True)
    assert f"'{zone}' is a UTC offset, not a time zone" in answer, answer
    assert "Asia/Shanghai" in answer and "Etc/GMT-8 for that offset all year" in answer
    assert "GMT+0" not in answer
    assert core.store.digest_setting(chat.platform, chat.channel) is None


async def test_an_etc_zone_is_said_to_count_the_other_way(chat, core):
    """Etc/GMT+8 is UTC-8: set for a UTC+8 channel, its digest came 16 hours off with
    nothing said."""
    answer = await chat.ask(("/digest", "daily 08:30 Etc/GMT+8"),
                            ("digest", {"mode": "daily", "at": "08:30",
                                        "timezone": "Etc/GMT+8"}), admin=True)
    assert "one digest a day at 08:30 Etc/GMT+8" in answer, answer
    assert "Note: Etc/GMT+8 is UTC-8, 8 hours behind UTC (Etc/ names count the other way)" \
        in answer


async def test_a_search_that_finds_more_than_it_shows_says_so(chat, core):
    """`/ainews search alibaba` over an archive of thousands showed 5 stories and
    nothing more, as if those were all there is; search takes no limit in chat."""
    core.store.add_new_stories([Story(
        id=f"a{i}", url=f"https://news.example/a{i}", title=f"Alibaba deal {i} with vendor{i}",
        text=f"Alibaba agreed terms{i} with supplier{i}.", source="Reuters",
        feed_url="https://news.example/rss", published=WHEN.replace(day=1 + i),
        classification=QWEN.classification) for i in range(12)], backlog=False, now=WHEN)
    many = await chat.ask(("/ainews", "search alibaba"), ("search", {"query": "alibaba"}))
    one = await chat.ask(("/ainews", "search qwen"), ("search", {"query": "qwen"}))
    assert "More stories match than these 5: add a word to narrow the search" in many, many
    assert {"slack": "/ainews search openai -microsoft",
            "discord": "/search query:openai -microsoft"}[chat.platform] in many
    assert "Alibaba open-sources Qwen 3" in one and "More stories" not in one


async def test_a_time_zone_with_a_space_for_its_underscore_is_the_zone(chat, core):
    """`/digest daily 08:30 America/New York` was refused in Slack with the usage (one
    word too many) and in Discord as an unknown zone, though the zone was plain."""
    answer = await chat.ask(("/digest", "daily 08:30 America/New York"),
                            ("digest", {"mode": "daily", "at": "08:30",
                                        "timezone": "America/New York"}), admin=True)
    assert "one digest a day at 08:30 America/New_York" in answer, answer
    setting = core.store.digest_setting(chat.platform, chat.channel)
    assert (setting.at_time, setting.tz) == ("08:30", "America/New_York")


async def test_subscribing_in_a_paused_channel_says_its_other_subscription_resumes(chat, core):
    """It said "resumes for its other 1 subscription too"."""
    core.store.subscribe(Subscription(chat.platform, "w", chat.channel, "topic", "pricing"))
    core.store.pause_channel(chat.platform, chat.channel, "channel_not_found")
    answer = await chat.ask(("/subscribe", "qwen"), ("subscribe", {"target": "qwen"}),
                            admin=True)
    assert answer == ("This channel now gets stories about Alibaba. Posting here resumes "
                      "for its other subscription too."), answer
    assert not any(s.paused for s in core.store.subscriptions_for_channel(chat.platform,
                                                                          chat.channel))


FEED = "https://news.example/ai.xml"


async def test_a_feed_added_with_a_quoted_name_is_named_without_the_quotes(chat, core):
    """`/ainews feeds add URL "Example News"` stored the name with its quotes, and every
    post from the feed showed the outlet as "Example News", quotes and all; a quoted
    URL was refused as having no scheme. In Discord a <URL> (kept from unfurling) too."""
    answer = await chat.ask(("/ainews", f'feeds add "{FEED}" "Example News"'),
                            ("feeds", {"url": f"<{FEED}>", "name": "“Example News”"},
                             {"subcommand": "add"}),
                            admin=True)
    assert f"Added feed Example News ({FEED})" in answer, answer
    assert [s.source.name for s in core.store.feed_states()] == ["Example News"]


@pytest.mark.parametrize("opened", [slack_chat, discord_chat], ids=["slack", "discord"])
async def test_latest_in_an_archive_of_other_news_says_so(opened):
    """With stories stored but none of them strategy news, /latest said "No stories yet:
    the bot stores new ones as feeds are polled", as if the bot read nothing."""
    store = Store(":memory:")
    store.add_new_stories([Story(
        id="g1", url="https://news.example/phone", title="A phone review", text="A phone.",
        source="Reuters", feed_url="https://news.example/rss", published=WHEN)],
        backlog=False, now=WHEN)
    async with opened(Commands(store, Classifier(), Settings())) as chat:
        answer = await chat.ask(("/latest", ""), ("latest", {}))
    store.close()
    assert "No AI strategy stories yet: the stories stored so far are other news" in answer
    assert {"slack": "/ainews search qwen pricing",
            "discord": "/search query:qwen pricing"}[chat.platform] in answer, answer
