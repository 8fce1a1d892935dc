"""Dates as the fast path reads them: feedparser's UTC time tuple, the common spellings
read here, the rest by feedparser itself.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from feedparser.datetimes import _parse_date as feedparser_date

__all__ = ["parse_date"]


def parse_date(s: str):
    """feedparser's UTC time tuple for a date (its first six fields). The two spellings
    feeds use most (RFC 822 with a numeric or GMT zone, W3C-DTF with Z or +hh:mm) are read
    here as feedparser's handlers read them; the rest, and out-of-range values, by
    feedparser itself (its handler chain and struct_time cost ~4 us a date)."""
    low = s.lower()
    m = _RFC822.match(low) or _W3CDTF.match(low)
    if m is None:
        return feedparser_date(s)
    year, month, day, hour, minute, second, zone = m.group("y", "mo", "d", "h", "mi", "s", "z")
    month = _MONTHS.get(month) or int(month)
    zone_min = 0
    if zone[0] in "+-":
        zone_min = (-1 if zone[0] == "-" else 1) * (int(zone[1:3]) * 60 + int(zone[-2:]))
    try:
        stamp = datetime(int(year), month, int(day), int(hour), int(minute), int(second))
        if zone_min:
            stamp -= timedelta(minutes=zone_min)
    except (ValueError, OverflowError):
        return feedparser_date(s)  # out of range: whatever feedparser's other handlers make of it
    # The fields first_date reads (a struct_time costs more than the parse)
    return stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                        "sep", "oct", "nov", "dec"), 1)}
# Both lower-cased, ASCII digits only (int() would take others too).
_RFC822 = re.compile(r"(?:(?:mon|tue|wed|thu|fri|sat|sun),? )?(?P<d>\d{1,2}) "
                     r"(?P<mo>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) (?P<y>\d{4}) "
                     r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d) (?P<z>gmt|ut|utc|z|[+-]\d{4})\Z",
                     re.ASCII)
_W3CDTF = re.compile(r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)t(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
                     r"(?:\.\d{1,6})?(?P<z>z|[+-]\d\d:\d\d)\Z", re.ASCII)
