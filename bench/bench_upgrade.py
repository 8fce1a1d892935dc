"""Upgrading a big, old store: how long the first open takes, how big the log grows,
and what the slim-row forgetting then costs.

    .venv/bin/python -m bench.bench_upgrade [--source bench/out/lookups-1000000.db]
        [--escaped 0.4] [--dir /tmp] [--kill-after 6]

Copies `--source` (bench_lookups' store; never written) into `--dir`, makes the copy
older than this code if it is not (drops migrations 16-18, 118 and 119: the link_key
column and index, feeds.listed, llm_calls, the nonce epoch, subscriptions.pause_keeps),
gives `--escaped` of its stories a link an older ainews stored as it came (a raw
Chinese path, or lower-case %-escapes), which migration 16 reads, and gives each feed
its stories name a row (listed NULL: not read since the upgrade, as after a real one).
Then, each timed:

- with `--kill-after S`, a first open killed (SIGKILL) S seconds in: the file must be
  at its old version, and the next open upgrade it whole;
- the first open (Store(path): the upgrade), the -wal's peak size sampled meanwhile;
- a second open (`ainews status`'s), and `ainews backup` of the upgraded file;
- the daily prune's forgetting (storage/slim_rows.py) before any feed is read (every
  story kept), and after every feed is read listing nothing, on `--slim` stories first
  seen over 400 days ago slimmed for it;
- every story's link_key checked against feeds/link_key.py.
"""
from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import command_line, report

ROOT = Path(__file__).resolve().parent.parent
DROP_NEW = """
DROP INDEX IF EXISTS stories_link_key;
ALTER TABLE stories DROP COLUMN link_key;
ALTER TABLE feeds DROP COLUMN listed;
DELETE FROM meta WHERE key = 'nonce_epoch';
DROP INDEX IF EXISTS llm_calls_kind_at;
DROP TABLE IF EXISTS llm_calls;
ALTER TABLE subscriptions DROP COLUMN pause_keeps;
DELETE FROM schema_migrations WHERE version IN (16, 17, 18, 118, 119);
"""
# Links an older ainews stored as its feeds wrote them: a raw Chinese path, lower-case
# escapes with an escaped unreserved ~ (each unique: stories_url is a unique index),
# spread over the file as an outlet's stories are among the others'.
ESCAPED = """
UPDATE stories SET url = CASE pk % 2
    WHEN 0 THEN 'https://www.example.cn/科技/阿里巴巴-' || pk || '.html'
    ELSE 'https://news.example.com/caf%c3%a9/' || pk || '/%7Ebob?q=a%20b' END
WHERE pk * 389 % 1000 < :per_mille   -- scattered, as feeds interleave
"""
FEEDS = """
INSERT OR IGNORE INTO feeds (url, name, added_at)
    SELECT DISTINCT feed_url, feed_url, '2023-01-01T00:00:00Z' FROM stories
"""


def copy_old(source: Path, dest: Path, escaped: float) -> None:
    """An old store at `dest` from `source`, which is only read."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dest}{suffix}").unlink(missing_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    with sqlite3.connect(dest) as out:
        src.backup(out)
    src.close()
    conn = sqlite3.connect(dest, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    if 16 in {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}:
        conn.executescript(DROP_NEW)
    conn.execute("BEGIN")
    conn.execute(ESCAPED, {"per_mille": int(escaped * 1000)})
    conn.execute(FEEDS)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT MAX(version) FROM schema_migrations "
                            "WHERE version < 100").fetchone()[0]
    finally:
        conn.close()


def killed_open(path: Path, seconds: float) -> dict:
    """An upgrade SIGKILLed midway, in a process of its own."""
    code = f"from storage.store import Store; Store({str(path)!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # at the old version if the kill came midway; give an S under the upgrade's time
    return {"killed_after_s": seconds, "version_after_kill": _version(path)}


def timed_open(path: Path) -> dict:
    """The first open (the upgrade), the -wal's peak size, then a second open."""
    from storage.store import Store
    wal, peak, done = Path(f"{path}-wal"), [0], threading.Event()

    def watch():
        while not done.wait(0.2):
            peak[0] = max(peak[0], wal.stat().st_size if wal.exists() else 0)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t = time.perf_counter()
    store = Store(path)
    upgrade = time.perf_counter() - t
    done.set()
    watcher.join()
    store.close()
    t = time.perf_counter()
    Store(path).close()
    return {"upgrade_s": round(upgrade, 1), "wal_peak_mb": round(peak[0] / 1e6),
            "version": _version(path), "second_open_s": round(time.perf_counter() - t, 2)}


