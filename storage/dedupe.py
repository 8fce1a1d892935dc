"""Dedupe: which stored story an incoming one is, by id, alias or canonical URL (as
feeds/link_key.py spells it: raw or %-escaped, one address).

One story is one id (the GUID, or the canonical URL) *or* one canonical URL, across all
feeds; an id that reached a story by its URL is kept as an alias of it, and every other
feed whose copy reached it, by id, alias or URL, in story_feeds (`feeds remove` asks).
"""
from __future__ import annotations

from collections.abc import Iterable

from feeds.link_key import link_key
from feeds.models import SHARED_LINK, Story
from storage.clusters import chunks

__all__ = ["Known", "KnownStories"]


class KnownStories:
    """Mixin of Store (through StoryStore): uses self.db."""

    def known_story_ids(self, ids: Iterable[str]) -> set[str]:
        """The ids among `ids` already stored (as a story or an alias of one)."""
        return set(self.known_story_hashes(ids))

    def known_story_hashes(self, ids: Iterable[str], feed_url: str | None = None,
                           ) -> dict[str, str]:
        """id -> stored content_hash for the known ids: lets a caller skip unchanged
        entries yet still pass edited ones (a different hash) to add_new_stories. With
        `feed_url`, an id stored from other feeds only, never yet seen from this one,
        maps to '' (no entry's hash): passed on too, so the store records that this feed
        carries it (story_feeds), once; after that it is skipped like any other."""
        found: dict[str, str] = {}
        hashed, feed = "s.content_hash", ()
        if feed_url is not None:
            hashed, feed = _CARRIED_HASH, (feed_url, feed_url)
        for chunk in chunks(list(dict.fromkeys(ids)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT s.id, {hashed} FROM stories s WHERE s.id IN ({marks}) "
                f"UNION ALL SELECT a.alias, {hashed} FROM story_aliases a "
                f"JOIN stories s ON s.pk = a.story_pk WHERE a.alias IN ({marks})",
                (*feed, *chunk, *feed, *chunk)).fetchall()
            found.update(rows)
        return found

    def _known_rows(self, stories: list[Story]) -> Known:
        """The stored rows a batch may match, by id, alias or URL: three queries for
        the batch instead of two per story."""
        known = Known()
        ids = list(dict.fromkeys(s.id for s in stories))
        urls = list(dict.fromkeys(link_key(s.url) for s in stories
                                  if s.url and SHARED_LINK not in s.flags))
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            known.load(self.db.execute(   # aliases first: a story's own id wins below
                "SELECT a.alias, s.pk, s.feed_url, s.content_hash FROM story_aliases a "
                f"JOIN stories s ON s.pk = a.story_pk WHERE a.alias IN ({marks})", chunk),
                known.ids)
            known.load(self.db.execute("SELECT id, pk, feed_url, content_hash FROM stories "
                                       f"WHERE id IN ({marks})", chunk), known.ids)
        for chunk in chunks(urls, 500):   # by link_key: one address, however spelled
            marks = ",".join("?" * len(chunk))
            for column in ("url", "link_key"):   # url where it is its own key
                known.load(self.db.execute(
                    f"SELECT {column}, pk, feed_url, content_hash FROM stories "
                    f"WHERE {column} IN ({marks}) AND {column} != ''", chunk), known.urls)
        return known


# The hash, if story s is the feed's own (most are: no lookup then) or a copy of it
# the feed was seen carrying before; else ''.
_CARRIED_HASH = ("CASE WHEN s.feed_url = ? OR EXISTS (SELECT 1 FROM story_feeds c "
                 "WHERE c.story_pk = s.pk AND c.feed_url = ?) THEN s.content_hash ELSE '' END")


class Known:
    """One batch's view of stored stories: id or alias -> pk, URL -> pk, and each pk's
    (feed_url, content_hash), kept current as the batch is written; and which other
    feeds' copies of them the batch has recorded (story_feeds)."""

    def __init__(self):
        self.ids: dict[str, int] = {}
        self.urls: dict[str, int] = {}   # by link_key
        self.rows: dict[int, tuple[str, str]] = {}
        self.carried: set[tuple[int, str]] = set()   # (pk, another feed) written this batch

    def load(self, rows, index: dict) -> None:
        for key, pk, feed_url, content_hash in rows:
            index[key] = pk
            self.rows[pk] = (feed_url, content_hash)

    def add(self, pk: int, story: Story, content_hash: str) -> None:
        self.ids[story.id] = pk
        if story.url and SHARED_LINK not in story.flags:
            self.urls[link_key(story.url)] = pk
        self.rows[pk] = (story.feed_url, content_hash)

    def by_link(self, story: Story) -> int | None:
        """The stored story `story`'s link names, however spelled."""
        return self.urls.get(link_key(story.url))
