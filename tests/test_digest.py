"""Digest schedule: HH:MM in the channel's own time zone, bad input -> a clear error."""
from datetime import datetime, timedelta, timezone

import pytest

from bot.digest import (DigestError, digest_due, digest_title, last_scheduled,
                        next_scheduled, parse_schedule, zone_note)

UTC = timezone.utc


@pytest.mark.parametrize("at, tz, message", [
    ("25:00", "UTC", "not a time"),
    ("8.30", "UTC", "not a time"),
    ("", "UTC", "not a time"),
    ("08:30", "Mars/Olympus", "unknown time zone"),
    ("08:30", "../../etc/passwd", "unknown time zone"),
])
def test_bad_time_or_zone_says_what_to_type(at, tz, message):
    with pytest.raises(DigestError) as e:
        parse_schedule(at, tz)
    assert message in str(e.value)
    assert "e.g." in str(e.value) or "such as" in str(e.value)


@pytest.mark.parametrize("typed, meant", [
    ("Europe/Londn", "Europe/London"),        # a typo in a full name
    ("Europe/Lodnon", "Europe/London"),
    ("America/NewYork", "America/New_York"),
    ("Asia/Shangai", "Asia/Shanghai"),
    ("London", "Europe/London"),              # the city alone
    ("new york", "America/New_York"),
    ("Tokio", "Asia/Tokyo"),
    ("BST", "Europe/London"),                 # abbreviations that are no IANA name
    ("PST", "America/Los_Angeles"),
    ("Beijing", "Asia/Shanghai"),             # China's one zone is named for Shanghai
    ("Asia/Beijing", "Asia/Shanghai"),
])
def test_a_mistyped_or_informal_time_zone_gets_the_zone_meant(typed, meant):
    """It said only "unknown time zone 'Europe/Londn'; use an IANA name such as ...":
    no pointer to the zone the user plainly meant."""
    with pytest.raises(DigestError) as e:
        parse_schedule("09:00", typed)
    assert f"did you mean {meant}?" in str(e.value)
    assert "unknown time zone" in str(e.value)


@pytest.mark.parametrize("typed", ["UTC+0", "GMT-0:00", "utc+00:00", "+00:00"])
def test_a_zero_utc_offset_is_pointed_to_utc(typed):
    """"UTC+0" was answered "did you mean Europe/London or Europe/Dublin?", both an
    hour off UTC all summer, and UTC itself, what was typed, never offered."""
    with pytest.raises(DigestError) as e:
        parse_schedule("09:00", typed)
    assert "did you mean UTC?" in str(e.value), str(e.value)
    assert "Europe/" not in str(e.value)


@pytest.mark.parametrize("typed, place, fixed", [
    ("UTC+13", "Pacific/Auckland", "Etc/GMT-13"),    # New Zealand's summer
    ("UTC+12", "Pacific/Auckland", "Etc/GMT-12"),    # and its winter
    ("UTC+14", None, "Etc/GMT-14"),                  # Kiribati's Line Islands
    ("UTC-12", None, "Etc/GMT+12"),
    ("UTC-13", None, None),                          # no zone is that far behind
])
def test_an_offset_past_twelve_hours_gets_its_place_and_fixed_zone(typed, place, fixed):
    """UTC+13, New Zealand's summer time, got "an IANA name such as Europe/Berlin":
    Pacific/Auckland was no known place, and the fixed zones stopped at 12 hours
    (Etc/GMT-13 and Etc/GMT-14 exist)."""
    with pytest.raises(DigestError) as e:
        parse_schedule("09:00", typed)
    said = str(e.value)
    assert (f"did you mean {place}" in said) if place else ("did you mean" not in said), said
    assert (f"or {fixed} for that offset all year" in said) if fixed else \
        ("Etc/" not in said), said


@pytest.mark.parametrize("typed", ["Mars/Olympus", "xyz"])
def test_a_time_zone_like_no_other_gets_no_guess(typed):
    with pytest.raises(DigestError) as e:
        parse_schedule("09:00", typed)
    assert "did you mean" not in str(e.value) and "Asia/Shanghai" in str(e.value)


@pytest.mark.parametrize("typed", ["europe/london", "EUROPE/LONDON", " Europe/london "])
def test_a_time_zone_typed_in_another_case_is_understood(typed):
    # Zone names are case-sensitive files on Linux: "europe/london" was refused as
    # unknown, though the error's own example spells the same zone.
    assert parse_schedule("08:30", typed).tz_name == "Europe/London"


@pytest.mark.parametrize("typed, meant", [
    ("8:30 pm", "20:30"), ("8:30pm", "20:30"), ("8pm", "20:00"), ("08:30 PM", "20:30"),
    ("8:30 p.m.", "20:30"), ("8:30 am", "08:30"), ("12 am", "00:00"), ("12:15 am", "00:15"),
    ("12 pm", "12:00"), ("12:45 PM", "12:45"),
])
def test_a_twelve_hour_time_is_the_24_hour_time_it_names(typed, meant):
    """"8:30 pm" was "not a time; use 24-hour HH:MM", and typed as words its "pm" was
    read as the zone: the user who dropped it, as told, got 08:30."""
    assert parse_schedule(typed, "UTC").at_text == meant


