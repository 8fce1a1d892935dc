"""Dispatch: new strategy stories -> the outbox rows of the channels that follow them.

Entry point for the run loop, after a pass has stored and condensed new stories:

    queued = dispatch_new(store, new_stories, now)   # then delivery.wake()

Each (story cluster, channel) is one outbox row (UNIQUE in the store), so a channel gets
a story once even when several of its subscriptions match or several outlets report it.
A later outlet of a cluster already posted queues an edit ("also reported by") instead.
Backlog (the first poll of a feed) must not be passed in: it is stored, never posted.

A story edited by its feed after it was routed is routed again (`dispatch_edits`, on the
stories the store recorded as edited): a channel it newly matches gets it once (one
subscribed before the story came: one subscribed since gets only new stories), a post
still waiting shows the current version, a post already out is edited in place when what
names the news changed (at most once an hour and MAX_EDITS times: storage/post_edits.py),
and a waiting post the story no longer earns (not strategy any more, or no longer what the
channel follows) is cancelled, and comes back if a later edit earns it again."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Iterable

from feeds.models import Brief, Story, Subscription
from storage.post_edits import MAX_EDITS

log = logging.getLogger("ainews.dispatch")


@dataclass(frozen=True, slots=True)
class Post:
    cluster_id: str
    brief: Brief


@dataclass(frozen=True, slots=True)
class Rerouted:
    """What routing edits did: outbox rows changed, and `seen`, those of them a channel
    will notice: a post queued, cancelled or revived, an edit due now. An edit waiting
    for its hour, or dropped as the headline flipped back, or a post not out yet taking
    the new text, is not: a feed A/B-testing headlines does those at every poll."""
    changed: int = 0
    seen: int = 0

    def __add__(self, other: Rerouted) -> Rerouted:
        return Rerouted(self.changed + other.changed, self.seen + other.seen)


def _seen(changed: int) -> Rerouted:
    return Rerouted(changed, changed)


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
                queued += _route(store, post, p, w, c, now=now, kept=(p, c) in kept)
    log.debug("dispatch: queued %d post(s) and edit(s)", queued)   # the service logs it
    return queued


EDITED_OUT = "cancelled: an edit made it no longer a strategy story this channel follows"
FEED_REMOVED = "cancelled: its feed was removed before it was posted"
# Cancels no channel asked for: a story of the cluster earning the channel again (an
# edit, or a followed feed carrying news a removed one left) brings the post back.
REVIVABLE = (EDITED_OUT, FEED_REMOVED)
# A post not yet out nor in flight (storage/outbox.py WAITING).
WAITING = ("due", "held", "kept", "resumed")


def dispatch_edits(store, stories: Iterable[Story], now: datetime, *,
                   max_age: timedelta | None = None) -> Rerouted:
    """Route edited new stories again, each as stored now; returns the outbox rows changed
    (posts queued, revised, cancelled or revived, edits queued), and those of them a
    channel will notice (the service logs only those at INFO). Idempotent: a crash
    before the store forgets the edits routes them again to the same effect. A story
    older than `max_age` (AINEWS_MAX_POST_AGE_HOURS) is news no more: its edits change
    nothing (no post, no edit; a feed rewriting its archive floods nothing)."""
    subs = store.routed_subscriptions()
    changed = Rerouted()
    with store.outbox_transaction():
        for story in still_news(store, stories, now, max_age):
            try:   # a savepoint each: a story failing is undone alone
                with store.outbox_transaction():
                    changed += _reroute(store, subs, story, now)
            except Exception as e:
                if (halt := store.unusable(e)) is not None:   # every story would fail
                    raise halt from None
                # Logged and forgotten with the rest: retried, it would fail every
                # pass and hold back every later edit for good.
                log.exception("dispatch: routing the edit of %s (%s) failed; skipped",
                              story.id, story.url)
    log.debug("dispatch: edits changed %d outbox row(s), %d seen", changed.changed, changed.seen)
    return changed


def still_news(store, stories: Iterable[Story], now: datetime,
               max_age: timedelta | None) -> list[Story]:
    """The edited stories still news: published and first stored within `max_age`. A feed
    rewriting its archive often stamps every entry with the time of the rewrite; the
    story is as old as when it was first seen all the same."""
    stories = list(stories)
    if max_age is None or not stories:
        return stories
    cutoff = now - max_age
    seen = store.first_seen([s.id for s in stories])
    return [s for s in stories if s.published >= cutoff and seen.get(s.id, now) >= cutoff]


def kept_channels(subs: list[Subscription]) -> set[tuple[str, str]]:
    """The channels paused keeping their posts: a story routed there waits as 'kept'."""
    return {(s.platform, s.channel) for s in subs if s.paused and s.keeps_posts}


def _reroute(store, subs: list[Subscription], story: Story, now: datetime) -> Rerouted:
    post, kept = post_for(store, story), kept_channels(subs)
    wanted = {(p, c): (p, w, c) for p, w, c in matching_channels(subs, post.brief)} \
        if story.classification.strategy else {}
    rows = {(r.platform, r.channel): r for r in store.cluster_posts(post.cluster_id)}
    changed, others, capped = Rerouted(), None, []
    for key, row in rows.items():
        if row.story_id != story.id:
            continue          # another story of the cluster is that post: not this edit's
        if key in wanted:
            changed += _revise(store, row, post.brief, now, capped, key in kept)
        elif row.state in WAITING and row.batch is None:
            if others is None:   # does another story of the cluster still earn it?
                others = _channels_of_others(store, subs, story)
            if key not in others:
                changed += _seen(store.cancel_posts([row.id], EDITED_OUT))
                log.info("dispatch: %s/%s: %r cancelled after an edit", *key,
                         post.brief.headline)
    since = _followed_then(store, subs, post.brief, story.id) if wanted else set()
    for key, target in wanted.items():
        if key not in rows and key not in since:
            continue        # subscribed after the story came: "new ones from now on"
        if key not in rows or rows[key].story_id != story.id:
            # New here, or another story's post: an edit may have cancelled it (_route).
            if _route(store, post, *target, now=now, kept=key in kept):
                changed += _seen(1)
                log.info("dispatch: %s/%s: %r queued after an edit", *key,
                         post.brief.headline)
    if capped:
        log.info("dispatch: %r has had its %d edits in %s; later changes are not applied "
                 "to a post already out (the store, lookups and posts not yet out have "
                 "them)", post.brief.headline, MAX_EDITS, ", ".join(capped))
    return changed


def _followed_then(store, subs: list[Subscription], brief: Brief, story_id: str) -> set:
    """The channels `brief` matches by subscriptions made before its story first came.
    An edit posts the story where it newly matches, never to a channel subscribed since:
    that channel got every story of the last 48 hours its feed edited (an A/B-tested
    headline, a points count) as if new, a flood where `subscribe` had said "new ones
    from now on"."""
    first = store.first_seen([story_id]).get(story_id)
    then = [s for s in subs if made_before(s, first)]
    return {(p, c) for p, _w, c in matching_channels(then, brief)}


