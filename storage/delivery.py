"""Subscriptions, digest settings and the delivery outbox (owned by the chat core).

A mixin of Store: kept in its own module so the store stays readable.

Outbox row states:
  due      waiting to be posted (next_attempt says when)
  sending  claimed by a worker (a crash leaves it here; recover_outbox() puts it back)
  sent     posted; message_id kept for edits
  edit     posted, but the cluster gained outlets: the post needs an edit
  editing  edit claimed by a worker
  held     waiting for the channel's next roundup (digest mode or over the hourly cap)
  digested posted inside a roundup (message_id is the roundup's)
  failed   gave up; last_error says why
  cancelled  the channel unsubscribed from it before it went out
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from feeds.models import Brief, Subscription
from storage.stories import STORY_COLUMNS, story_from_row

# (version, name, sql): applied after the core migrations, versions from 100 up.
# One statement each, so the Store may run them with a plain execute().
DELIVERY_MIGRATIONS: list[tuple[int, str, str]] = [
    (100, "subscriptions", """
        CREATE TABLE IF NOT EXISTS subscriptions (
            platform TEXT NOT NULL, workspace TEXT NOT NULL, channel TEXT NOT NULL,
            kind TEXT NOT NULL, target TEXT NOT NULL,
            paused_reason TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
            PRIMARY KEY (platform, channel, kind, target))"""),
    (101, "digest_settings", """
        CREATE TABLE IF NOT EXISTS digest_settings (
            platform TEXT NOT NULL, workspace TEXT NOT NULL, channel TEXT NOT NULL,
            at_time TEXT NOT NULL, tz TEXT NOT NULL, last_run TEXT NOT NULL,
            PRIMARY KEY (platform, channel))"""),
    (102, "outbox", """
        CREATE TABLE IF NOT EXISTS outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            cluster_id TEXT NOT NULL, story_id TEXT NOT NULL,
            platform TEXT NOT NULL, workspace TEXT NOT NULL, channel TEXT NOT NULL,
            brief TEXT NOT NULL, published TEXT NOT NULL, score REAL NOT NULL DEFAULT 0,
            state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt TEXT NOT NULL, claimed_at TEXT, batch TEXT, message_id TEXT,
            needs_edit INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL, sent_at TEXT,
            UNIQUE (cluster_id, platform, channel))"""),
    (103, "outbox_state_index",
     "CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, next_attempt)"),
    (104, "outbox_channel_index",
     "CREATE INDEX IF NOT EXISTS outbox_channel ON outbox (platform, channel, state)"),
    # due_posts(channel) took outbox_state and walked every due row of every channel:
    # quadratic in a fan-out (5,000 channels: 12 s of CPU, 2.4 s with this index).
    (105, "outbox_channel_due_index",
     "CREATE INDEX IF NOT EXISTS outbox_channel_due "
     "ON outbox (platform, channel, state, next_attempt)"),
]

_OUTBOX_COLUMNS = ("id, cluster_id, story_id, platform, workspace, channel, brief, state, "
                   "attempts, next_attempt, message_id, needs_edit, last_error, sent_at, batch")


def ts(dt: datetime) -> str:
    """Fixed-width UTC text, so string comparison in SQL is time comparison."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_ts(s: str | None) -> datetime | None:
    if not s:
        return None
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    cluster_id: str
    story_id: str
    platform: str
    workspace: str
    channel: str
    brief: Brief
    state: str
    attempts: int
    next_attempt: datetime
    message_id: str | None
    needs_edit: bool
    last_error: str
    sent_at: datetime | None
    batch: str | None

    @property
    def nonce(self) -> str:
        """Stable per row: a platform that dedupes by nonce refuses a post twice."""
        return f"ainews-{self.id}"


@dataclass(frozen=True, slots=True)
class DigestSetting:
    platform: str
    workspace: str
    channel: str
    at_time: str          # "HH:MM"
    tz: str               # IANA name
    last_run: datetime


def _row(r: tuple) -> OutboxRow:
    return OutboxRow(id=r[0], cluster_id=r[1], story_id=r[2], platform=r[3], workspace=r[4],
                     channel=r[5], brief=Brief.from_json(json.loads(r[6])), state=r[7],
                     attempts=r[8], next_attempt=from_ts(r[9]), message_id=r[10],
                     needs_edit=bool(r[11]), last_error=r[12], sent_at=from_ts(r[13]),
                     batch=r[14])


