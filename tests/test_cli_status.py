"""`ainews status`: feed health, the queue, posts waiting after a failed try, and
feed text shown without terminal escapes."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli_kit import run_cli, db_env
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import strategy_entry


env = pytest.fixture(db_env, name="env")


async def test_status_reports_feed_health_and_queue(env, capsys, tmp_path):
    async with FeedServer() as srv:
        srv.add("/ok.xml", make_rss("Ok", [strategy_entry(0)]))
        srv.script("/bad.xml", [500])
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "Ok"\nurl = "{srv.url("/ok.xml")}"\n'
                         f'[[feed]]\nname = "Bad"\nurl = "{srv.url("/bad.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(feeds))
        import asyncio
        await asyncio.to_thread(run_cli, capsys, "poll", "--once")
    code, out, _ = run_cli(capsys, "status", "--json")
    status = json.loads(out)
    assert code == 0 and status["feeds"] == {"ok": 1, "failing": 1}
    assert status["last_poll"] and "HTTP 500" in status["problem_feeds"][0]["last_error"]
    code, out, _ = run_cli(capsys, "status")
    assert "feeds needing attention" in out and "Bad" in out
    assert out.startswith("database ")      # not after a blank line


def test_status_shows_posts_waiting_after_a_failed_try(env, capsys):
    """Slack refusing the bot token (or an outage, a 429 storm) holds every post: the
    status said only "3 due", as if all were well, and no failed post or paused channel."""
    from datetime import datetime, timedelta, timezone
    from storage.store import Store
    from tests.fakes.slack import make_brief
    now = datetime.now(timezone.utc)
    Path(os.environ["AINEWS_DB"]).parent.mkdir(parents=True)
    with Store(os.environ["AINEWS_DB"]) as store:
        for i in range(3):
            store.enqueue_post(cluster_id=f"k{i}", brief=make_brief(id=f"s{i}"),
                               platform="slack", workspace="T1", channel="C1", held=False,
                               now=now)
        store.claim_post(1, now)
        store.record_retry(1, next_attempt=now + timedelta(minutes=10), error=(
            "slack: chat.postMessage to C1 failed: token_revoked: the bot token was "
            "revoked; reinstall the app; posts wait until the token works"))
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and "posts waiting after a failed try" in out
    assert "token_revoked" in out and "3 due" in out
    (row,) = json.loads(run_cli(capsys, "status", "--json")[1])["retrying_posts"]
    assert row["platform"] == "slack" and row["channel"] == "C1" and row["posts"] == 1
    assert row["next_try"].startswith(str((now + timedelta(minutes=10)).year))


def test_status_shows_feed_text_without_terminal_escapes(env, capsys, tmp_path):
    """A failed post's headline is feed text: an ANSI/OSC sequence in it must not reach
    the operator's terminal (recolour it, retitle the window, hide lines)."""
    from datetime import datetime, timezone
    from feeds.models import Brief
    from storage.store import Store
    hostile = "\x1b]0;pwned\x07\x1b[2J\x1b[31mOpenAI\u202e cuts\nprices"
    with Store(tmp_path / "db" / "ainews.db") as store:
        b = Brief(id="s1", headline=hostile, bullets=(), why_it_matters="",
                  url="https://news.example/1", source="Wire\x1b[8m",
                  published=datetime(2026, 3, 2, tzinfo=timezone.utc), strategy=True)
        store.enqueue_post(cluster_id="s1", brief=b, platform="slack", workspace="T",
                           channel="C\x1b[1m", held=False, now=b.published)
        store.record_failed(1, "rejected: \x1b[5mblink")
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and "failed posts" in out
    assert "]0;pwned" in out and "OpenAI cuts prices" in out     # shown, defused
    assert not any(c in out for c in "\x1b\x07\u202e")