def made_before(sub: Subscription, first_seen: datetime | None) -> bool:
    """Whether `sub` was made (or resumed) before a story first stored at `first_seen`
    came; either unknown counts as before. Stored first_seen has whole seconds."""
    return first_seen is None or sub.since is None or \
        sub.since.replace(microsecond=0) <= first_seen


def _revise(store, row, brief: Brief, now: datetime, capped: list[str],
            kept: bool) -> Rerouted:
    """The row's story was edited and the channel still wants it. A post already out
    follows the edit rules (storage/post_edits.py); `capped` gets the channels whose
    post the cap has just stopped; `kept`: the channel is paused keeping its posts."""
    brief = _merge_outlets(brief, row.brief.also_reported_by)
    if row.state == "cancelled":
        return _seen(_revive(store, row, brief, now, kept))
    if _shown(brief) == _shown(row.brief):
        return Rerouted()
    settled = store.revise_post(row.id, brief, now=now)
    if settled is None:
        return Rerouted()          # in a roundup, digested, failed
    if settled.capped:
        capped.append(f"{row.platform}/{row.channel}")
    if not settled.changed:
        return Rerouted()
    seen = _edit_goes_out(settled, now)
    _log_revision(row, brief, settled, seen)
    return Rerouted(1, int(seen))


def _edit_goes_out(settled, now: datetime) -> bool:
    """An edit of a post already out (or being sent) is due now: the channel sees it."""
    due_now = settled.state == "edit" and not (settled.at and settled.at > now)
    return due_now or settled.state in ("sending", "editing")


def _log_revision(row, brief: Brief, settled, seen: bool) -> None:
    """Only an edit going out is an INFO line: an A/B-tested headline queues the edit for
    its hour, or drops it (flipped back), at every poll, and a post not out yet takes
    each version; one line per poll for the 48 hours the story is news."""
    where = f"{row.platform}/{row.channel}"
    if seen:
        log.info("dispatch: %s: %r revised after an edit (%s)", where, brief.headline,
                 settled.state)
    elif settled.at:
        log.debug("dispatch: %s: %r: its edit waits until %s", where, brief.headline,
                  f"{settled.at:%H:%M} UTC")
    else:
        log.debug("dispatch: %s: %r revised after an edit (%s)", where, brief.headline,
                  settled.state)


def _revive(store, row, brief: Brief, now: datetime, kept: bool) -> int:
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


def _channels_of_others(store, subs: list[Subscription], story: Story) -> set:
    return {(p, c) for other in store.cluster_strategy_stories(story.id)
            if other.id != story.id
            for p, _w, c in matching_channels(subs, _brief_of(store, other))}


def _shown(brief: Brief) -> tuple:
    """What a reader sees of a brief: a change elsewhere (score) is no reason to edit."""
    return (brief.headline, brief.dek, brief.bullets, brief.why_it_matters, brief.url,
            brief.source, brief.published, brief.companies, brief.topics,
            brief.also_reported_by)


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


def _route(store, post: Post, platform: str, workspace: str, channel: str, *,
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
        return _revive(store, existing, post.brief, now, kept)
    if existing.story_id == post.brief.id or existing.state in ("digested", "failed",
                                                                 "cancelled", "stale"):
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
