"""The feeds file into the store at `ainews run`: the bundled list seeds only an empty
store (or one it seeded); a file named by AINEWS_FEEDS is the operator's."""
from __future__ import annotations

import pytest

from bot.feed_import import import_feed_list
from feeds.feedlist import load_feed_list
from feeds.models import FeedSource
from storage.store import Store

BUNDLED = load_feed_list()
MINE = [FeedSource("Mine", "https://mine.example/rss")]


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "a.db") as s:
        yield s


def urls(store) -> set[str]:
    return {s.source.url for s in store.feed_states()}


def test_a_store_seeded_from_a_file_gets_no_bundled_feed(store, tmp_path):
    """One `ainews run` without AINEWS_FEEDS added the 20 bundled feeds to it."""
    assert import_feed_list(store, MINE, tmp_path / "mine.toml") == \
        f"1 feed added from {tmp_path / 'mine.toml'}"
    note = import_feed_list(store, BUNDLED, None)
    assert urls(store) == {"https://mine.example/rss"}
    assert note == ("the bundled feed list is not added: the database has feeds of its "
                    "own (set AINEWS_FEEDS to import a file)")


def test_a_store_with_feeds_added_by_hand_gets_no_bundled_feed(store):
    store.upsert_feed(MINE[0])          # `ainews feeds add` before any `ainews run`
    assert import_feed_list(store, BUNDLED, None).startswith("the bundled feed list is not")
    assert urls(store) == {"https://mine.example/rss"}


def test_a_store_seeded_from_an_empty_file_stays_empty(store, tmp_path):
    import_feed_list(store, [], tmp_path / "none.toml")     # how to start from no feeds
    import_feed_list(store, BUNDLED, None)
    assert urls(store) == set()


def test_the_bundled_list_seeds_an_empty_store_and_keeps_it_up(store):
    assert import_feed_list(store, BUNDLED[:-1], None) == \
        f"{len(BUNDLED) - 1} feeds added from the bundled feed list"
    store.remove_feed(BUNDLED[0].url)                       # a removal sticks
    assert import_feed_list(store, BUNDLED, None) == "1 feed added from the bundled feed list"
    assert import_feed_list(store, BUNDLED, None) == ""
    assert urls(store) == {s.url for s in BUNDLED[1:]}


def test_a_store_the_bundled_list_seeded_before_it_was_noted_is_kept_up(store):
    store.set_meta("imported_feeds", [s.url for s in BUNDLED[:-1]])   # an older version's
    assert import_feed_list(store, BUNDLED, None) == "1 feed added from the bundled feed list"


def test_a_file_entry_the_store_already_has_is_not_said_to_be_added(store, tmp_path):
    store.upsert_feed(MINE[0])          # `ainews feeds add`, then the same feed in the file
    both = [*MINE, FeedSource("Other", "https://other.example/rss")]
    assert import_feed_list(store, both, tmp_path / "mine.toml") == \
        f"1 feed added from {tmp_path / 'mine.toml'}"


@pytest.mark.parametrize("in_store, in_file", [
    ("https://mine.example/rss", "HTTPS://Mine.Example:443/rss"),
    ("https://mine.example/rss#top", "https://mine.example/rss"),   # an older version's
    ("https://mine.example/rss", "https://mine.example/rss#top"),
])
def test_a_file_entry_spelt_differently_is_the_feed_the_store_has(store, tmp_path,
                                                                   in_store, in_file):
    """The same feed under a second spelling was added beside it and polled twice."""
    store.upsert_feed(FeedSource("Mine", in_store))
    assert import_feed_list(store, [FeedSource("Mine", in_file)], tmp_path / "m.toml") == ""
    assert urls(store) == {in_store}


