"""`ainews --help` says what the commands do, including what they leave alone."""
from __future__ import annotations

import pytest

from bot.cli import main


def _help(capsys, *argv) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_poll_help_says_backed_off_feeds_are_not_polled(capsys):
    # It said "one pass over all active feeds", and then polled none of the failing ones.
    text = _help(capsys)
    assert "all active feeds" not in text
    assert "waiting out a failure's backoff are named, not polled" in text


def test_feeds_resume_help_says_it_retries_a_failing_feed_too(capsys):
    # The way to poll a feed now instead of after its backoff, which no help told.
    text = _help(capsys, "feeds")
    assert "or poll a failing one at the next cycle instead of after its backoff" in text


def test_help_points_at_settings_every_install_has(capsys):
    # It said "(see .env.example)", a file a pip install or the Docker image doesn't have.
    text = _help(capsys)
    assert "the README's \"Running it for real\"" in text and "in a checkout" in text
