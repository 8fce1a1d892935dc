"""Store dedupe (storage/dedupe.py): one story per guid, canonical URL and alias;
edits update a story without making it new; backlog is stored but marked."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from feeds.models import story_id
from feeds.parser import parse_feed
from tests.store_kit import FEED_A, FEED_B, T0, make, add, both_stores


store = pytest.fixture(both_stores, name="store", params=["memory", "file"])


def test_same_guid_is_one_story_however_often_it_appears(store):
    s = make("Alibaba cuts Qwen API prices", guid="tag:ft.com,2026:1")
    assert add(store, s, s) == [s]
    assert add(store, s) == []
    assert store.known_story_ids([s.id, "unknown"]) == {s.id}
    assert len(store.latest(50)) == 1


def test_same_canonical_url_is_one_story_across_guids_and_feeds(store):
    first = make("Alibaba cuts Qwen API prices", guid="g-1", url="https://ft.com/content/1")
    unstable = replace(first, id=story_id(FEED_A, "g-2", first.url), guid="g-2")
    other_feed = make("Alibaba cuts Qwen API prices", feed=FEED_B, source="Outlet B",
                      url="https://ft.com/content/1")
    assert add(store, first) == [first]
    assert add(store, unstable, other_feed) == []
    # The unstable GUID is remembered, so the next poll skips it before classifying.
    assert store.known_story_ids([unstable.id, other_feed.id]) == {unstable.id, other_feed.id}
    assert [b.id for b in store.latest(50)] == [first.id]


@pytest.mark.parametrize("together", [True, False], ids=["one-batch", "next-poll"])
def test_same_guid_with_a_new_link_is_still_one_story(store, together):
    # An outlet edits the item's link: the GUID still says which story it is.
    s = make("Alibaba cuts Qwen API prices", guid="tag:ft.com,2026:1", url="https://ft.com/1")
    moved = replace(s, url="https://ft.com/1-updated")
    added = add(store, s, moved) if together else add(store, s) + add(store, moved)
    assert added == [s] and len(store.latest(50, strategy_only=False)) == 1


def test_another_outlets_copy_never_rewrites_a_stored_story(store):
    """A syndicated copy (the same page from another feed, in its own words) is the same
    story: the post keeps the first outlet's words and is not edited into the copy's."""
    first = make("Alibaba cuts Qwen API prices", url="https://ft.com/content/1",
                 text="Prices fall 50%.")
    copy = make("Alibaba slashes Qwen prices", feed=FEED_B, source="Outlet B",
                url="https://ft.com/content/1", text="Syndicated: prices fall.")
    add(store, first)
    assert add(store, copy) == []
    kept = store.get_story(first.id)
    assert (kept.title, kept.text, kept.source) == (first.title, first.text, "Outlet A")
    assert store.last_edit_seq() == 0, "no edit of the post is queued"


def test_an_alias_is_known_even_when_its_link_changes_again(store):
    first = make("Alibaba cuts Qwen API prices", guid="g-1", url="https://ft.com/content/1")
    unstable = replace(first, id=story_id(FEED_A, "g-2", first.url), guid="g-2")
    add(store, first)
    assert add(store, unstable) == []        # known by URL: g-2 becomes an alias
    assert add(store, replace(unstable, url="https://ft.com/content/1?page=all")) == []
    assert len(store.latest(50, strategy_only=False)) == 1


@pytest.mark.parametrize("guid", ["<guid>https://x.example/p/{n}</guid>", "<guid>update-{n}</guid>",
                                  "<guid isPermaLink='false'>update-{n}</guid>",
                                  "<guid isPermaLink='false'>tag:x,2025:{n} a/b</guid>"])
def test_entries_sharing_one_link_are_stored_as_the_stories_they_are(store, guid):
    # A live blog or changelog links every entry to one page, told apart by GUID: the
    # store merged them by that URL, so all but the first were lost as "edits". With
    # GUIDs that are no URLs, storing them failed the whole poll (UNIQUE stories.url).
    from feeds.parser import parse_feed
    titles = ["GPT-5 ships to every user", "Sora gets new pricing", "Board posts a statement"]
    items = "".join(f"<item>{guid.format(n=n)}<title>{t}</title>"
                    f"<link>https://x.example/live</link></item>" for n, t in enumerate(titles))
    body = f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()
    stories = parse_feed(body, feed_url="https://x.example/rss").stories
    assert len(add(store, *stories)) == 3 and len(store.latest(10, strategy_only=False)) == 3
    assert add(store, *stories) == [], "and each is known on the next poll"
    assert all(s.url.startswith("https://x.example/") for s in stories)   # each still links


def test_edited_item_updates_text_but_is_not_new_again(store):
    original = make("Alibaba cuts Qwen API prices", guid="g-1", text="Prices fall 50%.")
    edited = replace(original, title="Alibaba cuts Qwen API prices by 97%",
                     text="Prices fall 97%, the company said.")
    assert edited.content_hash != original.content_hash
    add(store, original)
    assert add(store, edited) == []
    assert store.known_story_hashes([original.id]) == {original.id: edited.content_hash}
    assert [b.headline for b in store.latest()] == ["Alibaba cuts Qwen API prices by 97%"]
    assert [b.id for b in store.search("97")] == [original.id]
    assert store.search("50") == [], "the search index follows the edit"


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet</title>
<link>https://news.example/</link><item><title>Alibaba cuts Qwen API prices</title>
<link>https://news.example/qwen</link><guid>qwen</guid>{date}
<description>Alibaba Cloud cut the price of its Qwen API by half.{extra}</description>
</item></channel></rss>"""
DAY = timedelta(days=1)


