"""Socket Mode against the fake Slack: reconnecting after drops, outages and
refused tokens, fresh connection URLs, and one Web API connection."""
from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from bot.slack.app import SlackUnavailable, start_slack
from tests.fakes.slack import make_brief
from tests.fakes.tls import COMPANY_CA
from tests.slack_kit import settings_for, Bot, texts, served, served_tls, recording_commands


fake = pytest.fixture(served, name="fake")
commands = pytest.fixture(recording_commands, name="commands")


async def _answers_slash_commands(fake, runner) -> None:
    """The bot, over its Socket Mode connection as it is now, answers `/topics`."""
    bot = Bot(fake, runner, "socket")
    assert "open-source" in texts(await bot.answer(await bot.slash("/topics")))


async def test_socket_mode_reconnects_when_slack_drops_the_connection(fake, commands):
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        await fake.drop_connections()
        await fake.wait_for(lambda: len(fake.calls_to("apps.connections.open")) == 2
                            and fake._open_sockets(), what="reconnection")
        await _answers_slash_commands(fake, runner)
    finally:
        await runner.stop()


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The reconnect backoff's waits, in order, without waiting them out."""
    from bot.slack import reconnect
    seen: list[float] = []

    async def pause(closed, seconds):
        seen.append(seconds)
        await asyncio.sleep(0)
    monkeypatch.setattr(reconnect, "_pause", pause)
    return seen


async def test_a_refused_app_token_after_start_is_retried_with_backoff_and_said_once(
        fake, commands, caplog, waits):
    """SLACK_APP_TOKEN revoked while the bot runs: alone, slack_sdk asked
    apps.connections.open (a Tier 1 method) again every ping interval for as long as the
    bot ran, with two ERROR lines each time. Now: one line saying what to do, backoff."""
    runner = await start_slack(settings_for(fake, "socket"), commands, ping_interval=0.2)
    try:
        fake.fail("apps.connections.open", error="token_revoked", times=5)
        await fake.drop_connections()
        await fake.wait_for(lambda: not fake._scripts["apps.connections.open"]
                            and fake._open_sockets(), what="reconnection")
        await _answers_slash_commands(fake, runner)
    finally:
        await runner.stop()
    assert waits == [5, 10, 20, 40, 80]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["ainews.slack"], [r.getMessage() for r in errors]
    assert "Slack refuses SLACK_APP_TOKEN (token_revoked)" in errors[0].getMessage()
    assert fake.app_token not in caplog.text


async def _through_a_socket_outage(fake, commands, *, tries: int, urls_expire: bool = False):
    """The websocket host refuses `tries` connects (its issued URLs expired meanwhile if
    `urls_expire`), comes back; the bot must reconnect and answer a slash command."""
    runner = await start_slack(settings_for(fake, "socket"), commands, ping_interval=0.05)
    try:
        fake.sockets_down = True
        await fake.drop_connections()
        await fake.wait_for(lambda: fake.socket_refusals >= tries, what="failed tries")
        if urls_expire:
            fake.expire_tickets()
        fake.sockets_down = False
        await fake.wait_for(lambda: fake._open_sockets(), what="reconnection")
        await _answers_slash_commands(fake, runner)
    finally:
        await runner.stop()


async def test_an_unreachable_socket_mode_host_is_one_line_then_one_when_back(
        fake, commands, caplog, waits):
    """The websocket host unreachable while the Web API answers: slack_sdk logged a full
    traceback at ERROR for every try, every ping interval (10 s), for as long as it
    lasted. Now one line when it starts failing and one when it is back."""
    await _through_a_socket_outage(fake, commands, tries=4)
    shown = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in shown] == ["ainews.slack", "ainews.slack"], \
        [r.getMessage() for r in shown]
    down, back = (r.getMessage() for r in shown)
    assert down.startswith("slack: socket mode unreachable (WSServerHandshakeError: 503")
    assert "retrying" in down and "ticket=" not in down
    assert back.startswith("slack: Socket Mode connection back after ")
    assert not any(r.exc_info for r in shown)


async def test_the_fake_takes_a_socket_mode_url_once_and_only_while_it_is_fresh(fake):
    """The fake's Socket Mode URLs behave like Slack's one-time tickets."""
    async def open_url() -> str:
        async with session.post(fake.api_url + "apps.connections.open",
                                headers={"Authorization": f"Bearer {fake.app_token}"}) as r:
            return (await r.json())["url"]

    async def status(url: str) -> int:
        try:
            async with session.ws_connect(url) as ws:
                await ws.receive_json()      # hello
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status

    async with aiohttp.ClientSession() as session:
        url = await open_url()
        assert [await status(url), await status(url)] == [101, 408]      # used once
        url = await open_url()
        fake.expire_tickets()
        assert await status(url) == 408                                  # outlived
        fake.ticket_ttl = 0.0
        assert await status(await open_url()) == 408                     # too old
        assert await status(url.replace("ticket=", "ticket=x")) == 408   # never issued
    assert fake.tickets_refused == 4


