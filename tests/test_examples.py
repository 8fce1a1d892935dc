"""Command examples in replies: every example the chat core can show, spelled for each
surface, is read back by that surface's own parser and reaches the command it names.

- console: Commands.run_text (what run_console_command and Slack's /ainews parse);
- Slack: listeners.plan + run_command, the slash command's text as Slack sends it;
- Discord: the option names, types, ranges and choices of the commands the bot really
  syncs (fake Discord on loopback), then the interaction through discord.py;
- CLI: bot/cli_parser.py's argparse parser."""
from __future__ import annotations

import re
import shlex

import pytest

from bot import cli_syntax, examples as ex
from bot.cli import build_parser
from bot.cli_parser import search_words_last
from bot.commands_limit import split_limit
from bot.commands_text import TextCommands, search_words, user_text
from bot.console import CONSOLE_CALLER
from bot.discord import syntax as discord_syntax
from bot.replies import Caller, Reply
from bot.slack import syntax as slack_syntax
from bot.slack.listeners import SLASH_COMMANDS, plan, run_command
from storage.query import parse as parse_query
from tests.fakes.discord import FakeDiscord, running_bot

SLACK_ADMIN = Caller("slack", "T1", "C1", "U1", is_admin=True)
# Stored subscription targets the paused-subscription line asks to subscribe to again.
TARGETS = ["all", "pricing", "OpenAI", "Moonshot AI"]
# What a topic typed for a company (or back) is pointed to.
NAMED = (*map(ex.topic_named, ["pricing", "open-source"]),
         *map(ex.company_named, ["Alibaba", "Moonshot AI"]),
         *map(ex.unsubscribe_named, ["pricing", "Moonshot AI"]),
         ex.why_named("https://techcrunch.com/2025/01/27/deepseek-r1-is-now-available"))


def _variants() -> list[ex.Example]:
    """Each example as typed: placeholders filled, optional options in and left out."""
    found = [e for base in ex.REGISTRY + tuple(map(ex.subscribe_named, TARGETS)) + NAMED
             for e in (base.concrete(), base.concrete(optional=False))]
    return list(dict.fromkeys(found))


VARIANTS = _variants()
IDS = [e.text for e in VARIANTS]