@pytest.mark.parametrize("first, edited, shown", [
    ("", "", T0),                                           # undated: first seen
    ("<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate>",    # dated ahead: first seen
     "<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate>", T0),
    ("<pubDate>Sun, 01 Mar 2026 09:00:00 GMT</pubDate>",    # the feed's own dates
     "<pubDate>Sun, 01 Mar 2026 11:00:00 GMT</pubDate>", T0 - DAY + timedelta(hours=2)),
], ids=["undated", "dated ahead", "dated"])
def test_an_edit_keeps_the_time_an_undated_entry_was_first_seen(store, first, edited, shown):
    """An undated entry counts as published when first fetched (README), as does one
    dated after its fetch. Its outlet touched its text two days later (a corrected
    figure, a comment count in the summary), and the edit rewrote its publication time
    to the edit's fetch: /latest put it above the stories of the days between, and
    every brief showed it as published that day. A date the feed gives is its word."""
    def poll(date: str, extra: str, fetched):
        body = RSS.format(date=date, extra=extra).encode()
        stories = parse_feed(body, feed_url=FEED_A, fetched_at=fetched).stories
        return store.add_new_stories(stories, backlog=False, now=fetched)
    assert len(poll(first, "", T0)) == 1
    assert poll(edited, " (Updated.)", T0 + 2 * DAY) == []
    assert [b.published for b in store.latest(5, strategy_only=False)] == [shown]
    assert len(store.search("updated")) == 1, "the edit itself is stored"


@pytest.mark.parametrize("backlog", [False, True], ids=["new", "backlog"])
def test_an_edit_of_a_new_story_waits_for_dispatch_in_its_own_transaction(store, backlog):
    """Dispatch routes an edited new story again (bot/dispatch.py dispatch_edits); the
    record is written with the edit, so a crash before routing cannot lose it, and one
    rolled back with its edit routes nothing. A backlog story is never posted: not kept."""
    original = make("Alibaba cuts Qwen API prices", guid="g-1", text="Prices fall 50%.")
    add(store, original, backlog=backlog)
    add(store, original)                                   # unchanged: no edit
    assert store.last_edit_seq() == 0
    with pytest.raises(ValueError), store.transaction():
        add(store, replace(original, text="Prices fall 90%."))
        raise ValueError("the pass failed after storing the edit")
    assert store.last_edit_seq() == 0
    for n in (96, 97):
        add(store, replace(original, text=f"Prices fall {n}%."))
    upto = store.last_edit_seq()
    assert [s.text for s in store.edited_stories(upto)] == ([] if backlog else
                                                            ["Prices fall 97%."])
    add(store, replace(original, text="Prices fall 98%."))   # while routing: kept
    store.forget_edits(upto)
    assert [s.text for s in store.edited_stories(store.last_edit_seq())] == (
        [] if backlog else ["Prices fall 98%."])


