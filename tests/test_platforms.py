"""The platform registry (bot/platforms.py): commands written once, each platform's facts
(its admins in its own words, its limits, its links) declared by its own package and
looked up by Caller.platform, so a platform added later needs no change to the core."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot import platforms
from bot.platforms import Platform
from bot.replies import Caller
from feeds.models import Subscription
from tests.classify_kit import gazetteer_classifier
from tests.commands_kit import SEED, seeded_store, core_commands
from tests.fakes.slack import make_brief


classifier = pytest.fixture(gazetteer_classifier, name="classifier", scope="module")
store = pytest.fixture(seeded_store, name="store")
commands = pytest.fixture(core_commands, name="commands")

_EVENT_LINK = re.compile(r"^https://matrix\.to/#/![^/]+/(\$[\w-]+)$")
_PAUSED = re.compile(r"^matrix: room \S+ refused: (.+)$")
MATRIX = Platform("matrix", title="Matrix", workspace="space",
                  channel_admins="room moderators (power level 50 or more)",
                  feed_admins="the homeserver's admins", most_shown=8,
                  message_id=lambda link: (m := _EVENT_LINK.match(link)) and m.group(1),
                  pause_reason=lambda reason: (m := _PAUSED.match(reason)) and m.group(1))
MEMBER = Caller("matrix", "example.org", "!room", "@u:example.org")
ADMIN = replace(MEMBER, is_admin=True)


@pytest.fixture
def matrix():
    """A platform the core has never heard of, registered as its package would."""
    yield platforms.register(MATRIX)
    del platforms.registry()[MATRIX.name]


async def test_a_new_platform_says_who_its_admins_are_in_its_own_words(commands, matrix):
    assert commands.subscribe(MEMBER, "all").text == (
        "only room moderators (power level 50 or more) can change what this channel gets; "
        "ask one of them")
    assert commands.digest(MEMBER, "off").text == commands.subscribe(MEMBER, "all").text
    assert (await commands.feeds(MEMBER, "list")).text == (
        "only the homeserver's admins can manage the bot's feeds; ask one of them")
    assert commands.help(MEMBER).text.endswith(
        "\nAdmins here: room moderators (power level 50 or more).")


async def test_a_platform_nobody_registered_gets_the_neutral_words(commands):
    caller = replace(MEMBER, platform="irc")
    assert commands.subscribe(caller, "all").text == (
        "only channel admins can change what this channel gets")
    assert (await commands.feeds(caller, "list")).text == (
        "only admins can manage the bot's feeds")
    assert "Admins here" not in commands.help(caller).text


def test_a_new_platform_states_and_keeps_its_own_limit(commands, matrix):
    """Help states the most its replies show; a refusal names the same range and why,
    in the platform's name; a larger count is still taken up to a chat answer's 25."""
    assert "(default 5, at most 8)." in commands.help(MEMBER).text
    assert commands.latest(MEMBER, 26).text == (
        "limit 26 is out of range: give a whole number from 1 to 8 (Matrix shows 8 at a "
        "time), e.g. `latest 5`")
    assert commands.latest(MEMBER, 25).kind == "briefs"
    console = replace(MEMBER, platform="console")
    assert "at most 500)" in commands.help(console).text
    assert commands.latest(console, 500).kind == "briefs"


def test_a_new_platforms_message_link_finds_its_post(commands, matrix):
    """`why` takes a post's own link as the platform's users copy it."""
    store, now, brief = commands.store, commands.clock(), make_brief(id="seed")
    store.enqueue_post(cluster_id="seed", brief=brief, platform="matrix",
                       workspace=MEMBER.workspace, channel=MEMBER.channel, held=False, now=now)
    store.record_sent(1, "$event1", now, shown=brief)
    text = commands.why(MEMBER, "https://matrix.to/#/!room:example.org/$event1").text
    assert text.startswith(SEED) and "\nThis channel: posted " in text, text


def test_a_new_platform_names_its_own_workspace(commands, matrix):
    """`why` counts a workspace's other channels in the platform's word for it (Discord:
    a server)."""
    assert commands.why(MEMBER, "seed").text.splitlines()[-1] == (
        "Not posted here: no channel in this space follows its companies or topics (or "
        "its post is not due yet).")


def test_a_new_platform_tells_its_members_why_their_channel_is_paused(commands, matrix):
    """Its adapter's log line ("matrix: room ... refused: ...") read as its members
    read it, by the platform's own traits."""
    store, now = commands.store, commands.clock()
    store.add_subscription(Subscription("matrix", MEMBER.workspace, MEMBER.channel, "all",
                                        "all"), now=now)
    store.pause_channel("matrix", MEMBER.channel,
                        "matrix: room !room:example.org refused: the bot was kicked")
    assert "\n\nPAUSED: the bot was kicked. Nothing is posted here" in (
        commands.subscriptions(MEMBER).text)


