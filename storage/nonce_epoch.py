"""A database's life (its nonce epoch): a few random characters in `meta` that every
outbox row queued in it carries into its nonce (storage/outbox.py OutboxRow.nonce), so
no two databases, nor two lives of one database, name their posts alike.

A database gets one when it is made (an older one at its upgrade: migration 118), and a
new one at each `ainews restore` (bot/backup.py), whose outbox hands the row ids of the
posts made since the backup out again. A row keeps the life it was queued in, so a post
on its way keeps its nonce whatever happens to the database."""
from __future__ import annotations

import json
import secrets
import sqlite3
import string

NONCE_EPOCH = "nonce_epoch"     # meta key
_EPOCH_CHARS, _EPOCH_LEN = string.digits + string.ascii_lowercase, 5
# meta values are JSON; an epoch is [0-9a-z] only, so its quotes are all there is to strip.
# '' for a file whose migration 118 has not run yet.
EPOCH_NOW = f"COALESCE((SELECT trim(value, '\"') FROM meta WHERE key = '{NONCE_EPOCH}'), '')"


def renew_nonce_epoch(conn: sqlite3.Connection) -> str:
    """A new life for the database (`ainews restore`): a restored outbox hands the row
    ids used since the backup out again, to other stories, and under the nonces of the
    old bot's posts Discord gave back those posts (the new story never posted) and a
    Slack retry found them. Rows queued from now on carry this epoch in their nonce;
    rows already queued keep theirs, the posts they may have made named by it."""
    old = conn.execute(f"SELECT {EPOCH_NOW}").fetchone()[0]
    epoch = old
    while epoch == old:
        epoch = "".join(secrets.choice(_EPOCH_CHARS) for _ in range(_EPOCH_LEN))
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                 (NONCE_EPOCH, json.dumps(epoch)))
    return epoch


def first_nonce_epoch(conn: sqlite3.Connection) -> None:
    """Migration 118: a life for a database that has none. Without one, every new
    database numbered its nonces ainews-1, ainews-2, ... alike, and one made again (the
    old file deleted, a new machine set up without a restore) posting where the old one
    did was answered with the old one's posts."""
    if conn.execute(f"SELECT {EPOCH_NOW}").fetchone()[0] == "":
        renew_nonce_epoch(conn)
