"""Slim rows deleted at last: a slimmed story's row (storage/retention.py) is kept for
dedupe, so an entry its feed still lists is never news again; kept for good, though,
every story ever seen stayed in the file (~2 KB each). Past a long horizon a slim row
goes once nothing can bring its story back:

- no feed lists it: neither its id nor an alias of it is among the entries of any
  feed's last poll that read some (feeds.listed, migration 17); a feed that has not
  been read since the upgrade (listed NULL) keeps every story it carries;
- no outbox row names it (a post still waiting, a settled one younger than the prune's
  cutoff), no edit of it waits to be routed, and it leads no other story's cluster
  (those go first; the lead at a later prune).

A feed that lists such an entry again after that, undated, would have it posted as new:
the horizon (bot/retention.py FORGET_DAYS) makes that a feed relisting an entry it had
dropped for over a year.
"""
from __future__ import annotations

import sqlite3

BATCH = 2000    # stories a transaction, as the prune's

# The ids still named somewhere: every followed feed's last listing, and the outbox's.
_NAMED = """
CREATE TEMP TABLE IF NOT EXISTS named (id TEXT PRIMARY KEY) WITHOUT ROWID;
DELETE FROM temp.named;
INSERT OR IGNORE INTO temp.named SELECT j.value FROM feeds f, json_each(f.listed) j
    WHERE f.listed IS NOT NULL;
INSERT OR IGNORE INTO temp.named SELECT story_id FROM outbox UNION SELECT cluster_id FROM outbox;
"""
_UNREAD = "SELECT url FROM feeds WHERE listed IS NULL"
_FORGETTABLE = f"""
    AND text = '' AND html = '' AND summary = '' AND status != 'new'
    AND id NOT IN (SELECT id FROM temp.named)
    AND NOT EXISTS (SELECT 1 FROM story_aliases a WHERE a.story_pk = stories.pk
                    AND a.alias IN (SELECT id FROM temp.named))
    AND feed_url NOT IN ({_UNREAD})
    AND NOT EXISTS (SELECT 1 FROM story_feeds c WHERE c.story_pk = stories.pk
                    AND c.feed_url IN ({_UNREAD}))
    AND NOT EXISTS (SELECT 1 FROM stories m WHERE m.cluster_id = stories.pk
                    AND m.pk != stories.pk)
    AND pk NOT IN (SELECT story_pk FROM story_edits)"""


def add_feed_listings(conn: sqlite3.Connection) -> None:
    """Migration 17: feeds.listed, the ids of the entries its last read poll listed
    (NULL until one is read)."""
    if not any(c[1] == "listed" for c in conn.execute("PRAGMA table_info(feeds)")):
        conn.execute("ALTER TABLE feeds ADD COLUMN listed TEXT")


class SlimRowStore:
    """Mixed into RetentionStore: uses self.db and self._write()."""

    def _forget_slim_rows(self, before: str) -> int:
        """Delete the slim rows of stories first seen before `before` that nothing
        can bring back (above), a batch at a time; how many went."""
        with self._write():
            for statement in filter(str.strip, _NAMED.split(";")):
                self.db.execute(statement)
        forgotten, last = 0, 0
        while rows := self.db.execute("SELECT pk, first_seen FROM stories WHERE pk > ? "
                                      "ORDER BY pk LIMIT ?", (last, BATCH)).fetchall():
            pks = [pk for pk, seen in rows if seen < before]   # pks follow first_seen
            if pks:
                marks = ",".join("?" * len(pks))
                with self._write():
                    forgotten += self.db.execute(
                        f"DELETE FROM stories WHERE pk IN ({marks}){_FORGETTABLE}",
                        pks).rowcount
            if len(pks) < len(rows):
                break
            last = rows[-1][0]
        return forgotten
