"""`/why` for a channel member, in plain words: whether the bot counted the story as AI
strategy news and what weighed most, which subscription brought it to a channel, and
whether it was posted, held or put in a roundup. The operator's console and
`ainews why` keep the classifier's own terms (bot/why.py): "rules: term:price war
+6.75 [pricing] (title); cap:pricing 18.3 → 4.5" told a reader nothing."""
from __future__ import annotations

import re
from datetime import timedelta

from bot.dispatch import EDITED_OUT, FEED_REMOVED, covers, story_keys
from bot.dispatch_edits import made_before
from bot.platforms import platform_of
from bot.replies import DM
from bot.why import never_posted, too_late
from feeds.headline import clean_headline
from feeds.models import UNDATED, Subscription, shown_utc
from feeds.plural import count
from feeds.url_display import shown_url
from storage.records import Post, StoryRecord

_TERM = re.compile(r"^term:(?P<phrase>.+) \+[\d.e+-]+ \[(?P<topic>[^\]]+)\](?P<title> \(title\))?$")
_MOST_TERMS = 3
# What an outbox state means to a reader (storage/outbox.py).
_STATES = {"due": "waiting to be posted", "sending": "being posted",
           "sent": "posted {when}", "edit": "posted {when} (an update is on its way)",
           "editing": "posted {when} (an update is on its way)",
           "digested": "posted in a roundup {when}", "failed": "could not be posted ({error})",
           "cancelled": "not posted: the channel stopped following it first",
           "stale": "not posted: it waited so long (the bot stopped, or the channel was "
                    "paused or rate-limited) that it was no longer news",
           "kept": "kept while the channel is paused ({error}); /subscribe here once that "
                   "is fixed sends it",
           "resumed": "waiting to be posted (kept while the channel was paused)"}
# A cancel that was no channel's doing.
_CANCELLED = {FEED_REMOVED: "not posted: its feed was removed from the bot first",
              EDITED_OUT: "not posted: its story was edited before it went out, and is no "
                          "longer news this channel follows"}


def as_chat_text(r: StoryRecord, store, here: tuple[str, str, str],
                 max_post_age: timedelta | None = None, parent: str = "",
                 keep_days: int | None = None) -> str:
    """The record for a reader in channel `here` (platform, workspace, channel): their
    channel's post as "this channel", their workspace's other channels only counted.
    `parent`: the channel a thread asked in is in, whose post (the one the thread was
    opened under) is told as that channel's when the thread has none of its own."""
    s, c = r.story, r.story.classification
    headline, source = clean_headline(s.title, s.source)
    lines = [headline, f"{source} · {shown_utc(s.published)} · {shown_url(s.url) or s.id}",
             _verdict(c), f"Companies: {', '.join(c.companies) or 'none'} · Topics: "
                          f"{', '.join(c.topics) or 'none'}"]
    lines += [x for x in (_weighed(c.reasons), _judge(c.reasons), _cluster(r)) if x]
    if never_posted(r):
        return "\n".join(lines + [_never_posted(r, max_post_age)])
    if r.pruned_from and not r.posts:   # older than the bot keeps: nothing to tell by
        return "\n".join(lines + [_forgotten(keep_days)])
    strategy, about = _routed_on(r, store)
    if here[1] == DM:       # no server, nothing followed: no channel's post to tell of
        return "\n".join(lines + [_in_dm(strategy, here[0])])
    return "\n".join(filter(None, lines + _posts_here(r, store, here, parent, strategy,
                                                      about)))


def _posts_here(r: StoryRecord, store, here: tuple[str, str, str], parent: str,
                strategy: bool, about: dict[str, set[str]]) -> list[str]:
    """The asker's channel's post, found by the channel alone: an Enterprise Grid
    channel shared by several workspaces is one channel, its post stored with the
    subscriber's workspace. Only the asker's workspace's other channels are counted."""
    mine = [p for p in r.posts if p.platform == here[0]]
    channel, label = here[2], "This channel"
    if parent and not any(p.channel == channel for p in mine):
        channel, label = parent, "The channel this thread is in"
    ours = [_post_line(p, store, about, label) for p in mine if p.channel == channel]
    others = len({p.channel for p in mine if p.workspace == here[1]} - {here[2], channel})
    if not ours and strategy and (before := _came_before(r, store, here[0], channel, about)):
        return [before, f"{_others_get(others, here[0])}." if others else ""]
    return ours + [_elsewhere(ours, others, here[0], strategy)]


def _came_before(r: StoryRecord, store, platform: str, channel: str,
                 about: dict[str, set[str]]) -> str:
    """Why a channel following the story now has no post of it: it subscribed after the
    story came, and a subscription gets the stories new from then on ("no channel in
    this workspace follows its companies or topics" was said to a channel that did)."""
    subs = [s for s in store.subscriptions_for_channel(platform, channel)
            if covers(s, about) and not s.paused]
    if not subs or any(made_before(s, r.first_seen) for s in subs):
        return ""
    return (f"Not posted in this channel: it came before the channel followed "
            f"{_followed(subs, about)}, and a subscription gets the stories new from then on.")


