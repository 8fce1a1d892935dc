"""Parse stage: the feedparser path, the lxml fast path and bare lxml, side by side.

    .venv/bin/python bench/bench_parse.py [--runs 7] [--repeat 1] [--entries 50]
                                          [--paragraphs 22] [--against REV]

Feeds: generated full-content feeds (tests/fakes/feedserver.py, 50 entries, ~400 KB, RSS
and Atom), every XML feed in tests/data, and feeds built from the real news items. The
readers take turns over each feed set (every other round in reverse order), `--runs`
rounds of `--repeat` passes each; the figure is the median pass, in
entries per CPU-second (process time: the machine is shared, and CPU time is what a
parse costs it). Wall-clock is shown too.

Rows: "feedparser path" is parse_feed forced onto feedparser (what every feed cost before
the fast path); "fast path" is parse_feed as shipped ("auto": lxml, else feedparser);
"feedparser.parse" is the library alone, without our cleaning; "lxml.etree.fromstring"
is the XML parse alone, the floor. Then an equivalence check: both paths over the same
feeds, every story field compared, including feeds built at run time from the real news
items in ../shared/corpus/news/items.jsonl when that file is there.

`--against REV` adds the fast path as it was at git revision REV (its feeds/ package,
loaded beside this one) as a row of its own, and checks that both give the same stories,
field by field, Story.html included.
"""
from __future__ import annotations

import argparse
import collections
import io
import importlib
import json
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser  # noqa: E402
import lxml.etree  # noqa: E402

from feeds.parser import ParseError, parse_feed_with  # noqa: E402
from tests.fakes.feedserver import make_atom, make_entries, make_rss  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
# ../shared beside the main checkout; a worktree (e.g. /work/wt/x) finds it further up.
ITEMS = next((p / "shared" / "corpus" / "news" / "items.jsonl" for p in ROOT.parents
              if (p / "shared" / "corpus" / "news" / "items.jsonl").exists()),
             ROOT.parent / "shared" / "corpus" / "news" / "items.jsonl")
FEED_URL = "https://feeds.example.com/bench.xml"
FIELDS = ("id", "url", "title", "text", "published", "author", "guid", "summary", "subtitle",
          "flags")


OLD: dict[str, object] = {}   # "rev": parse_feed_with of feeds/ at that revision


def readers():
    def ours(reader, parse=parse_feed_with):
        return lambda body: len(parse(reader, body, feed_url=FEED_URL).stories)
    found = {
        "feedparser path": ours("feedparser"),
        "fast path (auto)": ours("auto"),
        "feedparser.parse": lambda body: len(feedparser.parse(io.BytesIO(body)).entries),
        "lxml.etree.fromstring": bare_lxml,
    }
    for rev, parse in OLD.items():
        found[f"fast path @{rev}"] = ours("auto", parse)
    return found


def load_revision(rev: str):
    """parse_feed_with from feeds/ at git revision `rev`, imported as its own package
    (feeds_<rev>) so that both run in this process, taking turns."""
    name = "feeds_" + re.sub(r"\W", "_", rev)
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "feeds"], check=True,
                         capture_output=True).stdout
    where = Path(tempfile.mkdtemp(prefix="bench_parse_"))
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(where, filter="data")
    (where / "feeds").rename(where / name)
    for path in (where / name).glob("*.py"):
        code = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"\b(from|import) feeds\b", rf"\1 {name}", code), encoding="utf-8")
    sys.path.insert(0, str(where))
    return importlib.import_module(f"{name}.parser").parse_feed_with


def bare_lxml(body: bytes) -> int:
    try:
        return len(lxml.etree.fromstring(body, lxml.etree.XMLParser(recover=True)))
    except lxml.etree.XMLSyntaxError:  # e.g. encoding="invalid": costs its attempt, reads none
        return 0


def measure(bodies: list[bytes], runs: int, repeat: int = 1) -> dict[str, tuple[float, float]]:
    """{reader: (median CPU seconds, median wall seconds)} for one pass over `bodies`.
    Readers take turns within each run, so a busy neighbour slows them all alike; every
    other run in reverse order, so no reader always follows the same one. A turn is
    `repeat` passes (a 7 ms feed timed once is at the mercy of one scheduler tick)."""
    cpu: dict[str, list[float]] = collections.defaultdict(list)
    wall: dict[str, list[float]] = collections.defaultdict(list)
    for run in range(runs):
        turns = list(readers().items())
        for name, read in (reversed(turns) if run % 2 else turns):
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(repeat):
                for body in bodies:
                    read(body)
            cpu[name].append((time.process_time() - c0) / repeat)
            wall[name].append((time.perf_counter() - w0) / repeat)
    return {n: (statistics.median(cpu[n]), statistics.median(wall[n])) for n in cpu}


def bench(title: str, bodies: list[bytes], runs: int, entries_of: int, repeat: int = 1) -> None:
    size = sum(map(len, bodies)) / 1024
    fast = sum(parse_feed_with("auto", b, feed_url=FEED_URL).reader == "lxml" for b in bodies)
    print(f"\n{title}: {len(bodies)} feeds ({fast} read by the fast path), {size:.0f} KB, "
          f"{entries_of} entries; median of {runs} runs of {repeat} pass(es)")
    print(f"  {'reader':24} {'entries/CPU-s':>14} {'ms CPU':>9} {'ms wall':>9} "
          f"{'vs feedparser path':>19}")
    results = measure(bodies, runs, repeat)
    base = results["feedparser path"][0]
    for name, (cpu, wall) in results.items():
        print(f"  {name:24} {entries_of / cpu:14,.0f} {cpu * 1000:9.2f} {wall * 1000:9.2f} "
              f"{base / cpu:18.1f}x")
    for rev in OLD:
        then = results[f"fast path @{rev}"][0]
        print(f"  fast path now vs @{rev}: {then / results['fast path (auto)'][0]:.2f}x")


