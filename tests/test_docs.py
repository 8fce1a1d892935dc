"""The commands the user-facing docs show are the ones the code registers, with the same
options: README's `ainews` table, docs/discord.md's slash-command table, the Slack
commands docs/slack.md names and the manifest's `/ainews` hint. Every setting is
described somewhere a reader looks; docs/architecture.md names every module and the
gazetteer's counts as they are; test modules share helpers through kits."""
from __future__ import annotations

import argparse
import json
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from bot import config
from bot.cli import build_parser
from bot.slack.syntax import SLASH_COMMANDS
from feeds.classify import Classifier

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
        if command["name"] == "feeds":   # every server's feeds: run by the owner only
            who = f"the bot's owner (shown to {who})"
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


def test_slack_manifest_hints_every_word_ainews_takes():
    """What Slack shows while typing `/ainews`: a word missing there (why) is not found."""
    from bot.slack.listeners import VIA_AINEWS
    manifest = (ROOT / "slack-manifest.yml").read_text(encoding="utf-8")
    hint = re.search(r"- command: /ainews\n(?:.*\n)*?\s+usage_hint: \"([^\"]+)\"", manifest)[1]
    assert {part.split()[0] for part in hint.split(" | ")} == {"help", "feeds", *VIA_AINEWS}


def test_slack_manifest_hint_is_the_helps_ainews_commands():
    """The hint had drifted from the help (no `feeds remove`, no `feeds resume`): it is
    made from the help's examples (bot/slack/syntax.py), the manifest keeps a copy."""
    from bot.commands import HELP
    from bot.slack.syntax import ainews_hint
    manifest = (ROOT / "slack-manifest.yml").read_text(encoding="utf-8")
    hint = re.search(r"- command: /ainews\n(?:.*\n)*?\s+usage_hint: \"([^\"]+)\"", manifest)[1]
    assert hint == ainews_hint(HELP)
    # Both find a feed by its name too: the hint said URL only, so nobody typed a name.
    assert "feeds remove URL|NAME" in hint and "feeds resume URL|NAME" in hint


def _platform_page(name: str) -> str | None:
    if name.startswith(("DISCORD_", "AINEWS_DISCORD_")):
        return "discord.md"
    if name.startswith("SLACK_") or name == "AINEWS_HTTP_PORT":
        return "slack.md"
    return None


def test_every_setting_is_described_in_the_readme_or_its_platforms_page():
    """.env.example lists them all; a setting the docs never name (AINEWS_POLL_MINUTES)
    is one an operator does not know to look for."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in [*config._FIELDS, *config.PROXY_SETTINGS]:
        page = _platform_page(name)
        text = _section(ROOT / "docs" / page, "Settings") if page else readme
        assert re.search(rf"`{name}[`=]", text), (name, page or "README.md")


def _architecture_names() -> set[str]:
    return set(re.findall(r"`([\w*./-]+\.py)`", (ROOT / "docs" / "architecture.md")
                          .read_text(encoding="utf-8")))


@pytest.mark.parametrize("package", ["feeds", "storage", "bot", "tests/fakes"])
def test_architecture_names_every_module(package):
    named = _architecture_names()
    missing = [str(p.relative_to(ROOT)) for p in sorted((ROOT / package).rglob("*.py"))
               if p.name != "__init__.py" and not any(
                   fnmatch(p.name, n) or p.as_posix().endswith("/" + n) for n in named)]
    assert missing == []


def test_architecture_counts_the_gazetteers_companies_and_topics():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    companies, topics = re.search(r"companies \((\d+), bilingual\), topics \((\d+) default", text).groups()
    clf = Classifier()
    assert (int(companies), int(topics)) == (len(clf.company_names()), len(clf.topic_slugs()))


def test_test_modules_share_helpers_through_kits_not_through_each_other():
    """docs/architecture.md: what a subject's test files share is in tests/*_kit.py.
    Eleven modules imported another test module's helpers instead, which couples them and
    runs that module's top level (and its slow data) in every importer."""
    import ast
    offenders = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names
                          if re.match(r"(tests\.)?test_", n.removeprefix("."))]
    assert offenders == []


def test_readme_names_every_dependency_pyproject_installs():
    """README's Dependencies said nothing of hypothesis, which `pip install -e .[dev]`
    installs and the property tests need."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    section = _section(ROOT / "README.md", "Dependencies")
    runtime, dev = section.split("\nDev:")

    def names(specs: list[str]) -> set[str]:
        return {re.match(r"[A-Za-z0-9_.-]+", spec)[0].lower() for spec in specs}
    assert names(project["dependencies"]) - set(re.findall(r"\*\*([^*]+)\*\*",
                                                            runtime.lower())) == set()
    assert names(project["optional-dependencies"]["dev"]) - set(
        re.findall(r"[a-z][a-z0-9_.-]+", dev.lower())) == set()


def test_readme_restores_a_backup_only_through_ainews_restore():
    """README offered `sqlite3 data/ainews.db ".restore ainews-backup.db"` beside
    `ainews restore`: that path records no restored_at (Discord then posts again what the
    channel shows), takes a newer ainews's backup, and runs under a live bot."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    offers = [line for line in readme.splitlines() if '".restore' in line]
    warns = "sqlite3's `.restore`" in readme
    assert offers == [] and warns, offers
