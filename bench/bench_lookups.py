"""Lookups at scale: /company, /latest, /topic and /search through the command layer on
a store of 1,000,000 generated stories.

    .venv/bin/python -m bench lookups [--stories 1000000] [--queries 200] [--limit 10] [--quick]

The store is generated once into bench/out/lookups-<N>.db with bulk inserts (one
transaction per 20,000 rows, the schema's own triggers filling FTS5) and reused while
its row count matches. The mix is realistic: companies and topics follow a long tail
(a few giants in most stories, many rare names), ~40% of stories are strategy stories
with a cached brief, ~10% join an earlier story's cluster. Timings are per call of
Commands.company/latest/topic/search (what a slash command runs), p50/p95 over
`queries` calls each with varied arguments, each asking for `--limit` results (10 by
default, as before; a chat command asks for 5 unless told, at most 10 in Discord and 25
in Slack: bot/commands_limit.py DEFAULT_LIMIT and MAX_LIMIT, bot/discord/slash.py).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import timedelta
from pathlib import Path

from bench.common import OUT, PUB_START, command_line, median, percentile, report

TARGETS_MS = {"company": 10.0, "latest": 10.0, "topic": 10.0, "search": 50.0}
# Kinds of search that cost more than words (not in the p95 above, which is what users
# mostly type): a dotted abbreviation and prefixes are read back as typed
# (storage/query.py Term.strict), a hyphenated prefix makes FTS5 expand its last word's
# prefix (`open-w*`, its one letter, is refused since: storage/query.py PREFIX_LETTERS).
SEARCH_KINDS = {"words": "export controls", "dotted abbreviation": "U.S. export",
                "two capitals": "US export",
                "prefix": "price*", "hyphenated prefix": "open-wei*"}
SEARCH_TERMS = ["qwen pricing", "export controls", "open source model", "nvidia chips",
                "acquire", "funding round valuation", "tencent hunyuan", "alibaba cloud",
                "data centres", "partnership", "regulators", "deepseek", "chief scientist",
                "apache licence", "enterprise agents", "price cut", "antitrust ruling",
                "doubao", "kimi", "zhipu"]
_VERBS = ["cuts prices for", "open-sources", "raises funding for", "agrees to acquire",
          "partners on", "names new chief of", "faces export controls over", "launches",
          "bets on", "restructures", "licenses", "delays"]
_OBJECTS = ["its flagship model", "cloud AI unit", "enterprise agents", "chips deal",
            "data centre build-out", "open-weight model", "API platform", "robotics unit",
            "AI assistant", "search product", "training cluster", "model licence"]
_SENTENCES = [
    "{a} said it would lower prices for developers by as much as {n}%.",
    "The move puts pressure on {b}, which has kept its most capable models closed.",
    "Analysts estimate the company will spend ${n} billion on data centres this year.",
    "The model will be released under an Apache 2.0 licence, the company said.",
    "Regulators in {r} are reviewing the deal, according to people familiar with it.",
    "{b} declined to comment on the report.",
    "The partnership gives {a} access to {n},000 accelerators over three years.",
    "Chinese developers have flocked to open-weight models as export controls tighten.",
    "Executives described the shift as a bet that distribution beats model size.",
    "{a} will also offer the model through its cloud marketplace at a discount.",
]
_REGIONS = ["the EU", "the US", "China", "the UK", "Japan", "India"]


def _weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (k + 1) ** s for k in range(n)]


class Generator:
    def __init__(self, companies: list[str], topics: list[str], seed: int = 7):
        self.rng = random.Random(seed)
        self.companies, self.cw = companies, _weights(len(companies))
        self.topics, self.tw = topics, _weights(len(topics), 0.6)

    def story(self, pk: int, total: int) -> tuple:
        rng = self.rng
        comps = list(dict.fromkeys(rng.choices(self.companies, self.cw, k=rng.choice(
            (1, 1, 2, 2, 3)))))
        tops = list(dict.fromkeys(rng.choices(self.topics, self.tw, k=rng.choice((0, 1, 1, 2, 3)))))
        a, b = comps[0], (comps[1] if len(comps) > 1 else rng.choice(self.companies))
        title = f"{a} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
        text = " ".join(rng.choice(_SENTENCES).format(a=a, b=b, n=rng.randint(2, 90),
                                                      r=rng.choice(_REGIONS))
                        for _ in range(5))
        # Three years of news, oldest first, a few seconds apart.
        published = PUB_START - timedelta(days=1095) + timedelta(seconds=pk * 94_608_000 / total)
        strategy = rng.random() < 0.4
        return comps, tops, title, text, published, strategy


CHUNK = 20_000


def build_store(path: Path, total: int) -> None:
    """Generate `total` stories into a fresh store at `path` (built aside, then moved)."""
    from feeds.classify import load_gazetteer
    from feeds.models import DEFAULT_TOPICS
    from storage.store import Store
    gen = Generator(list(load_gazetteer().companies), list(DEFAULT_TOPICS))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    store = Store(tmp)
    store.db.conn.execute("PRAGMA synchronous = OFF")   # a throw-away file until moved
    t0 = time.perf_counter()
    for start in range(1, total + 1, CHUNK):
        _insert_chunk(store, _chunk(gen, start, min(start + CHUNK, total + 1), total))
        print(f"   lookups: generated {min(start + CHUNK - 1, total):,} / {total:,} stories "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    store.db.conn.execute("ANALYZE")
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    os.replace(tmp, path)


def _chunk(gen: Generator, start: int, stop: int, total: int) -> dict[str, list]:
    """Rows for stories start..stop-1 and their company/topic links and briefs."""
    from feeds.models import iso_utc
    rows = {"stories": [], "story_companies": [], "story_topics": [], "briefs": []}
    for pk in range(start, stop):
        comps, tops, title, text, published, strategy = gen.story(pk, total)
        pub, h, sid, outlet = iso_utc(published), f"{pk:032x}", f"s{pk:019d}", pk % 997
        # ~10% join the cluster of a story published just before them.
        lead = pk - gen.rng.randint(1, 50) if pk > 50 and gen.rng.random() < 0.1 else pk
        rows["stories"].append((
            pk, sid, f"https://news{outlet}.example.com/{pk}", title, text, f"Outlet {outlet}",
            f"https://news{outlet}.example.com/feed", pub, text[:280], int(strategy),
            2.5 if strategy else 0.5, json.dumps(comps), json.dumps(tops), h, lead,
            int(lead == pk), pub, pub))
        rows["story_companies"] += [(pk, c, pub, int(lead == pk), int(strategy)) for c in comps]
        rows["story_topics"] += [(pk, t, pub, int(lead == pk), int(strategy)) for t in tops]
        if strategy:
            rows["briefs"].append((h, sid, _brief_json(sid, title, text, comps, tops, pub), pub))
    return rows


def _insert_chunk(store, rows: dict[str, list]) -> None:
    """One transaction: executemany per table, the search index's included (the store
    indexes a new story's text itself, as add_new_stories does)."""
    conn = store.db.conn
    with store._write():
        conn.executemany(
            "INSERT INTO stories (pk, id, url, title, text, source, feed_url, published, "
            "summary, strategy, score, companies, topics, content_hash, cluster_id, "
            "is_lead, status, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?, 'backlog', ?, ?)", rows["stories"])
        conn.executemany("INSERT INTO stories_fts (rowid, title, text) VALUES (?, ?, ?)",
                         [(r[0], r[3], r[4]) for r in rows["stories"]])
        for table in ("story_companies", "story_topics"):
            conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)", rows[table])
        conn.executemany("INSERT INTO briefs VALUES (?, ?, ?, ?)", rows["briefs"])


