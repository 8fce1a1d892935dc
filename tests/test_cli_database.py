"""`ainews` and its database: which commands create it, and a database that is
unwritable, read-only, locked, damaged, newer or a folder is one line."""
from __future__ import annotations

import pytest

from tests.cli_kit import run_cli, db_env


env = pytest.fixture(db_env, name="env")


def test_unwritable_database_is_one_line(env, capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, _, err = run_cli(capsys, "--db", str(blocker / "x.db"), "poll", "--once")
    assert code == 2 and err.startswith("ainews: store:") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("cmd", [["latest"], ["company", "qwen"], ["search", "pricing"],
                                 ["topic", "funding"], ["status"], ["topics"],
                                 ["feeds", "list"], ["feeds", "list", "--json"],
                                 ["feeds", "remove", "https://a.example/rss"],
                                 ["feeds", "resume", "all"]])
def test_a_lookup_on_a_mistyped_database_path_says_so(env, capsys, tmp_path, cmd):
    # It used to create an empty database there and answer "no stories yet" (`topics`,
    # `feeds list`: "no feeds yet", as if the archive were empty).
    code, out, err = run_cli(capsys, "--db", str(tmp_path / "ainew.db"), *cmd)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("ainews: cli: no database at ") and "ainew.db yet" in err
    # "(or `make run`)": a pip or Docker install has no Makefile.
    assert "run `ainews poll --once` (or `ainews run`) first" in err
    assert not (tmp_path / "ainew.db").exists()


def test_feeds_check_creates_no_database(env, capsys, tmp_path):
    """It fetches and parses a feed; nothing of it is stored, so no file appears."""
    code, _, err = run_cli(capsys, "--db", str(tmp_path / "none.db"), "feeds", "check",
                           "http://127.0.0.1:9/rss")
    assert code == 1 and "is no working feed" in err
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("cmd", [["poll", "--once"], ["run", "--once"]])
def test_commands_that_write_create_the_database(env, capsys, tmp_path, cmd):
    (tmp_path / "feeds.toml").write_text('[[feed]]\nname = "W"\nurl = "http://127.0.0.1:9/rss"\n')
    env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    code, _, _ = run_cli(capsys, "--db", str(tmp_path / "new.db"), *cmd)
    assert code == 0 and (tmp_path / "new.db").is_file()


@pytest.mark.parametrize("argv", [("poll", "--once"), ("run", "--once"),
                                  ("feeds", "remove", "https://down.example/rss")])
def test_read_only_database_is_one_line(env, capsys, tmp_path, argv):
    # A database the bot can read but not write (root-owned, a read-only mount)
    # ended these with a sqlite3 traceback at their first write.
    from feeds.models import FeedSource
    from storage.store import Store
    path = tmp_path / "ro.db"
    with Store(path) as store:
        store.upsert_feed(FeedSource("Down", "https://down.example/rss"))
    (tmp_path / "feeds.toml").write_text('[[feed]]\nname = "Down"\n'
                                         'url = "https://down.example/rss"\n')
    env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    code, _, err = run_cli(capsys, "--db", f"file:{path}?mode=ro", *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("ainews: store: cannot write") and "read-only" in err


@pytest.mark.parametrize("argv", [("run", "--once"),
                                  ("feeds", "remove", "https://down.example/rss")])
def test_a_locked_database_is_one_line(env, capsys, tmp_path, argv):
    # Another program holding the write lock (a sqlite3 shell mid-transaction) ended
    # these with a "database is locked" traceback once the busy timeout ran out.
    path, (code, _, err) = _run_on_locked_store(env, capsys, tmp_path, *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"ainews: store: {path} is locked")
    assert err.strip().endswith("(a sqlite3 shell in a transaction?); end it and try again")


def test_a_poll_on_a_locked_database_says_so_and_what_to_do(env, capsys, tmp_path):
    """`poll --once` on a store another program keeps locked: its feed (failing, no
    network here) is not charged, the pass says which store is locked and what to do."""
    path, (code, out, err) = _run_on_locked_store(env, capsys, tmp_path, "poll", "--once")
    assert code == 0 and "0 failed, 1 not stored (the store was locked" in out, out
    said = [line.split(" ", 1)[1] for line in err.strip().splitlines()]
    assert said == [f"WARNING poller: store: {path} is locked: another program has held its "
                    "write lock for over 0.2 s (a sqlite3 shell in a transaction?); the feeds "
                    "polled meanwhile were not stored nor counted as failing: end it and poll "
                    "again"], err
    from storage.store import Store
    with Store(path) as store:
        assert store.feed_states()[0].failures == 0


@pytest.mark.parametrize("argv", [("latest",), ("search", "phone")])
def test_a_damaged_database_is_one_line(env, capsys, tmp_path, argv):
    # Damage past the schema pages (a bad disk, a copy cut short) opened fine, then
    # every lookup ended in a sqlite3 traceback.
    import sqlite3
    from feeds.models import Story, utcnow
    from storage.store import Store
    path = tmp_path / "damaged.db"
    with Store(path) as store:
        store.add_new_stories([Story(f"s{i}", f"https://a.example/{i}", f"A phone review {i}",
                                     "Alibaba phones. " * 200, "A", "https://a.example/rss",
                                     utcnow()) for i in range(300)], backlog=False, now=utcnow())
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    start = len(data) // 3
    data[start:] = b"\x5a" * (len(data) - start)
    path.write_bytes(bytes(data))
    code, out, err = run_cli(capsys, "--db", str(path), *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"ainews: store: {path}") and "damaged" in err


def test_database_from_a_newer_ainews_is_one_line(env, capsys, tmp_path):
    import sqlite3
    from storage.store import Store
    path = tmp_path / "new.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'now')")
    code, _, err = run_cli(capsys, "--db", str(path), "latest")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "newer ainews" in err


@pytest.mark.parametrize("argv", [["status"], ["poll", "--once"]])
def test_a_database_path_that_is_a_folder_says_so(env, capsys, tmp_path, argv):
    # sqlite3 says only "unable to open database file".
    code, _, err = run_cli(capsys, "--db", str(tmp_path), *argv)
    assert code == 2 and "is a folder; give the path of a database file" in err


def _run_on_locked_store(env, capsys, tmp_path, *argv):
    """`ainews --db PATH argv` while another connection holds the write lock (a sqlite3
    shell mid-transaction), the busy timeout cut to 0.2 s: (PATH, (code, out, err))."""
    import sqlite3
    from feeds.models import FeedSource
    from storage.store import Store
    env.setattr("storage.store.BUSY_TIMEOUT", 0.2)
    path = tmp_path / "locked.db"
    with Store(path) as store:
        store.upsert_feed(FeedSource("Down", "https://down.example/rss"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        return path, run_cli(capsys, "--db", str(path), *argv)
    finally:
        holder.close()
