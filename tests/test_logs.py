"""Log lines name their component: ours in the text, a library's by its logger name."""
import logging
import time

import pytest

from bot import logs


@pytest.fixture
def root_logging():
    """setup_logging on a clean root logger, restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, getattr(root, "_ainews_configured", False)
    # -v sets the libraries' levels: left at DEBUG, later tests read their lines as ours.
    libraries = {name: logging.getLogger(name).level for name in logs._QUIET}
    root.handlers, root._ainews_configured = [], False
    yield
    root.handlers, root.level, root._ainews_configured = saved[0], saved[1], saved[2]
    for name, level in libraries.items():
        logging.getLogger(name).setLevel(level)


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


@pytest.mark.parametrize("title", [
    "Wire\n09:00:00 ERROR   service: forged line",       # a newline forging a log line
    "Wire\x1b]0;owned\x07\x1b[2J",                     # OSC title + clear screen
    "Wire\u202egnp.exe",                               # bidi override reordering the line
])
def test_outside_text_in_a_message_cannot_forge_a_line_or_drive_the_terminal(
        root_logging, capsys, title):
    logs.setup_logging()
    logging.getLogger("ainews.poller").warning("poller: %s failed", title)
    err = capsys.readouterr().err
    lines = err.rstrip("\n").split("\n")
    assert all(line.startswith("    ") for line in lines[1:]), err   # continuations only
    assert not logs.CONTROL.search(err), repr(err)


def test_a_traceback_keeps_its_lines(root_logging, capsys):
    logs.setup_logging()
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("ainews.service").exception("service: failed")
    err = capsys.readouterr().err
    assert "\nTraceback (most recent call last):\n" in err and "ValueError: boom" in err


def test_log_times_are_utc_like_the_times_in_the_messages(root_logging, capsys, monkeypatch):
    """On a machine set to Shanghai time a line read `00:10:45 INFO service: ... next
    poll 16:11 UTC`: two clocks in one line."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        logs.setup_logging()
        before = time.gmtime()
        logging.getLogger("ainews.service").warning("service: hello")
        utc = {time.strftime("%H:%M", t) for t in (before, time.gmtime())}
        stamp = capsys.readouterr().err.split()[0]
    finally:
        monkeypatch.undo()
        time.tzset()
    assert stamp[:5] in utc


async def test_verbose_logging_keeps_the_llm_gateways_password_out_of_the_log(
        root_logging, capsys):
    """`ainews -v run` (debug logging, the first thing an operator tries, and pastes into
    an issue) lets the openai client's httpx logger through, whose "HTTP Request: POST
    URL" line writes LLM_BASE_URL's user:password@ in the clear; every other URL with
    credentials is written user:***@."""
    from feeds.llm import LLMCondenser
    from tests.fakes.llm import FakeLLM
    logs.setup_logging(verbose=True)
    server = await FakeLLM().start()
    base = server.base_url.replace("http://", "http://gwuser:GwPassw0rd@")
    llm = LLMCondenser(base, "sk-fake-key", "qwen-plus")
    try:
        assert await llm.check()
    finally:
        await llm.aclose()
        await server.stop()
    err = capsys.readouterr().err
    assert "127.0.0.1" in err, err          # the request was logged...
    assert "GwPassw0rd" not in err, err     # ...without the gateway's password
    assert "sk-fake-key" not in err, err


TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXQ"


@pytest.mark.parametrize("logger, message, kept", [
    # discord.py's own words: an interaction's token answers it as the bot (15 minutes),
    # a webhook's posts as it; both sit in the paths of the REST calls it logs
    ("discord.http", f"POST https://discord.com/api/v10/interactions/1234/{TOKEN}/callback "
     "with None has returned 204", "/interactions/1234/"),
    ("discord.webhook.async_", "Webhook ID 99 with PATCH https://discord.com/api/v10/"
     f"webhooks/99/{TOKEN}/messages/@original has returned status code 200", "/webhooks/99/"),
    ("discord.gateway", "For Shard ID None: WebSocket Event: {'t': 'INTERACTION_CREATE', "
     f"'op': 0, 'd': {{'type': 2, 'token': '{TOKEN}', 'id': '1234'}}}}", "INTERACTION_CREATE"),
    # slack_sdk's: a command's response_url answers it (30 minutes), in a Socket Mode
    # payload as JSON; the Socket Mode address's ticket opens a connection as the app
    ("slack_sdk.webhook.async_client", "Sending a request - url: https://hooks.slack.com/"
     f"commands/T0001/1234567890/{TOKEN}, body: {{}}", "hooks.slack.com/commands/T0001/"),
    ("slack_sdk.socket_mode.aiohttp", "Received message (type: TEXT, data: '{\"payload\":"
     f"{{\"token\":\"{TOKEN}\",\"response_url\":\"https:\\/\\/hooks.slack.com\\/"
     f"commands\\/T0001\\/1234567890\\/{TOKEN}\"}}}}')", "response_url"),
    ("slack_sdk.web.async_base_client", "Received the following response - status: 200, "
     "body: {'ok': True, 'url': 'wss://wss-primary.slack.com/link/?ticket="
     f"{TOKEN}&app_id=A1'}}", "app_id=A1"),
], ids=["discord-interaction", "discord-webhook", "discord-gateway", "slack-response-url",
        "slack-socket-payload", "slack-socket-ticket"])
def test_verbose_logging_keeps_chat_tokens_out_of_the_log(
        root_logging, capsys, logger, message, kept):
    """`ainews -v run` lets discord.py's and slack_sdk's debug lines through: each wrote
    the tokens that answer a user's command or post as the bot, in the clear."""
    logs.setup_logging(verbose=True)
    logging.getLogger(logger).debug("%s", message)
    err = capsys.readouterr().err
    assert kept in err, err
    assert TOKEN not in err, err
