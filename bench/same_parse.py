"""Same stories, old parser and new: the check behind bench 3's parse changes.

    .venv/bin/python -m bench.same_parse REV [--random 1500]

Parses every feed with revision REV's feeds/ (loaded as `bench_parse.py --against` loads
it) and with this tree's, through both the "auto" and the "lxml" reader, and compares
every Story field (Story.html included), the feed's title, link, TTL, warning and reader,
or the error raised. Feeds: tests/data, the shared corpus's feeds and its real items
(built at run time, never stored), generated feeds from six seeds, the tricky and broken
inputs of tests/test_fastparse.py, and random RSS and Atom entries made of HTML pieces
the fast path must read alike or decline (references, stray tags, mentions, links,
spaces of every kind). Exit status 1 on any difference.
"""
from __future__ import annotations

import argparse
import random
import sys
from datetime import datetime, timezone
from pathlib import Path

from bench.bench_parse import FEED_URL, FIELDS, ITEMS, corpus_feeds, load_revision
from feeds.parser import parse_feed_with
from tests.fakes.feedserver import make_atom, make_entries, make_rss
from tests.fastparse_kit import atom, rss
from tests.test_fastparse import BROKEN, FRAGMENT_PIECES, TRICKY
from tests.test_fastparse_shortcuts import CHARS, TAGS

ROOT = Path(__file__).resolve().parents[1]
KW = {"feed_url": FEED_URL, "fetched_at": datetime(2030, 1, 1, tzinfo=timezone.utc)}
EVERY_FIELD = (*FIELDS, "html", "source", "feed_url")
PIECES = FRAGMENT_PIECES + CHARS + TAGS + [
    "@everyone", "<!channel>", "[x](https://e.com)", "<https://e.com|x>", "|", "\u017f",
    "&amp;", "\x85", "\u2028"]


def outcome(parse, reader: str, body: bytes):
    """Every story's fields and the feed's, or the error (by name: REV has its own classes)."""
    try:
        feed = parse(reader, body, **KW)
    except Exception as e:  # noqa: BLE001 - an error is an outcome to compare
        return (type(e).__name__, str(e))
    return [tuple(getattr(s, f) for f in EVERY_FIELD) for s in feed.stories] + [
        (feed.title, feed.link, feed.ttl_minutes, feed.warning, feed.reader)]


def feeds(random_entries: int) -> dict[str, bytes]:
    found = {str(p): p.read_bytes() for p in sorted((ROOT / "tests" / "data").glob("*"))
             if p.is_file()}  # (tests/data/upgrade holds stores, not feeds)
    shared = ITEMS.parents[1] / "feeds"
    found.update({str(p): p.read_bytes() for p in sorted(shared.rglob("*")) if p.is_file()})
    for seed in range(6):
        found[f"generated RSS {seed}"] = make_rss("G", make_entries(30, seed=seed))
        found[f"generated Atom {seed}"] = make_atom("G", make_entries(30, seed=seed))
    found.update({f"real items {k}": v for k, v in corpus_feeds().items()})
    found.update({f"tricky {k}": v for k, v in TRICKY.items()})
    found.update({f"broken {k}": v for k, v in BROKEN.items()})
    rng = random.Random(7)
    for i in range(random_entries):
        found[f"random RSS {i}"], found[f"random Atom {i}"] = random_feeds(rng, i)
    return found


def random_feeds(rng: random.Random, i: int) -> tuple[bytes, bytes]:
    html = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14)))
    title = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 5)))
    item = (f"<item><title><![CDATA[{title}]]></title><link>https://x.com/{i}</link>"
            f"<guid>https://x.com/{i}</guid><description><![CDATA[{html}]]></description>"
            "<pubDate>soon</pubDate><dc:date>2025-02-03T04:05:06Z</dc:date></item>")
    escaped = html.replace("&", "&amp;").replace("<", "&lt;")
    entry = (f"<entry><id>https://x.com/{i}</id><title type='html'>{escaped[:40]}</title>"
             f"<link href='/p/{i}'/><summary>{escaped}</summary><content type='html'>"
             f"{escaped}</content><updated>2025-01-02T09:00:00Z</updated>"
             "<published>bad</published></entry>")
    return rss(item), atom(entry)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.same_parse")
    ap.add_argument("rev")
    ap.add_argument("--random", type=int, default=1500, help="random RSS and Atom feeds each")
    args = ap.parse_args(argv)
    old, bodies = load_revision(args.rev), feeds(args.random)
    stories = differ = 0
    for name, body in bodies.items():
        for reader in ("auto", "lxml"):
            now, then = outcome(parse_feed_with, reader, body), outcome(old, reader, body)
            stories += len(now) - 1 if isinstance(now, list) else 0
            if now != then:
                differ += 1
                print(f"DIFFERENT ({reader}): {name}")
    print(f"{len(bodies)} feeds x 2 readers, {stories} stories: {differ} differ from {args.rev}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
