"""Read side: the queries behind /latest, /company, /topic and /topics (/search's:
storage/search.py, which answers its stories through _briefs here).

Each returns Briefs newest first, one per cluster (its lead, with also_reported_by).
Every query walks an index in published order and stops at `limit`, so it stays fast at
a million stories; tests/test_store_plans.py checks the query plans.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from feeds.headline import clean_headline
from feeds.models import Brief, iso_utc, parse_iso

_BRIEF_COLUMNS = ("s.pk, s.id, s.url, s.title, s.source, s.published, s.subtitle, "
                  "s.strategy, s.score, s.companies, s.topics, s.content_hash, s.reasons")
class LookupStore:
    """Mixin of Store: uses self.db."""

    def latest(self, limit: int = 10, *, topic: str | None = None,
               strategy_only: bool = True) -> list[Brief]:
        if topic is not None:
            return self._by_link("story_topics", "topic", topic, limit, strategy_only)
        where = "s.is_lead = 1" + (" AND s.strategy = 1" if strategy_only else "")
        return self._briefs(self.db.execute(
            f"SELECT {_BRIEF_COLUMNS} FROM stories s WHERE {where} "
            "ORDER BY s.published DESC, s.pk DESC LIMIT ?", (limit,)).fetchall())

    def stories_for_company(self, canonical: str, limit: int = 10, *,
                            strategy_only: bool = False) -> list[Brief]:
        return self._by_link("story_companies", "company", canonical, limit, strategy_only)

    def stories_for_topic(self, slug: str, limit: int = 10, *,
                          strategy_only: bool = False) -> list[Brief]:
        return self._by_link("story_topics", "topic", slug, limit, strategy_only)

    def _by_link(self, table: str, column: str, value: str, limit: int,
                 strategy_only: bool) -> list[Brief]:
        strategy = " AND l.strategy = 1" if strategy_only else ""
        return self._briefs(self.db.execute(
            f"SELECT {_BRIEF_COLUMNS} FROM {table} l JOIN stories s ON s.pk = l.story_pk "
            f"WHERE l.{column} = ? AND l.is_lead = 1{strategy} "
            "ORDER BY l.published DESC, l.story_pk DESC LIMIT ?", (value, limit)).fetchall())

    def counts_since(self, since: datetime, *, strategy_only: bool = False
                     ) -> tuple[dict[str, int], dict[str, int]]:
        """Stories (clusters once) per topic and per company published since `since`,
        most first."""
        return (self._counts("story_topics", "topic", since, strategy_only),
                self._counts("story_companies", "company", since, strategy_only))

    def _counts(self, table: str, column: str, since: datetime,
                strategy_only: bool) -> dict[str, int]:
        strategy = " AND strategy = 1" if strategy_only else ""
        # Left to itself the planner walks the whole (topic, published) index to save
        # a sort of a dozen groups; the published index reads only the recent rows.
        rows = self.db.execute(
            f"SELECT {column}, COUNT(*) AS n FROM {table} INDEXED BY {table}_since "
            "WHERE published >= ? "
            f"AND is_lead = 1{strategy} GROUP BY {column} ORDER BY n DESC, {column}",
            (iso_utc(since),))
        return dict(rows.fetchall())

    def judge_tally(self, since: datetime) -> dict[str, int]:
        """What the LLM judge decided on new stories first seen since `since`: asked,
        posted, rescued (the offline classifier said no) and turned_down (it said yes):
        `ainews status` shows an operator whether the judge is at work and what it does."""
        rows = self._judged_since(iso_utc(since))
        return {"asked": len(rows), "posted": sum(1 for judged, _ in rows if judged),
                "rescued": sum(1 for judged, offline in rows if judged and not offline),
                "turned_down": sum(1 for judged, offline in rows if offline and not judged)}

    def _judged_since(self, since: str) -> list[tuple[int, bool]]:
        """(verdict, the offline one) of each judged new story first seen since `since`.
        By first_seen, not the feed's date: a late or wrongly dated story is judged when
        it comes. Newest pk first (pks follow first_seen), so only the day's rows are read."""
        rows = self.db.execute("SELECT first_seen, status, strategy, reasons FROM stories "
                               "ORDER BY pk DESC")
        out = []
        for seen, status, strategy, reasons in rows:
            if seen < since:
                break
            if status == "new" and '"llm: ' in reasons:
                out.append((strategy, '"verdict:strategy' in reasons))
        return out

    def _briefs(self, rows: list[tuple]) -> list[Brief]:
        """Rows of _BRIEF_COLUMNS (cluster leads) -> Briefs: the cached brief of the
        story's current content when there is one, else a headline-only brief."""
        if not rows:
            return []
        hashes = [r[11] for r in rows]
        marks = ",".join("?" * len(hashes))
        cached = dict(self.db.execute(
            f"SELECT content_hash, brief FROM briefs WHERE content_hash IN ({marks})",
            hashes).fetchall())
        also = self._also_reported_by([r[0] for r in rows], {r[0]: r[4] for r in rows})
        return [_brief(r, cached.get(r[11]), tuple(also[r[0]])) for r in rows]


def _judged(reasons: str) -> str:
    """The LLM judge's verdict among a story's reasons (feeds/judge.py), when it decided."""
    if '"llm:' not in reasons:   # most stories: no list to parse
        return ""
    return next((r for r in json.loads(reasons) if r.startswith("llm:")), "")


def _brief(row: tuple, cached: str | None, also: tuple[str, ...]) -> Brief:
    (_pk, sid, url, title, source, published, subtitle, strategy, score, companies,
     topics, _hash, reasons) = row
    current = dict(companies=tuple(json.loads(companies)), topics=tuple(json.loads(topics)),
                   strategy=bool(strategy), score=score, also_reported_by=also,
                   verdict=_judged(reasons))
    if cached is None:   # not condensed (not strategy): its title as a brief would show it
        headline, shown = clean_headline(title, source)
        return Brief(id=sid, headline=headline, bullets=(), why_it_matters="", url=url,
                     source=shown, published=parse_iso(published), dek=subtitle, **current)
    brief = Brief.from_json(json.loads(cached))
    if brief.id != sid:
        # Identical content cached for another story (syndicated copy): this story's facts.
        brief = replace(brief, id=sid, url=url, source=source, published=parse_iso(published))
    return replace(brief, **current)
