"""Shared pieces of the LLM judge tests: scripted offline verdicts (a stand-in
classifier puts each story where the test needs it: well past the threshold, just below
it, far below, or not about AI), a fake model's answers, and the real poller over a
loopback feed. Modules declare `wire = pytest.fixture(judged_wire, name="wire")`."""
from __future__ import annotations

import contextlib
import re
from datetime import timedelta

from bot.config import load_settings
from bot.pipeline import Pipeline
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.formatter import Formatter
from feeds.judge import Judge
from feeds.llm import LLMCondenser
from feeds.models import Classification, FeedSource, utcnow
from storage.store import Store
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import archive_entry, strategy_entry


THRESHOLD = 0.45


def offline(p: float, *, gate: bool = False) -> Classification:
    """What the offline classifier would say at probability p."""
    strategy = p >= THRESHOLD and not gate
    reasons = ("company:Nvidia x2",)
    if gate:
        reasons += ("gate:not about AI (AI evidence 0 < 1)",)
    word = "strategy" if strategy else "not strategy"
    reasons += (f"verdict:{word} (score 3.00, p {p:.2f}, threshold {THRESHOLD:g})",)
    return Classification(strategy=strategy, score=3.0, companies=("Nvidia",), reasons=reasons,
                          probability=p, threshold=THRESHOLD, about_ai=not gate)


class Scripted:
    """A classifier whose verdict per headline the test sets; the archive is far below."""

    def __init__(self):
        self.verdicts: dict[str, Classification] = {}

    def classify(self, title: str, text: str) -> Classification:
        return self.verdicts.get(title, offline(0.02))


def entry(i: int, title: str = "", summary: str = "", now=None) -> dict:
    e = strategy_entry(i, published=(now or utcnow()) - timedelta(hours=1))
    e.update({k: v for k, v in (("title", title), ("summary", summary)) if v})
    return e


def verdict_for(accepted: set[str]):
    """A fake model that accepts the headlines it was told to, and names why."""
    def answer(body: dict) -> tuple:
        user = body["messages"][1]["content"]
        title = re.search(r"^Title: (.*)$", user, re.M)[1]
        ok = title in accepted
        return "json", {"strategy": ok,
                        "reason": "chip export licences" if ok else "consumer feature"}
    return answer


async def judged_wire(tmp_path, fake_llm):
    """(feed server, store, classifier, make_pipeline(judge=...)); the feed is
    baselined by a first poll of its archive, so later entries are news."""
    store, clf = Store(tmp_path / "a.db"), Scripted()
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.add("/f.xml", make_rss("Wire", [archive_entry(0)]))
        store.upsert_feed(FeedSource("Wire", srv.url("/f.xml")))

        def pipeline(judge: Judge | None):
            return Pipeline(store, fetcher, clf, Formatter(store), poll_minutes=2,
                            max_post_age=timedelta(hours=48), judge=judge)
        await pipeline(None).poll_once(all_feeds=True)
        yield srv, store, clf, pipeline
    store.close()


def judge_of(server_url: str, **kw) -> Judge:
    timeout = kw.pop("timeout", 5.0)
    llm = LLMCondenser(server_url, "test-key", "qwen-plus", timeout=timeout)
    return Judge(llm, deadline=timeout + 1, **kw)


async def poll_with(wire, judge, entries):
    srv, store, _, make = wire
    srv.add("/f.xml", make_rss("Wire", entries + [archive_entry(0)]))
    await make(judge).poll_once(all_feeds=True)


def posted(store) -> set[str]:
    """What the bot would post: dispatch reads new stories back from the store."""
    return {s.title for s in store.stories_to_dispatch(0, store.last_story_pk())}


WRONG, NEAR = "Nvidia adds a dark mode to its app", "US tightens AI chip export licences"


UNKNOWN = "Zorblax raises $400M Series B, quadrupling its valuation"   # no AI word in it


LLM = {"LLM_BASE_URL": "http://127.0.0.1:9/v1", "LLM_MODEL": "qwen-plus"}


@contextlib.asynccontextmanager
async def app_with(env: dict, tmp_path):
    """The bot's App with these settings (and a store in tmp_path), closed after."""
    from bot.app import App
    app = App(load_settings({**env, "AINEWS_DB": str(tmp_path / "c.db")}, dotenv_path=None))
    try:
        yield app
    finally:
        await app.aclose_clients()
        app.close()