def _elsewhere(ours: list[str], others: int, platform: str, strategy: bool) -> str:
    """The workspace's other channels, counted: by id ("Channel C0123") a reader could not
    tell them, and a private one's existence and news are no member's business."""
    if not others:
        place = f"in this {platform_of(platform).workspace}"   # in its platform's word
        return "" if ours else _unposted(strategy, place)
    if ours:
        return f"{_others_get(others, platform)} too."
    return f"Not posted in this channel; {_others_get(others, platform)}."


def _others_get(others: int, platform: str) -> str:
    place = f"in this {platform_of(platform).workspace}"
    return f"{count(others, 'other channel')} {place} {'gets' if others == 1 else 'get'} it"


def _in_dm(strategy: bool, platform: str) -> str:
    """A direct message (Discord's: no server) follows nothing; where the story went is
    its channels' business, in servers the asker may not be in."""
    if not strategy:
        return _unposted(strategy, "")
    return (f"A direct message follows nothing: ask in a {platform_of(platform).workspace} "
            "channel to see whether it was posted there.")


def _routed_on(r: StoryRecord, store) -> tuple[bool, dict[str, set[str]]]:
    """Whether routing posts the story's cluster, and the companies and topics it judged:
    each strategy report of the cluster is routed by its own, so a channel may have the
    lead's post for the lead's (a report listed under it was judged on its own: no
    reason given) or this report's for this one's (judged on the lead's: none either)."""
    stories = store.cluster_strategy_stories(r.story.id) or [r.story]
    cs = [s.classification for s in stories]
    return (any(c.strategy for c in cs),
            story_keys([n for c in cs for n in c.companies], [t for c in cs for t in c.topics]))


def _verdict(c) -> str:
    if c.strategy:
        return "Counted as AI strategy news."
    if any(x.startswith("veto:") for x in c.reasons):
        return "Not counted as AI strategy news: it names something this bot never posts."
    if any(x.startswith("gate:not about AI") for x in c.reasons):
        return "Not counted as AI strategy news: it is not about AI."
    return "Not counted as AI strategy news: too little of it is about AI strategy."


def _weighed(reasons: tuple[str, ...]) -> str:
    """The phrases that weighed most, with their topics ("price war" for pricing)."""
    terms = [m for x in reasons if (m := _TERM.match(x))][:_MOST_TERMS]
    if not terms:
        return ""
    said = [f"\"{m['phrase']}\"" + (" in the headline" if m["title"] else "") for m in terms]
    return "Words that weighed most: " + ", ".join(said) + "."


def _judge(reasons: tuple[str, ...]) -> str:
    said = [x for x in reasons if x.startswith("llm: ")][-1:]
    return f"Second opinion (a language model): {said[0].removeprefix('llm: ')}." if said else ""


def _cluster(r: StoryRecord) -> str:
    if r.lead:
        return (f"Another outlet's report of the same news ({r.lead[1]}) was posted instead; "
                "this one is listed under it as also reported by.")
    if r.members:
        return f"Also reported by {', '.join(r.members)}: one post for all of them."
    return ""


def _post_line(p: Post, store, about: dict[str, set[str]], label: str) -> str:
    """The asker's own channel's post: its state, and what brought it."""
    state = _STATES.get(p.state, p.state).format(
        when=shown_utc(p.sent_at) if p.sent_at else "", error=p.last_error or "no reason given")
    if p.state == "cancelled":
        state = _CANCELLED.get(p.last_error, state)
    if p.state == "held":
        roundup = store.digest_setting(p.platform, p.channel) is not None
        state = ("held for the channel's daily roundup" if roundup else
                 "held for a roundup: the channel had its hourly number of posts")
    # A cancelled post was not posted *because* of what the channel follows.
    why = "" if p.state == "cancelled" else _followed(
        store.subscriptions_for_channel(p.platform, p.channel), about)
    return f"{label}: {' '.join(state.split())}" + (f", because it follows {why}." if why else ".")


def _followed(subs: list[Subscription], about: dict[str, set[str]]) -> str:
    """What the channel follows that the story is about ("Alibaba, the topic pricing
    and the topic china"; `about`: story_keys). A topic is called one: its slug alone
    read as a word ("because it follows policy", "follows china"), and three read "A
    and B and C"."""
    names = ["all AI strategy news" if s.kind == "all" else
             f"the topic {s.target}" if s.kind == "topic" else s.target for s in subs
             if covers(s, about)]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _never_posted(r: StoryRecord, max_post_age: timedelta | None) -> str:
    late = too_late(r, max_post_age)
    if late:
        return (f"Not posted: it was published {late} before the bot first saw it, older "
                "than the news it posts.")
    if UNDATED in r.story.flags:
        return ("Not posted: it has no date, and the bot stored it when it first read its "
                "feed's entries, of which it posts none (no flood of old news).")
    return ("Not posted: the bot stored it when it first read its feed, and posts none of "
            "that first batch (no flood of old news).")


def _forgotten(keep_days: int | None) -> str:
    kept = f"for {keep_days} days" if keep_days else "for a while"
    return (f"Posted or not: no longer known. The bot keeps a story in full {kept}; this "
            "one is older, and its text and post records were forgotten.")


def _unposted(strategy: bool, place: str) -> str:
    if not strategy:
        return "Not posted: only AI strategy news is posted."
    return (f"Not posted here: no channel {place} follows its companies or topics "
            "(or its post is not due yet).")
