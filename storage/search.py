"""Search: the query behind /search and `ainews search`, over headlines and text.

storage/query.py reads what a user typed; this finds it: the FTS5 index for spaced words,
a bounded substring scan of the newest stories for Chinese and Japanese (and for Latin
words glued to them), within a time budget (storage/budget.py). Like the other lookups
(storage/lookups.py) it answers cluster leads as Briefs, headline matches first, AI
strategy stories first among equal matches."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from feeds.hanzi import variants
from feeds.models import Brief
from storage.budget import OverBudget, time_budget
from storage.lookups import _BRIEF_COLUMNS
from storage.query import UNSPACED as _UNSPACED, Query, TooBroad, parse, too_broad
from storage.search_sql import anywhere, has_sql, joined

log = logging.getLogger("ainews.store")

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


@dataclass(frozen=True, slots=True)
class Found:
    """What a search found: `any_word` when no story had every word and these have
    only some of them."""
    briefs: list[Brief]
    any_word: bool = False
    too_broad: TooBroad | None = None   # not searched, or stopped: see storage/query.py


class SearchStore:
    """Mixin of Store: uses self.db, self._lock and LookupStore's _briefs."""

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
        # Where the substring scan stops: read once, however many times it scans.
        (top,) = self.db.execute("SELECT max(pk) FROM stories").fetchone()
        floor = (top or 0) - UNSPACED_SCAN
        if _UNSPACED.search(query):
            leads, any_word = self._search_unspaced(wanted, limit, floor)
        else:
            leads, any_word = self._search_leads(wanted.match(), limit, wanted, floor), False
            if not leads and len(wanted.clauses) > 1:
                leads = self._search_leads(wanted.match(any_term=True), limit, wanted, floor,
                                           any_term=True)
                any_word = bool(leads)
        if not leads:
            return Found([])
        marks = ",".join("?" * len(leads))
        rows = self.db.execute(f"SELECT {_BRIEF_COLUMNS} FROM stories s "
                               f"WHERE s.pk IN ({marks})", leads).fetchall()
        rows.sort(key=lambda r: leads.index(r[0]))
        return Found(self._briefs(rows), any_word)

    def _search_leads(self, match: str, limit: int, wanted: Query, floor: int,
                      any_term: bool = False) -> list[int]:
        """Cluster leads of the recent window's matches: all words in the headline first,
        then the rest, newest first within each. No bm25: its per-query statistics read
        each term's whole doclist, 20-40 ms for a common word at 1M stories (bench/).

        The index keeps an unspaced Chinese clause as one token, Latin words glued to it
        included ("英伟达H20被要求"): when it finds fewer than `limit`, the query's words
        are also looked for in the newest UNSPACED_SCAN stories (a bounded scan, as for
        a Chinese query), as whole words (`ai` is not found inside `said`). The scan
        reads the stories after `floor`."""
        window, in_title = self._index_window(match, wanted, any_term, floor)
        most = self._words_found(wanted, window, fts=True) if any_term else None
        leads = self._rank_leads(window, in_title, limit, most)
        if len(leads) >= limit:
            return leads
        extra, glued_title = self._glued(wanted, any_term, window, floor)
        if not extra:
            return leads
        if any_term:
            most = {**(most or {}), **self._words_found(wanted, extra, fts=False)}
        return self._rank_leads(window + extra, in_title | glued_title, limit, most)

    def _index_window(self, match: str, wanted: Query, any_term: bool,
                      floor: int) -> tuple[list[int], set[int]]:
        """The index's newest SEARCH_WINDOW matches, as typed and without the stories
        the scan finds a left-out word in, and which of them match in the headline."""
        window = [r for (r,) in self.db.execute(
            "SELECT rowid FROM stories_fts WHERE stories_fts MATCH ? ORDER BY rowid DESC "
            "LIMIT ?", (match, SEARCH_WINDOW))]
        in_title: set[int] = set()
        if window:
            # Bounded by the window's oldest rowid, the title match seeks, never scans.
            in_title = self._fts_from(f"{{title}} : ({match})", window[-1])
        window, in_title = self._as_typed(wanted, any_term, window, in_title)
        return self._unshunned(wanted, window, floor), in_title

    def _glued(self, wanted: Query, any_term: bool, window: list[int],
               floor: int) -> tuple[list[int], set[int]]:
        """The scan's stories the index missed (words glued into unspaced text), and
        those with the words in the headline."""
        glued, glued_title = self._scanned(wanted, any_term, floor)
        seen = set(window)
        extra = [pk for pk in glued if pk not in seen]
        if extra and wanted.without:
            # The scan leaves out a word as written; the index, every form it reads
            # as that word ("revenue" for -revenues, "open-source" for -"open source").
            shunned = self._fts_from(" OR ".join(t.fts() for t in wanted.without), min(extra))
            extra = [pk for pk in extra if pk not in shunned]
        return extra, glued_title

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

    def _unshunned(self, wanted: Query, window: list[int], floor: int) -> list[int]:
        """`window` without the stories the scan finds a left-out word in: the index
        reads "Qwen3" as another word than "qwen", which `search qwen` finds, so
        `alibaba -qwen` listed it. Within the scan's reach, as `search qwen` is."""
        shunned = [f for w in wanted.shunned() for f in variants(w)]
        if not shunned or not window:
            return window
        holding = anywhere(shunned)
        marks = ",".join("?" * len(window))
        found = {pk for (pk,) in self.db.execute(
            f"SELECT pk FROM stories WHERE pk IN ({marks}) AND pk > ? AND {holding[0]}",
            [*window, floor, *holding[1]])}
        return [pk for pk in window if pk not in found]

    def _search_unspaced(self, wanted: Query, limit: int,
                         floor: int) -> tuple[list[int], bool]:
        """Chinese and Japanese put no spaces between words, so the index holds a whole
        clause as one token and finds no word inside it: look for the words as
        substrings of the newest UNSPACED_SCAN stories instead (a bounded scan)."""
        leads = self._rank_leads(*self._scanned(wanted, False, floor), limit)
        if not leads and len(wanted.clauses) > 1:
            window, in_title = self._scanned(wanted, True, floor)
            leads = self._rank_leads(window, in_title, limit,
                                     self._words_found(wanted, window, fts=False))
            return leads, bool(leads)
        return leads, False

    def _scanned(self, wanted: Query, any_term: bool,
                 floor: int) -> tuple[list[int], set[int]]:
        return self._as_typed(wanted, any_term,
                              *self._substring_window(wanted, any_term, floor))

    def _substring_window(self, wanted: Query, any_term: bool,
                          floor: int) -> tuple[list[int], set[int]]:
        """The stories after `floor` (the newest UNSPACED_SCAN) holding the words (every
        clause, or any word with any_term) and none of the left-out ones, newest first,
        and those with them in the headline. A Chinese word is a substring; a Latin one
        a whole word: no letter or digit next to it (`ai` is in "AI芯片" and "OpenAI's
        AI", not in "said")."""
        # A Chinese word in simplified and traditional characters (降价 finds 降價 too).
        forms = [[f for w in clause for f in variants(w)] for clause in wanted.substrings()]
        if any_term:
            forms = [[f for fs in forms for f in fs]]
        shunned = [f for w in wanted.shunned() for f in variants(w)]
        title = joined([joined([has_sql(f, "title") for f in fs], " OR ") for fs in forms],
                        " AND ")
        held = joined([anywhere(fs) for fs in forms], " AND ")
        nowhere = [anywhere([w]) for w in shunned]
        sql = (f"SELECT pk, {title[0]} FROM stories WHERE pk > ? AND {held[0]}"
               + "".join(f" AND NOT {n}" for n, _ in nowhere) + " ORDER BY pk DESC LIMIT ?")
        params = [*title[1], floor, *held[1],
                  *(v for _, vs in nowhere for v in vs), SEARCH_WINDOW]
        rows = self.db.execute(sql, params).fetchall()
        return [pk for pk, _ in rows], {pk for pk, t in rows if t}

    def _words_found(self, wanted: Query, pks: list[int], *, fts: bool
                     ) -> dict[int, tuple[int, int]]:
        """For a search none of whose stories holds every word: how many of its words
        (clauses) each of `pks` holds, and how many in its headline, so those with the
        most come first. `fts`: as the index reads them (stemmed), else as the substring
        scan does. One look-up per word, bounded by the window's oldest story."""
        held, headed, among = Counter(), Counter(), set(pks)
        if not pks:
            return {}
        for clause in wanted.clauses:
            found, titled = (self._fts_holding(Query((clause,)).match(), min(pks)) if fts
                             else self._scan_holding(Query((clause,)), pks))
            held.update(found & among)
            headed.update(titled & among)
        return {pk: (held[pk], headed[pk]) for pk in pks}

    def _fts_holding(self, match: str, lowest: int) -> tuple[set[int], set[int]]:
        """Stories from `lowest` on that the index matches, and those in the headline."""
        return self._fts_from(match, lowest), self._fts_from(f"{{title}} : ({match})", lowest)

    def _fts_from(self, match: str, lowest: int) -> set[int]:
        return {r for (r,) in self.db.execute(
            "SELECT rowid FROM stories_fts WHERE stories_fts MATCH ? AND rowid >= ?",
            (match, lowest))}

    def _scan_holding(self, clause: Query, pks: list[int]) -> tuple[set[int], set[int]]:
        forms = [f for w in clause.substrings()[0] for f in variants(w)]
        title = joined([has_sql(f, "title") for f in forms], " OR ")
        held = anywhere(forms)
        marks = ",".join("?" * len(pks))
        rows = self.db.execute(f"SELECT pk, {title[0]} FROM stories WHERE pk IN ({marks}) "
                               f"AND {held[0]}", [*title[1], *pks, *held[1]])
        found = rows.fetchall()
        return {pk for pk, _ in found}, {pk for pk, t in found if t}

    def _rank_leads(self, window: list[int], in_title: set[int], limit: int,
                    most: dict[int, tuple[int, int]] | None = None) -> list[int]:
        """Cluster leads of `window`: headline matches first, AI strategy stories first
        within them (the bot's purpose), newest first within those; with `most`
        (_words_found), stories holding more of the words before all that."""
        if not window:
            return []
        marks = ",".join("?" * len(window))
        rows = self.db.execute(f"SELECT pk, cluster_id, published, strategy FROM stories "
                               f"WHERE pk IN ({marks})", window).fetchall()
        rows.sort(key=lambda r: (r[2], r[0]), reverse=True)
        # stable sorts: recency within strategy or not, within headline match or not
        rows.sort(key=lambda r: (r[0] not in in_title, not r[3]))
        if most:
            rows.sort(key=lambda r: most.get(r[0], (0, 0)), reverse=True)
        leads: list[int] = []
        for _pk, cluster, _published, _strategy in rows:
            if cluster not in leads:
                leads.append(cluster)
                if len(leads) == limit:
                    break
        return leads
