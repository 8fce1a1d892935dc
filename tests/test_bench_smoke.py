"""The benchmarks' smallest runs, for correctness only (no timing is asserted: speed is
measured by `python -m bench`, see docs/benchmarks.md)."""
from __future__ import annotations

import csv
import json
import os
import re

import pytest

from bench import __main__ as bench_main
from bench import bench_backfill, bench_condense, bench_fanout, bench_footprint, bench_freshness
from bench import bench_lookups, bench_poll
from bench.common import percentile


@pytest.mark.parametrize("platform", ["discord", "slack"])
def test_fanout_past_the_rate_limit_loses_and_duplicates_nothing(platform):
    res = bench_fanout.run(["--channels", "150", "--runs", "1", "--platform", platform])
    got = res["platforms"][platform]
    assert got["lost"] == 0 and got["duplicated"] == 0
    run = got["runs"][0]
    assert run["delivered"] == 150 and run["outbox"] == {"sent": 150}


def test_poll_cycles_find_every_new_entry_and_skip_unchanged_feeds():
    res = bench_poll.run(["--feeds", "6", "--latency", "0.005", "--cycles", "2",
                          "--naive", "2"])
    assert res["first"]["failures"] == 0 and res["first"]["stories"] > 0
    for variant in ("304", "same-body"):
        for cycle in res["variants"][variant]["cycles"]:
            assert cycle["failures"] == 0
            assert cycle["new"] == cycle["bumped"] == 1
            assert cycle["unchanged"] == 6 - 1


REAL_ITEMS = [("Wire", "OpenAI raises $6.6 billion at a $157 billion valuation"),
              ("Wire", "Nvidia agrees to buy Run:ai for $700 million"),
              ("Wire", "How to back up your phone before a trip"),
              ("Gadgets", "The best noise-cancelling headphones of the year, tested"),
              ("Gadgets", "Alibaba cuts Qwen API prices by 97% to win cloud customers"),
              ("Gadgets", "Review: a budget e-reader that gets the basics right")]


def test_backfill_runs_every_stage_over_every_entry_of_both_sources(tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({
        "outlet": outlet, "title": title, "link": f"https://{outlet.lower()}.example/{i}",
        "summary": title + ".", "content_html": f"<p>{title}.</p>",
        "published": f"2026-11-2{i}T09:00:00+00:00"}) + "\n"
        for i, (outlet, title) in enumerate(REAL_ITEMS)))
    res = bench_backfill.run(["--feeds", "2", "--runs", "1", "--items", str(items)])
    assert res["farm"]["entries"] > 20 and res["farm"]["strategy"] > res["farm"]["entries"] / 2
    # The real items: every one through every stage, and only the strategy stories counted.
    assert res["real"]["entries"] == len(REAL_ITEMS)
    assert 0 < res["real"]["strategy"] < len(REAL_ITEMS)
    for got in res.values():
        assert all(seconds > 0 for seconds in got["cpu"].values())


def test_backfill_against_a_revision_runs_that_revisions_code_over_the_same_entries():
    res = bench_backfill.run(["--feeds", "2", "--runs", "2", "--against", "HEAD",
                              "--source", "farm"])["farm"]
    old = res["against"]
    assert (old["entries_rev"], old["strategy_rev"]) == (res["entries"], res["strategy"])
    assert all(seconds > 0 for seconds in old["cpu_rev"].values())


def test_every_backfill_run_makes_its_stories_signatures_afresh(monkeypatch):
    """A real first cycle meets new stories: a run must not find the signatures the
    run before made of the same stories (the store's time read a quarter low so)."""
    import feeds.cluster
    made, figures = [], feeds.cluster.figures

    def counted(text):   # called once for each signature made, not for a memo's
        made[-1] += 1
        return figures(text)
    monkeypatch.setattr(feeds.cluster, "figures", counted)
    feeds_ = bench_backfill.feed_bytes(2)
    for _ in range(2):
        made.append(0)
        entries = bench_backfill.one_run(feeds_)["entries"]
    assert made[1] == made[0] >= entries > 20


