"""Parser: feed bytes -> ParsedFeed of clean Stories (RSS 0.9x/1.0/2.0, Atom, JSON Feed).

feedparser does the XML work. Before it runs, the body is decoded here (feeds often
declare the wrong charset) and defused (DTD entity declarations removed, so no entity
bomb expands and no external entity is read). After it, each entry gets a stable id,
a canonical URL, plain-text title and text, a UTC date and flags for hostile text.
"""
from __future__ import annotations

import html as htmllib
import io
import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.datetimes import _parse_date as feedparser_date
from feedparser.sanitizer import _sanitize_html as feedparser_sanitize
from feedparser.urls import resolve_relative_uris as feedparser_resolve

from feeds import text as textmod
from feeds.models import Story, story_id
from feeds.urls import canonical_url, find_alternate, is_web_url

log = logging.getLogger("ainews.parser")

_HTML_START = re.compile(r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
                         r"<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
                         re.IGNORECASE | re.DOTALL)
_ENTITY_REF = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.IGNORECASE)
_ENTITY_DECL = re.compile(r"""<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:"([^"]*)"|'([^']*)')\s*>""")
_SAFE_VALUE = re.compile(r"\A(?:&#\d{1,7};|&#x[0-9a-fA-F]{1,6};|[^&%<\"']{0,8})\Z")
_ENTITY_USE = re.compile(r"&([A-Za-z_][\w.-]*);")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_DATE_KEYS = ("published_parsed", "updated_parsed", "created_parsed")
_SY_PERIOD_MINUTES = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200,
                      "yearly": 525600}
_TAG_START = re.compile(r"<(?![?!])")


