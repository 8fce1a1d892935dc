"""Shared pieces of the tests that run real discord.py against the fake Discord on
loopback: a brief, a recording stand-in for the chat core, and the bot over both. Modules
declare `core = pytest.fixture(recording_core, name="core")` and the like."""
from __future__ import annotations

from datetime import datetime, timezone

from feeds.models import Brief
from tests.fakes.discord import RecordingCommands, running_bot


EPHEMERAL = 64
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
