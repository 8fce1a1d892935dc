""".env.example, what a new operator copies to .env: it names every setting the code
reads and no other, each under a comment, and copied as it stands it changes nothing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / ".env.example"
SETTING = re.compile(r"([A-Z][A-Z0-9_]*)=(.*)")
# How code reads the environment; only bot/config.py may (its docstring says so).
ENV_READ = re.compile(r"\bos\.environ\b|\bgetenv\(|\benviron\[|\bdotenv_values\(|\bload_dotenv\(")


def example_lines() -> list[str]:
    return EXAMPLE.read_text(encoding="utf-8").splitlines()


def example_names() -> list[str]:
    return [m[1] for line in example_lines() if (m := SETTING.fullmatch(line))]


def test_env_example_names_every_setting_the_code_reads_and_no_other():
    names = example_names()
    assert len(names) == len(set(names)), "a setting is listed twice"
    read = set(config._FIELDS) | set(config.PROXY_SETTINGS)
    assert set(names) - read == set(), "listed but never read"
    assert read - set(names) == set(), "read but missing from .env.example"


@pytest.mark.parametrize("package", ["bot", "feeds", "storage"])
def test_only_the_config_module_reads_the_environment(package):
    readers = [str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py")
               if ENV_READ.search(p.read_text(encoding="utf-8"))]
    assert readers == (["bot/config.py"] if package == "bot" else [])


def test_every_setting_in_env_example_sits_under_a_comment():
    """Settings that belong together may share one comment; a blank line ends a group."""
    commented = False
    for line in example_lines():
        if not line.strip():
            commented = False
        elif line.startswith("#"):
            commented = True
        else:
            assert SETTING.fullmatch(line) and commented, line


def test_env_example_copied_as_it_stands_gives_the_defaults(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert config.load_settings(environ={}, dotenv_path=dotenv) == config.Settings()


def test_env_example_reads_the_same_to_docker_env_file():
    """`docker run --env-file` takes values literally: quotes and trailing comments would
    become part of the value there, though python-dotenv strips them."""
    for line in example_lines():
        if m := SETTING.fullmatch(line):
            assert not re.search(r"""["'#]|\s$""", m[2]), line


def _groups() -> list[tuple[str, list[str]]]:
    """(the comment above, the settings under it), group by group."""
    groups, comment, names = [], [], []
    for line in example_lines() + [""]:
        if not line.strip() or (line.startswith("#") and names):
            if names:
                groups.append((" ".join(comment), names))
            comment, names = [], []
        if line.startswith("#"):
            comment.append(line.lstrip("# "))
        elif m := SETTING.fullmatch(line):
            names.append(m[1])
    return groups


def test_the_defaults_and_ranges_the_comments_state_are_the_codes():
    """A comment saying `(default X)` or `A to B` is what an operator goes by: it must be
    the value an empty setting gives and the range the setting takes."""
    default = config.Settings()
    checked = 0
    for comment, names in _groups():
        for stated in re.findall(r"\(default ([^\s;:)][^\s;)]*)", comment):
            for name in names:
                attr = config._FIELDS[name][0]
                assert str(getattr(default, attr)) in (stated, stated.removeprefix("./")), name
                checked += 1
        for low, high in re.findall(r"\b(\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)\b", comment):
            for name in names:
                for ok in (low, high):
                    config.load_settings(environ={name: ok}, dotenv_path=None)
                for bad in (float(low) / 2 or -1, float(high) * 2):
                    with pytest.raises(config.ConfigError):
                        config.load_settings(environ={name: str(bad)}, dotenv_path=None)
                checked += 1
    assert checked >= 3     # AINEWS_DB, AINEWS_POLL_MINUTES, SLACK_API_URL at least


# Settings that refuse a value below a floor (0 and `unlimited` aside, where they lift the
# limit): AINEWS_KEEP_DAYS=2 and LLM_MAX_TOKENS=100 stopped the bot with nothing in
# .env.example saying so.
FLOORS = {"AINEWS_KEEP_DAYS": "3", "LLM_MAX_TOKENS": "256", "AINEWS_CHANNEL_HOURLY_CAP": "1",
          "AINEWS_CHANNELS_PER_SERVER": "1",
          "AINEWS_CONCURRENCY": "1", "AINEWS_PER_HOST": "1", "LLM_TIMEOUT": "0.1",
          "LLM_CONCURRENCY": "1", "AINEWS_POLL_MINUTES": "0.001"}


def test_the_comments_state_each_settings_lowest_value():
    """`N or more` or `N to M` in the setting's comment, N accepted and below it refused."""
    stated = {}
    for comment, names in _groups():
        for name in names:
            floors = re.findall(r"\b(\d+(?:\.\d+)?) (?:or more|to \d)", comment)
            stated[name] = floors[0] if len(floors) == 1 else floors
    assert {name: stated[name] for name in FLOORS} == FLOORS
    for name, low in FLOORS.items():
        config.load_settings(environ={name: low}, dotenv_path=None)
        below = str(int(low) - 1) if low.isdigit() else str(float(low) / 2)
        with pytest.raises(config.ConfigError):
            config.load_settings(environ={name: below}, dotenv_path=None)


@pytest.mark.parametrize("value, level", [("warn", "WARNING"), ("WARN", "WARNING"),
                                          ("warning", "WARNING"), (" debug ", "DEBUG")])
def test_log_level_takes_pythons_names_in_any_case(value, level):
    # AINEWS_LOG_LEVEL=warn, which Python's logging itself takes, stopped the bot.
    settings = config.load_settings(environ={"AINEWS_LOG_LEVEL": value}, dotenv_path=None)
    assert settings.log_level == level
    comment = next(line for line in example_lines() if "WARNING" in line)
    assert "WARN)" in comment and "lower case" in comment
