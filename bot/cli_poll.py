"""`ainews poll`: one pass over the feeds, then what came of it: the pass's line, each
failure and warning, the feeds still backing off or paused (which the pass skipped)."""
from __future__ import annotations

import asyncio

from bot.console import json_line
from feeds.models import shown_utc, utcnow
from feeds.plural import count
from feeds.urls import without_secrets


def cmd_poll(app, args) -> int:
    from bot.service import poll_only
    summary = asyncio.run(poll_only(app, all_feeds=True))
    # Paused feeds, and failing ones still backing off, are not polled: the pass itself
    # says nothing of them.
    polled = {o.url for o in summary.outcomes}
    skipped = [s for s in app.store.feed_states() if s.source.url not in polled]
    paused = [s for s in skipped if s.paused]
    waiting = [s for s in skipped if s.failures and not s.paused]
    if args.json:
        report = {**summary.to_json(), "paused_feeds": [_skipped_row(s) for s in paused],
                  "waiting_feeds": [_skipped_row(s) for s in waiting]}
        print(json_line(report, default=str))
        return 0
    from bot.console import terminal_text
    print(summary.line().removeprefix("poller: "))
    for o in summary.failures:      # feed names and errors are feed text
        print(terminal_text(f"  failed: {o.name} ({without_secrets(o.url)}): {o.error}"
                            f"{_towards_pause(o)}"))
    for o in summary.outcomes:      # read, but repaired: the feed's owner may want to know
        if o.warning:
            print(terminal_text(f"  warning: {o.name}: {o.warning}"))
    _print_waiting(app, waiting)
    for s in paused:
        # As shown: `feeds resume` takes it so (FeedCommands.feed_named).
        url, error = without_secrets(s.source.url), without_secrets(s.last_error)
        print(terminal_text(f"  paused: {s.source.name} ({url}): {error}; "
                            f"`ainews feeds resume {url}` polls it again"))
    return 0


def _print_waiting(app, waiting: list) -> None:
    """Each feed's failures and next try; during an outage one line for the feeds the
    network failed: "after 1 failure" on every feed read as each broken, though the
    poller counted none of it."""
    from bot.console import terminal_text
    from bot.poll_summary import split_waiting
    from bot.unreached import network_looks_down
    down = bool(waiting) and network_looks_down(app.store, app.settings.poll_minutes, utcnow())
    unreached, own = split_waiting(waiting, down)
    if unreached:
        print(f"  waiting: {count(len(unreached), 'feed')}, none reached at the last poll: "
              "the network looks down (not counted against the feeds); next try "
              f"{shown_utc(min(s.next_poll for s in unreached))}")
    for s in own:
        url, error = without_secrets(s.source.url), without_secrets(s.last_error)
        print(terminal_text(f"  waiting: {s.source.name} ({url}) after "
                            f"{count(s.failures, 'failure')}: {error}; next try "
                            f"{shown_utc(s.next_poll) if s.next_poll else 'not set'}"))


def _towards_pause(outcome) -> str:
    """What the poller's log line said besides the error: how near the feed is to a pause."""
    from feeds.schedule import PAUSE_AFTER
    if outcome.paused:
        return " [paused]"
    return (f" ({outcome.failures} of {PAUSE_AFTER} failures before a pause)"
            if outcome.failures else "")


def _skipped_row(state) -> dict:
    from feeds.models import iso_utc
    return {"name": state.source.name, "url": without_secrets(state.source.url),
            "last_error": without_secrets(state.last_error), "failures": state.failures,
            "next_poll": iso_utc(state.next_poll) if state.next_poll else None}
