"""Store.slim_stories_older_than (storage/retention.py): old stories lose their bulk but
stay known to dedupe and lookups; recent ones and waiting posts are untouched."""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest

import storage.retention
from feeds.models import Brief, iso_utc
from storage.store import Store
from tests.fakes.recorder import FakeClock
from tests.store_kit import T0, make

OLD_SEEN, NEW_SEEN = T0, T0 + timedelta(days=200)
CUTOFF = T0 + timedelta(days=20)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ainews.db")
    yield s
    s.close()


def stored(store: Store, title: str, seen, **kw):
    story = make(title, text=f"{title}. The zorblat accord was signed in Ulvania.", **kw)
    store.add_new_stories([story], backlog=False, now=seen)
    brief = Brief(id=story.id, headline=title, bullets=("A zorblat point.",),
                  why_it_matters="It matters.", url=story.url, source=story.source,
                  published=story.published)
    store.save_brief(story.id, story.content_hash, brief)
    return story


def row(store: Store, story) -> dict:
    cols = ("text", "html", "summary", "status", "title", "url", "content_hash")
    values = store.db.execute(f"SELECT {', '.join(cols)} FROM stories WHERE id = ?",
                              (story.id,)).fetchone()
    return dict(zip(cols, values))


def post(store: Store, story, channel: str, now) -> int:
    brief = Brief(id=story.id, headline=story.title, bullets=(), why_it_matters="",
                  url=story.url, source=story.source, published=story.published)
    store.enqueue_post(cluster_id=story.id, brief=brief, platform="console",
                       workspace="w", channel=channel, held=False, now=now)
    (row_id,) = store.db.execute("SELECT max(id) FROM outbox").fetchone()
    return row_id


def test_an_old_story_is_slimmed_but_still_known_and_listed(store):
    old = stored(store, "Alibaba cuts cloud prices", OLD_SEEN)
    assert store.search("zorblat")
    result = store.slim_stories_older_than(CUTOFF)
    assert result.stories == 1
    slim = row(store, old)
    assert (slim["text"], slim["html"], slim["summary"]) == ("", "", "")
    assert slim["title"] == old.title and slim["content_hash"] == old.content_hash
    assert slim["status"] == "backlog"     # an edit of it is never routed again
    assert store.search("zorblat") == []                  # the body's words are gone
    assert [b.id for b in store.search("Alibaba cuts")] == [old.id]   # the title stays
    assert store.brief_for_hash(old.content_hash) is None
    assert [b.id for b in store.stories_for_company("Alibaba")] == [old.id]
    assert [b.id for b in store.latest()] == [old.id]
    assert store.known_story_hashes([old.id]) == {old.id: old.content_hash}
    assert store.add_new_stories([old], backlog=False, now=NEW_SEEN) == []   # not new


def links(store: Store) -> list:
    return [store.db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
            for t in ("story_aliases", "story_feeds", "story_companies", "story_topics")] + \
        [store.db.execute("SELECT pk, id, cluster_id, is_lead, first_seen FROM stories "
                          "ORDER BY pk").fetchall()]


def test_links_aliases_carrying_feeds_and_clusters_survive_slimming(store):
    lead = stored(store, "Alibaba cuts cloud prices by 20%", OLD_SEEN)
    also = make("Alibaba cuts cloud prices by 20%", feed="https://b.example/rss",
                source="Outlet B", hours=1, url="https://b.example/alibaba-prices")
    store.add_new_stories([also], backlog=False, now=OLD_SEEN)
    other_id = replace(lead, id="unstable-guid-2")   # the same story: an alias
    store.add_new_stories([other_id], backlog=False, now=OLD_SEEN)
    # The same link, no GUID, in another feed: the same id (`feeds remove` asks who
    # else carries it, storage/outbox.py feed_waiting_posts).
    section = replace(lead, feed_url="https://a.example/ai/rss")
    store.add_new_stories([section], backlog=False, now=OLD_SEEN)
    before = links(store)
    assert before[1] == [(1, section.feed_url)]
    assert store.slim_stories_older_than(CUTOFF).stories == 2
    assert links(store) == before
    assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert store.known_story_ids([other_id.id]) == {other_id.id}
    assert [b.also_reported_by for b in store.latest()] == [("Outlet B",)]


def test_the_search_index_agrees_with_the_rows_after_slimming_and_an_edit(store):
    old = stored(store, "Alibaba cuts cloud prices", OLD_SEEN)
    store.slim_stories_older_than(CUTOFF)
    edited = make(old.title, text="A new body about quuxite.")   # its feed edits it
    store.add_new_stories([edited], backlog=False, now=NEW_SEEN)
    store.db.execute("INSERT INTO stories_fts (stories_fts) VALUES ('integrity-check')")
    assert [b.id for b in store.search("quuxite")] == [old.id]
    assert store.edited_stories(store.last_edit_seq()) == []   # archive: not routed


