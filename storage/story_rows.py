"""A story as a row of `stories` and back, and the statements that write its rows.

The column lists here are the stored schema's (storage/schema.py); their order is the
order of the values `content_row` gives and `story_from_row` reads.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii

from feeds.models import Classification, Story, iso_utc, parse_iso

__all__ = ["INDEX_STORY", "INSERT_LINK", "INSERT_STORY", "STORY_COLUMNS", "content_row",
           "content_values", "story_from_row"]

STORY_COLUMNS = ("pk, id, url, title, text, source, feed_url, published, guid, author, "
                 "summary, html, subtitle, flags, strategy, score, companies, topics, "
                 "reasons, cluster_id")


def story_from_row(row: tuple) -> Story:
    (_pk, sid, url, title, text, source, feed_url, published, guid, author, summary, html,
     subtitle, flags, strategy, score, companies, topics, reasons, _cluster) = row
    c = Classification(bool(strategy), score, tuple(json.loads(companies)),
                       tuple(json.loads(topics)), tuple(json.loads(reasons)))
    return Story(sid, url, title, text, source, feed_url, parse_iso(published), guid, author,
                 summary, html, subtitle, tuple(json.loads(flags)), c)


_CONTENT_COLUMNS = ("title", "text", "source", "published", "guid", "author", "summary",
                    "html", "subtitle", "flags", "strategy", "score", "companies", "topics",
                    "reasons", "content_hash")
_NEW_COLUMNS = ("pk", "id", "url", "link_key", "feed_url", "status", "title_key", "first_seen",
                "updated_at", "cluster_id", "is_lead", *_CONTENT_COLUMNS)
INSERT_STORY = (f"INSERT INTO stories ({', '.join(_NEW_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_NEW_COLUMNS))})")
INSERT_LINK = {table: f"INSERT OR IGNORE INTO {table} (story_pk, {column}, published, "
                      "is_lead, strategy) VALUES (?, ?, ?, ?, ?)"
               for table, column in (("story_companies", "company"), ("story_topics", "topic"))}
# Indexed by the store, not by a trigger: an FTS5 insert run by a trigger costs ~2 x more.
INDEX_STORY = "INSERT INTO stories_fts (rowid, title, text) VALUES (?, ?, ?)"


def content_row(s: Story, content_hash: str, published: str) -> tuple:
    """The _CONTENT_COLUMNS values of `s`, in that order."""
    c = s.classification
    return (s.title, s.text, s.source, published, s.guid, s.author, s.summary, s.html,
            s.subtitle, _json_list(s.flags), int(c.strategy), float(c.score),
            _json_list(c.companies), _json_list(c.topics), _json_list(c.reasons),
            content_hash)


def content_values(s: Story) -> dict:
    return dict(zip(_CONTENT_COLUMNS,
                    content_row(s, s.content_hash, iso_utc(s.published))))


def _json_list(items) -> str:
    """json.dumps(list(items)): for strings without the encoder's set-up per call."""
    try:
        return "[" + ", ".join(map(encode_basestring_ascii, items)) + "]"
    except TypeError:   # not all strings
        return json.dumps(list(items))
