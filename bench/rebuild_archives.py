"""The daily RSS archives fresh5-fresh9 were drawn from, read as their collector read them
(bench/rebuild_sets.py).

Three public repositories save each day's feed pull as one JSON file, each in its own shape:
kosih77778/tech-pulse (`data/archive/DAY.json`: `tabs` of items with `source`, `lang`,
`summary`, `url`, `published` as "YYYY-MM-DD HH:MM" UTC), EricArnold6/newspaper-about-ai
(`data/DAY.json`: `sections` of items with `source`, `content`, `url`, ISO `published`) and
PulkitNigam/digest-fetcher (`data/DAY.json`: `rss.FEED.items` with `summary`, `url`, RFC 822
`published`). The collector kept English entries of a few news feeds that have a summary,
cleaned title and summary the same way for all three, and named the outlet, not the feed.
Each parser does exactly that, so a labelled link's entry comes out as the set holds it.
"""
from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from bench.rebuild_match import Entry

# feed name -> outlet, for the feeds the sets drew from (others, e.g. vendor blogs, were not)
KOSIH_OUTLETS = {
    "The Verge Tech": "The Verge", "The Verge AI": "The Verge", "TechCrunch VC": "TechCrunch",
    "TechCrunch Startups": "TechCrunch", "TechCrunch AI": "TechCrunch", "TechCrunch HW": "TechCrunch",
    "WIRED AI": "Wired", "MIT Tech Review": "MIT Technology Review", "Ars Technica AI": "Ars Technica",
    "Ars Hardware": "Ars Technica", "Tom's Hardware": "Tom's Hardware",
    "BleepingComputer": "BleepingComputer", "The New Stack": "The New Stack",
    "Crunchbase News": "Crunchbase News", "Dark Reading": "Dark Reading", "SecurityWeek": "SecurityWeek",
    "The Hacker News": "The Hacker News", "InfoQ": "InfoQ", "DevClass": "DevClass",
    "Krebs on Security": "Krebs on Security"}
OTHER_OUTLETS = {
    "TechCrunch AI": "TechCrunch", "TechCrunch": "TechCrunch", "VentureBeat AI": "VentureBeat",
    "The Verge AI": "The Verge", "The Verge": "The Verge", "MIT Technology Review": "MIT Technology Review",
    "MIT Tech Review": "MIT Technology Review", "Ars Technica AI": "Ars Technica",
    "Ars Technica": "Ars Technica", "BBC Technology": "BBC Technology", "Wired AI": "Wired",
    "WIRED": "Wired", "The Register": "The Register", "The Decoder": "The Decoder",
    "SiliconANGLE": "SiliconANGLE"}
# a WordPress feed's footer, not the story: "The post X appeared first on Y."
WP_FOOTER = re.compile(r"\s*The post .{0,300}? appeared first on [^.]*\.?\s*$")


def clean(text: str | None, limit: int = 1500) -> str:
    """Feed text as the sets hold it: entities decoded (twice: some feeds encode them twice),
    tags dropped, white space collapsed, cut at a word before `limit` characters."""
    text = re.sub(r"<[^>]+>", " ", html.unescape(html.unescape(text or "")))
    text = re.sub(r"\s+", " ", text).strip()
    return text[:limit].rsplit(" ", 1)[0] + " …" if len(text) > limit else text


def utc_iso(stamp: str) -> str:
    """An ISO 8601 or RFC 822 time as ISO 8601 UTC; "" when there is none or it is unreadable.
    A time without a zone is taken as UTC (the collector's machine ran on UTC)."""
    try:
        when = (datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp[:4].isdigit()
                else parsedate_to_datetime(stamp))
    except (TypeError, ValueError, IndexError):
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat()


def _entry(url: str, title: str, summary: str, published: str, outlet: str) -> Entry | None:
    """One entry as the sets hold it, or None for one the collector skipped (no summary)."""
    summary = clean(summary)
    if not summary:
        return None
    summary = WP_FOOTER.sub("", summary).strip() or summary
    return Entry(link=url, title=clean(title, 400), summary=summary, content_html=None,
                 published=utc_iso(published) if published else "", outlet=outlet)


def kosih_entries(blob: bytes) -> list[Entry]:
    """tech-pulse: a day's tabs; English items of the news feeds only. Its times are UTC
    without a zone and without seconds."""
    entries = []
    for items in json.loads(blob).get("tabs", {}).values():
        for it in items:
            outlet = KOSIH_OUTLETS.get(it.get("source"))
            if outlet is None or it.get("lang") != "en":
                continue
            stamp = it.get("published") or ""
            entries.append(_entry(it.get("url") or "", it.get("title"), it.get("summary"),
                                  stamp and stamp.replace(" ", "T") + ":00+00:00", outlet))
    return [e for e in entries if e]


def eric_entries(blob: bytes) -> list[Entry]:
    """newspaper-about-ai: a day's sections; each item's `content` is the feed's description."""
    entries = [_entry(it.get("url") or "", it.get("title"), it.get("content"), it.get("published") or "",
                      OTHER_OUTLETS[it.get("source")])
               for items in json.loads(blob).get("sections", {}).values()
               for it in items if it.get("source") in OTHER_OUTLETS]
    return [e for e in entries if e]


def pulkit_entries(blob: bytes) -> list[Entry]:
    """digest-fetcher: a day's raw pull of many feeds; only the `rss` part's news feeds."""
    entries = [_entry(it.get("url") or "", it.get("title"), it.get("summary"), it.get("published") or "",
                      OTHER_OUTLETS[name])
               for name, feed in json.loads(blob).get("rss", {}).items() if name in OTHER_OUTLETS
               for it in feed.get("items", [])]
    return [e for e in entries if e]


# repository -> how to read one of its daily files
ARCHIVES = {"kosih77778/tech-pulse": kosih_entries,
            "EricArnold6/newspaper-about-ai": eric_entries,
            "PulkitNigam/digest-fetcher": pulkit_entries}