def test_a_recent_story_is_untouched(store):
    old = stored(store, "Alibaba cuts cloud prices", OLD_SEEN)
    recent = stored(store, "Tencent opens its model", NEW_SEEN, companies=("Tencent",))
    before = row(store, recent)
    assert store.slim_stories_older_than(CUTOFF).stories == 1
    assert row(store, recent) == before and before["text"]
    assert [b.id for b in store.search("zorblat")] == [recent.id]
    assert store.brief_for_hash(recent.content_hash) is not None
    assert row(store, old)["text"] == ""


def test_a_story_first_seen_after_now_ages_from_now_and_holds_up_no_other(tmp_path):
    """A clock a year ahead stored a story (then NTP set it right): it was kept for that
    year, and every story stored after it too, since the prune's walk stops at the
    first recent story. Now it counts as first seen when a prune finds it, and ages
    out from then, the stories after it with it."""
    clock, keep = FakeClock(T0 + timedelta(days=30)), timedelta(days=20)
    with Store(tmp_path / "ainews.db", clock=clock) as store:
        stored(store, "Alibaba cuts cloud prices", T0)
        ahead = stored(store, "Tencent opens Hunyuan weights", T0 + timedelta(days=400))
        after = stored(store, "Baidu ships Ernie 5", T0 + timedelta(days=1))
        assert store.slim_stories_older_than(clock() - keep).stories == 1
        (seen,) = store.db.execute("SELECT first_seen FROM stories WHERE id = ?",
                                   (ahead.id,)).fetchone()
        assert seen == iso_utc(clock())
        clock.advance(days=21)
        assert store.slim_stories_older_than(clock() - keep).stories == 2
        assert row(store, ahead)["text"] == row(store, after)["text"] == ""


def test_settled_posts_before_the_cutoff_go_waiting_ones_stay(store):
    story = stored(store, "Alibaba cuts cloud prices", OLD_SEEN)
    sent, failed, waiting = (post(store, story, ch, OLD_SEEN) for ch in ("a", "b", "c"))
    store.record_sent(sent, "m1", OLD_SEEN, shown=store.outbox_post(sent).brief)
    store.record_failed(failed, "refused")
    recent_sent = post(store, story, "d", NEW_SEEN)
    store.record_sent(recent_sent, "m2", NEW_SEEN, shown=store.outbox_post(recent_sent).brief)
    # Kept that long for a channel paused all along (never resumed): no news by now.
    post(store, story, "e", OLD_SEEN)
    store.keep_channel_posts("console", "e", "channel paused: the bot was removed")
    assert store.slim_stories_older_than(CUTOFF).posts == 3
    states = dict(store.db.execute("SELECT id, state FROM outbox").fetchall())
    assert states == {waiting: "due", recent_sent: "sent"}


def test_a_story_with_an_edit_waiting_stays_whole(store):
    old = stored(store, "Alibaba cuts cloud prices", OLD_SEEN)
    store.add_new_stories([make(old.title, text="Edited body.")], backlog=False, now=OLD_SEEN)
    assert store.last_edit_seq() > 0
    assert store.slim_stories_older_than(CUTOFF).stories == 0
    assert row(store, old)["text"] == "Edited body."


def test_big_prunes_go_in_batches_and_a_second_prune_finds_nothing(store, monkeypatch):
    monkeypatch.setattr(storage.retention, "BATCH", 3)
    stories = [make(f"Story {i} about Alibaba", text=f"Body {i} zorblat.") for i in range(8)]
    store.add_new_stories(stories, backlog=False, now=OLD_SEEN)
    recent = stored(store, "Tencent opens its model", NEW_SEEN, companies=("Tencent",))
    assert store.slim_stories_older_than(CUTOFF).stories == 8
    assert [b.id for b in store.search("zorblat")] == [recent.id]
    assert store.slim_stories_older_than(CUTOFF).stories == 0


@pytest.mark.parametrize("mode, vacuumed", [("NONE", False), ("INCREMENTAL", True)])
def test_free_pages_are_given_back_only_where_the_file_allows(tmp_path, mode, vacuumed):
    path = tmp_path / "a.db"
    conn = sqlite3.connect(path)   # auto_vacuum must be chosen before the file is written
    conn.execute(f"PRAGMA auto_vacuum = {mode}")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with Store(path) as store:
        big = "zorblat " * 20000
        store.add_new_stories([make(f"Story {i}", text=f"{i} {big}") for i in range(20)],
                              backlog=False, now=OLD_SEEN)
        store.slim_stories_older_than(CUTOFF)
        (free,) = store.db.execute("PRAGMA freelist_count").fetchone()
        assert (free == 0) == vacuumed


