"""feedparser's author e-mail search, in linear time.

feedparser splits an author value ("Jane Doe (jane@x.com)") with one re.search whose
local part, [a-zA-Z0-9_\\-.+]+, is tried from every position and runs to the end of its
run each time: 100 KB of "a.a.a." in an <author> took 80 s, and the regex holds the GIL,
so the parser's thread stalls the event loop too (every feed, every chat command).

A match's local part is always a whole run of those characters ending at an "@" (none of
them is an "@"), and the leftmost match starts where such a run starts. So trying the
same pattern only there, run by run, finds the same match: each character is read a few
times, not once per position before it. Both readers use it: the fast path calls
feedparser's own author splitting (feeds/fast_values.py), feedparser calls it itself.
"""
from __future__ import annotations

import re

import feedparser.mixin

# feedparser 6's pattern, verbatim (mixin.py, _sync_author_detail); a test checks it is.
PATTERN = (r'''(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|'''
           r'''(([a-zA-Z0-9\-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?''')
_EMAIL = re.compile(PATTERN)
_LOCAL = r"[a-zA-Z0-9\_\-\.\+]"
_RUN_TO_AT = re.compile(rf"(?<!{_LOCAL}){_LOCAL}+@")   # a whole run, then its "@"


def email_search(author: str) -> re.Match | None:
    """re.search(PATTERN, author), tried only where a run before an "@" starts."""
    if "@" not in author:
        return None
    for run in _RUN_TO_AT.finditer(author):
        if m := _EMAIL.match(author, run.start()):
            return m
    return None


class _MixinRe:
    """The `re` feedparser's mixin module sees: itself, but for the author e-mail search."""

    def __getattr__(self, name: str):
        return getattr(re, name)

    @staticmethod
    def search(pattern, string, flags=0):
        if pattern == PATTERN and not flags:
            return email_search(string)
        return re.search(pattern, string, flags)


def install() -> None:
    """Make feedparser's mixin module search author e-mails with email_search."""
    feedparser.mixin.re = _MixinRe()
