"""storage/budget.py: a read's time budget, and a signal arriving while it runs."""
from __future__ import annotations

import signal
import sqlite3

import pytest

from storage.budget import time_budget
from tests.store_kit import SLOW_SQL


def test_a_ctrl_c_during_a_budgeted_read_is_still_a_keyboard_interrupt():
    # The progress handler is Python: a signal's handler runs inside it, and sqlite3
    # swallows what a callback raises (it only ends the statement). Ctrl-C then came out
    # as sqlite3.OperationalError('interrupted'), the KeyboardInterrupt lost.
    conn = sqlite3.connect(":memory:")
    previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    try:
        with pytest.raises(KeyboardInterrupt):
            with time_budget(conn, 30):
                conn.execute(SLOW_SQL).fetchone()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
