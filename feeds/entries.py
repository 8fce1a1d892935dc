"""Entries: what every feed reader hands the parser, and how they become Stories.

The three readers (feedparser, the lxml fast path in feeds/fastparse.py, JSON Feed in
feeds/jsonfeed.py) each produce format-neutral Entries. Here each gets a stable id, a
canonical URL, plain-text title and text, a UTC date and flags for hostile text. The
readers' shared error, ParseError, lives here too, so no reader imports the parser.
"""
from __future__ import annotations

import html as htmllib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

from feeds import text as textmod
from feeds.headline import MAX_HEADLINE, trim_words
from feeds.hostile import hostile_flags, may_be_hostile
from feeds.invisible import visible
from feeds.models import DATED_AHEAD, SHARED_LINK, UNDATED, Story, story_id
from feeds.sentences import split_sentences
from feeds.urls import (base_plays_no_part, canonical_url, is_web_url, web_link,
                        without_secrets)

# Far above any real headline (the shared corpus's longest is 137 characters).
MAX_TITLE = 1000

_ENTITY_REF = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.IGNORECASE)


class ParseError(Exception):
    """A body that is no feed ("not-a-feed", maybe with .alternate) or unreadable ("parse")."""

    def __init__(self, kind: str, message: str, alternate: str | None = None):
        super().__init__(without_secrets(message))   # it names the feed's URL: see FetchError
        self.kind = kind
        self.alternate = alternate


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

    def has_content(self) -> bool:
        """False for an entry with nothing in it yet (e.g. cut off by a truncated body)."""
        return bool(self.title or self.link or self.content_html or self.summary_html)


def paragraphs(text: str) -> str:
    """Plain text as HTML paragraphs (blank lines separate them), escaped."""
    return "".join(f"<p>{htmllib.escape(p)}</p>" for p in paragraph_list(text))


def paragraph_list(text: str) -> list[str]:
    """The paragraphs of plain text (blank lines separate them), stripped."""
    if "\n" not in text:  # one paragraph (most summaries): the split's regex steps
        return [p] if (p := text.strip()) else []  # through every character to say so
    return [p.strip() for p in _BLANK_LINE.split(text) if p.strip()]


_BLANK_LINE = re.compile(r"\n\s*\n|\r\n\s*\r\n")


def clean_title(title: str, is_html: bool) -> str:
    """A title as one line of plain text."""
    if is_html:
        return textmod.clean_line(textmod.html_to_text(title))
    # Double-escaped titles ("AT&amp;amp;T") reach us as "AT&amp;T": decode once more.
    if "&" in title and _ENTITY_REF.search(title):
        title = htmllib.unescape(title)
    return textmod.clean_line(title)


def first_date(parsed_dates: Iterable[tuple | None]) -> datetime | None:
    """The first of feedparser's UTC time tuples that is a real date, as a datetime.

    feedparser normalises a CMS's "zero" date (0000-00-00) to year -1, which datetime
    refuses; such a date is unusable, like a missing one, and must not cost the feed."""
    for parsed in parsed_dates:
        if parsed:
            try:
                return datetime(*parsed[:6], tzinfo=timezone.utc)
            except (ValueError, OverflowError):
                continue
    return None


def build_stories(entries: list[Entry], *, feed_url: str, base: str, source: str,
                  fetched_at: datetime) -> list[Story]:
    """One Story per distinct entry, in feed order; links resolve against `base`."""
    links = [canonical_url(e.link, base) if e.link.strip() else "" for e in entries]
    shared = _shared_links(entries, links)
    common = _shared_guids(entries, links)
    stories, seen = [], set()
    for entry, link in zip(entries, links):
        if link and entry.guid.strip() in common:
            entry = replace(entry, guid="")   # a GUID naming no one entry: its link does
        story = _story(entry, link, link in shared, feed_url, base, source, fetched_at)
        if story.id not in seen:  # duplicate GUIDs / links inside one feed: one story
            seen.add(story.id)
            stories.append(story)
    return stories


def _shared_links(entries: list[Entry], links: list[str]) -> set[str]:
    """Links that several differently-GUIDed entries point at (e.g. the home page):
    those can't identify a story, so their GUIDs must."""
    return _named_twice((link, e.guid.strip()) for e, link in zip(entries, links))


def _shared_guids(entries: list[Entry], links: list[str]) -> set[str]:
    """GUIDs that entries of several links carry (every item's GUID the home page, or a
    constant, a CMS plugin's bug): read as one story, each new item was an edit of the
    first and none was posted. Their links identify them."""
    return _named_twice((e.guid.strip(), link) for e, link in zip(entries, links))


