"""The commands the user-facing docs show are the ones the code registers, with the same
options: README's `ainews` table, docs/discord.md's slash-command table and the Slack
commands docs/slack.md names."""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from bot.cli import build_parser
from bot.slack.syntax import SLASH_COMMANDS

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "data" / "discord_commands.json"   # = the synced schema
MANAGE_CHANNELS, MANAGE_SERVER = 1 << 4, 1 << 5


def _section(path: Path, title: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def test_readme_command_table_is_the_command_line():
    commands = _subparsers(build_parser())
    rows = [line for line in _section(ROOT / "README.md", "Commands").splitlines()
            if line.startswith("| `ainews ")]
    shown = set()
    for row in rows:
        for usage in re.findall(r"`(ainews [^`]+)`", row.split(" | ")[0]):
            words = usage.split()[1:]
            name = words[0]
            assert name in commands, usage
            shown.add(name)
            parser = commands[name]
            if name == "feeds":     # `ainews feeds list|add|remove|check|resume`
                assert set(words[1].replace("\\", "").split("|")) == set(_subparsers(parser)), usage
                continue
            for flag in re.findall(r"--[a-z-]+", usage):
                assert flag in _flags(parser), (usage, flag)
    assert shown == set(commands), "README's table and `ainews --help` list other commands"


def _discord_rows() -> dict[str, tuple[str, str]]:
    """'/feeds add url [name]' -> ('feeds add', 'url [name]', who) from the table."""
    rows = {}
    for line in _section(ROOT / "docs" / "discord.md", "Commands").splitlines():
        if not line.startswith("| `/"):
            continue
        cell, who = line.split(" | ")[0].lstrip("| "), line.split(" | ")[1]
        for usage in re.findall(r"`/([^`]+)`", cell):
            words = usage.split()
            subcommand = len(words) > 1 and words[0] == "feeds"
            name = " ".join(words[:2]) if subcommand else words[0]
            rows[name] = (" ".join(words[2:] if subcommand else words[1:]), who)
    return rows


def _options(schema: list[dict]) -> str:
    return " ".join(o["name"] if o.get("required") else f"[{o['name']}]" for o in schema)


def test_discord_md_command_table_is_the_synced_schema():
    expected = {}
    for command in json.loads(SNAPSHOT.read_text(encoding="utf-8")):
        perms = int(command.get("default_member_permissions") or 0)
        who = {0: "everyone", MANAGE_CHANNELS: "Manage Channels",
               MANAGE_SERVER: "Manage Server"}[perms]
        subs = [o for o in command.get("options", []) if o["type"] == 1]
        if subs:
            for sub in subs:
                expected[f"{command['name']} {sub['name']}"] = (
                    _options(sub.get("options", [])), who)
        else:
            expected[command["name"]] = (_options(command.get("options", [])), who)
    assert _discord_rows() == expected


def test_slack_md_names_the_commands_the_bot_listens_to():
    intro = (ROOT / "docs" / "slack.md").read_text(encoding="utf-8").split("\n## ")[0]
    named = {f"/{c}" for c in re.findall(r"`/(\w+)", intro)}
    builtin = {"/search", "/topic"}     # Slack's own: `/ainews search`, `/ainews topic`
    assert named - builtin == set(SLASH_COMMANDS)
