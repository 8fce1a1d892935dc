"""Poll scheduling: adaptive intervals after success, backoff and pause after failure."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from feeds.schedule import (PAUSE_AFTER, failure_delay, next_poll_after_failure,
                            next_poll_after_success, should_pause, success_interval)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def every(minutes: float, n: int = 10, newest_ago: float = 0.0) -> list[datetime]:
    """Entry dates `minutes` apart, the newest `newest_ago` minutes before NOW."""
    return [NOW - timedelta(minutes=newest_ago + i * minutes) for i in range(n)]


@pytest.mark.parametrize("base,times,expected", [
    (15, [], 15),                                   # nothing known: the base
    (15, every(5, n=1), 15),                        # one date is no rate
    (15, every(20, newest_ago=10), 10),             # half the typical gap
    (15, every(2, newest_ago=1), 7.5),              # busy: floor is base/2
    (15, every(6 * 60, newest_ago=30), 30),         # quiet: ceiling is 2 x base
    (15, every(10, newest_ago=120), 30),            # gone quiet for 2 h: slows down
    (15, every(10, newest_ago=40), 10),             # quiet 40 min: half of that, not more
    (15, every(20, newest_ago=10) + [NOW + timedelta(days=2)], 10),  # future date ignored
    (15, every(20, n=2, newest_ago=10) + [NOW + timedelta(days=2)], 10),
    (15, every(20, n=2), 10),                       # two dates (one just now) are a rate
    # Only the newest 20 entries count: a feed that turned busy is polled at its new
    # rate however long its archive of daily posts (11 busy entries of the newest 20).
    (15, every(10, n=11) + every(24 * 60, n=40, newest_ago=100 + 24 * 60), 7.5),
    # ...all 20 of them: 10 hourly entries after 11 ten-minute ones is still a busy feed.
    (15, every(60, n=10) + every(10, n=11, newest_ago=9 * 60 + 10), 7.5),
    # A quick follow-up post does not double an hourly feed's polls: the median gap counts.
    (15, [NOW - timedelta(minutes=1)] + every(60, n=15, newest_ago=11), 30),
    (1.5, every(0.5), 1.0),                         # never under a minute...
    (0.05, every(0.02), 0.05),                      # ...unless configured (tests)
    (120, every(24 * 60, newest_ago=60), 240),
])
def test_interval_adapts_to_publishing_rate(base, times, expected):
    assert success_interval(base, times, NOW) == pytest.approx(expected)


@pytest.mark.parametrize("base,times,ttl,max_age,expected", [
    (15, [], 30, None, 30),             # ttl is a minimum
    (15, [], None, 1800, 30),           # so is max-age (seconds)
    (40, [], 1440, None, 60),           # a day's ttl is capped at an hour
    (40, [], None, 86400, 60),
    (15, [], 5, 120, 15),               # shorter than the interval: no effect
    (5, [], 60, None, 10),              # never past the 2 x base ceiling
    (15, every(6 * 60), 45, None, 30),  # adaptive and ttl both stop at the ceiling
    (15, every(2, newest_ago=1), 10, None, 10),
])
def test_ttl_and_max_age_are_honoured_within_limits(base, times, ttl, max_age, expected):
    got = success_interval(base, times, NOW, ttl_minutes=ttl, max_age=max_age)
    assert got == pytest.approx(expected)


def test_next_poll_after_success_is_now_plus_interval():
    got = next_poll_after_success(NOW, 15, published_times=every(20, newest_ago=10),
                                  ttl_minutes=None, max_age=None)
    assert got == NOW + timedelta(minutes=10)


@pytest.mark.parametrize("failures,retry_after,expected_minutes", [
    (1, None, 30), (2, None, 60), (5, None, 480),
    (7, None, 24 * 60), (500, None, 24 * 60),        # capped at a day
    (1, 7200, 120),                                  # Retry-After longer: honoured
    (3, 60, 120),                                    # backoff longer: kept
    (1, 3 * 86400, 24 * 60),                         # Retry-After capped too
])
def test_backoff_after_failures(failures, retry_after, expected_minutes):
    assert failure_delay(15, failures, retry_after) == pytest.approx(expected_minutes)
    assert next_poll_after_failure(NOW, 15, failures, retry_after) == \
        NOW + timedelta(minutes=expected_minutes)


@pytest.mark.parametrize("failures,paused", [(0, False), (9, False), (10, True), (11, True)])
def test_feed_pauses_after_ten_consecutive_failures(failures, paused):
    assert PAUSE_AFTER == 10 and should_pause(failures) is paused


@pytest.mark.parametrize("previous,expected", [
    (None, 10.0),        # unknown: the base interval
    (15.0, 15.0),        # the rhythm the last full poll chose
    (500.0, 20.0),       # clamped to 2 x base
    (1.0, 5.0),          # and to base / 2
])
def test_unchanged_poll_keeps_the_previous_interval(previous, expected):
    from feeds.schedule import next_poll_after_unchanged
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    got = next_poll_after_unchanged(now, 10.0, previous)
    assert (got - now).total_seconds() / 60 == pytest.approx(expected)


@pytest.mark.parametrize("ttl,max_age", [(30, None), (None, 1800)], ids=["ttl", "max-age"])
def test_an_unchanged_poll_still_honours_what_the_feed_asked_for(ttl, max_age):
    """A feed that asks for 30 minutes between polls is not polled every 10 because
    the last full poll chose 10 and then nothing changed."""
    from feeds.schedule import next_poll_after_unchanged
    got = next_poll_after_unchanged(NOW, 15.0, 10.0, ttl_minutes=ttl, max_age=max_age)
    assert got == NOW + timedelta(minutes=30)
