"""The chat core's help and error replies as each surface shows them: every example in
them spelled for that surface (test_examples.py checks those spellings parse), no
command left in the core's own text-command syntax, outside text still inert."""
from __future__ import annotations

import ast
import inspect
import io
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot import cli_syntax, examples as ex
from bot.cli import main
from bot.commands import Commands
from bot.config import Settings
from bot.console import format_reply, run_console_command
from bot.discord import render_reply as discord_render_reply
from bot.replies import Caller, Reply
from bot.slack import render as slack_render, syntax as slack_syntax
from bot.slack import render_reply as slack_render_reply
from feeds.classify import Classifier, load_gazetteer
from feeds.models import Subscription, utcnow
from storage.store import Store
from tests.fakes.discord import FakeDiscord, running_bot

ADMIN = Caller("slack", "T1", "C1", "U1", is_admin=True)
QUIET = Caller("slack", "T1", "C2", "U1", is_admin=True)      # a channel following nothing
ALL = Caller("slack", "T1", "C3", "U1", is_admin=True)        # one following all
PAUSED_TARGETS = ("pricing", "Moonshot AI")
LINK = "https://techcrunch.com/2025/01/27/deepseek-r1-is-now-available"   # 11 "words"

# Every path to a help or error text the core has, with input that reaches it.
PATHS = {
    "help": lambda c: c.help(ADMIN),
    "company without a name": lambda c: c.company(ADMIN, ""),
    "unknown company": lambda c: c.company(ADMIN, "Qqqxz"),
    "a topic for a company": lambda c: c.company(ADMIN, "open source"),
    "a company for a topic": lambda c: c.latest(ADMIN, topic="Moonshot"),
    "topic without a slug": lambda c: c.topic(ADMIN, ""),
    "search without words": lambda c: c.search(ADMIN, ""),
    "search with only -words": lambda c: c.search(ADMIN, "-qwen"),
    "search of too short a prefix": lambda c: c.search(ADMIN, "a-b*"),
    "search of a version with a *": lambda c: c.search(ADMIN, "gpt-4o*"),
    "search of too many prefixes": lambda c: c.search(ADMIN, "regulat* export* chip* licen*"),
    "search of too long a phrase": lambda c: c.search(ADMIN, '"a b c d e f g h i"'),
    "search of a pasted link": lambda c: c.search(ADMIN, LINK),
    "search too long": lambda c: c.search(ADMIN, "qwen " * 61),
    "search of too many Chinese words":
        lambda c: c.search(ADMIN, "，".join("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午")),
    "limit not a number": lambda c: c.latest(ADMIN, "lots"),
    "company limit out of range": lambda c: c.company(ADMIN, "alibaba -1"),
    "topic limit not a number": lambda c: c.topic(ADMIN, "pricing 1.5"),
    "unknown text command": lambda c: c.run_text(ADMIN, "frobnicate"),
    "latest with two limits": lambda c: c.run_text(ADMIN, "latest 1 2"),
    "text digest with too much": lambda c: c.run_text(ADMIN, "digest daily 08:30 UTC more"),
    "digest with too much": lambda c: c.digest(ADMIN, "daily 08:30 UTC more"),
    "digest weekly": lambda c: c.digest(ADMIN, "weekly"),
    "digest without a time": lambda c: c.digest(ADMIN, "daily"),
    "digest at a bad time": lambda c: c.digest(ADMIN, "daily", "8.30"),
    "subscribe to nothing": lambda c: c.subscribe(ADMIN, ""),
    "subscribe to the unknown": lambda c: c.subscribe(ADMIN, "Qqqxz"),
    "unsubscribe from the unknown": lambda c: c.unsubscribe(ADMIN, "Qqqxz"),
    "unsubscribe without a target": lambda c: c.unsubscribe(ADMIN, ""),
    "unsubscribe from what all brings": lambda c: c.unsubscribe(ALL, "chips"),
    "no subscriptions": lambda c: c.subscriptions(QUIET),
    "paused subscriptions": lambda c: c.subscriptions(ADMIN),
    "feeds usage": lambda c: c.feeds(ADMIN, "frobnicate"),
    "remove an unknown feed": lambda c: c.feeds(ADMIN, "remove", "https://none.example/rss"),
    "no feeds": lambda c: c.feeds(ADMIN, "list"),
    "no stories about a company": lambda c: c.company(ADMIN, "Anthropic"),
    "only other news about a company": lambda c: _other_news_about(c, "Tencent"),
    "search of a company a typo away": lambda c: c.search(ADMIN, "Tencnet"),
    "latest with more than shown": lambda c: _two_stories(c).latest(ADMIN, 1, "pricing"),
    "topic with more than shown": lambda c: _two_stories(c).topic(ADMIN, "pricing", 1),
    "company with more than shown": lambda c: _two_stories(c).company(ADMIN, "Baidu", 1),
    "search of a phrase found apart": lambda c: c.search(ADMIN, '"halves Baidu"'),
}


