"""Store: opening, migrations, dedupe, edits, backlog, clusters, briefs and lookups."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from feeds.models import Brief, Classification, Story, story_id
from storage.schema import migrate
from storage.store import Store, StoreError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
FEED_A, FEED_B = "https://a.example/feed", "https://b.example/rss"


def make(title: str, *, feed: str = FEED_A, guid: str = "", url: str = "",
         source: str = "Outlet A", hours: float = 0, companies=("Alibaba",),
         topics=("pricing",), strategy=True, text: str = "") -> Story:
    url = url or f"https://a.example/{abs(hash(title)) % 10**8}"
    return Story(id=story_id(feed, guid, url), url=url, title=title,
                 text=text or f"{title}. More detail follows.", source=source, feed_url=feed,
                 published=T0 + timedelta(hours=hours), guid=guid,
                 classification=Classification(strategy, 2.5, tuple(companies),
                                               tuple(topics), ("company:x",)))


@pytest.fixture(params=["memory", "file"])
def store(request, tmp_path):
    s = Store(":memory:" if request.param == "memory" else tmp_path / "db" / "ainews.db")
    yield s
    s.close()


def add(store: Store, *stories: Story, backlog: bool = False) -> list[Story]:
    return store.add_new_stories(list(stories), backlog=backlog, now=T0)


# opening and migrations

def test_migrations_are_recorded_once_and_reopening_is_idempotent(tmp_path):
    path = tmp_path / "nested" / "dir" / "ainews.db"
    with Store(path) as first:
        applied = first.migrations()
        add(first, make("Alibaba cuts Qwen API prices"))
    assert path.exists(), "parent directories are created"
    versions = [v for v, _name, _at in applied]
    assert versions == sorted(set(versions)) and 1 in versions
    with Store(path) as again:
        assert again.migrations() == applied
        assert [b.headline for b in again.latest()] == ["Alibaba cuts Qwen API prices"]
        assert again.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert again.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migration_runner_applies_new_versions_once_and_atomically():
    conn = sqlite3.connect(":memory:")
    steps = [(1, "plain", "-- a comment first, no final semicolon\nCREATE TABLE a (x)"),
             (2, "trigger", "CREATE TABLE b (y);\nCREATE TRIGGER copy AFTER INSERT ON a "
                            "BEGIN INSERT INTO b VALUES (new.x); END;")]
    assert migrate(conn, steps) == [1, 2]
    assert migrate(conn, steps) == []
    conn.execute("INSERT INTO a VALUES (7)")
    assert conn.execute("SELECT y FROM b").fetchall() == [(7,)]
    broken = [*steps, (3, "ok", "CREATE TABLE c (z)"), (4, "bad", "CREATE TABLE a (x)")]
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert [v for (v,) in conn.execute("SELECT version FROM schema_migrations")] == [1, 2]
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'c'").fetchall() == []


def _fts_in_step(store: Store) -> None:
    """The search index holds each story's current title and text: every token
    instance of stories_fts equals those of a fresh index of the stories' rows."""
    conn = store.db.conn
    conn.execute("CREATE VIRTUAL TABLE temp.fresh USING fts5 (title, text, content='', "
                 "tokenize='porter unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO temp.fresh (rowid, title, text) SELECT pk, title, text FROM stories")
    for name in ("stories_fts", "fresh"):
        conn.execute(f"CREATE VIRTUAL TABLE temp.{name}_v USING fts5vocab("
                     f"{'main' if name == 'stories_fts' else 'temp'}, {name}, instance)")
    have, want = (conn.execute(f"SELECT term, doc, col, offset FROM temp.{n}_v ORDER BY 1, 2, 3, 4")
                  .fetchall() for n in ("stories_fts", "fresh"))
    for name in ("stories_fts_v", "fresh_v", "fresh"):
        conn.execute(f"DROP TABLE temp.{name}")
    assert have == want and have


def test_store_made_before_migration_6_upgrades_and_indexes_new_stories(tmp_path,
                                                                            monkeypatch):
    import storage.store
    from storage.schema import MIGRATIONS
    path = tmp_path / "old.db"
    # The schema as it was before: new stories indexed by the stories_fts_insert trigger.
    monkeypatch.setattr(storage.store, "MIGRATIONS", [m for m in MIGRATIONS if m[0] < 6])
    with Store(path) as old:
        old.db.conn.execute(
            "INSERT INTO stories (pk, id, url, title, text, published, content_hash, status, "
            "first_seen, updated_at, cluster_id) VALUES (1, 'old-1', 'https://a.example/old', "
            "'Tencent opens Hunyuan weights', 'Tencent released the weights.', "
            "'2026-03-01T09:00:00Z', 'h', 'backlog', '2026-03-01T09:00:00Z', "
            "'2026-03-01T09:00:00Z', 1)")
        old.db.conn.commit()
        assert 6 not in [v for v, _n, _at in old.migrations()]
    monkeypatch.undo()
    with Store(path) as store:
        assert 6 in [v for v, _n, _at in store.migrations()]
        assert store.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                "name = 'stories_fts_insert'").fetchall() == []
        new = make("Tencent cuts Hunyuan API prices", companies=("Tencent",))
        add(store, new)
        _fts_in_step(store)
        assert [b.id for b in store.search("hunyuan")] == [new.id, "old-1"]


