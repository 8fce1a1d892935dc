"""Dispatch of edits: a story edited by its feed after it was routed is routed again
(`dispatch_edits`, on the stories the store recorded as edited): a channel it newly
matches gets it once (one subscribed before the story came: one subscribed since gets
only new stories), a post still waiting shows the current version, a post already out is
edited in place when what names the news changed (at most once an hour and MAX_EDITS
times: storage/post_edits.py), and a waiting post the story no longer earns (not strategy
any more, or no longer what the channel follows) is cancelled, and comes back if a later
edit earns it again. New stories are bot/dispatch.py's."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from bot.dispatch import (EDITED_OUT, OUT, WAITING, brief_of, kept_channels,
                          matching_channels, merge_outlets, post_for, revive, route)
from feeds.models import Brief, Story, Subscription
from storage.post_edits import MAX_EDITS

log = logging.getLogger("ainews.dispatch")


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


def _reroute(store, subs: list[Subscription], story: Story, now: datetime) -> Rerouted:
    post = post_for(store, story)
    wanted = {(p, c): (p, w, c) for p, w, c in matching_channels(subs, post.brief)} \
        if story.classification.strategy else {}
    rows = {(r.platform, r.channel): r for r in store.cluster_posts(post.cluster_id)}
    capped: list[str] = []
    changed = _revise_or_cancel(store, subs, story, post, wanted, rows, now, capped)
    changed += _queue_where_new(store, subs, story, post, wanted, rows, now)
    if capped:
        log.info("dispatch: %r has had its %d edits in %s; later changes are not applied "
                 "to a post already out (the store, lookups and posts not yet out have "
                 "them)", post.brief.headline, MAX_EDITS, ", ".join(capped))
    return changed


def _revise_or_cancel(store, subs: list[Subscription], story: Story, post, wanted: dict,
                      rows: dict, now: datetime, capped: list[str]) -> Rerouted:
    """The story's own posts: revised where the channel still wants it, cancelled where
    it waits and no story of the cluster earns the channel any more."""
    changed, others, kept = Rerouted(), None, kept_channels(subs)
    for key, row in rows.items():
        if row.story_id != story.id:
            continue          # another story of the cluster is that post: not this edit's
        if key in kept and row.state in OUT:
            continue          # out already: no edit while the channel is paused
        if key in wanted:
            changed += _revise(store, row, post.brief, now, capped, key in kept)
        elif row.state in WAITING and row.batch is None:
            if others is None:   # does another story of the cluster still earn it?
                others = _channels_of_others(store, subs, story)
            if key not in others:
                changed += _seen(store.cancel_posts([row.id], EDITED_OUT))
                log.info("dispatch: %s/%s: %r cancelled after an edit", *key,
                         post.brief.headline)
    return changed


def _queue_where_new(store, subs: list[Subscription], story: Story, post, wanted: dict,
                     rows: dict, now: datetime) -> Rerouted:
    """Channels the edited story newly earns, among those that followed it when it came."""
    changed, kept = Rerouted(), kept_channels(subs)
    since = _followed_then(store, subs, post.brief, story.id) if wanted else set()
    for key, target in wanted.items():
        if key not in rows and key not in since:
            continue        # subscribed after the story came: "new ones from now on"
        if key not in rows or rows[key].story_id != story.id:
            # New here, or another story's post: an edit may have cancelled it (route).
            if route(store, post, *target, now=now, kept=key in kept):
                changed += _seen(1)
                log.info("dispatch: %s/%s: %r queued after an edit", *key,
                         post.brief.headline)
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
    brief = merge_outlets(brief, row.brief.also_reported_by)
    if row.state == "cancelled":
        return _seen(revive(store, row, brief, now, kept))
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


def _channels_of_others(store, subs: list[Subscription], story: Story) -> set:
    return {(p, c) for other in store.cluster_strategy_stories(story.id)
            if other.id != story.id
            for p, _w, c in matching_channels(subs, brief_of(store, other))}


def _shown(brief: Brief) -> tuple:
    """What a reader sees of a brief: a change elsewhere (score) is no reason to edit."""
    return (brief.headline, brief.dek, brief.bullets, brief.why_it_matters, brief.url,
            brief.source, brief.published, brief.companies, brief.topics,
            brief.also_reported_by)