async def test_after_an_outage_that_outlived_the_socket_mode_url_a_new_one_is_asked_for(
        fake, commands, caplog, waits):
    """Slack's Socket Mode URLs are single-use and short-lived. slack_sdk asked for one
    when the connection dropped, then retried that same URL every ping interval for as
    long as the websocket host was unreachable: once the outage outlived the URL, the
    host refused it for good and slash commands stayed dead after the network was back.
    Now every try after a failed one asks apps.connections.open for a new URL, backing
    off as when apps.connections.open itself fails."""
    # the outage outlives every URL issued so far
    await _through_a_socket_outage(fake, commands, tries=3, urls_expire=True)
    tried = fake.socket_tickets
    assert len(set(tried)) == len(tried), f"a Socket Mode URL was tried twice: {tried}"
    assert len(fake.calls_to("apps.connections.open")) == len(tried)
    assert len(waits) >= 3 and waits == [min(300, 5 * 2 ** i) for i in range(len(waits))]
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(shown) == 2 and shown[0].startswith("slack: socket mode unreachable"), shown
    assert shown[1].startswith("slack: Socket Mode connection back after ")


@pytest.mark.parametrize("reason,said", [("refresh_requested", None),
                                         ("warning", None),     # a refresh coming soon
                                         ("too_many_websockets", None),
                                         ("link_disabled", "Socket Mode was turned off")])
async def test_a_disconnect_message_reconnects_and_commands_are_answered(
        fake, commands, caplog, reason, said):
    """Slack's `disconnect`: slack_sdk reconnects through connect_to_new_endpoint, which
    asks apps.connections.open for a new URL (the fake refuses a used one)."""
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        await fake.send_disconnect(reason)
        await fake.wait_for(lambda: len(fake._sockets) == 2 and fake._open_sockets() == [
            fake._sockets[1]], what="the new connection, and the old one closed")
        await _answers_slash_commands(fake, runner)
    finally:
        await runner.stop()
    first, second = fake.socket_tickets
    assert first != second and len(fake.calls_to("apps.connections.open")) == 2
    assert fake.tickets_refused == 0
    lines = [r.getMessage() for r in caplog.records
             if r.name == "ainews.slack" and r.levelno >= logging.WARNING]
    assert len(lines) == (said is not None) and all(said in line for line in lines)


async def test_a_connection_that_answers_no_pings_is_replaced(fake, commands):
    """A websocket held open after Slack let go of it (a proxy, a NAT): no pong, no
    message. The bot's pings go unanswered and it opens a new connection, on which
    slash commands are answered again."""
    runner = await start_slack(settings_for(fake, "socket"), commands, ping_interval=0.2)
    try:
        fake.answer_pings = False
        await fake.drop_connections()
        await fake.wait_for(lambda: len(fake._sockets) >= 2, what="the silent connection")
        fake.answer_pings = True
        await fake.wait_for(lambda: len(fake._sockets) >= 3 and fake._open_sockets() == [
            fake._sockets[-1]], what="a new connection, the silent one closed")
        await _answers_slash_commands(fake, runner)
    finally:
        await runner.stop()


async def test_a_connection_silent_every_time_is_said_once_and_shown_by_status(
        fake, commands, store, caplog):
    """A proxy or firewall that takes the websocket, then drops everything on it: the SDK
    replaced each silent connection a few pings later, asking apps.connections.open each
    time, while `ainews status` said connected and nothing was logged above INFO."""
    from bot.connections import ConnectionLog, read_connections
    connection = ConnectionLog(store, "slack")
    connection.set("connected")
    runner = await start_slack(settings_for(fake, "socket"), commands, ping_interval=0.1,
                               connection=connection)
    try:
        fake.answer_pings = False
        await fake.drop_connections()
        await fake.wait_for(lambda: len(fake._sockets) >= 7, timeout=20,
                            what="silent connections replaced again and again")
        shown = read_connections(store)["slack"]
        fake.answer_pings = True    # the proxy lets it through again
        for _ in range(200):   # the fake's wait_for wakes at its own events, not the store's
            if read_connections(store)["slack"]["state"] == "connected":
                break
            await asyncio.sleep(0.05)
        back = read_connections(store)["slack"]["state"]
    finally:
        await runner.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "proxy or firewall" in warnings[0], warnings
    assert shown["state"] == "reconnecting" and "proxy or firewall" in shown["reason"]
    assert back == "connected"


