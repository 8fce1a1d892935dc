"""Discord's daily allowance of gateway sessions (GET /gateway/bot's
session_start_limit), checked as the bot starts, against the fake."""
from __future__ import annotations

import logging

import pytest

from bot.config import Settings
from bot.discord.client import apply_endpoints
from bot.discord.start import start_discord
from bot.errors import StartUnavailable
from tests.fakes.discord import RecordingCommands, running_bot, served

fake = pytest.fixture(served, name="fake")
HOURS_5 = 5 * 3600 * 1000       # reset_after, in Discord's milliseconds


def settings(fake) -> Settings:
    return Settings(discord_token=fake.token, discord_api_url=fake.api_url,
                    discord_gateway_url=fake.gateway_url)


async def test_with_no_session_starts_left_the_bot_waits_for_discords_reset(fake):
    """A bot restarted in a loop (a supervisor, a crash after connecting) uses one of
    Discord's ~1000 daily gateway sessions per start. discord.py never looks: with none
    left it identified anyway, again at every start. Now the start waits until
    Discord's reset, said in one line, without opening a session."""
    fake.session_start_limit.update(remaining=0, reset_after=HOURS_5)
    try:
        with pytest.raises(StartUnavailable) as err:
            await start_discord(settings(fake), RecordingCommands(), {}, ready_timeout=5)
    finally:
        apply_endpoints(Settings())
    assert fake.identifies == 0 and err.value.retry_after == pytest.approx(5 * 3600)
    assert err.value.reason == ("Discord allows no more gateway sessions for now (all "
                                "1000 used) for 5 h")
    assert str(err.value).startswith("discord: Discord allows no more gateway sessions")
    assert "restart" in str(err.value) and "\n" not in str(err.value)


async def test_few_session_starts_left_is_said_once_at_start(fake, caplog):
    fake.session_start_limit.update(remaining=40, reset_after=HOURS_5)
    async with running_bot(fake, RecordingCommands()):
        pass
    said = [r.getMessage() for r in caplog.records if "gateway sessions" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(
        "discord: 40 of Discord's 1000 gateway sessions left for 5 h"), said
    assert fake.identifies == 1


# None: /gateway/bot fails (404); the others garbled, as an API proxy (DISCORD_API_URL)
# may send them: the start stopped with a TypeError, ValueError or OverflowError.
@pytest.mark.parametrize("limit", [
    {"remaining": 999}, None, {"remaining": 40, "reset_after": None},
    {"remaining": 40, "total": "all"}, {"remaining": 0, "reset_after": 1e300},
], ids=["plenty", "no-answer", "no-reset", "garbled-total", "reset-beyond-any-date"])
async def test_plenty_left_or_no_answer_starts_without_a_word(fake, caplog, limit):
    if limit is None:
        fake.fail("GET", "/gateway/bot", 404, code=0)
    else:
        fake.session_start_limit.update(limit)
    async with running_bot(fake, RecordingCommands()):
        pass
    assert fake.identifies == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING
                and r.name.startswith("ainews")], caplog.text
