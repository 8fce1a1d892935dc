"""The Store's full-text search index follows new, edited and clustered stories,
batches in one transaction, and its check notices a story indexed wrongly."""
from __future__ import annotations

from dataclasses import replace

import pytest

from feeds.models import Story
from storage.store import Store
from tests.store_kit import FEED_B, make, add, fts_in_step, both_stores


store = pytest.fixture(both_stores, name="store", params=["memory", "file"])


def test_search_index_follows_new_edited_and_clustered_stories(store):
    first = make("Alibaba cuts Qwen API prices", guid="g-1", text="Prices fall 50%.")
    again = make("Alibaba cuts Qwen API prices", feed=FEED_B, source="Outlet B")
    add(store, first, again, make("OpenAI raises $40bn", companies=("OpenAI",)))
    add(store, replace(first, text="Prices fall 97%."))
    fts_in_step(store)
    assert [b.id for b in store.search("97")] == [first.id]
    assert store.search("50") == []


@pytest.mark.parametrize("batches", ["one batch", "two batches"])
def test_an_edit_replaces_search_words_and_topics(store, batches):
    """A feed may carry an item and its edit in one poll: the edit wins either way."""
    first = make("Alibaba cuts Qwen API prices", guid="g-1", text="Prices fall 50%.",
                 topics=("pricing", "china"))
    edited = replace(first, text="Prices fall 97%.", classification=replace(
        first.classification, topics=("pricing",)))
    added = add(store, first, edited) if batches == "one batch" else (
        add(store, first) + add(store, edited))
    assert [s.id for s in added] == [first.id]
    fts_in_step(store)
    assert [b.id for b in store.search("97")] == [first.id] and store.search("50") == []
    assert store.stories_for_topic("china") == []
    assert [b.id for b in store.stories_for_topic("pricing")] == [first.id]


def _caught_failure(store: Store, first: Story, edited: Story, other: Story) -> set[str]:
    with store.transaction():
        add(store, first)
        with pytest.raises(ValueError):
            with store.transaction():   # e.g. one feed's batch of a pass
                add(store, other)
                raise ValueError("this feed's poll record cannot be written")
        add(store, edited)
    return set()


def _foreign_transaction(store: Store, first: Story, edited: Story, other: Story) -> set[str]:
    store.db.conn.execute("BEGIN")   # not the store's own: it cannot index at the commit
    add(store, first, other)
    add(store, edited)
    store.db.conn.execute("COMMIT")
    return {other.id}


@pytest.mark.parametrize("write", [_caught_failure, _foreign_transaction])
def test_search_index_of_batches_in_one_transaction(store, write):
    """New stories are indexed for search when their transaction commits: one whose
    batch was rolled back is not, an edit made before the commit is."""
    first = make("Alibaba cuts Qwen API prices", guid="g-1", text="Prices fall 50%.")
    edited = replace(first, text="Prices fall 97%.")
    other = make("Tencent opens Hunyuan weights", guid="g-2", companies=("Tencent",))
    stored = write(store, first, edited, other)
    fts_in_step(store)
    assert [b.id for b in store.search("97")] == [first.id] and store.search("50") == []
    assert {b.id for b in store.search("hunyuan")} == stored


@pytest.mark.parametrize("fault", ["missing", "stale"])
def test_fts_check_notices_a_story_indexed_wrongly(store, fault):
    add(store, make("Alibaba cuts Qwen API prices"))
    store.db.conn.execute("INSERT INTO stories_fts (stories_fts, rowid, title, text) "
                          "SELECT 'delete', pk, title, text FROM stories")
    if fault == "stale":
        store.db.conn.execute("INSERT INTO stories_fts (rowid, title, text) "
                              "SELECT pk, 'Alibaba trims Qwen API prices', text FROM stories")
    with pytest.raises(AssertionError):
        fts_in_step(store)
