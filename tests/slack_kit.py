"""Shared pieces of the tests that drive real slack-bolt against the fake Slack on
loopback: a recording stand-in for the chat core, settings, the bot in either mode, and
the fixtures' bodies (each module declares `fake = pytest.fixture(served, name="fake")`);
hostile feed text and `assert_inert`, shared by the renderer tests."""
from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

from bot.config import Settings
from bot.replies import Caller, Reply
from bot.slack import render
from bot.slack.app import start_slack
from tests.fakes.slack import FakeSlack, make_brief
from tests.fakes.tls import company_signed


ROOT = Path(__file__).resolve().parents[1]
BOSS = "UBOSS"   # in SLACK_ADMIN_USER_IDS, a plain member as far as users.info knows


class FakeCommands:
    """Stands in for bot.commands.Commands: same method names, records every call."""

    def __init__(self):
        self.calls: list[tuple[str, Caller, tuple]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    def store_failure(self, e):
        return None   # no store here: every error is the adapter's to answer

    def too_fast(self, caller):
        return None   # never: the pace is the core's (tests/test_commands_throttle.py)

    def _briefs(self, name, caller, *args, title=""):
        self.calls.append((name, caller, args))
        return Reply(kind="briefs", title=title, briefs=(make_brief(),), shareable=True)

    def _admin_only(self, name, caller, *args, done=""):
        self.calls.append((name, caller, args))
        if not caller.is_admin:
            return Reply.error("Only workspace admins can do that; ask one of them.")
        return Reply.message(done, ephemeral=False)

    def _text(self, name, caller, *args, text=""):
        self.calls.append((name, caller, args))
        return Reply.message(text)

    def company(self, caller, name, limit=5):
        if name == "explode":
            raise RuntimeError("store is locked")
        return self._briefs("company", caller, name, title=f"Latest on {name}")

    def latest(self, caller, limit=5, topic=None):
        return self._briefs("latest", caller, limit, topic, title="Latest")

    async def search(self, caller, query):
        await self.gate.wait()
        return self._briefs("search", caller, query, title=f"Search: {query}")

    def topic(self, caller, slug):
        return self._briefs("topic", caller, slug, title=f"Topic {slug}")

    def topics(self, caller):
        return self._text("topics", caller, text="open-source, pricing, chips")

    def help(self, caller):
        return self._text("help", caller, text="/company NAME: the latest on a company")

    def why(self, caller, link):
        return self._text("why", caller, link, text="verdict:strategy (p 0.93)")

    def subscribe(self, caller, target):
        return self._admin_only("subscribe", caller, target, done=f"Now following {target}.")

    def unsubscribe(self, caller, target):
        return self._admin_only("unsubscribe", caller, target, done=f"Stopped {target}.")

    def subscriptions(self, caller):
        return self._text("subscriptions", caller, text="This channel follows: pricing")

    def digest(self, caller, args_text):
        return self._text("digest", caller, args_text, text=f"Digest set: {args_text}")

    async def feeds(self, caller, args_text):
        return self._admin_only("feeds", caller, args_text, done="3 feeds, all healthy")

    def run_text(self, caller, text):
        return self._text("text", caller, text, text=f"ran: {text}")

    def complete_company(self, prefix):
        return []

    def complete_topic(self, prefix):
        return []


def settings_for(fake: FakeSlack, mode: str, **changes) -> Settings:
    tokens = ({"slack_app_token": fake.app_token} if mode == "socket"
              else {"slack_signing_secret": fake.signing_secret})
    base = Settings(slack_bot_token=fake.bot_token, slack_api_url=fake.api_url, http_port=0,
                    slack_admin_user_ids=(BOSS,), **tokens)
    return replace(base, **changes)


class Bot:
    """Plays Slack's side against a running bot, the same way in both modes."""

    def __init__(self, fake: FakeSlack, runner, mode: str):
        self.fake, self.runner, self.mode = fake, runner, mode

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.runner.http_port}/slack/events"

    async def slash(self, command: str, text: str = "", **who) -> str:
        """Send a slash command, check Slack got its ack; returns the response id."""
        if self.mode == "socket":
            eid, rid = await self.fake.slash_socket(command, text, **who)
            await self.fake.wait_ack(eid, timeout=3)
        else:
            status, _, rid = await self.fake.slash_http(self.url, command, text, **who)
            assert status == 200
        return rid

    async def click(self, action_id: str, value: str = "", **who) -> str:
        if self.mode == "socket":
            eid, rid = await self.fake.action_socket(action_id, value, **who)
            await self.fake.wait_ack(eid, timeout=3)
        else:
            status, _, rid = await self.fake.action_http(self.url, action_id, value, **who)
            assert status == 200
        return rid

    async def answer(self, rid: str) -> dict:
        return await self.fake.wait_response(rid, timeout=5)


async def served(ssl_context=None):
    """A started FakeSlack knowing an admin, an owner, a primary owner and plain members."""
    server = await FakeSlack(ssl_context=ssl_context).start()
    for user, flags in {"UADMIN": {"is_admin": True}, "UOWNER": {"is_owner": True},
                        "UPRIMARY": {"is_primary_owner": True, "is_owner": True},
                        "UPLAIN": {}, BOSS: {}, "U1": {}}.items():
        server.add_user(user, **flags)
    yield server
    await server.stop()


async def served_tls():
    """`served` over https and wss, its certificate signed by a company CA no system
    trusts (tests/fakes/tls.py), as a TLS-inspecting proxy presents Slack."""
    async for server in served(company_signed()):
        yield server


def recording_commands() -> FakeCommands:
    return FakeCommands()


async def started_bot(request, fake, commands):
    """The bot in the mode the fixture's param names, answering with `commands`."""
    runner = await start_slack(settings_for(fake, request.param), commands,
                               http_host="127.0.0.1")
    yield Bot(fake, runner, request.param)
    await runner.stop()


def texts(message: dict) -> str:
    return "\n".join(t for _, t in render.all_texts(message["blocks"]))


def action_ids(message: dict) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


# Feed text that would act in Slack (pings, links, styling): every renderer keeps it inert.
HOSTILE = ["@everyone look", "@here!", "@Channel: read", "<!channel> now", "<!here>", "hi <@U123>", "<@U123|boss>",
           "<!subteam^S123|devs>", "<http://evil.example|Google>", "[x](http://evil.example)",
           "*bold* _it_ ~gone~ `code`", "a > b < c & d", "&lt;!channel&gt;"]
# Our own tokens, the only angle brackets a block may carry.
OURS = re.compile(r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>"
                  r"|<https?://[^<>|\s]+(?:\|[^<>]*)?>|<@U[A-Z0-9]+>")


def leftovers(s: str) -> str:
    return OURS.sub("", s)


def assert_inert(blocks: list, fallback: str) -> None:
    """No raw < > from outside anywhere; in mrkdwn also no link or styling syntax.
    (plain_text renders nothing, so [x](url) there is just visible text.)"""
    for kind, text in render.all_texts(blocks) + [("mrkdwn", fallback)]:
        rest = leftovers(text)
        assert "<" not in rest and ">" not in rest, (kind, text)
        assert not re.search(r"@(everyone|here|channel)\b", text, re.I), (kind, text)
        if kind == "mrkdwn":
            for bad in ("](http", "*bold*", "_it_", "`code`", "~gone~"):
                assert bad not in text, (bad, text)
