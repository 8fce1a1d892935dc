"""Usage errors of `ainews`: a missing command shows the commands there are."""
from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.parametrize("argv, listed", [
    ([], ["latest", "company", "feeds", "subscriptions", "discord-invite"]),
    (["feeds"], ["list", "add", "remove", "check", "resume"]),
])
def test_a_missing_command_prints_the_list_of_commands(capsys, argv, listed):
    # "error: the following arguments are required: COMMAND" named none of them.
    assert main(argv) == 2
    err = capsys.readouterr().err
    commands = {line.split()[0] for line in err.splitlines() if line.startswith("    ")}
    assert set(listed) <= commands
    assert "arguments are required" not in err

