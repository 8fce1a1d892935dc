"""A feed's parser warning (what feedparser repaired) said once per kind, not each poll.

A feed that is always a little broken (an unescaped `&`, a cut-off last item) is read at
every poll that changed it, and its warning came with it each time: ~700 log lines a day
of a busy feed, saying one thing. It is said once per feed and kind of repair, again when
the kind changes (a new fault is news) or a day later (still there: a reminder), and
again after a poll read the feed clean (it came back)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

AGAIN_AFTER = timedelta(days=1)
# Line numbers and counts move at each poll ("at line 45"; "kept 3 entries", "kept 1
# entry"): a number and the word it counts are no part of the kind.
_COUNTED = re.compile(r"\d+(?: [a-z]+)?")


def kind_of(warning: str) -> str:
    """"malformed XML (no element found at line N); kept N" for any line and count."""
    return _COUNTED.sub("N", warning)


class ParseWarnings:
    """Per feed URL, the kind last said and when; held for the life of the poller."""

    def __init__(self) -> None:
        self._said: dict[str, tuple[str, datetime]] = {}

    def worth_saying(self, url: str, warning: str, now: datetime) -> bool:
        """Whether to log `warning` (empty: the feed read clean) of `url` polled at `now`."""
        if not warning:
            self._said.pop(url, None)
            return False
        kind, last = kind_of(warning), self._said.get(url)
        if last and last[0] == kind and timedelta(0) <= now - last[1] < AGAIN_AFTER:
            return False
        self._said[url] = (kind, now)
        return True
