"""Which cluster a new story joins: the nearest earlier report of the same event.

Candidates are the newest reports naming one of the story's main companies
(storage.candidates, from memory) or with its exact title key (SQL), within
feeds.cluster.WINDOW of it; they are compared nearest first, and the first that
feeds.event_match.same_signature accepts gives the cluster.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from itertools import chain, filterfalse, repeat
from operator import itemgetter, sub

from feeds.cluster import WINDOW, Signature, signature, signed, title_key
from feeds.event_match import match_score, same_signature
from feeds.models import Classification, Story, iso_utc, parse_iso
from storage.candidates import CompanyDays

_CANDIDATES_PER_KEY = 60   # nearest reports per company: plenty within 48 h, bounded cost
_MAX_COMPANIES = 3         # the main companies find the candidates; the rest only score
SIGNATURE_CACHE = 20_000   # recent stories' signatures: a few days of news
_EPOCH, _ONE_US = datetime(1970, 1, 1, tzinfo=timezone.utc), timedelta(microseconds=1)
_WINDOW_US = WINDOW // _ONE_US
# Times a window fits around: a CMS's year-1 date is stored, and must not overflow it.
_FIRST = datetime.min.replace(tzinfo=timezone.utc) + WINDOW
_LAST = datetime.max.replace(tzinfo=timezone.utc) - WINDOW


def window_around(published: datetime) -> tuple[datetime, datetime]:
    """published -/+ WINDOW, clamped to the years datetime holds."""
    middle = min(max(published, _FIRST), _LAST)
    return middle - WINDOW, middle + WINDOW


class ClusterSearch:
    """Mixin of StoryStore: uses self.db, self._signatures (pk -> (cluster, published
    in micros, Signature), oldest first), self._unsigned (see _sign_unsigned) and
    self._company_days, and StoryStore._forget_if_changed_elsewhere."""

    def _find_cluster(self, pk: int, story: Story, key: str
                      ) -> tuple[int | None, Signature | None]:
        """The cluster (lead pk) of the nearest earlier report of the same event, and the
        story's signature, made only when there is a report to compare it with (half
        the stories of a real backfill have none: no company, no wire copy)."""
        by_company, by_key = self._candidates(pk, story, key)
        pks = list(dict.fromkeys(by_company + by_key)) if by_key else by_company   # unique
        if not pks:
            return None, None
        mine = signature(story)
        return self._first_match(story, mine, pks), mine

    def _candidates(self, pk: int, story: Story, key: str) -> tuple[list[int], list[int]]:
        """Reports within WINDOW of `story`: those naming one of its main companies (newest
        first, in company order) and those with its exact title key."""
        lo, hi = window_around(story.published)
        lo_s, hi_s = iso_utc(lo), iso_utc(hi)
        days = CompanyDays.window(lo, hi)
        by_company = dict.fromkeys(chain.from_iterable(   # each once, first seen first
            self._by_company(company, days, lo_s, hi_s, pk)
            for company in story.classification.companies[:_MAX_COMPANIES]))
        rows = self.db.conn.execute(
            "SELECT pk FROM stories WHERE title_key = ? AND title_key != '' "
            "AND published BETWEEN ? AND ? AND pk != ? LIMIT ?",
            (key, lo_s, hi_s, pk, _CANDIDATES_PER_KEY)).fetchall() if key else []
        return list(by_company), list(map(itemgetter(0), rows))

    def event_candidates(self, story: Story, limit: int = 3) -> list[tuple[int, Story]]:
        """Earlier reports an LLM may call the same event as `story` (not stored yet): one
        per cluster led by a strategy story, its other outlets' strategy report naming one
        of the story's main companies within WINDOW that matches best, best first ([] when
        the offline rule finds its cluster)."""
        # Asked outside a write: the memos may hold what another connection changed
        # since (`ainews poll` alongside, the daily prune's own connection).
        self._forget_if_changed_elsewhere()
        key, mine = title_key(story.title), signature(story)
        by_company, by_key = self._candidates(-1, story, key)
        if self._first_match(story, mine, list(dict.fromkeys(by_company + by_key))) is not None:
            return []
        scored = [(pk, match_score(mine, sig))
                  for pk, (_, _, sig) in zip(by_company, self._signatures_for(by_company))]
        scored.sort(key=lambda c: -c[1])   # stable: nearest first on ties
        return self._cluster_reports([pk for pk, _ in scored], story.source, limit)

    def _cluster_reports(self, pks: list[int], source: str, limit: int) -> list[tuple[int, Story]]:
        """The first of `pks` in each of the first `limit` clusters, as Stories. Any member
        speaks for its cluster, not only the lead: a lead from the story's own outlet would
        hide the others' reports, and a round-up lead may read as another event than the
        member that matches (docs/clustering.md, "Candidates the model never saw")."""
        rows = self._reports(pks, source)
        out, clusters = [], set()
        for pk in pks:
            if pk in rows and rows[pk][0] not in clusters and len(out) < limit:
                cluster, sid, url, title, summary, text, src, published = rows[pk]
                clusters.add(cluster)
                out.append((pk, Story(sid, url, title, text, src, "", parse_iso(published),
                                      summary=summary)))
        return out

    def _reports(self, pks: list[int], source: str) -> dict[int, tuple]:
        """pk -> (cluster, story fields) of those of `pks` that are other outlets' strategy
        stories in a cluster led by a strategy story (the lead is the post a join lists
        it under). One query: the candidates are at most a few hundred."""
        marks = ",".join("?" * len(pks))
        return {r[0]: r[1:] for r in self.db.execute(
            "SELECT s.pk, s.cluster_id, s.id, s.url, s.title, s.summary, substr(s.text, 1, 800), "
            "s.source, s.published FROM stories s JOIN stories l ON l.pk = s.cluster_id "
            f"WHERE s.pk IN ({marks}) AND s.strategy = 1 AND l.strategy = 1 AND s.source != ?",
            (*pks, source))} if pks else {}

    def _by_company(self, company: str, days: tuple[str, ...] | None, lo_s: str, hi_s: str,
                    pk: int) -> list[int]:
        """The newest reports naming `company` in the window, newest first."""
        if days:   # from memory: no query
            return self._company_days.newest(company, days, lo_s, hi_s, pk,
                                             _CANDIDATES_PER_KEY)
        rows = self.db.conn.execute(
            "SELECT story_pk FROM story_companies WHERE company = ? AND published "
            "BETWEEN ? AND ? AND story_pk != ? ORDER BY published DESC, story_pk DESC "
            "LIMIT ?", (company, lo_s, hi_s, pk, _CANDIDATES_PER_KEY)).fetchall()
        return list(map(itemgetter(0), rows))

    def _first_match(self, story: Story, mine: Signature, pks: list[int]) -> int | None:
        """The cluster of the nearest candidate reporting the same event, if any."""
        candidates = self._signatures_for(pks)
        # A backfill gives each story ~100 candidates and compares ~10: order them by
        # distance in C (integer microseconds, no key lambda); ties keep input order.
        dist = list(map(abs, map(sub, map(itemgetter(1), candidates),
                                 repeat(micros(story.published)))))
        for i in sorted(range(len(candidates)), key=dist.__getitem__):
            if dist[i] > _WINDOW_US:
                return None   # the rest are farther still
            if same_signature(mine, candidates[i][2]):
                return candidates[i][0]
        return None

    def _signatures_for(self, pks: list[int]) -> list[tuple[int, int, Signature]]:
        """The signatures of `pks`, loading those not cached: each story is read and
        parsed once, not once per later story it is compared with."""
        cache = self._signatures
        self._load_signatures(list(filterfalse(cache.__contains__, pks)))
        found = list(map(cache.__getitem__, pks))   # before trimming: the bound can't drop them
        # Oldest loaded goes first: a dropped signature is only read again, so plain FIFO
        # does as well as LRU here without touching every candidate on every lookup.
        while len(cache) > SIGNATURE_CACHE:
            cache.popitem(last=False)
        return found

    def _load_signatures(self, missing: list[int]) -> None:
        for chunk in chunks(self._sign_unsigned(missing), 500):
            marks = ",".join("?" * len(chunk))
            # Only what a signature reads: html and full text would cost I/O for nothing.
            rows = self.db.execute(
                "SELECT pk, cluster_id, title, subtitle, summary, substr(text, 1, 400), "
                f"companies, published FROM stories WHERE pk IN ({marks})", chunk)
            for pk, cluster, title, subtitle, summary, text, companies, published in rows:
                other = Story("", "", title, text, "", "", parse_iso(published),
                              summary=summary, subtitle=subtitle, classification=Classification(
                                  companies=tuple(json.loads(companies))))
                self._signatures[pk] = (cluster, micros(other.published), signature(other))


    def _sign_unsigned(self, missing: list[int]) -> list[int]:
        """Make the signatures of those of `missing` stored unsigned (self._unsigned:
        pk -> (cluster, published in micros, feeds.cluster.signature_input)); the rest,
        to be read from the table."""
        unsigned, rest = self._unsigned, []
        for pk in missing:
            entry = unsigned.pop(pk, None)
            if entry is None:
                rest.append(pk)
            else:
                cluster, when, made_of = entry
                self._signatures[pk] = (cluster, when, signed(made_of))
        return rest

    def _keep_unsigned(self, pk: int, entry: tuple) -> None:
        """Keep a new story's (cluster, micros, signature_input) until a later story
        needs its signature; bounded as the signatures are (a dropped one is read)."""
        unsigned = self._unsigned
        unsigned[pk] = entry
        if len(unsigned) > SIGNATURE_CACHE:
            del unsigned[next(iter(unsigned))]


def micros(when: datetime) -> int:
    """Exact integer microseconds since the epoch: cheap to subtract and compare."""
    return (when - _EPOCH) // _ONE_US


def chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
