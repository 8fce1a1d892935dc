"""Parser: feed bytes -> ParsedFeed of clean Stories (RSS 0.9x/1.0/2.0, Atom, JSON Feed).

Before any XML reader runs, the body is decoded here (feeds often declare the wrong
charset) and defused (DTD entity declarations removed, so no entity bomb expands and no
external entity is read). Well-formed RSS 2.0 and Atom 1.0 then go through the lxml fast
path (feeds/fastparse.py); everything else, and anything the fast path declines, through
feedparser (JSON Feed: feeds/jsonfeed.py). After that each entry gets a stable id, a
canonical URL, plain-text title and text, a UTC date and flags for hostile text.
"""
from __future__ import annotations

import html as htmllib
import io
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

import feedparser

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
READERS = ("auto", "lxml", "feedparser")
_PROLOG = re.compile(r"\A\s*<\?xml[^>]*\?>")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_C0_FORBIDDEN = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20))


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
    reader: str = ""             # which reader ran: "lxml" | "feedparser" | "json"


@dataclass
class Entry:
    """One entry, format-neutral, before cleaning. A reader that already has the plain
    text of the HTML (the fast path) passes it in *_text, sparing a second HTML parse."""
    guid: str = ""
    link: str = ""
    title: str = ""
    title_is_html: bool = False
    content_html: str = ""
    summary_html: str = ""
    author: str = ""
    subtitle: str = ""
    published: datetime | None = None
    content_text: str | None = None
    summary_text: str | None = None


def parse_feed(body: bytes, *, feed_url: str, source: str = "",
               content_type: str | None = None, fetched_at: datetime | None = None,
               base_url: str | None = None) -> ParsedFeed:
    """Parse a fetched feed body into Stories; raises ParseError (see module docstring).

    `feed_url` scopes GUID ids, so pass the configured URL: a redirect must not renumber
    every story. `base_url` (default feed_url) is where the body came from, for links."""
    return parse_feed_with("auto", body, feed_url=feed_url, source=source,
                           content_type=content_type, fetched_at=fetched_at, base_url=base_url)