class ParseError(Exception):
    """A body that is no feed ("not-a-feed", maybe with .alternate) or unreadable ("parse")."""

    def __init__(self, kind: str, message: str, alternate: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.alternate = alternate


@dataclass
class ParsedFeed:
    title: str
    link: str
    stories: list[Story]
    warning: str | None          # bozo and repairs, recorded: "parser: <feed>: <what>"
    ttl_minutes: int | None


@dataclass
class _Entry:
    """One entry, format-neutral, before cleaning."""
    guid: str = ""
    link: str = ""
    title: str = ""
    title_is_html: bool = False
    content_html: str = ""
    summary_html: str = ""
    author: str = ""
    subtitle: str = ""
    published: datetime | None = None


def parse_feed(body: bytes, *, feed_url: str, source: str = "",
               content_type: str | None = None, fetched_at: datetime | None = None,
               base_url: str | None = None) -> ParsedFeed:
    """Parse a fetched feed body into Stories; raises ParseError (see module docstring).

    `feed_url` scopes GUID ids, so pass the configured URL: a redirect must not renumber
    every story. `base_url` (default feed_url) is where the body came from, for links."""
    fetched_at = (fetched_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    base = base_url or feed_url
    if _looks_like_json(body):
        title, link, entries, notes, ttl = _read_json_feed(body, base)
    else:
        title, link, entries, notes, ttl = _read_xml_feed(body, base, content_type)
    name = source or textmod.clean_line(title) or urlsplit(feed_url).hostname or feed_url
    stories = _build_stories(entries, feed_url=feed_url, base=base, source=name,
                             fetched_at=fetched_at)
    warning = f"parser: {feed_url}: {'; '.join(notes)}" if notes else None
    if warning:
        log.info("%s", warning)
    return ParsedFeed(title=textmod.clean_line(title), link=link, stories=stories,
                      warning=warning, ttl_minutes=ttl)


# --- XML (feedparser) ---------------------------------------------------------------

def _read_xml_feed(body: bytes, feed_url: str, content_type: str | None):
    if not body.strip():
        raise ParseError("parse", f"parser: {feed_url}: empty body")
    text, notes = textmod.decode_body(body, content_type)
    if _HTML_START.match(text[:4096]):
        raise _not_a_feed(text, feed_url)
    text, dtd_note = _defuse_doctype(text)
    notes += [dtd_note] if dtd_note else []
    d = feedparser.parse(io.BytesIO(_as_utf8_xml(text)), response_headers={
        "content-type": "application/xml; charset=utf-8", "content-location": feed_url})
    if not d.entries:
        _check_empty(d, text, feed_url, content_type)
    # A truncated body can end in an entry with nothing in it yet: not a story.
    entries = [x for x in map(_xml_entry, d.entries)
               if x.title or x.link or x.content_html or x.summary_html]
    if d.bozo:
        notes.append(f"{_describe(d.bozo_exception)}; kept {len(entries)} entries")
    feed = d.feed
    title_type = feed.get("title_detail", {}).get("type", "")
    title = _clean_title(feed.get("title", ""), "html" in title_type)
    return title, feed.get("link", ""), entries, notes, _ttl(feed)


def _check_empty(d, text: str, feed_url: str, content_type: str | None) -> None:
    """No entries: fine for a valid, empty feed; otherwise say what the body was."""
    if d.version and not d.bozo:
        return
    if "html" in (content_type or "").lower() or re.search(r"<(html|body)[\s>]", text[:4096], re.I):
        raise _not_a_feed(text, feed_url)
    if d.bozo:
        raise ParseError("parse", f"parser: {feed_url}: {_describe(d.bozo_exception)}; no entries")
    raise ParseError("not-a-feed", f"parser: {feed_url} is XML but not RSS, Atom or JSON Feed")


def _xml_entry(e) -> _Entry:
    contents = e.get("content", [])
    html_first = sorted(contents, key=lambda c: "html" not in c.get("type", ""))
    content = html_first[0] if html_first else None
    title_type = e.get("title_detail", {}).get("type", "text/plain")
    # dict.get: FeedParserDict.get maps missing keys onto others, with a DeprecationWarning
    date = next((dict.get(e, k) for k in _DATE_KEYS if dict.get(e, k)), None)
    return _Entry(
        guid=e.get("id", "") or "", link=e.get("link", "") or "",
        title=e.get("title", "") or "", title_is_html="html" in title_type,
        content_html=_as_html(content), summary_html=_as_html(e.get("summary_detail")),
        author=e.get("author_detail", {}).get("name") or e.get("author", "") or "",
        subtitle=e.get("subtitle", "") or "",
        published=datetime(*date[:6], tzinfo=timezone.utc) if date else None,
    )


def _as_html(detail) -> str:
    """A content/summary value as HTML: text/plain values are escaped into paragraphs."""
    if not detail:
        return ""
    value = detail.get("value", "") or ""
    return value if "html" in detail.get("type", "text/html") else _paragraphs(value)


def _defuse_doctype(text: str) -> tuple[str, str | None]:
    """Drop the DOCTYPE's internal subset: entity bombs and external entities live there.

    Short literal entities (``<!ENTITY mdash "&#8212;">``) are expanded here, at most a
    few characters each, so nothing can amplify; references to the rest are escaped
    and stay visible as text. Either way the strict XML parser still accepts the body."""
    head_end = _first_element(text)
    head = text[:head_end]
    if "<!ENTITY" not in head.upper():
        return text, None
    decls = ((m[1], m[2] if m[2] is not None else m[3]) for m in _ENTITY_DECL.finditer(head))
    safe = {name: value for name, value in decls if _SAFE_VALUE.match(value)}
    head = re.sub(r"<!DOCTYPE[^\[>]*(\[.*?\]\s*)?>", "", head, flags=re.IGNORECASE | re.DOTALL)
    head = re.sub(r"<!ENTITY[^>]*>", "", head, flags=re.IGNORECASE)
    body = _ENTITY_USE.sub(lambda m: _expand(m, safe), text[head_end:])
    return head + body, "DTD entity declarations ignored"


def _expand(m: re.Match, safe: dict[str, str]) -> str:
    name = m[1]
    if name in _XML_ENTITIES:
        return m[0]
    return safe.get(name, f"&amp;{name};")


def _first_element(text: str) -> int:
    """Offset of the root element's "<" (the prolog and DOCTYPE come before it)."""
    pos = 0
    while True:
        m = _TAG_START.search(text, pos)
        if not m:
            return len(text)
        # A "<" inside the DOCTYPE's internal subset (e.g. in an entity value) doesn't count.
        before = text[:m.start()]
        if before.count("[") <= before.count("]") or "<!DOCTYPE" not in before.upper():
            return m.start()
        close = text.find("]>", m.start())
        if close < 0:
            return len(text)
        pos = close + 2


def _as_utf8_xml(text: str) -> bytes:
    """Re-encode as UTF-8, stating so in the prolog, and drop chars XML forbids."""
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)
    text = re.sub(r"\A\s*<\?xml[^>]*\?>", '<?xml version="1.0" encoding="utf-8"?>', text)
    return text.encode("utf-8", "replace")


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


# --- JSON Feed (https://jsonfeed.org/version/1.1) -----------------------------------

def _looks_like_json(body: bytes) -> bool:
    # Sniffed, not taken from Content-Type: servers label feeds wrongly both ways.
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _read_json_feed(body: bytes, feed_url: str):
    try:
        doc = json.loads(body.decode("utf-8-sig", "replace"))
    except ValueError as e:
        raise ParseError("parse", f"parser: {feed_url}: invalid JSON ({e.msg} at line {e.lineno})"
                         ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ParseError("not-a-feed",
                         f"parser: {feed_url} is JSON but not a JSON Feed (no items list)")
    notes = [] if "jsonfeed.org" in str(doc.get("version", "")) else ["JSON Feed without version"]
    entries = [_json_entry(item, feed_url) for item in doc["items"] if isinstance(item, dict)]
    skipped = len(doc["items"]) - len(entries)
    notes += [f"{skipped} items are not objects"] if skipped else []
    home = _str(doc.get("home_page_url")).strip()
    link = urljoin(feed_url, home) if home else ""
    return _str(doc.get("title")), link, entries, notes, None


def _json_entry(item: dict, feed_url: str) -> _Entry:
    content = _clean_json_html(_str(item.get("content_html")), feed_url)
    if not content and item.get("content_text"):
        content = _paragraphs(_str(item["content_text"]))
    return _Entry(
        guid=_str(item.get("id")), link=_str(item.get("url") or item.get("external_url")),
        title=_str(item.get("title")), content_html=content,
        summary_html=htmllib.escape(_str(item.get("summary"))),
        author=_json_author(item),
        published=_json_date(item.get("date_published") or item.get("date_modified")),
    )


def _clean_json_html(html: str, base: str) -> str:
    """Same treatment feedparser gives XML content: relative links resolved, scripts removed."""
    if not html:
        return ""
    resolved = feedparser_resolve(html, base, "utf-8", "text/html")
    return feedparser_sanitize(resolved, "utf-8", "text/html")


def _paragraphs(text: str) -> str:
    paras = [p for p in re.split(r"\n\s*\n|\r\n\s*\r\n", text) if p.strip()]
    return "".join(f"<p>{htmllib.escape(p.strip())}</p>" for p in paras)


def _json_author(item: dict) -> str:
    legacy = item.get("author")  # JSON Feed 1.0 had one author object
    authors = item.get("authors") or ([legacy] if isinstance(legacy, dict) else [])
    names = [_str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names)


def _json_date(value) -> datetime | None:
    s = _str(value).strip()
    if not s:
        return None
    try:
        dt = datetime.fromisoformat(s)
        return dt.astimezone(timezone.utc) if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    except ValueError:
        parsed = feedparser_date(s)  # RFC 822 and the other forms feeds use
        return datetime(*parsed[:6], tzinfo=timezone.utc) if parsed else None


def _str(v) -> str:
    return "" if v is None or isinstance(v, (dict, list)) else str(v)


# --- entries -> Stories ---------------------------------------------------------------

def _build_stories(entries: list[_Entry], *, feed_url: str, base: str, source: str,
                   fetched_at: datetime) -> list[Story]:
    links = [canonical_url(e.link, base) if e.link.strip() else "" for e in entries]
    shared = _shared_links(entries, links)
    stories, seen = [], set()
    for entry, link in zip(entries, links):
        story = _story(entry, link, link in shared, feed_url, source, fetched_at)
        if story.id not in seen:  # duplicate GUIDs / links inside one feed: one story
            seen.add(story.id)
            stories.append(story)
    return stories


def _shared_links(entries: list[_Entry], links: list[str]) -> set[str]:
    """Links that several differently-GUIDed entries point at (e.g. the home page):
    those can't identify a story, so their GUIDs must."""
    guids: dict[str, set[str]] = defaultdict(set)
    for entry, link in zip(entries, links):
        if link and entry.guid.strip():
            guids[link].add(entry.guid.strip())
    return {link for link, g in guids.items() if len(g) > 1}


def _identity(entry: _Entry, link: str, link_shared: bool, feed_url: str, title: str):
    """(id, guid, url). A GUID that is a URL is canonicalised; when it names the same
    page as the link (differing only by query: tracking, timestamps) the link wins."""
    guid = entry.guid.strip()
    if is_web_url(guid):
        guid = canonical_url(guid)
        url = link or guid
        if not link_shared and _same_page(guid, url):
            return story_id(feed_url, "", url), guid, url
        return story_id(feed_url, guid, url), guid, url
    if guid:
        return story_id(feed_url, guid, link), guid, link
    if link:
        return story_id(feed_url, "", link), "", link
    return story_id(feed_url, f"title:{title}", ""), "", ""


def _same_page(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.hostname, pa.path.rstrip("/")) == (pb.hostname, pb.path.rstrip("/"))


def _story(entry: _Entry, link: str, link_shared: bool, feed_url: str, source: str,
           fetched_at: datetime) -> Story:
    title = _clean_title(entry.title, entry.title_is_html)
    sid, guid, url = _identity(entry, link, link_shared, feed_url, title)
    summary = textmod.html_to_text(entry.summary_html)
    body = textmod.html_to_text(entry.content_html) if entry.content_html else summary
    author = textmod.clean_line(entry.author)
    subtitle = textmod.clean_line(textmod.html_to_text(entry.subtitle))
    published = entry.published or fetched_at
    # Raw fields too: cleaning can drop a "<!channel>" that a careless renderer would not.
    flags = textmod.hostile_flags("\n".join((entry.title, title, body, summary, author, subtitle,
                                             entry.content_html, entry.summary_html)))
    return Story(id=sid, url=url, title=title, text=body, source=source, feed_url=feed_url,
                 published=min(published, fetched_at), guid=guid, author=author,
                 summary=summary, html=entry.content_html or entry.summary_html,
                 subtitle=subtitle, flags=flags)


def _clean_title(title: str, is_html: bool) -> str:
    if is_html:
        return textmod.clean_line(textmod.html_to_text(title))
    # Double-escaped titles ("AT&amp;amp;T") reach us as "AT&amp;T": decode once more.
    if _ENTITY_REF.search(title):
        title = htmllib.unescape(title)
    return textmod.clean_line(title)
