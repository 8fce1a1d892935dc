"""Finding a labelled link among a source file's entries (bench/rebuild_sets.py).

The labels hold links as the sets' collectors wrote them, which is not always the string
the source stores: an http link was written as https (the aggregator's dump keeps some
blogs' http), a trailing slash or a tracking query (utm_*, the BBC's at_*) may be gone. So
a link is matched first as written, then by a key that ignores just those differences; where two
entries share the key (the dump keeps an article both as a post and as a flash), the one
with the source file's outlet and publication time is the labelled one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# query parameters that say where a click came from, not what it is (at_*: the BBC's feeds;
# fresh5's September-October BBC links were labelled without them)
TRACKING = ("utm_", "at_")


@dataclass(frozen=True)
class Entry:
    """One feed entry or dump row, in the items file's terms."""
    link: str
    title: str
    summary: str
    content_html: str | None
    published: str
    outlet: str


@dataclass(frozen=True)
class Source:
    """Where a labelled link came from (a row of tests/data/NAME-sources.tsv)."""
    link: str
    repo: str
    path: str
    outlet: str
    published: str


def link_key(link: str) -> str:
    """The link without what a collector may have normalised: http vs https, the host's
    case, a trailing slash, tracking parameters, a fragment."""
    parts = urlsplit(link.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(TRACKING)]
    scheme = "https" if parts.scheme in ("http", "https") else parts.scheme
    return urlunsplit((scheme, parts.netloc.lower(), parts.path.rstrip("/"), urlencode(query), ""))


def find_entry(source: Source, entries: list[Entry]) -> Entry | None:
    """The entry the labelled link was taken from, or None."""
    exact = [e for e in entries if e.link == source.link]
    candidates = exact or [e for e in entries if link_key(e.link) == link_key(source.link)]
    if len(candidates) > 1:
        candidates = sorted(candidates, key=lambda e: -_agreement(source, e))
    return candidates[0] if candidates else None


def _agreement(source: Source, entry: Entry) -> int:
    """How many of outlet and publication time the entry shares with the source row."""
    return (bool(source.outlet) and entry.outlet == source.outlet) + \
        (bool(source.published) and entry.published == source.published)


def read_sources(path: Path, default: tuple[str, str]) -> dict[str, Source]:
    """link -> Source. Rows are `link, repo, path, outlet, published, ...`, or `link,
    repo:path, outlet, published, ...` (fresh5 on; a note may follow the path after a
    space), or, where the whole set came from one file (`default`: repo, path), `link,
    outlet, published`."""
    sources = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.rstrip("\r").split("\t")
        origin = cols[1].split(" ")[0].split(":", 1)
        if len(origin) == 2 and "/" in origin[0] and len(cols) >= 4:
            (link, _, outlet, published), (repo, file) = cols[:4], origin
        elif "/" in cols[1] and len(cols) >= 5:
            link, repo, file, outlet, published = cols[:5]
        else:
            (link, outlet, published), (repo, file) = cols[:3], default
        sources[link.strip()] = Source(link.strip(), repo, file, outlet, published)
    return sources
