"""A --db path that runs through a file (`notes.txt/ainews.db`): one line that names
the file in the way, not "[Errno 17] File exists"."""
from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.parametrize("below", ["ainews.db", "sub/ainews.db"])
@pytest.mark.parametrize("argv", [("poll", "--once"), ("run", "--once")])
def test_a_database_path_under_a_file_names_the_file(clean_env, capsys, tmp_path, below,
                                                     argv):
    (tmp_path / "notes.txt").write_text("not a folder")
    (tmp_path / "feeds.toml").write_text("")
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    db = tmp_path / "notes.txt" / below
    assert main(["--db", str(db), *argv]) == 2
    err = capsys.readouterr().err
    assert err == (f"ainews: store: cannot open {db}: {tmp_path / 'notes.txt'} is a file, "
                   "not a folder; give a database path in a folder\n")
