"""Daily digest schedule: parse "HH:MM" and an IANA time zone, and say when one is due.

A channel in digest mode gets one roundup a day at its local time instead of instant
posts; the same roundup also carries stories that went over the hourly cap."""
from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.examples import did_you_mean
from feeds.models import Brief
from feeds.plural import count

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# "8:30 pm", "8pm", "12 a.m.": how many people write a time; read as the 24-hour time.
_12H = re.compile(r"^(1[0-2]|0?[1-9])(?::([0-5]\d))?\s*([ap])\.?\s*m\.?$", re.IGNORECASE)
_MERIDIEM = re.compile(r"^[ap]\.?m\.?$", re.IGNORECASE)


class DigestError(ValueError):
    """A bad digest time or time zone; str() says what to type instead."""


@dataclass(frozen=True, slots=True)
class Schedule:
    at: time
    tz: ZoneInfo

    @property
    def at_text(self) -> str:
        return self.at.strftime("%H:%M")

    @property
    def tz_name(self) -> str:
        return self.tz.key


def parse_schedule(at_text: str, tz_name: str = "UTC") -> Schedule:
    at = _clock_time((at_text or "").strip())
    if at is None:
        # No command example here: the chat core adds one, spelled per platform.
        raise DigestError(f"digest: {_shown(at_text or '')!r} is not a time; use HH:MM "
                          "such as 08:30 or 20:30 (8:30 pm works too)")
    return Schedule(at, parse_tz(tz_name))


def _clock_time(text: str) -> time | None:
    if m := _HHMM.match(text):
        return time(int(m.group(1)), int(m.group(2)))
    if m := _12H.match(text):       # 12 am is midnight, 12 pm noon
        evening = 12 if m.group(3).lower() == "p" else 0
        return time(int(m.group(1)) % 12 + evening, int(m.group(2) or 0))
    return None


def with_meridiem(at: str, tz: str | None) -> tuple[str, str | None]:
    """`8:30 pm Europe/London` typed as words: the "pm" is the time's, not the zone's
    (read as the zone, "did you mean Europe/London?" led to a digest at 08:30)."""
    first, _, rest = (tz or "").partition(" ")
    if at and _MERIDIEM.match(first):
        return f"{at} {first}", rest.strip() or None
    return at, tz


def _shown(typed: str) -> str:
    """What a user typed as a reply quotes it: at most 60 characters, so a long value
    can't push the example after it past the platform's limit, where the cut ended
    inside its inline code."""
    return typed if len(typed) <= 60 else typed[:59] + "…"


def parse_tz(name: str) -> ZoneInfo:
    name = (name or "UTC").strip()
    if name.upper() == "UTC":
        name = "UTC"
    try:
        if ".." in name or name.startswith("/"):
            raise ValueError(name)      # ZoneInfo would read paths; names only
        names = _zone_names()    # "America/New York" is America/New_York
        return ZoneInfo(names.get(name.casefold(), names.get(
            "_".join(name.casefold().split()), name)))
    # OSError: ZoneInfo opens the name as a file, and a region ("Europe": a directory)
    # or a long name (too long for a file name) raised it past this to the user.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        shown = _shown(name)
        offset = _OFFSET.match(name.strip().casefold())
        if offset and int(offset.group(2)) <= 14:
            raise DigestError(_offset_advice(shown, *offset.groups())) from None
        advice = did_you_mean(" or ".join(suggest_zones(name)), (
            "use an IANA name such as UTC, Europe/London, America/New_York or Asia/Shanghai",))
        raise DigestError(f"digest: unknown time zone {shown!r}; {''.join(advice)}") from None


# "UTC+8", "GMT+8", "+08:00": how many people give their zone, China's "UTC+8" above all.
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?([0-5]\d))?$")


def _offset_advice(shown: str, sign: str, hours: str, minutes: str | None) -> str:
    """A UTC offset typed for a zone: the well-known places at that offset, and the Etc/
    zone for a fixed one. ("GMT+8" was answered "did you mean GMT+0?", 8 hours off.)"""
    total = (int(hours) * 60 + int(minutes or 0)) * (1 if sign == "+" else -1)
    if total == 0:      # UTC itself: London and Dublin are an hour off it all summer
        return f"digest: {shown!r} is a UTC offset, not a time zone (did you mean UTC?)"
    places = [z for z in _PLACES if any(
        ZoneInfo(z).utcoffset(datetime(2025, month, 15)) == timedelta(minutes=total)
        for month in (1, 7))][:2]
    said = f"digest: {shown!r} is a UTC offset, not a time zone; give your place's zone"
    said += f" (did you mean {' or '.join(places)}?)" if places else \
        " (an IANA name such as Europe/Berlin)"
    fixed = f"Etc/GMT{'-' if total > 0 else '+'}{abs(total) // 60}"
    if total % 60 == 0 and -12 * 60 <= total <= 14 * 60:    # Etc/GMT+12 to Etc/GMT-14
        said += f", or {fixed} for that offset all year (Etc/ names count the other way)"
    return said


