"""A headline that names a lookalike of a known address ("pаypal.com" with a Cyrillic
"а", "paypal．com" with a full-width dot, an IP) is never the text of a link elsewhere,
as posted through the real discord.py and slack_sdk to the fakes on loopback. These
passed the ASCII-only check (feeds/hostile.py) and went out as spoofed links. And a
Slack post whose headline names another address shows the story's own beside its button."""
from __future__ import annotations

import json

import pytest

from bot.slack.adapter import SlackAdapter
from bot.slack.webapi import make_client
from tests.fakes.discord import FakeDiscord, RecordingCommands, running_bot
from tests.fakes.slack import FakeSlack, make_brief as slack_brief
from tests.discord_kit import MESSAGES, make_brief as discord_brief

STORY = "https://news.example/s0"
LOOKALIKES = ["p\u0430ypal.com: verify your account",       # Cyrillic а
              "paypal\uff0ecom: verify your account",        # full-width dot
              "Log in at http://203.0.113.9/paypal now",
              "Log in at 203.0.113.9/paypal now",              # an IP, no scheme
              "\u0430\u0440\u0440\u04cf\u0435.com warns users",   # аррӏе.com
              "paypal\u200d.com: verify your account"]      # a zero-width joiner


@pytest.fixture
async def discord():
    fake = await FakeDiscord(channel_ids=(1300000000000000001,)).start()
    async with running_bot(fake, RecordingCommands()) as runner:
        yield fake, runner.adapter, str(fake.channel_ids[0])
    await fake.close()


@pytest.fixture
async def slack():
    fake = await FakeSlack().start()
    yield fake, SlackAdapter(make_client(fake.bot_token, fake.api_url))
    await fake.stop()


@pytest.mark.parametrize("headline", LOOKALIKES)
async def test_discord_post_shows_the_story_address_beside_a_lookalike(discord, headline):
    fake, adapter, channel = discord
    await adapter.send(channel, discord_brief(headline=headline, url=STORY), nonce="n1")
    (embed,) = fake.find("POST", MESSAGES)[0].json["embeds"]
    assert "url" not in embed, embed           # the title links nowhere
    assert {"name": "Link", "value": STORY, "inline": False} in embed["fields"]


@pytest.mark.parametrize("headline", LOOKALIKES)
async def test_discord_roundup_line_is_plain_beside_a_lookalike(discord, headline):
    fake, adapter, channel = discord
    briefs = [discord_brief(i, headline=headline, url=f"{STORY}{i}") for i in range(11)]
    await adapter.send_digest(channel, "Roundup", briefs, nonce="d1")
    (embed,) = fake.find("POST", MESSAGES)[0].json["embeds"]
    first = embed["description"].splitlines()[0]
    assert "](" not in first and first.endswith(f"<{STORY}0>"), first


@pytest.mark.parametrize("headline", LOOKALIKES)
async def test_slack_roundup_line_is_plain_beside_a_lookalike(slack, headline):
    fake, adapter = slack
    await adapter.send_digest("C42", "Roundup", [slack_brief(headline=headline, url=STORY)],
                              nonce="d1")
    [call] = fake.calls_to("chat.postMessage")
    blocks = call.payload["blocks"]
    line = (json.loads(blocks) if isinstance(blocks, str) else blocks)[1]["text"]["text"]
    assert f"<{STORY}|" not in line and f"* <{STORY}>" in line, line


@pytest.mark.parametrize("headline", ["paypal.com: verify your account"] + LOOKALIKES)
async def test_slack_post_shows_the_story_address_beside_its_button(slack, headline):
    """Discord's post shows the story's address when the headline names another; Slack's
    showed the headline over a "Read the story" button, which doesn't show where it goes."""
    fake, adapter = slack
    await adapter.send("C42", slack_brief(headline=headline, url=STORY), nonce="n1")
    [call] = fake.calls_to("chat.postMessage")
    blocks = call.payload["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    shown = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert f"<{STORY}>" in shown, blocks
    assert blocks[-1]["elements"][0]["url"] == STORY     # the button still goes there


async def test_slack_post_of_an_ordinary_headline_has_only_its_button(slack):
    fake, adapter = slack
    await adapter.send("C42", slack_brief(headline="Baidu cuts prices", url=STORY), nonce="n1")
    [call] = fake.calls_to("chat.postMessage")
    assert f"<{STORY}>" not in json.dumps(call.payload["blocks"])