def timed_backup(path: Path) -> dict:
    from bot.backup import backup
    target = path.with_name(path.name + ".backup")
    t = time.perf_counter()
    backup(path, target)
    took = time.perf_counter() - t
    target.unlink()
    return {"backup_s": round(took, 1)}


def timed_forgetting(path: Path, slim: int) -> dict:
    """The prune's slim-row forgetting, before and after every feed is read."""
    from feeds.models import iso_utc, utcnow
    from datetime import timedelta
    from storage.store import Store
    before = iso_utc(utcnow() - timedelta(days=400))
    with Store(path) as store:
        old = store.db.execute("SELECT COUNT(*) FROM stories WHERE first_seen < ?",
                               (before,)).fetchone()[0]
        with store._write():   # slimmed as the prune leaves them
            store.db.execute("UPDATE stories SET text = '', html = '', summary = '' WHERE pk "
                             "IN (SELECT pk FROM stories WHERE first_seen < ? ORDER BY pk "
                             "LIMIT ?)", (before, slim))
        t = time.perf_counter()
        unread = store._forget_slim_rows(before)
        unread_s = time.perf_counter() - t
        with store._write():
            store.db.execute("UPDATE feeds SET listed = '[]'")
        t = time.perf_counter()
        read = store._forget_slim_rows(before)
        read_s = time.perf_counter() - t
    return {"older_than_400_days": old, "slimmed": slim,
            "forgotten_feeds_unread": unread, "forget_unread_s": round(unread_s, 1),
            "forgotten_feeds_read": read, "forget_read_s": round(read_s, 1)}


def checked_keys(path: Path) -> dict:
    from feeds.link_key import link_key
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    wrong = sum(1 for url, key in conn.execute("SELECT url, link_key FROM stories")
                if (None if link_key(url) == url else link_key(url)) != key)
    keyed = conn.execute("SELECT COUNT(*) FROM stories WHERE link_key IS NOT NULL").fetchone()[0]
    conn.close()
    return {"link_keys": keyed, "link_keys_wrong": wrong}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", type=Path, default=ROOT / "bench/out/lookups-1000000.db")
    p.add_argument("--escaped", type=float, default=0.4)
    p.add_argument("--dir", type=Path, default=Path("/tmp"))
    p.add_argument("--kill-after", type=float, default=0)
    p.add_argument("--slim", type=int, default=100_000)
    args = p.parse_args(argv)
    path = args.dir / "bench-upgrade.db"
    t = time.perf_counter()
    copy_old(args.source, path, args.escaped)
    result = {"source": str(args.source), "escaped": args.escaped, "old_version": _version(path),
              "size_mb": round(path.stat().st_size / 1e6),
              "copy_s": round(time.perf_counter() - t, 1)}
    if args.kill_after:
        result |= killed_open(path, args.kill_after)
    result |= timed_open(path)
    result |= timed_backup(path)
    result |= checked_keys(path)
    result |= timed_forgetting(path, args.slim)
    report("upgrade of an old store", list(result.items()),
           command_line("upgrade", argv if argv is not None else sys.argv[1:]))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.sync()
    return 0


if __name__ == "__main__":
    sys.exit(main())
