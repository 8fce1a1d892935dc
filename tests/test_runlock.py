"""The run lock (bot/runlock.py): one `ainews run` per database, through a file beside
it that stays when the bot stops (removing it could let two starting bots both lock)."""
from __future__ import annotations

import os

import pytest

from bot.errors import UserError
from bot.runlock import lock_path, run_lock, running_pid


def test_a_stopped_bot_leaves_its_lock_file_empty(tmp_path):
    """The file stays (expected, harmless); it named the pid of a bot long gone, which
    read as if that bot still ran."""
    db = tmp_path / "ainews.db"
    with run_lock(db):
        assert lock_path(db).read_text() == f"{os.getpid()}\n"
        assert running_pid(db) == str(os.getpid())
    assert lock_path(db).exists() and lock_path(db).read_text() == ""
    assert running_pid(db) is None


def test_a_refused_second_run_leaves_the_running_bots_pid(tmp_path):
    db = tmp_path / "ainews.db"
    with run_lock(db):
        with pytest.raises(UserError, match=f"pid {os.getpid()}"):
            with run_lock(db):
                pass
        assert running_pid(db) == str(os.getpid())
    with run_lock(db):                        # free again once the first one stopped
        assert running_pid(db) == str(os.getpid())
