"""Stories: new ones stored, edits, clusters, and a story read back with its cluster.

One story is one id (the GUID, or the canonical URL) *or* one canonical URL, across all
feeds (storage/dedupe.py). An edited entry (same id, new content_hash) updates the stored
text but is not new again; an edit of a new (not backlog) story is recorded in the same
transaction for dispatch to route again (story_edits, storage/dispatch_mark.py). A new
story joins the cluster of an earlier report of the same event
(feeds.event_match.same_event) or leads its own; lookups show each cluster once, its lead.
Rows: storage/story_rows.py; the brief cache: storage/briefs.py.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from feeds.cluster import signature_input, title_key
from feeds.models import DATED_AHEAD, SHARED_LINK, UNDATED, Story, iso_utc, parse_iso
from feeds.urls import without_secrets
from storage.briefs import BriefCache
from storage.clusters import ClusterSearch, micros
from storage.dedupe import Known, KnownStories
from storage.link_keys import stored_key
from storage.story_rows import (INDEX_STORY, INSERT_LINK, INSERT_STORY, STORY_COLUMNS,
                                content_row, content_values, story_from_row)

__all__ = ["STORY_COLUMNS", "StoryStore", "story_from_row"]

log = logging.getLogger("ainews.store")
# A new strategy story no followed feed but `feed` (followed) carries: its own feed was
# removed, and no other carried it.
_LEFT = ("SELECT s.title FROM stories s WHERE s.pk = :pk AND s.status = 'new' AND s.strategy = 1 "
         "AND EXISTS (SELECT 1 FROM feeds WHERE url = :feed) "
         "AND NOT EXISTS (SELECT 1 FROM feeds f WHERE f.url = s.feed_url) "
         "AND NOT EXISTS (SELECT 1 FROM story_feeds c JOIN feeds f ON f.url = c.feed_url "
         "WHERE c.story_pk = s.pk AND c.feed_url != :feed)")
# A strategy story another feed's first poll stored with its archive (never posted, not
# pruned) that `feed`, read before, lists now: news a second feed of the outlet took in
# first (its new address, a section feed added beside the main one).
_ARCHIVED = ("SELECT s.title FROM stories s WHERE s.pk = :pk AND s.status = 'backlog' "
             "AND s.pruned_from = '' AND s.strategy = 1 AND s.feed_url != :feed")


class StoryStore(KnownStories, BriefCache, ClusterSearch):
    """Mixin of Store: uses self.db, self._write(), self._signatures (an OrderedDict),
    self._unsigned (a dict) and self._company_days (storage.candidates), which the Store
    empties when a transaction rolls back (pks may be reused), self._data_version, and
    self._search_rows (new stories waiting for the search index), which the Store
    writes when its outermost transaction (self._own_transaction) commits. Story rows
    change only through these methods (the memory of them relies on it)."""

    def add_new_stories(self, stories: Iterable[Story], *, backlog: bool, now: datetime,
                        hold: Callable[[Story], bool] | None = None,
                        joins: dict[str, int] | None = None,
                        feed_url: str | None = None) -> list[Story]:
        """Store `stories` in one transaction; return those never seen before (by id or
        canonical URL), in input order. backlog=True stores them as "backlog": the first
        poll of a feed, never to be posted; so are the new stories `hold` is true of (too
        old to post). A returned story may have joined an earlier cluster:
        cluster_info(story.id) tells (post it as an "also reported by"). `joins`: story
        id -> an earlier story the LLM called the same event (Store.event_candidates),
        whose cluster the story joins when the offline rule finds none. `feed_url`: the
        feed they were polled from; when it is no longer followed (`feeds remove` while
        its poll was in flight) nothing is stored, checked in the storing transaction."""
        seen = iso_utc(now)
        stories = list(stories)
        with self._write():
            if feed_url is not None and not self._followed(feed_url):
                return []
            self._forget_if_changed_elsewhere()
            known, later = self._known_rows(stories), _Later()
            new = self._store_batch(stories, seen, known, later, backlog, hold, joins or {})
            later.write(self.db.conn)
            if not self._own_transaction:   # a transaction begun elsewhere: index now
                self._index_waiting()
        return new

    def _followed(self, feed_url: str) -> bool:
        return self.db.execute("SELECT 1 FROM feeds WHERE url = ?",
                               (feed_url,)).fetchone() is not None

    def _store_batch(self, stories: list[Story], seen: str, known: Known, later: "_Later",
                     backlog: bool, hold: Callable[[Story], bool] | None,
                     joins: dict[str, int]) -> list[Story]:
        """Merge the known stories, insert the others; the new ones, in input order."""
        new: list[Story] = []
        # Inside the write transaction nobody else inserts, so pks can be assigned
        # here as SQLite would (max + 1): the cluster is then known before the INSERT
        # and no second UPDATE per story rewrites the lead indexes.
        (top,) = self.db.execute("SELECT max(pk) FROM stories").fetchone()
        next_pk = (top or 0) + 1
        for story in stories:
            # A known story a removed feed left may be news to this feed's readers.
            news = not backlog and not (hold and hold(story))
            if self._merge_known(story, seen, known, later, news):
                continue
            content_hash = story.content_hash   # a sha256 of the text: once per story
            status = "new" if news else "backlog"
            self._insert_story(next_pk, story, status, seen, content_hash, later,
                               joins.get(story.id))
            known.add(next_pk, story, content_hash)
            next_pk += 1
            new.append(story)
        return new

    def _index_waiting(self, pk: int | None = None) -> None:
        """Index the new stories waiting for the search index (or only story `pk`).
        They wait for the end of the outermost transaction: FTS5 writes out what it
        holds at every savepoint (one per feed's batch), and small segments cost ~30%
        more to write and merge than one per transaction."""
        if pk is None:
            rows, self._search_rows = self._search_rows, {}
        else:
            rows = {pk: self._search_rows.pop(pk)} if pk in self._search_rows else {}
        self.db.conn.executemany(INDEX_STORY, [(k, *v) for k, v in rows.items()])

    def _forget_if_changed_elsewhere(self) -> None:
        """Another connection's commit may have added, edited or removed stories: what
        is kept in memory about them (signatures, company rows) is read again."""
        (version,) = self.db.conn.execute("PRAGMA data_version").fetchone()
        if version != self._data_version:
            self._data_version = version
            self._signatures.clear()
            self._unsigned.clear()
            self._company_days.clear()

    def _merge_known(self, story: Story, seen: str, known: Known, later: "_Later",
                     news: bool) -> bool:
        """Handle a story already stored (by id, alias or URL); False when it is new.
        `news`: it would be posted if it were new (not a first poll, not too old)."""
        pk = known.ids.get(story.id)
        if pk is None and story.url and SHARED_LINK not in story.flags:
            pk = known.by_link(story)
            if pk is None:
                return False
            self.db.execute("INSERT OR IGNORE INTO story_aliases (alias, story_pk) "
                            "VALUES (?, ?)", (story.id, pk))
            known.ids[story.id] = pk
        if pk is None:
            return False
        feed_url, old_hash = known.rows[pk]
        if feed_url != story.feed_url:
            self._carried_by(pk, story.feed_url, known, news)
        # An edit from the story's own feed updates it; another outlet's copy does not.
        elif old_hash != story.content_hash:
            later.write(self.db.conn)   # the edit rewrites the story's topic rows
            self._update_content(pk, story, seen)
            known.rows[pk] = (feed_url, story.content_hash)
        return True

    def _carried_by(self, pk: int, feed_url: str, known: Known, news: bool = False) -> None:
        """Record that the feed at `feed_url` carries story `pk` too. Pipeline polls
        pass a known entry on only until this is written (known_story_hashes), and
        IGNORE writes nothing when the row is there."""
        if feed_url and (pk, feed_url) not in known.carried:
            added = self.db.execute("INSERT OR IGNORE INTO story_feeds (story_pk, feed_url) "
                                    "VALUES (?, ?)", (pk, feed_url)).rowcount
            known.carried.add((pk, feed_url))
            if added and news:
                self._news_to(pk, feed_url)

    def _news_to(self, pk: int, feed_url: str) -> None:
        """Story `pk`, news by this feed's poll (not a first poll, not too old), is
        routed, as an edit is (while still news, never twice to a channel), when it never
        was: its feed was removed (its posts cancelled, or never routed) and no followed
        feed carried it, or another feed's first poll took it for its archive."""
        key = {"pk": pk, "feed": feed_url}
        if left := self.db.execute(_LEFT, key).fetchone():
            said = "of a removed feed"
        elif left := self.db.execute(_ARCHIVED, key).fetchone():
            said = "stored with another feed's first poll"
            self.db.execute("UPDATE stories SET status = 'new' WHERE pk = ?", (pk,))
        else:
            return
        self.db.execute("INSERT INTO story_edits (story_pk) VALUES (?)", (pk,))
        log.info("store: %r, %s, is listed by %s: routed to the channels that follow it",
                 left[0], said, without_secrets(feed_url))

    def _update_content(self, pk: int, story: Story, seen: str) -> None:
        story = self._kept_date(pk, story)
        self._signatures.pop(pk, None)
        self._unsigned.pop(pk, None)
        self._company_days.clear()   # its company rows move (rare: simply reload)
        self._index_waiting(pk)   # the UPDATE's triggers take its old words out
        values = {**content_values(story), "title_key": title_key(story.title)}
        sets = ", ".join(f"{k} = :{k}" for k in values)
        self.db.execute(f"UPDATE stories SET {sets}, updated_at = :seen WHERE pk = :pk",
                        {**values, "seen": seen, "pk": pk})
        (lead, status) = self.db.execute("SELECT is_lead, status FROM stories WHERE pk = ?",
                                         (pk,)).fetchone()
        self._link(pk, story, bool(lead))
        if status == "new":   # routed again by dispatch (a backlog story is never posted)
            self.db.execute("INSERT INTO story_edits (story_pk) VALUES (?)", (pk,))
        log.debug("store: updated edited story %s", story.id)

    def _kept_date(self, pk: int, story: Story) -> Story:
        """An undated (or future-dated) entry is dated when first fetched: an edit's
        fetch time is no date of it (edited at every poll, it topped /latest for good).
        A date the feed gives is the feed's word, and is taken."""
        if UNDATED not in story.flags and DATED_AHEAD not in story.flags:
            return story
        (stored,) = self.db.execute("SELECT published FROM stories WHERE pk = ?",
                                    (pk,)).fetchone()
        return replace(story, published=parse_iso(stored))

    def _insert_story(self, pk: int, story: Story, status: str, seen: str,
                      content_hash: str, later: "_Later", join: int | None = None) -> None:
        published = iso_utc(story.published)   # once: the row and its company/topic rows
        key = title_key(story.title)
        joined = self._cluster_of(join)   # None without a join: no query
        found, mine = self._find_cluster(pk, story, key)
        cluster = found or joined
        if join is not None and (joined is None or cluster != joined):
            story = without_llm_join(story)
        lead = int(cluster is None)
        execute = self.db.conn.execute
        execute(INSERT_STORY, (pk, story.id, story.url, stored_key(story.url), story.feed_url,
                               status, key, seen, seen, cluster or pk, lead,
                               *content_row(story, content_hash, published)))
        # Later stories of a backfill are compared with this one: keep its signature (or
        # what it is made of) instead of reading the row back (same values: the time as
        # stored, to the second).
        entry = (cluster or pk, micros(parse_iso(published)))
        if mine is None:   # compared with nothing yet: signed when a later story needs it
            self._keep_unsigned(pk, (*entry, signature_input(story)))
        else:
            self._signatures[pk] = (*entry, mine)
        c = story.classification
        # The next story's cluster search reads the company rows: written now.
        self.db.conn.executemany(INSERT_LINK["story_companies"],
                                 [(pk, n, published, lead, int(c.strategy))
                                  for n in c.companies])
        self._company_days.add(pk, published, c.companies)
        self._search_rows[pk] = (story.title, story.text)   # indexed at the commit
        later.add(pk, story, published, lead)

    def _cluster_of(self, pk: int | None) -> int | None:
        """The cluster (lead pk) story `pk` is in now, if it is still stored."""
        if pk is None:
            return None
        row = self.db.execute("SELECT cluster_id FROM stories WHERE pk = ?", (pk,)).fetchone()
        return row[0] if row else None

    def _link(self, pk: int, story: Story, lead: bool) -> None:
        """Rewrite an edited story's company and topic rows (the lookups read them)."""
        c, published = story.classification, iso_utc(story.published)
        for table, names in (("story_companies", c.companies), ("story_topics", c.topics)):
            self.db.execute(f"DELETE FROM {table} WHERE story_pk = ?", (pk,))
            self.db.conn.executemany(INSERT_LINK[table],
                                     [(pk, n, published, int(lead), int(c.strategy))
                                      for n in names])

    def cluster_info(self, story_id: str) -> tuple[str, str, list[str]] | None:
        """(cluster id, lead story id, the other outlets' names) or None if unknown.
        The cluster id is the lead story's id: stable, and a string like every id."""
        row = self.db.execute(
            "SELECT l.pk, l.id, l.source FROM stories s JOIN stories l ON l.pk = s.cluster_id "
            "WHERE s.id = ?", (story_id,)).fetchone()
        if row is None:
            return None
        lead_pk, lead_id, lead_source = row
        return lead_id, lead_id, self._also_reported_by([lead_pk], {lead_pk: lead_source})[
            lead_pk]

    def _also_reported_by(self, lead_pks: list[int],
                          lead_sources: dict[int, str]) -> dict[int, list[str]]:
        """For each cluster lead: the other members' outlets, first seen first, once each."""
        out: dict[int, list[str]] = {pk: [] for pk in lead_pks}
        if not lead_pks:
            return out
        marks = ",".join("?" * len(lead_pks))
        rows = self.db.execute(
            f"SELECT cluster_id, source FROM stories WHERE cluster_id IN ({marks}) "
            "AND is_lead = 0 ORDER BY pk", lead_pks)
        for cluster, source in rows:
            names = out[cluster]
            if source and source != lead_sources.get(cluster) and source not in names:
                names.append(source)
        return out

    def get_story(self, story_id: str) -> Story | None:
        row = self.db.execute(f"SELECT {STORY_COLUMNS} FROM stories WHERE id = ?",
                              (story_id,)).fetchone()
        return story_from_row(row) if row else None


class _Later:
    """Topic rows, which nothing reads while a batch is written: one executemany per
    batch instead of one per story."""

    def __init__(self):
        self.topics: list[tuple] = []

    def add(self, pk: int, story: Story, published: str, lead: int) -> None:
        c = story.classification
        strategy = int(c.strategy)
        self.topics += [(pk, t, published, lead, strategy) for t in c.topics]

    def write(self, conn) -> None:
        conn.executemany(INSERT_LINK["story_topics"], self.topics)
        self.topics = []


def without_llm_join(story: Story) -> Story:
    """The story without the LLM's same-event note, when the join it names was not made:
    the offline rule found a cluster first (another outlet's report stored meanwhile), or
    the report named was removed. `why` would otherwise name a post the story is not under."""
    c = story.classification
    if c is None:
        return story
    reasons = tuple(r for r in c.reasons if not r.startswith("llm-event: "))
    return story.with_classification(replace(c, reasons=reasons))