def parse_feed_with(reader: str, body: bytes, *, feed_url: str, source: str = "",
                    content_type: str | None = None, fetched_at: datetime | None = None,
                    base_url: str | None = None) -> ParsedFeed:
    """parse_feed with the XML reader chosen (tests and benchmarks compare them):
    "auto" (fast path, else feedparser), "feedparser", or "lxml" (the fast path only:
    fastparse.Unsupported when it declines)."""
    from feeds import jsonfeed  # here, not at the top: it imports Entry from this module

    if reader not in READERS:
        raise ValueError(f"parser: unknown reader {reader!r}")
    fetched_at = (fetched_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    base = base_url or feed_url
    if jsonfeed.looks_like_json(body):
        title, link, entries, notes, ttl = jsonfeed.read_json_feed(body, base)
        used = "json"
    else:
        title, link, entries, notes, ttl, used = _read_xml_feed(body, base, content_type, reader)
    name = source or textmod.clean_line(title) or urlsplit(feed_url).hostname or feed_url
    stories = _build_stories(entries, feed_url=feed_url, base=base, source=name,
                             fetched_at=fetched_at)
    warning = f"parser: {feed_url}: {'; '.join(notes)}" if notes else None
    if warning:
        log.info("%s", warning)
    return ParsedFeed(title=textmod.clean_line(title), link=link, stories=stories,
                      warning=warning, ttl_minutes=ttl, reader=used)


# --- XML (feedparser) ---------------------------------------------------------------

def _read_xml_feed(body: bytes, feed_url: str, content_type: str | None, reader: str):
    if not body.strip():
        raise ParseError("parse", f"parser: {feed_url}: empty body")
    text, notes = textmod.decode_body(body, content_type)
    if _HTML_START.match(text[:4096]):
        raise _not_a_feed(text, feed_url)
    text, dtd_note = _defuse_doctype(text)
    notes += [dtd_note] if dtd_note else []
    xml = _as_utf8_xml(text)
    # A guessed decoding goes to feedparser: the fast path takes only what it can trust.
    guessed = any(n.startswith("body is not") for n in notes)
    if reader == "lxml" or (reader == "auto" and not guessed):
        fast = _read_fast(xml, feed_url, strict=reader == "lxml")
        if fast is not None:
            title, link, entries, ttl = fast
            return title, link, entries, notes, ttl, "lxml"
    return (*_read_with_feedparser(xml, text, feed_url, content_type, notes), "feedparser")


def _read_fast(xml: bytes, feed_url: str, *, strict: bool):
    """(title, link, entries, ttl) from the lxml reader, or None when it declines."""
    from feeds import fastparse  # here, not at the top: it imports Entry from this module

    try:
        feed = fastparse.read_feed(xml, feed_url)
    except fastparse.Unsupported as e:
        if strict:
            raise
        log.debug("parser: %s: fast path declined (%s); using feedparser", feed_url, e)
        return None
    except Exception as e:  # noqa: BLE001 - a fast-path bug must not cost the feed
        if strict:
            raise
        log.warning("parser: %s: fast path failed (%s: %s); using feedparser",
                    feed_url, type(e).__name__, e)
        return None
    entries = [x for x in feed.entries if x.title or x.link or x.content_html or x.summary_html]
    return _clean_title(feed.title, feed.title_is_html), feed.link, entries, _ttl(feed.meta)


def _read_with_feedparser(xml: bytes, text: str, feed_url: str, content_type: str | None,
                          notes: list[str]):
    d = feedparser.parse(io.BytesIO(xml), response_headers={
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


def _xml_entry(e) -> Entry:
    contents = e.get("content", [])
    html_first = sorted(contents, key=lambda c: "html" not in c.get("type", ""))
    content = html_first[0] if html_first else None
    title_type = e.get("title_detail", {}).get("type", "text/plain")
    # dict.get: FeedParserDict.get maps missing keys onto others, with a DeprecationWarning
    date = next((dict.get(e, k) for k in _DATE_KEYS if dict.get(e, k)), None)
    return Entry(
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
    return value if "html" in detail.get("type", "text/html") else paragraphs(value)


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
    """Re-encode as UTF-8, stating so in the prolog, and drop chars XML forbids. Past
    the head, C0 controls are deleted from the bytes (single bytes in UTF-8, never part
    of another character): bytes.translate is far faster than a regex on 400 KB."""
    head = _FORBIDDEN.sub("", text[:4096])
    head = _PROLOG.sub('<?xml version="1.0" encoding="utf-8"?>', head, count=1)
    rest = text[4096:]
    if "\ufffe" in rest or "\uffff" in rest:
        rest = rest.replace("\ufffe", "").replace("\uffff", "")
    return (head + rest).encode("utf-8", "replace").translate(None, _C0_FORBIDDEN)


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


# --- entries -> Stories ---------------------------------------------------------------

def _build_stories(entries: list[Entry], *, feed_url: str, base: str, source: str,
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


def _shared_links(entries: list[Entry], links: list[str]) -> set[str]:
    """Links that several differently-GUIDed entries point at (e.g. the home page):
    those can't identify a story, so their GUIDs must."""
    guids: dict[str, set[str]] = defaultdict(set)
    for entry, link in zip(entries, links):
        if link and entry.guid.strip():
            guids[link].add(entry.guid.strip())
    return {link for link, g in guids.items() if len(g) > 1}


def _identity(entry: Entry, link: str, link_shared: bool, feed_url: str, title: str):
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


def _story(entry: Entry, link: str, link_shared: bool, feed_url: str, source: str,
           fetched_at: datetime) -> Story:
    title = _clean_title(entry.title, entry.title_is_html)
    sid, guid, url = _identity(entry, link, link_shared, feed_url, title)
    summary = _text_of(entry.summary_html, entry.summary_text)
    body = _text_of(entry.content_html, entry.content_text) if entry.content_html else summary
    author = textmod.clean_line(entry.author)
    subtitle = textmod.clean_line(textmod.html_to_text(entry.subtitle))
    published = entry.published or fetched_at
    # Raw fields too: cleaning can drop a "<!channel>" that a careless renderer would not.
    everything = "\n".join((entry.title, title, body, summary, author, subtitle,
                            entry.content_html, entry.summary_html))
    flags = textmod.hostile_flags(everything) if textmod.may_be_hostile(everything) else ()
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


def _text_of(html: str, text: str | None) -> str:
    return text if text is not None else textmod.html_to_text(html)


def paragraphs(text: str) -> str:
    """Plain text as HTML paragraphs (blank lines separate them), escaped."""
    paras = [p for p in re.split(r"\n\s*\n|\r\n\s*\r\n", text) if p.strip()]
    return "".join(f"<p>{htmllib.escape(p.strip())}</p>" for p in paras)