def _fails_with_a_revision_pending(store: Store, row_id: int, now) -> None:
    """A revision lands while the post is being sent (needs_edit), then the post fails."""
    claimed = store.claim_post(row_id, now)
    store.update_post_brief(row_id, replace(claimed.brief, also_reported_by=("FT",)), now=now)
    store.record_failed(row_id, "rejected: 400")


def _edit_dropped_with_a_revision_pending(store: Store, row_id: int, now) -> None:
    """Sent, an edit queued and claimed, a later revision lands meanwhile, the edit is
    given up on, and so is the later revision's, tried next: the post stands ('sent')."""
    brief = store.claim_post(row_id, now).brief
    store.record_sent(row_id, "m1", now, shown=brief)
    store.update_post_brief(row_id, replace(brief, also_reported_by=("FT",)), now=now)
    tried = store.claim_post(row_id, now)
    assert tried.state == "editing"
    store.update_post_brief(row_id, replace(brief, also_reported_by=("FT", "WSJ")), now=now)
    assert store.record_edit_dropped(row_id, "edit refused: 400", tried=tried.brief, now=now)
    newest = store.claim_post(row_id, now)
    assert not store.record_edit_dropped(row_id, "edit refused: 400", tried=newest.brief,
                                         now=now)


@pytest.mark.parametrize("settle", [_fails_with_a_revision_pending,
                                    _edit_dropped_with_a_revision_pending])
def test_a_settled_post_that_had_a_revision_pending_is_forgotten(store, settle):
    story = stored(store, "Alibaba cuts cloud prices", OLD_SEEN)
    settle(store, post(store, story, "a", OLD_SEEN), OLD_SEEN)
    assert store.slim_stories_older_than(CUTOFF).posts == 1
    assert store.db.execute("SELECT state, needs_edit FROM outbox").fetchall() == []


def test_a_brief_cached_for_a_story_already_slimmed_goes_at_the_next_prune(store):
    """Lookups cached a brief of each slimmed story they showed (bot/commands.py); the
    prune had walked past it and never deleted it. Stores holding such briefs are mended."""
    old = stored(store, "Alibaba cuts cloud prices", OLD_SEEN)
    recent = stored(store, "Tencent opens its model", NEW_SEEN)
    store.slim_stories_older_than(CUTOFF)
    slim = store.get_story(old.id)
    store.save_brief(slim.id, slim.content_hash,
                     Brief(id=slim.id, headline=slim.title, bullets=(), why_it_matters="",
                           url=slim.url, source=slim.source, published=slim.published))
    store.slim_stories_older_than(CUTOFF + timedelta(days=1))
    assert store.db.execute("SELECT story_id FROM briefs").fetchall() == [(recent.id,)]


@pytest.mark.parametrize("case, kept", [
    ("listed by no feed", False), ("listed by its feed", True),
    ("listed under an alias", True), ("its feed never read since", True),
    ("a post of it waiting", True), ("leading a later story's cluster", True)])
def test_a_slim_row_is_deleted_past_the_horizon_only_when_nothing_names_it(store, case,
                                                                           kept):
    """storage/slim_rows.py: a slim row goes once no feed lists it; anything that could
    bring its story back (a feed listing it, by id or alias, or not read since the
    upgrade; a post waiting; a story in its cluster) keeps it."""
    from feeds.models import FeedSource
    from tests.store_kit import FEED_A, fts_in_step
    old = stored(store, "Alibaba cuts cloud prices", OLD_SEEN)
    later = stored(store, "Baidu opens Ernie", NEW_SEEN)
    (pk,) = store.db.execute("SELECT pk FROM stories WHERE id = ?", (old.id,)).fetchone()
    store.upsert_feed(FeedSource("A", FEED_A))
    listed = {"listed by its feed": [old.id], "listed under an alias": ["alias-1"]}
    if case != "its feed never read since":
        store.record_fetch_ok(FEED_A, now=NEW_SEEN, next_poll=NEW_SEEN, etag=None,
                              last_modified=None, body_hash=None,
                              listed=listed.get(case, ["another-entry"]))
    with store.transaction():
        store.db.execute("INSERT INTO story_aliases (alias, story_pk) VALUES ('alias-1', ?)",
                         (pk,))
        if case == "leading a later story's cluster":
            store.db.execute("UPDATE stories SET cluster_id = ?, is_lead = 0 WHERE id = ?",
                             (pk, later.id))
    if case == "a post of it waiting":
        post(store, old, "c1", OLD_SEEN)
    result = store.slim_stories_older_than(CUTOFF, now=NEW_SEEN, forget_before=CUTOFF)
    assert result.forgotten == (0 if kept else 1)
    assert store.known_story_ids([old.id]) == ({old.id} if kept else set())
    fts_in_step(store)