def _brief_json(sid, title, text, comps, tops, pub) -> str:
    sentences = text.split(". ")
    return json.dumps({"id": sid, "headline": title, "dek": "", "bullets": sentences[:3],
                       "why_it_matters": sentences[-1], "url": "", "source": "",
                       "published": pub, "companies": comps, "topics": tops,
                       "strategy": True, "score": 2.5, "also_reported_by": []})


def open_store(total: int, out: Path = OUT):
    from storage.store import Store
    path = out / f"lookups-{total}.db"
    if path.exists():
        store = Store(path)
        (n,) = store.db.execute("SELECT COUNT(*) FROM stories").fetchone()
        if n == total:
            return store, path
        store.close()
    print(f"   lookups: building {path} once ({total:,} stories)...", flush=True)
    build_store(path, total)
    return Store(path), path


def _calls(store, n: int, limit: int = 10) -> dict[str, tuple]:
    """n varied calls of each command, as a slash command would make them, each asking
    for `limit` results."""
    from bot.commands import Commands
    from bot.replies import Caller
    from feeds.classify import Classifier
    from feeds.models import DEFAULT_TOPICS
    classifier = Classifier()
    commands, rng = Commands(store, classifier), random.Random(3)
    caller = Caller("console", "console", "console", "bench")
    companies = classifier.company_names()
    return {
        "company": (commands.company, [(caller, rng.choice(companies), limit)
                                       for _ in range(n)]),
        "latest": (commands.latest, [(caller, limit, rng.choice([None, None, *DEFAULT_TOPICS]))
                                     for _ in range(n)]),
        "topic": (commands.topic, [(caller, rng.choice(DEFAULT_TOPICS), limit)
                                   for _ in range(n)]),
        "search": (commands.search, [(caller, rng.choice(SEARCH_TERMS), limit)
                                     for _ in range(n)]),
    }


