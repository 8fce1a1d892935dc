"""Cluster candidates from memory (storage.candidates): the same rows as the query they
replace, and kept right across other writers, rollbacks and edits."""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from feeds.cluster import WINDOW
from feeds.models import Classification, Story, iso_utc, story_id
from storage.candidates import CompanyDays
from storage.store import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
FEED_A, FEED_B = "https://a.example/feed", "https://b.example/rss"
# ASCII case folds under NOCASE, other letters do not ("Ä" / "ä" stay apart).
SPELLINGS = ["OpenAI", "openai", "OPENAI", "Zhipu ÄI", "zhipu äi", "Alibaba", "Baidu"]
QUERY = ("SELECT story_pk FROM story_companies WHERE company = ? AND published BETWEEN ? "
         "AND ? AND story_pk != ? ORDER BY published DESC LIMIT ?")


def make(title: str, *, feed: str = FEED_A, source: str = "Outlet A", hours: float = 0,
         companies=("Anthropic", "Amazon"), guid: str = "") -> Story:
    url = f"https://{source.replace(' ', '')}.example/{abs(hash((title, guid))) % 10**8}"
    return Story(id=story_id(feed, guid, url), url=url, title=title, text=f"{title}.",
                 source=source, feed_url=feed, published=T0 + timedelta(hours=hours),
                 guid=guid, classification=Classification(True, 2.5, tuple(companies),
                                                           ("funding",), ()))


def add(store: Store, *stories: Story) -> list[Story]:
    return store.add_new_stories(list(stories), backlog=True, now=T0)


@pytest.mark.parametrize("max_rows", [100_000, 60], ids=["all-days-kept", "days-dropped"])
@pytest.mark.parametrize("seed", range(4))
def test_memory_answers_as_the_query(tmp_path, monkeypatch, seed, max_rows):
    """Random stories over a week, many at the same second, company spellings that
    NOCASE folds and some it does not: every window's candidates, memory and SQL."""
    import storage.candidates
    monkeypatch.setattr(storage.candidates, "MAX_ROWS", max_rows)
    rnd = random.Random(seed)
    stories = [Story(f"s{i}", f"https://x.example/{i}", f"Story {i}", "text", "X", FEED_A,
                     T0 + timedelta(hours=rnd.choice(range(0, 24 * 7, 3))),
                     classification=Classification(True, 1.0, tuple(
                         rnd.sample(SPELLINGS, rnd.randint(1, 3))), ()))
               for i in range(400)]
    with Store(tmp_path / "a.db") as store:
        for i in range(0, 400, 37):   # batches: days are loaded, then added to
            add(store, *stories[i:i + 37])
        days = store._company_days
        for _ in range(300):
            at = T0 + timedelta(hours=rnd.uniform(-48, 24 * 9))
            lo, hi = at - WINDOW, at + WINDOW
            company, pk, limit = rnd.choice(SPELLINGS), rnd.randint(1, 400), rnd.choice(
                [1, 5, 60])
            args = (company, iso_utc(lo), iso_utc(hi), pk, limit)
            expected = [p for (p,) in store.db.execute(QUERY, args)]
            assert days.newest(company, CompanyDays.window(lo, hi), *args[1:]) == expected


def test_a_story_another_process_stored_is_a_candidate(tmp_path):
    """The CLI (`ainews poll`) stores a report while the bot runs: the bot's next
    report of the same event joins its cluster."""
    path = tmp_path / "ainews.db"
    with Store(path) as bot, Store(path) as cli:
        add(bot, make("Nvidia ships new chips", companies=("Nvidia", "Amazon"), hours=2))
        lead = make("Anthropic raises $4bn from Amazon", source="FT", hours=1)
        add(cli, lead)
        follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                      source="The Verge", hours=6)
        add(bot, follow)
        assert bot.cluster_info(follow.id) == (lead.id, lead.id, ["The Verge"])


def test_a_rolled_back_story_is_no_candidate(tmp_path, monkeypatch):
    """A poll whose transaction failed leaves nothing behind: with one candidate per
    company, a rolled-back newer report would hide the stored one."""
    import storage.clusters
    monkeypatch.setattr(storage.clusters, "_CANDIDATES_PER_KEY", 1)
    with Store(tmp_path / "a.db") as store:
        lead = make("Anthropic raises $4bn from Amazon", source="FT", hours=1)
        add(store, lead)
        with pytest.raises(RuntimeError):
            with store.transaction():
                add(store, make("Anthropic hires a new CFO", guid="x", hours=2))
                raise RuntimeError("the poll stops here")
        other = make("Nvidia ships new chips", guid="n", hours=2, companies=("Nvidia",))
        follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                      source="The Verge", hours=6, companies=("Anthropic",))
        add(store, other, follow)   # `other` takes the rolled-back story's pk
        assert store.cluster_info(follow.id) == (lead.id, lead.id, ["The Verge"])


