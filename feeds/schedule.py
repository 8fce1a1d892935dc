"""When to poll a feed next. Pure functions: no I/O, no clock (pass `now`, aware UTC).

    next_poll_after_success(now, base_minutes, *, published_times=(), ttl_minutes=None,
                            max_age=None) -> datetime
    next_poll_after_unchanged(now, base_minutes, previous_minutes=None, *, ttl_minutes=None,
                              max_age=None) -> datetime     # a 304: keep the rhythm
    next_poll_after_failure(now, base_minutes, failures, retry_after=None) -> datetime
    should_pause(failures) -> bool            # failures >= PAUSE_AFTER
    is_due(next_poll, last_polled, now) -> bool     # polled_after_now counts as due
    success_interval(base_minutes, published_times, now, ...) -> float   # minutes
    failure_delay(base_minutes, failures, retry_after=None) -> float     # minutes

After a success (a 304 counts; pass no published_times then):
- Adaptive: the interval aims at half the feed's typical gap between entries (median
  of the recent gaps, raised to half the silence since the newest entry, so a feed
  that went quiet slows down and speeds up again once it publishes). Clamped to [floor, 2 x base] with floor =
  base/2 but not under 1 minute (unless base itself is under a minute, as in tests):
  busy feeds are polled at most twice as often as configured, quiet ones at least
  every 2 x base. Fewer than two usable dates means "unknown": the base interval.
- The feed's <ttl> (minutes) and Cache-Control max-age (seconds) are honoured as a
  minimum, but only up to HONOUR_CAP_MINUTES (60) and the 2 x base ceiling. Many CMSs
  emit ttl=1440 or a day's max-age by default, not as a considered request; obeying
  them would leave a news feed a day stale. An hour is polite enough for what is one
  small conditional GET, and the operator's configured base stays the authority.
After a failure (`failures` = consecutive failures including this one):
- base x 2^failures, capped at MAX_BACKOFF_MINUTES (24 h); a Retry-After (seconds) is
  honoured when longer, within the same cap (the feed pauses after PAUSE_AFTER
  failures anyway, so one request a day is the most a broken feed costs its server).
A last poll dated more than CLOCK_SLACK after now means the clock went back (NTP, a
restored VM snapshot, a database copied from a machine running fast): the next poll it
set is as far off as the step, hours or days, so the feed is due at once instead.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from statistics import median

PAUSE_AFTER = 10
MAX_BACKOFF_MINUTES = 24 * 60
HONOUR_CAP_MINUTES = 60.0
MIN_INTERVAL_MINUTES = 1.0
# Quiet feeds: at most 2 x base between polls. 4 x halved the polls but missed the
# freshness target (p95 7.8 min at a 2-minute base; bench/bench_freshness.py).
MAX_FACTOR = 2.0
RECENT_ENTRIES = 20       # gaps are taken from the newest entries only
# Clocks of one machine disagree by milliseconds, an NTP slew by seconds: a minute
# after now is a step back, not jitter.
CLOCK_SLACK = timedelta(minutes=1)


def should_pause(failures: int) -> bool:
    return failures >= PAUSE_AFTER


def polled_after_now(last_polled: datetime | None, now: datetime) -> bool:
    """The last poll is dated after now: the clock went back since."""
    return last_polled is not None and last_polled > now + CLOCK_SLACK


def is_due(next_poll: datetime | None, last_polled: datetime | None, now: datetime) -> bool:
    """Whether a feed (not paused) is due: never scheduled, past its next poll, or
    scheduled by a clock since set back."""
    return next_poll is None or next_poll <= now or polled_after_now(last_polled, now)


def failure_delay(base_minutes: float, failures: int,
                  retry_after: float | None = None) -> float:
    """Minutes to wait after `failures` consecutive failures."""
    exponent = min(max(failures, 0), 32)  # 2^32 x anything is past the cap already
    delay = min(base_minutes * 2 ** exponent, MAX_BACKOFF_MINUTES)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after / 60.0, MAX_BACKOFF_MINUTES))
    return delay


def next_poll_after_failure(now: datetime, base_minutes: float, failures: int,
                            retry_after: float | None = None) -> datetime:
    return now + timedelta(minutes=failure_delay(base_minutes, failures, retry_after))


def typical_gap_minutes(published_times: Iterable[datetime], now: datetime) -> float | None:
    """Median gap between the newest entries, raised to half the current silence.

    Future-dated entries (clock skew, scheduled posts) are ignored."""
    times = sorted({t for t in published_times if t is not None and t <= now},
                   reverse=True)[:RECENT_ENTRIES]
    if len(times) < 2:
        return None
    gaps = [(a - b).total_seconds() / 60 for a, b in zip(times, times[1:])]
    silence = (now - times[0]).total_seconds() / 60
    return max(median(gaps), silence / 2)


def success_interval(base_minutes: float, published_times: Iterable[datetime] = (),
                     now: datetime | None = None, *, ttl_minutes: float | None = None,
                     max_age: float | None = None) -> float:
    """Minutes until the next poll after a successful one."""
    floor, ceiling = _bounds(base_minutes)
    gap = typical_gap_minutes(published_times, now) if now is not None else None
    interval = base_minutes if gap is None else min(max(gap / 2, floor), ceiling)
    return max(interval, _asked(ttl_minutes, max_age, ceiling))


def _bounds(base_minutes: float) -> tuple[float, float]:
    # Never faster than once a minute, unless configured faster (tests use 0.05).
    floor = max(min(MIN_INTERVAL_MINUTES, base_minutes), base_minutes / 2)
    return floor, max(floor, base_minutes * MAX_FACTOR)


def next_poll_after_unchanged(now: datetime, base_minutes: float,
                              previous_minutes: float | None = None, *,
                              ttl_minutes: float | None = None,
                              max_age: float | None = None) -> datetime:
    """After a 304 or identical bytes: nothing new was learnt about the feed's rhythm,
    so keep the interval the last full poll chose (within the usual bounds) instead of
    falling back to the base, which would poll quiet feeds too often."""
    minutes = success_interval(base_minutes, ttl_minutes=ttl_minutes, max_age=max_age)
    if previous_minutes is not None:
        floor, ceiling = _bounds(base_minutes)
        asked = _asked(ttl_minutes, max_age, ceiling)
        minutes = max(min(max(previous_minutes, floor), ceiling), asked)
    return now + timedelta(minutes=minutes)


def _asked(ttl_minutes: float | None, max_age: float | None, ceiling: float) -> float:
    """The feed's own <ttl> / max-age as a minimum, within the cap (see above)."""
    asked = max(ttl_minutes or 0.0, (max_age or 0.0) / 60.0)
    return min(asked, HONOUR_CAP_MINUTES, ceiling)


def next_poll_after_success(now: datetime, base_minutes: float, *,
                            published_times: Iterable[datetime] = (),
                            ttl_minutes: float | None = None,
                            max_age: float | None = None) -> datetime:
    minutes = success_interval(base_minutes, published_times, now,
                               ttl_minutes=ttl_minutes, max_age=max_age)
    return now + timedelta(minutes=minutes)
