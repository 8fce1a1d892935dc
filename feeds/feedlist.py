"""The feeds file: a TOML list of [[feed]] tables (url; optional name, the host by
default, and tags).

The bundled default list lives in feeds/data/feeds.toml; AINEWS_FEEDS names another."""
from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

from feeds.models import FeedSource
from feeds.urls import without_secrets

DEFAULT_FEEDS_FILE = Path(__file__).parent / "data" / "feeds.toml"


class FeedListError(Exception):
    """The feeds file is unreadable or malformed; str() is one line naming the file."""


def load_feed_list(path: Path | None = None) -> list[FeedSource]:
    path = path or DEFAULT_FEEDS_FILE
    try:
        # utf-8-sig: Windows editors save "UTF-8 with BOM", which TOML itself rejects.
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as e:
        raise FeedListError(f"feeds: cannot read {path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise FeedListError(f"feeds: {path} is not UTF-8 (byte {e.start}); save it as "
                            "UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise FeedListError(f"feeds: {path} is not valid TOML: {e}") from None
    if data and "feed" not in data:   # [[feeds]], [[Feed]]: else silently no feeds
        raise FeedListError(f"feeds: {path} has no [[feed]] tables (found "
                            f"{', '.join(map(repr, data))}); write one [[feed]] per feed")
    entries = data.get("feed", [])
    if not isinstance(entries, list):
        raise FeedListError(f"feeds: {path}: use [[feed]] tables, one per feed")
    return _dedupe([_feed_source(path, i, e) for i, e in enumerate(entries, 1)])


def _feed_source(path: Path, n: int, entry: object) -> FeedSource:
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        raise FeedListError(f"feeds: {path}: feed #{n} needs a url")
    url = urldefrag(entry["url"].strip()).url     # a #fragment is never sent: one feed
    try:
        parts = urlsplit(url)
        parts.port   # raises on a port out of range, as the fetcher would at every poll
    except ValueError:   # "http://[::1": urlsplit raises instead of answering
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedListError(f"feeds: {path}: feed #{n} url {without_secrets(url)!r} is not "
                            "an http(s) URL")
    name = str(entry.get("name") or parts.hostname).strip()
    tags = entry.get("tags", [])
    tags = [tags] if isinstance(tags, str) else tags     # tags = "labs, china" too
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise FeedListError(f"feeds: {path}: feed #{n} tags must be a list of strings")
    return FeedSource(name=name, url=url, tags=split_tags(tags))


def split_tags(values: list[str]) -> tuple[str, ...]:
    """Tags as typed (`--tag labs,china --tag us`, tags = ["labs, china"]): split at
    commas, trimmed, empty ones dropped, each once. "a,b" was stored as one tag."""
    tags = (t.strip() for v in values for t in v.split(","))
    return tuple(dict.fromkeys(t for t in tags if t))


def _dedupe(sources: list[FeedSource]) -> list[FeedSource]:
    seen: dict[str, FeedSource] = {}
    for s in sources:
        seen.setdefault(s.url, s)
    return list(seen.values())