@pytest.mark.parametrize("by", ["the bot", "another process"])
def test_an_edit_that_changes_the_companies_moves_the_story(tmp_path, by):
    """An outlet corrects which companies a report is about, stored by the bot itself or
    by the CLI while the bot runs: later reports cluster by the corrected ones."""
    path = tmp_path / "ainews.db"
    with Store(path) as bot, Store(path) as cli:
        first = make("Anthropic raises $4bn from Amazon", source="FT", guid="g",
                     companies=("Nvidia",))
        add(bot, first, make("Amazon cuts Kindle prices", hours=3, companies=("Amazon",)))
        add(bot if by == "the bot" else cli,
            replace(first, title="Anthropic raises $4bn from Amazon, it says",
                    classification=replace(first.classification,
                                           companies=("Anthropic", "Amazon"))))
        follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                      source="The Verge", hours=6)
        add(bot, follow)
        assert bot.cluster_info(follow.id) == (first.id, first.id, ["The Verge"])


@pytest.mark.parametrize("offset", [8, -5], ids=["east-of-utc", "west-of-utc"])
def test_a_time_given_in_another_zone_finds_the_same_candidates(tmp_path, offset):
    """A report whose time came with a zone other than UTC (stored as UTC): its window's
    days are UTC days, so a candidate just inside the window's far end is still found."""
    zone = timezone(timedelta(hours=offset))
    with Store(tmp_path / "a.db") as store:
        edge = WINDOW - timedelta(minutes=30)
        # the stored report lies just inside the window, on the UTC day the local one misses
        lead_at = (T0.replace(hour=23, minute=0) if offset > 0
                   else T0.replace(hour=0, minute=30) + timedelta(days=3))
        follow_at = lead_at + edge if offset > 0 else lead_at - edge
        lead = make("Anthropic raises $4bn from Amazon", source="FT")
        add(store, replace(lead, published=lead_at))
        add(store, make("Amazon cuts Kindle prices", guid="k", companies=("Amazon",),
                        hours=(follow_at - T0) / timedelta(hours=1)))   # the day is loaded
        follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                      source="The Verge")
        add(store, replace(follow, published=follow_at.astimezone(zone)))
        assert store.cluster_info(follow.id) == (lead.id, lead.id, ["The Verge"])


def test_reports_beyond_the_signature_bound_still_cluster(tmp_path, monkeypatch):
    """More first reports (nothing yet to compare them with) than the store keeps in
    memory: a later report of the oldest one's event still joins it."""
    import storage.clusters
    monkeypatch.setattr(storage.clusters, "SIGNATURE_CACHE", 2)
    with Store(tmp_path / "a.db") as store:
        lead = make("Anthropic raises $4bn from Amazon", source="FT")
        others = [make(f"{c} opens an office in Paris", guid=c, hours=1, companies=(c,))
                  for c in ("Nvidia", "Baidu", "Mistral", "Zhipu")]
        add(store, lead, *others)
        follow = make("Amazon to invest another $4 billion in Anthropic", feed=FEED_B,
                      source="The Verge", hours=6)
        add(store, follow)
        assert store.cluster_info(follow.id) == (lead.id, lead.id, ["The Verge"])


def test_memory_is_bounded_by_rows_not_days(tmp_path, monkeypatch):
    """A dense store: clustering a backlog that spans its days keeps at most MAX_ROWS
    company rows in memory besides the window in use, however many days it walks; and
    a window bigger than MAX_ROWS on its own is kept, not read again for every story."""
    import storage.candidates
    monkeypatch.setattr(storage.candidates, "MAX_ROWS", 100)
    per_day = [make(f"Report {d}-{i}", hours=24 * d + i % 20, guid=f"{d}-{i}")
               for d in range(12) for i in range(30)]             # 30 stories, 60 rows a day
    with Store(tmp_path / "a.db") as store:
        add(store, *per_day)
        days, loads = store._company_days, []
        monkeypatch.setattr(days, "_load", lambda day, load=days._load: loads.append(day) or load(day))
        days.clear()
        for d in range(12):   # two reports a day: each walks its window's days
            for n in range(2):
                late = make(f"Late report {d} {n}", hours=24 * d + 21 + n, guid=f"late-{d}-{n}",
                            source="Outlet C", feed=FEED_B)
                add(store, late)
                window = CompanyDays.window(late.published - WINDOW, late.published + WINDOW)
                kept = {day: sum(len(r.pks) for r in rows.values())
                        for day, rows in days._days.items()}
                assert sum(kept.values()) == days._rows
                assert sum(n for day, n in kept.items() if day not in window) <= 100
        assert len(loads) == len(set(loads))   # no day read twice: the windows move on