def _two_stories(commands) -> Commands:
    """Two strategy stories on Baidu's pricing (stored once): more than a limit of 1."""
    from feeds.models import Classification, Story
    now = utcnow()
    commands.store.add_new_stories([Story(
        sid, f"https://a.example/{sid}", title, title, "A", "https://a.example/rss", now,
        classification=Classification(strategy=True, companies=("Baidu",),
                                      topics=("pricing",)))
        for sid, title in [("ernie", "Baidu halves Ernie API fees"),
                           ("cloud", "Baidu Cloud bundles storage with compute deals")]],
        backlog=False, now=now)
    return commands


def _other_news_about(commands, company: str) -> Reply:
    from feeds.models import Classification, Story
    now = utcnow()
    commands.store.add_new_stories([Story(
        "gig", "https://a.example/gig", f"{company} sponsors a concert", "A concert.", "A",
        "https://a.example/rss", now, classification=Classification(
            strategy=False, companies=(company,)))], backlog=False, now=now)
    return commands.company(ADMIN, company)


@pytest.fixture(scope="module")
def classifier():
    return Classifier(load_gazetteer())


@pytest.fixture
def commands(store, classifier):
    for target in PAUSED_TARGETS:
        kind = "topic" if target == "pricing" else "company"
        store.add_subscription(Subscription("slack", "T1", "C1", kind, target), now=utcnow())
    store.pause_channel("slack", "C1", "channel_not_found")
    store.add_subscription(Subscription("slack", "T1", "C3", "all", "all"), now=utcnow())
    return Commands(store, classifier, settings=Settings())


async def answer(commands, path: str) -> Reply:
    reply = PATHS[path](commands)
    return await reply if inspect.isawaitable(reply) else reply


@pytest.fixture
async def replies(commands) -> dict[str, Reply]:
    return {path: await answer(commands, path) for path in PATHS}


def test_the_replies_use_every_registered_example_and_no_other(replies):
    used = {e for r in replies.values() for e in ex.examples_in(r.parts)}
    assert used == set(ex.REGISTRY) | {ex.subscribe_named(t) for t in PAUSED_TARGETS} | {
        ex.topic_named("open-source"), ex.company_named("Moonshot AI"),
        ex.unsubscribe_named("Moonshot AI"), ex.subscribe_named("Anthropic"),
        ex.why_named(LINK), ex.search_named("Tencent"), ex.subscribe_named("Tencent"),
        ex.more_of("latest", 25, topic="pricing"), ex.more_of("topic", 25, slug="pricing"),
        ex.more_of("company", 25, name="Baidu"), ex.search_named("halves Baidu")}


SURFACES = {
    # surface -> (the reply as shown, an example as shown there)
    "console": (format_reply, ex.console),
    "slack": (lambda r: "\n".join(t for _, t in slack_render.all_texts(
        slack_render_reply.reply_message(r)["blocks"])), slack_syntax.spell),
    "discord": (lambda r: _discord_text(discord_render_reply.reply_payload(r)),
                discord_render_reply.example_code),
    "cli": (lambda r: r.spelled(cli_syntax.spell), cli_syntax.spell),
}
# What is left once the examples are taken out must not quote a command: no backtick
# (Discord's are escaped, \`, so they show as typed).
STRAY_BACKTICK = {"console": r"`", "slack": r"`", "discord": r"(?<!\\)`", "cli": r"`"}


def _discord_text(payload: dict) -> str:
    return payload["content"] or payload["embeds"][0].description


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("path", PATHS)
async def test_every_example_in_a_reply_is_spelled_for_the_surface(commands, path, surface):
    reply = await answer(commands, path)
    shown, spell = SURFACES[surface]
    text = shown(reply)
    examples = ex.examples_in(reply.parts)
    assert examples, "each of these paths tells the user what to type"
    for example in examples:
        assert spell(example) in text
        text = text.replace(spell(example), "", 1)
    assert not re.search(STRAY_BACKTICK[surface], text), text


@pytest.mark.parametrize("surface, rows", [
    ("console", ["  `company NAME [LIMIT]` — ", "`feeds add URL [NAME]`",
                 "  `digest daily HH:MM [TIMEZONE]` — "]),
    ("slack", ["  /company NAME [LIMIT] — ", "/ainews feeds add URL [NAME]",
               "  /digest daily HH:MM [TIMEZONE] — ", "(/topics lists them)"]),
    ("discord", ["  `/company name:NAME [limit:LIMIT]` — ", "`/feeds add url:URL [name:NAME]`",
                 "  `/digest mode:daily at:HH:MM [timezone:TIMEZONE]` — ",
                 "  `/topic slug:SLUG` — "]),
])
async def test_help_shows_each_surfaces_own_commands(replies, surface, rows):
    text = SURFACES[surface][0](replies["help"])
    for row in rows:
        assert row in text


