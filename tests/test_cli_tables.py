"""The command line's tables (`feeds list`, `status`, `subscriptions`) as a terminal
shows them: each column starts at the same place on every row."""
from __future__ import annotations

from unicodedata import east_asian_width

from bot.cli import main
from bot.cli_tables import format_table
from feeds.models import FeedSource
from storage.store import Store


def _column_of(line: str, word: str) -> int:
    """Where `word` starts on screen: wide (CJK) characters take two columns."""
    before = line[:line.index(word)]
    return sum(2 if east_asian_width(c) in "WF" else 1 for c in before)


def test_a_chinese_feed_name_keeps_the_urls_in_one_column(clean_env, tmp_path, capsys):
    # 科技快讯 is four characters on eight columns: padded by len(), its url stood four
    # columns right of the others'.
    db = tmp_path / "a.db"
    store = Store(db)
    store.upsert_feed(FeedSource("科技快讯", "https://news.example.cn/rss"))
    store.upsert_feed(FeedSource("Wire", "https://wire.example.com/rss"))
    store.close()
    assert main(["--db", str(db), "feeds", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    cn = next(x for x in lines if "news.example.cn" in x)
    en = next(x for x in lines if "wire.example.com" in x)
    assert _column_of(cn, "https://") == _column_of(en, "https://") == _column_of(lines[0], "url")


def test_columns_after_a_wide_cell_line_up():
    table = format_table(["name", "follows"], [["阿里巴巴", "all"], ["Alibaba", "pricing"]])
    head, cn, en = table.splitlines()
    assert _column_of(cn, "all") == _column_of(en, "pricing") == _column_of(head, "follows")


def test_accents_and_zero_width_marks_take_no_column():
    # "Café" as e + a combining accent (as some feeds spell it) and a name with a BOM
    # before it look like "Café" and "Wire" on screen, but len() counted the accent and
    # the BOM: their rows' next column stood one to the left of the others'.
    from unicodedata import normalize
    composed = format_table(["name", "url"], [["Café Tech", "https://a"], ["Wire", "https://b"]])
    decomposed = format_table(["name", "url"], [[normalize("NFD", "Café Tech"), "https://a"],
                                                ["\ufeffWire", "https://b"]])
    assert normalize("NFC", decomposed).replace("\ufeff", "") == composed


def test_a_feeds_error_keeps_what_to_fix(clean_env, tmp_path, capsys):
    # The last error was cut at 70 characters: "...; refused (AINEWS_ALL", the setting
    # that fixes it lost. The last column lines nothing up after it.
    db = tmp_path / "a.db"
    url = "http://127.0.0.1:8765/feed.xml"
    with Store(db) as store:
        store.upsert_feed(FeedSource("Local", url))
        store.record_fetch_failure(
            url, now=store._now(), next_poll=store._now(), kind="blocked",
            message="fetcher: 127.0.0.1 is a loopback address; refused "
                    "(AINEWS_ALLOW_PRIVATE_HOSTS=1 allows intranet feeds)")
    for argv in (["feeds", "list"], ["status"]):
        assert main(["--db", str(db), *argv]) == 0
        row = next(x for x in capsys.readouterr().out.splitlines() if "Local" in x)
        assert row.endswith("(AINEWS_ALLOW_PRIVATE_HOSTS=1 allows intranet feeds)"), argv
