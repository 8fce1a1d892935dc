"""The feeds file, imported into the store as `ainews run` starts.

A file named by AINEWS_FEEDS is the operator's: its entries not imported before are
added. The bundled list (no AINEWS_FEEDS) seeds an empty store and keeps up a store it
seeded (feeds a new version adds), but is never added to a store set up otherwise: one
run without AINEWS_FEEDS added its 20 feeds to a store seeded from the operator's file."""
from __future__ import annotations

from pathlib import Path

from feeds.guard import feed_key
from feeds.models import FeedSource
from feeds.plural import count
from storage.store import Store

BUNDLED = "bundled"   # the meta value `feed_list` holds for a store the bundled list seeded


def import_feed_list(store: Store, sources: list[FeedSource], path: Path | None) -> str:
    """Import `sources` (from `path`, None: the bundled list); what happened, for the
    start-up line ("" when nothing did)."""
    if path is None and not _bundled_may_seed(store, sources):
        return ("the bundled feed list is not added: the database has feeds of its own "
                "(set AINEWS_FEEDS to import a file)")
    added = sync_feed_list(store, sources)
    store.set_meta("feed_list", str(path) if path else BUNDLED)
    if not added:
        return ""
    return f"{count(added, 'feed')} added from {path or 'the bundled feed list'}"


def _bundled_may_seed(store: Store, bundled: list[FeedSource]) -> bool:
    seeded = store.get_meta("feed_list")
    if seeded is not None:
        return seeded == BUNDLED
    # A store from before `feed_list` was kept: empty, or holding only bundled feeds.
    imported = set(store.get_meta("imported_feeds", []))
    if not imported:
        return not store.feed_states()
    return imported <= {s.url for s in bundled}


def sync_feed_list(store: Store, sources: list[FeedSource]) -> int:
    """Add feeds from the feeds file that the store has not seen; return how many.

    Removing a feed with `ainews feeds remove` sticks: a file entry is imported once.
    Feeds compare as the fetcher requests them: a file entry spelt differently from a feed
    the store has (HTTP://Host:80/rss, an old entry's #fragment) is that feed, not a
    second one polling the same URL."""
    imported = set(store.get_meta("imported_feeds", []))
    imported_keys = {feed_key(u) for u in imported}
    urls = {s.source.url for s in store.feed_states()}
    known = {feed_key(u) for u in urls}
    added = 0
    for src in sources:
        key = feed_key(src.url)
        if key not in imported_keys:
            if src.url in urls or key not in known:   # renamed/retagged, or new
                store.upsert_feed(src)
            added += key not in known
            imported.add(src.url)
            imported_keys.add(key)
    store.set_meta("imported_feeds", sorted(imported))
    return added
