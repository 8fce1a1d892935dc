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


class _Progress:
    """SQLite's progress handler for one budget: `step` says whether to stop.

    It is Python that SQLite calls mid-statement, so a signal's handler (Ctrl-C's
    KeyboardInterrupt, the CLI's SIGTERM) runs and raises inside it, and sqlite3 swallows
    what a callback raises: the statement just ended "interrupted" and the stop was lost.
    Python runs pending signal handlers on entering a function, before any `try` in it;
    `step` resumes a generator instead, at a `yield` inside its `try`, so what a signal
    raises there is kept (`raised`) and the statement stopped."""

    def __init__(self, deadline: float):
        self.deadline, self.spent = deadline, False
        self.raised: BaseException | None = None
        steps = self._steps()
        next(steps)     # started here: SQLite only ever resumes it inside the try
        self.step = steps.__next__

    def _steps(self) -> Iterator[bool]:
        while True:
            try:
                self.spent = self.spent or time.monotonic() >= self.deadline
                yield self.spent or self.raised is not None
            except GeneratorExit:
                raise
            except BaseException as e:
                self.raised = self.raised or e


@contextmanager
def time_budget(conn: sqlite3.Connection, seconds: float) -> Iterator[None]:
    """Statements on `conn` inside stop after `seconds` (time.monotonic) with
    OverBudget. The caller holds the connection for the whole block (no other thread's
    write may run under the budget); the handler is removed on the way out, whatever
    happened. A signal's exception raised mid-statement comes out as itself (Ctrl-C a
    KeyboardInterrupt); another interruption (conn.interrupt()) stays the sqlite3 error
    it is."""
    progress = _Progress(time.monotonic() + seconds)
    conn.set_progress_handler(progress.step, CHECK_EVERY)
    try:
        yield
    except sqlite3.OperationalError as e:
        if progress.raised is not None:
            raise progress.raised from None
        if progress.spent and getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT:
            raise OverBudget(f"stopped after {seconds:g} s") from None
        raise
    finally:
        conn.set_progress_handler(None, CHECK_EVERY)
    if progress.raised is not None:     # the block caught the interruption itself
        raise progress.raised
