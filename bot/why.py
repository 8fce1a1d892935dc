"""Why a story was posted or not, from what the classifier recorded: `why` in chat and
`ainews why` (bot/commands.py), as text for any surface or as JSON.

A post that should not have gone out (or a story that should have) is the question a
reader or operator asks first; the answer is the verdict, the phrases, learned features
and headline words that weighed most, the LLM judge's word, the cluster (only a
cluster's lead is posted) and where the cluster's post went."""
from __future__ import annotations

from dataclasses import asdict, replace
from datetime import timedelta

from feeds.headline import clean_headline
from feeds.models import UNDATED, iso_utc, shown_utc
from feeds.url_display import shown_url
from storage.records import Post, StoryRecord

# Reasons by what recorded them (feeds/classify.py, feeds/judge.py): the rest are the
# rule layer's phrases, companies and the AI gate.
_GROUPS = (("learned", "feature:"), ("words", "word:"))
_BACKLOG = "backlog: stored by a feed's first poll, never posted"
# Also what holds an undated entry after a first poll that read none (a 304, an empty
# feed): it bears the fetch time, so it can't show it is newer than the feed's archive.
_UNDATED = ("undated: stored by the first poll to read its feed's entries (without a date "
            "it can't show it is newer than the feed's archive), never posted")


def as_text(r: StoryRecord, workspace: tuple[str, str] | None = None,
            max_post_age: timedelta | None = None, channel: str | None = None,
            keep_days: int | None = None) -> str:
    """The record for people; `workspace` (platform, id): show only the posts there (a
    chat user sees their own workspace's channels, the operator's console all), and
    `channel`, the asker's, as "this channel" (its id, "slack C0123", told a reader
    nothing); `max_post_age` (AINEWS_MAX_POST_AGE_HOURS) tells a too-old story from a
    backlog; `keep_days` (AINEWS_KEEP_DAYS) is said of a pruned story."""
    if workspace:
        r = replace(r, posts=tuple(p for p in r.posts
                                   if (p.platform, p.workspace) == workspace))
    s, c = r.story, r.story.classification
    when = shown_utc(s.published)
    # As its brief shows it: "FT - Alibaba ..." read as another story than the post's.
    headline, source = clean_headline(s.title, s.source)
    lines = [headline, f"{source} · {when} · {shown_url(s.url) or s.id}",
             f"verdict: {_verdict_text(r)}"]
    lines += [f"LLM judge: {j.removeprefix('llm: ')}" for j in _judge(c.reasons)]
    lines += [f"LLM same-event check: {x.removeprefix('llm-event: ')}" for x in c.reasons
              if x.startswith("llm-event: ")]
    lines.append(f"companies: {', '.join(c.companies) or '-'} · topics: "
                 f"{', '.join(c.topics) or '-'}")
    lines += [f"{name}: {'; '.join(map(_arrowed, items))}"
              for name, items in _grouped(c.reasons) if items]
    lines.append(_cluster_line(r))
    lines += [pruned_line(keep_days)] if r.pruned_from else []
    lines.append(_held_line(r, max_post_age) if never_posted(r)
                 else _posts_line(r, channel if workspace else None))
    return "\n".join(lines)


def as_json(r: StoryRecord) -> dict:
    s, c = r.story, r.story.classification
    return {"id": s.id, "url": s.url, "headline": s.title, "source": s.source,
            "published": iso_utc(s.published),
            "first_seen": iso_utc(r.first_seen) if r.first_seen else None,
            "strategy": c.strategy, "score": c.score,
            # "verdict" is the raw reason, kept for scripts; "verdict_text" the text's words.
            "verdict": _verdict(c.reasons), "verdict_text": _verdict_text(r),
            "judge": " ".join(_judge(c.reasons)),
            "companies": list(c.companies), "topics": list(c.topics),
            "reasons": list(c.reasons), "status": r.status, "pruned": bool(r.pruned_from),
            "lead": {"id": r.lead[0], "source": r.lead[1]} if r.lead else None,
            "also_reported_by": list(r.members),
            "posts": [asdict(p) for p in r.posts]}


def _verdict(reasons: tuple[str, ...]) -> str:
    return next((x for x in reasons if x.startswith("verdict:")), "")


