"""`ainews feeds list|add|remove|check|resume`: the feed list and each feed's health."""
from __future__ import annotations

import asyncio
import sys

from bot.cli_feed_check import check
from bot.cli_tables import format_table
from bot.console import json_line
from feeds.feedlist import split_tags
from feeds.headline import trim_words
from feeds.models import FeedSource, iso_utc, parse_iso, shown_utc, utcnow
from feeds.plural import count
from feeds.schedule import polled_after_now
from feeds.urls import without_secrets


def run(app, args) -> int:
    # Pasted URLs bring spaces and newlines along. remove and resume take words: a
    # name (`feeds remove Hacker News`) or several feeds (see FeedCommands.feeds_named).
    url = getattr(args, "url", None)
    if isinstance(url, list):
        args.url = [w.strip() for w in url if w.strip()]
    elif url is not None:
        args.url = url.strip()
    return {"list": _list, "add": _add, "remove": _remove, "check": check,
            "resume": _resume}[args.action](app, args)


def feed_row(state, now) -> dict:
    """A feed as `feeds list` and `status` show it: its URL's credentials hidden (remove
    and resume take it as shown), and in an error stored by an older version."""
    return {
        "name": state.source.name, "url": without_secrets(state.source.url),
        "tags": list(state.source.tags), "health": state.health, "failures": state.failures,
        "last_error": without_secrets(state.last_error or ""),
        "last_ok": iso_utc(state.last_ok) if state.last_ok else None,
        "next_poll": _next_poll(state, now),
        # Where it moved for good (301/308 at every poll); None: it did not.
        "moved_to": without_secrets(state.moved_to) if state.moved_to else None,
        # When a poll last stored a new story from it; None: none since it was added.
        "last_new": iso_utc(state.last_new) if state.last_new else None,
    }


def note_cell(row: dict) -> str:
    """A feed row's last column: its error, else a permanent move (a feed that breaks
    the day its old address stops redirecting)."""
    if row["last_error"] or not row["moved_to"]:
        return error_cell(row["last_error"])
    return f"moved permanently to {row['moved_to']}"


def say_moves(rows: list[dict]) -> None:
    """What to do about the feeds that moved, once under the table."""
    from bot.feed_moves import what_to_do
    for r in rows:
        if r["moved_to"]:
            print(f"({r['name']} moved: {what_to_do(r['url'], r['moved_to'])})")


def _next_poll(state, now) -> str | None:
    """A last poll dated after now (the clock went back) set a next poll as far ahead as
    the step, but the poller takes the feed at once (schedule.is_due): it is due now."""
    if state.next_poll and polled_after_now(state.last_polled, now):
        return iso_utc(now)
    return iso_utc(state.next_poll) if state.next_poll else None


def _list(app, args) -> int:
    now = utcnow()
    rows = [feed_row(s, now) for s in app.store.feed_states()]
    if args.json:
        for r in rows:
            print(json_line(r))
        return 0
    if not rows:
        print(_no_feeds(app.store, app.settings.feeds_file))
        return 0
    # The url comes before the error: `feeds remove/resume` need it whole.
    print(format_table(["health", "name", "next poll", "last new story", "url", "last error"],
                       [[r["health"], r["name"][:28], _next_poll_cell(r, now),
                         _ago(r["last_new"], now), r["url"], note_cell(r)] for r in rows]))
    say_moves(rows)
    _say_if_offline(app, now)
    _say_if_restart_needed(app, rows)
    return 0


def _say_if_restart_needed(app, rows: list[dict]) -> None:
    """An error naming a setting (`AINEWS_ALLOW_PRIVATE_HOSTS=1 allows ...`) is the
    running bot's: set in .env since, it needs the bot restarted, not set again."""
    from bot.runlock import restart_note
    if any("AINEWS_" in r["last_error"] for r in rows):
        if (note := restart_note(app.settings)) is not None:
            print(f"({note})")


def _say_if_offline(app, now) -> None:
    """Every row "failing" with a DNS error read as broken feeds, while the poller had
    found its own network down and counted none of it (as `status` says)."""
    from bot.unreached import NETWORK_DOWN, network_looks_down
    if network_looks_down(app.store, app.settings.poll_minutes, now):
        print(f"({NETWORK_DOWN})")


def error_cell(error: str) -> str:
    """An error in a table's last column: nothing after it to line up, and its end most
    often says what to fix ("refused (AINEWS_ALLOW_PRIVATE_HOSTS=1 allows ...)", which
    a cut at 70 characters lost); only a runaway message is shortened, visibly."""
    return trim_words(error, 240)


