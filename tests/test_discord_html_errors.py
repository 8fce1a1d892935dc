"""A DISCORD_API_URL (or a proxy in front of Discord) that answers with an HTML error
page: `ainews run` and `ainews discord-invite` stop with one line, not the page."""
from __future__ import annotations

import pytest

from bot.config import Settings
from bot.discord.client import apply_endpoints
from bot.discord.invite import fetch_application_id
from bot.discord.start import start_discord
from bot.errors import UserError
from tests.fakes.discord import RecordingCommands
from tests.fakes.feedserver import FeedServer, Reply

PAGE = ("<!DOCTYPE HTML>\n<html lang=\"en\">\n<head><title>Error response</title></head>\n"
        "<body>\n<h1>Error response</h1>\n<p>Error code: 404</p>\n</body>\n</html>\n")
PATHS = ("/x/api/v10/users/@me", "/x/api/v10/oauth2/applications/@me")


def _not_found_pages(web: FeedServer) -> None:
    for path in PATHS:    # python -m http.server's answer to a path it does not have
        web.script(path, [Reply(404, PAGE, "text/html", etag=None)] * 3)


def _one_line(err: UserError, words: str) -> None:
    text = str(err)
    assert "\n" not in text and "<" not in text
    assert words in text and "HTTP 404 (an HTML page, not Discord's JSON)" in text


async def _refused(start) -> UserError:
    """The UserError `start(settings)` raises against an API answering HTML 404 pages."""
    async with FeedServer() as web:
        _not_found_pages(web)
        settings = Settings(discord_token="fake-token", discord_api_url=web.url("/x"))
        try:
            with pytest.raises(UserError) as err:
                await start(settings)
        finally:
            apply_endpoints(Settings())
    return err.value


@pytest.mark.parametrize("start, words", [
    (fetch_application_id, "for the application id"),                  # discord-invite
    (lambda s: start_discord(s, RecordingCommands(), {}, ready_timeout=5),
     "discord: could not start"),                                        # run
], ids=["invite", "run"])
async def test_an_api_url_answering_an_html_404_is_one_line(start, words):
    _one_line(await _refused(start), words)