@pytest.mark.parametrize("reached, said", [
    (False, "feeds      3 failing (no feed answers, DNS or connection failures everywhere: "
            "the network looks down; not counted against the feeds)"),
    (True, "feeds      2 failing, 1 ok"),
], ids=["none-reached", "one-reached"])
def test_status_says_when_the_network_not_the_feeds_looks_down(env, capsys, reached, said):
    """With no way out, every feed was "failing" on a DNS error and status said only
    "3 failing", while the bot's log said the network looked down and counted nothing."""
    from datetime import timedelta
    from feeds.models import FeedSource, utcnow
    from storage.store import Store
    now = utcnow()
    Path(os.environ["AINEWS_DB"]).parent.mkdir(parents=True)
    with Store(os.environ["AINEWS_DB"]) as store:
        for i in range(3):
            url = f"https://feed{i}.example/rss"
            store.upsert_feed(FeedSource(f"Feed {i}", url))
            if reached and i == 0:
                store.record_not_modified(url, now=now, next_poll=now + timedelta(minutes=2))
                continue
            store.record_unreachable(url, now=now, next_poll=now + timedelta(minutes=2),
                                     kind="dns", message=f"fetcher: feed{i}.example: DNS "
                                                         "lookup failed")
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and said in out.splitlines()
    assert json.loads(run_cli(capsys, "status", "--json")[1])["network_looks_down"] is not reached


def test_status_counts_each_channels_posts_too_old_to_post(env, capsys):
    """Posts that waited in the outbox past AINEWS_MAX_POST_AGE_HOURS (the bot stopped
    for days, a channel paused) are not posted: status says how many, per channel."""
    import asyncio
    from datetime import datetime, timedelta, timezone
    from bot.delivery import Delivery
    from storage.store import Store
    from tests.fakes.recorder import FakeClock, RecordingAdapter
    from tests.fakes.slack import make_brief
    queued = datetime.now(timezone.utc) - timedelta(days=7)
    clock = FakeClock(queued + timedelta(days=7))
    Path(os.environ["AINEWS_DB"]).parent.mkdir(parents=True)
    with Store(os.environ["AINEWS_DB"]) as store:
        for i, channel in enumerate(("C1", "C1", "C1", "C2")):
            store.enqueue_post(cluster_id=f"k{i}", brief=make_brief(id=f"s{i}",
                                                                    published=queued),
                               platform="slack", workspace="T1", channel=channel,
                               held=False, now=queued)
        adapter = RecordingAdapter(platform="slack", clock=clock)
        asyncio.run(Delivery(store, {"slack": adapter}, clock=clock, sleep=clock.sleep,
                             max_post_age=timedelta(hours=48)).run_once())
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and "posts too old to post" in out
    assert [line.split()[:4] for line in out.splitlines() if "too old to post" in line
            and line.startswith("slack")] == [["slack", "C1", "3", "too"],
                                               ["slack", "C2", "1", "too"]], out
    rows = json.loads(run_cli(capsys, "status", "--json")[1])["stale_posts"]
    assert [(r["channel"], r["posts"]) for r in rows] == [("C1", 3), ("C2", 1)]