class Recorder(TextCommands):
    """The core's command methods, recording each call in one form whatever way a
    surface passes its arguments (Slack: "alibaba 3" as one string; Discord: limit=3)."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    def _record(self, method: str, **args) -> Reply:
        self.calls.append((method, {k: _plain(v) for k, v in args.items()}))
        return Reply.message("ok")

    def too_fast(self, caller):
        return None   # never: the pace is the core's (tests/test_commands_throttle.py)

    def company(self, caller, name, limit=None):
        return self._record("company", **dict(zip(("name", "limit"), split_limit(name, limit))))

    def latest(self, caller, limit=None, topic=None, **_):
        return self._record("latest", limit=limit, topic=topic)

    def topic(self, caller, slug, limit=None):
        return self._record("topic", **dict(zip(("slug", "limit"), split_limit(slug, limit))))

    def search(self, caller, query, limit=None):
        return self._record("search", query=query, limit=limit)

    def topics(self, caller):
        return self._record("topics")

    def why(self, caller, link):
        return self._record("why", link=link)

    def help(self, caller):
        return self._record("help")

    def subscriptions(self, caller):
        return self._record("subscriptions")

    def subscribe(self, caller, target):
        return self._record("subscribe", target=target)

    def unsubscribe(self, caller, target):
        return self._record("unsubscribe", target=target)

    def digest(self, caller, mode, at=None, tz=None):
        if at is None and tz is None:        # as the core reads one string
            mode, at, tz = (user_text(mode).split() + ["", None, None])[:3]
        return self._record("digest", mode=mode, at=at, timezone=tz)

    async def feeds(self, caller, action, url=None, name=None):
        if url is None:                      # as the core reads one string
            action, _, rest = user_text(action).partition(" ")
            url, _, name = rest.partition(" ")
        return self._record("feeds", action=action, url=url, name=name)


def _plain(value) -> str | None:
    return None if value is None or value == "" else user_text(value)


def expected(example: ex.Example, options=None) -> tuple[str, dict]:
    """The call the example means; `options`: the ones a surface has (others dropped)."""
    verb, _, sub = example.command.partition(" ")
    args = {a.name: a.value for a in example.args if options is None or a.name in options}
    return verb, {**({"action": sub} if sub else {}), **args}


def assert_called(recorder: Recorder, example: ex.Example, options=None) -> None:
    (method, got), = recorder.calls
    want_method, want = expected(example, options)
    assert method == want_method
    assert {k: v for k, v in got.items() if v is not None} == want


# ---- console --------------------------------------------------------------------------
@pytest.mark.parametrize("example", VARIANTS, ids=IDS)
async def test_console_example_runs_as_shown(example):
    shown = ex.console(example)
    assert shown.startswith("`") and shown.endswith("`")
    recorder = Recorder()
    await recorder.run_text(CONSOLE_CALLER, shown[1:-1])
    assert_called(recorder, example)


# ---- Slack ----------------------------------------------------------------------------
@pytest.mark.parametrize("example", VARIANTS, ids=IDS)
async def test_slack_example_runs_as_shown(example):
    command, _, text = slack_syntax.spell(example).partition(" ")
    assert command in SLASH_COMMANDS
    recorder = Recorder()
    reply = await run_command(recorder, *plan(command, text), SLACK_ADMIN)
    assert reply.text == "ok"
    assert_called(recorder, example)


def test_slack_gives_own_commands_their_own_slash_command():
    assert slack_syntax.spell(ex.SUBSCRIBE_ALL) == "/subscribe all"
    assert slack_syntax.spell(ex.FEEDS_LIST) == "/ainews feeds list"
    assert slack_syntax.spell(ex.HELP) == "/ainews help"


def test_slack_spells_search_and_topic_through_ainews():
    """/search and /topic are Slack's built-ins (search Slack, set the channel topic):
    help that said `/topic SLUG` had users rename their channel's topic."""
    assert slack_syntax.spell(ex.SEARCH_USAGE) == "/ainews search QUERY"
    assert slack_syntax.spell(ex.TOPIC_USAGE) == "/ainews topic SLUG [LIMIT]"
    assert slack_syntax.spell(ex.TOPICS) == "/topics"


# ---- Discord --------------------------------------------------------------------------
@pytest.fixture
async def fake():
    server = await FakeDiscord().start()
    yield server
    await server.close()


def registered(fake: FakeDiscord) -> dict[str, list[dict]]:
    """"company" / "feeds add" -> the options of the command the bot synced."""
    found = {}
    for command in fake.commands["global"]:
        options = command.get("options", [])
        subs = [o for o in options if o["type"] == 1]
        for sub in subs:
            found[f"{command['name']} {sub['name']}"] = sub.get("options", [])
        if not subs:
            found[command["name"]] = options
    return found


def parse_discord(shown: str, commands: dict[str, list[dict]]) -> tuple[str, dict]:
    """`/digest mode:daily at:08:30` -> ("digest", {...}), checked as Discord would:
    known options only, each once, required ones given, choices and ranges kept."""
    assert shown.startswith("/")
    words = shown[1:].split(" ")
    path = " ".join(words[:2]) if " ".join(words[:2]) in commands else words[0]
    assert path in commands, f"no command /{path}"
    spec = {o["name"]: o for o in commands[path]}
    rest = shown[1 + len(path):]
    pieces = re.split(rf" ({'|'.join(map(re.escape, spec)) or '(?!)'}):", rest)
    assert pieces[0] == "", f"{rest!r}: text that is no option of /{path}"
    values = dict(zip(pieces[1::2], pieces[2::2]))
    assert len(values) == len(pieces[1::2]), "an option given twice"
    assert {n for n, o in spec.items() if o.get("required")} <= set(values)
    return path, {name: _option_value(spec[name], value) for name, value in values.items()}


