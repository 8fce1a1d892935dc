"""Rebuilding the labelled sets' items from git mirrors (bench/rebuild_sets.py, bench/rebuild_match.py).
Every entry here is invented; no outlet's text."""
from __future__ import annotations

import gzip
import json

import pytest

from bench import eval_classify as ev
from bench import rebuild_sets as rb
from bench.rebuild_match import Entry, Source, find_entry, link_key, read_sources
from tests.rebuild_kit import mirror

DAY = "2026/03/2026-03-02/https...news.invalid.feed_entries.json"
DUMP = "backup/dump.jsonl.gz"


@pytest.mark.parametrize("labelled, stored", [
    ("https://blog.invalid/2026/07/issue-9.html", "http://blog.invalid/2026/07/issue-9.html"),
    ("https://news.invalid/ai/2025/07/acme-raises", "https://news.invalid/ai/2025/07/acme-raises/"),
    ("https://news.invalid/a?id=7", "https://News.invalid/a?id=7&utm_source=rss&utm_medium=feed"),
    ("https://news.invalid/a", "https://news.invalid/a#comments"),
    ("https://news.invalid/news/articles/c1", "https://news.invalid/news/articles/c1?at_medium=RSS&at_campaign=rss"),
])
def test_a_link_normalised_by_the_collector_keys_as_the_stored_one(labelled, stored):
    assert link_key(labelled) == link_key(stored)


@pytest.mark.parametrize("one, other", [
    ("https://news.invalid/?p=1994427", "https://news.invalid/?p=1994428"),   # the query names the story
    ("https://news.invalid/p/1?f=rss", "https://news.invalid/p/2?f=rss"),
    ("https://news.invalid/a/b", "https://news.invalid/a"),
])
def test_different_stories_keep_different_keys(one, other):
    assert link_key(one) != link_key(other)


def entry(link, title="Acme AI raises funding", outlet="", published=""):
    return Entry(link, title, "invented summary", None, published, outlet)


def source(link, outlet="Outlet", published="2026-08-02T06:14:03.000Z"):
    return Source(link, "owner/name", DUMP, outlet, published)


def test_the_exact_link_wins_over_a_normalised_one():
    entries = [entry("https://news.invalid/a/", "slash"), entry("https://news.invalid/a", "exact")]
    assert find_entry(source("https://news.invalid/a"), entries).title == "exact"


def test_a_post_and_a_flash_of_one_link_are_told_apart_by_outlet_and_time():
    link = "https://news.invalid/8110191.html"
    entries = [entry(link, "as a flash", "Outlet flashes", "2026-08-20T05:43:07.000Z"),
               entry(link, "as a post", "Outlet", "2026-08-20T05:43:07.000Z")]
    assert find_entry(source(link, "Outlet", "2026-08-20T05:43:07.000Z"), entries).title == "as a post"


def test_a_link_with_no_entry_is_not_found():
    assert find_entry(source("https://news.invalid/gone"), [entry("https://news.invalid/a")]) is None


def test_sources_rows_name_their_file_or_take_the_sets_one(tmp_path):
    (tmp_path / "s.tsv").write_text(
        "# link\trepo\tpath\toutlet\tpublished\tkind\n"
        f"https://news.invalid/a\towner/daily\t{DAY}\tNews\t2026-03-02T10:00:00+00:00\tai\n"
        "https://news.invalid/b\t快讯\t2026-08-02T06:14:03.000Z\n", encoding="utf-8")
    rows = read_sources(tmp_path / "s.tsv", default=("owner/dump", DUMP))
    assert (rows["https://news.invalid/a"].repo, rows["https://news.invalid/a"].path) == ("owner/daily", DAY)
    assert rows["https://news.invalid/b"] == Source("https://news.invalid/b", "owner/dump", DUMP, "快讯",
                                                    "2026-08-02T06:14:03.000Z")


def test_a_flash_is_split_into_headline_and_text_and_other_tables_are_skipped():
    dump = "\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"table": "posts", "row": {"url": "https://news.invalid/p", "title": "甲公司融资", "summary": "摘要",
                                   "source": "News", "created_at": "2026-08-01T00:00:00.000Z"}},
        {"table": "flashes", "row": {"url": "https://news.invalid/f", "content": "乙公司发布模型 — 正文在此",
                                     "source": "News 快讯", "created_at": "2026-08-02T00:00:00.000Z"}},
        {"table": "votes", "row": {"url": "https://news.invalid/v"}}]).encode()
    post, flash = rb.tidewire_entries(dump)
    assert (post.title, post.summary, post.outlet) == ("甲公司融资", "摘要", "News")
    assert (flash.title, flash.summary, flash.outlet) == ("乙公司发布模型", "正文在此", "News 快讯")


# ---- end to end: mirrors made with git in the test's folder ----------------------------------

