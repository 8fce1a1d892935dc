"""`ainews feeds remove|add|list` as a user types them: names for URLs, tags, times."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest

from feeds.models import FeedSource
from storage.store import Store
from tests.cli_kit import run_cli
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import strategy_entry

HN = FeedSource("Hacker News", "https://hn.example/rss")
T = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def db(clean_env, tmp_path):
    path = tmp_path / "ainews.db"
    clean_env.setenv("AINEWS_DB", str(path))
    with Store(path) as store:
        for source in (HN, FeedSource("The Verge AI", "https://verge.example/ai.xml"),
                       FeedSource("Tech", "https://one.example/rss"),
                       FeedSource("tech", "https://two.example/rss")):
            store.upsert_feed(source)
    return path


def urls(db) -> set[str]:
    with Store(db) as store:
        return {s.source.url for s in store.feed_states()}


@pytest.mark.parametrize("argv", [["hacker news"], ["Hacker", "News"], [HN.url]])
def test_feeds_remove_takes_the_name_feeds_list_shows(db, capsys, argv):
    """Only the URL worked: "no feed with url Hacker News"."""
    code, out, err = run_cli(capsys, "feeds", "remove", *argv)
    assert (code, out, err) == (0, f"removed Hacker News ({HN.url})\n", "")
    assert HN.url not in urls(db) and len(urls(db)) == 3


def test_feeds_remove_of_a_shared_name_lists_them_and_removes_none(db, capsys):
    code, _, err = run_cli(capsys, "feeds", "remove", "TECH")
    assert code == 1 and len(urls(db)) == 4
    assert err == ("ainews: feeds: 2 feeds are named 'TECH': give one's URL "
                   "(https://one.example/rss, https://two.example/rss)\n")


def test_feeds_remove_of_a_misspelt_name_suggests_the_closest(db, capsys):
    code, _, err = run_cli(capsys, "feeds", "remove", "Hacker Nws")
    assert code == 1 and len(urls(db)) == 4
    assert "no feed with URL or name 'Hacker Nws' — did you mean Hacker News " \
           f"({HN.url})?" in err
    code, _, err = run_cli(capsys, "feeds", "remove", "zeppelin")
    assert "no feed with URL or name 'zeppelin'; `ainews feeds list` shows them" in err


@pytest.mark.parametrize("argv", [["hacker news"], ["Hacker", "News"], [HN.url]])
def test_feeds_resume_takes_the_name_feeds_list_shows(db, capsys, argv):
    """`feeds list` names the paused feed; resume took only its URL."""
    with Store(db) as store:
        for _ in range(10):
            store.record_fetch_failure(HN.url, now=T, next_poll=T, kind="http",
                                       message="fetcher: hn.example answered HTTP 503")
    code, out, _ = run_cli(capsys, "feeds", "resume", *argv)
    assert (code, out) == (0, f"resumed {HN.url}; it will be polled on the next cycle\n")
    with Store(db) as store:
        assert not store.feed_state(HN.url).paused
    code, _, err = run_cli(capsys, "feeds", "resume", "Hacker Nws")
    assert code == 1 and f"did you mean Hacker News ({HN.url})?" in err


async def test_feeds_add_splits_tags_at_commas(db, capsys):
    """`--tag labs,china` stored one tag, "labs,china"."""
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(0)]))
        code, _, _ = await asyncio.to_thread(
            run_cli, capsys, "feeds", "add", srv.url("/feed.xml"), "--tag", "labs, china,",
            "--tag", " us ", "--tag", "labs")
    _, out, _ = run_cli(capsys, "feeds", "list", "--json")
    row = next(r for r in map(json.loads, out.splitlines()) if r["name"] == "Example AI")
    assert code == 0 and row["tags"] == ["labs", "china", "us"]


def test_an_emptied_feed_list_does_not_send_the_user_to_run(clean_env, tmp_path, capsys):
    """`ainews run` imports a feeds file once: after every feed was removed it adds none
    again, yet `feeds list` said "start `ainews run` to load the default list"."""
    path = tmp_path / "empty.db"
    clean_env.setenv("AINEWS_DB", str(path))
    Store(path).close()
    assert run_cli(capsys, "feeds", "list")[1].startswith("no feeds yet: ")
    with Store(path) as store:
        store.set_meta("imported_feeds", [HN.url])
    code, out, _ = run_cli(capsys, "feeds", "list")
    assert (code, out) == (0, "no feeds: every imported feed was removed; "
                              "`ainews feeds add URL` adds one\n")


def test_an_empty_database_names_the_feeds_file_run_will_load(clean_env, tmp_path, capsys):
    """With AINEWS_FEEDS set, `feeds list` still said `ainews run` loads the default list."""
    path, mine = tmp_path / "empty.db", tmp_path / "my-feeds.toml"
    mine.write_text('[[feed]]\nurl = "https://hn.example/rss"\n', encoding="utf-8")
    clean_env.setenv("AINEWS_DB", str(path))
    Store(path).close()
    assert run_cli(capsys, "feeds", "list")[1].endswith("to load the default list\n")
    clean_env.setenv("AINEWS_FEEDS", str(mine))
    code, out, _ = run_cli(capsys, "feeds", "list")
    assert (code, out) == (0, "no feeds yet: `ainews feeds add URL` or start `ainews run` "
                              f"to load the feeds in {mine} (AINEWS_FEEDS)\n")


@pytest.mark.parametrize("argv", [
    [HN.url, "https://verge.example/ai.xml"],
    ["Hacker News", "the verge ai"],                       # names quoted in the shell
    [HN.url, "The Verge AI", HN.url],                      # one feed given twice
])
def test_feeds_remove_takes_several_feeds(db, capsys, argv):
    """Usage says URL_OR_NAME [URL_OR_NAME ...], yet the words were joined into one
    name: "no feed with URL or name 'https://hn.example/rss https://verge...'"."""
    code, out, err = run_cli(capsys, "feeds", "remove", *argv)
    assert (code, err) == (0, "")
    assert out == (f"removed Hacker News ({HN.url})\n"
                   "removed The Verge AI (https://verge.example/ai.xml)\n")
    assert urls(db) == {"https://one.example/rss", "https://two.example/rss"}


@pytest.mark.parametrize("action", ["remove", "resume"])
def test_feeds_given_several_with_an_unknown_one_touch_none(db, capsys, action):
    with Store(db) as store:
        for _ in range(10):
            store.record_fetch_failure(HN.url, now=T, next_poll=T, kind="http",
                                       message="fetcher: hn.example answered HTTP 503")
    code, out, err = run_cli(capsys, "feeds", action, HN.url, "https://nowhere.example/rss")
    assert (code, out) == (1, "")     # nothing there, as for an unknown company
    assert err == ("ainews: feeds: no feed with URL or name 'https://nowhere.example/rss'; "
                   "`ainews feeds list` shows them\n")
    with Store(db) as store:
        assert len(store.feed_states()) == 4 and store.feed_state(HN.url).paused


def test_feeds_resume_takes_several_feeds(db, capsys):
    with Store(db) as store:
        for url in (HN.url, "https://verge.example/ai.xml"):
            for _ in range(10):
                store.record_fetch_failure(url, now=T, next_poll=T, kind="http",
                                           message="fetcher: answered HTTP 503")
    code, out, _ = run_cli(capsys, "feeds", "resume", HN.url, "The Verge AI")
    assert (code, out.count("; it will be polled on the next cycle\n")) == (0, 2)
    with Store(db) as store:
        assert not any(s.paused for s in store.feed_states())
