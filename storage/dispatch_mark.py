"""The dispatch mark: stored-but-unrouted stories (and edits) survive a crash.

A poll stores stories before dispatch routes them; a crash in between must not lose
them. Dispatch reads new stories back from the store above this mark (a story pk) and
moves the mark only after routing: a crash means routing again, which the outbox's
UNIQUE (cluster, platform, channel) makes harmless. A mixin of Store (storage.delivery).

Edits work the same way with a queue instead of a mark: the store records an edit of a
new story in `story_edits` in the edit's own transaction (storage/stories.py); dispatch
routes the edited stories up to a sequence number, then forgets those rows. Routing an
edit twice changes nothing the first time did not (bot/dispatch_edits.py).
"""
from __future__ import annotations

from feeds.models import parse_iso
from storage.story_rows import STORY_COLUMNS, story_from_row


# A followed feed carries the story: its own, or one whose copy it lists (story_feeds).
_FOLLOWED = ("(EXISTS (SELECT 1 FROM feeds f WHERE f.url = stories.feed_url) "
             "OR EXISTS (SELECT 1 FROM story_feeds c JOIN feeds f ON f.url = c.feed_url "
             "WHERE c.story_pk = stories.pk))")


class DispatchMarkStore:
    """Mixed into storage.store.Store; uses self.db and get_meta/set_meta."""

    def dispatch_mark(self) -> int | None:
        return self.get_meta("dispatch_mark")

    def set_dispatch_mark(self, pk: int) -> None:
        self.set_meta("dispatch_mark", int(pk))

    def last_story_pk(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(pk), 0) FROM stories").fetchone()[0]

    def stories_to_dispatch(self, after_pk: int, upto_pk: int) -> list:
        """New (not backlog) strategy stories with after_pk < pk <= upto_pk, oldest first,
        that a followed feed carries: one removed since it stored them is not posted."""
        rows = self.db.execute(
            f"SELECT {STORY_COLUMNS} FROM stories WHERE pk > ? AND pk <= ? "
            f"AND status = 'new' AND strategy = 1 AND {_FOLLOWED} ORDER BY pk",
            (after_pk, upto_pk)).fetchall()
        return [story_from_row(r) for r in rows]

    def still_followed(self, story_ids: list[str]) -> set[str]:
        """Those of the stories a followed feed still carries. Dispatch asks again in
        the transaction that queues their posts: a brief made meanwhile takes seconds,
        and `feeds remove` may have come in between."""
        out: set[str] = set()
        for i in range(0, len(story_ids), 500):
            part = story_ids[i:i + 500]
            out.update(sid for (sid,) in self.db.execute(
                f"SELECT id FROM stories WHERE id IN ({','.join('?' * len(part))}) "
                f"AND {_FOLLOWED}", part))
        return out

    # ---- edits waiting to be routed again -------------------------------------------
    def last_edit_seq(self) -> int:
        """The newest edit waiting to be routed (0: none waits)."""
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM story_edits").fetchone()[0]

    def edited_stories(self, upto_seq: int) -> list:
        """The current version of each new story with an edit waiting (seq <= upto_seq),
        once each, oldest first; strategy or not (an edit may have made it neither)."""
        rows = self.db.execute(
            f"SELECT {STORY_COLUMNS} FROM stories WHERE status = 'new' AND pk IN "
            "(SELECT story_pk FROM story_edits WHERE seq <= ?) ORDER BY pk",
            (upto_seq,)).fetchall()
        return [story_from_row(r) for r in rows]

    def first_seen(self, story_ids: list[str]) -> dict:
        """When each story was first stored (an edit may move `published`, not this)."""
        out = {}
        for i in range(0, len(story_ids), 500):
            part = story_ids[i:i + 500]
            out.update((sid, parse_iso(seen)) for sid, seen in self.db.execute(
                f"SELECT id, first_seen FROM stories WHERE id IN ({','.join('?' * len(part))})",
                part))
        return out

    def forget_edits(self, upto_seq: int) -> None:
        """The edits up to upto_seq are routed; a later one stays for the next pass."""
        with self._write():
            self.db.execute("DELETE FROM story_edits WHERE seq <= ?", (upto_seq,))

    def cluster_strategy_stories(self, story_id: str) -> list:
        """The new strategy stories of `story_id`'s cluster, itself included, current
        versions: which channels the cluster still matches after an edit of one."""
        rows = self.db.execute(
            f"SELECT {STORY_COLUMNS} FROM stories WHERE cluster_id = (SELECT cluster_id "
            "FROM stories WHERE id = ?) AND status = 'new' AND strategy = 1 ORDER BY pk",
            (story_id,)).fetchall()
        return [story_from_row(r) for r in rows]
