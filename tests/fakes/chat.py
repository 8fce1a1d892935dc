"""A user's side of a chat command on either platform, for tests of the chat core
through the real slack-bolt and discord.py against the fakes on loopback.

    async with slack_chat(commands) as chat:       # or discord_chat
        shown = await chat.ask(("/company", "qwen"), ("company", {"name": "qwen"}))

`ask` takes what the user types in Slack and in Discord and returns the answer as
that platform shows it; the conftest fixture `chat` runs a test on both."""
from __future__ import annotations

import contextlib
import re
from datetime import datetime, timezone

from bot.config import Settings
from bot.slack import render
from bot.slack.app import start_slack
from feeds.models import Classification, Story
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
    """Types a slash command in channel C1 of the fake Slack; the answer as shown.
    `adapter` posts there as delivery does."""
    platform, channel = "slack", "C1"

    def __init__(self, fake: FakeSlack, adapter):
        self.fake, self.adapter = fake, adapter

    def message_link(self, message_id: str) -> str:
        """What Slack's "Copy link" gives for a post (message id CHANNEL:TS)."""
        channel, ts = message_id.split(":")
        return f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    async def ask(self, slack: tuple[str, str], discord, *, admin: bool = False) -> str:
        user = "UADMIN" if admin else "UPLAIN"
        _, rid = await self.fake.slash_socket(*slack, user=user, channel=self.channel)
        answer = await self.fake.wait_response(rid, timeout=5)
        return "\n".join(t for _, t in render.all_texts(answer["blocks"]))


class Discord:
    """Runs a slash command in the fake guild's first channel; the answer as shown."""
    platform = "discord"

    def __init__(self, fake: FakeDiscord, adapter):
        self.fake, self.adapter, self.channel = fake, adapter, str(fake.channel_ids[0])

    def message_link(self, message_id: str) -> str:
        """What Discord's "Copy Message Link" gives for a post."""
        return f"https://discord.com/channels/{self.fake.guild_id}/{self.channel}/{message_id}"

    async def ask(self, slack, discord: tuple[str, dict], *, admin: bool = False) -> str:
        # An admin here may do everything: the bot's owner, who has Manage Server too.
        who = {"permissions": ALL_PERMISSIONS, "user_id": self.fake.owner_id} if admin \
            else {"permissions": MEMBER_PERMISSIONS}
        name, values, *how = discord        # how: {"subcommand": "add"}
        inter = await self.fake.command(name, values, **who, **dict(*how))
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
        yield Slack(fake, runner.adapter)
    finally:
        await runner.stop()
        await fake.stop()


@contextlib.asynccontextmanager
async def discord_chat(core):
    fake = await FakeDiscord().start()
    try:
        async with running_bot(fake, core, core.store) as runner:
            yield Discord(fake, runner.adapter)
    finally:
        await fake.close()
