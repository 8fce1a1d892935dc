"""What `ainews status` reads of the outbox: posts by state, channels retrying, the latest
failures and the posts given up as too old by their turn.

A mixin of Store (composed in storage.delivery); the queue itself is storage.outbox.
"""
from __future__ import annotations

from datetime import datetime

from storage.delivery_schema import from_ts, ts
from storage.outbox import OutboxRow, outbox_rows


class OutboxStatusStore:
    """Mixed into storage.store.Store; uses self.db (sqlite_utils.Database). Reads only."""

    def outbox_counts(self) -> dict[str, int]:
        return dict(self.db.execute(
            "SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())

    def outbox_retrying(self) -> list[tuple[str, str, int, datetime, str]]:
        """Channels whose posts wait after a failed try (a 429, an outage, a refused
        token): (platform, channel, posts, next try, the latest error), for `status`."""
        rows = self.db.execute(
            "SELECT platform, channel, next_attempt, last_error FROM outbox WHERE state IN "
            "('due','edit','held') AND last_error!='' ORDER BY next_attempt DESC").fetchall()
        out: dict[tuple[str, str], list] = {}
        for platform, channel, at, error in rows:
            seen = out.setdefault((platform, channel), [platform, channel, 0, from_ts(at),
                                                        error])
            seen[2] += 1
        return [tuple(v) for _, v in sorted(out.items())]

    def outbox_failures(self, limit: int = 20,
                        since: datetime | None = None) -> list[OutboxRow]:
        """The latest failed posts, newest first; `since`: only those failed since."""
        return outbox_rows(
            self.db,
            "WHERE state='failed' AND COALESCE(failed_at, '') >= ? ORDER BY id DESC LIMIT ?",
            (ts(since) if since else "", limit))

    def outbox_failures_before(self, before: datetime) -> tuple[int, datetime | None]:
        """Posts that failed before `before`: how many, and when the latest of them did."""
        n, latest = self.db.execute(
            "SELECT COUNT(*), MAX(failed_at) FROM outbox WHERE state='failed' "
            "AND COALESCE(failed_at, '') < ?", (ts(before),)).fetchone()
        return n, from_ts(latest)

    def outbox_stale(self) -> list[tuple[str, str, int, datetime]]:
        """Channels whose posts were too old to post by their turn: (platform, channel,
        posts, when the latest was given up), for `status`."""
        rows = self.db.execute(
            "SELECT platform, channel, COUNT(*), MAX(next_attempt) FROM outbox "
            "WHERE state='stale' GROUP BY platform, channel ORDER BY platform, channel")
        return [(p, c, n, from_ts(at)) for p, c, n, at in rows.fetchall()]
