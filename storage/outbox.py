"""The outbox queue: posts waiting for a channel, claimed by a worker, held for a roundup.

A mixin of Store (composed in storage.delivery); rows are queued and revised by
storage.outbox_dispatch, what came of a claimed row is recorded by storage.receipts, and
storage.outbox_status reads them for `ainews status`. Outbox row states:
  due      waiting to be posted (next_attempt says when)
  sending  claimed by a worker (a crash leaves it here; recover_outbox() puts it back)
  sent     posted; message_id kept for edits
  edit     posted, but the post needs an edit (the cluster gained outlets, the story
           was edited); next_attempt may be an hour off (storage/post_edits.py)
  editing  edit claimed by a worker
  held     waiting for the channel's next roundup (digest mode or over the hourly cap)
  digested posted inside a roundup (message_id is the roundup's)
  failed   gave up; last_error says why
  cancelled  the channel unsubscribed from it before it went out, or an edit made the
           story no longer one the channel follows (bot/dispatch.py EDITED_OUT)
  stale    not posted: its story was too old by its turn (AINEWS_MAX_POST_AGE_HOURS;
           the bot stopped for days, the channel paused); next_attempt is when
  kept     waiting while its channel is paused for what its admins can fix (the bot
           removed, a permission taken away); /subscribe there makes it 'resumed'
  resumed  kept, and the channel resumed: bot/kept_posts.py sends it (or drops it,
           too old by then) at the channel's next pass
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from feeds.models import Brief, iso_utc
from storage.delivery_schema import DeliveryWrites, from_ts, id_marks, ts


# Posts not yet out nor in flight: due, held for a roundup, kept while the channel is
# paused (or resumed, not yet sent).
WAITING = "('due','held','kept','resumed')"
_OUTBOX_COLUMNS = ("id, cluster_id, story_id, platform, channel, brief, state, attempts, "
                   "next_attempt, message_id, last_error, batch, first_try_at, failed_at, "
                   "nonce_epoch")
@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    cluster_id: str
    story_id: str
    platform: str
    channel: str
    brief: Brief
    state: str
    attempts: int
    next_attempt: datetime
    message_id: str | None
    last_error: str
    batch: str | None
    # When its first attempt was claimed (None: not tried, or tried before the outbox
    # kept it): how far back a retry looks for a post that attempt may have made.
    first_try: datetime | None = None
    failed_at: datetime | None = None   # when it failed (state 'failed' only)
    epoch: str = ""     # the database's life it was queued in (storage/nonce_epoch.py)

    @property
    def key(self) -> str:
        """The row's id, told apart from the same id in another life of the database."""
        return f"{self.epoch}-{self.id}" if self.epoch else str(self.id)

    @property
    def nonce(self) -> str:
        """Stable per row: a platform that dedupes by nonce refuses a post twice. At
        most 25 characters, Discord's limit: "ainews-" and a 5-character epoch leave 12
        digits to the id."""
        return f"ainews-{self.key}"


# Story t is carried by :feed (op '=') or by a followed feed but :feed (op '!='), the
# feed being removed still followed then: as t's own feed or a copy of t (story_feeds).
_CARRIED_BY = ("(EXISTS (SELECT 1 FROM feeds f WHERE f.url = t.feed_url AND f.url {op} :feed) "
               "OR EXISTS (SELECT 1 FROM story_feeds c JOIN feeds f ON f.url = c.feed_url "
               "WHERE c.story_pk = t.pk AND c.feed_url {op} :feed))")


def _row(r: tuple) -> OutboxRow:
    return OutboxRow(id=r[0], cluster_id=r[1], story_id=r[2], platform=r[3], channel=r[4],
                     brief=Brief.from_json(json.loads(r[5])), state=r[6], attempts=r[7],
                     next_attempt=from_ts(r[8]), message_id=r[9], last_error=r[10],
                     batch=r[11], first_try=from_ts(r[12]), failed_at=from_ts(r[13]),
                     epoch=r[14])