def _time_calls(fn, args_list, sizes: list[int] | None = None) -> list[float]:
    """Milliseconds per call; `sizes` gets each answer's number of briefs."""
    out = []
    for args in args_list:
        t0 = time.perf_counter()
        reply = fn(*args)
        out.append((time.perf_counter() - t0) * 1000)
        assert reply.kind == "briefs", (fn.__name__, args, reply.text)
        if sizes is not None:
            sizes.append(len(reply.briefs))
    return out


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench lookups")
    ap.add_argument("--stories", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--out", default=str(OUT), help="where the generated store lives")
    ap.add_argument("--limit", type=int, default=10,
                    help="results each call asks for (chat: 5 by default, 1-25)")
    ap.add_argument("--quick", action="store_true", help="20,000 stories, 40 queries")
    args, _ = ap.parse_known_args(argv)
    if args.quick:
        args.stories, args.queries = 20_000, 40
    store, path = open_store(args.stories, Path(args.out))
    calls = _calls(store, args.queries, args.limit)
    result = {"stories": args.stories, "limit": args.limit, "db_bytes": _size(path),
              "lookups": {}}
    rows = [("store", f"{args.stories:,} stories", f"{result['db_bytes'] / 1e6:,.0f} MB on disk")]
    for name, (fn, arglist) in calls.items():
        _time_calls(fn, arglist[:5])                     # warm the page cache
        sizes: list[int] = []
        ms = _time_calls(fn, arglist, sizes)
        p50, p95 = median(ms), percentile(ms, 95)
        target = TARGETS_MS[name]
        result["lookups"][name] = {"p50_ms": p50, "p95_ms": p95, "target_p95_ms": target,
                                   "ok": p95 <= target, "most_briefs": max(sizes),
                                   "mean_briefs": sum(sizes) / len(sizes)}
        rows.append((name, f"p50 {p50:.2f} ms", f"p95 {p95:.2f} ms",
                     f"target p95 <= {target:g} ms", "OK" if p95 <= target else "MISSED"))
    rows += _search_kinds(calls["search"][0], result, args.limit)
    store.close()
    result["command"] = command_line("lookups", argv or [])
    report(f"Lookups at {args.stories:,} stories ({args.queries} calls each, "
           f"{args.limit} results asked for)", rows,
           result["command"])
    return result


def _search_kinds(search, result: dict, limit: int = 10) -> list[tuple]:
    """p50 of each SEARCH_KINDS query, 15 calls after 3 to warm the cache."""
    from bot.replies import Caller
    caller, rows = Caller("console", "console", "console", "bench"), []
    for kind, query in SEARCH_KINDS.items():
        ms = _time_calls(search, [(caller, query, limit)] * 18)[3:]
        result.setdefault("search_kinds", {})[kind] = {"p50_ms": median(ms), "query": query}
        rows.append((f"search: {kind}", f"{query!r}", f"p50 {median(ms):.2f} ms"))
    return rows


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def main(argv: list[str] | None = None) -> dict:
    return run(argv)