def test_an_operators_platform_gets_the_classifiers_own_terms(commands, monkeypatch):
    """The console's `why` is the operator's: the verdict in the classifier's terms and
    every channel's post. Any platform registered as the operator's reads the same."""
    monkeypatch.setitem(platforms.registry(), "shell", Platform("shell", operator=True))
    text = commands.why(replace(MEMBER, platform="shell"), "seed").text
    assert text == commands.why(replace(MEMBER, platform="console"), "seed").text
    assert "\nverdict: strategy\n" in text, text
    assert "verdict:" not in commands.why(MEMBER, "seed").text


# ---- the dependency rule (docs/architecture.md) -----------------------------------------
ROOT = Path(__file__).parents[1]
CHAT_LIBRARIES = ("discord", "slack_bolt", "slack_sdk")
PLATFORM_PACKAGES = ("bot.discord", "bot.slack")
# Where bot's own modules start a platform (its library loads there, when it runs).
WIRING = {"service_platforms.py", "cli_extra.py"}


def _imported(path: Path) -> list[str]:
    """Every module `path` imports, at its top or in a function, absolute names."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def _under(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("package", ["feeds", "storage"])
def test_feeds_and_storage_import_neither_bot_nor_a_chat_library(package):
    offenders = [f"{p.relative_to(ROOT)}: {n}" for p in sorted((ROOT / package).rglob("*.py"))
                 for n in _imported(p) if _under(n, ("bot",) + CHAT_LIBRARIES)]
    assert offenders == []


def test_the_core_reaches_a_platform_package_only_through_the_registry():
    """Commands are written once: bot's own modules name no platform package (its facts
    come from bot/platforms.py's registry, which loads each by name), except where a
    platform is started."""
    offenders = []
    for path in sorted((ROOT / "bot").glob("*.py")):
        if path.name in WIRING:
            continue
        offenders += [f"{path.name}: {n}" for n in _imported(path)
                      if _under(n, PLATFORM_PACKAGES + CHAT_LIBRARIES)]
        if path.name != "platforms.py":     # nor by name, as why_chat's importlib did
            offenders += [f"{path.name}: {ast.unparse(n)}" for n in _named_imports(path)]
    assert offenders == []


def _named_imports(path: Path) -> list[ast.AST]:
    """Modules imported by a name in a string: a platform package's, or one made up at
    run time (`import_module(f"bot.{platform}")`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _under(
                node.value, PLATFORM_PACKAGES):
            found.append(node)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                node.func, "id", "")) in ("import_module", "__import__")
              and not all(isinstance(a, ast.Constant) for a in node.args)):
            found.append(node)
    return found


def test_every_platforms_traits_load_no_chat_library():
    """The core reads the traits whatever platform runs (the console's too): its
    library loads only when the platform starts, so `ainews --help` stays fast."""
    code = ("import sys; from bot.platforms import registry; import bot.commands; "
            "names = sorted(registry()); "
            f"print(names, [m for m in sys.modules if m.split('.')[0] in {CHAT_LIBRARIES!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert out.stdout.strip() == "['console', 'discord', 'slack'] []", out.stderr