async def test_discord_help_and_a_missing_digest_time_come_spelled_for_discord(commands):
    fake = await FakeDiscord().start()
    try:
        async with running_bot(fake, commands):
            help_ = await fake.callback(await fake.command("help"))
            digest = await fake.callback(await fake.command("digest", {"mode": "daily"}))
    finally:
        await fake.close()
    shown = help_["data"]["content"] or help_["data"]["embeds"][0]["description"]
    assert "`/subscribe target:TARGET`" in shown and "`/feeds list`" in shown
    assert digest["data"]["flags"] & 64                     # only the admin sees it
    assert digest["data"]["content"] == ("⚠️ Give the time of day for the digest, e.g. "
                                         "`/digest mode:daily at:08:30 timezone:Europe/Berlin`")


def test_console_shows_what_its_own_parser_takes(commands):
    out = io.StringIO()
    run_console_command(commands, "digest weekly", stream=out)
    assert "`digest daily HH:MM [TIMEZONE]`" in out.getvalue()


@pytest.mark.parametrize("argv, shown, code", [
    (["company", ""], "e.g. `ainews company Alibaba`", 2),        # what to fix
    (["topic", ""], "e.g. `ainews topic pricing` (`ainews topics` lists them)", 2),
    (["search", ""], "e.g. `ainews search qwen pricing`", 2),
    (["company", "Qqqxz"], "`ainews topics` shows the companies", 1),   # nothing there
])
def test_cli_errors_show_cli_commands(monkeypatch, tmp_path, capsys, argv, shown, code):
    for k in list(os.environ):
        if k.startswith(("AINEWS_", "DISCORD_", "SLACK_", "LLM_")):
            monkeypatch.delenv(k)
    monkeypatch.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    Store(tmp_path / "ainews.db").close()   # a lookup on no database says only that
    assert main(argv) == code
    assert shown in capsys.readouterr().err


CORE = ["commands.py", "commands_subs.py", "commands_targets.py", "commands_digest.py", "commands_text.py", "commands_feeds.py",
        "commands_why.py", "commands_limit.py", "commands_complete.py", "replies.py",
        "digest.py"]


@pytest.mark.parametrize("module", CORE)
def test_the_core_writes_no_command_as_text(module):
    """A backtick in a string of the core (not a docstring) is a command in one
    surface's syntax that the others would show wrong: it must be an Example."""
    tree = ast.parse((Path(__file__).parents[1] / "bot" / module).read_text())
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                    ast.AsyncFunctionDef)) and ast.get_docstring(n) is not None}
    quoted = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
              and isinstance(n.value, str) and "`" in n.value and id(n) not in docstrings]
    assert quoted == []


# ---- outside text stays outside text --------------------------------------------------
HOSTILE = "<@123> @everyone `subscribe all` [docs](http://evil.example) {}"


@pytest.mark.parametrize("surface", ["slack", "discord"])
def test_quoted_user_text_never_becomes_an_example_or_a_ping(surface):
    reply = Reply.error(ex.say("no company '{}' — {} shows them", HOSTILE, ex.TOPICS))
    assert ex.examples_in(reply.parts) == [ex.TOPICS]       # the backticked text is text
    text = SURFACES[surface][0](reply)
    if surface == "slack":
        assert "<@" not in text and "@everyone" not in text and "/subscribe all" not in text
    else:
        assert "\\`subscribe all\\`" in text and "<@1" not in text
        assert "@everyone" not in text and "](http" not in text
        assert text.endswith("`/topics` shows them")


def test_a_stored_target_with_a_backtick_is_not_code_on_discord():
    shown = discord_render_reply.example_code(ex.subscribe_named("Odd`Name <@1>"))
    assert not shown.startswith("`") and "<@1" not in shown
    assert discord_render_reply.example_code(ex.subscribe_named("Moonshot AI")) == \
        "`/subscribe target:Moonshot AI`"


def test_say_reads_fields_only_in_its_own_template():
    assert ex.say("a {} b", "{} `x`") == ("a ", "{} `x`", " b")
    with pytest.raises(ValueError):
        ex.say("{} {}", "one")


@pytest.mark.parametrize("surface", SURFACES)
def test_a_replaced_text_is_what_every_surface_shows(surface):
    reply = replace(Reply.error(ex.say("see {}", ex.TOPICS)), text="Nothing to type")
    assert "Nothing to type" in SURFACES[surface][0](reply)
    assert "topics" not in SURFACES[surface][0](reply)
