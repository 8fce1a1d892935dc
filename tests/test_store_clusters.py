"""Store clustering (storage/clusters.py): one cluster per event across outlets, not
per company or across days, and the nearest cluster wins."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from feeds.models import Story
from tests.store_kit import T0, FEED_A, FEED_B, make, add, both_stores


store = pytest.fixture(both_stores, name="store", params=["memory", "file"])


def test_verbatim_headlines_without_companies_cluster_by_title_key(store):
    """Wire copy naming no company is found by its title key: stored before, written
    earlier in the same batch, or given by an edit earlier in the batch."""
    def wire(title: str, n: int, hours: float = 0) -> Story:
        return make(title, guid=f"w{n}", feed=FEED_B if n % 2 else FEED_A,
                    url=f"https://wire{n}.example/story", source=f"Outlet {n}", hours=hours,
                    companies=())
    stored = wire("Chip stocks slide as traders weigh new export rules", 1)
    add(store, stored)
    later = wire("Chip stocks slide as traders weigh new export rules", 2, hours=2)
    first = wire("Central banks signal slower rate cuts this year", 3, hours=1)
    again = wire("Central banks signal slower rate cuts this year", 5, hours=3)
    assert add(store, later, first, again) == [later, first, again]
    assert store.cluster_info(later.id)[0] == stored.id
    assert store.cluster_info(again.id)[0] == first.id
    edited = replace(wire("Shipping rates climb on longer routes around the cape", 7),
                     id=first.id, url=first.url, guid="w3", feed_url=FEED_B,
                     published=first.published)
    copy = wire("Shipping rates climb on longer routes around the cape", 9, hours=2)
    assert add(store, edited, copy) == [copy]
    assert store.cluster_info(copy.id)[0] == first.id


def test_also_reported_by_names_each_other_outlet_once(store):
    """"FT: ... also reported by FT, The Verge, The Verge" repeats what the post says."""
    both = ("Anthropic", "Amazon")
    lead = make("Anthropic raises $4bn from Amazon", companies=both, source="FT")
    more = [make("Anthropic secures fresh $4bn investment from Amazon", feed=FEED_B,
                 source="FT", hours=2, companies=both),
            make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                 source="The Verge", hours=6, companies=both),
            make("Amazon invests a further $4bn in Anthropic", feed=FEED_B,
                 source="The Verge", hours=7, companies=both)]
    add(store, lead)
    add(store, *more)
    assert {store.cluster_info(s.id)[1] for s in more} == {lead.id}
    assert store.cluster_info(lead.id) == (lead.id, lead.id, ["The Verge"])


def test_same_event_from_two_outlets_is_one_cluster(store):
    lead = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"),
                topics=("funding",), source="FT")
    follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                  source="The Verge", hours=6, companies=("Amazon", "Anthropic"),
                  topics=("funding",))
    third = make("Anthropic secures fresh $4bn investment from Amazon", feed=FEED_B,
                 source="Reuters", hours=8, companies=("Anthropic", "Amazon"))
    assert add(store, lead) == [lead]
    assert add(store, follow, third) == [follow, third], "new stories, in a known cluster"
    assert store.cluster_info(follow.id) == (lead.id, lead.id, ["The Verge", "Reuters"])
    assert store.cluster_info(lead.id) == (lead.id, lead.id, ["The Verge", "Reuters"])
    for briefs in (store.latest(), store.stories_for_company("Amazon"),
                   store.stories_for_topic("funding"), store.search("anthropic amazon")):
        assert [(b.id, b.also_reported_by) for b in briefs] == \
            [(lead.id, ("The Verge", "Reuters"))]
    topics, companies = store.counts_since(T0 - timedelta(days=1))
    assert companies == {"Amazon": 1, "Anthropic": 1}, "a cluster counts once"


@pytest.mark.parametrize("first,second", [
    (("Alibaba cuts Qwen API prices", ("Alibaba",)),
     ("Alibaba invests in Moonshot AI", ("Alibaba", "Moonshot AI"))),
    (("Nvidia to invest $5bn in Intel", ("Nvidia", "Intel")),
     ("Nvidia reports $5bn revenue from China", ("Nvidia",))),
])
def test_different_stories_about_one_company_do_not_merge(store, first, second):
    a = make(first[0], companies=first[1])
    b = make(second[0], feed=FEED_B, source="Outlet B", hours=3, companies=second[1])
    add(store, a, b)
    assert store.cluster_info(b.id) == (b.id, b.id, [])
    assert {x.id for x in store.stories_for_company(first[1][0])} == {a.id, b.id}


def test_same_event_days_apart_is_a_new_cluster(store):
    a = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"))
    b = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B, hours=24 * 5,
             companies=("Amazon", "Anthropic"))
    add(store, a, b)
    assert store.cluster_info(b.id)[1] == b.id


@pytest.mark.parametrize("hours,lead,first_ms", [
    (24, "first", 0), (26, "second", 0), (25, "second", 0), (25, "second", 600)],
    ids=["nearer-first", "nearer-second", "tie-newer", "tie-to-the-stored-second"])
def test_a_report_joins_the_nearest_matching_cluster(store, hours, lead, first_ms):
    """Two reports of one deal 50 h apart are two clusters; a third report between
    them joins the nearer in time (on a tie, the newer). Times count as stored, to the
    second, whether the earlier report was just written or read back."""
    pair = ("Anthropic", "Amazon")
    first = make("Anthropic raises $4bn from Amazon", companies=pair, guid="a")
    first = replace(first, published=first.published + timedelta(milliseconds=first_ms))
    second = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                  source="Outlet B", hours=50, companies=pair, guid="b")
    third = make("Anthropic secures fresh $4bn investment from Amazon", feed=FEED_B,
                 source="Reuters", hours=hours, companies=pair, guid="c")
    add(store, first, second, third, backlog=True)
    assert store.cluster_info(second.id)[1] == second.id
    expected = {"first": first, "second": second}[lead]
    assert store.cluster_info(third.id)[1] == expected.id


def test_a_failed_batch_leaves_the_next_one_clustered_right(store):
    add(store, make("Nvidia ships new chips", guid="0", companies=("Nvidia",)))
    lead = make("Anthropic raises $4bn from Amazon", companies=("Anthropic", "Amazon"))
    broken = replace(make("Broken", guid="2"), published=None)
    with pytest.raises(Exception):
        add(store, lead, broken)
    follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                  source="The Verge", hours=6, companies=("Amazon", "Anthropic"))
    assert add(store, lead, follow) == [lead, follow]
    assert store.cluster_info(follow.id) == (lead.id, lead.id, ["The Verge"])
    assert [b.id for b in store.stories_for_company("Amazon")] == [lead.id]


def test_clustering_more_candidates_than_the_signature_cache_holds(store, monkeypatch):
    """A busy company on a busy day: more same-company stories in the window than the
    signature cache bound. Nothing may fail, and every story is stored."""
    import storage.clusters
    monkeypatch.setattr(storage.clusters, "SIGNATURE_CACHE", 5)
    stories = [make(f"Nvidia deal number {i} worth ${i + 2}bn with partner {i}",
                    guid=f"n{i}", companies=("Nvidia",)) for i in range(12)]
    assert len(add(store, *stories)) == 12
