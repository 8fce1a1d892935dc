"""Shared pieces of the tests that run real discord.py against the fake Discord on
loopback: a brief, a recording stand-in for the chat core, and the bot over both. Modules
declare `core = pytest.fixture(recording_core, name="core")` and the like. Also what the
Discord renderer tests share: `make_brief(i)` (brief i, for the adapter), the messages
route, the text an embed shows, and hostile feed text."""
from __future__ import annotations

from datetime import datetime, timezone

import discord

from feeds.models import Brief
from tests.fakes.discord import RecordingCommands, running_bot


EPHEMERAL = 64
SUPPRESS_EMBEDS = 4     # a message's flag: Discord adds no link preview cards (nor shows embeds)
BRIEF = Brief(id="s1", headline="Tencent cuts Hunyuan API prices", bullets=("One.", "Two.", "Three."),
              why_it_matters="Price war.", url="https://news.example/hunyuan", source="SCMP",
              published=datetime(2026, 3, 1, tzinfo=timezone.utc), companies=("Tencent",),
              topics=("pricing",))


def recording_core() -> RecordingCommands:
    return RecordingCommands(briefs=[BRIEF])


async def bot_on_fake(fake, core):
    """The `bot` fixture: running_bot on the fake Discord, answering with `core`."""
    async with running_bot(fake, core) as runner:
        yield runner


async def adapter_on_fake(fake):
    """The `runner` fixture of the adapter tests: the bot on the fake Discord, its
    commands only recorded (these tests drive the delivery adapter)."""
    async with running_bot(fake, RecordingCommands()) as runner:
        yield runner


def first_channel(fake) -> str:
    """The `channel` fixture: the fake guild's first text channel, as an outbox names it."""
    return str(fake.channel_ids[0])


MESSAGES = r"/channels/\d+/messages"


def make_brief(i: int = 0, **kw) -> Brief:
    base = dict(id=f"s{i}", headline=f"Baidu prices Ernie {i} below rivals",
                bullets=("Cuts list prices.", "Free tier widened.", "Targets startups."),
                why_it_matters="The price war spreads.", url=f"https://news.example/{i}",
                source="Caixin", published=datetime(2026, 3, 1, tzinfo=timezone.utc),
                companies=("Baidu",), topics=("pricing",))
    base.update(kw)
    return Brief(**base)


def visible_text(embed: discord.Embed) -> str:
    """Everything a reader sees in an embed, markdown-rendered parts together."""
    d = embed.to_dict()
    parts = [d.get("title", ""), d.get("description", ""), d.get("footer", {}).get("text", "")]
    parts += [f["name"] + "\n" + f["value"] for f in d.get("fields", [])]
    return "\n".join(parts)


# Feed text that would act in Discord, and the word its rendering must not turn into a
# mention, link or command.
HOSTILE = [("@everyone look", "everyone"), ("@here now", "here"), ("hi <@123>", "123"),
           ("role <@&123>", "123"), ("chan <#123>", "123"),
           ("ping <@!123456789012345678>", "123456789012345678"),
           ("see [Google](http://evil.example/x)", "evil.example"),
           ("[**Google**](<http://evil.example>)", "evil.example"), ("/cmd </ban:123>", "ban"),
           ("open <id:customize>", "customize"), ("at <t:1700000000:R>", "1700000000"),
           ("wave <a:wave:123>", "wave"), ("smile <:pepe:123>", "pepe")]
