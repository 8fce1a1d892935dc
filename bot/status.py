"""`ainews status`: feeds health, queue depth, paused subscriptions, posts retrying,
too old to post or failed, feeds gone quiet, last poll."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from bot.cli_feeds import error_cell, feed_row, note_cell, say_moves
from bot.cli_subs import follows
from bot.cli_tables import format_table
from bot.connections import read_connections
from bot.console import json_line
from bot.quiet_feeds import quiet_feeds, usually
from bot.runlock import running_pid
from feeds.models import iso_utc, shown_utc, utcnow
from feeds.plural import count
from storage.post_edits import MAX_EDITS

# Failed posts listed one by one: those of the last week, what a channel does now; an
# older one is settled history (kept until AINEWS_KEEP_DAYS), only counted.
RECENT_FAILURES = timedelta(days=7)


def collect_status(app) -> dict:
    states = app.store.feed_states()
    now = utcnow()
    polled = [s.last_polled for s in states if s.last_polled]
    pid = running_pid(app.settings.db_path)
    return {
        "database": str(app.settings.db_path),
        # None: no `ainews run` on this database; a number, as each connection's "pid"
        "bot_pid": int(pid) if pid and pid.isdigit() else pid,
        "connections": _connections(app.store, pid),
        "feeds": dict(Counter(s.health for s in states)),
        "network_looks_down": _network_looks_down(app),
        "last_poll": iso_utc(max(polled)) if polled else None,
        "outbox": app.store.outbox_counts(),
        "judge_24h": app.store.judge_tally(utcnow() - timedelta(hours=24)),
        "edits": dict(zip(("waiting", "capped"), app.store.edit_holds(utcnow()))),
        **_outbox_troubles(app.store, now),
        "problem_feeds": [feed_row(s, now) for s in states
                          if s.health in ("failing", "paused") or s.moved_to],
        "quiet_feeds": quiet_feeds(app.store, states, now),
    }


def _outbox_troubles(store, now) -> dict:
    """Paused subscriptions, and posts retrying, stale or failed, channel by channel."""
    return {
        "paused_subscriptions": [
            {"platform": s.platform, "channel": s.channel, "kind": s.kind,
             "target": s.target, "reason": s.paused_reason}
            for s in store.paused_subscriptions()],
        "retrying_posts": [
            {"platform": p, "channel": c, "posts": n, "next_try": iso_utc(at), "error": e}
            for p, c, n, at, e in store.outbox_retrying()],
        "stale_posts": [
            {"platform": p, "channel": c, "posts": n, "last": iso_utc(at)}
            for p, c, n, at in store.outbox_stale()],
        "failed_posts": [
            {"platform": r.platform, "channel": r.channel, "headline": r.brief.headline,
             "failed_at": iso_utc(r.failed_at) if r.failed_at else None,
             "error": r.last_error}
            for r in store.outbox_failures(10, since=now - RECENT_FAILURES)],
        "older_failed_posts": _older_failures(store, now),
    }


def _older_failures(store, now) -> dict:
    n, latest = store.outbox_failures_before(now - RECENT_FAILURES)
    return {"posts": n, "latest": iso_utc(latest) if latest else None}


def _network_looks_down(app) -> bool:
    """The poller's verdict (bot/unreached.py), read from the store: "20 failing" with a
    DNS error on each row read as twenty broken feeds while the bot's log said its own
    network was down and counted none of it against them."""
    from bot.unreached import network_looks_down
    return network_looks_down(app.store, app.settings.poll_minutes, utcnow())


def _connections(store, pid: str | None) -> dict:
    """The running bot's platforms; none when no bot runs (what a stopped or killed one
    left behind says nothing of now)."""
    if pid is None:
        return {}
    return {p: row for p, row in read_connections(store).items() if str(row.get("pid")) == pid}


def _bot_rows(st: dict) -> list[list[str]]:
    """"bot running (pid 7)", then "discord  reconnecting since 09:14 UTC (why)"."""
    if st["bot_pid"] is None:
        return [["bot", "not running (no `ainews run` on this database)"]]
    rows = [["bot", f"running (pid {st['bot_pid']})"]]
    for platform, c in sorted(st["connections"].items()):
        why = f" ({c['reason']})" if c.get("reason") and c["state"] != "connected" else ""
        rows.append([platform, f"{c['state']} since {shown_utc(c['since'])}{why}"
                               f"{_late(c.get('late'))}"])
    return rows


def _late(late: dict[str, int] | None) -> str:
    """The LLM's calls not sent as their turn came too late (feeds/llm.py TooLate): their
    stories went without while the endpoint read as "answering"."""
    if not late:
        return ""
    calls = ", ".join(count(n, what) for what, n in sorted(late.items()))
    its = "its turn" if sum(late.values()) == 1 else "their turn"
    return (f"; {calls} not sent: {its} came too late (raise LLM_CONCURRENCY or "
            "LLM_TIMEOUT)")


def print_status(app, *, as_json: bool = False) -> int:
    st = collect_status(app)
    if as_json:
        print(json_line(st))
        return 0
    _print_summary(st)
    _print_sections(st)
    return 0


def _print_summary(st: dict) -> None:
    """The head table: database, bot, feeds, last poll, outbox, edits, the judge."""
    feeds = ", ".join(f"{n} {h}" for h, n in sorted(st["feeds"].items())) or "none"
    if st["network_looks_down"]:
        from bot.unreached import NETWORK_DOWN
        feeds += f" ({NETWORK_DOWN})"
    queue = ", ".join(f"{n} {k}" for k, n in sorted(st["outbox"].items())) or "empty"
    # The head row is empty: format_table would print it as a blank first line.
    print(format_table(["", ""], [["database", st["database"]], *_bot_rows(st),
                                  ["feeds", feeds],
                                  ["last poll", _shown(st["last_poll"]) or "never"],
                                  ["outbox", queue], *_edit_rows(st),
                                  *_judge_rows(st)]).removeprefix("\n"))


def _print_sections(st: dict) -> None:
    """What needs the operator: a section each, printed only when it has rows."""
    _section("paused subscriptions", ["platform", "channel", "target", "reason"],
             [[p["platform"], p["channel"], follows(p["kind"], p["target"]), p["reason"]]
              for p in st["paused_subscriptions"]])
    if st["paused_subscriptions"]:
        print("(posting there resumes with /subscribe in the channel, with the posts it kept "
              "meanwhile; a channel that is gone: `ainews subscriptions remove PLATFORM "
              "CHANNEL`)")
    # Posts that wait after a failed try: a refused token or an outage shows here, not
    # only in the log (the outbox line alone says "due" as if all were well).
    _section("posts waiting after a failed try", ["platform", "channel", "posts", "next try",
                                                  "last error"],
             [[r["platform"], r["channel"], str(r["posts"]), _shown(r["next_try"]),
               error_cell(r["error"])]
              for r in st["retrying_posts"]])
    # Not posted because they waited past AINEWS_MAX_POST_AGE_HOURS (bot/delivery.py).
    _section("posts too old to post by their turn (AINEWS_MAX_POST_AGE_HOURS)",
             ["platform", "channel", "posts", "latest"],
             [[r["platform"], r["channel"], f"{r['posts']} too old to post",
               _shown(r["last"])] for r in st["stale_posts"]])
    _failed_posts(st)
    _section("feeds needing attention", ["health", "name", "last error"],
             [[r["health"], r["name"], note_cell(r)] for r in st["problem_feeds"]])
    say_moves(st["problem_feeds"])
    _quiet_feeds(st["quiet_feeds"])


def _quiet_feeds(rows: list[dict]) -> None:
    """Feeds that answer every poll but stopped bringing news (bot/quiet_feeds.py)."""
    _section("feeds with no new story for longer than usual",
             ["name", "quiet for", "usually", "url"],
             [[r["name"], count(r["quiet_days"], "day"), usually(r["usual_gap_days"]),
               r["url"]] for r in rows])
    if rows:
        print("(they answer, so nothing fails: a feed left behind at an old address, or an "
              "outlet that stopped publishing; `ainews feeds check URL` shows what it "
              "serves now, `ainews feeds remove URL` stops following it)")


def _failed_posts(st: dict) -> None:
    """The last week's failures with their time, older ones counted: a rejection of
    five months ago, listed with no time, read as a channel rejecting posts now."""
    _section("failed posts", ["platform", "channel", "failed", "story", "error"],
             [[f["platform"], f["channel"], _shown(f["failed_at"]), f["headline"][:50],
               error_cell(f["error"])] for f in st["failed_posts"]])
    older = st["older_failed_posts"]
    if older["posts"]:
        if not st["failed_posts"]:
            print("\nfailed posts:")
        days = RECENT_FAILURES.days
        latest = _shown(older["latest"]) or "unknown"
        print(f"{count(older['posts'], 'older failed post')}, over {days} days ago "
              f"(the latest {latest}), not listed")


def _shown(iso: str | None) -> str:
    """A time of the JSON report as the text shows every time: 2026-12-01 05:29 UTC."""
    return shown_utc(iso) if iso else ""


def _judge_rows(st: dict) -> list[list[str]]:
    """The LLM judge's last day, when it decided anything: what it changed is what an
    operator weighs against its calls."""
    j = st["judge_24h"]
    if not j["asked"]:
        return []
    return [["LLM judge", f"{count(j['asked'], 'story')} judged in 24 h: {j['posted']} posted, "
             f"{j['rescued']} of them missed by the offline classifier; "
             f"{j['turned_down']} of its posts turned down"]]


def _edit_rows(st: dict) -> list[list[str]]:
    """Edits of posts already out held back by the edit rules (storage/post_edits.py):
    without this line a story the feed keeps editing looks stuck."""
    waiting, capped = st["edits"]["waiting"], st["edits"]["capped"]
    if not (waiting or capped):
        return []
    return [["edits", f"{count(waiting, 'edit')} waiting (one an hour per post), "
                      f"{count(capped, 'post')} no longer edited ({MAX_EDITS} edits each)"]]


def _section(title: str, head: list[str], rows: list[list[str]]) -> None:
    if rows:
        print(f"\n{title}:")
        print(format_table(head, rows))

