"""How often chat users may run commands (bot/commands_throttle.py): five at once per
user, then one every 2 s; thirty per 10 s per server or workspace; never the console.
Through the real adapters: test_commands_chat.py."""
from __future__ import annotations

import io
import logging
from dataclasses import replace

import pytest

from bot import platforms
from bot.commands import Commands
from bot.commands_throttle import SWEEP_EVERY
from bot.config import Settings
from bot.console import CONSOLE_CALLER
from bot.platforms import Platform
from bot.replies import DM
from tests.classify_kit import gazetteer_classifier
from tests.commands_kit import MEMBER, seeded_store


classifier = pytest.fixture(gazetteer_classifier, name="classifier", scope="module")
store = pytest.fixture(seeded_store, name="store")


@pytest.fixture
def commands(store, classifier, clock):
    return Commands(store, classifier, settings=Settings(), clock=clock,
                    monotonic=clock.monotonic)


def quick(commands, caller, n: int) -> list:
    """`n` commands at one instant: the too_fast answers (None: let through)."""
    return [commands.too_fast(caller) for _ in range(n)]


def test_the_sixth_quick_command_is_refused_and_another_user_is_served(commands):
    assert quick(commands, MEMBER, 5) == [None] * 5
    slow = commands.too_fast(MEMBER)
    assert slow.kind == "error" and slow.ephemeral
    assert slow.text == "you're going fast: try again in 2 s"
    assert commands.too_fast(replace(MEMBER, user="u3")) is None


def test_after_a_pause_the_user_is_served_again(commands, clock):
    quick(commands, MEMBER, 5)
    clock.advance(1)
    assert commands.too_fast(MEMBER).text == "you're going fast: try again in 1 s"
    clock.advance(1)
    assert commands.too_fast(MEMBER) is None     # one every 2 s once the five are spent
    assert commands.too_fast(MEMBER) is not None
    clock.advance(10)
    assert quick(commands, MEMBER, 5) == [None] * 5


@pytest.mark.parametrize("platform, place", [("discord", "server"), ("slack", "workspace"),
                                             ("matrix", "space")])
def test_one_server_can_not_take_more_than_thirty_in_ten_seconds(commands, clock, platform,
                                                                 place, monkeypatch):
    # A platform registered later names its own workspace (it read "this workspace").
    monkeypatch.setitem(platforms.registry(), "matrix", Platform("matrix", workspace="space"))
    members = [replace(MEMBER, platform=platform, user=f"m{i}") for i in range(31)]
    assert [commands.too_fast(m) for m in members[:30]] == [None] * 30
    slow = commands.too_fast(members[30])
    assert slow.text == f"this {place} is sending many commands at once: try again in 1 s"
    assert commands.too_fast(replace(members[30], workspace="g2")) is None
    clock.advance(1)
    assert quick(commands, members[30], 3) == [None, None, None]


def test_a_refusal_by_the_server_spends_none_of_the_users_commands(commands, clock):
    for i in range(30):
        commands.too_fast(replace(MEMBER, user=f"m{i}"))
    assert all(quick(commands, MEMBER, 10))
    clock.advance(1)    # 3 for the server again; MEMBER has all 5 of theirs
    assert quick(commands, MEMBER, 3) == [None] * 3


def test_direct_messages_count_per_user_not_as_one_server(commands):
    """All Discord DMs have the workspace DM: as one server, 30 users' DMs would have
    shut out every other DM."""
    for i in range(40):
        assert commands.too_fast(replace(MEMBER, workspace=DM, user=f"d{i}")) is None


@pytest.mark.parametrize("platform", ["console", "shell"])
def test_the_operators_entry_is_never_throttled(commands, monkeypatch, platform):
    # Any platform registered as the operator's, as the console is (it was held back).
    monkeypatch.setitem(platforms.registry(), "shell", Platform("shell", operator=True))
    caller = replace(CONSOLE_CALLER, platform=platform)
    assert quick(commands, caller, 100) == [None] * 100


def test_the_console_chat_answers_every_line_of_a_script(store, classifier, clock, capsys):
    """`ainews chat` is the operator's: a script piping in many commands is answered in
    full (its monotonic clock never moves here)."""
    from bot.cli_chat import session

    class App:
        settings = Settings()     # no chat tokens: the console is on
        commands = Commands(store, classifier, settings=settings, clock=clock,
                            monotonic=clock.monotonic)

    App.store = store
    assert session(App(), io.StringIO("latest 1\n" * 12), interactive=False) == 0
    out = capsys.readouterr()
    assert out.out.count("Latest AI strategy news") == 12 and "going fast" not in out.err


def test_idle_buckets_are_forgotten(commands, clock):
    for i in range(50):
        commands.too_fast(replace(MEMBER, user=f"m{i}", workspace=f"g{i}"))
    assert len(commands.throttle.users.held) == 50
    clock.advance(SWEEP_EVERY)
    commands.too_fast(MEMBER)
    assert len(commands.throttle.users.held) == len(commands.throttle.places.held) == 1


def test_a_flood_is_logged_once_a_minute_at_info(commands, clock, caplog):
    caplog.set_level(logging.DEBUG, logger="ainews.commands")
    quick(commands, MEMBER, 5 + 20)
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1 and len(caplog.records) == 20
    assert infos[0].getMessage().startswith("commands: discord user u2 is going fast")
    clock.advance(59)
    quick(commands, MEMBER, 20)
    assert len([r for r in caplog.records if r.levelno == logging.INFO]) == 1
    clock.advance(1)
    quick(commands, MEMBER, 20)
    assert len([r for r in caplog.records if r.levelno == logging.INFO]) == 2
