"""Scan: what a story's headline, lead and body name, counted for feeds/classify.py.

A story is scored from the set of places (headline, lead, rest of the body) each of its
phrase keys (topic, strategy, cue or negative phrase: a Term) was seen in, its companies
(how often, how often in the headline, in the order first named) and its AI evidence.
What a Term adds
for a given set of places (points, reason text, feature names, topic strength) depends
on nothing else, so it is worked out once per Term, and a story's matches are grouped
per place by C-level dict and map calls: the Python per story runs per distinct phrase
key, and per company or AI spelling, not per match (a long story has ~80 matches).
A Scanner keeps memos between stories: one thread at a time.
"""
from __future__ import annotations

from itertools import chain
from operator import itemgetter

PLACES = ("title", "lead", "body")
BITS = (1, 2, 4)   # a Term's places in a story, as a bit mask
# The places of each mask in the order a set of them iterates when filled in PLACES
# order, as the scan once collected them: sums over places and the order of feature
# names follow it, so every figure and reason comes out as it did then.
ORDERS = [tuple({p for b, p in zip(BITS, PLACES) if mask & b}) for mask in range(8)]
TOPIC_OWNERS = ("open-source", "pricing", "funding", "acquisitions", "partnerships", "chips",
                "policy", "models", "leadership", "enterprise", "china", "strategy")
MEMO_LIMIT = 50_000   # spellings remembered; a stream of odd ones must not grow memory
points_of = itemgetter(0)


# A Term's topic strength per mask: 2 for the headline, 1 for the rest of the body.
STRENGTH = [2 * ("title" in order) + (len(order) > ("title" in order)) for order in ORDERS]


class Term:
    """A phrase key (kind, owner, lowercased phrase) with its weight and, per mask of
    places, its feature names, points and (points, reason text) (`at`), and topic strength."""
    __slots__ = ("kind", "owner", "phrase", "weight", "at", "strength")

    def __init__(self, key: tuple[str, str, str], weight: float, factors: tuple[dict, dict]):
        self.kind, self.owner, self.phrase = key
        self.weight = weight
        self.strength = STRENGTH
        self.at = _Masks(key, weight, factors[key[0] == "negative"])


class _Masks(dict):
    """mask -> a Term's (feature names, points, (points, reason text)) for that set of
    places, made on first use: a story meets one or two of a Term's eight masks, and a
    first cycle makes a Term for each of its thousand-odd phrases (a dozen formats each)."""
    __slots__ = ("key", "weight", "factor")

    def __init__(self, key: tuple[str, str, str], weight: float, factor: dict):
        super().__init__()
        self.key, self.weight, self.factor = key, weight, factor

    def __missing__(self, mask: int) -> tuple:
        kind, owner, phrase = self.key
        name = (owner if owner in TOPIC_OWNERS else f"cue:{owner}" if kind == "cue"
                else "negative" if kind == "negative" else "other")
        order = ORDERS[mask]
        pts = self.weight * sum(map(self.factor.__getitem__, order))
        sign, head, tail = (("-", "negative:", "") if kind == "negative"
                            else ("+", "term:", f" [{owner}]"))
        why = f"{head}{phrase} {sign}{pts:.3g}{tail}" + (" (title)" if "title" in order else "")
        value = self[mask] = (tuple(f"{name}@{p}" for p in order), pts, (pts, why))
        return value


class Scan:
    """What one story's title and body matched, tallied for scoring (see _tally)."""
    __slots__ = ("places", "by_company", "companies", "ai", "ai_strength", "ai_places", "near",
                 "company_in_title", "lab_in_title", "vetoed",   # the scan's counts; the tally's:
                 "features", "owner_pts", "terms", "negatives", "negative", "strength")

    def __init__(self):
        self.places: list[dict[Term, None]] = [{}, {}, {}]   # Terms seen per place
        self.by_company: dict[Term, int] = {}   # a topic's companies: Term -> places mask
        # canon -> [hits, headline hits], in the order first named
        self.companies: dict[str, list[int]] = {}
        self.ai: dict[str, int] = {}            # AI phrase as written -> hits
        self.ai_strength = 0.0
        self.ai_places = [0.0, 0.0, 0.0]       # AI hits per place
        self.near = 0.0   # evidence of AI's industry (chips, data centres, crawlers), weighed like AI
        self.vetoed = ""
        self.company_in_title = self.lab_in_title = False   # an (AI) company in the headline


class _Memo(dict):
    """spelling -> its Terms, made on first sight (dict lookups stay in C)."""
    def __init__(self, make):
        super().__init__()
        self._make = make

    def __missing__(self, spelling: str):
        value = self[spelling] = self._make(spelling)
        return value


