"""Upgrading: the current code opens databases that older ainews versions wrote.

tests/data/upgrade/*.sql are small databases made by those versions' own CLI and API
(synthetic feeds: backlog, posts sent to the console, posts waiting for Slack and
Discord, a digest channel, a paused channel and feed, a feed in backoff, a story stored
by `poll --once` and not routed yet), dumped as SQL; b2bbb8b's also has a nonce epoch
and links stored %-escaped and raw non-ASCII before link keys (its first lines say how).
current.sql is this version's, so a later migration is checked against it too (make it
again with `python -m tests.upgrade_kit > current.sql`, which also writes the recipe
down). Each test builds its database from a dump.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from feeds.cluster import title_key
from feeds.link_key import link_key
from feeds.models import story_id
from feeds.urls import canonical_url
from storage.delivery_schema import DELIVERY_MIGRATIONS
from storage.outbox import outbox_rows
from storage.schema import MIGRATIONS
from storage.store import Store
from tests.upgrade_kit import CURRENT, versions

DUMPS = sorted((Path(__file__).parent / "data" / "upgrade").glob("*.sql"))
WIRE = "European lawmakers approve sweeping rules for general-purpose artificial intelligence models"
RULE = "-" * 72   # the console adapter's line above each post


def load(dump: Path, tmp_path: Path) -> Path:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(dump.read_text(encoding="utf-8"))
    conn.close()
    return path


@pytest.fixture(params=DUMPS, ids=lambda p: p.stem)
def old_db(request, tmp_path) -> Path:
    return load(request.param, tmp_path)


def columns(path: Path) -> dict[str, list[str]]:
    """The columns of each table the file has (FTS5's and the ledger aside)."""
    conn = sqlite3.connect(path)
    tables = [n for (n,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'stories_fts%' AND name != 'schema_migrations'")]
    found = {t: [c[1] for c in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    conn.close()
    return found


def rows(path: Path, cols: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row of these tables in these columns (title_key aside: the store rekeys it)."""
    out = {}
    for table, names in cols.items():
        picked = ", ".join(n for n in names if n != "title_key")
        out[table] = sorted(query(path, f"SELECT {picked} FROM {table}"), key=repr)
    return out


def query(path: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        found = conn.execute(sql, args).fetchall()
    conn.close()
    return found


def run_cli(capsys, path: Path, *argv) -> tuple[int, str, str]:
    code = main(["--db", str(path), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_opening_keeps_every_row_and_a_second_open_changes_nothing(old_db):
    had = columns(old_db)
    before = rows(old_db, had)
    Store(old_db).close()
    after = rows(old_db, had)
    meta = (before.pop("meta"), after.pop("meta"))
    assert after == before, "a row was lost or changed"
    assert set(meta[0]) <= set(meta[1])   # a file without a dispatch mark gets one
    known = sorted(v for v, _n, _s in [*MIGRATIONS, *DELIVERY_MIGRATIONS])
    assert [v for (v,) in query(old_db, "SELECT version FROM schema_migrations "
                                "ORDER BY version")] == known
    opened = old_db.read_bytes()
    with Store(old_db) as store:
        assert [v for v, _n, _at in store.migrations()] == known
    assert old_db.read_bytes() == opened


def test_current_sql_is_a_database_of_this_version(tmp_path):
    """current.sql checks the next migration only while it is this version's: a migration
    added without making it again (python -m tests.upgrade_kit > tests/data/upgrade/
    current.sql) leaves the newest schema opened by no test."""
    dumped, fresh = tmp_path / "dumped.db", tmp_path / "fresh.db"
    with sqlite3.connect(dumped) as conn:
        conn.executescript(CURRENT.read_text(encoding="utf-8"))
    conn.close()
    Store(fresh).close()
    known = sorted(v for v, _n, _s in [*MIGRATIONS, *DELIVERY_MIGRATIONS])
    assert [v for (v,) in query(dumped, "SELECT version FROM schema_migrations "
                                "ORDER BY version")] == known
    schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
    assert query(dumped, schema) == query(fresh, schema)
    assert CURRENT.read_text(encoding="utf-8").startswith(
        f"-- ainews as of this test ({versions()})\n")


def test_stored_title_keys_are_the_current_ones(old_db):
    # Wire copies are found by title key (storage/clusters.py): a key stored by older
    # stemming never matched the same headline again.
    Store(old_db).close()
    stale = [(t, k) for t, k in query(old_db, "SELECT title, title_key FROM stories")
             if k != title_key(t)]
    assert stale == [], "title_key changed: add a migration running rekey_titles again"


def test_a_wire_copy_of_a_posted_story_joins_it_rather_than_posting_again(old_db):
    # The old version posted WIRE from feed A; the same copy from feed B after the
    # upgrade must be "also reported by", not a second post of the same news.
    with Store(old_db) as store:
        (sid, pk), = store.db.execute("SELECT id, pk FROM stories WHERE title = ?", (WIRE,))
        posted = store.get_story(sid)
        copy = replace(posted, id="wire-copy", url="https://b.example.com/wire-copy",
                       feed_url="http://127.0.0.1:9/b.xml", source="Feed B",
                       published=posted.published + timedelta(hours=1))
        assert store.add_new_stories([copy], backlog=False, now=copy.published) == [copy]
        cluster = store.db.execute("SELECT cluster_id, is_lead FROM stories WHERE id = ?",
                                   ("wire-copy",)).fetchone()
    assert cluster == (pk, 0)


def test_a_link_kept_with_a_readers_token_loses_it_and_its_story_is_not_news_again(old_db):
    """Before story links lost a reader's credentials, a personalised feed's item was
    stored (and its posts queued) with the subscriber's ?access_token=, and its id made
    from that link. Opened now, the link is stored as it is made now; the same item
    seen again (its link and id without the token) is that story, not news to post."""
    token = "?access_token=eyJfakeSubscriberJWT123"
    with sqlite3.connect(old_db) as conn:   # the file as the version before this wrote it
        conn.execute("DELETE FROM schema_migrations WHERE version >= 15 AND version < 100")
        (url,) = conn.execute("SELECT url FROM stories WHERE title = ?", (WIRE,)).fetchone()
        conn.execute("UPDATE stories SET url = ?, guid = '', id = ? WHERE title = ?",
                     (url + token, story_id("", "", url + token), WIRE))
        conn.execute("UPDATE outbox SET brief = json_set(brief, '$.url', "
                     "json_extract(brief, '$.url') || ?) WHERE message_id IS NULL", (token,))
    conn.close()
    with Store(old_db) as store:
        (sid,) = store.db.execute("SELECT id FROM stories WHERE title = ?", (WIRE,)).fetchone()
        stored = store.get_story(sid)
        assert stored.url == url     # what /latest, /search and /why show
        again = replace(stored, id=story_id("", "", url), url=url)   # the parser's now
        assert store.add_new_stories([again], backlog=False, now=stored.published) == []
    waiting = query(old_db, "SELECT brief FROM outbox WHERE message_id IS NULL")
    assert waiting and not [b for (b,) in waiting if "access_token" in b], waiting


def waiting_nonces(path: Path) -> dict[int, str]:
    """The nonce each post still to go is sent under, as the version that queued it
    named it: ainews-ID, or ainews-EPOCH-ID once a restore gave the file an epoch."""
    epoch = "nonce_epoch" if "nonce_epoch" in columns(path)["outbox"] else "''"
    return {i: f"ainews-{e}-{i}" if e else f"ainews-{i}" for i, e in query(
        path, f"SELECT id, {epoch} FROM outbox WHERE state IN ('due', 'held')")}


def test_posts_on_their_way_keep_their_nonces_and_a_paused_channel_stays_paused(old_db):
    # A nonce that changed would let Discord post again what the old bot may have sent
    # just before the upgrade; a channel unpaused would get posts its admins shut out.
    nonces = waiting_nonces(old_db)
    pauses = "SELECT platform, channel, kind, target, paused_reason FROM subscriptions"
    paused = query(old_db, pauses)
    with Store(old_db) as store:
        after = {r.id: r.nonce for r in outbox_rows(store.db, "WHERE state IN ('due', 'held')")}
    assert after == nonces and nonces
    assert query(old_db, pauses) == paused and [p for p in paused if p[4]]


B2BBB8B = Path(__file__).parent / "data" / "upgrade" / "2026-12-03-b2bbb8b.sql"


@pytest.mark.parametrize("stored,again", [
    ("https://a.example.com/news/caf%C3%A9-ai-strategy",
     "https://a.example.com/news/café-ai-strategy"),
    ("https://a.example.com/news/caf%C3%A9-ai-strategy",
     "https://a.example.com/news/caf%c3%a9-ai-strategy"),
    ("https://b.example.com/news/阿里-ai-plan",
     "https://b.example.com/news/%E9%98%BF%E9%87%8C-ai-plan"),
], ids=["raw", "lowercase-escape", "escaped"])
def test_a_link_stored_before_link_keys_spelt_another_way_is_not_news_again(tmp_path, stored,
                                                                          again):
    # b2bbb8b stored a link as its feed spelt it; an outlet or a later poll spelling it
    # the other way (%-escaped or raw) must find that story (migration 16's link_key).
    path = load(B2BBB8B, tmp_path)
    with Store(path) as store:
        (sid,), = store.db.execute("SELECT id FROM stories WHERE url = ?", (stored,))
        story = store.get_story(sid)
        url = canonical_url(again)
        seen = replace(story, id=story_id(story.feed_url, "", url), url=url)
        assert seen.id != story.id
        assert store.add_new_stories([seen], backlog=False, now=story.published) == []
    # Kept in the file, not worked out at each poll: the key where it is not the link.
    assert query(path, "SELECT COUNT(*) FROM stories WHERE ? IN (url, link_key)",
                 link_key(stored)) == [(1,)]


def lead_ids(path: Path, where: str = "1", *args) -> set[str]:
    return {i for (i,) in query(path, f"SELECT id FROM stories WHERE is_lead = 1 AND {where}",
                                *args)}


def json_ids(out: str) -> set[str]:
    return {json.loads(line)["id"] for line in out.splitlines() if line.startswith("{")}


@pytest.mark.parametrize("argv,expected", [
    (["latest", "--json", "--limit", "25"], lambda p: lead_ids(p)),
    (["company", "OpenAI", "--json", "--limit", "25"],
     lambda p: lead_ids(p, "companies LIKE ?", '%"OpenAI"%')),
    (["topic", "funding", "--json", "--limit", "25"],
     lambda p: lead_ids(p, "topics LIKE ?", '%"funding"%')),
    (["search", "billion", "--json", "--limit", "25"],
     lambda p: lead_ids(p, "(title || text) LIKE ?", "%billion%")),
], ids=["latest", "company", "topic", "search"])
def test_lookups_find_what_the_old_version_stored(clean_env, capsys, old_db, argv, expected):
    want = expected(old_db)
    code, out, err = run_cli(capsys, old_db, *argv)
    assert code == 0, err
    assert json_ids(out) == want and want


def test_status_feeds_list_and_why_read_it(clean_env, capsys, old_db):
    (url,) = query(old_db, "SELECT url FROM stories WHERE title = ?", WIRE)[0]
    states = query(old_db, "SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
    code, out, err = run_cli(capsys, old_db, "status")
    assert code == 0, err
    assert "1 failing, 2 ok, 1 paused" in out and "Missing Access" in out
    assert f"outbox     {', '.join(f'{n} {state}' for state, n in states)}" in out
    code, out, err = run_cli(capsys, old_db, "feeds", "list")
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()[1:] if line.strip()] == [
        "ok", "ok", "failing", "paused"]
    code, out, err = run_cli(capsys, old_db, "why", url)
    assert code == 0, err
    assert "console console sent" in out and "discord D1 due" in out


def a_manual_poll_after_the_upgrade(path: Path) -> str:
    """`ainews poll --once` stores a new strategy story: the next run must post it
    (README). The bot had never run on the file (no dispatch mark) in some versions."""
    with Store(path) as store:
        (sid,), = store.db.execute("SELECT id FROM stories WHERE strategy = 1 LIMIT 1")
        story = store.get_story(sid)
        fresh = replace(story, id="after-upgrade", url="https://a.example.com/after-upgrade",
                        title="Mistral AI signs a sovereign cloud pact with three states",
                        published=story.published + timedelta(days=30))
        assert store.add_new_stories([fresh], backlog=False, now=fresh.published)
    return fresh.title


def test_the_first_run_after_the_upgrade_posts_nothing_twice(clean_env, capsys, old_db,
                                                             tmp_path):
    # What it still owes: new strategy stories above the dispatch mark no post holds
    # (a file without a mark owes none: its first run starts at its last story), and
    # what a poll stored after the upgrade.
    mark = query(old_db, "SELECT value FROM meta WHERE key = 'dispatch_mark'")
    owed = {t for (t,) in query(
        old_db, "SELECT title FROM stories WHERE status = 'new' AND strategy = 1 AND pk > ? "
        "AND id NOT IN (SELECT story_id FROM outbox)", int(mark[0][0]))} if mark else set()
    owed.add(a_manual_poll_after_the_upgrade(old_db))
    outbox = "SELECT id, platform, channel, state FROM outbox WHERE platform != 'console'"
    stories, paused = "SELECT id, status FROM stories", "SELECT url FROM feeds WHERE paused = 1"
    before = [query(old_db, sql) for sql in (outbox, stories, paused)]
    feeds = "".join(f'[[feed]]\nname = "{n}"\nurl = "{u}"\n'
                    for u, n in query(old_db, "SELECT url, name FROM feeds"))
    (tmp_path / "feeds.toml").write_text(feeds)
    clean_env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    clean_env.delenv("AINEWS_ALLOW_PRIVATE_HOSTS")   # its loopback feeds: refused, not fetched
    clean_env.setenv("AINEWS_MAX_POST_AGE_HOURS", "0")   # the dump's dates, whenever this runs
    clean_env.setenv("AINEWS_KEEP_DAYS", "0")
    code, out, err = run_cli(capsys, old_db, "run", "--once")
    assert code == 0, err
    posts = [part.strip().splitlines()[0] for part in out.split(RULE)[1:]]
    assert sorted(posts) == sorted(owed)
    queued, stored, still_paused = (query(old_db, sql) for sql in (outbox, stories, paused))
    assert set(before[0]) <= set(queued), "a post was lost or sent again"
    assert stored == before[1], "a story changed status (backlog stays backlog)"
    assert still_paused == before[2] != []


def test_it_is_not_upgraded_under_an_older_bot_still_running_on_it(clean_env, capsys,
                                                                   old_db):
    # `git pull`, then `ainews status` before the restart: the file was migrated under
    # the old bot, which went on writing the old way (title keys, search index).
    from bot.runlock import run_lock
    known = {v for v, _n, _s in [*MIGRATIONS, *DELIVERY_MIGRATIONS]}
    ledger = "SELECT * FROM schema_migrations ORDER BY version"
    before = query(old_db, ledger)
    with run_lock(old_db):                    # the bot that wrote it, still running
        code, out, err = run_cli(capsys, old_db, "status")
    if {v for v, *_ in before} == known:      # a bot of this version: nothing to upgrade
        assert code == 0 and "bot        running (pid" in out
        return
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "needs upgrading" in err and "stop that bot first" in err
    assert query(old_db, ledger) == before
    assert run_cli(capsys, old_db, "status")[0] == 0    # once it has stopped


def up_to_date(path: Path) -> bool:
    known = {v for v, _n, _s in [*MIGRATIONS, *DELIVERY_MIGRATIONS]}
    return {v for (v,) in query(path, "SELECT version FROM schema_migrations")} == known


def test_the_upgrade_says_what_it_does_once(clean_env, capsys, old_db):
    # A big store takes a while (bench/bench_upgrade.py): the first command sat silent.
    upgrading = not up_to_date(old_db)
    code, _, err = run_cli(capsys, old_db, "status")
    assert code == 0, err
    said = [line for line in err.splitlines() if "store: upgrading" in line]
    assert len(said) == int(upgrading)
    assert all(str(old_db) in line and "stays as it was" in line for line in said)
    code, _, err = run_cli(capsys, old_db, "status")
    assert code == 0 and "store: upgrading" not in err


def test_a_command_meeting_an_upgrade_under_way_says_to_wait_for_it(clean_env, capsys,
                                                                    old_db):
    # `ainews run` upgrading a big store holds the write lock for the whole upgrade
    # (one transaction); a `status` meanwhile said "cannot open X: database is locked".
    clean_env.setattr("storage.store.BUSY_TIMEOUT", 0.2)
    ledger = "SELECT * FROM schema_migrations ORDER BY version"
    before = query(old_db, ledger)
    holder = sqlite3.connect(old_db, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")   # as every file ainews wrote is
    holder.execute("BEGIN IMMEDIATE")     # another ainews, upgrading it
    try:
        code, _, err = run_cli(capsys, old_db, "status")
    finally:
        holder.close()
    if up_to_date(old_db):                # nothing to upgrade: opening takes no lock
        assert code == 0, err
        return
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "needs upgrading for this ainews" in err and "upgrading it" in err
    assert "try again" in err and "database is locked" not in err
    assert query(old_db, ledger) == before