def readable(paths: list[Path]) -> list[bytes]:
    """Feeds both paths accept (tests/data also holds XML that is no feed)."""
    out = []
    for p in paths:
        try:
            parse_feed_with("feedparser", p.read_bytes(), feed_url=FEED_URL)
            out.append(p.read_bytes())
        except ParseError:
            pass
    return out


def compare(bodies: dict[str, bytes]) -> None:
    """Both paths over each feed: stories compared field by field."""
    stories = diffs = fast = 0
    for name, body in bodies.items():
        kw = {"feed_url": FEED_URL, "fetched_at": datetime(2030, 1, 1, tzinfo=timezone.utc)}
        slow, auto = parse_feed_with("feedparser", body, **kw), parse_feed_with("auto", body, **kw)
        fast += auto.reader == "lxml"
        pairs = list(zip(slow.stories, auto.stories))
        stories += len(pairs)
        bad = [(name, f) for a, b in pairs for f in FIELDS if getattr(a, f) != getattr(b, f)]
        bad += [(name, "count")] if len(slow.stories) != len(auto.stories) else []
        bad += [(name, "feed")] if (slow.title, slow.link, slow.ttl_minutes, slow.warning) != (
            auto.title, auto.link, auto.ttl_minutes, auto.warning) else []
        diffs += len(bad)
        for where in bad[:3]:
            print(f"  DIFFERENT: {where}")
    print(f"  {len(bodies)} feeds, {fast} read by the fast path, {stories} stories compared, "
          f"{diffs} fields differ")


def compare_revisions(bodies: dict[str, bytes]) -> None:
    """The fast path now and at each --against revision: every Story field, html too."""
    kw = {"feed_url": FEED_URL, "fetched_at": datetime(2030, 1, 1, tzinfo=timezone.utc)}
    for rev, parse in OLD.items():
        stories = diffs = 0
        for name, body in bodies.items():
            now, then = (_stories(p, body, kw) for p in (parse_feed_with, parse))
            stories += len(now) if isinstance(now, list) else 0
            if now != then:
                diffs += 1
                print(f"  DIFFERENT from @{rev}: {name}")
        print(f"  {len(bodies)} feeds, {stories} stories: {diffs} feeds differ from @{rev}")


def _stories(parse, body: bytes, kw: dict):
    try:
        parsed = parse("auto", body, **kw)
    except ParseError as e:
        return str(e)
    fields = (*FIELDS, "html", "source", "feed_url")
    return [tuple(getattr(s, f) for f in fields) for s in parsed.stories] + [
        (parsed.title, parsed.link, parsed.ttl_minutes, parsed.warning, parsed.reader)]


def corpus_feeds(items: Path = ITEMS) -> dict[str, bytes]:
    """RSS and Atom feeds per outlet from the real items (built here, never stored);
    `items`: a JSONL file in the corpus's layout (outlet, title, link, summary, ...)."""
    if not items.exists():
        return {}
    by_outlet = collections.defaultdict(list)
    for line in items.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        by_outlet[item["outlet"]].append(item)
    feeds = {}
    for outlet, items in by_outlet.items():
        entries = [{"title": i["title"] or "", "link": i["link"] or "", "guid": i["link"] or "",
                    "author": i["outlet"], "summary": i["summary"] or "",
                    "content_html": i["content_html"] or "",
                    "published": _date(i["published"])} for i in items]
        feeds[f"{outlet} (RSS)"] = make_rss(outlet, entries)
        feeds[f"{outlet} (Atom)"] = make_atom(outlet, entries)
    return feeds


def _date(s: str | None) -> datetime:
    dt = datetime.fromisoformat(s) if s else datetime(2025, 1, 1)
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--entries", type=int, default=50)
    ap.add_argument("--paragraphs", type=int, default=22)
    ap.add_argument("--repeat", type=int, default=1, help="passes over a feed set per turn")
    ap.add_argument("--against", action="append", default=[], metavar="REV",
                    help="also time the fast path at this git revision (repeatable)")
    args = ap.parse_args(argv)
    OLD.clear()
    OLD.update({rev: load_revision(rev) for rev in args.against})
    generated = {kind: make(f"Generated {kind}", make_entries(args.entries, seed=s,
                                                              paragraphs=args.paragraphs))
                 for kind, make, s in (("RSS", make_rss, 1), ("Atom", make_atom, 2))}
    for kind, body in generated.items():
        bench(f"Generated {kind}", [body], args.runs, args.entries, args.repeat)
    data = readable(sorted(DATA.glob("*.xml")))
    n = sum(len(parse_feed_with("feedparser", b, feed_url=FEED_URL).stories) for b in data)
    bench("tests/data corpus", data, args.runs, n, args.repeat)
    real = corpus_feeds()
    if real:
        n = sum(len(parse_feed_with("feedparser", b, feed_url=FEED_URL).stories)
                for b in real.values())
        bench("Real news items, one RSS and one Atom feed per outlet", list(real.values()),
              args.runs, n, args.repeat)
    print("\nEquivalence, feedparser path vs fast path:")
    everything = {**{f"generated {k}": v for k, v in generated.items()},
                  **{f"tests/data #{i}": b for i, b in enumerate(data)}, **real}
    compare(everything)
    if OLD:
        print("\nEquivalence, fast path now vs before:")
        compare_revisions(everything)
    print(f"\nMeasured {format_datetime(datetime.now(timezone.utc))}; Python "
          f"{sys.version.split()[0]}, lxml {lxml.etree.__version__}, "
          f"feedparser {feedparser.__version__}")


if __name__ == "__main__":
    main()
