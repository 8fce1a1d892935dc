"""`ainews poll --once` against a local feed server: what it stores and what its
summary says of failing, paused, broken and too-old feeds and stories."""
from __future__ import annotations

import json
import os

import pytest

from tests.cli_kit import DATA, BRIEF_KEYS, SEED_HEADLINE, run_cli, paused_feed, db_env
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import strategy_entry


env = pytest.fixture(db_env, name="env")


async def test_poll_then_lookups(env, capsys, tmp_path):
    async with FeedServer() as srv:
        srv.add("/seed.xml", (DATA / "seed-story.xml").read_bytes())
        srv.add("/gone.xml", b"", content_type="text/plain")
        srv.script("/gone.xml", [404])
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "FT"\nurl = "{srv.url("/seed.xml")}"\n'
                         f'[[feed]]\nname = "Gone"\nurl = "{srv.url("/gone.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(feeds))
        import asyncio
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "poll", "--once", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["feeds_polled"] == 2 and summary["new_strategy_stories"] == 1
    assert "HTTP 404" in summary["failures"][0]["error"]
    for query in (["company", "qwen"], ["company", "ALIBABA"], ["company", "Alibaba", "Group"],
                  ["search", "open-source"], ["latest", "--strategy-only"]):
        code, out, _ = run_cli(capsys, *query, "--json")
        rows = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and rows[0]["headline"] == SEED_HEADLINE, query
        assert BRIEF_KEYS <= set(rows[0])
    code, _, err = run_cli(capsys, "company", "alibabba")
    assert code == 1 and "did you mean Alibaba" in err
    code, out, _ = run_cli(capsys, "feeds", "list", "--json")
    health = {json.loads(line)["name"]: json.loads(line)["health"] for line in out.splitlines()}
    assert health == {"FT": "ok", "Gone": "failing"}


def test_poll_names_the_failing_feeds_it_left_to_their_backoff(env, capsys, tmp_path):
    # `poll --once` skips a failing feed until its backoff ends: "0 feeds polled" alone
    # leaves a user checking whether a fixed feed works none the wiser.
    from datetime import timedelta
    from feeds.models import FeedSource, utcnow
    from storage.store import Store
    url = "https://down.example/rss"
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Down"\nurl = "{url}"\n')
    env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    store = Store(os.environ["AINEWS_DB"])
    store.upsert_feed(FeedSource("Down", url))
    store.record_fetch_failure(url, now=utcnow(), next_poll=utcnow() + timedelta(hours=1),
                               kind="http", message="fetcher: down.example answered HTTP 503")
    store.close()
    code, out, _ = run_cli(capsys, "poll", "--once")
    assert code == 0 and out.startswith("0 feeds polled")
    assert f"waiting: Down ({url}) after 1 failure: " in out   # was "after 1 failures"
    assert "HTTP 503" in out and "next try" in out
    code, out, _ = run_cli(capsys, "poll", "--once", "--json")
    assert [w["url"] for w in json.loads(out)["waiting_feeds"]] == [url]


@pytest.mark.parametrize("kind, own_404", [("dns", False), ("connect", False), ("dns", True)])
def test_poll_during_an_outage_says_the_network_looked_down(env, capsys, tmp_path, kind,
                                                            own_404):
    # Each feed read "waiting: ... after 1 failure", as if broken, while the poller had
    # found the network down and counted none of it against them.
    from datetime import timedelta
    from feeds.models import FeedSource, shown_utc, utcnow
    from storage.store import Store
    urls, next_poll = [f"https://f{i}.example/rss" for i in range(3)], utcnow() + timedelta(hours=1)
    (tmp_path / "feeds.toml").write_text("".join(f'[[feed]]\nname = "{u}"\nurl = "{u}"\n'
                                                 for u in urls))
    env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    with Store(os.environ["AINEWS_DB"]) as store:
        for url in urls:
            store.upsert_feed(FeedSource(url, url))
            store.record_unreachable(url, now=utcnow(), next_poll=next_poll, kind=kind,
                                     message=f"fetcher: {url}: unreachable")
        if own_404:     # its own failures, counted: it keeps its line and its backoff
            store.upsert_feed(FeedSource("Gone", "https://gone.example/rss"))
            store.record_fetch_failure("https://gone.example/rss", now=utcnow(),
                                       next_poll=next_poll + timedelta(hours=5), kind="http",
                                       message="fetcher: gone.example answered HTTP 404")
    code, out, _ = run_cli(capsys, "poll", "--once")
    assert code == 0 and out.splitlines()[1:] == [
        "  waiting: 3 feeds, none reached at the last poll: the network looks down (not "
        f"counted against the feeds); next try {shown_utc(next_poll)}"] + ([
        "  waiting: Gone (https://gone.example/rss) after 1 failure: http: fetcher: "
        f"gone.example answered HTTP 404; next try {shown_utc(next_poll + timedelta(hours=5))}"]
        if own_404 else [])


