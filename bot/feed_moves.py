"""A feed that moved for good: every hop of its poll a 301 or 308 to another address.

The poller records where (FeedState.moved_to) and says it once, when it is first seen or
the target changes, with what to do; `feeds list` and `status` show it. The configured
URL is never rewritten: it is the operator's (their feeds file names it), and story ids
are keyed to it. Moving the bot over means adding the new URL (its first poll stores
its entries as backlog, and those already stored are known by their links, so nothing
is posted again) and then removing the old one: removed first, a waiting post only
the old feed carried would be cancelled."""
from __future__ import annotations

import logging

from feeds.urls import without_secrets

log = logging.getLogger("ainews.poller")


def moved_to(res) -> str:
    """Where a FetchResult says its feed moved for good; "" when it did not."""
    return res.final_url if res.redirect == "permanent" else ""


def what_to_do(old: str, new: str) -> str:
    return (f"run {_add_command(new)}, then, once it has been polled, `ainews feeds "
            f"remove {without_secrets(old)}`, and change it in the feeds file if one lists "
            "it; its stories stay, and are not posted again")


def _add_command(new: str) -> str:
    """`feeds add` for the new address (as stored, or as `feeds list` shows it). With
    its credentials hidden it would add a feed whose password is "***" ("remove" finds
    a feed by its shown URL, "add" can't): the operator writes them out instead (a
    redirect within the site keeps the old address's: feeds/fetcher.py)."""
    shown = without_secrets(new)
    if "***" not in shown:
        return f"`ainews feeds add {new}`"
    return ("`ainews feeds add NEW-URL`, where NEW-URL is the address it moved to, its "
            "credentials written out in place of ***")


def say_moved(state, res) -> None:
    """Log a permanent move once: not at each poll, which it would be for weeks."""
    new = moved_to(res)
    if new and new != state.moved_to:
        src = state.source
        log.warning("poller: %s (%s) moved permanently to %s: %s", src.name,
                    without_secrets(src.url), without_secrets(new),
                    what_to_do(src.url, new))
