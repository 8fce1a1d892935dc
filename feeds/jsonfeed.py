"""JSON Feed (https://jsonfeed.org/version/1.1) -> the parser's format-neutral entries.

Item HTML gets the treatment feedparser gives XML content (relative links resolved,
scripts removed), so a story reads the same whichever format its outlet publishes.
"""
from __future__ import annotations

import html as htmllib
import json
import re
from datetime import datetime, timezone
from urllib.parse import urljoin

from feedparser.datetimes import _parse_date as feedparser_date
from feedparser.sanitizer import _sanitize_html as feedparser_sanitize
from feedparser.urls import resolve_relative_uris as feedparser_resolve

from feeds.entries import Entry, ParseError, first_date, paragraphs
from feeds.plural import count


def looks_like_json(body: bytes) -> bool:
    # Sniffed, not taken from Content-Type: servers label feeds wrongly both ways.
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def read_json_feed(body: bytes, feed_url: str):
    """(title, link, entries, notes, ttl_minutes); raises ParseError for JSON that is
    invalid ("parse") or no JSON Feed ("not-a-feed")."""
    try:
        doc = json.loads(body.decode("utf-8-sig", "replace"))
    except ValueError as e:
        raise ParseError("parse", f"parser: {feed_url}: invalid JSON ({e.msg} at line {e.lineno})"
                         ) from None
    except RecursionError:  # hostile nesting ([[[[...) exhausts the decoder's stack
        raise ParseError("parse", f"parser: {feed_url}: invalid JSON (nested too deeply)"
                         ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ParseError("not-a-feed",
                         f"parser: {feed_url} is JSON but not a JSON Feed (no items list)")
    notes = [] if "jsonfeed.org" in str(doc.get("version", "")) else ["JSON Feed without version"]
    entries = [_json_entry(item, feed_url) for item in doc["items"] if isinstance(item, dict)]
    skipped = len(doc["items"]) - len(entries)
    notes += [f"{count(skipped, 'item')} skipped (not JSON objects)"] if skipped else []
    link = _home_page(_str(doc.get("home_page_url")).strip(), feed_url)
    return _str(doc.get("title")), link, entries, notes, None


def _home_page(home: str, feed_url: str) -> str:
    try:
        return urljoin(feed_url, home) if home else ""
    except ValueError:   # "http://[::1": urljoin raises; the feed's items still count
        return ""


def _json_entry(item: dict, feed_url: str) -> Entry:
    content = _clean_json_html(_str(item.get("content_html")), feed_url)
    if not content and item.get("content_text"):
        content = paragraphs(_str(item["content_text"]))
    return Entry(
        guid=_str(item.get("id")), link=_str(item.get("url") or item.get("external_url")),
        title=_str(item.get("title")), content_html=content,
        summary_html=htmllib.escape(_str(item.get("summary"))),
        author=_json_author(item),
        published=_json_date(item.get("date_published") or item.get("date_modified")),
    )


def _clean_json_html(html: str, base: str) -> str:
    if not html:
        return ""
    resolved = feedparser_resolve(html, base, "utf-8", "text/html")
    return feedparser_sanitize(resolved, "utf-8", "text/html")


def _json_author(item: dict) -> str:
    legacy = item.get("author")  # JSON Feed 1.0 had one author object
    authors = item.get("authors") or ([legacy] if isinstance(legacy, dict) else [])
    if not isinstance(authors, list):   # "authors": 5 or {...} would fail the whole feed
        authors = [authors]
    names = [_str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names)


def _json_date(value) -> datetime | None:
    s = _str(value).strip()
    if not s:
        return None
    try:
        dt = datetime.fromisoformat(s)
        return dt.astimezone(timezone.utc) if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    except OverflowError:   # 0001-01-01T00:00+14:00 is before year 1 in UTC: unusable
        return None
    except ValueError:
        return first_date([feedparser_date(s)])  # RFC 822 and the other forms feeds use


def _str(v) -> str:
    s = "" if v is None or isinstance(v, (dict, list)) else str(v)
    if _SURROGATE.search(s):   # a lone "\\ud83d" escape: no UTF-8 (nor SQLite) takes it
        s = s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return s


_SURROGATE = re.compile("[\ud800-\udfff]")