class DeliveryStore:
    """Mixed into storage.store.Store; uses self.db (sqlite_utils.Database)."""

    def _outbox_exec(self, sql: str, params=()) -> int:
        """One statement in its own transaction; returns the changed row count."""
        with self._outbox_tx() as c:
            return c.execute(sql, params).rowcount

    @contextmanager
    def _outbox_tx(self):
        """The store's write transaction (Store._write), yielding the connection."""
        with self._write():
            yield self.db.conn

    def _outbox_rows(self, sql: str, params=()) -> list[OutboxRow]:
        return [_row(r) for r in self.db.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox {sql}", params).fetchall()]

    # ---- subscriptions -------------------------------------------------------------
    def add_subscription(self, sub: Subscription, *, now: datetime) -> str:
        """Returns "added", "resumed" (the channel was paused) or "exists".

        A pause covers the whole channel (the platform refused its posts), so
        subscribing again there lifts it for all of the channel's subscriptions."""
        with self._outbox_tx() as c:
            resumed = c.execute(
                "UPDATE subscriptions SET paused_reason='' WHERE platform=? AND channel=? "
                "AND paused_reason!=''", (sub.platform, sub.channel)).rowcount
            added = c.execute(
                "INSERT OR IGNORE INTO subscriptions VALUES (?,?,?,?,?,'',?)",
                (sub.platform, sub.workspace, sub.channel, sub.kind, sub.target,
                 ts(now))).rowcount
        return "added" if added else "resumed" if resumed else "exists"

    def remove_subscription(self, platform: str, channel: str, kind: str, target: str) -> bool:
        return self._outbox_exec("DELETE FROM subscriptions WHERE platform=? AND channel=? AND "
                           "kind=? AND target=?", (platform, channel, kind, target)) > 0

    def _sub_rows(self, where: str = "", params=()) -> list[Subscription]:
        rows = self.db.execute(
            "SELECT platform, workspace, channel, kind, target, paused_reason "
            f"FROM subscriptions {where} ORDER BY platform, channel, kind, target",
            params).fetchall()
        return [Subscription(*r) for r in rows]

    def subscriptions_for_channel(self, platform: str, channel: str) -> list[Subscription]:
        return self._sub_rows("WHERE platform=? AND channel=?", (platform, channel))

    def subscribe(self, sub: Subscription, *, now: datetime | None = None) -> str:
        """add_subscription with the current time (for start-up defaults)."""
        return self.add_subscription(sub, now=now or datetime.now(timezone.utc))

    def active_subscriptions(self) -> list[Subscription]:
        return self._sub_rows("WHERE paused_reason=''")

    def paused_subscriptions(self) -> list[Subscription]:
        return self._sub_rows("WHERE paused_reason!=''")

    def pause_channel(self, platform: str, channel: str, reason: str) -> int:
        """Pause every subscription of a channel the platform refuses posts to."""
        return self._outbox_exec("UPDATE subscriptions SET paused_reason=? WHERE platform=? AND "
                           "channel=?", (reason or "paused", platform, channel))

    # ---- digest settings -----------------------------------------------------------
    def set_digest(self, platform: str, workspace: str, channel: str, at_time: str, tz: str,
                   *, now: datetime) -> None:
        """last_run = now: a time already past today does not fire at once."""
        self._outbox_exec("INSERT OR REPLACE INTO digest_settings VALUES (?,?,?,?,?,?)",
                    (platform, workspace, channel, at_time, tz, ts(now)))

    def clear_digest(self, platform: str, channel: str) -> bool:
        return self._outbox_exec("DELETE FROM digest_settings WHERE platform=? AND channel=?",
                           (platform, channel)) > 0

    def digest_setting(self, platform: str, channel: str) -> DigestSetting | None:
        r = self.db.execute("SELECT * FROM digest_settings WHERE platform=? AND channel=?",
                            (platform, channel)).fetchone()
        return DigestSetting(*r[:5], from_ts(r[5])) if r else None

    def record_digest_run(self, platform: str, channel: str, at: datetime) -> None:
        self._outbox_exec("UPDATE digest_settings SET last_run=? WHERE platform=? AND channel=?",
                    (ts(at), platform, channel))

    # ---- outbox: dispatch side -----------------------------------------------------
    def outbox_transaction(self):
        """Group many outbox writes (a dispatch pass) into one transaction."""
        return self._outbox_tx()

    def outbox_entry(self, cluster_id: str, platform: str, channel: str) -> OutboxRow | None:
        rows = self._outbox_rows("WHERE cluster_id=? AND platform=? AND channel=?",
                          (cluster_id, platform, channel))
        return rows[0] if rows else None

    def enqueue_post(self, *, cluster_id: str, brief: Brief, platform: str, workspace: str,
                     channel: str, held: bool, now: datetime) -> bool:
        """One row per (cluster, channel): False when the channel already has it."""
        return self._outbox_exec(
            "INSERT OR IGNORE INTO outbox (cluster_id, story_id, platform, workspace, "
            "channel, brief, published, score, state, next_attempt, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (cluster_id, brief.id, platform, workspace, channel, json.dumps(brief.to_json()),
             ts(brief.published), brief.score, "held" if held else "due", ts(now), ts(now))
        ) > 0

    def update_post_brief(self, row_id: int, brief: Brief, *, now: datetime) -> str:
        """A cluster grew: store the new brief; a post already out gets an edit queued.

        Returns the row's state afterwards. A post being sent right now gets needs_edit,
        which record_sent turns into an edit."""
        with self._outbox_tx() as c:
            c.execute("UPDATE outbox SET brief=? WHERE id=?",
                      (json.dumps(brief.to_json()), row_id))
            c.execute("UPDATE outbox SET state='edit', attempts=0, next_attempt=? "
                      "WHERE id=? AND state='sent'", (ts(now), row_id))
            c.execute("UPDATE outbox SET needs_edit=1 WHERE id=? AND state IN "
                      "('sending','editing')", (row_id,))
            return c.execute("SELECT state FROM outbox WHERE id=?", (row_id,)).fetchone()[0]

    # ---- outbox: delivery side -----------------------------------------------------
    def recover_outbox(self) -> int:
        """After a crash: claimed rows go back to waiting. A roundup's rows go back to
        held with their batch kept: the platform may have taken it, and only the same
        nonce lets the retry find it (unconfirmed_roundup)."""
        with self._outbox_tx() as c:
            n = c.execute("UPDATE outbox SET state='held' "
                          "WHERE state='sending' AND batch IS NOT NULL").rowcount
            n += c.execute("UPDATE outbox SET state='due' WHERE state='sending'").rowcount
            n += c.execute("UPDATE outbox SET state='edit' WHERE state='editing'").rowcount
        return n

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

    def oldest_held(self, platform: str, channel: str) -> datetime | None:
        """When the channel's longest-waiting held post was queued (None: none held)."""
        r = self.db.execute("SELECT MIN(created_at) FROM outbox WHERE state='held' AND "
                            "platform=? AND channel=?", (platform, channel)).fetchone()
        return from_ts(r[0]) if r and r[0] else None

    def channels_with_outbox_work(self, now: datetime) -> list[tuple[str, str]]:
        rows = self.db.execute(
            "SELECT DISTINCT platform, channel FROM outbox WHERE state='held' OR "
            "(state IN ('due','edit') AND next_attempt<=?) ORDER BY platform, channel",
            (ts(now),)).fetchall()
        return [(p, c) for p, c in rows]

    def next_outbox_attempt(self) -> datetime | None:
        r = self.db.execute("SELECT MIN(next_attempt) FROM outbox "
                            "WHERE state IN ('due','edit')").fetchone()
        return from_ts(r[0]) if r and r[0] else None

    def claim_post(self, row_id: int, now: datetime) -> OutboxRow | None:
        """Atomically take a due row (or edit); None if someone else has it."""
        with self._outbox_tx() as c:
            n = c.execute(
                "UPDATE outbox SET state=CASE state WHEN 'edit' THEN 'editing' "
                "ELSE 'sending' END, attempts=attempts+1, claimed_at=?, needs_edit=0 "
                "WHERE id=? AND state IN ('due','edit')", (ts(now), row_id)).rowcount
        rows = self._outbox_rows("WHERE id=?", (row_id,)) if n else []
        return rows[0] if rows else None

    def hold_posts(self, row_ids: list[int]) -> int:
        """Move due posts into the channel's next roundup (over the cap, digest mode)."""
        if not row_ids:
            return 0
        marks = ",".join("?" * len(row_ids))
        return self._outbox_exec(f"UPDATE outbox SET state='held' WHERE state='due' AND id IN "
                           f"({marks})", row_ids)

    def release_held(self, platform: str, channel: str, now: datetime) -> int:
        """A channel's held posts become due again (its digest was turned off); a
        roundup that may have gone out (batch kept) stays held for its retry."""
        return self._outbox_exec("UPDATE outbox SET state='due', next_attempt=? WHERE "
                                 "state='held' AND batch IS NULL AND platform=? AND "
                                 "channel=?", (ts(now), platform, channel))

    def claim_roundup(self, row_ids: list[int], batch: str, now: datetime) -> list[OutboxRow]:
        marks = ",".join("?" * len(row_ids))
        with self._outbox_tx() as c:
            c.execute(
                f"UPDATE outbox SET state='sending', batch=?, attempts=attempts+1, "
                f"claimed_at=? WHERE state='held' AND id IN ({marks})",
                (batch, ts(now), *row_ids))
        return self._outbox_rows("WHERE state='sending' AND batch=? ORDER BY published DESC, "
                          "score DESC, id", (batch,))

    def record_sent(self, row_id: int, message_id: str, now: datetime) -> None:
        """Posted (or edited). An edit that arrived meanwhile is queued now."""
        self._outbox_exec(
            "UPDATE outbox SET state=CASE WHEN needs_edit=1 THEN 'edit' ELSE 'sent' END, "
            "message_id=?, sent_at=COALESCE(sent_at, ?), attempts=0, needs_edit=0, "
            "last_error='', next_attempt=? WHERE id=?",
            (message_id, ts(now), ts(now), row_id))

    def record_roundup_sent(self, batch: str, message_id: str, now: datetime) -> int:
        return self._outbox_exec("UPDATE outbox SET state='digested', message_id=?, sent_at=?, "
                           "last_error='' WHERE state='sending' AND batch=?",
                           (message_id, ts(now), batch))

    def release_roundup(self, batch: str, error: str, *, maybe_posted: bool = True) -> int:
        """A roundup failed: its rows wait for the next try. `maybe_posted` (a timeout,
        a 5xx) keeps the batch, so the retry sends the same posts under the same nonce;
        a refused roundup (never posted) lets its rows go into new roundups."""
        keep = "batch" if maybe_posted else "NULL"
        return self._outbox_exec(f"UPDATE outbox SET state='held', batch={keep}, last_error=? "
                                 "WHERE state='sending' AND batch=?", (error, batch))

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

    def waiting_posts(self, platform: str, channel: str) -> list[OutboxRow]:
        """The channel's posts not yet out and not in flight (due at any time, held)."""
        return self._outbox_rows("WHERE platform=? AND channel=? AND state IN ('due','held') "
                                 "AND batch IS NULL", (platform, channel))

    def cancel_posts(self, row_ids: list[int], reason: str) -> int:
        """Waiting posts the channel no longer wants (unsubscribed): never sent."""
        if not row_ids:
            return 0
        marks = ",".join("?" * len(row_ids))
        return self._outbox_exec(f"UPDATE outbox SET state='cancelled', last_error=? WHERE "
                                 f"state IN ('due','held') AND batch IS NULL AND id IN "
                                 f"({marks})", (reason, *row_ids))

    def record_retry(self, row_id: int, *, next_attempt: datetime, error: str) -> None:
        self._outbox_exec("UPDATE outbox SET state=CASE state WHEN 'editing' THEN 'edit' "
                    "ELSE 'due' END, next_attempt=?, last_error=? WHERE id=?",
                    (ts(next_attempt), error, row_id))

    def record_failed(self, row_id: int, error: str) -> None:
        self._outbox_exec("UPDATE outbox SET state='failed', last_error=? WHERE id=?",
                    (error, row_id))

    def record_edit_dropped(self, row_id: int, error: str) -> None:
        """An edit we gave up on: the original post stands."""
        self._outbox_exec("UPDATE outbox SET state='sent', last_error=? WHERE id=?",
                    (error, row_id))

    def fail_channel_posts(self, platform: str, channel: str, error: str) -> int:
        """A paused channel's waiting posts fail visibly instead of flooding on resume."""
        return self._outbox_exec("UPDATE outbox SET state='failed', last_error=?, batch=NULL "
                           "WHERE platform=? AND channel=? AND state IN "
                           "('due','held','sending')", (error, platform, channel))

    def posts_sent_since(self, platform: str, channel: str, since: datetime) -> list[datetime]:
        """Send times of the channel's messages since `since` (a roundup counts once)."""
        rows = self.db.execute(
            "SELECT MIN(sent_at) FROM outbox WHERE platform=? AND channel=? AND "
            "sent_at>=? AND message_id IS NOT NULL GROUP BY message_id",
            (platform, channel, ts(since))).fetchall()
        return sorted(from_ts(r[0]) for r in rows)

    def outbox_counts(self) -> dict[str, int]:
        return dict(self.db.execute(
            "SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())

    def outbox_failures(self, limit: int = 20) -> list[OutboxRow]:
        return self._outbox_rows("WHERE state='failed' ORDER BY id DESC LIMIT ?", (limit,))

    def outbox_post(self, row_id: int) -> OutboxRow | None:
        rows = self._outbox_rows("WHERE id=?", (row_id,))
        return rows[0] if rows else None

    # ---- the dispatch mark: stored-but-unrouted stories survive a crash ---------------
    # A poll stores stories before dispatch routes them; a crash in between must not
    # lose them. Dispatch reads new stories back from the store above this mark (a story
    # pk) and moves the mark only after routing: a crash means routing again, which the
    # outbox's UNIQUE (cluster, platform, channel) makes harmless.
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
