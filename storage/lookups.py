"""Read side: the queries behind /latest, /company, /topic, /search and /topics.

Each returns Briefs newest first, one per cluster (its lead, with also_reported_by).
Every query walks an index in published order and stops at `limit`, so it stays fast at
a million stories; tests/test_store_plans.py checks the query plans.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from datetime import datetime

from feeds.hanzi import variants
from feeds.headline import clean_headline
from feeds.models import Brief, iso_utc, parse_iso
from storage.budget import OverBudget, time_budget
from storage.query import UNSPACED as _UNSPACED, Query, TooBroad, parse, too_broad

log = logging.getLogger("ainews.store")

_BRIEF_COLUMNS = ("s.pk, s.id, s.url, s.title, s.source, s.published, s.subtitle, "
                  "s.strategy, s.score, s.companies, s.topics, s.content_hash, s.reasons")
# Search ranks the most recent matches only (news readers want recent anyway): ranking
# every match of a common word would cost a full pass over the index at 1M stories.
SEARCH_WINDOW = 2000
# Seconds one search may take (storage/budget.py): it runs on the bot's event loop, where
# every other user's command, the posting and the polling wait for it. Ordinary searches
# take 5-70 ms at a million stories (docs/benchmarks.md), so none comes near; a search
# stopped by it may overrun by one FTS5 step and still ends well inside the 3 s in
# which Slack and Discord want other users' commands answered.
SEARCH_BUDGET = 0.5


UNSPACED_SCAN = 5_000   # newest stories a Chinese query reads: about a week of news, ~20 ms


def _cased(word: str) -> bool:
    return any(ch.isascii() and ch.isalpha() for ch in word)


def _latin(word: str) -> bool:
    """A word of Latin letters and digits (h20, qwen3, gpt-4o): found only as a whole word."""
    return not _UNSPACED.search(word) and any(ch.isascii() and ch.isalnum() for ch in word)


@lru_cache(maxsize=256)
def _whole_word(word: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])",
                      re.ASCII | re.IGNORECASE)


def has_word(text: str | None, word: str) -> bool:
    """SQL function has_word(text, word): `word` in `text` with no Latin letter or digit
    right before or after it, ASCII case ignored ("H20" in "英伟达H20被要求", "ai" not in
    "said"). The store registers it on its connection."""
    return bool(text) and _whole_word(word).search(text) is not None


def _has(word: str, column: str) -> tuple[str, list]:
    """SQL (and its parameters) true when `column` holds `word`: a Chinese word as a
    substring, a Latin one as a whole word (see has_word)."""
    # LIKE ignores ASCII case without copying the text (instr(lower()) copied it, 5 x
    # slower), and reads Chinese text in half the time instr takes (which a word's
    # spellings in both scripts, hanzi.variants, each cost); then the whole-word test
    # (in Python) where LIKE found one. A pasted word longer than SQLite's LIKE pattern
    # limit (50,000) keeps instr.
    if len(word) > 1000:
        found, params = (f"instr(lower({column}), ?)" if _cased(word)
                         else f"instr({column}, ?)"), [word]
    else:
        found = f"{column} LIKE ? ESCAPE '\\'"
        params = ["%" + re.sub(r"([\\%_])", r"\\\1", word) + "%"]
    if not _latin(word):
        return found, params
    return f"(CASE WHEN {found} THEN has_word({column}, ?) ELSE 0 END)", [*params, word]


def _joined(parts: list[tuple[str, list]], join: str) -> tuple[str, list]:
    """SQL pieces joined by `join` (" AND ", " OR "), in parentheses, with their parameters."""
    return ("(" + join.join(sql for sql, _ in parts) + ")",
            [v for _, params in parts for v in params])


@dataclass(frozen=True, slots=True)
class Found:
    """What a search found: `any_word` when no story had every word and these have
    only some of them."""
    briefs: list[Brief]
    any_word: bool = False
    too_broad: TooBroad | None = None   # not searched, or stopped: see storage/query.py


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

    def stories_for_company(self, canonical: str, limit: int = 10) -> list[Brief]:
        return self._by_link("story_companies", "company", canonical, limit, False)

    def stories_for_topic(self, slug: str, limit: int = 10) -> list[Brief]:
        return self._by_link("story_topics", "topic", slug, limit, False)

    def _by_link(self, table: str, column: str, value: str, limit: int,
                 strategy_only: bool) -> list[Brief]:
        strategy = " AND l.strategy = 1" if strategy_only else ""
        return self._briefs(self.db.execute(
            f"SELECT {_BRIEF_COLUMNS} FROM {table} l JOIN stories s ON s.pk = l.story_pk "
            f"WHERE l.{column} = ? AND l.is_lead = 1{strategy} "
            "ORDER BY l.published DESC, l.story_pk DESC LIMIT ?", (value, limit)).fetchall())

    def search(self, query: str, limit: int = 10) -> list[Brief]:
        """Full-text search over headlines and text: headline matches first, then newest.
        Hostile input (`alibaba "qwen`, `AND OR (`) is searched as words, never raises.
        When no story has every word, stories with any of them are returned."""
        return self.find(query, limit).briefs

    def find(self, query: str, limit: int = 10) -> Found:
        """search(), saying whether the stories found have every word or, none having
        them all, only some (`any_word`): a reader must be told which. The query is
        read by storage/query.py: phrases, OR, NOT and -word work, FTS5 syntax doesn't.
        One too costly to run (query.py too_broad), or stopped at SEARCH_BUDGET, finds
        nothing and says why (`too_broad`)."""
        wanted = parse(query)
        if not wanted.clauses:
            return Found([])
        if (refused := too_broad(query, wanted)) is not None:
            return Found([], too_broad=refused)
        # The lock: no other thread's write runs on this connection under the budget.
        with self._lock:
            try:
                with time_budget(self.db.conn, SEARCH_BUDGET):
                    return self._found(query, wanted, limit)
            except OverBudget as e:
                log.info("store: a search %s, too broad to answer in time: %d terms, "
                         "%d characters", e, sum(map(len, wanted.clauses))
                         + len(wanted.without), len(query))
                return Found([], too_broad=TooBroad("slow"))

    def _found(self, query: str, wanted: Query, limit: int) -> Found:
        if _UNSPACED.search(query):
            leads, any_word = self._search_unspaced(wanted, limit)
        else:
            leads, any_word = self._search_leads(wanted.match(), limit, wanted), False
            if not leads and len(wanted.clauses) > 1:
                leads = self._search_leads(wanted.match(any_term=True), limit, wanted,
                                           any_term=True)
                any_word = bool(leads)
        if not leads:
            return Found([])
        marks = ",".join("?" * len(leads))
        rows = self.db.execute(f"SELECT {_BRIEF_COLUMNS} FROM stories s "
                               f"WHERE s.pk IN ({marks})", leads).fetchall()
        rows.sort(key=lambda r: leads.index(r[0]))
        return Found(self._briefs(rows), any_word)

    def _search_leads(self, match: str, limit: int, wanted: Query | None = None,
                      any_term: bool = False) -> list[int]:
        """Cluster leads of the recent window's matches: all words in the headline first,
        then the rest, newest first within each. No bm25: its per-query statistics read
        each term's whole doclist, 20-40 ms for a common word at 1M stories (bench/).

        The index keeps an unspaced Chinese clause as one token, Latin words glued to it
        included ("英伟达H20被要求"): when it finds fewer than `limit`, the query's words
        are also looked for in the newest UNSPACED_SCAN stories (a bounded scan, as for
        a Chinese query), as whole words (`ai` is not found inside `said`)."""
        window = [r for (r,) in self.db.execute(
            "SELECT rowid FROM stories_fts WHERE stories_fts MATCH ? ORDER BY rowid DESC "
            "LIMIT ?", (match, SEARCH_WINDOW))]
        in_title: set[int] = set()
        if window:
            # Bounded by the window's oldest rowid, the title match seeks, never scans.
            in_title = {r for (r,) in self.db.execute(
                "SELECT rowid FROM stories_fts WHERE stories_fts MATCH ? AND rowid >= ?",
                (f"{{title}} : ({match})", window[-1]))}
        if wanted is not None:
            window, in_title = self._as_typed(wanted, any_term, window, in_title)
        leads = self._rank_leads(window, in_title, limit)
        if len(leads) >= limit or wanted is None:
            return leads
        glued, glued_title = self._scanned(wanted, any_term)
        if not set(glued) - set(window):
            return leads
        return self._rank_leads(list(dict.fromkeys(window + glued)), in_title | glued_title,
                                limit)

    def _as_typed(self, wanted: Query, any_term: bool, window: list[int],
                  in_title: set[int]) -> tuple[list[int], set[int]]:
        """The stories of `window` that hold each loosely indexed clause as typed (a
        prefix unstemmed, "U.S." with its dots: Term.strict), and which of them hold it
        in the headline. Reads their text: only for such queries, and within the window."""
        loose = wanted.loose(any_term=any_term)
        if not loose or not window:
            return window, in_title
        marks = ",".join("?" * len(window))
        rows = self.db.execute(f"SELECT pk, title, text FROM stories WHERE pk IN ({marks})",
                               window).fetchall()
        kept, titled = set(), set()
        for pk, title, text in rows:
            heads = [any(t.search(title) for t in c) for c in loose]
            if all(heads):
                kept.add(pk)
                titled |= {pk} & in_title
            elif all(h or any(t.search(text) for t in c) for h, c in zip(heads, loose)):
                kept.add(pk)
        return [pk for pk in window if pk in kept], titled

    def _search_unspaced(self, wanted: Query, limit: int) -> tuple[list[int], bool]:
        """Chinese and Japanese put no spaces between words, so the index holds a whole
        clause as one token and finds no word inside it: look for the words as
        substrings of the newest UNSPACED_SCAN stories instead (a bounded scan)."""
        leads = self._rank_leads(*self._scanned(wanted, False), limit)
        if not leads and len(wanted.clauses) > 1:
            leads = self._rank_leads(*self._scanned(wanted, True), limit)
            return leads, bool(leads)
        return leads, False

    def _scanned(self, wanted: Query, any_term: bool) -> tuple[list[int], set[int]]:
        return self._as_typed(wanted, any_term, *self._substring_window(wanted, any_term))

    def _substring_window(self, wanted: Query, any_term: bool) -> tuple[list[int], set[int]]:
        """The newest UNSPACED_SCAN stories holding the words (every clause, or any word
        with any_term) and none of the left-out ones, newest first, and those with them
        in the headline. A Chinese word is a substring; a Latin one a whole word: no
        letter or digit next to it (`ai` is in "AI芯片" and "OpenAI's AI", not in "said")."""
        (top,) = self.db.execute("SELECT max(pk) FROM stories").fetchone()
        # A Chinese word in simplified and traditional characters (降价 finds 降價 too).
        forms = [[f for w in clause for f in variants(w)] for clause in wanted.substrings()]
        if any_term:
            forms = [[f for fs in forms for f in fs]]
        shunned = [f for w in wanted.shunned() for f in variants(w)]
        title = _joined([_joined([_has(f, "title") for f in fs], " OR ") for fs in forms],
                        " AND ")
        anywhere = _joined([_joined([_has(f, c) for f in fs for c in ("title", "text")],
                                    " OR ") for fs in forms], " AND ")
        nowhere = [_joined([_has(w, "title"), _has(w, "text")], " OR ") for w in shunned]
        sql = (f"SELECT pk, {title[0]} FROM stories WHERE pk > ? AND {anywhere[0]}"
               + "".join(f" AND NOT {n}" for n, _ in nowhere) + " ORDER BY pk DESC LIMIT ?")
        params = [*title[1], (top or 0) - UNSPACED_SCAN, *anywhere[1],
                  *(v for _, vs in nowhere for v in vs), SEARCH_WINDOW]
        rows = self.db.execute(sql, params).fetchall()
        return [pk for pk, _ in rows], {pk for pk, t in rows if t}

    def _rank_leads(self, window: list[int], in_title: set[int], limit: int) -> list[int]:
        if not window:
            return []
        marks = ",".join("?" * len(window))
        rows = self.db.execute(f"SELECT pk, cluster_id, published FROM stories "
                               f"WHERE pk IN ({marks})", window).fetchall()
        rows.sort(key=lambda r: (r[2], r[0]), reverse=True)
        rows.sort(key=lambda r: r[0] not in in_title)      # stable: recency within tiers
        leads: list[int] = []
        for _pk, cluster, _published in rows:
            if cluster not in leads:
                leads.append(cluster)
                if len(leads) == limit:
                    break
        return leads

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