def _verdict_text(r: StoryRecord) -> str:
    """"strategy (score 1.20, ...)": the classifier's verdict in words, or the bare
    outcome for a story stored before verdicts were recorded."""
    c = r.story.classification
    said = _verdict(c.reasons).removeprefix("verdict:")
    return said or ("strategy" if c.strategy else "not strategy")


def _judge(reasons: tuple[str, ...]) -> list[str]:
    return [x for x in reasons if x.startswith("llm: ")][-1:]


def _grouped(reasons: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    told = ("verdict:", "llm: ", "llm-event: ") + tuple(prefix for _, prefix in _GROUPS)
    rules = [x for x in reasons if not x.startswith(told)]
    return [("rules", rules)] + [(name, [x for x in reasons if x.startswith(prefix)])
                                 for name, prefix in _GROUPS]


def _arrowed(reason: str) -> str:
    """"cap:pricing 18.3 -> 4.5" with an arrow: Slack, which keeps ">" out of its text,
    showed "-›"."""
    return reason.replace(" -> ", " → ")


def _cluster_line(r: StoryRecord) -> str:
    if r.lead:
        return (f"cluster: another report leads ({r.lead[1]}, {r.lead[0]}); only the lead "
                "is posted, this one shows as also reported by")
    if not r.members:
        return "cluster: no other outlet's report of this event is stored"
    return f"cluster: this story leads, also reported by {', '.join(r.members)}"


def never_posted(r: StoryRecord) -> bool:
    """Stored as backlog, so never posted. The prune marks every story it slims
    "backlog" too: one that was new then (or slimmed before that was kept) may have
    been posted, and its post records are gone."""
    return r.status == "backlog" and r.pruned_from in ("", "backlog")


def pruned_line(keep_days: int | None) -> str:
    older = (f"first seen over AINEWS_KEEP_DAYS ({keep_days} days) ago" if keep_days
             else "slimmed by `ainews prune`")
    return f"pruned: {older}: its text and post records were forgotten"


def _held_line(r: StoryRecord, max_post_age: timedelta | None) -> str:
    """Why a stored story was never posted: a story published long before the bot first
    saw it was told "stored by a feed's first poll", the wrong reason to act on."""
    late = too_late(r, max_post_age)
    if late is None:
        return _UNDATED if UNDATED in r.story.flags else _BACKLOG
    hours = max_post_age.total_seconds() / 3600
    return (f"too old: published {late} before it was first seen, over "
            f"AINEWS_MAX_POST_AGE_HOURS ({hours:g}); stored, never posted")


def too_late(r: StoryRecord, max_post_age: timedelta | None) -> str | None:
    """How long before the bot first saw it the story was published ("3 days"), when
    that is over `max_post_age`; else None."""
    late = r.first_seen - r.story.published if r.first_seen else None
    if not (max_post_age and late and late > max_post_age):
        return None
    return f"{late.days} days" if late.days >= 2 else f"{late.total_seconds() / 3600:.0f} h"


def _posts_line(r: StoryRecord, here: str | None = None) -> str:
    """The posts, each with its channel: `here`, the asker's channel in chat, is "this
    channel" and the others "channel ID" (one workspace's: no platform to tell apart)."""
    where = "posts of its cluster" if r.lead else "posts"
    if r.posts and here is not None:
        return f"{where}: " + "; ".join(_post_here(p, here) for p in r.posts)
    if r.posts:
        return f"{where}: " + "; ".join(map(_post, r.posts))
    if r.pruned_from:
        return f"{where}: none left on record"
    if not r.story.classification.strategy:
        return f"{where}: none (not a strategy story)"
    return f"{where}: none (no channel subscribed to its companies or topics, or not yet due)"


def _post(p: Post) -> str:
    return f"{p.platform} {p.channel} {_state(p)}"


def _post_here(p: Post, here: str) -> str:
    return f"{'this channel' if p.channel == here else f'channel {p.channel}'}, {_state(p)}"


def _state(p: Post) -> str:
    sent = f" {shown_utc(p.sent_at)}" if p.sent_at else ""
    error = f" ({p.last_error})" if p.last_error else ""
    return f"{p.state}{sent}{error}"

