"""The soak's verdict: what the fake platforms received, against what should have been.

Posts are counted from the fakes' own records (Discord: messages created by POST
/channels/{id}/messages; Slack: chat.postMessage payloads it accepted) and matched to
stories by the story id in their URL ("soak-00042"). Every request body, including
refused ones and edits, is checked for text that could ping or disguise a link.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from statistics import median

from soak_fakes import as_dict
from soak_feeds import FAULT_KINDS

UID = re.compile(r"soak-\d{5}")
MASS_MENTION = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
DISCORD_MENTION = re.compile(r"<(@[!&]?|#)\d+>")
MASKED_LINK = re.compile(r"(?<!\\)\[([^\[\]]*)(?<!\\)\]\(\s*<?(https?://[^)\s>]+)")
SLACK_SPECIAL = re.compile(r"<(!|@|https?://)([^>|]*)")


@dataclass
class Channel:
    platform: str
    id: str
    label: str
    deleted_at: float | None = None      # seconds into the run


@dataclass
class Verdict:
    rows: list[list[str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)

    def check(self, ok: bool, message: str) -> bool:
        if not ok:
            self.failures.append(message)
        return ok


def strings(node) -> list[str]:
    """Every string inside a JSON-ish value (dict keys excluded)."""
    node = as_dict(node)
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return []


def discord_hostile(body: dict) -> list[str]:
    problems = []
    if (body.get("allowed_mentions") or {}).get("parse") != []:
        problems.append(f"allowed_mentions is {body.get('allowed_mentions')!r}")
    for s in strings({k: body.get(k) for k in ("content", "embeds")}):
        if MASS_MENTION.search(s) or DISCORD_MENTION.search(s):
            problems.append(f"active mention in {s[:80]!r}")
        for text, target in MASKED_LINK.findall(s):
            if not UID.search(target):      # our own links point at the story itself
                problems.append(f"masked link {text[:40]!r} -> {target}")
    return problems


def slack_hostile(payload: dict) -> list[str]:
    problems = []
    for s in strings({k: payload.get(k) for k in ("text", "blocks", "attachments")}):
        for kind, target in SLACK_SPECIAL.findall(s):
            ours = (kind.startswith("http") and UID.search(target)) or \
                (kind == "!" and re.fullmatch(r"date\^\d+\^\{date_short_pretty\} \{time\}",
                                              target))      # render.slack_date's token
            if not ours:
                problems.append(f"unescaped <{kind}{target[:40]} in {s[:80]!r}")
        if MASS_MENTION.search(s):
            problems.append(f"broadcast word in {s[:80]!r}")
    return problems


def posted(discord, slack, t0: float) -> dict[tuple[str, str], list[tuple[str, float]]]:
    """(platform, channel) -> [(story uid, seconds into the run)] for each post made."""
    out: dict[tuple[str, str], list] = {}
    for m in discord.posts():
        at = discord.created.get(m["id"], t0) - t0
        for uid in set(UID.findall(json.dumps(m.get("embeds") or []) + (m.get("content") or ""))):
            out.setdefault(("discord", m["channel_id"]), []).append((uid, at))
    for p in slack.posts():
        at = (p.get("_created") or t0) - t0
        body = json.dumps({k: as_dict(p.get(k)) for k in ("text", "blocks")})
        for uid in set(UID.findall(body)):
            out.setdefault(("slack", p["channel"]), []).append((uid, at))
    return out


def delivery_rows(v: Verdict, channels: list[Channel], posts: dict, expected: dict,
                  backlog: set) -> None:
    latencies, late = [], []
    for ch in channels:
        got = posts.get((ch.platform, ch.id), [])
        late += [(round(at - expected[uid]["t"], 1), ch.label, uid) for uid, at in got
                 if uid in expected]
        counts = Counter(uid for uid, _ in got)
        dups = sum(n - 1 for n in counts.values())
        floods = sorted(set(counts) & backlog)
        if ch.deleted_at is None:
            should = set(expected)
            lost = sorted(should - set(counts))
            latencies += [at - expected[uid]["t"] for uid, at in got if uid in expected]
            v.check(not lost, f"{ch.label}: {len(lost)} lost, e.g. {lost[:5]}")
        else:
            should = {u for u, e in expected.items() if e["t"] < ch.deleted_at}
            lost = []
        allowed = 0     # Discord: nonce; Slack: the retry finds its post in history
        v.check(dups <= allowed, f"{ch.label}: {dups} duplicate posts (allowed {allowed})")
        v.check(not floods, f"{ch.label}: posted backlog (first-poll) stories {floods[:5]}")
        v.rows.append([ch.label, str(len(should)) + (" (before deletion)" if ch.deleted_at
                                                     is not None else ""),
                       str(len(counts)), str(len(lost)) if ch.deleted_at is None else "n/a",
                       f"{dups} (max {allowed})", str(len(floods))])
    v.data["slowest_posts"] = sorted(late, reverse=True)[:10]
    if latencies:
        v.data["latency_s"] = {"median": round(median(latencies), 1),
                               "max": round(max(latencies), 1)}


def hostile_rows(v: Verdict, discord, slack, posts: dict, expected: dict) -> None:
    found = []
    for r in discord.requests:
        if r.method in ("POST", "PATCH") and "/messages" in r.path and isinstance(r.json, dict):
            found += [f"discord {r.path}: {p}" for p in discord_hostile(r.json)]
    for c in slack.payloads():
        found += [f"slack {c.method} {c.payload.get('channel')}: {p}"
                  for p in slack_hostile(c.payload)]
    hostile_posted = {uid for got in posts.values() for uid, _ in got
                      if expected.get(uid, {}).get("hostile")}
    v.data["hostile"] = {"violations": found[:20], "hostile_stories_posted": len(hostile_posted)}
    v.check(not found, f"{len(found)} posts with an active mention or disguised link: "
                       f"{found[:3]}")
    v.check(bool(hostile_posted) or not any(e["hostile"] for e in expected.values()),
            "no hostile story was posted at all: the check saw nothing")


def feed_rows(v: Verdict, fleet, states: dict) -> list[list[str]]:
    """Per fault kind: the bot's view of those feeds at the end."""
    table = []
    by_kind: dict[str, list] = {}
    for feed in fleet.feeds:
        for f in feed.faults:
            tag = f.kind + (" (failing before the soak)" if f.preseeded else
                            "" if f.end is not None else " (for good)")
            by_kind.setdefault(tag, []).append((feed, f))
    for tag, items in sorted(by_kind.items()):
        seen = []
        for feed, fault in items:
            st = states.get(feed.url)
            seen.append(st.health if st else "missing")
            _check_feed(v, feed, fault, st)
        errors = {(states[f.url].last_error or "").split(":")[0] for f, _ in items
                  if f.url in states and states[f.url].last_error}
        table.append([tag, str(len(items)), ", ".join(f"{n} {h}" for h, n in
                                                     sorted(Counter(seen).items())),
                      ", ".join(sorted(errors)) or "-"])
    clean = [f for f in fleet.feeds if not f.faults]
    bad = [f.url for f in clean if states.get(f.url) is None or states[f.url].paused]
    v.check(not bad, f"{len(bad)} healthy feeds paused or missing: {bad[:3]}")
    table.append(["no fault", str(len(clean)), ", ".join(
        f"{n} {h}" for h, n in sorted(Counter(states[f.url].health for f in clean
                                              if f.url in states).items())), "-"])
    return table


