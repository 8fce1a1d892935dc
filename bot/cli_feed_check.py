"""`ainews feeds check URL`: a feed fetched and parsed now, nothing stored, and what
the bot would make of it."""
from __future__ import annotations

import asyncio
import sys

from bot.cli_tables import format_table
from bot.console import json_line
from feeds.plural import count
from feeds.urls import without_secrets


def check(app, args) -> int:
    report = asyncio.run(check_feed(app, args.url))
    refused = report.pop("refused", False)    # the exit code's, not a JSON key
    if args.json:
        print(json_line(report))
    elif not report["ok"]:
        _say_no_feed(report, refused)
    else:
        # The head row is empty: format_table would print it as a blank first line.
        followed = app.store.feed_state(args.url) is not None
        print(format_table(["", ""], _check_rows(report, followed)).removeprefix("\n"))
    # A refused URL (a private host, not http) is to be fixed: 2; no feed there: 1.
    return 0 if report["ok"] else 2 if refused else 1


def _say_no_feed(report: dict, refused: bool) -> None:
    """Not a feed is the "nothing there" of `feeds check`: one line, exit 1, as for an
    unknown company (the raw `ok: False` / `error:` pair read as a dump). A refused URL
    was never fetched: "no working feed" would be a guess."""
    from bot.console import terminal_text
    said = "was not fetched" if refused else "is no working feed"
    print(f"ainews: feeds check: {report['url']} {said}: "
          f"{terminal_text(report['error'])}", file=sys.stderr)


def _check_rows(r: dict, followed: bool = False) -> list[list[str]]:
    """What a person checking a feed wants: its title, what it holds, what the bot
    would make of it, warnings only when there are some, caching said in words."""
    rows = [["feed", r["title"].strip() or "(no title)"], ["url", r["url"]]]
    if r["redirect"]:   # a 302 is no move: the feed stays where it is
        said = "moved permanently" if r["redirect"] == "permanent" else "redirects (temporary)"
        rows.append(["redirect", f"{said} to {r['final_url']}"])
    rows.append(["entries", _entries(r["entries"], r["strategy_entries"], followed)])
    rows += [["warning", r["warning"]]] if r["warning"] else []
    return rows + [["caching", _caching(r["etag"], r["last_modified"])]]


def _entries(n: int, strategy: int, followed: bool) -> str:
    """What the entries become: of a feed already followed, "once the feed is
    followed" read as if it were not."""
    if not n:
        return "none for now (an empty feed)"
    stored = ("you follow this feed: the bot stores them as it polls" if followed
              else "stored once the feed is followed")
    return (f"{n} found, {stored}; "
            f"{count(strategy, 'AI-strategy story')} among them (the kind the bot posts)")


def _caching(etag: bool, last_modified: bool) -> str:
    named = " and ".join(name for name, sent in (("ETag", etag), ("Last-Modified", last_modified))
                         if sent)
    if not named:
        return "none (no ETag or Last-Modified): every poll downloads the whole feed"
    return f"yes ({named}): an unchanged feed is not downloaded again"


def _no_feed(url: str, error: Exception, refused: bool) -> dict:
    """`refused`: the guard refused the URL as given (a private host, not http): exit 2."""
    return {"ok": False, "url": without_secrets(url), "error": str(error), "refused": refused}


async def check_feed(app, url: str) -> dict:
    """Fetch and parse a feed now, without storing anything: what would we get?"""
    from feeds.fetcher import FetchError
    from feeds.guard import check_url, refused_as_given
    from feeds.parser import ParseError, parse_feed
    try:
        check_url(url, app.fetch_policy.allow_private)   # as the fetch would, first
    except FetchError as e:     # the URL as typed: to be fixed
        return _no_feed(url, e, refused=True)
    async with app.fetcher() as fetcher:
        try:
            res = await fetcher.fetch(url)
            parsed = parse_feed(res.body or b"", feed_url=res.final_url or url,
                                content_type=res.content_type)
        except (FetchError, ParseError) as e:
            return _no_feed(url, e, refused=refused_as_given(url, e))
    strategy = sum(app.classifier.classify(s.title, s.text).strategy for s in parsed.stories)
    # Printed, as `feeds list` shows a feed: without the URL's credentials.
    return {"ok": True, "url": without_secrets(url), "title": parsed.title,
            "entries": len(parsed.stories), "strategy_entries": strategy,
            "warning": parsed.warning or "",
            "final_url": res.final_url and without_secrets(res.final_url),
            "redirect": res.redirect or None, "etag": bool(res.etag),
            "last_modified": bool(res.last_modified)}
