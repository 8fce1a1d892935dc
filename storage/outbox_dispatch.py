"""The outbox as dispatch writes it (bot/dispatch.py): a post queued per cluster and
channel, its brief revised as the cluster grows or its story is edited, a cancelled one
revived when an edit makes it wanted again.

A mixin of Store (composed in storage.delivery); the queue's other side, what delivery
takes from it, is storage.outbox.
"""
from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache

from feeds.models import Brief
from storage.delivery_schema import DeliveryWrites, ts
from storage.nonce_epoch import EPOCH_NOW
from storage.outbox import OutboxRow, outbox_rows
from storage.post_edits import Settled


@lru_cache(maxsize=64)   # one brief is queued for every channel that follows it
def brief_json(brief: Brief) -> str:
    return json.dumps(brief.to_json())


_REVISABLE = ("due", "held", "kept", "resumed", "edit", "sent", "sending", "editing")


class OutboxDispatchStore(DeliveryWrites):
    """Mixed into storage.store.Store; uses self.db (sqlite_utils.Database) and
    PostEditStore's _settle_edit."""

    def outbox_transaction(self):
        """Group many outbox writes (a dispatch pass) into one transaction."""
        return self._outbox_tx()

    def outbox_entry(self, cluster_id: str, platform: str, channel: str) -> OutboxRow | None:
        rows = outbox_rows(self.db, "WHERE cluster_id=? AND platform=? AND channel=?",
                           (cluster_id, platform, channel))
        return rows[0] if rows else None

    def enqueue_post(self, *, cluster_id: str, brief: Brief, platform: str, workspace: str,
                     channel: str, held: bool, now: datetime, kept: bool = False) -> bool:
        """One row per (cluster, channel): False when the channel already has it.
        held: for a digest; kept: the channel is paused keeping its posts."""
        return self._outbox_exec(
            "INSERT OR IGNORE INTO outbox (cluster_id, story_id, platform, workspace, "
            "channel, brief, published, score, state, next_attempt, created_at, "
            f"nonce_epoch) VALUES (?,?,?,?,?,?,?,?,?,?,?,{EPOCH_NOW})",
            (cluster_id, brief.id, platform, workspace, channel, brief_json(brief),
             ts(brief.published), brief.score, _state(held, kept), ts(now), ts(now))
        ) > 0

    def update_post_brief(self, row_id: int, brief: Brief, *, now: datetime) -> str:
        """A cluster grew: store the new brief; a post already out gets an edit queued
        (storage/post_edits.py: with an edit waiting for its hour, it joins that one).

        Returns the row's state afterwards. A post being sent right now gets needs_edit,
        which record_sent turns into an edit."""
        with self._outbox_tx() as c:
            settled = self._settle_edit(c, row_id, now, brief)
            if settled.state not in ("sent", "edit"):
                _rebrief(c, row_id, brief)
            return settled.state

    def cluster_posts(self, cluster_id: str) -> list[OutboxRow]:
        """Every channel's row of a cluster (the UNIQUE index's prefix finds them)."""
        return outbox_rows(self.db, "WHERE cluster_id=? ORDER BY id", (cluster_id,))

    def revise_post(self, row_id: int, brief: Brief, *, now: datetime) -> Settled | None:
        """The row's story was edited: a post not yet out goes out as `brief`; one in
        flight gets needs_edit (record_sent then settles its edit); one already out gets
        its edit queued, moved or dropped by the edit rules (storage/post_edits.py). A
        roundup's rows (batch set: it may have gone out) and digested, failed or
        cancelled rows are left alone: None."""
        with self._outbox_tx() as c:
            state = c.execute("SELECT state FROM outbox WHERE id=? AND batch IS NULL",
                              (row_id,)).fetchone()
            if state is None or state[0] not in _REVISABLE:
                return None
            if state[0] in ("sent", "edit"):
                return self._settle_edit(c, row_id, now, brief)
            _rebrief(c, row_id, brief)
            return Settled(state[0])

    def revive_post(self, row_id: int, brief: Brief, *, reason: str, held: bool,
                    now: datetime, kept: bool = False) -> bool:
        """A post cancelled for `reason` (an edit made it unwanted) is wanted again: it
        waits to be posted as `brief`, the post of brief's story now (another story of
        the cluster may earn it). False when the row was cancelled otherwise. A try
        made before the cancel may have been posted (a lost answer): attempts stays
        above 0, so the next try looks for that post first (bot/retry.py earlier_post).
        """
        return self._outbox_exec(
            "UPDATE outbox SET state=?, brief=?, story_id=?, published=?, score=?, "
            "attempts=MIN(attempts, 1), next_attempt=?, last_error='' "
            "WHERE id=? AND state='cancelled' AND last_error=?",
            (_state(held, kept), brief_json(brief), brief.id,
             ts(brief.published), brief.score, ts(now), row_id, reason)) > 0


def _state(held: bool, kept: bool) -> str:
    return "kept" if kept else "held" if held else "due"


def _rebrief(c, row_id: int, brief: Brief) -> None:
    """A post not yet out goes out as `brief`; one in flight gets needs_edit, which
    record_sent turns into an edit."""
    c.execute("UPDATE outbox SET brief=?, needs_edit=CASE WHEN state IN "
              "('sending','editing') THEN 1 ELSE needs_edit END WHERE id=?",
              (brief_json(brief), row_id))
