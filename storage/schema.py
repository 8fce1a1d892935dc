"""The store's tables: the core migrations, versions 1-99, in MIGRATIONS.

Migrations are (version, name, sql), applied in version order by storage.migrate, each
recorded once in schema_migrations; storage.delivery_schema's start at 100. Never edit an
applied migration: add a new one. A migration whose `sql` is a function is run as
`sql(conn)`, for data SQL cannot work out (rekey_titles).
"""
from __future__ import annotations

import sqlite3

from feeds.cluster import title_key
from storage.migrate import Migration
from storage.link_keys import add_link_keys
from storage.slim_rows import add_feed_listings
from storage.stored_links import drop_link_credentials


FEEDS = """
CREATE TABLE feeds (
    url TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    etag TEXT, last_modified TEXT, body_hash TEXT,
    last_polled TEXT, last_ok TEXT, next_poll TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    paused INTEGER NOT NULL DEFAULT 0,
    polls_ok INTEGER NOT NULL DEFAULT 0,
    ttl INTEGER,
    added_at TEXT NOT NULL
);
CREATE INDEX feeds_due ON feeds (paused, next_poll);
"""

# Lookup indexes end in the columns the queries filter on, so they cover the query and
# the newest rows come straight off the index (no sort, no table scan) at 1M stories.
STORIES = """
CREATE TABLE stories (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    feed_url TEXT NOT NULL DEFAULT '',
    published TEXT NOT NULL,
    guid TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    html TEXT NOT NULL DEFAULT '',
    subtitle TEXT NOT NULL DEFAULT '',
    flags TEXT NOT NULL DEFAULT '[]',
    strategy INTEGER NOT NULL DEFAULT 0,
    score REAL NOT NULL DEFAULT 0,
    companies TEXT NOT NULL DEFAULT '[]',
    topics TEXT NOT NULL DEFAULT '[]',
    reasons TEXT NOT NULL DEFAULT '[]',
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('backlog', 'new')),
    cluster_id INTEGER REFERENCES stories (pk),
    is_lead INTEGER NOT NULL DEFAULT 1,
    title_key TEXT NOT NULL DEFAULT '',
    first_seen TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX stories_url ON stories (url) WHERE url != '';
CREATE INDEX stories_latest ON stories (is_lead, published);
CREATE INDEX stories_latest_strategy ON stories (is_lead, strategy, published);
CREATE INDEX stories_cluster ON stories (cluster_id);
CREATE INDEX stories_title_key ON stories (title_key, published) WHERE title_key != '';

-- Other ids seen for a stored story (unstable GUIDs): known_story_ids answers for them.
CREATE TABLE story_aliases (
    alias TEXT PRIMARY KEY,
    story_pk INTEGER NOT NULL REFERENCES stories (pk) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX story_aliases_story ON story_aliases (story_pk);

CREATE TABLE story_companies (
    story_pk INTEGER NOT NULL REFERENCES stories (pk) ON DELETE CASCADE,
    company TEXT NOT NULL COLLATE NOCASE,
    published TEXT NOT NULL,
    is_lead INTEGER NOT NULL,
    strategy INTEGER NOT NULL,
    PRIMARY KEY (story_pk, company)
) WITHOUT ROWID;
CREATE INDEX story_companies_lookup
    ON story_companies (company, published, story_pk, is_lead, strategy);
CREATE INDEX story_companies_since ON story_companies (published, company, is_lead);

CREATE TABLE story_topics (
    story_pk INTEGER NOT NULL REFERENCES stories (pk) ON DELETE CASCADE,
    topic TEXT NOT NULL COLLATE NOCASE,
    published TEXT NOT NULL,
    is_lead INTEGER NOT NULL,
    strategy INTEGER NOT NULL,
    PRIMARY KEY (story_pk, topic)
) WITHOUT ROWID;
CREATE INDEX story_topics_lookup
    ON story_topics (topic, published, story_pk, is_lead, strategy);
CREATE INDEX story_topics_since ON story_topics (published, topic, is_lead);
"""

BRIEFS = """
CREATE TABLE briefs (
    content_hash TEXT PRIMARY KEY,
    story_id TEXT NOT NULL,
    brief TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX briefs_story ON briefs (story_id);
"""

