"""Classify: is a story about AI strategy, which companies and topics does it name, and why.

The gazetteer (feeds/data/*.toml, extendable with a user TOML file) lists companies with
aliases and topics with phrases; strategy.toml weighs them into an explainable rule score.
A small learned layer (logistic regression over a few dozen of those cues, optionally
with the headline's words, feeds/lexical.py; weights in feeds/data/strategy_model.json)
makes the verdict. Every phrase, feature and word that counted is written into
Classification.reasons, so a user can see why a story was (or was not) posted. All
phrases are found in one native multi-phrase pass per part (headline, lead, rest),
word boundaries settled by feeds/phrases.py, however large the gazetteer grows; the
matches are counted by feeds/scan.py, once per distinct phrase and place.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict
from itertools import count, repeat
from operator import itemgetter, neg

from feeds.features import story_features
from feeds.gazetteer import Gazetteer, GazetteerError, load_gazetteer
from feeds.hanzi import simplified
from feeds.learned import StrategyModel
from feeds.phrases import NOT_A_NAME, PhraseMatcher
from feeds.lexical import words
from feeds.models import Classification
from feeds.name_lookups import NameLookups
from feeds.scan import Scan, Scanner, strongest
from feeds.side_mentions import headline_side_mentions, side_mentions
from feeds.surnames import Surnames

# story_features lives in feeds/features.py; the shipped model names it feeds.classify's.
__all__ = ["Classifier", "Gazetteer", "GazetteerError", "load_gazetteer", "story_features"]
log = logging.getLogger("ainews.classify")
MAX_TERM_REASONS = 12   # the strongest phrases explain a verdict; a long tail only clutters
MAX_FEATURE_REASONS = 6  # likewise the learned layer's strongest contributions

# A company named in the headline as a modifier of another's news, not the one acting:
# "Microsoft-backed OpenAI raises ...", "Microsoft hires former OpenAI CEO ...".
_MODIFIED_AFTER = re.compile(r"[-‐–]\s*(?:backed|owned|funded|based|led|linked|supported|powered)\b"
                             r"|'s?\s+(?:rival|partner|investor|backer|supplier)s?\b|’s?\s+"
                             r"(?:rival|partner|investor|backer|supplier)s?\b", re.I)
# ... or named before the subject in a clause of its own ("Four years after Apple, Google ...").
_MODIFIED_BEFORE = re.compile(r"\b(?:former|ex|onetime|ousted)[-\s]+$|\b(?:after|like|unlike"
                              r"|following|amid|despite|than)\s+$", re.I)


def _is_ai_phrase(key: tuple) -> bool:
    return key[:2] == ("ai", "ai")


class Classifier(NameLookups):
    def __init__(self, gazetteer: Gazetteer | None = None, *, score_gated: bool = True):
        """score_gated: the learned layer also scores stories the AI gate stopped, for
        the LLM judge's gate margin. Off when no judge asks about them: nothing reads
        that probability then, and half of a real backfill is such stories."""
        self.gz = gz = gazetteer or load_gazetteer()
        self.score_gated = score_gated
        self._rules = {k: gz.rules.get(k, {}) for k in ("score", "ai", "strategy", "negative", "model", "cues")}
        self._model = StrategyModel.load(self._rules["model"])
        aliases = {a: canon for canon, al in gz.companies.items() for a in [canon, *al]}
        self._lookup = {simplified(a).casefold(): canon for a, canon in aliases.items()}
        # AI phrases are listed as written ("ai:OpenAI x3"), so their case is kept
        self._matcher = PhraseMatcher(self._entries(aliases), as_written=_is_ai_phrase)
        self._topic_of_company = defaultdict(list)
        for topic in gz.topics.values():
            for name in topic.companies:
                self._topic_of_company[self.resolve_company(name) or name].append(topic.slug)
        self._scanner = self._make_scanner()
        # "Robert Altman" is not OpenAI's Altman: another first name blanks a surname alias
        self._surnames = Surnames(gz.companies, self._rules["cues"].get("people", []))
        self._settings()

    def _settings(self) -> None:
        """The score and model settings each story reads, read once."""
        sc, model = self._rules["score"], self._rules["model"]
        self._min_ai = float(sc.get("min_ai", 2))
        # near-AI evidence (chips, data centres, crawlers) opens the gate to the learned
        # layer only: 2025's AI business is often told without an AI word
        self._near_gate = bool(self._rules["ai"].get("near"))
        self._cap = float(sc.get("topic_cap", 4.5))
        self._lab_bonus = float(sc.get("ai_company", 0.5))
        self._lab_title_bonus = float(sc.get("ai_company_title", 1.0))
        self._rule_threshold = float(sc.get("threshold", 3.0))
        self._veto = float(model.get("veto", 5.0))
        if self._model is not None:
            self._p_threshold = float(model.get("threshold", self._model.threshold))

    def _make_scanner(self) -> Scanner:
        """The scan and its settings: place factors of phrase points and of negative
        points, AI evidence in the body, the lead's length, the model's veto weight."""
        sc, neg, model = self._rules["score"], self._rules["negative"], self._rules["model"]
        factors = (
            {"title": float(sc.get("title_factor", 2.0)), "lead": float(sc.get("lead_factor", 1.0)),
             "body": float(sc.get("body_factor", 0.3))},
            {"title": float(neg.get("title_factor", 1.5)), "lead": float(neg.get("lead_factor", 0.5)),
             "body": float(neg.get("body_factor", 0.0))})
        return Scanner(self._matcher, ai_companies=self.gz.ai_companies, factors=factors,
                       topic_of_company=self._topic_of_company,
                       ai_body=float(sc.get("ai_body", 0.25)),
                       lead_chars=int(sc.get("lead_chars", 400)),
                       veto=float(model.get("veto", 5.0)))

    def _entries(self, aliases: dict[str, str]) -> list[tuple[str, tuple, bool]]:
        """(phrase, (kind, owner, weight), exact) for companies, AI vocabulary, topic and
        strategy phrases, and negative phrases; one phrase may serve several."""
        gz, ai = self.gz, self._rules["ai"]
        out = [(a, ("company", canon, 0.0), a in gz.exact) for a, canon in aliases.items()]
        out += [(t, ("ai", "ai", 0.0), False) for t in ai.get("terms", []) + ai.get("products", [])]
        out += [(t, ("ai", "ai", 0.0), True) for t in ai.get("exact", [])]
        out += [(t, ("ai", "weak", 0.0), False) for t in ai.get("weak", [])]
        out += [(t, ("ai", "near", 0.0), False) for t in ai.get("near", [])]
        for topic in gz.topics.values():
            for term in dict.fromkeys(topic.terms + topic.exact + list(topic.weights)):
                w = topic.weights.get(term, topic.weight)
                out.append((term, ("topic", topic.slug, w), term in topic.exact))
        strat = self._rules["strategy"]
        out += [(t, ("strategy", "strategy", float(strat.get("weight", 1.0))), False)
                for t in strat.get("terms", [])]
        negatives = self._rules["negative"].get("weights", {})
        out = [e for e in out if e[0] not in negatives]  # a negative phrase is only negative
        out += [(t, ("negative", "negative", float(w)), False) for t, w in negatives.items()]
        for group, phrases in self._rules["cues"].items():  # features for the learned layer only
            out += [(t, ("cue", group, 1.0), t != t.lower()) for t in phrases]
        # a longer word holding an alias ("文心兰") matches instead of it, and means nothing
        out += [(t, NOT_A_NAME, False) for t in gz.not_names]
        # traditional characters match as simplified ones: the text is folded too
        return [(simplified(t), key, exact) for t, key, exact in out]

    # ---- classification -------------------------------------------------------------
    def classify(self, title: str, text: str) -> Classification:
        title, text = self._surnames.masked(_ai_spelling(title or ""), _ai_spelling(text or ""))
        scan = self._scanner.scan(title, text)
        mentioned = self._rank_companies(scan)
        points, reasons = self._score(scan, mentioned)
        companies = self._subject_first(mentioned, scan, title)
        about_ai, near_gate = self._gate(scan)
        if near_gate:
            reasons.append(f"gate:near AI (AI evidence {scan.ai_strength:g} + chips, data centres, "
                           f"crawlers {scan.near:g} >= {self._min_ai:g})")
        elif not about_ai:
            reasons.append(f"gate:not about AI (AI evidence {scan.ai_strength:g} < {self._min_ai:g})")
        strategy, verdict, p = self._verdict(scan, title, text, points, about_ai, reasons)
        reasons.append(f"verdict:{'strategy' if strategy else 'not strategy'} (score {points:.2f}, {verdict})")
        named = self._named_in_story(scan, companies, title, text)   # last: it scans again
        reasons[:0] = [f"company:{c} x{scan.companies[c][0]}"
                       + (" (title)" if scan.companies[c][1] else "") for c in named[:6]]
        return Classification(strategy=strategy, score=round(points, 2), companies=tuple(named),
                              topics=tuple(self._topics(scan)), reasons=tuple(reasons),
                              probability=p, threshold=None if p is None else self._p_threshold,
                              about_ai=about_ai)

    def features(self, title: str, text: str) -> tuple[dict[str, float], bool]:
        """The learned layer's cue inputs for a story, and whether it passed the AI gate
        (bench/eval_classify.py trains on these plus feeds.lexical.word_features)."""
        title, text = self._surnames.masked(_ai_spelling(title or ""), _ai_spelling(text or ""))
        scan = self._scanner.scan(title, text)
        points, _ = self._score(scan, self._rank_companies(scan))
        about_ai, near_gate = self._gate(scan)
        return story_features(scan, title, text, self.gz.ai_companies, points, near_gate), about_ai

    def _gate(self, scan: Scan) -> tuple[bool, bool]:
        """(past the AI gate, past it on near-AI evidence alone)."""
        ai = scan.ai_strength
        if ai >= self._min_ai:
            return True, False
        near = self._near_gate and ai + scan.near >= self._min_ai
        return near, near

    def _verdict(self, scan, title, text, points, about_ai,
                 reasons) -> tuple[bool, str, float | None]:
        """The learned layer decides when weights are loaded; else the rule threshold.
        The probability is None unless the learned layer decided (a story the AI gate
        stopped has one too, computed without its words)."""
        if self._model is None:   # the rule score has no say on near-AI stories
            threshold = self._rule_threshold
            strict = scan.ai_strength >= self._min_ai
            return strict and points >= threshold, f"threshold {threshold:g}", None
        if scan.vetoed:  # a phrase weighted this heavily (a user's) means "never post these"
            reasons.append(f"veto:{scan.vetoed} (negative weight >= {self._veto:g})")
            return False, f"veto {scan.vetoed!r}", None
        if not (about_ai or self.score_gated):   # the gate's no stands: no one asks p
            return False, "not about AI", None
        x = story_features(scan, title, text, self.gz.ai_companies, points,
                           about_ai and scan.ai_strength < self._min_ai)
        lexical = self._model.lexical
        hits = (self._model.vocabulary.intersection(words(title, text, **lexical))
                if lexical and about_ai else frozenset())   # words cannot overturn the gate
        p, parts, word_parts = self._model.predict(x, hits)
        reasons += [f"feature:{name} {c:+.2f}" for name, c in parts[:MAX_FEATURE_REASONS]]
        reasons += [f'word:"{w}" {c:+.2f}' for w, c in word_parts]
        threshold = self._p_threshold
        return about_ai and p >= threshold, f"p {p:.2f}, threshold {threshold:g}", p

    def _named_in_story(self, scan: Scan, companies: list[str], title: str,
                        text: str) -> list[str]:
        """`companies` less those named only in photo credits (a reader saw "Getty" as
        the story's company), in a Chinese follow-us footer (its WeChat made every
        ifanr entry Tencent's), by their share price in a market report (36Kr's every
        close was Nvidia's, Meta's, Alibaba's...), as the shop in a deals post ("$30 off
        at Amazon") or as a platform ("on iOS and Android"), in the headline too for
        those two. The verdict still counts them: its figures were measured so (a
        footer-only entry read as one without text gains 2 and loses 2 zh items)."""
        if not companies:
            return companies
        credits = "\n".join(filter(None, (headline_side_mentions(title), side_mentions(text))))
        if not credits:
            return companies
        credited = self._scanner.scan("", credits).companies
        return [c for c in companies if c not in credited or scan.companies[c][0] > credited[c][0]]

    def _rank_companies(self, scan: Scan) -> list[str]:
        """Companies by mentions: headline mentions weigh most, then frequency, then who
        is named first (the scan lists companies in that order; the sort keeps it). The
        score's AI lab bonus takes the first lab of this order (measured so)."""
        def rank(canon):
            hits, in_title = scan.companies[canon]
            return -(3 * in_title + hits)
        return sorted(scan.companies, key=rank) if len(scan.companies) > 1 else list(scan.companies)

    def _subject_first(self, ranked: list[str], scan: Scan, title: str) -> list[str]:
        """The company the story is about first: the headline's subject, the first
        company it names that is not a modifier of another's news. Mentions put OpenAI
        first in "Microsoft hires former OpenAI CEO ..." (its body names OpenAI more)."""
        if sum(1 for hits in scan.companies.values() if hits[1]) < 2 and (
                not ranked or scan.companies[ranked[0]][1]):
            return ranked    # one headline company, and mentions already put it first
        subject = self._headline_subject(title)
        if subject not in scan.companies:
            return ranked
        return [subject] + [c for c in ranked if c != subject]

    def _headline_subject(self, title: str) -> str | None:
        """The first company named in the headline, passing over one that only
        qualifies another (Microsoft-backed, former OpenAI CEO) when another follows."""
        named = [(key[1], start, start + len(spelled))
                 for key, spelled, start in self._matcher.find(title) if key[0] == "company"]
        for canon, start, end in named:
            if not (_MODIFIED_AFTER.match(title, end) or _modified_before(title, start)):
                return canon
        return named[0][0] if named else None

    def _score(self, scan: Scan, companies: list[str]) -> tuple[float, list[str]]:
        """Points for the story (topics capped, negatives off, the AI lab bonus), and
        the reasons behind them."""
        cap = self._cap
        total = sum([cap if cap < pts else pts for pts in scan.owner_pts.values()]) - scan.negative
        why = strongest(scan.terms, MAX_TERM_REASONS)
        why += [f"cap:{o} {pts:.3g} -> {cap:g}" for o, pts in scan.owner_pts.items() if pts > cap]
        total += self._ai_bonus(scan, companies, why)
        if scan.ai:   # the two AI phrases named most often
            most = sorted(scan.ai.items(), key=itemgetter(1), reverse=True)[:2]
            why += [f"ai:{p} x{n}" for p, n in most]
        why += strongest(scan.negatives, MAX_TERM_REASONS)
        return total, why

    def _ai_bonus(self, scan: Scan, companies: list[str], why: list[str]) -> float:
        """An AI lab is news in itself: "Mistral Medium 3.5" has no other words."""
        labs = self.gz.ai_companies
        lab = next((c for c in companies if c in labs), "") if companies else ""
        bonus = self._lab_bonus if lab else 0.0
        if lab and scan.companies[lab][1]:
            bonus += self._lab_title_bonus
        if bonus:
            why.append(f"ai-company:{lab} +{bonus:g}")
        return bonus

    def _topics(self, scan: Scan) -> list[str]:
        """Topics with a headline phrase or two body phrases, strongest first."""
        strength, topic_pts = scan.strength, scan.owner_pts
        chosen = [s for s, n in strength.items() if n >= 2]
        if len(chosen) < 2:
            return chosen
        # by (-strength, -points), ties in the order found: keys and comparisons in C
        keys = zip(map(neg, map(strength.__getitem__, chosen)),
                   map(neg, map(topic_pts.get, chosen, repeat(0.0))), count())
        return [s for _, s in sorted(zip(keys, chosen))]


def _modified_before(title: str, start: int) -> re.Match | None:
    """_MODIFIED_BEFORE.search(title[:start]), read only where it can match: its word
    (9 letters at most) and the run of dashes and spaces up to `start`. A search of the
    whole copy for each company named was quadratic: a 100 KB title of "after OpenAI"
    took 48 s, holding the GIL from the parser's thread."""
    at = start
    while at and (title[at - 1] == "-" or title[at - 1].isspace()):
        at -= 1
    return _MODIFIED_BEFORE.search(title, max(0, at - 16), start)   # \b still sees before


def _ai_spelling(text: str) -> str:
    """The NYT writes "A.I.": count it as "AI" in every phrase ("generative A.I."). Hong
    Kong and Taiwan write 騰訊, 降價: traditional characters count as simplified ones."""
    return simplified(text.replace("A.I.", "AI"))