def test_search_index_follows_new_edited_and_clustered_stories(store):
    first = make("Alibaba cuts Qwen API prices", guid="g-1", text="Prices fall 50%.")
    again = make("Alibaba cuts Qwen API prices", feed=FEED_B, source="Outlet B")
    add(store, first, again, make("OpenAI raises $40bn", companies=("OpenAI",)))
    add(store, replace(first, text="Prices fall 97%."))
    _fts_in_step(store)
    assert [b.id for b in store.search("97")] == [first.id]
    assert store.search("50") == []


@pytest.mark.parametrize("batches", ["one batch", "two batches"])
def test_an_edit_replaces_search_words_and_topics(store, batches):
    """A feed may carry an item and its edit in one poll: the edit wins either way."""
    first = make("Alibaba cuts Qwen API prices", guid="g-1", text="Prices fall 50%.",
                 topics=("pricing", "china"))
    edited = replace(first, text="Prices fall 97%.", classification=replace(
        first.classification, topics=("pricing",)))
    added = add(store, first, edited) if batches == "one batch" else (
        add(store, first) + add(store, edited))
    assert [s.id for s in added] == [first.id]
    _fts_in_step(store)
    assert [b.id for b in store.search("97")] == [first.id] and store.search("50") == []
    assert store.stories_for_topic("china") == []
    assert [b.id for b in store.stories_for_topic("pricing")] == [first.id]


def _caught_failure(store: Store, first: Story, edited: Story, other: Story) -> set[str]:
    with store.transaction():
        add(store, first)
        with pytest.raises(ValueError):
            with store.transaction():   # e.g. one feed's batch of a pass
                add(store, other)
                raise ValueError("this feed's poll record cannot be written")
        add(store, edited)
    return set()


def _foreign_transaction(store: Store, first: Story, edited: Story, other: Story) -> set[str]:
    store.db.conn.execute("BEGIN")   # not the store's own: it cannot index at the commit
    add(store, first, other)
    add(store, edited)
    store.db.conn.execute("COMMIT")
    return {other.id}


@pytest.mark.parametrize("write", [_caught_failure, _foreign_transaction])
def test_search_index_of_batches_in_one_transaction(store, write):
    """New stories are indexed for search when their transaction commits: one whose
    batch was rolled back is not, an edit made before the commit is."""
    first = make("Alibaba cuts Qwen API prices", guid="g-1", text="Prices fall 50%.")
    edited = replace(first, text="Prices fall 97%.")
    other = make("Tencent opens Hunyuan weights", guid="g-2", companies=("Tencent",))
    stored = write(store, first, edited, other)
    _fts_in_step(store)
    assert [b.id for b in store.search("97")] == [first.id] and store.search("50") == []
    assert {b.id for b in store.search("hunyuan")} == stored


@pytest.mark.parametrize("fault", ["missing", "stale"])
def test_fts_check_notices_a_story_indexed_wrongly(store, fault):
    add(store, make("Alibaba cuts Qwen API prices"))
    store.db.conn.execute("INSERT INTO stories_fts (stories_fts, rowid, title, text) "
                          "SELECT 'delete', pk, title, text FROM stories")
    if fault == "stale":
        store.db.conn.execute("INSERT INTO stories_fts (rowid, title, text) "
                              "SELECT pk, 'Alibaba trims Qwen API prices', text FROM stories")
    with pytest.raises(AssertionError):
        _fts_in_step(store)


@pytest.mark.parametrize("where", ["under-a-file", "is-a-directory"])
def test_unopenable_path_gives_one_line_store_error(tmp_path, where):
    blocker = tmp_path / "blocker"
    if where == "under-a-file":
        blocker.write_text("not a directory")
        path = blocker / "ainews.db"
    else:
        blocker.mkdir()
        path = blocker
    with pytest.raises(StoreError) as err:
        Store(path)
    message = str(err.value)
    assert message.startswith(f"store: cannot open {path}: ")
    assert "\n" not in message


def test_writing_a_read_only_database_gives_one_line_store_error(tmp_path):
    # A database the bot may read but not write (a root-owned file, a read-only
    # mount) crashed `ainews run` and `poll` with a traceback at their first write.
    path = tmp_path / "ainews.db"
    Store(path).close()
    store = Store(f"file:{path}?mode=ro")
    assert store.latest(5) == []        # lookups still work
    with pytest.raises(StoreError) as err:
        store.set_meta("imported_feeds", ["https://a.example/feed"])
    message = str(err.value)
    assert message.startswith(f"store: cannot write file:{path}?mode=ro: ")
    assert "read-only" in message and "\n" not in message
    assert not store.db.conn.in_transaction


def test_opening_a_database_that_cannot_be_written_says_read_only(tmp_path):
    # Opening writes (WAL mode, migrations): on a file the user may not write, even a
    # lookup ended in "cannot open ...: attempt to write a readonly database".
    path = tmp_path / "plain.db"
    conn = sqlite3.connect(path)        # not yet in WAL mode: opening must switch it
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as err:
        Store(f"file:{path}?mode=ro")
    assert str(err.value) == (f"store: cannot open file:{path}?mode=ro: the database is "
                              "read-only (check the permissions of the file and its folder)")