def test_store_alone_starts_every_revisions_run_without_its_signatures(capsys):
    """Two revisions side by side: each one's runs make their signatures afresh, as
    a first cycle does (the first revision's copy kept them, and timed ~25% faster)."""
    from bench import store_alone
    from bench.same_store import farm_batches
    from feeds.classify import Classifier
    batches = farm_batches(2, Classifier())
    stores, made = {}, {}
    for name in ("a", "b"):
        stores[name] = bench_backfill.code_at("HEAD")[1]
        cluster, made[name] = bench_backfill.LOADED["cluster"][-1], []
        cluster.figures = lambda text, f=cluster.figures, n=made[name]: n.append(1) or f(text)
    store_alone.alternate(stores, batches, runs=2)
    stories = sum(map(len, batches))
    assert len(made["a"]) == len(made["b"]) == 2 * stories


def test_store_alone_parts_time_the_store_with_and_without_its_cluster_search(capsys):
    from bench import store_alone
    store_alone.main(["--parts", "--runs", "1", "--feeds", "2"])
    out = capsys.readouterr().out
    assert all(name in out for name in ("store", "no comparisons", "no cluster search"))


def test_freshness_sees_every_entry_and_times_stories_that_went_out_in_roundups():
    from bot.config import Settings
    # A cap of one post an hour: past it stories wait for the channel's roundup.
    res = bench_freshness.run(["--feeds", "8", "--hours", "3", "--runs", "1", "--cap", "1"])
    assert res["shipped"]["cap"] == Settings().channel_hourly_cap
    for variant in res["variants"].values():
        assert variant["appeared"] > 0
        assert variant["seen"] == variant["appeared"]
        assert variant["posted"] <= variant["seen"]
        # Every story the outbox says went out is timed: alone or in a roundup.
        assert variant["unmatched"] == 0
        assert variant["own_posts"] + variant["in_roundups"] == variant["posted"]
        assert variant["posted"] == variant["delivered_rows"]
    capped, uncapped = res["variants"]["as shipped"], res["variants"]["no hourly cap"]
    # (As shipped, a story waiting alone goes as itself: here the cap alone's roundups.)
    alone = next(v for label, v in res["variants"].items() if label.startswith("cap alone"))
    assert capped["cap"] == alone["cap"] == 1 and alone["spread"] is False
    assert alone["in_roundups"] > 0 and alone["roundups"] > 0
    assert uncapped["in_roundups"] == 0
    assert res["ok"] == capped["ok"]


def test_lookups_answer_every_command_from_a_generated_store(tmp_path):
    res = bench_lookups.run(["--stories", "3000", "--queries", "5", "--out", str(tmp_path)])
    assert set(res["lookups"]) == {"company", "latest", "topic", "search"}
    assert set(res["search_kinds"]) == set(bench_lookups.SEARCH_KINDS)
    assert res["db_bytes"] > 0


def test_lookups_ask_for_the_limit_given(tmp_path):
    for limit in (3, 12):
        res = bench_lookups.run(["--stories", "3000", "--queries", "5", "--limit", str(limit),
                                 "--out", str(tmp_path)])
        assert res["limit"] == limit
        assert all(v["most_briefs"] <= limit for v in res["lookups"].values())
        assert res["lookups"]["latest"]["most_briefs"] == limit    # 3,000 stories: enough


def test_condense_makes_a_whole_brief_of_every_story_it_times(tmp_path, data_dir):
    """Headline, three bullets and a why line, from text and from HTML: a condenser that
    got faster by dropping parts must not pass for a faster one. (The CNN/DailyMail
    sample lives outside the repository: the seed story stands in.)"""
    sample = tmp_path / "articles.csv"
    seed = (data_dir / "seed-story.txt").read_text(encoding="utf-8")
    with sample.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["article"], [seed]])
    cores = os.sched_getaffinity(0)
    res = bench_condense.run(["--quick", "--articles", str(sample)])
    assert [(res[v]["stories"], res[v]["complete"]) for v in ("text", "html")] == [(20, 20)] * 2
    assert os.sched_getaffinity(0) == cores     # `python -m bench` runs on, on every core
    assert "condense" in bench_main.available()


