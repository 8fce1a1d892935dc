"""Usage errors of `ainews`: a missing command shows the commands there are, and a
missing argument is named honestly (not an optional one beside it)."""
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


def test_subscriptions_remove_without_a_channel_asks_for_the_channel_only(capsys):
    # It said "required: channel, target", though the target is optional.
    with pytest.raises(SystemExit) as stop:
        main(["subscriptions", "remove", "discord"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.strip().endswith("the following arguments are required: channel")