@pytest.mark.parametrize("setting,too_old", [(None, 1), ("0", 0), ("200", 0)])
async def test_poll_says_how_many_new_stories_were_too_old_to_post(env, capsys, tmp_path,
                                                                   setting, too_old):
    # A week-old entry turning up late is stored, not posted: `poll` says so, else
    # "2 new strategy stories" reads as two posts coming.
    import asyncio
    from datetime import timedelta
    from feeds.models import utcnow
    if setting is not None:
        env.setenv("AINEWS_MAX_POST_AGE_HOURS", setting)
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(0)]))
        (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Example AI"\n'
                                             f'url = "{srv.url("/feed.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
        await asyncio.to_thread(run_cli, capsys, "poll", "--once")     # first poll: backlog
        week_old = strategy_entry(1, published=utcnow() - timedelta(days=7))
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(2), week_old,
                                                     strategy_entry(0)]))
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "poll", "--once")
        assert code == 0 and "2 new strategy stories" in out
        assert ("too old to post (stored, not posted): 1 story" in out) == bool(too_old)
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(3, published=(
            utcnow() - timedelta(days=7, hours=1)))]))
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "poll", "--once", "--json")
    assert code == 0 and json.loads(out)["too_old_stories"] == too_old


@pytest.mark.parametrize("as_json", [False, True])
def test_poll_names_the_paused_feeds_it_skipped(env, capsys, tmp_path, as_json):
    # A paused feed is not polled: without a word, "0 feeds polled" hides it for good.
    url = "https://gone.example/rss"
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Gone"\nurl = "{url}"\n')
    env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    paused_feed("Gone", url)
    code, out, _ = run_cli(capsys, "poll", "--once", *(["--json"] if as_json else []))
    assert code == 0
    if as_json:
        paused = json.loads(out)["paused_feeds"]
        assert [(p["name"], p["url"]) for p in paused] == [("Gone", url)]
        assert "HTTP 410" in paused[0]["last_error"]
    else:
        assert f"paused: Gone ({url})" in out and "HTTP 410" in out
        assert f"ainews feeds resume {url}" in out


async def test_poll_reports_a_feed_read_despite_broken_xml(env, capsys, tmp_path):
    """A slightly broken feed keeps its entries; the run says what was repaired, so the
    operator is not left guessing why a story looks cut short."""
    import asyncio
    body = make_rss("Cut AI", [strategy_entry(0), strategy_entry(1)])
    body = body[:body.index(b"</channel>")] + b"<item><title>thr"   # cut off mid-entry
    async with FeedServer() as srv:
        srv.add("/cut.xml", body)
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "Cut"\nurl = "{srv.url("/cut.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(feeds))
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "poll", "--once")
    warning = [line for line in out.splitlines() if line.startswith("  warning: Cut: ")]
    assert code == 0 and "0 failed" in out
    assert len(warning) == 1 and "malformed XML" in warning[0] and "kept 2 entries" in warning[0]


async def test_poll_failure_lines_reach_the_terminal_defused(env, capsys, tmp_path):
    """A feed's name may be its own title (`feeds add` without NAME): feed text."""
    import asyncio
    async with FeedServer() as srv:
        srv.script("/bad.xml", [500])
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "Bad\\u001b]0;pwned\\u0007"\n'
                         f'url = "{srv.url("/bad.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(feeds))
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "poll", "--once")
    assert code == 0 and "failed: Bad]0;pwned" in out and "\x1b" not in out