def _named_twice(pairs: Iterable[tuple[str, str]]) -> set[str]:
    """The keys paired with more than one value (empty keys and values left out)."""
    values: dict[str, set[str]] = defaultdict(set)
    for key, value in pairs:
        if key and value:
            values[key].add(value)
    return {key for key, v in values.items() if len(v) > 1}


def _identity(entry: Entry, link: str, link_shared: bool, feed_url: str, base: str,
              title: str):
    """(id, guid, url). A GUID that is a URL is canonicalised; when it names the same
    page as the link (differing only by query: tracking, timestamps) the link wins."""
    guid = entry.guid.strip()
    if is_web_url(guid):
        guid = _canonical_guid(guid, entry.link, link, base)
        # A link shared with other entries (a live blog's page) is no permalink; the GUID is.
        url = guid if link_shared or not link else link
        if not link_shared and _same_page(guid, url):
            return story_id(feed_url, "", url), guid, url
        return story_id(feed_url, guid, url), guid, url
    if guid:
        # Entries sharing a link, told apart by GUIDs that are no URLs, each get the page
        # at their own fragment: one URL for all broke the store's one-story-a-URL rule.
        url = f"{link}#{quote(guid, safe='')}" if link_shared else link
        return story_id(feed_url, guid, link), guid, url
    if link:
        return story_id(feed_url, "", link), "", link
    return story_id(feed_url, f"title:{title}", ""), "", ""


def _canonical_guid(guid: str, raw_link: str, link: str, base: str) -> str:
    """canonical_url(guid). A GUID spelled as the entry's link (most permalinks) has
    the link's canonical form when the base played no part in it: not worked out twice."""
    if link and guid == raw_link.strip() and base_plays_no_part(guid, base):
        return link
    return canonical_url(guid)


def _same_page(a: str, b: str) -> bool:
    if a == b:  # the usual: the GUID is the link
        return True
    try:
        pa, pb = urlsplit(a), urlsplit(b)
        return (pa.hostname, pa.path.rstrip("/")) == (pb.hostname, pb.path.rstrip("/"))
    except ValueError:   # "http://[::1": no page at all, and no reason to fail the feed
        return False


def _story(entry: Entry, link: str, link_shared: bool, feed_url: str, base: str,
           source: str, fetched_at: datetime) -> Story:
    title = clean_title(entry.title, entry.title_is_html)
    sid, guid, url = _identity(entry, link, link_shared, feed_url, base, title)
    # Ids come from the raw title (above); what readers see has no control characters,
    # and is bounded: a hostile feed's megabyte "title" cost seconds in every later stage.
    title = trim_words(visible(title), MAX_TITLE)
    summary = visible(_text_of(entry.summary_html, entry.summary_text))
    body = (visible(_text_of(entry.content_html, entry.content_text))
            if entry.content_html else summary)
    # Microblog feeds (Mastodon, JSON Feed 1.1) leave titles out; readers still need one.
    # After _identity: a title-identified entry keeps the id it always had.
    title = title or _lead_sentence(body or summary)
    author = visible(textmod.clean_line(entry.author))
    subtitle = visible(textmod.clean_line(textmod.html_to_text(entry.subtitle)))
    published = entry.published or fetched_at
    # Raw fields too: cleaning can drop a "<!channel>" that a careless renderer would not.
    everything = "\n".join((entry.title, title, body, summary, author, subtitle,
                            entry.content_html, entry.summary_html))
    flags = hostile_flags(everything) if may_be_hostile(everything) else ()
    if link_shared and url == link:
        flags += (SHARED_LINK,)   # the store must not take the URL for the story's identity
    if entry.published is None:
        flags += (UNDATED,)       # no date to tell it from an archive (bot/new_stories.py)
    elif published > fetched_at:
        flags += (DATED_AHEAD,)   # dated as fetched, below: a stand-in, as an undated one's
    # The id above still comes from any link: a story keeps the id it always had.
    return Story(id=sid, url=web_link(url), title=title, text=body, source=source, feed_url=feed_url,
                 published=min(published, fetched_at), guid=guid, author=author,
                 summary=summary, html=entry.content_html or entry.summary_html,
                 subtitle=subtitle, flags=flags)


def _lead_sentence(text: str) -> str:
    sentences = split_sentences(text[:2000])
    return trim_words(sentences[0], MAX_HEADLINE) if sentences else ""


def _text_of(html: str, text: str | None) -> str:
    return text if text is not None else textmod.html_to_text(html)