def test_a_removed_feed_stays_removed_when_its_file_entry_is_respelt(store, tmp_path):
    """Imported with a #fragment (older versions kept it), removed, then read from the
    file without it: it came back."""
    import_feed_list(store, [FeedSource("Mine", "https://mine.example/rss#top")],
                     tmp_path / "m.toml")
    store.remove_feed("https://mine.example/rss#top")
    import_feed_list(store, MINE, tmp_path / "m.toml")
    assert urls(store) == set()


@pytest.mark.parametrize("name,tags,said", [
    ("New Name", ("a",), ["feeds: renamed 'Old Name' to 'New Name' (from {file})"]),
    ("Old Name", ("b", "c"), ["feeds: tags of 'Old Name' now b, c, were a (from {file})"]),
    ("New Name", (), ["feeds: renamed 'Old Name' to 'New Name' (from {file})",
                      "feeds: tags of 'New Name' now none, were a (from {file})"]),
], ids=["renamed", "retagged", "both"])
def test_a_name_or_tags_edited_in_the_file_apply_at_the_next_start(store, tmp_path, caplog,
                                                                   name, tags, said):
    """The operator edited a feed's `name` (the outlet every post shows) or `tags` in the
    AINEWS_FEEDS file and restarted: every entry imported before was skipped, so the old
    name stayed for good, with nothing said."""
    url, file = "https://mine.example/rss", tmp_path / "f.toml"
    import_feed_list(store, [FeedSource("Old Name", url, ("a",))], file)
    with caplog.at_level("INFO"):
        assert import_feed_list(store, [FeedSource(name, url, tags)], file) == ""
    state = store.feed_state(url)
    assert (state.source.name, state.source.tags) == (name, tags)
    assert [r.getMessage() for r in caplog.records] == [s.format(file=file) for s in said]


def test_a_file_entry_left_as_it_was_keeps_a_name_given_by_command(store, tmp_path, caplog):
    """A feed renamed with `feeds add URL NAME` keeps that name while its file entry is
    unchanged: a restart does not undo it. A removed feed is not added back by an edit."""
    url, file = "https://mine.example/rss", tmp_path / "f.toml"
    entries = [FeedSource("Old Name", url), FeedSource("Gone", "https://gone.example/rss")]
    import_feed_list(store, entries, file)
    store.upsert_feed(FeedSource("By Command", url))
    store.remove_feed("https://gone.example/rss")
    with caplog.at_level("INFO"):
        import_feed_list(store, [entries[0], FeedSource("Gone Renamed", entries[1].url)], file)
    assert urls(store) == {url} and store.feed_state(url).source.name == "By Command"
    assert caplog.records == []


@pytest.mark.parametrize("by_command, in_file, kept, said", [
    (("By Command", ("a",)), ("Old Name", ("b",)), ("By Command", ("b",)),
     "feeds: tags of 'By Command' now b, were a (from {file})"),
    (("Old Name", ("x",)), ("New Name", ("a",)), ("New Name", ("x",)),
     "feeds: renamed 'Old Name' to 'New Name' (from {file})"),
], ids=["renamed by command, retagged in the file", "retagged by command, renamed in the file"])
def test_an_edit_in_the_file_applies_only_the_field_edited(store, tmp_path, caplog,
                                                           by_command, in_file, kept, said):
    """A feed renamed by `feeds add URL NAME` (or retagged by command), then only the
    entry's tags (or name) edited in the file: the file's unedited name (tags) came back
    too, logged as "renamed 'By Command' to 'Old Name'", though nobody edited it there."""
    url, file = "https://mine.example/rss", tmp_path / "f.toml"
    import_feed_list(store, [FeedSource("Old Name", url, ("a",))], file)
    store.upsert_feed(FeedSource(by_command[0], url, by_command[1]))
    with caplog.at_level("INFO"):
        import_feed_list(store, [FeedSource(in_file[0], url, in_file[1])], file)
    state = store.feed_state(url)
    assert (state.source.name, state.source.tags) == kept
    assert [r.getMessage() for r in caplog.records] == [said.format(file=file)]
