"""The soak with a real hourly cap (`bench/soak.py --cap N`): what is checked beyond the
uncapped soak's invariants (the publishing pace is bench/soak_publish.py's CapPace).

With the cap, once a channel has had seven tenths of its cap in an hour, its next
message waits its turn (bot/pacing.py: after spread_from(cap) messages, spread_gap(cap)
apart), and the stories waiting meanwhile go together in one roundup. So a story counts as delivered
when it is in its own post or in one roundup on that channel (the uncapped checks count
every story id in any message, so a second appearance anywhere is a duplicate), and the
cap itself is checked on the fakes' receive times: no channel got more than `cap`
messages in any sliding hour.
"""
from __future__ import annotations

import re
from statistics import median

from bot.pacing import HOUR, spread_from, spread_gap
from soak_check import UID, as_dict

# A roundup's title (bot/roundup_text.py overflow_title); no soak story's headline has it.
ROUNDUP_TITLE = re.compile(r"^More AI strategy news \(this channel gets at most")


def messages(discord, slack, t0: float) -> dict[tuple[str, str], list[tuple[float, set, bool]]]:
    """(platform, channel) -> [(seconds into the run, story ids, is a roundup)], one
    entry per message the fakes hold (a replayed Discord nonce creates none)."""
    out: dict[tuple[str, str], list] = {}
    for m in discord.posts():
        at = discord.created.get(m["id"], t0) - t0
        ids = set(UID.findall(str(m.get("embeds") or []) + (m.get("content") or "")))
        roundup = bool(ROUNDUP_TITLE.match(m.get("content") or ""))
        out.setdefault(("discord", m["channel_id"]), []).append((at, ids, roundup))
    for p in slack.posts():
        at = (p.get("_created") or t0) - t0
        ids = set(UID.findall(str([as_dict(p.get(k)) for k in ("text", "blocks")])))
        roundup = bool(ROUNDUP_TITLE.match(p.get("text") or ""))
        out.setdefault(("slack", p["channel"]), []).append((at, ids, roundup))
    return out


def most_in_an_hour(times: list[float]) -> int:
    """The most messages in any sliding hour (one exactly an hour after another counts
    as in its hour, as bot/pacing.py counts it)."""
    times, most, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > HOUR.total_seconds():
            lo += 1
        most = max(most, hi - lo + 1)
    return most


def spread_breaches(times: list[float], cap: int, slack: float = 1.0) -> list[float]:
    """Messages that came sooner than their turn: once spread_from(cap) went in the
    hour, each next waits spread_gap(cap) after the one before (bot/pacing.py
    frees_at). The bot times its turn from its own record of the send, which is never
    before the fake received it, so receive times keep the gap; `slack` absorbs clocks."""
    times, gap, early = sorted(times), spread_gap(cap).total_seconds(), []
    for i in range(1, len(times)):
        in_hour = sum(1 for t in times[:i] if times[i] - t <= HOUR.total_seconds())
        if in_hour >= spread_from(cap) and times[i] - times[i - 1] < gap - slack:
            early.append(round(times[i], 1))
    return early


def cap_rows(v, channels, msgs: dict, expected: dict, cap: int) -> list[list[str]]:
    """Per channel: messages, the most in a sliding hour, own posts against stories in
    roundups, and their publish-to-post latency medians. Checks the cap and the spread."""
    table, own_lat, roundup_lat, totals = [], [], [], [0, 0]
    for ch in channels:
        got = msgs.get((ch.platform, ch.id), [])
        times = [at for at, _, _ in got]
        most, early = most_in_an_hour(times), spread_breaches(times, cap)
        v.check(most <= cap, f"{ch.label}: {most} messages in one hour (cap {cap})")
        v.check(not early, f"{ch.label}: messages sooner than their spread turn at t={early}")
        own = [(at, u) for at, ids, r in got if not r for u in ids if u in expected]
        rounded = [(at, u) for at, ids, r in got if r for u in ids if u in expected]
        if ch.deleted_at is None:
            own_lat += [at - expected[u]["t"] for at, u in own]
            roundup_lat += [at - expected[u]["t"] for at, u in rounded]
            totals = [totals[0] + len(rounded), totals[1] + sum(r for *_, r in got)]
        table.append([ch.label, str(len(got)), f"{most} (cap {cap})", str(len(early)),
                      str(len(own)), f"{len(rounded)} ({sum(r for *_, r in got)})"])
    v.data["cap"] = {"cap": cap, "in_roundups": totals[0], "roundups": totals[1],
                     "own_median_s": _median(own_lat), "roundup_median_s": _median(roundup_lat),
                     "table": table}
    return table


def cap_line(cap: dict) -> str:
    return (f"cap: {cap['cap']} messages an hour a channel; on live channels {cap['in_roundups']} "
            f"stories went in {cap['roundups']} roundups; latency median own posts "
            f"{cap['own_median_s']} s, in roundups {cap['roundup_median_s']} s")


CAP_HEADER = ["channel", "messages", "most in a sliding hour", "sooner than their turn",
              "own posts", "in roundups (roundups)"]


def _median(values: list[float]) -> float | None:
    return round(median(values), 1) if values else None
