"""Stories from things that are not feed entries: an article page, a text file.

`ainews brief` reads these, and the formatter uses extract_main_text on fetched article
pages when a feed carries only a teaser (AINEWS_FETCH_ARTICLES=1)."""
from __future__ import annotations

import logging
import re
from datetime import datetime
from urllib.parse import urlsplit

from feeds.models import Story, story_id, utcnow
from feeds.hostile import hostile_flags
from feeds.invisible import visible
from feeds.text import clean_line, html_to_text
from feeds.urls import canonical_url
from feeds.xmlprep import decode_body

log = logging.getLogger("ainews.article")

MIN_ARTICLE_CHARS = 200   # less than this is a teaser or a failed extraction
# <meta charset="gbk"> or <meta http-equiv="Content-Type" content="...; charset=gbk">
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)


def decode_page(body: bytes, content_type: str | None = None) -> str:
    """An HTML page's text in the charset the server or, failing that, the page declares:
    Chinese outlets still serve GBK, which read as UTF-8 would be mojibake."""
    if "charset" not in (content_type or "").lower():
        if not (m := _META_CHARSET.search(body[:4096])):
            return body.decode("utf-8", "replace")   # undeclared: the web's usual encoding
        content_type = f"text/html; charset={m[1].decode('ascii')}"
    return decode_body(body, content_type)[0]


def extract_main_text(html: str, url: str = "") -> str | None:
    """The article's main text (paragraphs as lines, feeds.invisible.visible), or None
    when nothing usable.

    trafilatura finds the article body among navigation, ads and comments."""
    import trafilatura  # heavy import: only when articles are fetched

    try:
        text = trafilatura.extract(html, url=url or None, include_comments=False,
                                   include_tables=False, favor_precision=True)
    except Exception as e:  # the extractor must never take the formatter down
        log.warning("article: extraction failed for %s: %s", url or "page", e)
        return None
    # trafilatura drops format characters but keeps marks that draw nothing (variation
    # selectors carry hidden text a byte each): the LLM reads this as the story.
    text = visible(text or "")
    if len(text) < MIN_ARTICLE_CHARS:
        return None
    return text


def story_from_html(html: str, *, url: str = "", source: str = "",
                    fetched_at: datetime | None = None) -> Story:
    """A Story from an article page: title from <title>/og:title, text from the body."""
    import trafilatura

    # Not extensive: its date search reads "© 2024" in a footer as the publication date.
    meta = trafilatura.extract_metadata(html, default_url=url or None, extensive=False)
    title = clean_line((meta.title if meta else "") or "") or _first_line(html_to_text(html))
    text = extract_main_text(html, url) or html_to_text(html)
    site = (meta.sitename if meta else "") or source or (urlsplit(url).hostname or "")
    published = _meta_date(meta) or fetched_at or utcnow()
    return _story(title, text, url=url, source=site, published=published, html=html,
                  author=(meta.author if meta else "") or "")


def story_from_text(text: str, *, url: str = "", source: str = "",
                    fetched_at: datetime | None = None) -> Story:
    """A Story from plain text: the first non-empty line is the title."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    title = clean_line(lines[0]) if lines else ""
    body = "\n".join(lines[1:]).strip()
    return _story(title, body, url=url, source=source, published=fetched_at or utcnow())


def _story(title: str, text: str, *, url: str, source: str, published: datetime,
           html: str = "", author: str = "") -> Story:
    # As a feed entry's (feeds/entries.py): a page's og:title or <title> kept what draws
    # nothing ("paypal.c\u034fom", variation selectors), which trafilatura leaves in.
    title, text, source, author = clean_line(visible(title)), visible(text), \
        visible(source), visible(author)
    canon = canonical_url(url) if url else ""
    sid = story_id("", "", canon) if canon else story_id("local", title + "\n" + text[:500], "")
    first_para = next((p for p in text.split("\n") if p.strip()), "")
    return Story(id=sid, url=canon, title=title, text=text, source=source, feed_url="",
                 published=published, author=author, summary=first_para, html=html,
                 flags=hostile_flags(title + "\n" + text))


def _first_line(text: str) -> str:
    return next((clean_line(x) for x in text.split("\n") if x.strip()), "")


def _meta_date(meta) -> datetime | None:
    raw = getattr(meta, "date", None) if meta else None
    if not raw:
        return None
    try:
        from feeds.models import parse_iso
        return parse_iso(raw)
    except ValueError:
        return None
