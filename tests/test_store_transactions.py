"""Store transactions: a batch of stories is stored whole or not at all, and a
failed write or COMMIT leaves the store usable."""
from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from feeds.models import story_id
from storage.store import Store, StoreError
from tests.store_kit import FEED_A, FEED_B, make, add, both_stores


store = pytest.fixture(both_stores, name="store", params=["memory", "file"])


def test_add_new_stories_is_one_transaction(store):
    good = make("Alibaba cuts Qwen API prices", guid="1")
    broken = replace(make("Broken", guid="2"), published=None)
    with pytest.raises(Exception):
        add(store, good, broken)
    assert store.known_story_ids([good.id]) == set()


@pytest.mark.parametrize("whole", [False, True])
def test_batches_in_one_transaction_are_stored_or_dropped_together(store, whole):
    """Pipeline.poll_once writes several feeds' first polls in one
    store.transaction(whole=True)."""
    first = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"))
    broken = replace(make("Broken", guid="2"), published=None)
    with pytest.raises(Exception):
        with store.transaction(whole=whole):
            add(store, first)
            add(store, broken)
    assert store.known_story_ids([first.id]) == set()
    follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                  source="The Verge", hours=6, companies=("Amazon", "Anthropic"))
    with store.transaction(whole=whole):
        assert add(store, first) == [first]
        assert add(store, follow) == [follow]   # sees the batch before it, uncommitted
    assert store.cluster_info(follow.id) == (first.id, first.id, ["The Verge"])


def test_a_whole_transaction_keeps_nothing_when_a_write_inside_fails(store):
    """Without savepoints a failed write may have left part of its rows: a caught error
    inside a whole transaction still undoes all of it, and says so."""
    first = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"))
    broken = replace(make("Broken", guid="2"), published=None)
    with pytest.raises(StoreError, match="nothing of it was kept"):
        with store.transaction(whole=True):
            add(store, first)
            with pytest.raises(Exception):
                add(store, make("Nvidia ships chips", guid="3", companies=("Nvidia",)),
                    broken)
    assert store.known_story_ids([first.id, story_id(FEED_A, "3", "")]) == set()
    assert store.search("Anthropic") == [] and store.stories_for_company("Nvidia") == []
    assert add(store, first) == [first]   # the store is usable, and savepoints are back
    with store.transaction():
        with pytest.raises(Exception):
            add(store, broken)
        add(store, make("Nvidia ships chips", guid="3", companies=("Nvidia",)))
    assert [b.headline for b in store.stories_for_company("Nvidia")] == ["Nvidia ships chips"]


def test_a_commit_that_fails_leaves_the_store_usable(tmp_path, monkeypatch):
    """COMMIT itself can fail (a full disk when the pages reach the log; here a deferred
    check): that transaction is gone, yet the next writes are committed, another process
    can write, and the lost story is neither found nor a cluster candidate."""
    monkeypatch.setattr("storage.store.BUSY_TIMEOUT", 0.5)   # locked out: say so soon
    path = tmp_path / "ainews.db"
    lost = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"),
                source="FT")
    with Store(path) as store, Store(path) as other:
        with pytest.raises(sqlite3.IntegrityError):
            with store.transaction():
                add(store, lost)
                store.db.execute("PRAGMA defer_foreign_keys = ON")   # checked at COMMIT
                store.db.execute("INSERT INTO story_topics (story_pk, topic, published, "
                                 "is_lead, strategy) VALUES (99999, 'x', '', 0, 0)")
        follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                      source="The Verge", hours=6, companies=("Amazon", "Anthropic"))
        assert add(store, follow) == [follow]
        other.set_meta("other process", 1)          # not locked out
        assert other.known_story_ids([lost.id, follow.id]) == {follow.id}
        assert store.cluster_info(follow.id)[0] == follow.id
        assert [b.id for b in store.search("Anthropic")] == [follow.id]