# What people type for a zone that is no IANA name: abbreviations and capitals.
_ALIASES = {
    "bst": ("Europe/London",), "ist": ("Asia/Kolkata", "Europe/Dublin"),
    "cest": ("Europe/Berlin", "Europe/Paris"), "pst": ("America/Los_Angeles",),
    "pdt": ("America/Los_Angeles",), "edt": ("America/New_York",),
    "cdt": ("America/Chicago",), "mdt": ("America/Denver",),
    "cst": ("America/Chicago", "Asia/Shanghai"), "jst": ("Asia/Tokyo",),
    "kst": ("Asia/Seoul",), "hkt": ("Asia/Hong_Kong",), "sgt": ("Asia/Singapore",),
    "aest": ("Australia/Sydney",), "aedt": ("Australia/Sydney",),
    "beijing": ("Asia/Shanghai",), "china": ("Asia/Shanghai",), "peking": ("Asia/Shanghai",),
    "asia/beijing": ("Asia/Shanghai",), "shenzhen": ("Asia/Shanghai",),
    "hangzhou": ("Asia/Shanghai",), "san francisco": ("America/Los_Angeles",),
    "seattle": ("America/Los_Angeles",), "boston": ("America/New_York",),
    "washington": ("America/New_York",), "delhi": ("Asia/Kolkata",),
    "mumbai": ("Asia/Kolkata",), "bangalore": ("Asia/Kolkata",),
    "nzst": ("Pacific/Auckland",), "nzdt": ("Pacific/Auckland",),
    "new zealand": ("Pacific/Auckland",), "wellington": ("Pacific/Auckland",),
}


# Well-known places' zones, which a UTC offset is matched against.
_PLACES = list(dict.fromkeys(z for zones in _ALIASES.values() for z in zones))


def suggest_zones(typed: str, n: int = 2) -> list[str]:
    """IANA names for a mistyped or informal zone: "Europe/Londn", "London",
    "new york", "BST", "Beijing" -> the zone meant (at most n)."""
    key = " ".join((typed or "").replace("_", " ").split()).casefold()
    if not key:
        return []
    if key in _ALIASES:
        return list(_ALIASES[key])[:n]
    names = _zone_names()
    cities: dict[str, str] = {}
    for folded, proper in sorted(names.items()):
        if "/" in proper and not proper.startswith(("Etc/", "SystemV/")):
            cities.setdefault(folded.rsplit("/", 1)[1].replace("_", " "), proper)
    if key in cities:                                   # "London", "new york"
        return [cities[key]]
    # A misspelt full name ("Europe/Londn"): the closest one only, not its neighbours.
    close = difflib.get_close_matches(key.replace(" ", "_"), list(names), n=1, cutoff=0.8)
    if close:
        return [names[close[0]]]
    city = key.rsplit("/", 1)[-1]                       # "Tokio", "europe/londres"
    return [cities[m] for m in difflib.get_close_matches(city, list(cities), n=n,
                                                         cutoff=0.75)]


# Zones of a fixed offset that people pick for a place that keeps summer time.
_NO_SUMMER_TIME = {"EST": "America/New_York", "MST": "America/Denver",
                   "GMT": "Europe/London", "WET": "Europe/Lisbon"}


_ETC = re.compile(r"^Etc/GMT([+-])(\d+)$")


def zone_note(tz_name: str) -> str:
    """A hint when the zone chosen is likely not the one meant: it never changes its
    clocks but the place it is named for does (09:00 EST is 10:00 in New York all
    summer), or it is an Etc/ zone, whose sign is the reverse of the offset's."""
    if (etc := _ETC.match(tz_name)) and int(etc.group(2)):
        sign, hours = etc.groups()
        return (f"{tz_name} is UTC{'-' if sign == '+' else '+'}{hours}, "
                f"{count(int(hours), 'hour')} "
                f"{'behind' if sign == '+' else 'ahead of'} UTC (Etc/ names count the "
                "other way)")
    place = _NO_SUMMER_TIME.get(tz_name)
    if place is None:
        return ""
    return (f"{tz_name} has no summer time: in summer the digest comes an hour later on "
            f"{place}'s clocks; to follow them, use {place}")


@functools.cache
def _zone_names() -> dict[str, str]:
    """casefolded -> proper IANA name: zone names are case-sensitive file names on
    Linux, and people type "europe/london"."""
    return {n.casefold(): n for n in available_timezones()}


def last_scheduled(schedule: Schedule, now: datetime) -> datetime:
    """The most recent digest time at or before `now` (UTC)."""
    return max(t for t in _slots_around(schedule, now) if t <= now)


def next_scheduled(schedule: Schedule, now: datetime) -> datetime:
    return min(t for t in _slots_around(schedule, now) if t > now)


def _slots_around(schedule: Schedule, now: datetime) -> list[datetime]:
    """The digest times of the local days around `now`. Not just today's and one
    beside it: a time in a spring-forward gap that crosses midnight (Greenland goes
    from 23:00 to 00:00, so 23:30 is 00:30 the next day) is after the next day's
    start, and "the last one" from 00:10 was that 00:30, still to come."""
    day = now.astimezone(schedule.tz).date()
    return [_slot(schedule, day + timedelta(days=n)) for n in (-2, -1, 0, 1)]


