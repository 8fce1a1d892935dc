"""Shared pieces of the delivery tests: briefs, subscriptions, a Delivery on the fake
clock, and waiting for the service loop (run_forever) without timing anything."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.delivery import Delivery
from bot.dispatch import dispatch_new
from feeds.models import Brief, Subscription
from tests.fakes.recorder import FakeClock


def brief(n: int, clock: FakeClock, *, minutes_ago: int = 0, **kw) -> Brief:
    return Brief(id=f"story{n}", headline=f"Story {n}", bullets=("a", "b", "c"),
                 why_it_matters="because", url=f"https://news.example/{n}",
                 source=kw.pop("source", "Outlet"),
                 published=clock.now - timedelta(minutes=minutes_ago),
                 companies=("Alibaba",), topics=("pricing",), strategy=True, **kw)


def follow(store, clock, channel="c1", platform="console", kind="all", target="all"):
    store.add_subscription(Subscription(platform, "w1", channel, kind, target), now=clock())


def delivery(store, clock, adapter, **kw) -> Delivery:
    return Delivery(store, {adapter.platform: adapter}, clock=clock, sleep=clock.sleep, **kw)


def states(store) -> dict[str, int]:
    return store.outbox_counts()


async def until(predicate, loops: int = 10_000) -> None:
    for _ in range(loops):             # a deadlock guard, not a speed check
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")


async def run_until_idle(d: Delivery, adapter, posts: int) -> int:
    """The service's loop (run_forever) until `posts` went out, then a clean stop."""
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    await asyncio.wait_for(until(lambda: len(adapter.sends) >= posts, loops=10**9), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    return len(adapter.sends)


async def sent_then_edit_queued(store, clock, adapter):
    """Deliver story1, then queue an edit of it (another outlet joined its cluster)."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    d = delivery(store, clock, adapter)
    await d.run_once()
    row = store.outbox_post(1)
    grown = Brief.from_json({**row.brief.to_json(), "also_reported_by": ["FT"]})
    assert store.update_post_brief(row.id, grown, now=clock()) == "edit"
    return d


def error_records(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "ainews.delivery" and r.levelno == logging.ERROR]


def nonces(store, *row_ids: int) -> list[str]:
    """The nonces of these outbox rows: their ids in the database's life (meta)."""
    epoch = store.get_meta("nonce_epoch")
    return [f"ainews-{epoch}-{i}" for i in row_ids]