def _option_value(option: dict, value: str):
    if option.get("choices"):
        assert value in [c["value"] for c in option["choices"]]
    if option["type"] != 4:          # 4: integer
        return value
    number = int(value)
    assert option.get("min_value", number) <= number <= option.get("max_value", number)
    return number


@pytest.mark.parametrize("example", VARIANTS, ids=IDS)
async def test_discord_example_runs_as_shown(fake, example):
    recorder = Recorder()
    async with running_bot(fake, recorder):
        commands = registered(fake)
        path, values = parse_discord(discord_syntax.spell(example), commands)
        name, _, sub = path.partition(" ")
        # As the bot's owner, whom every command answers (/feeds only them).
        await fake.command(name, values, subcommand=sub or None, user_id=fake.owner_id)
        await fake.wait_for(lambda: recorder.calls)
    assert_called(recorder, example, options={o["name"] for o in commands[path]})


async def test_discord_spelling_knows_every_synced_command_and_option(fake):
    async with running_bot(fake, Recorder()):
        synced = {path: tuple(o["name"] for o in options)
                  for path, options in registered(fake).items()}
    assert {k: set(v) for k, v in synced.items()} == \
        {k: set(v) for k, v in discord_syntax.OPTIONS.items()}


def test_discord_names_each_option():
    assert discord_syntax.spell(ex.DIGEST_EG) == \
        "/digest mode:daily at:08:30 timezone:Europe/Berlin"
    assert discord_syntax.spell(ex.FEEDS_ADD_USAGE) == "/feeds add url:URL [name:NAME]"
    assert discord_syntax.spell(ex.TOPIC_USAGE) == "/topic slug:SLUG"   # no limit option


# ---- CLI ------------------------------------------------------------------------------
CLI_VARIANTS = [e for e in VARIANTS if e.command in cli_syntax.ARGS]


@pytest.mark.parametrize("example", CLI_VARIANTS, ids=[e.text for e in CLI_VARIANTS])
def test_cli_example_parses_as_shown(example):
    shown = cli_syntax.spell(example)
    assert shown.startswith("`ainews ") and shown.endswith("`")
    args = build_parser().parse_args(search_words_last(shlex.split(shown[1:-1])[1:]))
    assert " ".join(filter(None, (args.cmd, getattr(args, "action", None)))) == \
        example.command
    for arg in example.args:
        got = getattr(args, arg.name)
        got = search_words(got) if arg.name == "query" else got   # as `ainews search` reads it
        assert (" ".join(got) if isinstance(got, list) else str(got)) == arg.value


SEARCHES = [e for e in CLI_VARIANTS if e.command == "search"] + [
    ex.search_named(q) for q in ('alibaba revenue -"open source"', 'alibaba "qwen',
                                 "nvidia's china export", "openai's revenue -microsoft",
                                 '"nvidia\'s chips" -"tom\'s hardware"', "“open source” -meta",
                                 'qwen "pricing" -"cut', 'cost $5 `date` "a\\b"')]


@pytest.mark.parametrize("example", SEARCHES, ids=[e.text for e in SEARCHES])
def test_a_cli_search_example_searches_what_it_shows(example):
    """`ainews search 'openai -microsoft'`, the help's example quoted whole, was one
    argument, which the command line reads as a phrase (a shell user's quotes): it
    searched for "openai microsoft" side by side and left nothing out. So was a search
    with a possessive (`nvidia's china export`): the hint to drop a phrase's quotes
    showed a command that searched the phrase again."""
    typed = search_words_last(shlex.split(cli_syntax.spell(example)[1:-1])[1:])
    args = build_parser().parse_args(typed)
    assert parse_query(search_words(args.query)) == parse_query(example.args[0].value)


@pytest.mark.parametrize("example", [e for e in ex.REGISTRY if e.command not in cli_syntax.ARGS],
                         ids=lambda e: e.text)
def test_chat_only_commands_are_not_cli_commands(example):
    """Spelled as chat commands on the CLI: right only while the CLI has no such
    command (if it gets one, cli_syntax.ARGS must say how it takes its options)."""
    sub = build_parser()._subparsers._group_actions[0].choices
    assert example.verb not in sub
