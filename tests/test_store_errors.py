"""Opening the Store: a path that cannot be opened, written or created, a locked
database and one from a newer ainews are each one line (StoreError); a full disk, an
I/O error or a damaged file mid-write are StoreUnusable, a lock is not."""
from __future__ import annotations

import sqlite3

import pytest

from storage.store import Store, StoreError, StoreUnusable
from tests.store_kit import add, fail_writes, make, sqlite_error


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
        assert not isinstance(err.value, StoreUnusable)    # the next try may succeed
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


@pytest.mark.parametrize("kind,words", [
    ("full", ["cannot write", "its disk is full", "free space on it", "already stored is kept"]),
    ("io", ["cannot use", "disk I/O error", "check its disk", "integrity_check"]),
    ("damaged", ["is damaged", "restore a backup", "sqlite3 FILE .recover"]),
])
def test_a_write_the_disk_or_file_refuses_is_one_line_and_keeps_what_was_stored(
        tmp_path, monkeypatch, kind, words):
    # sqlite3's "database or disk is full" reached `ainews run` as a bug (a traceback,
    # charged to the feed being polled): the operator's to fix, so StoreUnusable.
    path = tmp_path / "ainews.db"
    with Store(path) as store:
        add(store, make("Alibaba cuts Qwen prices"))
        fail_writes(monkeypatch, store, kind)
        with pytest.raises(StoreUnusable) as err:
            add(store, make("Baidu opens Ernie"))
        message = str(err.value)
        assert message.startswith("store: ") and str(path) in message and "\n" not in message
        assert all(w in message for w in words), message
        assert not store.db.conn.in_transaction
        assert str(store.unusable(sqlite_error(kind))) == message    # found by a read
    with Store(path) as store:
        assert [b.headline for b in store.latest(5)] == ["Alibaba cuts Qwen prices"]


def test_a_full_disk_mid_batch_rolls_the_batch_back(tmp_path):
    path = tmp_path / "ainews.db"
    with Store(path) as store:
        add(store, make("Alibaba cuts Qwen prices"))
        (pages,) = store.db.execute("PRAGMA page_count").fetchone()
        store.db.execute(f"PRAGMA max_page_count = {pages}")      # the disk is full
        with pytest.raises(StoreUnusable, match="its disk is full"):
            add(store, *(make(f"Story {i} " + "word " * 400) for i in range(200)))
        store.db.execute("PRAGMA max_page_count = 1000000")        # space freed
        assert len(store.latest(500)) == 1
        assert store.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        add(store, make("Baidu opens Ernie"))                       # writes work again
        assert len(store.latest(500)) == 2


@pytest.mark.parametrize("code, name, fatal", [
    (522, "SQLITE_IOERR_SHORT_READ", True),    # a truncated file
    (3850, "SQLITE_IOERR_LOCK", True),         # the lock call failed, not contention
    (4874, "SQLITE_IOERR_SHMSIZE", True),      # the -shm file could not grow: disk full
    (5, "SQLITE_BUSY", False),
    (517, "SQLITE_BUSY_SNAPSHOT", False),      # another writer came first: try again
    (261, "SQLITE_BUSY_RECOVERY", False),
])
def test_sqlites_extended_codes_are_read_by_their_primary_code(tmp_path, code, name, fatal):
    """Any disk I/O error stops the run (no retry of ours mends a failing disk); any
    busy or locked database is the next try's, whatever its extended code."""
    e = sqlite3.OperationalError("disk I/O error" if fatal else "database is locked")
    e.sqlite_errorcode, e.sqlite_errorname = code, name
    with Store(tmp_path / "ainews.db") as store:
        assert (store.unusable(e) is not None, store.busy(e) is not None) == (fatal, not fatal)


@pytest.mark.parametrize("setting", ["{tmp}/data/ainews.db", "file:{tmp}/data/ainews.db?mode=rwc",
                                     "file:{tmp}/data/ainews%20db?cache=private"])
def test_a_store_whose_file_is_removed_says_so_and_a_reopen_makes_none(tmp_path, setting):
    """A running bot's second connection (the daily prune's) made a new, empty database
    where `rm -rf data/` had removed the first one's file; SQLite said nothing."""
    import shutil
    with Store(setting.format(tmp=tmp_path)) as store:
        store.check_same_file()           # the file it opened: nothing to say
        with store.reopen() as apart:
            apart.check_same_file()
        shutil.rmtree(tmp_path / "data")
        for call in (store.check_same_file, store.reopen):
            with pytest.raises(StoreUnusable, match=r"^store: .* was removed while ainews "
                               r"ran.*`ainews restore FILE`"):
                call()
        with pytest.raises(StoreError):   # removed between the check and the open
            Store(store.path, only_existing=True)
    assert not (tmp_path / "data").exists()


def test_a_store_whose_file_is_replaced_says_so(tmp_path):
    import os
    with Store(tmp_path / "ainews.db") as store:
        Store(tmp_path / "restored.db").close()
        os.replace(tmp_path / "restored.db", tmp_path / "ainews.db")
        with pytest.raises(StoreUnusable, match="was replaced by another file while "
                           "ainews ran.*start ainews again"):
            store.reopen()


def test_a_store_in_memory_has_no_file_to_lose():
    with Store(":memory:") as store:
        store.check_same_file()