def test_a_database_that_cannot_be_created_says_what_to_check(tmp_path):
    # A new database in a folder the user may not write (mode=ro stands in for it: root
    # writes anywhere) ended in SQLite's bare "unable to open database file".
    path = tmp_path / "missing.db"
    with pytest.raises(StoreError) as err:
        Store(f"file:{path}?mode=ro")
    assert str(err.value) == (f"store: cannot open file:{path}?mode=ro: unable to open "
                              "database file (check that its folder exists and that you "
                              "may write in it)")


def test_a_database_another_program_keeps_locked_gives_one_line_store_error(
        tmp_path, monkeypatch):
    # A sqlite3 shell left in a transaction on the bot's file ended `poll --once`,
    # `feeds add/remove` and `run`'s start-up with a sqlite3 traceback.
    monkeypatch.setattr("storage.store.BUSY_TIMEOUT", 0.2)
    path = tmp_path / "ainews.db"
    with Store(path) as store:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            assert store.latest(5) == []        # readers are not held up
            with pytest.raises(StoreError) as err:
                store.set_meta("imported_feeds", ["https://a.example/feed"])
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        message = str(err.value)
        assert message.startswith(f"store: {path} is locked") and "\n" not in message
        store.set_meta("imported_feeds", [])    # usable once the lock is gone


@pytest.mark.parametrize("versions,words", [
    ([9999], "(schema version 9999 is unknown here)"),
    ([9998, 9999], "(schema versions 9998, 9999 are unknown here)"),
])
def test_database_from_a_newer_ainews_is_refused_with_one_line(tmp_path, versions, words):
    # After a downgrade, migrations this code does not know were applied: writing
    # with the old code could break the newer schema's assumptions without a word.
    path = tmp_path / "ainews.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.executemany("INSERT INTO schema_migrations VALUES (?, 'future', '2027-01-01T00:00:00Z')",
                     [(v,) for v in versions])
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as err:
        Store(path)
    message = str(err.value)
    assert message.startswith(f"store: {path} was written by a newer ainews")
    assert words in message and "\n" not in message


# dedupe, edits, backlog

def test_same_guid_is_one_story_however_often_it_appears(store):
    s = make("Alibaba cuts Qwen API prices", guid="tag:ft.com,2026:1")
    assert add(store, s, s) == [s]
    assert add(store, s) == []
    assert store.known_story_ids([s.id, "unknown"]) == {s.id}
    assert len(store.latest(50)) == 1


def test_same_canonical_url_is_one_story_across_guids_and_feeds(store):
    first = make("Alibaba cuts Qwen API prices", guid="g-1", url="https://ft.com/content/1")
    unstable = replace(first, id=story_id(FEED_A, "g-2", first.url), guid="g-2")
    other_feed = make("Alibaba cuts Qwen API prices", feed=FEED_B, source="Outlet B",
                      url="https://ft.com/content/1")
    assert add(store, first) == [first]
    assert add(store, unstable, other_feed) == []
    # The unstable GUID is remembered, so the next poll skips it before classifying.
    assert store.known_story_ids([unstable.id, other_feed.id]) == {unstable.id, other_feed.id}
    assert [b.id for b in store.latest(50)] == [first.id]


@pytest.mark.parametrize("together", [True, False], ids=["one-batch", "next-poll"])
def test_same_guid_with_a_new_link_is_still_one_story(store, together):
    # An outlet edits the item's link: the GUID still says which story it is.
    s = make("Alibaba cuts Qwen API prices", guid="tag:ft.com,2026:1", url="https://ft.com/1")
    moved = replace(s, url="https://ft.com/1-updated")
    added = add(store, s, moved) if together else add(store, s) + add(store, moved)
    assert added == [s] and len(store.latest(50, strategy_only=False)) == 1


def test_another_outlets_copy_never_rewrites_a_stored_story(store):
    """A syndicated copy (the same page from another feed, in its own words) is the same
    story: the post keeps the first outlet's words and is not edited into the copy's."""
    first = make("Alibaba cuts Qwen API prices", url="https://ft.com/content/1",
                 text="Prices fall 50%.")
    copy = make("Alibaba slashes Qwen prices", feed=FEED_B, source="Outlet B",
                url="https://ft.com/content/1", text="Syndicated: prices fall.")
    add(store, first)
    assert add(store, copy) == []
    kept = store.get_story(first.id)
    assert (kept.title, kept.text, kept.source) == (first.title, first.text, "Outlet A")
    assert store.last_edit_seq() == 0, "no edit of the post is queued"


def test_an_alias_is_known_even_when_its_link_changes_again(store):
    first = make("Alibaba cuts Qwen API prices", guid="g-1", url="https://ft.com/content/1")
    unstable = replace(first, id=story_id(FEED_A, "g-2", first.url), guid="g-2")
    add(store, first)
    assert add(store, unstable) == []        # known by URL: g-2 becomes an alias
    assert add(store, replace(unstable, url="https://ft.com/content/1?page=all")) == []
    assert len(store.latest(50, strategy_only=False)) == 1