def test_status_says_when_each_failed_post_failed_and_only_counts_old_ones(env, capsys):
    """A post rejected five months ago (kept until AINEWS_KEEP_DAYS forgets it) was
    listed under "failed posts" as one rejected a minute ago, with no time: the operator
    could not tell settled history from a channel rejecting posts now."""
    from datetime import timedelta
    from feeds.models import utcnow
    from storage.store import Store
    from tests.fakes.slack import make_brief
    now = utcnow()
    Path(os.environ["AINEWS_DB"]).parent.mkdir(parents=True)
    for n, when in enumerate([now - timedelta(days=150), now - timedelta(hours=2)], 1):
        with Store(os.environ["AINEWS_DB"], clock=lambda when=when: when) as store:
            store.enqueue_post(cluster_id=f"k{n}", brief=make_brief(id=f"s{n}"),
                               platform="slack", workspace="T1", channel=f"C{n}",
                               held=False, now=when)
            store.claim_post(n, when)
            store.record_failed(n, "rejected: msg_too_long")
    code, out, _ = run_cli(capsys, "status")
    section = out[out.index("failed posts"):]
    assert code == 0 and "C2" in section and "C1" not in section
    assert (now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M") in section
    old = (now - timedelta(days=150)).strftime("%Y-%m-%d")
    assert f"1 older failed post, over 7 days ago (the latest {old}" in section
    st = json.loads(run_cli(capsys, "status", "--json")[1])
    (failed,) = st["failed_posts"]
    assert failed["channel"] == "C2" and failed["failed_at"].startswith(
        (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    assert st["older_failed_posts"]["posts"] == 1
    assert st["older_failed_posts"]["latest"].startswith(old)


async def _polled_for_weeks(publishing: dict[str, list[int]], days: int) -> None:
    """The real pipeline polling each feed once a day for `days` days, up to now: feed
    name -> the days it publishes a story (day 0 is its first poll's backlog)."""
    from datetime import timedelta
    from bot.pipeline import Pipeline
    from feeds.classify import Classifier
    from feeds.fetcher import FetchPolicy, Fetcher
    from feeds.formatter import Formatter
    from feeds.models import FeedSource, utcnow
    from storage.store import Store
    from tests.fakes.feedserver import make_entries
    start = utcnow() - timedelta(days=days)
    Path(os.environ["AINEWS_DB"]).parent.mkdir(parents=True)
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        with Store(os.environ["AINEWS_DB"], clock=lambda: start) as added:   # day 0
            for name in publishing:
                added.upsert_feed(FeedSource(name, srv.url(f"/{name}.xml")))
        store = Store(os.environ["AINEWS_DB"])
        pipeline = Pipeline(store, fetcher, Classifier(), Formatter(store))
        for day in range(days + 1):
            now = start + timedelta(days=day)
            for seed, (name, on) in enumerate(publishing.items()):
                entries = [make_entries(1, seed=100 * seed + d, paragraphs=1,
                                        start=start + timedelta(days=d))[0]
                           for d in reversed(on) if start + timedelta(days=d) <= now]
                srv.add(f"/{name}.xml", make_rss(name, entries[:10]))
            await pipeline.poll_once(now=now, all_feeds=True)
    store.close()


async def test_status_names_a_feed_gone_quiet_for_longer_than_usual(env, capsys):
    """A feed that stops publishing (a frozen copy left at its old address, a broken
    CMS) answers every poll, so it read `ok` in status for good: the operator never
    learnt the outlet was no longer followed. One quiet for four times its usual gap
    between new stories (a week at least) is named; a blog that posts every few weeks
    is not, for a quiet of as long."""
    await _polled_for_weeks({"Daily": list(range(46)), "Monthly": [0, 20, 40]}, days=60)
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and "feeds with no new story for longer than usual" in out
    lines = [line for line in out.splitlines() if line.startswith(("Daily", "Monthly"))]
    assert len(lines) == 1 and lines[0].split()[:2] == ["Daily", "15"], out
    assert "every day" in lines[0] and "feeds check" in out
    (row,) = json.loads(run_cli(capsys, "status", "--json")[1])["quiet_feeds"]
    assert row["name"] == "Daily" and row["quiet_days"] == 15 and row["usual_gap_days"] == 1


async def test_status_names_a_feed_that_never_brought_a_new_story(env, capsys):
    """A feed added at an address its outlet had left (an old OPML list, a frozen copy)
    answers every poll with its old archive, stored as the first poll's backlog, and
    never brings a story: with no new story to count from, status never named it, though
    README says a feed that brought too few to tell is named after a month."""
    await _polled_for_weeks({"Frozen": [0], "Daily": list(range(41))}, days=40)
    (row,) = json.loads(run_cli(capsys, "status", "--json")[1])["quiet_feeds"]
    assert row["name"] == "Frozen" and row["quiet_days"] == 40
    assert row["usual_gap_days"] is None
    out = run_cli(capsys, "status")[1]
    (line,) = [line for line in out.splitlines() if line.startswith("Frozen")]
    assert "too few new stories to tell" in line
