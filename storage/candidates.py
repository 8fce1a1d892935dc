"""Cluster candidates by company, answered from memory.

A new story is compared with the newest reports naming one of its companies within
feeds.cluster.WINDOW of it. Asked of SQLite that was ~3 queries a story, a sixth of a
backfill's store time; `CompanyDays` answers the same question from the company rows of
the days it has loaded, with exactly the rows and order of

    SELECT story_pk FROM story_companies WHERE company = ? AND published BETWEEN ? AND ?
    AND story_pk != ? ORDER BY published DESC, story_pk DESC LIMIT ?

(company compared as SQLite's NOCASE does: ASCII letters folded). It is right only while
every change to story_companies goes through it: StoryStore adds each new story's rows,
and the Store forgets everything on a rollback, an edit or another connection's commit
(PRAGMA data_version).
"""
from __future__ import annotations

import sqlite3
from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

# Company rows kept (~14 MB), whole days, the first loaded dropped first past it: bounded
# by rows, not days, so a dense store (10,000 rows a day) can't fill ~90 MB with 64 days,
# and feeds whose backlogs span months don't reload their sparse days over and over.
MAX_ROWS = 100_000
_ONE_DAY = timedelta(days=1)
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(company: str) -> str:
    """The company as SQLite's NOCASE collation compares it (ASCII letters only)."""
    return company.translate(_ASCII_FOLD)


class _Rows:
    """One company's rows of one day in index order, (published, pk) ascending: two
    lists, so a window is two bisects and a slice, all in C."""
    __slots__ = ("times", "pks")

    def __init__(self):
        self.times: list[str] = []
        self.pks: list[int] = []

    def insert(self, published: str, pk: int) -> None:
        lo, hi = bisect_left(self.times, published), bisect_right(self.times, published)
        at = lo + bisect_right(self.pks[lo:hi], pk)   # ties in pk order
        self.times.insert(at, published)
        self.pks.insert(at, pk)

    def newest(self, lo: str, hi: str, limit: int) -> list[int]:
        """The newest `limit` pks published within lo..hi, newest first."""
        end = bisect_right(self.times, hi)
        start = max(bisect_left(self.times, lo), end - limit)
        return self.pks[start:end][::-1]


Day = dict[str, _Rows]   # folded company -> its rows


class CompanyDays:
    """story_companies rows by day (the published date) and folded company."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn
        self._days: dict[str, Day] = {}   # first loaded first
        self._rows = 0                    # rows in _days

    def clear(self) -> None:
        self._days.clear()
        self._rows = 0

    def newest(self, company: str, days: tuple[str, ...], lo: str, hi: str,
               exclude: int, limit: int) -> list[int]:
        """The pks the SELECT above returns for the window lo..hi (stored time strings),
        whose days (`window`) are `days`."""
        key, found = fold(company), []
        for day in reversed(days):   # newest day first
            rows = self._day(day).get(key)
            if rows:
                found += rows.newest(lo, hi, limit + 1)   # + 1: `exclude` may be one
                if len(found) > limit:
                    break
        if exclude in found:
            found.remove(exclude)   # once: a story names a company once
        self._trim(days)
        return found[:limit]

    def add(self, pk: int, published: str, companies) -> None:
        """A story's company rows, just written (INSERT OR IGNORE: a name once)."""
        day = self._days.get(published[:10])
        if day is None:
            return   # not loaded: a later load reads the rows from the table
        for key in dict.fromkeys(map(fold, companies)):
            rows = day.get(key)
            if rows is None:
                rows = day[key] = _Rows()
            rows.insert(published, pk)
            self._rows += 1

    @staticmethod
    def window(lo: datetime, hi: datetime) -> tuple[str, ...] | None:
        """The days (YYYY-MM-DD) from lo to hi; None when a stored time of them would
        not begin with its day (strftime wrote years before 1000 with fewer digits) or
        the day after the last has no date (9999-12-31): the caller queries instead."""
        # UTC days, as the times are stored (feeds.models.iso_utc): a +08:00 time's own
        # date would leave out the first hours of the window.
        lo, hi = lo.astimezone(timezone.utc), hi.astimezone(timezone.utc)
        if not (1000 <= lo.year and hi.date() < date.max):
            return None
        return _days(lo.date(), hi.date())

    def _day(self, day: str) -> Day:
        rows = self._days.get(day)
        if rows is None:
            rows = self._days[day] = self._load(day)
            self._rows += _count(rows)
        return rows

    def _trim(self, in_use: tuple[str, ...]) -> None:
        """Past MAX_ROWS, drop the first loaded days, but not the window in use (at most
        five days): the next story most likely needs them, and dropped they would be
        read again for every story of a busy week."""
        if self._rows <= MAX_ROWS:
            return
        for day in [d for d in self._days if d not in in_use]:
            self._rows -= _count(self._days.pop(day))
            if self._rows <= MAX_ROWS:
                return

    def _load(self, day: str) -> Day:
        following = (date.fromisoformat(day) + _ONE_DAY).isoformat()
        loaded: dict[str, list[tuple[str, int]]] = {}
        for company, published, pk in self._conn.execute(
                "SELECT company, published, story_pk FROM story_companies "
                "WHERE published >= ? AND published < ?", (day, following)):
            loaded.setdefault(fold(company), []).append((published, pk))
        return {key: _sorted_rows(pairs) for key, pairs in loaded.items()}


def _count(day: Day) -> int:
    return sum(len(rows.pks) for rows in day.values())


def _sorted_rows(pairs: list[tuple[str, int]]) -> _Rows:
    pairs.sort()
    rows = _Rows()
    rows.times = [published for published, _pk in pairs]
    rows.pks = [pk for _published, pk in pairs]
    return rows


@lru_cache(maxsize=1024)   # a backfill's stories fall on the same few days
def _days(first: date, last: date) -> tuple[str, ...]:
    return tuple((first + i * _ONE_DAY).isoformat() for i in range((last - first).days + 1))
