"""Log lines name their component: ours in the text, a library's by its logger name."""
import logging

import pytest

from bot import logs


@pytest.fixture
def root_logging():
    """setup_logging on a clean root logger, restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, getattr(root, "_ainews_configured", False)
    root.handlers, root._ainews_configured = [], False
    yield
    root.handlers, root.level, root._ainews_configured = saved[0], saved[1], saved[2]


@pytest.mark.parametrize("logger, text, line_ends", [
    ("discord.http", "We are being rate limited.", " discord.http: We are being rate limited."),
    ("slack_sdk.web.base_client", "retrying", " slack_sdk.web.base_client: retrying"),
    ("ainews.fetcher", "fetcher: example.com timed out", "WARNING fetcher: example.com timed out"),
])
def test_every_line_names_where_it_came_from(root_logging, capsys, logger, text, line_ends):
    logs.setup_logging()
    logging.getLogger(logger).warning(text)
    line = capsys.readouterr().err.strip()
    assert line.endswith(line_ends), line