# External-content FTS5: the text lives once, in stories. Triggers keep the index in step
# on edits and deletes; a new story's row is indexed by the store itself (migration 6).
FTS = """
CREATE VIRTUAL TABLE stories_fts USING fts5 (
    title, text, content='stories', content_rowid='pk',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER stories_fts_insert AFTER INSERT ON stories BEGIN
    INSERT INTO stories_fts (rowid, title, text) VALUES (new.pk, new.title, new.text);
END;
CREATE TRIGGER stories_fts_delete AFTER DELETE ON stories BEGIN
    INSERT INTO stories_fts (stories_fts, rowid, title, text)
    VALUES ('delete', old.pk, old.title, old.text);
END;
CREATE TRIGGER stories_fts_update AFTER UPDATE OF title, text ON stories BEGIN
    INSERT INTO stories_fts (stories_fts, rowid, title, text)
    VALUES ('delete', old.pk, old.title, old.text);
    INSERT INTO stories_fts (rowid, title, text) VALUES (new.pk, new.title, new.text);
END;
"""

META = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""

# An FTS5 insert run by a trigger cost about twice the CPU of the same insert made as a
# statement of its own (bench 2, docs/benchmarks.md), so StoryStore indexes new stories.
FTS_INSERT_BY_STORE = """
DROP TRIGGER IF EXISTS stories_fts_insert;
"""

# Edits of new (postable) stories waiting to be routed again (bot/dispatch_edits.py
# dispatch_edits): written in the edit's own transaction, deleted once routed, so a
# crash in between routes the edit on the next start (storage/dispatch_mark.py).
STORY_EDITS = """
CREATE TABLE story_edits (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    story_pk INTEGER NOT NULL
);
"""

# The dispatch mark (storage/dispatch_mark.py) of a file without one: a new file starts
# at 0, so the bot's first run posts what a `poll --once` stored before it (README); an
# older file's stories (and edits) are history, as its own first run would have taken
# them. Set here, when the file is opened, not at the bot's first run: that run took a
# poll made after the upgrade for history as well, and never posted its news.
DISPATCH_MARK = """
DELETE FROM story_edits WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'dispatch_mark');
INSERT OR IGNORE INTO meta (key, value)
    SELECT 'dispatch_mark', CAST(COALESCE(MAX(pk), 0) AS TEXT) FROM stories;
"""

# The feed an alias came from: a second feed carrying a stored story (an outlet's AI
# section, an aggregator) is kept only as an alias, and `feeds remove` of the story's
# own feed must know that a still-followed feed carries it too (storage/outbox.py
# feed_waiting_posts). Aliases stored before this say '' (not known). Since migration
# 11 story_feeds holds that fact for every copy, an alias or not: the column is no
# longer written or read (its values were carried over).
ALIAS_FEED = """
ALTER TABLE story_aliases ADD COLUMN feed_url TEXT NOT NULL DEFAULT '';
"""

# Every other feed that carries a stored story (its own is stories.feed_url), whatever
# made the copy known: its URL (an alias), or the very same id, which two feeds listing
# an article by its link alone (no GUID) both make and which leaves no alias. `feeds
# remove` keeps a post a still-followed feed carries (storage/outbox.py
# feed_waiting_posts). Written the first time a feed's copy is seen (storage/stories.py),
# so a feed listing the same entries every poll costs no write; the aliases that named
# their feed (migration 10) are carried over.
STORY_FEEDS = """
CREATE TABLE story_feeds (
    story_pk INTEGER NOT NULL REFERENCES stories (pk) ON DELETE CASCADE,
    feed_url TEXT NOT NULL,
    PRIMARY KEY (story_pk, feed_url)
) WITHOUT ROWID;
INSERT OR IGNORE INTO story_feeds (story_pk, feed_url)
    SELECT a.story_pk, a.feed_url FROM story_aliases a JOIN stories s ON s.pk = a.story_pk
    WHERE a.feed_url NOT IN ('', s.feed_url);
"""


