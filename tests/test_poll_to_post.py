"""Poll to post through the real service: a new story on a local feed reaches a subscribed
Slack channel (real slack-bolt over Socket Mode) and Discord channel (real discord.py),
each once, and a backlog story reaches neither."""
from __future__ import annotations

import json
import re

import pytest

from bot.app import App
from bot.config import load_settings
from bot.service import Service
from feeds.models import Subscription
from tests.fakes.discord import FakeDiscord
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.slack import FakeSlack
from tests.fakes.stories import strategy_entry
from tests.markup_check import discord_problems

SLACK_CHANNEL = "C0NEWS"


@pytest.fixture
async def servers():
    feeds, slack = FeedServer(), FakeSlack()
    discord = FakeDiscord(channel_ids=(1300000000000000001, 1300000000000000002))
    await feeds.start(), await slack.start(), await discord.start()
    yield feeds, slack, discord
    await feeds.stop(), await slack.stop(), await discord.close()


def settings_for(tmp_path, feeds: FeedServer, slack: FakeSlack, discord: FakeDiscord):
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Wire"\nurl = "{feeds.url("/f.xml")}"\n')
    return load_settings({
        "AINEWS_DB": str(tmp_path / "a.db"), "AINEWS_FEEDS": str(tmp_path / "feeds.toml"),
        "AINEWS_ALLOW_PRIVATE_HOSTS": "1", "AINEWS_CHANNEL_HOURLY_CAP": "100",
        "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url, "DISCORD_TOKEN": discord.token,
        "DISCORD_API_URL": discord.api_url, "DISCORD_GATEWAY_URL": discord.gateway_url,
    }, dotenv_path=None)


def subscribe(app: App, discord: FakeDiscord) -> str:
    channel = str(discord.channel_ids[0])
    app.store.subscribe(Subscription("slack", "T0FAKE", SLACK_CHANNEL, "all", "all"))
    app.store.subscribe(Subscription("discord", str(discord.guild_id), channel, "company", "Tencent"))
    app.store.subscribe(Subscription("discord", str(discord.guild_id), channel, "topic", "pricing"))
    return channel


def slack_posts(slack: FakeSlack) -> list[str]:
    return [json.dumps(c.payload) for c in slack.calls_to("chat.postMessage")
            if c.payload.get("channel") == SLACK_CHANNEL]


def discord_posts(discord: FakeDiscord, channel: str) -> list[str]:
    return [json.dumps(r.json) for r in discord.find("POST", rf"/channels/{channel}/messages$")]


async def test_new_story_reaches_both_platforms_once(servers, tmp_path):
    feeds, slack, discord = servers
    feeds.add("/f.xml", make_rss("Wire", [strategy_entry(0)]))          # Alibaba: backlog
    app = App(settings_for(tmp_path, feeds, slack, discord))
    channel = subscribe(app, discord)
    await Service(app).run(once=True)
    assert slack_posts(slack) == [] and discord_posts(discord, channel) == []

    feeds.add("/f.xml", make_rss("Wire", [strategy_entry(0), strategy_entry(1)]))  # Tencent
    await Service(app).run(once=True)
    [slack_post] = slack_posts(slack)
    [discord_post] = discord_posts(discord, channel)
    for post in (slack_post, discord_post):
        assert "Tencent cuts prices of its AI models" in post
        assert "https://news.example.com/story/1" in post
    assert json.loads(discord_post)["allowed_mentions"]["parse"] == []
    with app.store as store:
        assert store.outbox_counts() == {"sent": 2}


HOSTILE_TITLE = "@everyone <@&1> <!channel> [paypal.com](https://evil.example) "
# Into the sentence the brief's bullet comes from, so the bullet carries it too.
HOSTILE_BULLET = ("from next month, &lt;@U123&gt; &lt;!subteam^S1|devs&gt; @here "
                  "&lt;https://evil.example|bank.com&gt; said.")


async def test_a_hostile_story_arrives_inert_on_both_platforms(servers, tmp_path):
    """Pings, masked links and markup in an outlet's title, text and name arrive as text:
    Discord's post mentions nobody, Slack's carries no mention token."""
    feeds, slack, discord = servers
    app = App(settings_for(tmp_path, feeds, slack, discord))
    (tmp_path / "feeds.toml").write_text(
        f'[[feed]]\nname = "Wire <!here> @everyone"\nurl = "{feeds.url("/f.xml")}"\n')
    channel = subscribe(app, discord)
    feeds.add("/f.xml", make_rss("Wire", [strategy_entry(0)]))
    await Service(app).run(once=True)                                  # backlog
    story = strategy_entry(1)
    story.update(title=HOSTILE_TITLE + story["title"],
                 content_html=story["content_html"].replace("from next month.", HOSTILE_BULLET))
    feeds.add("/f.xml", make_rss("Wire", [strategy_entry(0), story]))
    await Service(app).run(once=True)
    [slack_post], [discord_post] = slack_posts(slack), discord_posts(discord, channel)
    sent = json.loads(discord_post)
    assert sent["allowed_mentions"] == {"parse": []} and "everyone" in discord_post
    for embed in sent["embeds"]:
        shown = [embed["title"], embed["description"], embed["footer"]["text"]]
        shown += [field["value"] for field in embed["fields"]]
        assert all(discord_problems(s, links={story["link"]}) == [] for s in shown), shown
    assert re.findall(r"<[!@][^>]*>", slack_post) == re.findall(r"<!date\^[^>]*>", slack_post)
    assert "everyone" in slack_post and "paypal.com" in slack_post and "U123" in slack_post
