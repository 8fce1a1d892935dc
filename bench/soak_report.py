"""The soak's final verdict and the report it prints (tables, then RESULT)."""
from __future__ import annotations

from soak_cap import CAP_HEADER, cap_line, cap_rows, messages
from soak_check import (Verdict, delivery_rows, feed_rows, hostile_rows, posted,
                        render_table, subscription_rows, unfinished_posts)
from soak_llm import latency_line, llm_checks
from soak_run import rss_verdict
from storage.store import Store


def judge(rig, exit_code: int | None, drained_at: float | None) -> Verdict:
    """Every invariant over what the fakes recorded and what the store holds."""
    v = Verdict()
    posts = posted(rig.discord, rig.slack, rig.t0)
    delivery_rows(v, rig.channels, posts, rig.expected, rig.backlog)
    hostile_rows(v, rig.discord, rig.slack, posts, rig.expected)
    if rig.args.cap is not None:
        _cap_checks(v, rig)
    store = Store(rig.db)
    try:
        feeds = feed_rows(v, rig.fleet, {s.source.url: s for s in store.feed_states()})
        subs = subscription_rows(v, rig.channels, store.paused_subscriptions())
        outbox = store.outbox_counts()
        waiting = unfinished_posts(store, rig.channels)
    finally:
        store.close()
    v.check(waiting == 0, f"{waiting} posts for live channels were still waiting in the "
                          "outbox when the run ended (a late duplicate, or a stuck post)")
    rss = rss_verdict(rig.bot.rss)
    _process_checks(v, rig, rss, exit_code, drained_at)
    v.data.update(_summary(rig, rss, outbox, drained_at))
    if rig.llm is not None:
        llm_checks(v, rig.llm, rig.short, v.data.get("latency_s", {}))
        lines = [rig.llm.line(), latency_line(v.data.get("latency_s", {}), rig.short)]
        v.data["llm"] = {**rig.llm.summary(), "lines": lines}
    v.data["post_times"] = {f"{p}/{c}": sorted((round(at, 1), uid) for uid, at in got)
                            for (p, c), got in posts.items()}
    v.data["published_times"] = {uid: round(e["t"], 1) for uid, e in rig.expected.items()}
    v.data.update({"delivery": v.rows, "feed_health": feeds, "subscriptions": subs,
                   "failures": v.failures})
    v.data["report"] = report(v, feeds, subs, rss)
    return v


def _cap_checks(v: Verdict, rig) -> None:
    """--cap: the cap and its spreading held on every channel, and roundups happened."""
    cap_rows(v, rig.channels, messages(rig.discord, rig.slack, rig.t0), rig.expected,
             rig.args.cap)
    v.check(rig.short or v.data["cap"]["roundups"] > 0,
            "no roundup was posted: the cap's spreading was never exercised")


def _process_checks(v: Verdict, rig, rss: dict, exit_code, drained_at) -> None:
    bot = rig.bot
    v.check(rss["growing"] is not True, f"memory kept growing: {rss}")
    v.check(bot.kills >= rig.args.kills, f"only {bot.kills} SIGKILLs happened")
    v.check(bot.starts == bot.kills + 1, "a restart is missing")
    v.check(exit_code == 0, f"ainews did not shut down cleanly on SIGTERM (exit {exit_code})")
    v.check(bot.log_text().count("service: adapters:") == bot.starts,
            "not every start of ainews came up (see ainews.log)")
    v.check(drained_at is not None,
            "the bot did not deliver everything before the drain deadline")


def _summary(rig, rss: dict, outbox: dict, drained_at) -> dict:
    d, s = rig.discord, rig.slack
    return {"minutes": rig.args.minutes, "feeds": rig.args.feeds, "seed": rig.args.seed,
            "stories_published": len(rig.expected), "backlog_stories": len(rig.backlog),
            "hostile_published": sum(e["hostile"] for e in rig.expected.values()),
            "kills": rig.bot.kills, "starts": rig.bot.starts, "rss": rss,
            "events": rig.events_done, "outbox": outbox, "drained_at_s": drained_at,
            "feed_fault_hits": rig.fleet.fault_hits,
            "platform_fault_hits": {"discord_outage": d.outage.hits, "discord_slow": d.slow.hits,
                                    "discord_late_accepts": d.late_accepts,
                                    "slack_outage": s.outage.hits, "slack_slow": s.slow.hits,
                                    "slack_late_accepts": s.late_accepts}}


def _memory_line(rss: dict) -> str:
    line = (f"memory: peak RSS {rss['peak_kb'] / 1024:.0f} MiB; longest-lived process "
            f"{rss['span_s']} s; ")
    if rss["growing"] is None:
        return line + "growth: too short to judge"
    return line + (f"first-third peak {rss['early_kb'] / 1024:.0f} MiB, last-third peak "
                   f"{rss['late_kb'] / 1024:.0f} MiB: "
                   f"{'GROWING' if rss['growing'] else 'not growing'}")


def _cap_parts(cap: dict | None) -> list[str]:
    return [] if cap is None else [cap_line(cap), render_table(CAP_HEADER, cap["table"])]


def report(v: Verdict, feeds: list, subs: list, rss: dict) -> str:
    d, lat = v.data, v.data.get("latency_s", {})
    parts = [
        f"soak: {d['minutes']:g} min, {d['feeds']} feeds, {d['stories_published']} new "
        f"stories ({d['hostile_published']} hostile), {d['backlog_stories']} backlog stories, "
        f"{d['kills']} SIGKILLs, {d['starts']} starts; all delivered at "
        f"t={d['drained_at_s']} s; publish-to-post latency median {lat.get('median')} s, "
        f"max {lat.get('max')} s",
        render_table(["channel", "should be posted", "posted", "lost", "duplicates",
                      "backlog posted"], v.rows),
        f"hostile: {len(d['hostile']['violations'])} posts with an active mention or "
        f"disguised link; {d['hostile']['hostile_stories_posted']} hostile stories posted",
        *d.get("llm", {}).get("lines", []),
        *_cap_parts(d.get("cap")),
        _memory_line(rss),
        render_table(["feed fault", "feeds", "health at end", "last error"], feeds),
        render_table(["channel", "state", "subscription"], subs),
        "events: " + "; ".join(f"t={t}s {name}" for t, name in d["events"]),
        "RESULT: " + ("PASS" if not v.failures else "FAIL\n  " + "\n  ".join(v.failures)),
    ]
    return "\n\n".join(parts)
