"""Property: whatever a feed, an LLM or a user writes, what each platform receives pings
nobody, links nowhere under a false name and keeps our own formatting. Hostile text
comes from tests/hostile_text.py's grammar, goes through the real renderers (and the
Discord adapter's sends) for every field, and is read back by tests/markup_check.py,
written from the platforms' docs, not from the renderers."""
from __future__ import annotations

import asyncio
import functools
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.discord import render as drender
from bot.discord import render_reply as drender_reply
from bot.connections import ConnectionLog
from bot.discord.adapter import DiscordAdapter, text_fallback
from bot.replies import Caller, Reply
from bot.slack import render as srender
from bot.slack import render_reply as srender_reply
from bot.slack import render_roundup as srender_roundup
from tests.hostile_text import briefs, hostile
from tests.markup_check import discord_problems, names_other_address, slack_problems

# Modest and fixed: the suite stays fast and CI sees the same examples every run.
PROPERTY = settings(max_examples=100, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def discord_embed_problems(embed: dict, links) -> list[str]:
    found = discord_problems(embed.get("title") or "", links=links)
    if embed.get("url") and (embed["url"] not in links
                             or names_other_address(embed.get("title") or "", embed["url"])):
        found.append(f"title {embed.get('title')!r} links to {embed['url']}")
    found += discord_problems(embed.get("description") or "", links=links)
    for field in embed.get("fields", []):
        found += discord_problems(field["name"]) + discord_problems(field["value"], links=links)
    return found + discord_problems((embed.get("footer") or {}).get("text", ""), markdown=False)


def discord_payload_problems(payload: dict, links) -> list[str]:
    found = discord_problems(payload.get("content") or "", links=links)
    embeds = payload.get("embeds") or ([payload["embed"]] if payload.get("embed") else [])
    for embed in embeds:
        found += discord_embed_problems(embed.to_dict(), links)
    return found


def slack_payload_problems(payload: dict, links) -> list[str]:
    found = slack_problems(payload["text"], links=links)
    for kind, text in srender.all_texts(payload["blocks"]):
        if kind == "mrkdwn":
            found += slack_problems(text, links=links)
        elif "<" in text or ">" in text:        # plain_text: nothing raw from outside
            found.append(f"raw angle bracket in plain_text {text!r}")
    return found


# Discord -----------------------------------------------------------------------------
class _StubBot:
    """Just what DiscordAdapter uses of a discord.py Client; records each request."""
    def __init__(self):
        self.sent, self.threads = [], []
        self.gateway_ready = SimpleNamespace(is_set=lambda: True)
        self.http = SimpleNamespace(start_thread_with_message=self._thread)
        self.thread_channels: set[str] = set()      # channel "1" is no thread
        self.connection = ConnectionLog(None, "discord")

    def get_channel(self, channel_id):
        return None

    def get_partial_messageable(self, channel_id, type=None):
        return SimpleNamespace(send=self._send)

    async def _send(self, **kwargs):
        self.sent.append(kwargs)
        return SimpleNamespace(id=len(self.sent))

    async def _thread(self, channel, message_id, **kwargs):
        self.threads.append(kwargs)


@PROPERTY
@given(briefs())
def test_discord_brief_posts_and_threads_are_inert(brief):
    bot = _StubBot()
    adapter = DiscordAdapter(bot, threads=True)
    asyncio.run(adapter.send("1", brief, nonce="n"))
    links = {drender.safe_url(brief.url)}
    (sent,) = bot.sent
    assert sent["allowed_mentions"].to_dict() == {"parse": []}
    assert discord_payload_problems(sent, links) == []
    assert discord_problems(bot.threads[0]["name"], markdown=False) == []
    fallback = {"content": text_fallback(brief)}
    assert discord_payload_problems(fallback, links) == []


@PROPERTY
@given(hostile, briefs(), st.sampled_from([2, 11]))
def test_discord_digests_are_inert(title, brief, n):
    bot = _StubBot()
    asyncio.run(DiscordAdapter(bot).send_digest("1", title, [brief] * n, nonce="n"))
    (sent,) = bot.sent
    assert sent["allowed_mentions"].to_dict() == {"parse": []}
    assert discord_payload_problems(sent, {drender.safe_url(brief.url)}) == []


@PROPERTY
@given(hostile, hostile, briefs())
def test_discord_replies_are_inert(title, text, brief):
    links = {drender.safe_url(brief.url)}
    for reply in _replies(title, text, brief):
        assert discord_payload_problems(drender_reply.reply_payload(reply), links) == []


# Slack -------------------------------------------------------------------------------
@PROPERTY
@given(hostile, briefs(), st.sampled_from([1, 3]))
def test_slack_briefs_and_digests_are_inert(title, brief, n):
    links = {srender.safe_url(brief.url)}
    assert slack_payload_problems(srender.brief_message(brief), links) == []
    assert slack_payload_problems(srender_roundup.digest_message(title, [brief] * n), links) == []


@PROPERTY
@given(hostile, hostile, briefs())
def test_slack_replies_are_inert(title, text, brief):
    links = {srender.safe_url(brief.url)}
    for reply in _replies(title, text, brief):
        assert slack_payload_problems(srender_reply.reply_message(reply), links) == []


def _replies(title: str, text: str, brief) -> tuple[Reply, ...]:
    """Every kind of reply a command gives, made of hostile text (both platforms')."""
    return (Reply(kind="briefs", title=title, text=text, briefs=(brief,)),
            Reply(kind="briefs", title=title, text=text), Reply.error(text),
            Reply.message(text))


# What users type, echoed by the real commands ------------------------------------------
@functools.cache
def _core():
    from bot.commands import Commands
    from bot.config import Settings
    from feeds.classify import Classifier
    from storage.store import Store
    from tests.fakes.chat import QWEN, WHEN
    store = Store(":memory:")
    store.add_new_stories([QWEN], backlog=False, now=WHEN)
    return Commands(store, Classifier(), Settings())


ADMIN = Caller("slack", "T1", "C1", "U1", is_admin=True)
ECHOES = {"company": lambda c, a: c.company(ADMIN, a), "search": lambda c, a: c.search(ADMIN, a),
          "topic": lambda c, a: c.topic(ADMIN, a), "latest": lambda c, a: c.latest(ADMIN, topic=a),
          "why": lambda c, a: c.why(ADMIN, a), "unsubscribe": lambda c, a: c.unsubscribe(ADMIN, a),
          "digest": lambda c, a: c.digest(ADMIN, "daily", a)}


@PROPERTY
@given(st.sampled_from(sorted(ECHOES)), hostile)
def test_commands_echoing_what_a_user_typed_are_inert(command, typed):
    reply = ECHOES[command](_core(), typed)
    links = {"https://news.example/qwen"}
    assert discord_payload_problems(drender_reply.reply_payload(reply), links) == []
    assert slack_payload_problems(srender_reply.reply_message(reply), links) == []


def test_the_grammar_reaches_every_kind_of_construct():
    """A guard on the generator itself: the examples it draws do carry the constructs."""
    drawn = "".join(_examples(hostile))
    for construct in ("@everyone", "<!channel>", "](", "|", "\n# ", "```", "\u200d", "＠",
                      "1. "):
        assert construct in drawn, construct


def _examples(strategy):
    found = []

    @settings(max_examples=500, derandomize=True, database=None)
    @given(strategy)
    def collect(x):
        found.append(x)
    collect()
    return found


LIVE_DISCORD = ["@everyone", "hi <@123>", "<@&1>", "<#1>", "</ban:1>", "<t:1:R>",
                "[bank.com](https://evil.example)", "a\n  # heading", "a\r-# subtext",
                "a\u2028> quote", "```code```", "**bold**", "||spoiler||", "a\n1. item",
                "a\n  12. item", "2024. A year", "at https://paypal.com@evil.example/login",
                "at https://p\u0430ypal.com/login", "at https://paypal.com%2Eevil.example/x"]
LIVE_SLACK = ["<!channel>", "<@U1>", "<!subteam^S1|devs>", "@here", "a\n&gt; quote",
              "<https://evil.example|bank.com>", "*bold", "_it_", "`code`", "a & b",
              "*Reuters\nWire*", "* FT *"]


def test_the_checker_sees_what_the_platforms_act_on():
    """A guard on the checker: each of these is live syntax, and inert text is not."""
    assert all(discord_problems(s) for s in LIVE_DISCORD)
    assert all(slack_problems(s) for s in LIVE_SLACK)
    assert discord_problems("Alibaba cuts prices \\*by half\\* @\u200beveryone") == []
    assert discord_problems("1\\. item\n+ item\nup 3.5% in 2024.") == []
    assert discord_problems("at https://evil.example/login?to=paypal.com@x") == []
    assert slack_problems("*Reuters* AT&amp;T cuts ∗prices∗ by &gt; 50%") == []


@pytest.mark.parametrize("label, names_one", [
    ("Urgent...paypal.com/verify", True), ("Act now..paypal.com", True),
    ("Notice -paypal.com", True), ("Log in at 203.0.113.9/paypal", True),
    ("at 10.0.0.1:8443", True), ("Python 3.12.1.2 ships", False),
    ("mail bob@mail.paypal.com", False), ("news.example says", False),
    ("paypal\ua4f8com", True), ("paypal\u0702com", True), ("paypal\U0001d16dcom", True),
    ("paypal\u0660com", True), ("2\u0660\u0662\u0666 Qwen", False),
    ("news.exam\u3164ple says", False), ("news.exam\ufe0fple says", False),
])
def test_the_checker_reads_an_address_as_a_person_does(label, names_one):
    """A guard on the checker's addresses: one after dots or a hyphen, an IP without a
    scheme, UTS #39's lookalike dots (it saw none, so the property could not catch a
    renderer that missed them)."""
    assert names_other_address(label, "https://news.example/1") is names_one
