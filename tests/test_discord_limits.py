"""Discord's size limits: the biggest answer fits, a long lookup says what it left out,
and the fake refuses what Discord refuses, as Discord does."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from types import MethodType

import pytest

from bot.config import Settings
from tests.discord_kit import BRIEF
from tests.fakes.discord import RecordingCommands, running_bot, served


fake = pytest.fixture(served, name="fake")


@pytest.mark.parametrize("name, options, deferred", [
    ("company", {"name": "Tencent"}, False),
    ("search", {"query": "hunyuan"}, True),
])
async def test_the_biggest_answer_fits_discords_limits(fake, maximal_reply, name, options,
                                                       deferred):
    """25 long, hostile briefs: the fake refuses what Discord refuses (content, embed
    and field sizes, 10 embeds, 6,000 characters a message), so the answer and its
    share both get through."""
    core = RecordingCommands()
    # Bound to the core, as the adapter asks the method's core whether the caller is
    # going too fast.
    setattr(core, name, MethodType(lambda self, caller, *args, **kw: maximal_reply, core))
    async with running_bot(fake, core):
        inter = await fake.command(name, options)
        answer = (await fake.followup(inter)) if deferred else (await fake.callback(inter))["data"]
        message = fake.messages[next(reversed(fake.messages))]
        custom_id = answer["components"][0]["components"][0]["custom_id"]
        shared = await fake.callback(await fake.click(message, custom_id))
    assert fake.refused == []
    assert len(answer["embeds"]) == 10 and shared["data"]["embeds"] == answer["embeds"]
    assert answer["content"].startswith("Search: @\u200beveryone")
    # the 15 a message cannot hold are said to be left out, after the long title
    assert answer["content"].endswith("Showing 10 of 25: a Discord message holds 10.")


@pytest.fixture
def twelve_on_pricing():
    from datetime import timedelta

    from bot.commands import Commands
    from feeds.classify import Classifier
    from feeds.models import Classification, Story
    from storage.store import Store

    # A week apart: twelve stories, not one cluster of the same event.
    store, t0 = Store(":memory:"), datetime(2026, 3, 1, tzinfo=timezone.utc)
    store.add_new_stories([Story(
        id=f"p{i}", url=f"https://news.example/p{i}", title=f"Cloud {i} cuts model prices by {i}%",
        text=f"Company {i} cut API prices.", source="Reuters", feed_url="https://news.example/rss",
        published=t0 + timedelta(days=7 * i), classification=Classification(
            strategy=True, score=5.0, companies=("Alibaba",), topics=("pricing",)))
        for i in range(12)], backlog=False, now=t0)
    return Commands(store, Classifier(), Settings()), store


@pytest.mark.parametrize("name, options, shown, note", [
    ("topic", {"slug": "pricing 12"}, 10, "Showing 10 of 12"),   # a limit typed in the text
    ("company", {"name": "alibaba 11"}, 10, "Showing 10 of 11"),
    ("topic", {"slug": "pricing 10"}, 10, None),
    ("company", {"name": "alibaba", "limit": 3}, 3, None),
])
async def test_a_lookup_of_more_than_10_says_how_many_it_left_out(fake, twelve_on_pricing,
                                                                  name, options, shown, note):
    """The core allows 25; a Discord message holds 10 embeds: `/topic slug:pricing 12`
    showed 10 briefs and dropped 2 without a word."""
    core, store = twelve_on_pricing
    async with running_bot(fake, core, store):
        answer = (await fake.callback(await fake.command(name, options)))["data"]
    assert len(answer["embeds"]) == shown
    assert answer["embeds"][0]["title"] == "Cloud 11 cuts model prices by 11%"   # newest
    if note:
        assert f"{note}: a Discord message holds 10." in answer["content"]
    else:
        assert "Showing" not in answer["content"]


TOO_BIG = "Must be {} or fewer in length."
BREACHES = [    # (message, where Discord says it is wrong, what it says)
    ({"content": "x" * 2001}, "content", TOO_BIG.format(2000)),
    ({"embeds": [{"title": "t" * 257}] * 10}, "embeds.0.title", TOO_BIG.format(256)),
    ({"embeds": [{"title": "t"}] * 11}, "embeds", TOO_BIG.format(10)),
    ({"embeds": [{"description": "d" * 4097}]}, "embeds.0.description", TOO_BIG.format(4096)),
    ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "embeds.0.fields",
     TOO_BIG.format(25)),
    ({"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]}, "embeds.0.fields.0.name",
     TOO_BIG.format(256)),
    ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
     "embeds.0.fields.0.value", TOO_BIG.format(1024)),
    ({"embeds": [{"footer": {"text": "f" * 2049}}]}, "embeds.0.footer.text",
     TOO_BIG.format(2048)),
    # 6,000 characters across a message's embeds, each within its own limits
    ({"embeds": [{"description": "d" * 3000}, {"description": "d" * 3001}]}, "embeds",
     "Embed size exceeds maximum size of 6000"),
]


@pytest.mark.parametrize("message, where, says", BREACHES, ids=[w for _, w, _ in BREACHES])
async def test_the_fake_answers_a_message_over_a_limit_as_discord_does(fake, message, where,
                                                                       says):
    import aiohttp
    url = f"{fake.api_url}/api/v10/channels/{fake.channel_ids[0]}/messages"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=message,
                                headers={"Authorization": f"Bot {fake.token}"}) as resp:
            status, body = resp.status, await resp.json()
    assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body")
    node = body["errors"]
    for key in where.split("."):
        node = node[key]
    assert node["_errors"][0]["message"] == says
    assert fake.messages == {}


@pytest.mark.parametrize("message, where, says",
                         [b for b in BREACHES if b[1] != "embeds" or "6000" in b[2]],
                         ids=[w for _, w, s in BREACHES if w != "embeds" or "6000" in s])
async def test_the_fake_refuses_what_discord_refuses(fake, monkeypatch, caplog, message, where,
                                                     says):
    """An answer over a limit is refused with Discord's 400 Invalid Form Body (50035),
    which discord.py reads as Discord's own: the user is told the command failed.
    (More than 10 embeds discord.py refuses itself, before sending.)"""
    import discord
    from bot.discord import answer
    monkeypatch.setattr(answer, "reply_payload", lambda reply: {
        "content": message.get("content"), "ephemeral": True,
        "embeds": [discord.Embed.from_dict(e) for e in message.get("embeds", [])]})
    caplog.set_level(logging.ERROR)
    async with running_bot(fake, RecordingCommands(briefs=[BRIEF])):
        inter = await fake.command("company", {"name": "Tencent"})
        await fake.wait_for(lambda: inter.refused and inter.callbacks)
    [refused] = [r for r in fake.requests if r.path.endswith("/callback") and r.status == 400]
    assert refused.json["data"].get("content") == message.get("content")
    assert f"error code: 50035): Invalid Form Body\nIn data.{where}: {says}" in caplog.text
    assert "failed" in inter.callbacks[0]["data"]["content"]


@pytest.mark.parametrize("name, options", [
    ("topic", {"slug": "pricing 30"}), ("company", {"name": "alibaba 30"}),
    ("company", {"name": "alibaba 0"}), ("topic", {"slug": "pricing -1"}),
])
async def test_a_refused_limit_names_the_range_help_states(fake, twelve_on_pricing, name,
                                                           options):
    """/help says LIMIT is at most 10 here; `/company name:alibaba 30` was told "give a
    whole number from 1 to 25"."""
    core, store = twelve_on_pricing
    async with running_bot(fake, core, store):
        helped = (await fake.callback(await fake.command("help", {})))["data"]
        answer = (await fake.callback(await fake.command(name, options)))["data"]
    assert "at most 10)" in helped["content"] + str(helped.get("embeds"))
    assert "give a whole number from 1 to 10 (Discord shows 10 at a time)" in answer["content"]