# a click's answers: the post shared in the channel, then its button taken away
@pytest.mark.parametrize("send, answers", [("slash", 1), ("click", 2)])
async def test_an_envelope_slack_delivers_twice_is_run_once(fake, commands, send, answers):
    """Slack sends an envelope again, the same envelope_id, when its ack came late: the
    command ran twice and the user got two answers (a share button, two posts)."""
    from bot.slack.render_reply import SHARE_ACTION, share_value
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        eid, rid = await (fake.slash_socket("/topics") if send == "slash"
                          else fake.action_socket(SHARE_ACTION, share_value("latest", "")))
        await fake.redeliver(eid)
        await fake.wait_for(lambda: fake.events.count(("ack", rid)) == 2,
                            what="both deliveries acknowledged")
        bot = Bot(fake, runner, "socket")   # a later command answered: the first done
        await bot.answer(await bot.slash("/topics"))
        await fake.wait_response(rid)
    finally:
        await runner.stop()
    assert len(fake.responses[rid]) == answers and len(commands.calls) == 2


async def test_socket_mode_opens_its_connection_through_slack_api_url(fake, commands):
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        [open_call] = fake.calls_to("apps.connections.open")
        assert open_call.token == fake.app_token
        assert runner.mode == "socket" and runner.team_id == fake.team_id
        await fake.wait_connected()
    finally:
        await runner.stop()
    await fake.wait_for(lambda: not fake._open_sockets(), what="socket closed")


async def test_the_bot_keeps_one_connection_to_the_web_api(fake, commands):
    """Posts reuse the connection the start-up opened, instead of a new one (and a TLS
    handshake with Slack) per call; stopping closes it."""
    from tests.fakes.slack import make_brief
    runner = await start_slack(settings_for(fake, "socket"), commands)
    try:
        for n in range(3):
            await runner.adapter.send("C42", make_brief(), nonce=f"row-{n}")
    finally:
        await runner.stop()
    peers = {c.peer for c in fake.calls if c.method in ("auth.test", "chat.postMessage")}
    assert len(peers) == 1 and runner.client.session.closed


async def test_the_web_api_and_socket_mode_go_through_the_proxy(fake, commands):
    """The proxy knows slack.example.com, this machine does not; the SDK's own reading
    of HTTPS_PROXY (NO_PROXY ignored) has no say."""
    from tests.fakes.proxy import FakeProxy, proxies_at
    async with FakeProxy({"slack.example.com": "127.0.0.1"}) as proxy:
        api = fake.api_url.replace("127.0.0.1", "slack.example.com")
        runner = await start_slack(settings_for(fake, "socket", slack_api_url=api,
                                                proxies=proxies_at(proxy.url())), commands)
        try:
            await fake.wait_connected()
            await runner.adapter.send("C42", make_brief(), nonce="via-proxy")
        finally:
            await runner.stop()
    assert [api + m for m in ("auth.test", "apps.connections.open", "chat.postMessage")] == [
        t for t in proxy.targets() if t.startswith(api)]
    assert any(t.startswith("ws://127.0.0.1") for t in proxy.targets())   # Socket Mode


async def test_behind_a_tls_inspecting_proxy_slack_needs_and_takes_the_ca_file(commands):
    """Slack's every address re-signed by the company's CA: without AINEWS_CA_FILE the
    start says which setting trusts it; with it the Web API, Socket Mode (wss) and
    respond() (the https response_url) all trust it, besides the system's CAs."""
    async for fake in served_tls():
        with pytest.raises(SlackUnavailable) as err:
            await start_slack(settings_for(fake, "socket"), commands, connect_timeout=5)
        assert str(err.value) == (
            f"slack: can't reach {fake.api_url}: TLS handshake failed (certificate verify "
            "failed: unable to get local issuer certificate; AINEWS_CA_FILE names a CA to "
            "trust, such as a company's)")
        runner = await start_slack(settings_for(fake, "socket", ca_file=COMPANY_CA), commands)
        try:
            await runner.adapter.send("C42", make_brief(), nonce="re-signed")
            _, rid = await fake.slash_socket("/topics", user="UPLAIN")
            answer = await fake.wait_response(rid)
        finally:
            await runner.stop()
    assert fake.calls_to("chat.postMessage") and fake.socket_tickets
    assert "open-source" in texts(answer)