def test_help_loads_no_chat_library():
    assert "discord" not in bench_footprint.time_help(runs=1)["heavy_imports"]


def test_unknown_benchmark_is_refused(capsys):
    assert bench_main.main(["nosuch"]) == 2
    assert "unknown benchmark 'nosuch'" in capsys.readouterr().err


@pytest.mark.parametrize("values, p, expect", [([5, 1, 3], 50, 3), ([1, 2, 3, 4], 95, 4),
                                               (list(range(1, 101)), 95, 95)])
def test_percentile_is_nearest_rank(values, p, expect):
    assert percentile(values, p) == expect


# -- regression guards for the delivery changes the fan-out benchmark led to ----------
# (they belong with tests/test_delivery.py; kept here as that file has another owner)
def _delivery_setup(tmp_path, channels: int, **adapter_attrs):
    from bot.delivery import Delivery
    from bot.dispatch import dispatch_new
    from feeds.models import Brief, Subscription
    from storage.store import Store
    from tests.fakes.recorder import FakeClock, RecordingAdapter
    clock, store = FakeClock(), Store(tmp_path / "d.db")
    for c in range(channels):
        store.add_subscription(Subscription("console", "w", f"c{c}", "all", "all"), now=clock())
    dispatch_new(store, [Brief(id="s1", headline="Alibaba cuts prices", bullets=("a",),
                               why_it_matters="w", url="https://n.example/1", source="O",
                               published=clock(), strategy=True)], clock())
    adapter = RecordingAdapter(clock=clock)
    for k, v in adapter_attrs.items():
        setattr(adapter, k, v)
    return store, clock, adapter, Delivery(store, {"console": adapter}, clock=clock,
                                           sleep=clock.sleep, max_attempts=3)


async def test_a_post_rate_limited_more_often_than_max_attempts_still_goes_out(tmp_path):
    from bot.adapter import TransientError
    store, clock, adapter, delivery = _delivery_setup(tmp_path, 1)
    adapter.fail("c0", TransientError("429", retry_after=1.0), times=5)
    for _ in range(7):        # past max_attempts a 429 also waits the backoff (minutes)
        await delivery.run_once()
        clock.advance(minutes=5)
    assert [s.channel for s in adapter.sends] == ["c0"]
    assert store.outbox_counts() == {"sent": 1}
    store.close()


@pytest.mark.parametrize("declared, expected", [
    ({"burst": 2.0}, [0.0, 0.0, 0.5, 1.0]),     # a burst of 2, then 2 per second
    ({}, [0.0, 0.5, 1.0, 1.5]),                 # no burst declared: one at a time
    ({"burst": 0.5}, [0.0, 0.5, 1.0, 1.5]),     # less than one post: still one at a time
], ids=["burst-2", "no-burst", "burst-below-1"])
async def test_a_declared_platform_rate_paces_posts_across_channels(tmp_path, declared,
                                                                    expected):
    store, clock, adapter, delivery = _delivery_setup(tmp_path, 4, max_rate=2.0, **declared)
    start = clock()
    assert await delivery.run_once() == 4
    offsets = sorted((s.at - start).total_seconds() for s in adapter.sends)
    assert offsets == expected
    store.close()



def test_why_labels_are_ids_indices_and_fixed_halves():
    import hashlib
    from bench.eval_why import LABELS, read_labels
    labels = read_labels(LABELS)
    assert len(labels) == 154 and {k for k, _ in labels} == {"corpus", "cnndm"}
    for (kind, sid), lab in labels.items():
        parity = int(hashlib.sha1(f"{kind}:{sid}".encode()).hexdigest(), 16) % 2
        assert lab["half"] == ("tune" if parity == 0 else "held")
        assert all(0 < i < lab["n"] for i in lab["good"])   # never the lead sentence


