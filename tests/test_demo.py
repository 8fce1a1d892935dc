"""`ainews demo` publishes its first story only after the first poll has read every feed."""
import asyncio

import pytest

from bot.config import load_settings
from bot.demo import DemoFeeds, _demo, _release
from bot.service import Service


class _Service:
    def __init__(self):
        self.stop = asyncio.Event()


async def test_no_story_is_published_before_every_feed_was_read_once():
    # On a loaded machine start-up outlasted the old fixed sleep: the first story was then
    # in the first poll's body, stored as backlog, and the demo showed nothing.
    feeds = DemoFeeds([{"feed": "A", "title": "t1", "html": "x"},
                       {"feed": "B", "title": "t2", "html": "y"}])
    release = asyncio.create_task(_release(feeds, _Service(), seconds=0.2, interval=0.01))
    await asyncio.sleep(0.1)
    assert all(not items for items in feeds.live.values()) and not release.done()
    feeds._served.add("A")
    await asyncio.sleep(0.05)
    assert len(feeds.pending) == 2          # one feed read is not the first poll
    feeds._served.add("B"), feeds.polled.set()
    await asyncio.wait_for(release, 5)
    assert not feeds.pending                # both stories published once the poll had read all


async def test_a_stop_before_the_first_poll_ends_the_demo_without_publishing():
    feeds, service = DemoFeeds([{"feed": "A", "title": "t1", "html": "x"}]), _Service()
    release = asyncio.create_task(_release(feeds, service, seconds=5, interval=0.01))
    service.stop.set()
    await asyncio.wait_for(release, 5)
    assert feeds.pending


async def test_a_service_failing_before_its_first_poll_ends_the_demo_with_its_error(monkeypatch):
    # The demo waited for a first poll that never came: `ainews demo` hung until Ctrl-C.
    async def broken(self, *, once=False):
        raise RuntimeError("the store broke before the first poll")
    monkeypatch.setattr(Service, "_run", broken)
    demo = asyncio.create_task(_demo(load_settings({}, dotenv_path=None), 5, 0.01))
    done, _ = await asyncio.wait({demo}, timeout=5)
    if not done:
        demo.cancel()
    assert done, "the demo still waits for a first poll"
    with pytest.raises(RuntimeError, match="before the first poll"):
        demo.result()


async def test_the_demo_says_it_is_done_and_where_its_stories_went(monkeypatch, capsys):
    """It ended on its last brief without a word, and `ainews latest` afterwards said
    "No stories yet" of the briefs just shown."""
    async def idle(self, *, once=False):
        await self.stop.wait()

    async def released(*args):
        pass
    monkeypatch.setattr(Service, "_run", idle)
    monkeypatch.setattr("bot.demo._release", released)
    assert await asyncio.wait_for(_demo(load_settings({}, dotenv_path=None), 5, 0.01), 10) == 0
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert last == ("demo: done. Its feeds and database were temporary, so `ainews latest` "
                    "does not list these stories; `ainews run` polls the real feeds.")


async def test_the_demo_calls_no_llm_even_with_one_set(fake_llm, capsys):
    """With LLM settings in .env the demo kept them: every sample story cost a billed
    brief and a judge call, in a demo pitched as working without network. Its briefs
    are the offline condenser's, and it says so."""
    settings = load_settings({"LLM_BASE_URL": fake_llm.base_url, "LLM_API_KEY": "sk-test",
                              "LLM_MODEL": "qwen-plus"}, dotenv_path=None)
    assert settings.llm_enabled
    assert await asyncio.wait_for(_demo(settings, 4, 0.4), 60) == 0
    out = capsys.readouterr().out
    assert "Why it matters" in out or "Context:" in out, out     # briefs were written
    assert fake_llm.requests == []
    assert "the offline condenser writes these briefs" in out and "ainews brief" in out
