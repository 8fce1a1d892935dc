"""`ainews brief` given nothing to read: one line that says what it takes."""
from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.parametrize("source", ["", "  "])
def test_brief_of_an_empty_argument_says_what_it_takes(clean_env, capsys, source):
    # `ainews brief ""` (an unset shell variable) said "cannot read : Is a directory".
    assert main(["brief", source]) == 2
    err = capsys.readouterr().err
    assert "directory" not in err and err.count("\n") == 1
    assert "give a feed or text file" in err and "`ainews brief story.txt`" in err