@pytest.mark.parametrize("typed", ["13:00 pm", "0:30 am", "8:30 xm", "pm"])
def test_a_twelve_hour_time_out_of_range_is_no_time(typed):
    with pytest.raises(DigestError, match="is not a time"):
        parse_schedule(typed, "UTC")


def test_schedule_is_local_time_of_the_zone():
    s = parse_schedule("8:30", "Asia/Shanghai")          # UTC+8: 00:30 UTC
    assert s.at_text == "08:30" and s.tz_name == "Asia/Shanghai"
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)        # 09:00 in Shanghai
    assert last_scheduled(s, now) == datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
    assert next_scheduled(s, now) == datetime(2026, 3, 3, 0, 30, tzinfo=UTC)


def test_local_day_differs_from_the_utc_day():
    s = parse_schedule("20:00", "America/New_York")      # 01:00 UTC the next day
    now = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)       # 19:30 on the 2nd in New York
    assert last_scheduled(s, now) == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert next_scheduled(s, now) == datetime(2026, 3, 3, 1, 0, tzinfo=UTC)


def test_daylight_saving_keeps_local_time():
    s = parse_schedule("08:00", "Europe/Berlin")
    winter = next_scheduled(s, datetime(2026, 3, 1, 12, tzinfo=UTC))
    summer = next_scheduled(s, datetime(2026, 4, 1, 12, tzinfo=UTC))
    assert (winter.hour, summer.hour) == (7, 6)


@pytest.mark.parametrize("last_run, now, due", [
    (datetime(2026, 3, 2, 7, 0), datetime(2026, 3, 2, 8, 29), False),   # not yet
    (datetime(2026, 3, 2, 7, 0), datetime(2026, 3, 2, 8, 30), True),    # on time
    (datetime(2026, 3, 2, 8, 31), datetime(2026, 3, 2, 12, 0), False),  # done today
    (datetime(2026, 2, 27, 9, 0), datetime(2026, 3, 2, 12, 0), True),   # missed days: once
])
def test_digest_due(last_run, now, due):
    s = parse_schedule("08:30", "UTC")
    assert digest_due(s, last_run.replace(tzinfo=UTC), now.replace(tzinfo=UTC)) is due


def test_title_names_the_local_day():
    s = parse_schedule("07:00", "America/New_York")
    # 03:00 UTC on the 3rd is still the 2nd in New York
    assert "02 Mar 2026" in digest_title(s, datetime(2026, 3, 3, 3, 0, tzinfo=UTC))



def _digests_sent(s, start: datetime, hours: int) -> list[datetime]:
    """Delivery looks every 5 minutes; a due digest goes out and its run is recorded."""
    last_run, sent = start, []
    for step in range(1, hours * 12 + 1):
        now = start + timedelta(minutes=5 * step)
        if digest_due(s, last_run, now):
            sent.append(now)
            last_run = now
    return sent


@pytest.mark.parametrize("tz, day, expected", [
    # 02:30 does not exist on spring-forward day: one digest, at 03:30 local.
    ("Europe/Berlin", datetime(2026, 3, 29), datetime(2026, 3, 29, 1, 30)),
    ("America/New_York", datetime(2026, 3, 8), datetime(2026, 3, 8, 7, 30)),
    # 02:30 happens twice on Berlin's fall-back day: one digest, at the first.
    ("Europe/Berlin", datetime(2026, 10, 25), datetime(2026, 10, 25, 0, 30)),
    ("America/New_York", datetime(2026, 11, 1), datetime(2026, 11, 1, 7, 30)),
])
def test_daylight_saving_day_gives_exactly_one_digest(tz, day, expected):
    s = parse_schedule("02:30", tz)
    sent = _digests_sent(s, day.replace(tzinfo=UTC) - timedelta(hours=2), 14)
    assert sent == [expected.replace(tzinfo=UTC)]


@pytest.mark.parametrize("now", [datetime(2026, 3, 29, 1, 10), datetime(2026, 3, 29, 1, 29),
                                 datetime(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 12, 0)])
def test_a_digest_time_in_a_gap_over_midnight_is_never_to_come_nor_past(now):
    """America/Nuuk springs forward at 01:00 UTC on 29 Mar 2026, from 23:00 on the 28th
    straight to 00:00 on the 29th: 23:30 on the 28th lands at 01:30 UTC (00:30 on the
    29th). Between 00:00 and 00:30 local, "the most recent digest time at or before now"
    was that time still to come, and the next digest time a day too late."""
    s, now = parse_schedule("23:30", "America/Nuuk"), now.replace(tzinfo=UTC)
    gap_night = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert last_scheduled(s, now) <= now < next_scheduled(s, now)
    assert gap_night in (last_scheduled(s, now), next_scheduled(s, now))


def test_a_digest_time_in_a_gap_over_midnight_is_one_digest():
    s = parse_schedule("23:30", "America/Nuuk")
    sent = _digests_sent(s, datetime(2026, 3, 28, 12, 0, tzinfo=UTC), 16)
    assert sent == [datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]


def test_an_etc_zone_one_hour_off_says_one_hour():
    """Etc/GMT+1's note read "UTC-1, 1 hours behind UTC"."""
    assert zone_note("Etc/GMT+1").startswith("Etc/GMT+1 is UTC-1, 1 hour behind UTC")
    assert zone_note("Etc/GMT-3").startswith("Etc/GMT-3 is UTC+3, 3 hours ahead of UTC")
