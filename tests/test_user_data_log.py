"""AINEWS_USER_DATA (the operator's companies and topics): `ainews run` names the file
at start-up; a one-shot lookup loads it without a log line on every command."""
from __future__ import annotations

import logging

import pytest

from bot.cli import main

LOADED = "classify: loaded"


@pytest.fixture
def env(clean_env, tmp_path, caplog):
    (tmp_path / "mine.toml").write_text('[companies.Zhipu]\naliases = ["zhipu ai"]\n')
    (tmp_path / "feeds.toml").write_text('[[feed]]\nname = "W"\nurl = "http://127.0.0.1:9/rss"\n')
    clean_env.setenv("AINEWS_USER_DATA", str(tmp_path / "mine.toml"))
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    caplog.set_level(logging.INFO)
    return clean_env


def _loaded(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.INFO and r.getMessage().startswith(LOADED)]


def test_a_lookup_loads_the_file_quietly(env, caplog, capsys):
    # Every `ainews company x` began with "INFO classify: loaded mine.toml (...)".
    assert main(["poll", "--once"]) == 0
    caplog.clear()
    assert main(["company", "zhipu"]) == 1      # known from the file, no story yet
    assert "No stories about Zhipu" in capsys.readouterr().out and _loaded(caplog) == []


def test_the_running_bot_names_the_file_at_start_up(env, caplog, tmp_path):
    assert main(["run", "--once"]) == 0
    [line] = _loaded(caplog)
    assert line.startswith(f"{LOADED} {tmp_path / 'mine.toml'} (")
