"""A time budget for one read: SQLite stops its statements once it is spent.

A search runs on the bot's event loop (as every store call does), so while it runs no
other user's command is answered, no post sent, no feed polled. storage/query.py refuses
the searches known to cost too much; this stops the rest, whatever FTS5 makes of them.

    with time_budget(store.db.conn, 0.5):
        rows = conn.execute(...).fetchall()     # OverBudget once 0.5 s are spent
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

# SQLite calls the handler every this many virtual-machine instructions: ~50 µs of work
# apart, so it costs little and is asked often (FTS5 asks it only between the words a
# prefix expands to, so a budget may overrun by one such step).
CHECK_EVERY = 1000


class OverBudget(Exception):
    """The read ran past its time budget and SQLite stopped it; nothing is wrong."""


@contextmanager
def time_budget(conn: sqlite3.Connection, seconds: float) -> Iterator[None]:
    """Statements on `conn` inside stop after `seconds` (time.monotonic) with
    OverBudget. The caller holds the connection for the whole block (no other thread's
    write may run under the budget); the handler is removed on the way out, whatever
    happened. Another interruption (conn.interrupt()) stays the sqlite3 error it is."""
    deadline = time.monotonic() + seconds
    spent = False

    def check() -> bool:
        nonlocal spent
        spent = spent or time.monotonic() >= deadline
        return spent    # true: SQLite ends the statement with SQLITE_INTERRUPT

    conn.set_progress_handler(check, CHECK_EVERY)
    try:
        yield
    except sqlite3.OperationalError as e:
        if spent and getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT:
            raise OverBudget(f"stopped after {seconds:g} s") from None
        raise
    finally:
        conn.set_progress_handler(None, CHECK_EVERY)
