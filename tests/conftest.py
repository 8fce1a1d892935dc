"""Shared fixtures. Tests never read the real `.env` and never reach the internet."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch, tmp_path):
    """Run every test from a temp dir so a developer's `.env` can't leak in."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def clock():
    """A fake clock for the chat core: sleeping advances it instantly."""
    from tests.fakes.recorder import FakeClock
    return FakeClock()


@pytest.fixture
def stepped_time(monkeypatch):
    """The wall and monotonic clocks the adapters' find_sent reads (bot/first_tries.py),
    running fast by `ahead` seconds until `step_back()` (NTP, a restored VM) sets the
    wall clock right; `advance()` lets time pass on both. The fake servers keep the
    real time, as Discord and Slack keep theirs."""
    import time

    class SteppedTime:
        ahead, passed = 600.0, 0.0

        def time(self) -> float:
            return time.time() + self.ahead + self.passed

        def monotonic(self) -> float:
            return time.monotonic() + self.passed

        def advance(self, seconds: float) -> None:
            self.passed += seconds

        def step_back(self) -> None:
            self.ahead = 0.0

    stepped = SteppedTime()
    monkeypatch.setattr("bot.first_tries.time", stepped)
    return stepped


@pytest.fixture
def store(tmp_path):
    """A file-backed Store in the test's temp dir (modules may override with their own)."""
    from storage.store import Store
    s = Store(tmp_path / "ainews.db")
    yield s
    s.close()


@pytest.fixture
def maximal_reply():
    """The biggest lookup answer the core gives: 25 briefs (the most a limit allows),
    every part long and hostile (pings, masked links, markup, entities, astral emoji,
    a 5,000-character headline), under a long hostile title and a note. Each platform
    must fit it into its own limits."""
    from datetime import datetime, timezone
    from bot.commands_limit import MAX_LIMIT
    from bot.replies import Reply
    from feeds.models import Brief
    hostile = ("@everyone <@&1> <!channel> [click](https://evil.example) **b** _i_ `c` "
               "~s~ &amp; <b>&lt; \\*\\_ > quote | pipe 😀👩‍💻 ")
    briefs = tuple(Brief(
        id=f"max{i}", headline=f"{i} " + hostile * 60 + "é" * 1000,
        bullets=tuple(hostile * 40 + f" bullet {n}" for n in range(3)),
        why_it_matters=hostile * 40, url="https://news.example/" + "ü/" * 1200 + f"{i}",
        source=hostile * 5, published=datetime(2026, 3, 1, i % 24, tzinfo=timezone.utc),
        dek=hostile * 40, companies=tuple(f"Company {n} {hostile}" for n in range(12)),
        topics=("pricing", "open-source"), strategy=True, score=9.0,
        also_reported_by=tuple(f"Outlet {n} {hostile}" for n in range(12)))
        for i in range(MAX_LIMIT))
    return Reply(kind="briefs", title="Search: " + hostile * 20, briefs=briefs,
                 text="No story has all of: " + hostile * 20, shareable=True)


@pytest.fixture
async def fake_llm():
    """A fake OpenAI-compatible server on loopback (tests/fakes/llm.py)."""
    from tests.fakes.llm import FakeLLM
    server = await FakeLLM().start()
    yield server
    await server.stop()


@pytest.fixture
async def close_llms(monkeypatch):
    """Closes every LLMCondenser a test makes. An unclosed one is closed by the openai
    client's __del__, which schedules aclose() on whatever loop runs when it is
    collected: another test's, where its traceback lands in that test's stderr."""
    from feeds.llm import LLMCondenser
    made, init = [], LLMCondenser.__init__

    def recording(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)
    monkeypatch.setattr(LLMCondenser, "__init__", recording)
    yield
    for llm in made:
        await llm.aclose()


@pytest.fixture
def clean_env(monkeypatch):
    """No setting of the developer's shell reaches the command under test; private
    hosts allowed (the fakes are on loopback). Modules add their database and feeds."""
    import os
    from bot.config_values import PROXY_NAMES
    proxy_names = {name for names in PROXY_NAMES.values() for name in names}
    for k in list(os.environ):
        if k.startswith(("AINEWS_", "DISCORD_", "SLACK_", "LLM_")) or k in proxy_names:
            monkeypatch.delenv(k)
    monkeypatch.setenv("AINEWS_ALLOW_PRIVATE_HOSTS", "1")
    return monkeypatch


@pytest.fixture
async def feeds():
    """A local feed server (tests/fakes/feedserver.py) for tests that poll for real."""
    from tests.fakes.feedserver import FeedServer
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def chat_core():
    """The chat core over an in-memory store holding one strategy story (Qwen 3)."""
    from bot.commands import Commands
    from bot.config import Settings
    from feeds.classify import Classifier
    from storage.store import Store
    from tests.fakes.chat import QWEN, WHEN
    store = Store(":memory:")
    store.add_new_stories([QWEN], backlog=False, now=WHEN)
    yield Commands(store, Classifier(), Settings())
    store.close()


@pytest.fixture(params=["slack", "discord"])
async def chat(request, chat_core):
    """A user in a Slack workspace, then in a Discord server, where `chat_core` runs
    (tests/fakes/chat.py)."""
    from tests.fakes.chat import discord_chat, slack_chat
    opened = slack_chat if request.param == "slack" else discord_chat
    async with opened(chat_core) as platform:
        yield platform