def _next_poll_cell(row: dict, now) -> str:
    """A paused feed has no next poll until resumed. A new feed, or one whose time has
    passed (the bot was stopped), is polled as soon as the bot runs: a past time read
    as a feed stuck since then."""
    if row["health"] == "paused":
        return "-"
    if not row["next_poll"] or parse_iso(row["next_poll"]) <= now:
        return "due now"
    return shown_utc(row["next_poll"])


def _ago(iso: str | None, now) -> str:
    """"41 days ago": a feed that stopped publishing still reads "ok" (it answers).
    Under two days, the hours: "today" of anything under 24 hours old was said at
    08:00 of 09:00 yesterday, and a calendar day is UTC's or the operator's."""
    if not iso:
        return "none yet"
    hours = int((now - parse_iso(iso)).total_seconds() // 3600)
    if hours < 1:
        return "under an hour ago"
    if hours < 48:
        return f"{count(hours, 'hour')} ago"
    return f"{count(hours // 24, 'day')} ago"


def _add(app, args) -> int:
    """The chat command's checks (SSRF guard, a test fetch, already followed) and words."""
    from bot.cli_commands import CONSOLE, print_reply
    reply = asyncio.run(app.commands.feeds(CONSOLE, "add", args.url, args.name))
    tags = split_tags(args.tag)
    if reply.kind != "error" and tags:
        state = app.commands.followed(args.url)
        app.store.upsert_feed(FeedSource(state.source.name, state.source.url, tags))
    return print_reply(reply, False)


def _no_feeds(store, feeds_file) -> str:
    """`ainews run` loads a feeds file's entries once: after they were all removed it adds
    none again, so pointing at it then would be wrong. The file is AINEWS_FEEDS's when set:
    "the default list" was said of the user's own file."""
    if store.get_meta("imported_feeds"):
        return "no feeds: every imported feed was removed; `ainews feeds add URL` adds one"
    what = f"the feeds in {feeds_file} (AINEWS_FEEDS)" if feeds_file else "the default list"
    return f"no feeds yet: `ainews feeds add URL` or start `ainews run` to load {what}"


def _host(url: str) -> str:
    from urllib.parse import urlsplit
    return urlsplit(url).hostname or url


def _remove(app, args) -> int:
    """By URL or by the name `feeds list` shows (chat's `feeds remove` reads the same)."""
    states = _feeds_named(app, args.url)
    if states is None:
        return 1
    from bot.commands_feeds import dropped_note
    for state in states:
        dropped = app.commands.remove_feed(state)
        print(f"removed {state.source.name} ({without_secrets(state.source.url)})"
              + (f"; {dropped_note(dropped, 1)}" if dropped else ""))
    return 0


def _resume(app, args) -> int:
    if args.url == ["all"] and app.store.feed_state("all") is None:
        print(_resumed_all(app.store.resume_paused_feeds(), app.store.retry_failing_feeds()))
        return 0
    states = _feeds_named(app, args.url)
    if states is None:
        return 1
    for state in states:
        app.store.resume_feed(state.source.url)
        print(_resumed(state))
    return 0


def _resumed_all(paused: list[str], waiting: list[str]) -> str:
    """Paused feeds and those waiting out a backoff (chat's words): "no feed is paused"
    was said while four waited hours after a cause since fixed."""
    from bot.commands_feeds import waiting_retried
    said = [f"resumed {count(len(paused), 'paused feed')}; they will be polled on the next "
            "cycle"] if paused else []
    said += [waiting_retried(len(waiting))] if waiting else []
    return "; ".join(said) or "no feed is paused or waiting after failures"


def _feeds_named(app, words: list[str]) -> list | None:
    """The feeds the words name (as chat reads them), all found; else None, the error
    said in one line: exit 1, "nothing there", as for an unknown company."""
    from bot import cli_syntax
    from bot.console import terminal_text
    from bot.replies import Reply
    states = app.commands.feeds_named(words)
    if isinstance(states, (str, tuple)):
        said = Reply.error(states).spelled(cli_syntax.spell)
        print(f"ainews: feeds: {terminal_text(said)}", file=sys.stderr)
        return None
    return states


def _resumed(state) -> str:
    """What resuming did: "resumed" alone, said of a healthy feed, read as if it had
    been paused. A failing feed waiting out its backoff is retried now (as in chat)."""
    url = without_secrets(state.source.url)
    if state.paused:
        return f"resumed {url}; it will be polled on the next cycle"
    if state.failures:
        return (f"{url} was not paused; its backoff after {count(state.failures, 'failure')} is "
                "cleared: it will be polled on the next cycle")
    return f"{url} is not paused; it is polled as usual"