@pytest.mark.parametrize("guid", ["https://x.example/p/{n}", "update-{n}"])
def test_entries_sharing_one_link_are_stored_as_the_stories_they_are(store, guid):
    # A live blog or changelog links every entry to one page, told apart by GUID: the
    # store merged them by that URL, so all but the first were lost as "edits".
    from feeds.parser import parse_feed
    titles = ["GPT-5 ships to every user", "Sora gets new pricing", "Board posts a statement"]
    items = "".join(f"<item><guid>{guid.format(n=n)}</guid><title>{t}</title>"
                    f"<link>https://x.example/live</link></item>" for n, t in enumerate(titles))
    body = f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()
    stories = parse_feed(body, feed_url="https://x.example/rss").stories
    assert len(add(store, *stories)) == 3 and len(store.latest(10, strategy_only=False)) == 3
    assert add(store, *stories) == [], "and each is known on the next poll"


def test_edited_item_updates_text_but_is_not_new_again(store):
    original = make("Alibaba cuts Qwen API prices", guid="g-1", text="Prices fall 50%.")
    edited = replace(original, title="Alibaba cuts Qwen API prices by 97%",
                     text="Prices fall 97%, the company said.")
    assert edited.content_hash != original.content_hash
    add(store, original)
    assert add(store, edited) == []
    assert store.known_story_hashes([original.id]) == {original.id: edited.content_hash}
    assert [b.headline for b in store.latest()] == ["Alibaba cuts Qwen API prices by 97%"]
    assert [b.id for b in store.search("97")] == [original.id]
    assert store.search("50") == [], "the search index follows the edit"


@pytest.mark.parametrize("backlog", [False, True], ids=["new", "backlog"])
def test_an_edit_of_a_new_story_waits_for_dispatch_in_its_own_transaction(store, backlog):
    """Dispatch routes an edited new story again (bot/dispatch.py dispatch_edits); the
    record is written with the edit, so a crash before routing cannot lose it, and one
    rolled back with its edit routes nothing. A backlog story is never posted: not kept."""
    original = make("Alibaba cuts Qwen API prices", guid="g-1", text="Prices fall 50%.")
    add(store, original, backlog=backlog)
    add(store, original)                                   # unchanged: no edit
    assert store.last_edit_seq() == 0
    with pytest.raises(ValueError), store.transaction():
        add(store, replace(original, text="Prices fall 90%."))
        raise ValueError("the pass failed after storing the edit")
    assert store.last_edit_seq() == 0
    for n in (96, 97):
        add(store, replace(original, text=f"Prices fall {n}%."))
    upto = store.last_edit_seq()
    assert [s.text for s in store.edited_stories(upto)] == ([] if backlog else
                                                            ["Prices fall 97%."])
    add(store, replace(original, text="Prices fall 98%."))   # while routing: kept
    store.forget_edits(upto)
    assert [s.text for s in store.edited_stories(store.last_edit_seq())] == (
        [] if backlog else ["Prices fall 98%."])


def test_backlog_stories_are_stored_but_marked_backlog(store):
    old = make("Alibaba cuts Qwen API prices", guid="1")
    fresh = make("Tencent opens Hunyuan weights", guid="2", companies=("Tencent",))
    assert add(store, old, backlog=True) == [old]
    assert add(store, old, fresh) == [fresh], "a backlog story never comes back as new"
    status = dict(store.db.execute("SELECT id, status FROM stories").fetchall())
    assert status == {old.id: "backlog", fresh.id: "new"}
    assert {b.id for b in store.latest()} == {old.id, fresh.id}


def test_add_new_stories_is_one_transaction(store):
    good = make("Alibaba cuts Qwen API prices", guid="1")
    broken = replace(make("Broken", guid="2"), published=None)
    with pytest.raises(Exception):
        add(store, good, broken)
    assert store.known_story_ids([good.id]) == set()


@pytest.mark.parametrize("whole", [False, True])
def test_batches_in_one_transaction_are_stored_or_dropped_together(store, whole):
    """Pipeline.poll_once writes several feeds' first polls in one
    store.transaction(whole=True)."""
    first = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"))
    broken = replace(make("Broken", guid="2"), published=None)
    with pytest.raises(Exception):
        with store.transaction(whole=whole):
            add(store, first)
            add(store, broken)
    assert store.known_story_ids([first.id]) == set()
    follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                  source="The Verge", hours=6, companies=("Amazon", "Anthropic"))
    with store.transaction(whole=whole):
        assert add(store, first) == [first]
        assert add(store, follow) == [follow]   # sees the batch before it, uncommitted
    assert store.cluster_info(follow.id) == (first.id, first.id, ["The Verge"])


def test_a_whole_transaction_keeps_nothing_when_a_write_inside_fails(store):
    """Without savepoints a failed write may have left part of its rows: a caught error
    inside a whole transaction still undoes all of it, and says so."""
    first = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"))
    broken = replace(make("Broken", guid="2"), published=None)
    with pytest.raises(StoreError, match="nothing of it was kept"):
        with store.transaction(whole=True):
            add(store, first)
            with pytest.raises(Exception):
                add(store, make("Nvidia ships chips", guid="3", companies=("Nvidia",)),
                    broken)
    assert store.known_story_ids([first.id, story_id(FEED_A, "3", "")]) == set()
    assert store.search("Anthropic") == [] and store.stories_for_company("Nvidia") == []
    assert add(store, first) == [first]   # the store is usable, and savepoints are back
    with store.transaction():
        with pytest.raises(Exception):
            add(store, broken)
        add(store, make("Nvidia ships chips", guid="3", companies=("Nvidia",)))
    assert [b.headline for b in store.stories_for_company("Nvidia")] == ["Nvidia ships chips"]


