"""The Store's write transactions: one BEGIN IMMEDIATE per outermost write, nested writes
in savepoints (or, in a `whole` transaction, in none), `durable` commits synced against
power cuts. A mixin of storage.store.Store, which takes the write lock (_begin_immediate)
and holds the connection, the lock and the caches a rollback must forget."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from storage.store_errors import StoreError, unusable


class Transactions:
    @contextmanager
    def _write(self, whole: bool = False, durable: bool = False) -> Iterator[None]:
        """One write transaction (nested calls join the outer one, in a savepoint, or
        with `whole` in none: see transaction). BEGIN IMMEDIATE takes the write lock up
        front, so a concurrent writer waits for the busy timeout instead of failing
        halfway through. durable: see _synced."""
        with self._lock:
            if self.db.conn.in_transaction:
                yield from (self._joined() if self._whole else self._nested())
                return
            with self._synced(durable):
                yield from self._outermost(whole)

    @contextmanager
    def _synced(self, durable: bool) -> Iterator[None]:
        """With `durable`, a commit that survives a power cut, not only a killed
        process: in WAL, synchronous=NORMAL syncs the log at checkpoints only, so a
        power cut can take back every commit since the last one. For the writes that
        precede something the database cannot take back (a post claimed before it goes
        out); the rest keep NORMAL's speed."""
        if not (durable and self._wal):
            yield
            return
        self.db.conn.execute("PRAGMA synchronous = FULL")
        try:
            yield
        finally:
            self.db.conn.execute("PRAGMA synchronous = NORMAL")

    def _outermost(self, whole: bool) -> Iterator[None]:
        """The outermost transaction: committed at the end, rolled back on an error."""
        self._begin_immediate()
        self._own_transaction, self._whole, self._failed = True, whole, False
        try:
            yield
            if self._failed:   # a write inside failed and its error was caught
                raise StoreError(f"store: a write to {self.path} failed inside a "
                                 "transaction; nothing of it was kept")
            self._index_waiting()
            # In here: a COMMIT that fails (a full disk) may leave the transaction
            # open, and every later write would join it, never to be committed.
            self.db.conn.execute("COMMIT")
        except BaseException as e:
            self._forget_stories()   # rolled-back rows' pks will be reused
            self._search_rows.clear()
            if self.db.conn.in_transaction:
                self.db.conn.execute("ROLLBACK")
            # Read-only, a full disk, an I/O error, a damaged file: the operator's to
            # fix, one line and no traceback; SQLite has rolled the writes back.
            if (halt := unusable(self.path, e)) is not None and halt is not e:
                raise halt from None
            raise
        finally:
            self._own_transaction = self._whole = False

    def _joined(self) -> Iterator[None]:
        """A write inside a `whole` transaction: no savepoint of its own; should it fail,
        the whole transaction rolls back, even if the caller catches the error."""
        try:
            yield
        except BaseException:
            self._failed = True
            raise

    def _nested(self) -> Iterator[None]:
        waiting = dict(self._search_rows)   # a rolled-back savepoint's rows go, not these
        try:
            with self.db.atomic():
                yield
        except BaseException:
            self._forget_stories()
            self._search_rows = waiting
            raise

    def _forget_stories(self) -> None:
        self._signatures.clear()
        self._unsigned.clear()
        self._company_days.clear()

    def transaction(self, *, whole: bool = False):
        """Several writes as one transaction: the store's own writes inside join it, and
        it commits at the end (or rolls back on an error). Only around synchronous code:
        held across an await, it would hold other writers' commits back. Stories added
        inside are found by search once it commits (they are indexed then).
        Each write inside is a savepoint, so one whose error is caught is undone alone
        and the rest commit. whole=True is all or nothing instead: no savepoints (each
        copies the pages its write changes, ~8% of a backfill's store time), and if any
        write inside fails, nothing commits (StoreError if its error was caught).
        `whole` is the outermost transaction's: a transaction nested in another joins
        that one as it is."""
        return self._write(whole)
