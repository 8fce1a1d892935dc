"""Bullets that open with a dangling reference ("It said ...", "He added ...", "The
company, which ...", "This comes as ..."), counted over the real news items.

    .venv/bin/python bench/eval_dangling.py [--items PATH] [--show N]
                                            [--dump FILE] [--diff FILE]

Every item of the shared corpus (../shared/corpus/news/items.jsonl) goes through the real
parser (one RSS feed per outlet, as bench/bench_parse.py builds them), classifier and
condenser (the HTML path, as the bot runs). A bullet counts when it opens with a
reference feeds/references.py finds (he/she/his/her, it/its, they/their, this/these/
that/those, "The company"/"The firm"/...; not an expletive "It is unclear ...", nor
"This week"); "orphan" when the brief shows no antecedent: the sentence before it in
the story is not the bullet before it, and it is not the story's first sentence (which
follows the headline). It also prints the briefs' shape: how many have 0-3 bullets and
whether the last line is a "Why it matters" sentence of the text, the marked Context
line, or nothing. `--dump` writes every brief
as JSON; `--diff` reads such a file and prints the strategy briefs whose bullets changed
(`--every`: all briefs).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_parse import ITEMS, corpus_feeds  # noqa: E402
from feeds.classify import Classifier  # noqa: E402
from feeds.condense import condense  # noqa: E402
from feeds.parser import parse_feed  # noqa: E402
from feeds.references import opening  # noqa: E402
from feeds.sentences import split_sentences  # noqa: E402
from feeds.text import html_to_text  # noqa: E402


def briefs(items: Path) -> list[tuple[object, object]]:
    """(story, brief) for every item, classified and condensed as the bot does."""
    clf, out = Classifier(), []
    for name, body in corpus_feeds(items).items():
        if not name.endswith("(RSS)"):
            continue
        outlet = name.removesuffix(" (RSS)")
        for s in parse_feed(body, feed_url=f"https://feeds.example.com/{outlet}", source=outlet).stories:
            s = s.with_classification(clf.classify(s.title, s.text))
            out.append((s, condense(s)))
    return out


def orphan(story, bullets: tuple[str, ...], i: int) -> bool:
    """True unless the story sentence before bullet i is bullet i-1, or bullet i opens
    the story (the headline is then its antecedent)."""
    sents = split_sentences(html_to_text(story.html) if story.html else story.text)
    here = bullets[i].rstrip("…")[:40]
    if sents and sents[0].startswith(here):
        return False
    prev = bullets[i - 1].rstrip("…")[:40] if i else None
    return not any(b.startswith(here) and prev and a.startswith(prev) for a, b in zip(sents, sents[1:]))


def count(pairs) -> Counter:
    c = Counter()
    for story, brief in pairs:
        c["bullets"] += len(brief.bullets)
        for i, b in enumerate(brief.bullets):
            o = opening(b)
            if o:
                c["dangling"] += 1
                c[o.kind] += 1
                c["orphan"] += orphan(story, brief.bullets, i)
    return c


def report(label: str, c: Counter) -> None:
    print(f"  {label:16} {c['bullets']:6} bullets, {c['dangling']:4} open with a reference "
          f"({c['orphan']} orphans): person {c['person']}, company {c['company']}, "
          f"other {c['other']}")


def shape(label: str, pairs) -> None:
    """How many briefs have 0-3 bullets, and where their last line comes from: a
    sentence of the text ("Why it matters"), the marked Context line, or nothing."""
    n = Counter(min(len(b.bullets), 3) for _, b in pairs)
    why = Counter("context" if b.why_is_generated else "text" if b.why_it_matters else "none"
                  for _, b in pairs)
    print(f"  {label:16} bullets 0/1/2/3: {n[0]}/{n[1]}/{n[2]}/{n[3]}; last line: "
          f"why from the text {why['text']}, Context line {why['context']}, none {why['none']}")


def show(pairs, n: int) -> None:
    for story, brief in pairs[:n]:
        for b in brief.bullets:
            if opening(b):
                print(f"- [{story.source}] {brief.headline}\n    {b}")


def diff(pairs, path: Path) -> None:
    old = json.loads(path.read_text(encoding="utf-8"))
    changed = [(s, b) for s, b in pairs if tuple(old.get(s.id, {}).get("bullets", ())) != b.bullets]
    print(f"{len(changed)} briefs changed")
    for s, b in changed:
        print(f"\n## [{s.source}] {b.headline}")
        for line in old.get(s.id, {}).get("bullets", ()):
            print(f"  - {line}")
        for line in b.bullets:
            print(f"  + {line}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=Path, default=ITEMS)
    ap.add_argument("--show", type=int, default=0, help="print the flagged bullets of N strategy briefs")
    ap.add_argument("--dump", type=Path, help="write every brief's headline and bullets as JSON")
    ap.add_argument("--diff", type=Path, help="print strategy briefs whose bullets differ from a dump")
    ap.add_argument("--every", action="store_true", help="--diff: every brief, not only strategy ones")
    args = ap.parse_args(argv)
    pairs = briefs(args.items)
    strategy = [(s, b) for s, b in pairs if s.classification.strategy]
    print(f"eval_dangling: {len(pairs)} items, {len(strategy)} strategy briefs (HTML path)")
    report(f"strategy ({len(strategy)})", count(strategy))
    report(f"all ({len(pairs)})", count(pairs))
    shape(f"strategy ({len(strategy)})", strategy)
    shape(f"all ({len(pairs)})", pairs)
    show(strategy, args.show)
    if args.dump:
        args.dump.write_text(json.dumps({s.id: {"headline": b.headline, "bullets": b.bullets}
                                         for s, b in pairs}, ensure_ascii=False), encoding="utf-8")
    if args.diff:
        diff(pairs if args.every else strategy, args.diff)


if __name__ == "__main__":
    main()