def test_grounding_eval_passes_faithful_briefs_and_catches_invented_ones(tmp_path):
    from bench import eval_grounding
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in [
        {"title": "Alibaba raises $2 billion for Qwen",
         "summary": "Alibaba raised $2 billion on Tuesday for its Qwen models. The round "
                    "was led by two investors, the company said. Tencent is expected to "
                    "follow with a round of its own. Analysts expect more deals this year."},
        {"title": "阿里巴巴融资20亿元",
         "summary": "阿里巴巴周二宣布融资20亿元。本轮由两家机构领投。腾讯表示将跟进。"
                    "分析人士预计今年还有更多交易。"}]), encoding="utf-8")
    counts = eval_grounding.run(["--items", str(items)])["counts"]
    assert {"lead faithful", "lead words->digits", "lead digits->汉字", "lead invented figure",
            "lead invented company"} <= set(counts)
    assert all(c["right"] == c["briefs"] for c in counts.values())


def test_outbox_bench_fills_the_store_it_says_and_times_both_revisions(tmp_path):
    """The aged store holds held posts in every channel and sent posts back 180 days;
    `--against` times a revision's store beside today's on the same rows."""
    from datetime import datetime, timedelta, timezone
    from bench import bench_outbox
    from storage.store import Store
    now = datetime.now(timezone.utc)
    store = bench_outbox.filled_store(Store, tmp_path, bench_outbox.outbox_rows(now, 4, 400, 8))
    assert store.outbox_work(now) == [("slack", f"C{c}", False) for c in range(4)]
    sent = store.posts_sent_since("slack", "C0", now - timedelta(days=181))
    assert len(sent) == 34           # C0's 100 of the 400 posts, 3 to a message
    assert now - timedelta(days=181) < sent[0] < now - timedelta(days=178)
    store.close()
    got = bench_outbox.run(["--quick", "--against", "HEAD"])["ms"]
    assert set(got) == {"today", "HEAD"} and all(
        ms >= 0 for reads in got.values() for ms in reads.values())


def test_claims_bench_times_the_claim_synced_and_not(tmp_path):
    from bench import bench_claims
    got = bench_claims.run(["--posts", "5", "--runs", "1", "--dir", str(tmp_path)])
    assert set(got["ms_per_post"]) == {"normal", "synced"}
    assert all(ms > 0 for ms in got["ms_per_post"].values())
    assert list(tmp_path.iterdir()) == []       # its store removed


def test_upgrade_bench_upgrades_a_copy_and_leaves_its_source(tmp_path, capsys, monkeypatch):
    """Run as docs/benchmarks.md and docs/reliability.md say, `python -m bench upgrade`
    (it was refused as an unknown benchmark), though `make bench` leaves it out."""
    from storage.store import Store
    from tests.store_kit import add, make
    source = tmp_path / "source.db"
    with Store(source) as store:
        add(store, *(make(f"Baidu opens Ernie {i}", url=f"https://x.example/{i}")
                     for i in range(40)))
    from bench.bench_upgrade import _version
    latest = _version(source)       # what the upgrade must reach: this code's schema
    had = source.read_bytes()
    monkeypatch.setattr(bench_main, "OUT", tmp_path / "out")
    assert bench_main.main(["upgrade", "--source", str(source), "--dir", str(tmp_path),
                            "--escaped", "0.5", "--slim", "5"]) == 0
    assert "upgrade" not in bench_main.available()
    out = capsys.readouterr().out
    assert re.search(r"link_keys\s+20\n", out) and re.search(r"link_keys_wrong\s+0\n", out)
    assert re.search(rf"version\s+{latest}\n", out) and source.read_bytes() == had