# A Google News article link: long, on another host than the one the headline names.
LONG_URL = "https://news.google.com/rss/articles/CBMi" + "x" * 400 + "?oc=5"


def ten_with_a_named_address(url: str = LONG_URL):
    """Nine full briefs and one whose headline names a web address ("Amazon.com"): its
    link can't go on the title, so it is shown beside it."""
    from tests.discord_kit import make_brief
    why = ("It ties the largest cloud provider more tightly to one model maker, which "
           "shapes what enterprise customers can buy and at what price across the market.")
    bullets = ("Amazon's cloud unit widened its bet on Anthropic with more chips, more "
               "money and a deeper tie to Bedrock customers across regions and markets.",) * 3
    normal = [make_brief(i, bullets=bullets, why_it_matters=why) for i in range(9)]
    named = make_brief(99, headline="Amazon.com invests another $4 billion in Anthropic",
                       url=url, bullets=bullets, why_it_matters=why)
    return normal + [named]


async def test_ten_briefs_with_a_long_link_beside_a_headline_are_one_answer_and_one_roundup(
        fake):
    """`/latest limit:10` answered "Sorry, /latest failed on our side" and the daily
    roundup of the same ten failed: the Link field (400 characters) was not held to the
    brief's share, and the message's embeds came to 6,037 of Discord's 6,000."""
    async with running_bot(fake, RecordingCommands(briefs=ten_with_a_named_address())) as bot:
        answer = (await fake.callback(await fake.command("latest", {"limit": 10})))["data"]
        await bot.adapter.send_digest(str(fake.channel_ids[0]), "Your AI digest",
                                      ten_with_a_named_address(), nonce="d1")
    assert fake.refused == [] and len(answer["embeds"]) == 10
    named = answer["embeds"][-1]
    # The link whole, under its host's name, since a cut one would be a wrong address.
    assert named["author"] == {"name": "news.google.com", "url": LONG_URL}
    assert "url" not in named and named["description"].startswith("• Amazon's cloud unit")
    roundup = fake.messages[next(reversed(fake.messages))]
    assert roundup["content"].startswith("Your AI digest: 10 stories: ")
    assert len(roundup["embeds"]) == 10
