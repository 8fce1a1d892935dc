"""Retention: old stories slimmed, settled outbox rows forgotten, so the file grows slowly.

Slowly: each story keeps a slim row (~2 KB; docs/reliability.md, "Retention") until,
past a long horizon, no feed lists it any more (storage/slim_rows.py).

A slimmed story keeps its row (id, aliases, the other feeds carrying it, canonical URL,
title, source, dates, content hash, cluster, company and topic rows): dedupe still
knows it, so a feed that keeps listing an old entry (or an undated one, dated when
fetched) never gets it posted again, and `company`/`latest` still list it. What goes is
the bulk: text, HTML, summary, the cached brief and the body's words in the search
index. The index keeps the title: the triggers that keep it in step with an edit take
out exactly what the row holds, so a row and its index entry must always agree (FTS5
external content).

A slimmed story also becomes "backlog": should its feed edit it later, the edit is
stored but never routed again (its outbox row, the guard against a second post, may be
gone by then). Its status before is kept in pruned_from, so `why` does not take a
posted story for a first poll's. Work goes in batches of BATCH stories, each its own short transaction,
so a first prune of a big store never holds the write lock for long.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.models import iso_utc
from storage.delivery_schema import ts
from storage.slim_rows import SlimRowStore

BATCH = 2000    # stories (or outbox rows) a transaction: well under a second of lock each
# Outbox states nothing revisits.
SETTLED = ("sent", "digested", "failed", "cancelled", "stale")
# Forgotten as settled ones are: a post kept that long for a channel paused all along
# (never resumed: a deleted channel taken for one the bot was removed from) is no news.
FORGOTTEN = (*SETTLED, "kept")
_MARK = "slimmed_upto_pk"   # stories up to this pk are done (pks follow first_seen)
_FAT = "(text != '' OR html != '' OR summary != '' OR status = 'new')"   # not slim yet
_EDITED = "SELECT story_pk FROM story_edits"   # an edit waiting: kept whole, not lost
_LINKED = ("story_aliases", "story_feeds", "story_companies",   # ON DELETE CASCADE
           "story_topics")


@dataclass(frozen=True)
class Slimmed:
    stories: int    # stories slimmed by this call
    posts: int      # settled outbox rows forgotten
    forgotten: int = 0   # slim rows deleted (storage/slim_rows.py)


class RetentionStore(SlimRowStore):
    """Mixin of Store: uses self.db, self._write(), get_meta/set_meta and the memory
    of stories (self._forget_stories), which slimmed text makes stale."""

    def slim_stories_older_than(self, cutoff: datetime, *, now: datetime | None = None,
                                forget_before: datetime | None = None) -> Slimmed:
        """Slim the stories first seen before `cutoff`, forget settled outbox rows
        created before it, delete the slim rows of stories first seen before
        `forget_before` that no feed lists any more (storage/slim_rows.py), then hand
        freed pages back if the file allows it. A story first seen after `now` (the
        store's clock) counts as first seen now."""
        stories = self._slim_old_stories(iso_utc(cutoff), iso_utc(now or self._now()))
        self._forget_slim_briefs()
        posts = self._forget_settled_posts(ts(cutoff))
        forgotten = self._forget_slim_rows(iso_utc(forget_before)) if forget_before else 0
        self._forget_stories()
        self._reclaim_free_pages()
        return Slimmed(stories, posts, forgotten)

    def _slim_old_stories(self, cutoff: str, now: str) -> int:
        slimmed = 0
        while True:
            pks, done = self._next_old_pks(cutoff, now)
            if pks:
                slimmed += self._slim_batch(pks)
            if done:
                return slimmed

    def _next_old_pks(self, cutoff: str, now: str) -> tuple[list[int], bool]:
        """The next batch of stories past the mark first seen before `cutoff`, and
        whether that was the last. Walking by pk (first_seen grows with it) reads only
        stories not slimmed yet, with no index on first_seen to keep up."""
        mark = self.get_meta(_MARK, 0)
        rows = self.db.execute("SELECT pk, first_seen FROM stories WHERE pk > ? "
                               "ORDER BY pk LIMIT ?", (mark, BATCH)).fetchall()
        old = []
        for pk, seen in rows:
            if seen >= cutoff:   # the first recent story: the rest are newer still
                if seen > now:
                    self._seen_now(pk, now)
                return old, True
            old.append(pk)
        return old, len(rows) < BATCH

    def _seen_now(self, pk: int, now: str) -> None:
        """The walk stopped at a story first seen after now: a clock running ahead
        stored it, and it would hold up every later story until then (a year ahead:
        a year). It and any others so dated count as first seen now, and age from
        here. Reads every story not slimmed yet, but only after such a clock."""
        with self._write():
            self.db.execute("UPDATE stories SET first_seen = ? WHERE pk >= ? AND "
                            "first_seen > ?", (now, pk, now))

    def _slim_batch(self, pks: list[int]) -> int:
        """Delete the batch's rows and write them back slim, pks unchanged. Not an
        UPDATE: a row shrunk in place leaves its page nearly empty, SQLite never merges
        such pages, and new stories go at the table's end, so the space would never be
        used again (bench/bench_retention.py: 174 pages freed of 12,550; this: 8,754)."""
        marks = ",".join("?" * len(pks))
        with self._write():
            # Other stories' cluster_id points at these pks: checked at commit, by when
            # they are back. Their company/topic/alias/feed rows cascade away: kept aside.
            self.db.execute("PRAGMA defer_foreign_keys = ON")
            self.db.execute(f"CREATE TEMP TABLE slim AS SELECT * FROM stories WHERE {_FAT} "
                            f"AND pk IN ({marks}) AND pk NOT IN ({_EDITED})", pks)
            for table in _LINKED:
                self.db.execute(f"CREATE TEMP TABLE slim_{table} AS SELECT * FROM {table} "
                                "WHERE story_pk IN (SELECT pk FROM temp.slim)")
            n = self._write_back_slim()
            for table in ("slim", *(f"slim_{t}" for t in _LINKED)):
                self.db.execute(f"DROP TABLE temp.{table}")
            self.set_meta(_MARK, pks[-1])
        return n

    def _write_back_slim(self) -> int:
        self.db.execute("DELETE FROM briefs WHERE story_id IN (SELECT id FROM temp.slim)")
        # The delete trigger takes the old words out of the search index.
        n = self.db.execute("DELETE FROM stories WHERE pk IN (SELECT pk FROM temp.slim)"
                            ).rowcount
        # pruned_from takes the status the row had (SET reads the old row).
        self.db.execute("UPDATE temp.slim SET text = '', html = '', summary = '', "
                        "pruned_from = status, status = 'backlog'")
        self.db.execute("INSERT INTO stories SELECT * FROM temp.slim")
        self.db.execute("INSERT INTO stories_fts (rowid, title, text) "
                        "SELECT pk, title, '' FROM temp.slim")
        for table in _LINKED:
            self.db.execute(f"INSERT INTO {table} SELECT * FROM temp.slim_{table}")
        return n

    def _forget_slim_briefs(self) -> None:
        """Briefs cached for stories already slimmed (a lookup's, before bot/commands.py
        stopped caching them): the walk is past them and would never come back. Read
        from the briefs' side: a few thousand rows, not every story ever seen."""
        with self._write():
            self.db.execute(
                "DELETE FROM briefs WHERE rowid IN (SELECT b.rowid FROM briefs b CROSS JOIN "
                f"stories s ON s.id = b.story_id WHERE s.pk <= ? AND NOT {_FAT})",
                (self.get_meta(_MARK, 0),))

    def _forget_settled_posts(self, cutoff: str) -> int:
        """Delete settled outbox rows created before `cutoff`, a batch at a time; a row
        still waiting (due, held, sending, an edit) is never touched. needs_edit is not
        asked: it means something only while a row is in flight (claim_post clears it),
        and a post that failed or whose edit was dropped with it set would stay for ever."""
        states = ",".join("?" * len(FORGOTTEN))
        forgotten = 0
        while True:
            with self._write():
                n = self.db.execute(
                    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state IN "
                    f"({states}) AND created_at < ? LIMIT ?)",
                    (*FORGOTTEN, cutoff, BATCH)).rowcount
            forgotten += n
            if n < BATCH:
                return forgotten

    def _reclaim_free_pages(self) -> None:
        """Give freed pages back to the file system, only where the file was made for
        it (auto_vacuum=INCREMENTAL). Other files keep their pages for new stories;
        docs/reliability.md ("Retention") says how to shrink them (VACUUM, bot stopped)."""
        (mode,) = self.db.execute("PRAGMA auto_vacuum").fetchone()
        if mode == 2:
            with self._lock:
                # Each step of this statement frees one page and sqlite3's execute()
                # takes one step; executescript runs it to the end.
                self.db.conn.executescript("PRAGMA incremental_vacuum;")