def test_backlog_stories_are_stored_but_marked_backlog(store):
    old = make("Alibaba cuts Qwen API prices", guid="1")
    fresh = make("Tencent opens Hunyuan weights", guid="2", companies=("Tencent",))
    assert add(store, old, backlog=True) == [old]
    assert add(store, old, fresh) == [fresh], "a backlog story never comes back as new"
    status = dict(store.db.execute("SELECT id, status FROM stories").fetchall())
    assert status == {old.id: "backlog", fresh.id: "new"}
    assert {b.id for b in store.latest()} == {old.id, fresh.id}


def _feed_of(link: str, title: str = "Alibaba cuts Qwen API prices") -> bytes:
    return (f'<rss version="2.0"><channel><title>T</title><item><title>{title}</title>'
            f'<link>{link}</link></item></channel></rss>').encode()


@pytest.mark.parametrize("first, then", [
    ("https://x.example/caf\u00e9-ai", "https://x.example/caf%C3%A9-ai"),
    ("https://x.example/caf%c3%a9-ai", "https://x.example/caf\u00e9-ai"),
    ("https://x.example/caf%C3%A9-ai", "https://x.example/caf%c3%a9-ai"),
    ("https://x.example/%E9%98%BF%E9%87%8C-qwen", "https://x.example/\u963f\u91cc-qwen"),
    ("https://x.example/~bob/qwen", "https://x.example/%7Ebob/qwen"),
    ("https://x.example/%7ebob/qwen", "https://x.example/~bob/qwen"),
    ("https://x.example/a%2Db?id=%41", "https://x.example/a-b?id=A"),
], ids=["raw-then-escaped", "lower-then-raw", "upper-then-lower", "chinese",
        "tilde-then-escaped", "escaped-then-tilde", "unreserved-in-query"])
@pytest.mark.parametrize("where", ["another-feed", "next-poll"])
def test_one_link_spelled_raw_or_percent_escaped_is_one_story(store, first, then, where):
    """An article listed by one feed with a raw link (/café, ~bob) and by another, or by
    a later poll of the same feed, %-escaped (/caf%C3%A9, %7Ebob), or with its escapes in
    the other case, is one address (RFC 3986 6.2.2): it was stored, and posted, twice."""
    a = parse_feed(_feed_of(first), feed_url=FEED_A).stories
    b = parse_feed(_feed_of(then), feed_url=FEED_B if where == "another-feed" else FEED_A
                   ).stories
    assert len(add(store, *a)) == 1
    assert add(store, *b) == []
    assert add(store, *b) == [], "and known on the poll after"
    assert len(store.latest(10, strategy_only=False)) == 1


def test_escapes_that_change_the_address_stay_another_story(store):
    """%2F is not /, nor %3F ?: such links name other pages."""
    a = parse_feed(_feed_of("https://x.example/a%2Fb"), feed_url=FEED_A).stories
    b = parse_feed(_feed_of("https://x.example/a/b"), feed_url=FEED_B).stories
    assert len(add(store, *a)) == 1 and len(add(store, *b)) == 1


def test_a_story_stored_before_link_keys_is_found_by_another_spelling(tmp_path):
    """Stories stored by an older ainews get their key at the upgrade (migration 16)."""
    from storage.store import Store
    path = tmp_path / "old.db"
    with Store(path) as old:
        add(old, *parse_feed(_feed_of("https://x.example/caf%c3%a9-ai"),
                             feed_url=FEED_A).stories)
        add(old, make("Baidu opens Ernie", url="https://x.example/plain"))
        old.db.conn.executescript("""DROP INDEX stories_link_key;
            ALTER TABLE stories DROP COLUMN link_key;
            DELETE FROM schema_migrations WHERE version = 16;""")
    with Store(path) as upgraded:
        b = parse_feed(_feed_of("https://x.example/caf\u00e9-ai"), feed_url=FEED_B).stories
        assert add(upgraded, *b) == []
        assert len(upgraded.latest(10, strategy_only=False)) == 2