def test_a_new_store_has_16k_pages_and_an_old_one_keeps_its_own(tmp_path):
    """Larger pages for new files (bench 2); a file made with SQLite's 4 KB pages opens,
    stores and finds as before."""
    with Store(tmp_path / "new.db") as new:
        assert new.db.execute("PRAGMA page_size").fetchone()[0] == 16384
        assert new.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 250
    old_path = tmp_path / "old.db"
    conn = sqlite3.connect(old_path)
    conn.execute("CREATE TABLE early (x)")   # written before ainews opened it
    conn.commit()
    conn.close()
    with Store(old_path) as old:
        assert old.db.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert old.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        story = make("Alibaba cuts Qwen API prices")
        assert add(old, story) == [story]
        assert [b.id for b in old.search("qwen")] == [story.id]


# clusters

def test_verbatim_headlines_without_companies_cluster_by_title_key(store):
    """Wire copy naming no company is found by its title key: stored before, written
    earlier in the same batch, or given by an edit earlier in the batch."""
    def wire(title: str, n: int, hours: float = 0) -> Story:
        return make(title, guid=f"w{n}", feed=FEED_B if n % 2 else FEED_A,
                    url=f"https://wire{n}.example/story", source=f"Outlet {n}", hours=hours,
                    companies=())
    stored = wire("Chip stocks slide as traders weigh new export rules", 1)
    add(store, stored)
    later = wire("Chip stocks slide as traders weigh new export rules", 2, hours=2)
    first = wire("Central banks signal slower rate cuts this year", 3, hours=1)
    again = wire("Central banks signal slower rate cuts this year", 5, hours=3)
    assert add(store, later, first, again) == [later, first, again]
    assert store.cluster_info(later.id)[0] == stored.id
    assert store.cluster_info(again.id)[0] == first.id
    edited = replace(wire("Shipping rates climb on longer routes around the cape", 7),
                     id=first.id, url=first.url, guid="w3", feed_url=FEED_B,
                     published=first.published)
    copy = wire("Shipping rates climb on longer routes around the cape", 9, hours=2)
    assert add(store, edited, copy) == [copy]
    assert store.cluster_info(copy.id)[0] == first.id


def test_also_reported_by_names_each_other_outlet_once(store):
    """"FT: ... also reported by FT, The Verge, The Verge" repeats what the post says."""
    both = ("Anthropic", "Amazon")
    lead = make("Anthropic raises $4bn from Amazon", companies=both, source="FT")
    more = [make("Anthropic secures fresh $4bn investment from Amazon", feed=FEED_B,
                 source="FT", hours=2, companies=both),
            make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                 source="The Verge", hours=6, companies=both),
            make("Amazon invests a further $4bn in Anthropic", feed=FEED_B,
                 source="The Verge", hours=7, companies=both)]
    add(store, lead)
    add(store, *more)
    assert {store.cluster_info(s.id)[1] for s in more} == {lead.id}
    assert store.cluster_info(lead.id) == (lead.id, lead.id, ["The Verge"])


def test_same_event_from_two_outlets_is_one_cluster(store):
    lead = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"),
                topics=("funding",), source="FT")
    follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                  source="The Verge", hours=6, companies=("Amazon", "Anthropic"),
                  topics=("funding",))
    third = make("Anthropic secures fresh $4bn investment from Amazon", feed=FEED_B,
                 source="Reuters", hours=8, companies=("Anthropic", "Amazon"))
    assert add(store, lead) == [lead]
    assert add(store, follow, third) == [follow, third], "new stories, in a known cluster"
    assert store.cluster_info(follow.id) == (lead.id, lead.id, ["The Verge", "Reuters"])
    assert store.cluster_info(lead.id) == (lead.id, lead.id, ["The Verge", "Reuters"])
    for briefs in (store.latest(), store.stories_for_company("Amazon"),
                   store.stories_for_topic("funding"), store.search("anthropic amazon")):
        assert [(b.id, b.also_reported_by) for b in briefs] == \
            [(lead.id, ("The Verge", "Reuters"))]
    topics, companies = store.counts_since(T0 - timedelta(days=1))
    assert companies == {"Amazon": 1, "Anthropic": 1}, "a cluster counts once"


@pytest.mark.parametrize("first,second", [
    (("Alibaba cuts Qwen API prices", ("Alibaba",)),
     ("Alibaba invests in Moonshot AI", ("Alibaba", "Moonshot AI"))),
    (("Nvidia to invest $5bn in Intel", ("Nvidia", "Intel")),
     ("Nvidia reports $5bn revenue from China", ("Nvidia",))),
])
def test_different_stories_about_one_company_do_not_merge(store, first, second):
    a = make(first[0], companies=first[1])
    b = make(second[0], feed=FEED_B, source="Outlet B", hours=3, companies=second[1])
    add(store, a, b)
    assert store.cluster_info(b.id) == (b.id, b.id, [])
    assert {x.id for x in store.stories_for_company(first[1][0])} == {a.id, b.id}


