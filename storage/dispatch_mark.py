"""The dispatch mark: stored-but-unrouted stories survive a crash.

A poll stores stories before dispatch routes them; a crash in between must not lose
them. Dispatch reads new stories back from the store above this mark (a story pk) and
moves the mark only after routing: a crash means routing again, which the outbox's
UNIQUE (cluster, platform, channel) makes harmless. A mixin of Store (storage.delivery).
"""
from __future__ import annotations

from storage.story_rows import STORY_COLUMNS, story_from_row


class DispatchMarkStore:
    """Mixed into storage.store.Store; uses self.db and get_meta/set_meta."""

    def dispatch_mark(self) -> int | None:
        return self.get_meta("dispatch_mark")

    def set_dispatch_mark(self, pk: int) -> None:
        self.set_meta("dispatch_mark", int(pk))

    def last_story_pk(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(pk), 0) FROM stories").fetchone()[0]

    def stories_to_dispatch(self, after_pk: int, upto_pk: int) -> list:
        """New (not backlog) strategy stories with after_pk < pk <= upto_pk, oldest first."""
        rows = self.db.execute(
            f"SELECT {STORY_COLUMNS} FROM stories WHERE pk > ? AND pk <= ? "
            "AND status = 'new' AND strategy = 1 ORDER BY pk", (after_pk, upto_pk)).fetchall()
        return [story_from_row(r) for r in rows]
