"""`ainews brief` given nothing to read: one line that says what it takes."""
from __future__ import annotations

import io

import pytest

from bot.cli import main


@pytest.mark.parametrize("source", ["", "  "])
def test_brief_of_an_empty_argument_says_what_it_takes(clean_env, capsys, source):
    # `ainews brief ""` (an unset shell variable) said "cannot read : Is a directory".
    assert main(["brief", source]) == 2
    err = capsys.readouterr().err
    assert "directory" not in err and err.count("\n") == 1
    assert "give a feed or text file" in err and "`ainews brief story.txt`" in err


@pytest.mark.parametrize("piped", [b"", b" \n\n"])
def test_brief_of_an_empty_stdin_says_no_input_came(clean_env, capsys, monkeypatch, piped):
    """`ainews brief -` with nothing piped said "found no story in -"."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(piped)))
    assert main(["brief", "-"]) == 2
    assert capsys.readouterr().err == ("ainews: brief: no input on stdin: pipe a story in, "
                                       "e.g. `ainews brief - < story.txt`\n")


def test_brief_of_an_empty_file_says_it_is_empty(clean_env, capsys, tmp_path):
    (tmp_path / "story.txt").write_text("")
    assert main(["brief", str(tmp_path / "story.txt")]) == 2
    assert capsys.readouterr().err == f"ainews: brief: {tmp_path / 'story.txt'} is empty\n"
