"""Dispatch: new strategy stories -> the outbox rows of the channels that follow them.

Entry point for the run loop, after a pass has stored and condensed new stories:

    queued = dispatch_new(store, new_stories, now)   # then delivery.wake()

Each (story cluster, channel) is one outbox row (UNIQUE in the store), so a channel gets
a story once even when several of its subscriptions match or several outlets report it.
A later outlet of a cluster already posted queues an edit ("also reported by") instead.
Backlog (the first poll of a feed) must not be passed in: it is stored, never posted.
Stories their feed edited are routed again by bot/dispatch_edits.py."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable

from feeds.models import Brief, Story, Subscription

log = logging.getLogger("ainews.dispatch")


@dataclass(frozen=True, slots=True)
class Post:
    cluster_id: str
    brief: Brief


def dispatch_new(store, stories: Iterable[Story | Brief], now: datetime) -> int:
    """Queue new stories for their channels; returns rows queued (posts and edits)."""
    subs = store.routed_subscriptions()
    if not subs:
        return 0
    queued, kept = 0, kept_channels(subs)
    with store.outbox_transaction():         # one commit per pass, not per row
        for item in stories:
            post = post_for(store, item)
            if not post.brief.strategy:
                continue
            for p, w, c in matching_channels(subs, post.brief):
                queued += route(store, post, p, w, c, now=now, kept=(p, c) in kept)
    log.debug("dispatch: queued %d post(s) and edit(s)", queued)   # the service logs it
    return queued


EDITED_OUT = "cancelled: an edit made it no longer a strategy story this channel follows"
FEED_REMOVED = "cancelled: its feed was removed before it was posted"
# Cancels no channel asked for: a story of the cluster earning the channel again (an
# edit, or a followed feed carrying news a removed one left) brings the post back.
REVIVABLE = (EDITED_OUT, FEED_REMOVED)
# A post not yet out nor in flight (storage/outbox.py WAITING).
WAITING = ("due", "held", "kept", "resumed")
# A post out (an edit of it may wait): a channel paused keeping its posts gets no edit
# of one, which would be tried where the bot may no longer post, refused and dropped.
OUT = ("sent", "edit")


def revive(store, row, brief: Brief, now: datetime, kept: bool) -> int:
    """A post an edit or a feed's removal cancelled is earned again, by `brief`'s story
    (a followed feed carries it): it waits as that."""
    if row.last_error not in REVIVABLE:
        return 0
    return int(store.revive_post(row.id, brief, reason=row.last_error, now=now, kept=kept,
                                 held=_held(store, row.platform, row.channel, kept)))


def _held(store, platform: str, channel: str, kept: bool) -> bool:
    """A post waits for its channel's digest; one kept while the channel is paused
    joins it when resumed (bot/kept_posts.py)."""
    return not kept and store.digest_setting(platform, channel) is not None


def kept_channels(subs: list[Subscription]) -> set[tuple[str, str]]:
    """The channels paused keeping their posts: a story routed there waits as 'kept'."""
    return {(s.platform, s.channel) for s in subs if s.paused and s.keeps_posts}


def post_for(store, item: Story | Brief) -> Post:
    """The brief to post and its cluster; a Story gets its saved brief when there is one."""
    brief = item if isinstance(item, Brief) else brief_of(store, item)
    cluster_id, also = brief.id, ()
    info = store.cluster_info(brief.id) if hasattr(store, "cluster_info") else None
    if info:
        cluster_id, _lead, also = info
    merged = merge_outlets(brief, also)
    return Post(cluster_id=cluster_id or brief.id, brief=merged)


def brief_of(store, story: Story) -> Brief:
    saved = store.brief_for_hash(story.content_hash) if hasattr(store, "brief_for_hash") \
        else None
    c = story.classification
    base = saved or Brief(id=story.id, headline=story.title, bullets=(), why_it_matters="",
                          url=story.url, source=story.source, published=story.published,
                          dek=story.subtitle)
    # The saved brief may come from an identical story elsewhere: this story is the post.
    # Its own brief keeps the outlet its title named ("... | TechCrunch"), as lookups show.
    if base.id != story.id:
        base = replace(base, source=story.source)
    return replace(base, id=story.id, url=story.url,
                   published=story.published, companies=c.companies or base.companies,
                   topics=c.topics or base.topics, strategy=c.strategy or base.strategy,
                   score=c.score or base.score)


def matching_channels(subs: list[Subscription], brief: Brief) -> list[tuple[str, str, str]]:
    """(platform, workspace, channel) of each channel with a matching subscription, once."""
    about = story_keys(brief.companies, brief.topics)
    seen: dict[tuple[str, str], tuple[str, str, str]] = {}
    for s in subs:
        if (not s.paused or s.keeps_posts) and covers(s, about):
            seen.setdefault((s.platform, s.channel), (s.platform, s.workspace, s.channel))
    return list(seen.values())


def story_keys(companies: Iterable[str], topics: Iterable[str]) -> dict[str, set[str]]:
    """A story's companies and topics as `covers` compares them."""
    return {"company": {c.casefold() for c in companies},
            "topic": {t.casefold() for t in topics}}


def covers(sub: Subscription, about: dict[str, set[str]]) -> bool:
    """Whether `sub` brings a story about `about` (story_keys) to its channel: the one
    rule routing and /why's "because it follows ..." share."""
    return sub.kind == "all" or sub.target.casefold() in about.get(sub.kind, ())


def route(store, post: Post, platform: str, workspace: str, channel: str, *,
          now: datetime, kept: bool = False) -> int:
    existing = store.outbox_entry(post.cluster_id, platform, channel)
    if existing is None:
        return int(store.enqueue_post(cluster_id=post.cluster_id, brief=post.brief,
                                      platform=platform, workspace=workspace,
                                      channel=channel, now=now, kept=kept,
                                      held=_held(store, platform, channel, kept)))
    if existing.state == "cancelled" and existing.last_error in REVIVABLE:
        # An edit or a feed's removal cancelled another story's post of this cluster (or
        # this one's): this story earns the channel, so it gets the post (else the row's
        # UNIQUE slot lost it).
        return revive(store, existing, post.brief, now, kept)
    if existing.story_id == post.brief.id or existing.state in ("digested", "failed",
                                                                 "cancelled", "stale"):
        return 0
    if kept and existing.state in OUT:
        return 0
    grown = merge_outlets(existing.brief, (post.brief.source, *post.brief.also_reported_by))
    if grown.also_reported_by == existing.brief.also_reported_by:
        return 0
    state = store.update_post_brief(existing.id, grown, now=now)
    log.info("dispatch: %s/%s: %r also reported by %s (%s)", platform, channel,
             grown.headline, ", ".join(grown.also_reported_by), state)
    return int(state == "edit")


def merge_outlets(brief: Brief, outlets: Iterable[str]) -> Brief:
    names = list(brief.also_reported_by)
    for name in outlets:
        if name and name != brief.source and name not in names:
            names.append(name)
    return replace(brief, also_reported_by=tuple(names))