# What a story was when the retention prune slimmed it (storage/retention.py): the prune
# marks it "backlog" so its edits are never routed, and forgets its settled posts, so
# `why` could no longer tell a posted story from a first poll's and said "never posted".
# '' not pruned; 'new' or 'backlog'; 'unknown' for a story slimmed before this (stories
# up to the prune's mark with their text gone), whose status was already overwritten.
PRUNED_FROM = """
ALTER TABLE stories ADD COLUMN pruned_from TEXT NOT NULL DEFAULT '';
UPDATE stories SET pruned_from = 'unknown'
    WHERE pk <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'slimmed_upto_pk')
    AND text = '' AND html = '' AND summary = '' AND status = 'backlog';
"""


# Where a feed moved for good: every hop of its last successful poll a 301 or 308
# (feeds/fetcher.py FetchResult.redirect). Shown by `feeds list` and `status`, never
# used in its stead: the configured URL is the operator's, and story ids are keyed to it.
FEED_MOVED_TO = """
ALTER TABLE feeds ADD COLUMN moved_to TEXT NOT NULL DEFAULT '';
"""


# When a poll last stored a new story from a feed (not its first poll's archive): a feed
# that stopped publishing answers every poll and read "ok" everywhere. Carried over from
# the stories a feed brought that were news (new then, or pruned since), in one pass over
# the stories (stories.feed_url has no index: a subquery per feed read them all per feed)
# and without UPDATE ... FROM, which SQLite older than 3.33 refuses.
FEED_LAST_NEW = """
ALTER TABLE feeds ADD COLUMN last_new TEXT;
CREATE TEMP TABLE feed_last_new (feed_url TEXT PRIMARY KEY, seen TEXT);
INSERT INTO temp.feed_last_new
    SELECT feed_url, MAX(first_seen) FROM stories
    WHERE status = 'new' OR pruned_from IN ('new', 'unknown') GROUP BY feed_url;
UPDATE feeds SET last_new = (SELECT seen FROM temp.feed_last_new WHERE feed_url = feeds.url);
DROP TABLE temp.feed_last_new;
"""


# The LLM calls sent in the last hour, per cap (storage/llm_calls.py): the hourly caps
# were counted in memory, and every start of the bot began the hour unspent. IF NOT
# EXISTS: safe to run again, as tests/test_upgrade.py replays the migrations after 14.
LLM_CALLS = """
CREATE TABLE IF NOT EXISTS llm_calls (kind TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS llm_calls_kind_at ON llm_calls (kind, at);
"""


def rekey_titles(conn: sqlite3.Connection, batch: int = 5000) -> None:
    """Store every story's title key as feeds.cluster.title_key makes it now. The key
    finds wire copies of a stored story (storage/clusters.py); when its stemming changed
    (30 November: "approve" -> "approv"), stories stored before kept the old keys, so the
    same headline from a second outlet found no cluster and was posted again. Any later
    change to title_key needs a migration running this again."""
    last = 0
    while rows := conn.execute("SELECT pk, title, title_key FROM stories WHERE pk > ? "
                               "ORDER BY pk LIMIT ?", (last, batch)).fetchall():
        conn.executemany("UPDATE stories SET title_key = ? WHERE pk = ?",
                         [(key, pk) for pk, title, old in rows
                          if (key := title_key(title)) != old])
        last = rows[-1][0]


MIGRATIONS: list[Migration] = [
    (1, "feeds", FEEDS),
    (2, "stories", STORIES),
    (3, "briefs", BRIEFS),
    (4, "stories_fts", FTS),
    (5, "meta", META),
    (6, "stories_fts_insert_by_store", FTS_INSERT_BY_STORE),
    (7, "story_edits", STORY_EDITS),
    (8, "stories_title_key_stemmed", rekey_titles),
    (9, "dispatch_mark_at_open", DISPATCH_MARK),
    (10, "story_aliases_feed", ALIAS_FEED),
    (11, "story_feeds", STORY_FEEDS),
    (12, "stories_pruned_from", PRUNED_FROM),
    (13, "feeds_moved_to", FEED_MOVED_TO),
    (14, "feeds_last_new", FEED_LAST_NEW),
    (15, "stories_links_without_credentials", drop_link_credentials),
    (16, "stories_link_key", add_link_keys),
    (17, "feeds_listed", add_feed_listings),   # a slim row goes once no feed lists it
    (18, "llm_calls", LLM_CALLS),
]
