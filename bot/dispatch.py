"""Dispatch: new strategy stories -> the outbox rows of the channels that follow them.

Entry point for the run loop, after a pass has stored and condensed new stories:

    queued = dispatch_new(store, new_stories, now)   # then delivery.wake()

Each (story cluster, channel) is one outbox row (UNIQUE in the store), so a channel gets
a story once even when several of its subscriptions match or several outlets report it.
A later outlet of a cluster already posted queues an edit ("also reported by") instead.
Backlog (the first poll of a feed) must not be passed in: it is stored, never posted."""
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
    subs = store.active_subscriptions()
    if not subs:
        return 0
    queued = 0
    with store.outbox_transaction():         # one commit per pass, not per row
        for item in stories:
            post = post_for(store, item)
            if not post.brief.strategy:
                continue
            for workspace_channel in matching_channels(subs, post.brief):
                queued += _route(store, post, *workspace_channel, now=now)
    log.debug("dispatch: queued %d post(s) and edit(s)", queued)   # the service logs it
    return queued


def post_for(store, item: Story | Brief) -> Post:
    """The brief to post and its cluster; a Story gets its saved brief when there is one."""
    brief = item if isinstance(item, Brief) else _brief_of(store, item)
    cluster_id, also = brief.id, ()
    info = store.cluster_info(brief.id) if hasattr(store, "cluster_info") else None
    if info:
        cluster_id, _lead, also = info
    merged = _merge_outlets(brief, also)
    return Post(cluster_id=cluster_id or brief.id, brief=merged)


def _brief_of(store, story: Story) -> Brief:
    saved = store.brief_for_hash(story.content_hash) if hasattr(store, "brief_for_hash") \
        else None
    c = story.classification
    base = saved or Brief(id=story.id, headline=story.title, bullets=(), why_it_matters="",
                          url=story.url, source=story.source, published=story.published,
                          dek=story.subtitle)
    # The saved brief may come from an identical story elsewhere: this story is the post.
    return replace(base, id=story.id, url=story.url, source=story.source,
                   published=story.published, companies=c.companies or base.companies,
                   topics=c.topics or base.topics, strategy=c.strategy or base.strategy,
                   score=c.score or base.score)


def matching_channels(subs: list[Subscription], brief: Brief) -> list[tuple[str, str, str]]:
    """(platform, workspace, channel) of each channel with a matching subscription, once."""
    companies = {c.casefold() for c in brief.companies}
    topics = {t.casefold() for t in brief.topics}
    seen: dict[tuple[str, str], tuple[str, str, str]] = {}
    for s in subs:
        if s.paused:
            continue
        t = s.target.casefold()
        if (s.kind == "all" or (s.kind == "topic" and t in topics)
                or (s.kind == "company" and t in companies)):
            seen.setdefault((s.platform, s.channel), (s.platform, s.workspace, s.channel))
    return list(seen.values())


def _route(store, post: Post, platform: str, workspace: str, channel: str, *,
           now: datetime) -> int:
    existing = store.outbox_entry(post.cluster_id, platform, channel)
    if existing is None:
        held = store.digest_setting(platform, channel) is not None
        return int(store.enqueue_post(cluster_id=post.cluster_id, brief=post.brief,
                                      platform=platform, workspace=workspace,
                                      channel=channel, held=held, now=now))
    if existing.story_id == post.brief.id or existing.state in ("digested", "failed",
                                                                 "cancelled"):
        return 0
    grown = _merge_outlets(existing.brief, (post.brief.source, *post.brief.also_reported_by))
    if grown.also_reported_by == existing.brief.also_reported_by:
        return 0
    state = store.update_post_brief(existing.id, grown, now=now)
    log.info("dispatch: %s/%s: %r also reported by %s (%s)", platform, channel,
             grown.headline, ", ".join(grown.also_reported_by), state)
    return int(state == "edit")


def _merge_outlets(brief: Brief, outlets: Iterable[str]) -> Brief:
    names = list(brief.also_reported_by)
    for name in outlets:
        if name and name != brief.source and name not in names:
            names.append(name)
    return replace(brief, also_reported_by=tuple(names))