def test_same_event_days_apart_is_a_new_cluster(store):
    a = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"))
    b = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B, hours=24 * 5,
             companies=("Amazon", "Anthropic"))
    add(store, a, b)
    assert store.cluster_info(b.id)[1] == b.id


@pytest.mark.parametrize("hours,lead,first_ms", [
    (24, "first", 0), (26, "second", 0), (25, "second", 0), (25, "second", 600)],
    ids=["nearer-first", "nearer-second", "tie-newer", "tie-to-the-stored-second"])
def test_a_report_joins_the_nearest_matching_cluster(store, hours, lead, first_ms):
    """Two reports of one deal 50 h apart are two clusters; a third report between
    them joins the nearer in time (on a tie, the newer). Times count as stored, to the
    second, whether the earlier report was just written or read back."""
    pair = ("Anthropic", "Amazon")
    first = make("Anthropic raises $4bn from Amazon", companies=pair, guid="a")
    first = replace(first, published=first.published + timedelta(milliseconds=first_ms))
    second = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                  source="Outlet B", hours=50, companies=pair, guid="b")
    third = make("Anthropic secures fresh $4bn investment from Amazon", feed=FEED_B,
                 source="Reuters", hours=hours, companies=pair, guid="c")
    add(store, first, second, third, backlog=True)
    assert store.cluster_info(second.id)[1] == second.id
    expected = {"first": first, "second": second}[lead]
    assert store.cluster_info(third.id)[1] == expected.id


def test_a_failed_batch_leaves_the_next_one_clustered_right(store):
    add(store, make("Nvidia ships new chips", guid="0", companies=("Nvidia",)))
    lead = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"))
    broken = replace(make("Broken", guid="2"), published=None)
    with pytest.raises(Exception):
        add(store, lead, broken)
    follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                  source="The Verge", hours=6, companies=("Amazon", "Anthropic"))
    assert add(store, lead, follow) == [lead, follow]
    assert store.cluster_info(follow.id) == (lead.id, lead.id, ["The Verge"])
    assert [b.id for b in store.stories_for_company("Amazon")] == [lead.id]


# briefs

def test_brief_cache_by_content_hash_and_lookups_use_it(store):
    s = make("FT - China's Alibaba shifts towards revenue over open-source AI",
             companies=("Alibaba", "Tencent"), topics=("open-source",))
    add(store, s)
    brief = Brief(id=s.id, headline="China's Alibaba shifts towards revenue over open-source AI",
                  bullets=("a", "b", "c"), why_it_matters="Fewer free models.", url=s.url,
                  source="FT", published=s.published, companies=("Alibaba",))
    assert store.brief_for_hash(s.content_hash) is None
    store.save_brief(s.id, s.content_hash, brief)
    assert store.brief_for_hash(s.content_hash) == brief
    [found] = store.stories_for_company("Tencent")
    assert (found.headline, found.bullets, found.why_it_matters) == \
        (brief.headline, ("a", "b", "c"), "Fewer free models.")
    assert found.companies == ("Alibaba", "Tencent"), "the story's classification is current"


def test_lookup_without_brief_is_built_from_the_story(store):
    s = replace(make("Tencent opens Hunyuan weights", companies=("Tencent",)),
                subtitle="The model is free to download.")
    add(store, s)
    [b] = store.stories_for_company("Tencent")
    assert (b.headline, b.bullets, b.why_it_matters, b.dek, b.url, b.source) == \
        (s.title, (), "", s.subtitle, s.url, s.source)
    assert b.published == s.published


# lookups

@pytest.fixture
def news(store):
    stories = [
        make("Alibaba cuts Qwen API prices", hours=1, companies=("Alibaba",),
             topics=("pricing",)),
        make("Baidu open-sources Ernie 4.5", hours=2, companies=("Baidu",),
             topics=("open-source", "models")),
        make("Tencent and Alibaba battle over AI agents", hours=3,
             companies=("Tencent", "Alibaba"), topics=("china",)),
        make("Alibaba phone sales up in the holidays", hours=4, companies=("Alibaba",),
             topics=(), strategy=False),
        make("OpenAI cuts GPT prices for developers", hours=30, companies=("OpenAI",),
             topics=("pricing",)),
    ]
    add(store, *stories)
    return store, stories


def test_latest_is_newest_first_and_strategy_only_by_default(news):
    store, s = news
    assert [b.id for b in store.latest(3)] == [s[4].id, s[2].id, s[1].id]
    assert [b.id for b in store.latest(2, strategy_only=False)] == [s[4].id, s[3].id]
    assert [b.id for b in store.latest(topic="pricing")] == [s[4].id, s[0].id]


def test_company_and_topic_lookups(news):
    store, s = news
    assert [b.id for b in store.stories_for_company("Alibaba")] == \
        [s[3].id, s[2].id, s[0].id]
    assert [b.id for b in store.stories_for_company("Alibaba", 1)] == [s[3].id]
    assert store.stories_for_company("alibaba") == store.stories_for_company("Alibaba")
    assert [b.id for b in store.stories_for_topic("open-source")] == [s[1].id]
    assert store.stories_for_company("Nobody") == []