class Scanner:
    """Counts what a story names, for one gazetteer's phrases (a PhraseMatcher whose
    keys are (kind, owner, weight)); see Classifier._make_scanner for the settings."""

    def __init__(self, matcher, *, ai_companies, factors, topic_of_company, ai_body,
                 lead_chars, veto):
        self._matcher, self._ai_companies, self._factors = matcher, ai_companies, factors
        self._topic_of_company, self._lead_chars, self._veto = topic_of_company, lead_chars, veto
        self._ai_w = (2.0, 1.0, ai_body)
        self._terms_of = _Memo(self._plan)
        self._special: dict[str, list[tuple[str, str, bool]]] = {}   # company and AI keys
        self._registry: dict[tuple, Term] = {}

    def scan(self, title: str, text: str) -> Scan:
        if len(self._terms_of) > MEMO_LIMIT:   # between stories: no plan is in use
            self._terms_of.clear(), self._special.clear(), self._registry.clear()
        s = Scan()
        cut = lead_end(text, self._lead_chars)
        self._place(s, 0, title)
        self._place(s, 1, text[:cut])
        self._place(s, 2, text[cut:])
        self._company_topics(s)
        _tally(s, self._veto)
        return s

    def _plan(self, spelling: str) -> tuple[Term, ...]:
        """A spelling's phrase keys as Terms; its company and AI keys go to _special."""
        terms, special, low = [], [], spelling.lower()
        for kind, owner, weight in self._matcher.keys(spelling):
            if kind == "not":   # a word that only hides a name inside it (文心兰)
                continue
            if kind in ("company", "ai"):
                special.append((kind, owner, owner in self._ai_companies))
            else:
                terms.append(self._term((kind, owner, low), weight))
        if special:
            self._special[spelling] = special
        return tuple(terms)

    def _term(self, key: tuple[str, str, str], weight: float) -> Term:
        term = self._registry.get(key)
        if term is None:
            term = self._registry[key] = Term(key, weight, self._factors)
        return term

    def _place(self, s: Scan, i: int, part: str) -> None:
        """One place's matches: its distinct Terms in the order first seen, and its
        companies and AI phrases counted."""
        found = self._matcher.found(part)
        if not found:
            return
        spellings = dict.fromkeys(found)
        s.places[i] = dict.fromkeys(chain.from_iterable(map(self._terms_of.__getitem__, spellings)))
        for spelling in filter(self._special.__contains__, spellings):
            self._count(s, i, spelling, found.count(spelling))

    def _count(self, s: Scan, i: int, spelling: str, n: int) -> None:
        """A company or AI spelling's n hits in place i."""
        for kind, owner, ai_lab in self._special[spelling]:
            if kind == "company":
                hits = s.companies.get(owner)
                if hits is None:
                    hits = s.companies[owner] = [0, 0]
                hits[0] += n
                if i == 0:
                    hits[1] += n
                    s.company_in_title = True
                    s.lab_in_title = s.lab_in_title or ai_lab
                if ai_lab:
                    self._ai_hits(s, i, n, self._ai_w[i])
            elif owner == "weak":   # half a strong phrase, in the headline only
                self._ai_hits(s, i, n, self._ai_w[0] / 2 if i == 0 else 0.0, count=False)
            elif owner == "near":   # its own tally: it opens the gate only for the learned layer
                s.near += n * self._ai_w[i]
            else:
                s.ai[spelling] = s.ai.get(spelling, 0) + n
                self._ai_hits(s, i, n, self._ai_w[i])

    @staticmethod
    def _ai_hits(s: Scan, i: int, n: int, weight: float, count: bool = True) -> None:
        for _ in range(n):   # one by one: n * weight can round differently
            s.ai_strength += weight
        if count:
            s.ai_places[i] += n

    def _company_topics(self, s: Scan) -> None:
        """A topic's companies count like its phrases (weight 0: membership, not
        strategy), in the headline if named there, else in the lead."""
        for canon, (n, n_title) in s.companies.items():
            mask = (1 if n_title else 0) | (2 if n > n_title else 0)
            for slug in self._topic_of_company.get(canon, ()):
                term = self._term(("topic", slug, canon), 0.0)
                s.by_company[term] = s.by_company.get(term, 0) | mask


def _tally(s: Scan, veto: float) -> None:
    """One pass over the story's Terms: feature sums, points per owner, the phrases
    behind them, negative points, topic strength and the first vetoing phrase."""
    features, owner_pts, strength = {}, {}, {}
    terms, negatives, negative = [], [], 0.0
    title, lead, body = s.places
    by_company = s.by_company
    # in the order first seen (a dict merge keeps each key where it first came)
    for term in {**title, **lead, **body, **by_company}:
        mask = (term in title) | (term in lead) << 1 | (term in body) << 2
        if by_company:
            mask |= by_company.get(term, 0)
        names, pts, why = term.at[mask]
        kind, weight = term.kind, term.weight
        for name in names:
            features[name] = features.get(name, 0.0) + weight
        if kind == "cue":
            continue
        if kind == "topic":
            strength[term.owner] = strength.get(term.owner, 0) + term.strength[mask]
        elif kind == "negative" and weight >= veto and not s.vetoed:
            s.vetoed = term.phrase
        if not pts:
            continue
        if kind == "negative":
            negative += pts
            negatives.append(why)
        else:
            owner_pts[term.owner] = owner_pts.get(term.owner, 0.0) + pts
            terms.append(why)
    s.features, s.owner_pts, s.strength = features, owner_pts, strength
    s.terms, s.negatives, s.negative = terms, negatives, negative


def strongest(reasons: list[tuple[float, str]], n: int) -> list[str]:
    """The n reasons with most points, ties in the order found."""
    if not reasons:
        return []
    return [why for _, why in sorted(reasons, key=points_of, reverse=True)[:n]]


def lead_end(text: str, n: int) -> int:
    """End of the lead: the first n characters, not cutting a word in two."""
    if len(text) <= n:
        return len(text)
    space = text.find(" ", n)
    return len(text) if space < 0 else space
