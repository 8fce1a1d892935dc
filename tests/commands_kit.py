"""Shared pieces of the chat core's tests (bot.commands.Commands through the neutral
layer): an admin and a member, a store holding three stories on the fake clock, and the
core over it. Modules declare
`store = pytest.fixture(seeded_store, name="store")` and the like."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.commands import Commands
from bot.config import Settings
from feeds.models import Classification, Story
from storage.store import Store
from bot.replies import Caller


ADMIN = Caller("discord", "g1", "c1", "u1", is_admin=True)
MEMBER = replace(ADMIN, user="u2", is_admin=False)
SEED = "China's Alibaba shifts towards revenue over open-source AI"


def seeded_store(tmp_path, clock):
    """The `store` fixture: three strategy stories, one of them 8 days old."""
    s = Store(tmp_path / "ainews.db")
    stories = [
        _story("seed", SEED, clock, ("Alibaba", "Tencent", "Baidu"), ("open-source", "pricing")),
        _story("nv", "Nvidia H20 export licences tightened", clock, ("Nvidia",),
               ("chips", "policy"), hours_ago=2),
        _story("old", "Baidu cuts Ernie prices", clock, ("Baidu",), ("pricing",), hours_ago=24 * 8),
    ]
    s.add_new_stories(stories, backlog=False, now=clock())
    yield s
    s.close()


def _story(sid, title, clock, companies, topics, hours_ago=1) -> Story:
    return Story(id=sid, url=f"https://news.example/{sid}", title=title,
                 text=f"{title}. The company said more on Monday.", source="FT",
                 feed_url="https://news.example/rss",
                 published=clock.now - timedelta(hours=hours_ago),
                 classification=Classification(strategy=True, score=3.0,
                                               companies=companies, topics=topics))


def core_commands(store, classifier, clock) -> Commands:
    return Commands(store, classifier, settings=Settings(), clock=clock)


def headlines(reply):
    return [b.headline for b in reply.briefs]