@pytest.mark.parametrize("query,expect", [
    ("qwen", [0]),
    ("QWEN prices", [0]),
    ("developers", [4]),
    ("alibaba qwen", [0]),
    ("qwe*", [0]),
    ("tencent nonexistentword", [2]),      # no story has both: any-word fallback
    ('alibaba "qwen', [0]),
    ('"qwen"', [0]),
    ("AND OR (", []),
    ("qwen OR", [0]),
    ("NOT qwen", []),                      # NOT leaves out, as -qwen (the command says so)
    ("ernie 4.5", [1]),
    ("open-source", [1]),
    ("price:cut", []),
    ("^qwen", [0]),
    ("*", []),
    ("", []),
    ("'); DROP TABLE stories; --", []),
    ("qw\x00en", []),
    ("qwen\x00", [0]),
    ("qwen " + "x " * 5000, [0]),          # long paste: deduplicated, capped
    ("x" * 60_000, []),                    # one huge word: no LIKE pattern too long
    ("50%_off", []),                       # LIKE's wildcards are text
    # -word leaves out the stories with it (it required the word, the opposite)
    ("alibaba -qwen", [3, 2]),
    ("prices -OpenAI", [0]),
    ("alibaba -qwen -agents", [3]),
    ("cuts -qwen -gpt", []),
    ("-qwen", []),                         # nothing to look for (the command says so)
    ("open-source", [1]),                  # a hyphen inside a word is no exclusion
])
def test_search_is_safe_and_ranked(news, query, expect):
    store, s = news
    assert [b.id for b in store.search(query)] == [s[i].id for i in expect]
    assert store.latest(1), "the table survives hostile queries"


@pytest.mark.parametrize("query, expect", [
    ("阿里巴巴", [0]),
    ("价格", [0]),                  # a two-character word inside an unspaced sentence
    ("降价", [1]),
    ("通义千问 价格", [0]),
    ("qwen 价格", [0]),             # mixed scripts: every word still required
    ("模型", [0, 1]),               # in the older story's headline: it ranks first
    ("腾讯 不存在的词", [1]),        # no story has both: any-word fallback
    ("字节跳动", []),
    ("模型 -降价", [0]),             # -word leaves out: here the newer story's headline
    ("阿里巴巴 -qwen", []),
])
def test_chinese_words_are_found_inside_unspaced_text(store, query, expect):
    # The index splits words at spaces and punctuation; Chinese has neither between words.
    s = add(store, make("阿里巴巴下调通义千问大模型价格", hours=1,
                        text="阿里云宣布通义千问（Qwen）主力模型的调用价格大幅下降。"),
            make("百度与腾讯跟进降价", hours=2, companies=("Baidu", "Tencent"),
                 text="百度文心一言与腾讯混元宣布部分模型免费。"))
    assert [b.id for b in store.search(query)] == [s[i].id for i in expect]
    # find() says which: a reader must be told when stories lack some of the words
    assert store.find(query).any_word == (query == "腾讯 不存在的词")


@pytest.mark.parametrize("query, expect", [
    ("降价", [1, 0]),               # newest first; simplified finds the Hong Kong outlet's 降價 too
    ("降價", [1, 0]),               # and the other way round
    ("腾讯 降价", [1]),
    ("騰訊", [1]),
    ("降价 -腾讯", [0]),             # -word leaves out either script
    ("降价 -騰訊", [0]),
])
def test_chinese_search_finds_simplified_and_traditional(store, query, expect):
    s = add(store, make("阿里云宣布通义千问降价", hours=1, text="阿里云宣布通义千问API降价。"),
            make("騰訊混元大模型宣佈降價", hours=2, companies=("Tencent",),
                 text="騰訊雲宣佈混元大模型全面降價。"))
    assert [b.id for b in store.search(query)] == [s[i].id for i in expect]


@pytest.mark.parametrize("query, expect", [
    ("H20", [0]),                   # a Latin word glued to Chinese on both sides
    ("h20", [0]),
    ("qwen3", [1]),
    ("Qwen3 API", [1]),             # every word, both inside the unspaced clause
    ("qwen3 降价", [1]),             # mixed scripts
    ("英伟达 h20", [0]),
    ("ai", [3, 2]),                 # a whole word: "AI芯片" and "OpenAI's AI", not "said"
    ("ai -h20", [3, 2]),
    ("api", [1]),                   # not inside "rapid" (story 2)
    ("qwen", []),                   # not inside "Qwen3": a longer Latin word
    ("h2", []),
    ("qwen3 -降价", []),             # -word exclusion: either script
    ("h20 -阿里云", [0]),
    ("h20 -nvidia", []),            # a Latin -word inside the Chinese text too
    ("ai -baidu", [3]),
    ("ai -rapid", [3]),             # an English -word through the index
])
def test_latin_words_are_found_inside_unspaced_text(store, query, expect):
    """FTS5 keeps an unspaced clause as one token with the Latin words glued to it:
    `search H20` missed "英伟达H20被要求…". Found as whole words, never inside a longer
    Latin word ("ai" is not in "said", "qwen" not in "Qwen3")."""
    s = add(store,
            make("英伟达H20被要求停止对华销售", hours=1, companies=("Nvidia",),
                 text="美国商务部通知英伟达（Nvidia）H20芯片需要许可证。"),
            make("阿里云宣布Qwen3 API降价", hours=2,
                 text="阿里云宣布通义千问Qwen3系列模型API价格下调。"),
            make("Analysts said the rollout was rapid", hours=3, companies=("Baidu",),
                 text="Baidu said its AI芯片 plans are on track."),
            make("OpenAI's AI chief leaves", hours=4, companies=("OpenAI",),
                 text="The chief scientist said he would start a company."))
    assert [b.id for b in store.search(query)] == [s[i].id for i in expect]


