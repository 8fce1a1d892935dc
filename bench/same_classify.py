"""Same classification, old code and new: the check behind bench 2's classify changes.

    .venv/bin/python -m bench.same_classify REV [--feeds 100]

Loads revision REV's classifier (feeds/classify.py, gazetteer.py, phrases.py, learned.py,
lexical.py and scan.py where REV has it, read with `git show` beside today's modules;
today's data files) and classifies the same stories with it and with this tree's: the
backfill bench's farm (parse_feed of its 100 feeds), every item of the shared corpus
(items.jsonl: title with its text, and title with its summary) and every feed in
tests/data. Compares every
Classification field (strategy, score, companies and their order, topics, reasons text)
and the learned layer's inputs (`features()`: names, order, values). Exit status 1 on
any difference.
"""
from __future__ import annotations

import argparse
import json
import sys

from bench.bench_backfill import feed_bytes, load_at
from bench.bench_parse import DATA, ITEMS
from bench.common import when

MODULES = ("gazetteer", "phrases", "learned", "lexical", "scan", "classify")   # dependency order


def classifier_at(rev: str):
    """REV's Classifier class, its modules loaded as _old_<name> beside today's."""
    return load_at(rev, tuple(f"feeds/{part}.py" for part in MODULES), "_old_").Classifier


def farm(n: int) -> list[tuple[str, str]]:
    from feeds.parser import parse_feed
    return [(s.title, s.text) for url, body in feed_bytes(n)
            for s in parse_feed(body, feed_url=url, source="Bench", fetched_at=when(0)).stories]


def corpus() -> list[tuple[str, str]]:
    from bench.eval_classify import plain, story_text
    out = []
    for line in ITEMS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        out += [story_text(item), (plain(item.get("title")), plain(item.get("summary")))]
    return out


def test_feeds() -> list[tuple[str, str]]:
    from feeds.parser import ParseError, parse_feed
    out = []
    for path in sorted(DATA.glob("*.xml")) + sorted(DATA.glob("*.json")):
        try:
            stories = parse_feed(path.read_bytes(), feed_url=f"https://x.invalid/{path.name}",
                                 source="Test", fetched_at=when(0)).stories
        except ParseError:
            continue
        out += [(s.title, s.text) for s in stories]
    return out


def compare(old, new, stories: list[tuple[str, str]]) -> list[str]:
    """Descriptions of the stories whose results differ (at most 5)."""
    diff = []
    for title, text in stories:
        a, b = old.classify(title, text), new.classify(title, text)
        fa, fb = old.features(title, text), new.features(title, text)
        if a != b or fa != fb or list(fa[0].items()) != list(fb[0].items()):
            diff.append(f"  {title[:70]!r}:\n    old {a}\n    new {b}")
    return diff


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.same_classify")
    ap.add_argument("rev")
    ap.add_argument("--feeds", type=int, default=100)
    args = ap.parse_args(argv)
    from feeds.classify import Classifier
    old, new = classifier_at(args.rev)(), Classifier()
    sets = {"farm": farm(args.feeds), "tests/data feeds": test_feeds()}
    if ITEMS.exists():
        sets["corpus (text, summary)"] = corpus()
    same = True
    for name, stories in sets.items():
        diff = compare(old, new, stories)
        print(f"{name}: {len(stories)} stories: "
              + (f"{len(diff)} DIFFERENT" if diff else "identical"))
        if diff:
            print("\n".join(diff[:5]))
        same &= not diff
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