@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Two invented sets: `daily` (feed entries by day) and `dump` (the aggregator's dump on a
    branch), their labels and sources, and their mirrors. Returns the main() arguments."""
    day = [{"link": "https://news.invalid/ai/acme-raises", "title": "Acme AI raises $50 million",
            "description": "An invented story.", "date_published": "2026-03-02T10:00:00+00:00"},
           {"link": "https://news.invalid/howto", "title": "How to write prompts",
            "description": "An invented how-to.", "date_published": "2026-03-02T09:00:00+00:00"}]
    dump = json.dumps({"table": "posts", "row": {
        "url": "http://blog.invalid/p/1?f=rss", "title": "甲公司发布大模型", "summary": "虚构的摘要",
        "source": "Blog", "created_at": "2026-08-01T00:00:00.000Z"}}, ensure_ascii=False)
    mirror(tmp_path, "owner/daily", {DAY: json.dumps(day).encode()})
    mirror(tmp_path, "owner/dump", {"README.md": b"x"}, {DUMP: gzip.compress(dump.encode())})
    data = tmp_path / "data"
    data.mkdir()
    (data / "daily-sources.tsv").write_text("".join(
        f"{link}\towner/daily\t{DAY}\tNews\t{pub}\tai\n" for link, pub in
        [("https://news.invalid/ai/acme-raises/", "2026-03-02T10:00:00+00:00"),
         ("https://news.invalid/howto", "2026-03-02T09:00:00+00:00")]), encoding="utf-8")
    (data / "daily.tsv").write_text("https://news.invalid/ai/acme-raises/\t1\tx\n"
                                    "https://news.invalid/howto\t0\tx\n", encoding="utf-8")
    (data / "dump-sources.tsv").write_text("https://blog.invalid/p/1?f=rss\tBlog\t2026-08-01T00:00:00.000Z\n",
                                           encoding="utf-8")
    (data / "dump.tsv").write_text("https://blog.invalid/p/1?f=rss\t1\tx\n", encoding="utf-8")
    monkeypatch.setattr(rb, "DATA", data)
    monkeypatch.setattr(rb, "DUMP", ("owner/dump", DUMP))
    monkeypatch.setattr(rb, "SETS", {"daily": ("daily-sources.tsv", ("daily", "items.jsonl")),
                                     "dump": ("dump-sources.tsv", ("dump", "items.jsonl"))})
    monkeypatch.setitem(ev.SETS, "daily", data / "daily.tsv")
    monkeypatch.setitem(ev.SETS, "dump", data / "dump.tsv")
    return ["--mirrors", str(tmp_path / "mirrors"), "--out-dir", str(tmp_path / "out")]


def _items(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_labelled_link_is_found_and_written_as_labelled(tiny, tmp_path, capsys):
    assert rb.main(tiny) == 0
    daily, dump = _items(tmp_path / "out" / "daily" / "items.jsonl"), _items(tmp_path / "out" / "dump" / "items.jsonl")
    assert [i["link"] for i in daily] == ["https://news.invalid/ai/acme-raises/", "https://news.invalid/howto"]
    assert daily[0] == {"link": "https://news.invalid/ai/acme-raises/", "title": "Acme AI raises $50 million",
                        "summary": "An invented story.", "content_html": None, "outlet": "News",
                        "published": "2026-03-02T10:00:00+00:00"}
    assert (dump[0]["link"], dump[0]["title"], dump[0]["summary"]) == (
        "https://blog.invalid/p/1?f=rss", "甲公司发布大模型", "虚构的摘要")
    assert "daily: 2 / 2 labelled links found" in capsys.readouterr().out


def test_a_different_items_file_already_there_is_kept_unless_replace_is_asked(tiny, tmp_path, capsys):
    kept = tmp_path / "out" / "daily" / "items.jsonl"
    kept.parent.mkdir(parents=True)
    kept.write_text('{"link": "collected"}\n', encoding="utf-8")
    assert rb.main(tiny + ["--only", "daily"]) == 1
    assert kept.read_text(encoding="utf-8") == '{"link": "collected"}\n'
    assert "exists and differs" in capsys.readouterr().err
    assert rb.main(tiny + ["--only", "daily", "--replace"]) == 0
    assert _items(kept)[0]["link"] == "https://news.invalid/ai/acme-raises/"


def test_the_items_are_what_eval_classify_reads(tiny, tmp_path):
    rb.main(tiny + ["--only", "daily"])
    corpus = ev.load_corpus(tmp_path / "out" / "daily" / "items.jsonl")
    found = [corpus[link] for link, _, _ in ev.load_labels(rb.DATA / "daily.tsv")]
    assert ev.story_text(found[0]) == ("Acme AI raises $50 million", "An invented story.")


def test_a_set_with_a_link_not_found_is_not_written_and_the_link_is_named(tiny, tmp_path, capsys):
    with (rb.DATA / "daily.tsv").open("a", encoding="utf-8") as f:
        f.write("https://news.invalid/never\t1\tx\n")
    with (rb.DATA / "daily-sources.tsv").open("a", encoding="utf-8") as f:
        f.write(f"https://news.invalid/never\towner/daily\t{DAY}\tNews\t2026-03-02T08:00:00+00:00\tai\n")
    assert rb.main(tiny + ["--only", "daily"]) == 1
    err = capsys.readouterr().err
    assert "daily: 2 / 3 labelled links found; not written" in err
    assert f"https://news.invalid/never: no entry in owner/daily {DAY}" in err
    assert not (tmp_path / "out" / "daily").exists()


def test_a_missing_mirror_is_named_with_how_to_get_it(tiny, tmp_path, capsys):
    assert rb.main(["--mirrors", str(tmp_path / "nowhere"), "--out-dir", str(tmp_path / "out"),
                    "--only", "dump"]) == 1
    err = capsys.readouterr().err
    assert "no clone of owner/dump" in err and "git clone --bare https://github.com/owner/dump.git" in err


def test_a_file_the_snapshot_lacks_is_read_from_the_saved_files(tiny, tmp_path, capsys):
    later = DAY.replace("03-02", "09-30").replace("/03/", "/09/")
    saved = tmp_path / "mirrors" / "owner+daily" / "files" / later
    with (rb.DATA / "daily-sources.tsv").open("a", encoding="utf-8") as f:
        f.write(f"https://news.invalid/late\towner/daily\t{later}\tNews\t2026-09-30T08:00:00+00:00\tai\n")
    with (rb.DATA / "daily.tsv").open("a", encoding="utf-8") as f:
        f.write("https://news.invalid/late\t0\tx\n")
    assert rb.main(tiny + ["--only", "daily"]) == 1
    assert f"{later} is not in its clone" in capsys.readouterr().err
    saved.parent.mkdir(parents=True)
    saved.write_text(json.dumps([{"link": "https://news.invalid/late", "title": "Later", "description": "d"}]))
    assert rb.main(tiny + ["--only", "daily"]) == 0


def test_items_are_never_written_inside_the_repository(tiny):
    with pytest.raises(SystemExit, match="inside the repository"):
        rb.main(tiny[:2] + ["--out-dir", str(rb.ROOT / "tests"), "--only", "dump"])


def test_an_unknown_set_is_refused(tiny, capsys):
    assert rb.main(tiny + ["--only", "zh9"]) == 2
    assert "not 'zh9'" in capsys.readouterr().err


# ---- --list-sources: what a fresh machine needs before it can rebuild ------------------------

def test_list_sources_names_each_repository_with_its_sets_and_writes_nothing(tiny, tmp_path, capsys):
    assert rb.main(tiny + ["--list-sources"]) == 0
    out = capsys.readouterr().out
    assert "owner/daily (daily): 1 file; clone here" in out
    assert "owner/dump (dump): 1 file; clone here" in out
    assert "2 of 2 source files here (2 repositories, 0 not cloned, 0 files to get)" in out
    assert not (tmp_path / "out").exists()


def test_list_sources_says_what_to_clone_when_no_clone_is_here(tiny, tmp_path, capsys):
    assert rb.main(["--mirrors", str(tmp_path / "nowhere"), "--list-sources", "--only", "dump"]) == 1
    out = capsys.readouterr().out
    assert "owner/dump (dump): 1 file; not cloned: git clone --bare https://github.com/owner/dump.git" in out
    assert f"    {DUMP} (dump)" in out


def test_list_sources_names_a_file_the_snapshot_lacks_until_it_is_saved(tiny, tmp_path, capsys):
    later = DAY.replace("03-02", "09-30").replace("/03/", "/09/")
    with (rb.DATA / "daily-sources.tsv").open("a", encoding="utf-8") as f:
        f.write(f"https://news.invalid/late\towner/daily\t{later}\tNews\t2026-09-30T08:00:00+00:00\tai\n")
    with (rb.DATA / "daily.tsv").open("a", encoding="utf-8") as f:
        f.write("https://news.invalid/late\t0\tx\n")
    saved = tmp_path / "mirrors" / "owner+daily" / "files" / later
    assert rb.main(tiny + ["--list-sources", "--only", "daily"]) == 1
    out = capsys.readouterr().out
    assert (f"1 not here: download each from https://raw.githubusercontent.com/owner/daily/HEAD/PATH"
            f" to {saved.parents[3]}/PATH") in out
    assert f"    {later} (daily)" in out
    saved.parent.mkdir(parents=True)
    saved.write_text("[]")
    assert rb.main(tiny + ["--list-sources", "--only", "daily"]) == 0
    assert "2 of 2 source files here" in capsys.readouterr().out
