"""Parser: feed bytes -> ParsedFeed of clean Stories (RSS 0.9x/1.0/2.0, Atom, JSON Feed).

Before any XML reader runs, the body is decoded, defused and re-encoded as UTF-8
(feeds/xmlprep.py). Well-formed RSS 2.0 and Atom 1.0 then go through the lxml fast
path (feeds/fastparse.py); everything else, and anything the fast path declines, through
feedparser (JSON Feed: feeds/jsonfeed.py). Every reader's entries become Stories in
feeds/entries.py.
"""
from __future__ import annotations

import asyncio
import functools
import io
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, TypeVar
from urllib.parse import urlsplit

import feedparser

from feeds import author_email, fastparse, jsonfeed
from feeds import text as textmod
from feeds.entries import (Entry, ParseError, build_stories, clean_title, first_date,
                           paragraphs)
from feeds.invisible import visible
from feeds.models import Story
from feeds.urls import find_alternate, without_secrets
from feeds.xmlprep import (as_utf8_xml, defuse_doctype, read_body, repair_surrogate_refs,
                           utf8_as_is)
from feeds.plural import count

author_email.install()   # feedparser's author e-mail search, linear: feeds/author_email.py

log = logging.getLogger("ainews.parser")

_HTML_START = re.compile(r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
                         r"<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
                         re.IGNORECASE | re.DOTALL)
_DATE_KEYS = ("published_parsed", "updated_parsed", "created_parsed")
_SY_PERIOD_MINUTES = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200,
                      "yearly": 525600}
READERS = ("auto", "lxml", "feedparser")
# Most entries one poll of a feed yields. News feeds carry 10-100 and busy ones
# (arXiv's daily listings) several hundred; a hostile feed can fit ~100,000 entries in
# the fetcher's 10 MB, which cost ~30 s of classifying and storing per poll (on the
# event loop, holding up every chat connection) and ~150 MB of database each time.
MAX_ENTRIES = 1000


@dataclass
class ParsedFeed:
    title: str
    link: str
    stories: list[Story]
    warning: str | None          # bozo and repairs, recorded: "parser: <feed>: <what>"
    ttl_minutes: int | None
    reader: str = ""             # which reader ran: "lxml" | "feedparser" | "json"


def parse_feed(body: bytes, *, feed_url: str, source: str = "",
               content_type: str | None = None, fetched_at: datetime | None = None,
               base_url: str | None = None) -> ParsedFeed:
    """Parse a fetched feed body into Stories; raises ParseError ("not-a-feed": HTML,
    other XML or JSON; "parse": empty or unreadable).

    `feed_url` scopes GUID ids, so pass the configured URL: a redirect must not renumber
    every story. `base_url` (default feed_url) is where the body came from, for links."""
    return parse_feed_with("auto", body, feed_url=feed_url, source=source,
                           content_type=content_type, fetched_at=fetched_at, base_url=base_url)


T = TypeVar("T")
_THREAD: ThreadPoolExecutor | None = None


async def off_the_loop(work: Callable[..., T], *args, **kw) -> T:
    """`work(*args, **kw)` (parse_feed, or classifying its stories) in the parser's own
    thread, for async callers.

    Hostile markup keeps feedparser busy for minutes (10 MB of empty elements: ~2 min):
    on the event loop that would stall every chat connection's heartbeat and every other
    feed. One thread, so parses still run one at a time and hold no more memory than
    before; the loop gets the GIL back every few milliseconds meanwhile."""
    global _THREAD
    if _THREAD is None:
        _THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ainews-parser")
    call = functools.partial(work, *args, **kw)
    return await asyncio.get_running_loop().run_in_executor(_THREAD, call)