def _check_feed(v: Verdict, feed, fault, st) -> None:
    want = FAULT_KINDS[fault.kind]
    if st is None:
        v.check(False, f"feed {feed.url} missing from the store")
        return
    if fault.preseeded:
        v.check(st.paused, f"{feed.url} ({fault.kind}) should be paused after its 10th failure")
        v.check(not want or (st.last_error or "").startswith(want),
                f"{feed.url} ({fault.kind}) paused for {st.last_error!r}, expected {want}")
    elif fault.end is None:
        v.check(st.failures > 0 and (st.last_error or "").startswith(want),
                f"{feed.url} ({fault.kind}) should be failing with {want}: "
                f"{st.health} {st.last_error!r}")
    else:
        v.check(not st.paused, f"{feed.url} ({fault.kind}, transient) was paused")


def subscription_rows(v: Verdict, channels: list[Channel], paused: list) -> list[list[str]]:
    reasons = {(s.platform, s.channel): s.paused_reason for s in paused}
    table = []
    for ch in channels:
        reason = reasons.get((ch.platform, ch.id), "")
        if ch.deleted_at is not None:
            v.check(bool(reason), f"{ch.label}: deleted channel's subscription not paused")
            v.check("10003" in reason or "Unknown Channel" in reason
                    or "channel_not_found" in reason,
                    f"{ch.label}: paused for the wrong reason: {reason!r}")
        else:
            v.check(not reason, f"{ch.label}: live channel paused: {reason!r}")
        table.append([ch.label, "deleted" if ch.deleted_at is not None else "live",
                      reason or "active"])
    return table


def render_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *map(line, rows)])


def unfinished_posts(store, channels: list[Channel]) -> int:
    """Posts a live channel has not had yet (due, held, in flight) when the run ends: a
    late duplicate or a post stuck behind the cap, which the messages alone never show
    (an edit waiting its hour is of a post already out, and not counted)."""
    live = [(ch.platform, ch.id) for ch in channels if ch.deleted_at is None]
    return sum(store.db.execute(
        "SELECT COUNT(*) FROM outbox WHERE platform=? AND channel=? AND state IN "
        "('due','held','sending')", key).fetchone()[0] for key in live)
