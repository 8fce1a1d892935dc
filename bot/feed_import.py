"""The feeds file, imported into the store as `ainews run` starts.

A file named by AINEWS_FEEDS is the operator's: its entries not imported before are
added, and a name or tags edited there apply to a feed imported before that the store
still has (a removed one is not added back). The bundled list (no AINEWS_FEEDS) seeds an empty store and keeps up a store it
seeded (feeds a new version adds), but is never added to a store set up otherwise: one
run without AINEWS_FEEDS added its 20 feeds to a store seeded from the operator's file."""
from __future__ import annotations

import logging
from pathlib import Path

from feeds.guard import feed_key
from feeds.models import FeedSource
from feeds.plural import count
from storage.store import Store

BUNDLED = "bundled"   # the meta value `feed_list` holds for a store the bundled list seeded
# Each file entry's name and tags as last imported: an edit in the file is told from a
# feed renamed by command since (the file's entry unchanged).
FILE_ENTRIES = "feed_file_entries"

log = logging.getLogger("ainews.feeds")


def import_feed_list(store: Store, sources: list[FeedSource], path: Path | None) -> str:
    """Import `sources` (from `path`, None: the bundled list); what happened, for the
    start-up line ("" when nothing did)."""
    if path is None and not _bundled_may_seed(store, sources):
        return ("the bundled feed list is not added: the database has feeds of its own "
                "(set AINEWS_FEEDS to import a file)")
    added = sync_feed_list(store, sources, path)
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


def sync_feed_list(store: Store, sources: list[FeedSource], path: Path | None = None) -> int:
    """Add feeds from the feeds file that the store has not seen; return how many.

    Removing a feed with `ainews feeds remove` sticks: a file entry is imported once.
    A name or tags edited in the file since the last import apply to the feed the store
    still has (one log line each), each on its own: an entry unchanged in the file, or a
    field of it, leaves the feed as a command made it (`feeds add URL NAME` renames).
    Feeds compare as the fetcher requests them: a file entry spelt differently from a feed
    the store has (HTTP://Host:80/rss, an old entry's #fragment) is that feed, not a
    second one polling the same URL."""
    imported = set(store.get_meta("imported_feeds", []))
    imported_keys = {feed_key(u) for u in imported}
    states = {feed_key(s.source.url): s for s in store.feed_states()}
    urls = {s.source.url for s in states.values()}
    last = store.get_meta(FILE_ENTRIES, {})
    entries, added = {}, 0
    for src in sources:
        key = feed_key(src.url)
        if key not in imported_keys:
            if src.url in urls or key not in states:   # renamed/retagged, or new
                store.upsert_feed(src)
            added += key not in states
            imported.add(src.url)
            imported_keys.add(key)
        elif key in states and last.get(src.url) != _entry(src):
            _apply_edit(store, states[key], _edited(src, states[key].source,
                                                     last.get(src.url)), path)
        entries[src.url] = _entry(src)
    store.set_meta("imported_feeds", sorted(imported))
    store.set_meta(FILE_ENTRIES, entries)
    return added


def _entry(src: FeedSource) -> list:
    return [src.name, list(src.tags)]


def _edited(src: FeedSource, old: FeedSource, last: list | None) -> FeedSource:
    """The feed as the file's edit leaves it: only a field edited in the file since the
    last import (`last`, None: not known) is taken from it, so a tags edit does not undo
    a rename by command, nor a name edit a retag."""
    if last is None:
        return src
    name = src.name if src.name != last[0] else old.name
    tags = src.tags if tuple(src.tags) != tuple(last[1]) else old.tags
    return FeedSource(name, old.url, tags)


def _apply_edit(store: Store, state, src: FeedSource, path: Path | None) -> None:
    """`src`'s name and tags for a feed imported before, where they differ."""
    old = state.source
    if (old.name, old.tags) == (src.name, src.tags):
        return
    store.upsert_feed(FeedSource(src.name, old.url, src.tags))
    where = path or "the bundled feed list"
    if old.name != src.name:
        log.info("feeds: renamed %r to %r (from %s)", old.name, src.name, where)
    if old.tags != src.tags:
        log.info("feeds: tags of %r now %s, were %s (from %s)", src.name,
                 _tags(src.tags), _tags(old.tags), where)


def _tags(tags) -> str:
    return ", ".join(tags) if tags else "none"
