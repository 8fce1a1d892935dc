"""The feeds file: what a user writes by hand, and the one-line errors when it is wrong."""
from __future__ import annotations

import pytest

from feeds.feedlist import DEFAULT_FEEDS_FILE, FeedListError, load_feed_list
from feeds.models import FeedSource

FEEDS = '[[feed]]\nname = "Caixin Global · AI"\nurl = "https://example.com/rss"\ntags = ["cn"]\n'


def test_the_bundled_list_loads():
    feeds = load_feed_list(DEFAULT_FEEDS_FILE)
    assert len(feeds) >= 15 and all(f.url.startswith(("http://", "https://")) for f in feeds)


def test_an_empty_file_is_an_empty_list(tmp_path):
    # How to start from no feeds at all (AINEWS_FEEDS empty means the bundled list).
    path = tmp_path / "feeds.toml"
    path.write_text("# feeds come from `ainews feeds add`\n")
    assert load_feed_list(path) == []


def test_a_file_saved_with_a_bom_loads(tmp_path):
    # Windows editors (Notepad, "UTF-8 with BOM") start the file with U+FEFF.
    path = tmp_path / "feeds.toml"
    path.write_bytes(b"\xef\xbb\xbf" + FEEDS.encode("utf-8"))
    assert load_feed_list(path) == [
        FeedSource("Caixin Global · AI", "https://example.com/rss", ("cn",))]


@pytest.mark.parametrize("content, message", [
    (FEEDS.encode("cp1252"), "is not UTF-8"),
    (b'[[feed]]\nurl = "https://example.com/rss\n', "is not valid TOML"),
    (b'[[feed]]\nname = "no url"\n', "feed #1 needs a url"),
    (b'[[feed]]\nurl = "ftp://example.com/rss"\n', "is not an http(s) URL"),
    (b'feed = "https://example.com/rss"\n', "use [[feed]] tables"),
    (b'[[feed]]\nurl = "http://[::1/rss"\n', "is not an http(s) URL"),
    (b'[[feed]]\nurl = "https://example.com:99999/rss"\n', "is not an http(s) URL"),
    # A misspelt table name read as no feeds at all: a bot that polled nothing, silently.
    (b'[[feeds]]\nname = "Wire"\nurl = "https://example.com/rss"\n', "no [[feed]] tables"),
    (b'[[Feed]]\nurl = "https://example.com/rss"\n', "no [[feed]] tables"),
])
def test_a_bad_file_is_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "feeds.toml"
    path.write_bytes(content)
    with pytest.raises(FeedListError) as err:
        load_feed_list(path)
    assert str(err.value).startswith(f"feeds: {path}") and message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("tags", ['["labs,china"]', '["labs, china", " ", "labs"]',
                                  '"labs, china,"'])
def test_tags_are_split_at_commas_as_feeds_add_splits_them(tmp_path, tags):
    """tags = ["labs,china"] was one tag "labs,china"; a plain string was refused."""
    path = tmp_path / "feeds.toml"
    path.write_text(f'[[feed]]\nurl = "https://example.com/rss"\ntags = {tags}\n')
    assert load_feed_list(path)[0].tags == ("labs", "china")


def test_a_fragment_is_dropped_as_feeds_add_drops_it(tmp_path):
    """A client never sends it: feed.xml#top beside feed.xml was one feed polled twice."""
    path = tmp_path / "feeds.toml"
    path.write_text('[[feed]]\nurl = "https://example.com/rss#top"\n'
                    '[[feed]]\nurl = "https://example.com/rss"\n')
    assert [f.url for f in load_feed_list(path)] == ["https://example.com/rss"]


@pytest.mark.parametrize("url, secret", [
    # A port mistyped: the error quoted the whole URL, user:password@ and all.
    ("https://alice:s3cretpw@private.example:99999/rss?token=t0k3n", "s3cretpw"),
    # A password with "/" or "?" not %-escaped: urlsplit ends the host there.
    ("https://alice:s3cr/etpw@private.example/rss", "s3cr/etpw"),
    ("https://alice:s3cr?etpw@private.example/rss", "s3cr?etpw"),
    ("https://alice:s3cretpw@private.example:99999/rss?token=t0k3n", "t0k3n"),
], ids=["port", "slash", "question-mark", "token"])
def test_a_bad_feed_urls_error_keeps_its_credentials_hidden(tmp_path, url, secret):
    """The README: a feed's credentials are never shown, errors included. This one-line
    error stops `ainews run` and lands in the journal (or a pasted terminal)."""
    path = tmp_path / "feeds.toml"
    path.write_text(f'[[feed]]\nurl = "{url}"\n')
    with pytest.raises(FeedListError) as err:
        load_feed_list(path)
    assert "feed #1" in str(err.value)
    assert secret not in str(err.value), str(err.value)