def _slot(schedule: Schedule, day: date) -> datetime:
    """The digest time of a local day, in UTC. Compared in UTC, not local wall time:
    a time in the spring-forward gap (02:30 that day) lands after the gap (03:30), and
    a wall-clock comparison would call it past from 03:00 on: a digest every pass. A
    gap over midnight moves it into the next day (_slots_around)."""
    return datetime.combine(day, schedule.at, tzinfo=schedule.tz).astimezone(timezone.utc)


def digest_due(schedule: Schedule, last_run: datetime, now: datetime) -> bool:
    """Due when a scheduled time has passed since the last run (missed runs: once)."""
    return last_run < last_scheduled(schedule, now)


# How long a digest missed while the bot was stopped waits for the day's own.
CATCH_UP_WAIT = timedelta(hours=1)


def joins_next(schedule: Schedule, now: datetime) -> bool:
    """A missed digest, due now, waits when the next digest time is within the hour:
    sent at once, it went out minutes before the next, two digests under one day. So
    does the rest of one whose parts were retried that long (bot/roundups.py)."""
    return next_scheduled(schedule, now) - now <= CATCH_UP_WAIT


def digest_title(schedule: Schedule, when: datetime) -> str:
    return f"AI strategy digest, {digest_day(schedule, when)}"


def digest_day(schedule: Schedule, when: datetime) -> str:
    """The local day of `when`, or the day before when `when` is that day's digest
    time moved past midnight by a gap (Nuuk's 23:30 on spring-forward night)."""
    day = when.astimezone(schedule.tz).date()
    if _slot(schedule, day - timedelta(days=1)) == when:
        day -= timedelta(days=1)
    return f"{day:%a %d %b %Y}"


def overflow_title(cap: int) -> str:
    """The title of a roundup of posts the hourly cap held back, as members read it. A
    busy channel's posts are spread before the cap is reached (bot/pacing.py frees_at),
    so "this channel's hourly cap was reached" was not always so."""
    return f"More AI strategy news (this channel gets at most {count(cap, 'post')} an hour)"


# The title of a roundup of the posts a channel kept while paused (bot/kept_posts.py).
KEPT_TITLE = "AI strategy news from while this channel was paused"


ROUNDUP_SIZE = 10     # briefs in one roundup message (a Discord message holds 10 embeds)
ROUNDUP_NAMED = 3     # stories a roundup's notification text names


def roundup_text(title: str, briefs: Sequence[Brief],
                 name: Callable[[Brief], str]) -> tuple[str, str]:
    """A roundup's text, all a push notification shows of it, so it names its first
    stories: ("Title: 5 stories: A; B; C", "; …and 2 more"), with the title and each
    `name` written as the platform writes them; the platform cuts it to its limits."""
    named = "; ".join(name(b) for b in briefs[:ROUNDUP_NAMED])
    more = len(briefs) - ROUNDUP_NAMED
    return (f"{title}: {count(len(briefs), 'story')}: {named}",
            f"; …and {more} more" if more > 0 else "")


def released_note(held: int, room: int, cap: int) -> str:
    """What /digest off says of the `held` stories it lets go with `room` posts left in
    the channel's hourly `cap`: posted now as far as there is room, the rest in roundups
    once the cap frees, within the hour. All were said to "go out now"."""
    if held <= room:
        return (" The story held for the digest goes out now." if held == 1 else
                f" The {count(held, 'story')} held for the digest go out now.")
    later = held - max(room, 0)
    how = _roundups(later, cap)
    if room <= 0:
        these = ("the story held for the digest follows" if held == 1 else
                 f"the {count(held, 'story')} held for the digest follow")
        return f" This channel has had its {count(cap, 'post')} this hour, so {these} {how}."
    rest = "the last one follows" if later == 1 else f"the other {later} follow"
    return (f" Of the {count(held, 'story')} held for the digest, {room} go"
            f"{'es' if room == 1 else ''} out now and {rest} {how} (this channel gets at "
            f"most {count(cap, 'post')} an hour).")


def _roundups(stories: int, cap: int) -> str:
    """When and how `stories` follow: a roundup is one of the `cap` posts an hour, so
    more roundups than the cap take an hour more for each cap's worth (a cap of 2 sent
    the 3 roundups of 23 stories over 2 hours, said to follow "within about an hour").
    One story waiting alone is posted as itself (bot/roundups.py), not in a roundup."""
    n = -(-stories // ROUNDUP_SIZE)
    if stories == 1:        # (it goes as itself, unless others join it meanwhile)
        return "within about an hour"
    if n == 1:
        return "within about an hour in one roundup"
    hours = -(-n // max(cap, 1))
    return (f"within about an hour in {n} roundups" if hours == 1 else
            f"in {n} roundups over about {hours} hours")
