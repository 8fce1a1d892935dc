"""Shared pieces of the dispatch tests: a story on the fake clock, adding it, a
channel following something, one delivery pass to a recording adapter, and routing the
edits a poll stored the way the service does."""
from __future__ import annotations

from datetime import timedelta

from bot.delivery import Delivery
from bot.dispatch_edits import dispatch_edits
from feeds.models import Classification, Story, Subscription


def story(sid: str, title: str, clock, *, source="Reuters", companies=("Anthropic", "Amazon"),
          topics=("funding",), strategy=True, minutes_ago=0) -> Story:
    return Story(id=sid, url=f"https://{source.lower()}.example/{sid}", title=title,
                 text=title + ". More detail follows in the article.", source=source,
                 feed_url=f"https://{source.lower()}.example/rss",
                 published=clock.now - timedelta(minutes=minutes_ago),
                 classification=Classification(strategy=strategy, score=2.0,
                                               companies=companies, topics=topics))


def add(store, clock, *stories):
    return store.add_new_stories(list(stories), backlog=False, now=clock())


def follow(store, clock, channel, kind="all", target="all", platform="console"):
    store.add_subscription(Subscription(platform, "w1", channel, kind, target), now=clock())


async def deliver(store, clock, adapter):
    return await Delivery(store, {"console": adapter}, clock=clock,
                          sleep=clock.sleep).run_once()


# ---- a story its feed edits after it was routed --------------------------------------
AGE = timedelta(hours=48)                   # AINEWS_MAX_POST_AGE_HOURS' default
ALIBABA = "Alibaba cuts Qwen API prices by 50%"
BOTH = "Alibaba and Tencent cut AI model prices by half"


def route_edits(store, clock, *, forget: bool = True) -> int:
    """What the service does with the edits a poll stored (bot/service.py): route them,
    then forget them. forget=False: killed between the two."""
    upto = store.last_edit_seq()
    changed = dispatch_edits(store, store.edited_stories(upto), clock(), max_age=AGE).changed
    if forget:
        store.forget_edits(upto)
    return changed


def alibaba(clock, title=ALIBABA, **kw) -> Story:
    kw.setdefault("companies", ("Alibaba",))
    return story("s1", title, clock, topics=("pricing",), **kw)


def tencent_too(clock, title=BOTH, **kw) -> Story:
    kw.setdefault("companies", ("Alibaba", "Tencent"))
    return alibaba(clock, title, **kw)