def parse_feed_with(reader: str, body: bytes, *, feed_url: str, source: str = "",
                    content_type: str | None = None, fetched_at: datetime | None = None,
                    base_url: str | None = None) -> ParsedFeed:
    """parse_feed with the XML reader chosen (tests and benchmarks compare them):
    "auto" (fast path, else feedparser), "feedparser", or "lxml" (the fast path only:
    fastparse.Unsupported when it declines)."""
    if reader not in READERS:
        raise ValueError(f"parser: unknown reader {reader!r}")
    fetched_at = (fetched_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    base = base_url or feed_url
    if jsonfeed.looks_like_json(body):
        title, link, entries, notes, ttl = jsonfeed.read_json_feed(body, base)
        used = "json"
    else:
        title, link, entries, notes, ttl, used = _read_xml_feed(body, base, content_type, reader)
    if len(entries) > MAX_ENTRIES:
        notes.append(f"kept the newest {MAX_ENTRIES} of {len(entries)} entries")
        entries = _newest(entries, MAX_ENTRIES)
    title = visible(textmod.clean_line(title))   # the default source name
    name = source or title or urlsplit(feed_url).hostname or feed_url
    stories = build_stories(entries, feed_url=feed_url, base=base, source=name,
                            fetched_at=fetched_at)
    # Returned, not logged: the caller says it once, where it belongs (the poller's
    # log, `feeds check`'s report).
    warning = f"parser: {without_secrets(feed_url)}: {'; '.join(notes)}" if notes else None
    return ParsedFeed(title=title, link=link, stories=stories,
                      warning=warning, ttl_minutes=ttl, reader=used)


def _newest(entries: list[Entry], n: int) -> list[Entry]:
    """The `n` newest entries, in feed order; undated ones count as new, and among
    equals the feed's own order decides (feeds list the newest first)."""
    latest = datetime.max.replace(tzinfo=timezone.utc)
    ranked = sorted(range(len(entries)), reverse=True,
                    key=lambda i: entries[i].published or latest)
    return [entries[i] for i in sorted(ranked[:n])]


# --- XML (feedparser) ---------------------------------------------------------------

def _read_xml_feed(body: bytes, feed_url: str, content_type: str | None, reader: str):
    if not body.strip():
        raise ParseError("parse", f"parser: {feed_url}: empty body")
    text, notes, codec = read_body(body, content_type)
    if not text.strip("\ufeff \t\r\n"):   # a byte order mark and nothing else
        raise ParseError("parse", f"parser: {feed_url}: empty body")
    if _HTML_START.match(text[:4096]):
        raise _not_a_feed(text, feed_url)
    text, dtd_note = defuse_doctype(text)
    text, ref_note = repair_surrogate_refs(text)
    notes += [n for n in (dtd_note, ref_note) if n]
    # A guessed decoding goes to feedparser: the fast path takes only what it can trust.
    guessed = any(n.startswith("body is not") for n in notes)
    if reader == "lxml" or (reader == "auto" and not guessed):
        unchanged = dtd_note is None and ref_note is None
        as_is = body if unchanged and utf8_as_is(body, codec) else None
        fast = _read_fast(as_is, text, feed_url, strict=reader == "lxml")
        if fast is not None:
            title, link, entries, ttl = fast
            return title, link, entries, notes, ttl, "lxml"
    xml = as_utf8_xml(text)
    return (*_read_with_feedparser(xml, text, feed_url, content_type, notes), "feedparser")


def _read_fast(as_is: bytes | None, text: str, feed_url: str, *, strict: bool):
    """(title, link, entries, ttl) from the lxml reader, or None when it declines."""
    try:
        feed = _fast_feed(as_is, text, feed_url)
    except fastparse.Unsupported as e:
        if strict:
            raise
        log.debug("parser: %s: fast path declined (%s); using feedparser",
                  without_secrets(feed_url), e)
        return None
    except Exception as e:  # noqa: BLE001 - a fast-path bug must not cost the feed
        if strict:
            raise
        log.warning("parser: %s: fast path failed (%s: %s); using feedparser",
                    without_secrets(feed_url), type(e).__name__, e)
        return None
    entries = [x for x in feed.entries if x.has_content()]
    return clean_title(feed.title, feed.title_is_html), feed.link, entries, _ttl(feed.meta)


def _fast_feed(as_is: bytes | None, text: str, feed_url: str) -> fastparse.FastFeed:
    """The lxml reader over the body as it came when that is UTF-8 XML (re-encoding
    400 KB costs ~0.7 ms, more than lxml's parse); refused (a character XML forbids,
    which as_utf8_xml drops), over the re-encoded text, as always."""
    if as_is is not None:
        try:
            return fastparse.read_feed(as_is, feed_url)
        except fastparse.NotWellFormed:
            pass
    return fastparse.read_feed(as_utf8_xml(text), feed_url)


def _read_with_feedparser(xml: bytes, text: str, feed_url: str, content_type: str | None,
                          notes: list[str]):
    try:
        d = feedparser.parse(io.BytesIO(xml), response_headers={
            "content-type": "application/xml; charset=utf-8", "content-location": feed_url})
    except Exception as e:   # its loose parser trips over some tag soup (KeyError 'links')
        raise ParseError("parse", f"parser: {feed_url}: unreadable even as loose XML "
                                  f"({type(e).__name__}: {e})") from None
    if not d.entries:
        _check_empty(d, text, feed_url, content_type)
    # A truncated body can end in an entry with nothing in it yet: not a story.
    entries = [x for x in map(_xml_entry, d.entries) if x.has_content()]
    if d.bozo:
        notes.append(f"{_describe(d.bozo_exception)}; kept {count(len(entries), 'entry')}")
    feed = d.feed
    title_type = feed.get("title_detail", {}).get("type", "")
    title = clean_title(feed.get("title", ""), "html" in title_type)
    return title, feed.get("link", ""), entries, notes, _ttl(feed)


def _check_empty(d, text: str, feed_url: str, content_type: str | None) -> None:
    """No entries: fine for a valid, empty feed; otherwise say what the body was."""
    if d.get("version") and not d.bozo:   # feedparser may have set no version at all
        return
    if "html" in (content_type or "").lower() or re.search(r"<(html|body)[\s>]", text[:4096], re.I):
        raise _not_a_feed(text, feed_url)
    if d.bozo:
        raise ParseError("parse", f"parser: {feed_url}: {_describe(d.bozo_exception)}; no entries")
    raise ParseError("not-a-feed", f"parser: {feed_url} is XML but not RSS, Atom or JSON Feed")


def _xml_entry(e) -> Entry:
    contents = e.get("content", [])
    html_first = sorted(contents, key=lambda c: "html" not in c.get("type", ""))
    content = html_first[0] if html_first else None
    title_type = e.get("title_detail", {}).get("type", "text/plain")
    # dict.get: FeedParserDict.get maps missing keys onto others, with a DeprecationWarning
    published = first_date(dict.get(e, k) for k in _DATE_KEYS)
    return Entry(
        guid=e.get("id", "") or "", link=e.get("link", "") or "",
        title=e.get("title", "") or "", title_is_html="html" in title_type,
        content_html=_as_html(content), summary_html=_as_html(e.get("summary_detail")),
        author=e.get("author_detail", {}).get("name") or e.get("author", "") or "",
        subtitle=e.get("subtitle", "") or "",
        published=published,
    )


def _as_html(detail) -> str:
    """A content/summary value as HTML: text/plain values are escaped into paragraphs."""
    if not detail:
        return ""
    value = detail.get("value", "") or ""
    return value if "html" in detail.get("type", "text/html") else paragraphs(value)


def _describe(exc) -> str:
    if exc is None:
        return "malformed feed"
    msg = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
    line = exc.getLineNumber() if hasattr(exc, "getLineNumber") else None
    return f"malformed XML ({msg}{f' at line {line}' if line else ''})"


def _ttl(feed) -> int | None:
    ttl = str(feed.get("ttl", "")).strip()
    if ttl.isdigit() and int(ttl) > 0:
        return int(ttl)
    period = _SY_PERIOD_MINUTES.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    freq = str(feed.get("sy_updatefrequency", "1")).strip()
    if period and freq.isdigit() and int(freq) > 0:
        return max(1, period // int(freq))
    return None


# --- HTML page instead of a feed ----------------------------------------------------

def _not_a_feed(text: str, page_url: str) -> ParseError:
    alternate = find_alternate(text, page_url)
    if alternate:
        msg = f"parser: {page_url} is an HTML page, not a feed; its feed is {alternate}"
    else:
        msg = f"parser: {page_url} is an HTML page, not a feed, and it advertises none"
    return ParseError("not-a-feed", msg, alternate=alternate)