def outbox_rows(db, sql: str, params=()) -> list[OutboxRow]:
    """The outbox rows `sql` (what follows FROM outbox) selects."""
    return [_row(r) for r in db.execute(
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox {sql}", params).fetchall()]


class OutboxStore(DeliveryWrites):
    """Mixed into storage.store.Store; uses self.db (sqlite_utils.Database)."""

    def _outbox_rows(self, sql: str, params=()) -> list[OutboxRow]:
        return outbox_rows(self.db, sql, params)

    # ---- what is waiting -------------------------------------------------------------
    def due_posts(self, now: datetime, platform: str | None = None,
                  channel: str | None = None) -> list[OutboxRow]:
        """Posts and edits due now; newest (then highest-scoring) first per channel."""
        where, params = "", [ts(now)]
        if platform is not None:
            where, params = " AND platform=? AND channel=?", [ts(now), platform, channel]
        return self._outbox_rows(f"WHERE state IN ('due','edit') AND next_attempt<=?{where} "
                          "ORDER BY platform, channel, published DESC, score DESC, id",
                          params)

    def held_posts(self, platform: str, channel: str, limit: int = -1) -> list[OutboxRow]:
        """The channel's posts waiting for a roundup, newest first."""
        return self._outbox_rows("WHERE state='held' AND platform=? AND channel=? "
                                 "ORDER BY published DESC, score DESC, id LIMIT ?",
                                 (platform, channel, limit))

    def held_count(self, platform: str, channel: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM outbox WHERE state='held' AND "
                               "platform=? AND channel=?", (platform, channel)).fetchone()[0]

    def kept_count(self, platform: str, channel: str) -> int:
        """The posts the channel keeps while paused (for /subscribe's answer)."""
        return self.db.execute("SELECT COUNT(*) FROM outbox WHERE state='kept' AND "
                               "platform=? AND channel=?", (platform, channel)).fetchone()[0]

    def oldest_held(self, platform: str, channel: str) -> datetime | None:
        """When the channel's longest-waiting held post was queued (None: none held)."""
        r = self.db.execute("SELECT MIN(created_at) FROM outbox WHERE state='held' AND "
                            "platform=? AND channel=?", (platform, channel)).fetchone()
        return from_ts(r[0]) if r and r[0] else None

    def channels_with_outbox_work(self, now: datetime) -> list[tuple[str, str]]:
        return [(p, c) for p, c, _ready in self.outbox_work(now)]

    def outbox_work(self, now: datetime) -> list[tuple[str, str, bool]]:
        """Channels with posts waiting: (platform, channel, whether a post or edit is
        due now). A channel holding posts only waits for its roundup or digest."""
        # Two index-only reads (outbox_work): one query with OR read every held row.
        ready = set(self.db.execute(
            "SELECT DISTINCT platform, channel FROM outbox "
            "WHERE state IN ('due','edit','resumed') AND next_attempt<=?",
            (ts(now),)).fetchall())
        held = self.db.execute(
            "SELECT DISTINCT platform, channel FROM outbox WHERE state='held'").fetchall()
        return [(p, c, (p, c) in ready) for p, c in sorted(ready.union(held))]

    def waiting_posts(self, platform: str, channel: str, *,
                      unconfirmed: bool = False) -> list[OutboxRow]:
        """The channel's posts not yet out and not in flight (due at any time, held, kept
        while it is paused); unconfirmed: also a roundup's whose try may have been posted
        (batch kept)."""
        return self._outbox_rows(f"WHERE platform=? AND channel=? AND state IN {WAITING} "
                                 "AND (batch IS NULL OR ?)", (platform, channel, unconfirmed))

    def resumed_posts(self, platform: str, channel: str) -> list[OutboxRow]:
        """What the channel kept while paused, now resumed: oldest first."""
        return self._outbox_rows("WHERE state='resumed' AND platform=? AND channel=? "
                                 "ORDER BY published, score DESC, id", (platform, channel))

    def feed_waiting_posts(self, feed_url: str) -> list[int]:
        """The posts not yet out (due, held; not a roundup that may have gone) whose news
        the feed at `feed_url` carried (a story of the post's cluster, as its own or a
        copy of another feed's: story_feeds), but those another feed still followed
        carries too: the post's own story, or a strategy report of its cluster, whenever
        that feed first listed it. Its readers still want those."""
        return [i for (i,) in self.db.execute(
            "SELECT o.id FROM outbox o JOIN stories s ON s.id = o.story_id "
            f"WHERE o.state IN {WAITING} AND o.batch IS NULL "
            "AND EXISTS (SELECT 1 FROM stories t WHERE t.cluster_id = s.cluster_id "
            f"AND {_CARRIED_BY.format(op='=')}) "
            "AND NOT EXISTS (SELECT 1 FROM stories t WHERE t.cluster_id = s.cluster_id "
            f"AND (t.pk = s.pk OR t.strategy = 1) AND {_CARRIED_BY.format(op='!=')})",
            {"feed": feed_url}).fetchall()]

    def outbox_post(self, row_id: int) -> OutboxRow | None:
        rows = self._outbox_rows("WHERE id=?", (row_id,))
        return rows[0] if rows else None

    # ---- claiming, holding, cancelling -----------------------------------------------
    def claim_post(self, row_id: int, now: datetime) -> OutboxRow | None:
        """Atomically take a due row (or edit); None if someone else has it. Durable:
        a claim a power cut took back would make the post's retry look like its first
        try, posted again without asking the platform (bot/retry.py earlier_post)."""
        with self._outbox_tx(durable=True) as c:
            n = c.execute(
                "UPDATE outbox SET state=CASE state WHEN 'edit' THEN 'editing' "
                "ELSE 'sending' END, first_try_at=CASE WHEN state='due' AND attempts=0 "
                "THEN ? ELSE first_try_at END, attempts=attempts+1, claimed_at=?, "
                "needs_edit=0 WHERE id=? AND state IN ('due','edit')",
                (ts(now), ts(now), row_id)).rowcount
        rows = self._outbox_rows("WHERE id=?", (row_id,)) if n else []
        return rows[0] if rows else None

    def hold_posts(self, row_ids: list[int]) -> int:
        """Move due posts into the channel's next roundup (over the cap, digest mode)."""
        if not row_ids:
            return 0
        return self._outbox_exec(f"UPDATE outbox SET state='held' WHERE state='due' AND id IN "
                           f"({id_marks(row_ids)})", row_ids)

    def release_resumed(self, platform: str, channel: str, *, held: bool,
                        now: datetime) -> int:
        """A resumed channel's kept posts wait again: due, or held for a roundup."""
        return self._outbox_exec("UPDATE outbox SET state=?, next_attempt=? WHERE "
                                 "state='resumed' AND platform=? AND channel=?",
                                 ("held" if held else "due", ts(now), platform, channel))

    def release_held(self, platform: str, channel: str, now: datetime) -> int:
        """A channel's held posts become due again (its digest was turned off); a
        roundup that may have gone out (batch kept) stays held for its retry."""
        return self._outbox_exec("UPDATE outbox SET state='due', next_attempt=? WHERE "
                                 "state='held' AND batch IS NULL AND platform=? AND "
                                 "channel=?", (ts(now), platform, channel))

    def cancel_posts(self, row_ids: list[int], reason: str, *,
                     unconfirmed: bool = False) -> int:
        """Waiting posts the channel no longer wants (unsubscribed): never sent. A
        roundup's whose try may have been posted are cancelled only when `unconfirmed`
        (an unsubscribe: its retry would post to a channel that said stop)."""
        if not row_ids:
            return 0
        return self._outbox_exec(f"UPDATE outbox SET state='cancelled', last_error=? WHERE "
                                 f"state IN {WAITING} AND (batch IS NULL OR ?) AND id "
                                 f"IN ({id_marks(row_ids)})", (reason, unconfirmed, *row_ids))

    def mark_stale(self, platform: str, channel: str, *, due_before: datetime,
                   held_before: datetime, reason: str, now: datetime,
                   states: tuple[str, ...] = ("due", "held", "resumed")) -> int:
        """The channel's waiting posts (in `states`) whose story is too old to post
        now: published (or first seen, when the feed dated it later) before
        `due_before`, or before `held_before` for one held for a roundup. A roundup that
        may have gone out (batch kept) is left to its retry. Returns how many."""
        among = "(" + ",".join(f"'{s}'" for s in states) + ")"    # constants, not input
        # The story's own dates, as the poller and dispatch judge age (bot/dispatch_edits.py
        # still_news); the post's date only for a row without its story. Read first:
        # a channel's every pass finds none, and needs no write lock for that.
        ids = [i for (i,) in self.db.execute(
            "SELECT o.id FROM outbox o LEFT JOIN stories s ON s.id=o.story_id "
            "WHERE o.platform=:platform AND o.channel=:channel AND o.batch IS NULL "
            f"AND o.state IN {among} AND CASE WHEN s.id IS NULL "
            "THEN o.published < CASE o.state WHEN 'held' THEN :held_ts ELSE :due_ts END "
            "ELSE MIN(s.published, s.first_seen) < "
            "CASE o.state WHEN 'held' THEN :held ELSE :due END END",
            {"platform": platform, "channel": channel, "held_ts": ts(held_before),
             "due_ts": ts(due_before), "held": iso_utc(held_before),
             "due": iso_utc(due_before)})]
        if not ids:
            return 0
        return self._outbox_exec(
            f"UPDATE outbox SET state='stale', last_error=?, next_attempt=? WHERE state IN "
            f"{among} AND batch IS NULL AND id IN ({id_marks(ids)})",
            (reason, ts(now), *ids))

    def settle_unserved(self, platform: str, channel: str, *, before: datetime,
                        reason: str, now: datetime) -> int:
        """A channel whose platform is not running here (bot/delivery.py
        _age_out_unserved): an edit of a post sent before `before` is dropped (the post
        stands) and a roundup that may have gone out, queued before it, is given up
        (stale), so retention can forget them. Returns how many."""
        with self._outbox_tx() as c:
            edits = c.execute(
                "UPDATE outbox SET state='sent', last_error=? WHERE platform=? AND "
                "channel=? AND state='edit' AND sent_at < ?",
                (reason, platform, channel, ts(before))).rowcount
            batches = c.execute(
                "UPDATE outbox SET state='stale', last_error=?, next_attempt=?, batch=NULL "
                "WHERE platform=? AND channel=? AND state IN ('due','held') AND batch IS "
                "NOT NULL AND created_at < ?",
                (reason, ts(now), platform, channel, ts(before))).rowcount
        return edits + batches

    # ---- roundups: several held posts claimed as one message ---------------------------
    def claim_roundup(self, row_ids: list[int], batch: str, now: datetime) -> list[OutboxRow]:
        with self._outbox_tx(durable=True) as c:     # as claim_post's
            c.execute(
                f"UPDATE outbox SET state='sending', batch=?, first_try_at=CASE WHEN "
                f"attempts=0 THEN ? ELSE first_try_at END, attempts=attempts+1, "
                f"claimed_at=? WHERE state='held' AND id IN ({id_marks(row_ids)})",
                (batch, ts(now), ts(now), *row_ids))
        return self._outbox_rows("WHERE state='sending' AND batch=? ORDER BY published DESC, "
                          "score DESC, id", (batch,))

    def unconfirmed_roundup(self, platform: str, channel: str) -> tuple[list[int], str] | None:
        """The held rows of a roundup that may have been posted (see release_roundup),
        with its nonce; None when there is none."""
        rows = self.db.execute("SELECT id, batch FROM outbox WHERE state='held' AND "
                               "platform=? AND channel=? AND batch IS NOT NULL ORDER BY id",
                               (platform, channel)).fetchall()
        if not rows:
            return None
        batch = rows[0][1]
        return [i for i, b in rows if b == batch], batch