def test_search_prefers_title_matches_then_recency(store):
    in_text = make("Cloud outage hits services", hours=5, companies=("Alibaba",),
                   text="Customers say Qwen endpoints were slow.")
    in_title = make("Qwen endpoints now cheaper", hours=1, companies=("Alibaba",))
    older = make("Tencent trims Hunyuan prices", hours=0, companies=("Tencent",))
    newer = make("Baidu trims Ernie prices", hours=2, companies=("Baidu",))
    add(store, in_text, in_title, older, newer)
    assert [b.id for b in store.search("qwen")] == [in_title.id, in_text.id]
    assert [b.id for b in store.search("trims prices")] == [newer.id, older.id]


def test_counts_since(news):
    store, s = news
    topics, companies = store.counts_since(T0 + timedelta(hours=2))
    assert topics == {"china": 1, "models": 1, "open-source": 1, "pricing": 1}
    assert companies == {"Alibaba": 2, "Baidu": 1, "OpenAI": 1, "Tencent": 1}
    assert list(companies)[0] == "Alibaba", "most first"
    topics, _ = store.counts_since(T0 + timedelta(hours=2), strategy_only=True)
    assert topics["pricing"] == 1


def test_meta_round_trip(store):
    assert store.get_meta("imported_feeds", []) == []
    store.set_meta("imported_feeds", ["https://a.example/feed"])
    assert store.get_meta("imported_feeds") == ["https://a.example/feed"]


def test_stored_story_round_trips(store):
    s = replace(make("Alibaba cuts Qwen API prices", guid="g"), flags=("mention",),
                author="Jane", html="<p>x</p>", summary="Sum")
    add(store, s)
    got = store.get_story(s.id)
    assert got == replace(s, published=s.published.replace(microsecond=0))
    assert json.loads(store.db.execute("SELECT companies FROM stories").fetchone()[0]) == \
        ["Alibaba"]


def test_clustering_more_candidates_than_the_signature_cache_holds(store, monkeypatch):
    """A busy company on a busy day: more same-company stories in the window than the
    signature cache bound. Nothing may fail, and every story is stored."""
    import storage.clusters
    monkeypatch.setattr(storage.clusters, "SIGNATURE_CACHE", 5)
    stories = [make(f"Nvidia deal number {i} worth ${i + 2}bn with partner {i}",
                    guid=f"n{i}", companies=("Nvidia",)) for i in range(12)]
    assert len(add(store, *stories)) == 12


def test_a_commit_that_fails_leaves_the_store_usable(tmp_path, monkeypatch):
    """COMMIT itself can fail (a full disk when the pages reach the log; here a deferred
    check): that transaction is gone, yet the next writes are committed, another process
    can write, and the lost story is neither found nor a cluster candidate."""
    monkeypatch.setattr("storage.store.BUSY_TIMEOUT", 0.5)   # locked out: say so soon
    path = tmp_path / "ainews.db"
    lost = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"),
                source="FT")
    with Store(path) as store, Store(path) as other:
        with pytest.raises(sqlite3.IntegrityError):
            with store.transaction():
                add(store, lost)
                store.db.execute("PRAGMA defer_foreign_keys = ON")   # checked at COMMIT
                store.db.execute("INSERT INTO story_topics (story_pk, topic, published, "
                                 "is_lead, strategy) VALUES (99999, 'x', '', 0, 0)")
        follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                      source="The Verge", hours=6, companies=("Amazon", "Anthropic"))
        assert add(store, follow) == [follow]
        other.set_meta("other process", 1)          # not locked out
        assert other.known_story_ids([lost.id, follow.id]) == {follow.id}
        assert store.cluster_info(follow.id)[0] == follow.id
        assert [b.id for b in store.search("Anthropic")] == [follow.id]


@pytest.mark.parametrize("when", [
    datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc),
    datetime(2026, 3, 2, 1, 30, 59, 999999, tzinfo=timezone(timedelta(hours=8))),
    datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
    datetime(999, 1, 1, 12, 0, tzinfo=timezone.utc),     # years before 1000, as strftime
    datetime(1000, 1, 1, 0, 0, 1, tzinfo=timezone(timedelta(minutes=30))),
])
def test_stored_times_keep_their_form(when):
    """Stored times are compared as strings (windows, lookups, indexes): iso_utc writes
    them exactly as the store always has."""
    from feeds.models import iso_utc
    assert iso_utc(when) == when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_story_without_a_brief_is_listed_as_its_brief_would_be(store):
    """`ainews latest` listed a story that was never condensed (not strategy) with the
    outlet still glued to its title ("... | TechCrunch") under the feed's name."""
    add(store, make("Roots launches a screen time app | TechCrunch", source="TC Local",
                    strategy=False))
    [b] = store.latest(strategy_only=False)
    assert (b.headline, b.source) == ("Roots launches a screen time app", "TechCrunch")
