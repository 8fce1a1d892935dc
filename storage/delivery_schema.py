"""The delivery tables (subscriptions, digest settings, the outbox) and how they store time.

Shared by the delivery mixins of Store (storage.subscriptions, storage.outbox and its
storage.outbox_dispatch, storage.receipts); storage.delivery composes them.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

from storage.migrate import Migration
from storage.nonce_epoch import first_nonce_epoch

# (version, name, sql): applied after the core migrations, versions from 100 up.
# One statement each, or a function of the connection (storage.migrate).
DELIVERY_MIGRATIONS: list[Migration] = [
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
    # The edit budget of a post already out (storage/post_edits.py): what the platform
    # shows, renaming edits made, when the last was made, whether the cap was reached.
    (106, "outbox_shown", "ALTER TABLE outbox ADD COLUMN shown TEXT"),
    # A post already out shows its brief (an edit waiting shows nothing yet: its brief
    # is taken as shown, so that edit, made after the upgrade, is not counted).
    (107, "outbox_shown_backfill",
     "UPDATE outbox SET shown = brief WHERE message_id IS NOT NULL"),
    (108, "outbox_edits", "ALTER TABLE outbox ADD COLUMN edits INTEGER NOT NULL DEFAULT 0"),
    (109, "outbox_edited_at", "ALTER TABLE outbox ADD COLUMN edited_at TEXT"),
    (110, "outbox_edit_capped",
     "ALTER TABLE outbox ADD COLUMN edit_capped INTEGER NOT NULL DEFAULT 0"),
    # `why` given a post's own message link (storage/records.py stories_of_message) read
    # every row of that platform, briefs and all: 0.4 s per 100,000 posts, on the loop.
    (111, "outbox_message_index",
     "CREATE INDEX IF NOT EXISTS outbox_message ON outbox (platform, message_id) "
     "WHERE message_id IS NOT NULL"),
    # The delivery loop asks every idle tick (2 s) which channels hold posts for a
    # roundup: through outbox_state it read every held row's table row and sorted them
    # (11.6 ms at 24,000 held rows, ~0.6% of a core). This index answers from itself,
    # in channel order (x 0.12).
    (112, "outbox_work_index",
     "CREATE INDEX IF NOT EXISTS outbox_work ON outbox (state, platform, channel, next_attempt)"),
    # The hourly cap's count (storage/receipts.py posts_sent_since, each channel's every
    # pass) took outbox_message and read every post the platform ever sent, all channels,
    # up to retention's 180 days: 5 ms at 60,000 posts. This reads the last hour's.
    (113, "outbox_sent_index",
     "CREATE INDEX IF NOT EXISTS outbox_sent ON outbox (platform, channel, sent_at, message_id) "
     "WHERE message_id IS NOT NULL"),
    # When a post was first tried, for its retry's history read (bot/retry.py): kept
    # in memory only, it was lost at a restart, and the read went back 500 messages from
    # the newest, short of a post a busy channel had buried. Rows tried before this
    # column have none: their retry reads back from the newest, as before.
    (114, "outbox_first_try", "ALTER TABLE outbox ADD COLUMN first_try_at TEXT"),
    # When a post failed, for `status`: without it a rejection of five months ago read
    # as one of now. Rows failed before it take their last try's claim (the failing
    # attempt, seconds before the failure), else their creation.
    (115, "outbox_failed_at", "ALTER TABLE outbox ADD COLUMN failed_at TEXT"),
    (116, "outbox_failed_at_backfill",
     "UPDATE outbox SET failed_at = COALESCE(claimed_at, created_at) WHERE state = 'failed'"),
    # Which life of the database a row was queued in (storage/outbox.py OutboxRow.nonce):
    # a restored outbox hands the row ids used since the backup out again, to other
    # stories. Rows queued before this column keep their nonce ('').
    (117, "outbox_nonce_epoch",
     "ALTER TABLE outbox ADD COLUMN nonce_epoch TEXT NOT NULL DEFAULT ''"),
    # A life for every database, a new one at creation: without it every new database
    # numbered its nonces alike. Rows already queued keep theirs (nonce_epoch '').
    (118, "nonce_epoch_at_creation", first_nonce_epoch),
    # A channel paused for what its admins can fix (the bot removed, a permission taken
    # away) keeps its posts, and takes new ones, in the outbox state 'kept' until
    # /subscribe resumes it (bot/kept_posts.py); before, they all failed. Channels paused
    # before this column failed theirs already: 0.
    (119, "subscriptions_pause_keeps",
     "ALTER TABLE subscriptions ADD COLUMN pause_keeps INTEGER NOT NULL DEFAULT 0"),
]


def ts(dt: datetime) -> str:
    """Fixed-width UTC text, so string comparison in SQL is time comparison."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_ts(s: str | None) -> datetime | None:
    if not s:
        return None
    # ts()'s fixed width reads as ISO; strptime took 7% of the running bot's CPU.
    return datetime.fromisoformat(s.removesuffix("Z")).replace(tzinfo=timezone.utc)


def id_marks(row_ids: list[int]) -> str:
    """The "?,?,?" of an `id IN (...)` over these rows."""
    return ",".join("?" * len(row_ids))


class DeliveryWrites:
    """The write path the delivery mixins share; uses Store's self.db and self._write()."""

    def _outbox_exec(self, sql: str, params=()) -> int:
        """One statement in its own transaction; returns the changed row count."""
        with self._outbox_tx() as c:
            return c.execute(sql, params).rowcount

    @contextmanager
    def _outbox_tx(self, durable: bool = False):
        """The store's write transaction (Store._write), yielding the connection;
        durable: on disk at the commit, power cut or not (Store._synced)."""
        with self._write(durable=durable):
            yield self.db.conn
