"""Classify: is a story about AI strategy, which companies and topics does it name, and why.

Rules, not a model: the gazetteer (feeds/data/*.toml, extendable with a user TOML file)
lists companies with aliases and topics with phrases; strategy.toml weighs them. Every
point that counts is written into Classification.reasons, so a user can see why a
story was (or was not) posted. All phrases are folded into one trie-shaped regex, so
a story costs three regex scans (headline, lead, rest) however large the gazetteer grows.
"""
from __future__ import annotations

import difflib
import logging
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from feeds.models import Classification

log = logging.getLogger("ainews.classify")
DATA = Path(__file__).parent / "data"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
# Latin-script word characters: CJK neighbours do not break a Latin name ("阿里的Qwen模型").
_WORD = "0-9A-Za-z\u00c0-\u024f_"
MAX_TERM_REASONS = 12   # the strongest phrases explain a verdict; a long tail only clutters
_SUFFIXES = re.compile(r"[\s,]+(inc\.?|corp\.?|corporation|group|holdings|ltd\.?|limited|co\.?"
                       r"|platforms|technologies|technology|company)$", re.I)


class GazetteerError(ValueError):
    """A gazetteer file that cannot be read; str() names the file and the problem."""


@dataclass
class Topic:
    slug: str
    label: str
    terms: list[str] = field(default_factory=list)
    exact: list[str] = field(default_factory=list)
    weight: float = 1.0
    synonyms: list[str] = field(default_factory=list)
    companies: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)   # per-phrase overrides


@dataclass
class Gazetteer:
    """Companies (canonical -> aliases) and topics (slug -> Topic), plus scoring rules."""
    companies: dict[str, list[str]] = field(default_factory=dict)
    exact: set[str] = field(default_factory=set)          # aliases matched case-sensitively
    ai_companies: set[str] = field(default_factory=set)   # naming them is evidence of AI
    topics: dict[str, Topic] = field(default_factory=dict)
    rules: dict = field(default_factory=dict)             # strategy.toml, merged

    def canonical(self, name: str) -> str | None:
        key = name.strip().casefold()
        for canon, aliases in self.companies.items():
            if key == canon.casefold() or key in (a.casefold() for a in aliases):
                return canon
        return None

    def add_companies(self, table: dict, origin: str) -> None:
        for name, spec in table.items():
            if not isinstance(spec, dict):
                raise GazetteerError(f"classify: {origin}: company {name!r} must be a table")
            canon = self.canonical(name) or name
            exact = _strings(spec.get("exact", []), origin, name)
            aliases = self.companies.setdefault(canon, [])
            for alias in _strings(spec.get("aliases", []), origin, name) + exact:
                if alias not in aliases and alias != canon:
                    aliases.append(alias)
            self.exact.update(exact)
            if spec.get("ai"):
                self.ai_companies.add(canon)

    def add_topics(self, table: dict, origin: str) -> None:
        for slug, spec in table.items():
            if not isinstance(spec, dict):
                raise GazetteerError(f"classify: {origin}: topic {slug!r} must be a table")
            topic = self.topics.setdefault(slug, Topic(slug, spec.get("label", slug)))
            topic.label = spec.get("label", topic.label)
            topic.weight = float(spec.get("weight", topic.weight))
            for term, w in spec.get("weights", {}).items():
                if not isinstance(w, (int, float)) or isinstance(w, bool):
                    raise GazetteerError(f"classify: {origin}: weight of {term!r} must be a number")
                topic.weights[term] = float(w)
            for key in ("terms", "exact", "synonyms", "companies"):
                items = getattr(topic, key)
                items += [s for s in _strings(spec.get(key, []), origin, slug) if s not in items]

    def add_rules(self, doc: dict, origin: str) -> None:
        weights = doc.get("negative", {}).get("weights", {})
        for phrase, w in list(doc.get("score", {}).items()) + list(weights.items()):
            if not isinstance(w, (int, float)) or isinstance(w, bool):
                raise GazetteerError(f"classify: {origin}: {phrase!r} must be a number")
        for section in ("score", "ai", "strategy", "negative"):
            merged = self.rules.setdefault(section, {})
            for key, value in doc.get(section, {}).items():
                if isinstance(value, list):
                    merged[key] = merged.get(key, []) + value
                elif isinstance(value, dict):
                    merged[key] = {**merged.get(key, {}), **value}
                else:
                    merged[key] = value


def _strings(value, origin: str, owner: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise GazetteerError(f"classify: {origin}: {owner!r} needs a list of non-empty strings")
    return [v.strip() for v in value]


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise GazetteerError(f"classify: cannot read {path}: {e.strerror or e}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise GazetteerError(f"classify: {path} is not valid TOML: {e}") from e


def load_gazetteer(user_file: Path | None = None) -> Gazetteer:
    """The bundled gazetteer, extended by `user_file` (same layout: new companies, new
    aliases for known ones, new topics or terms, extra strategy phrases)."""
    gz = Gazetteer()
    for name in ("companies.toml", "topics.toml", "strategy.toml"):
        doc = _read_toml(DATA / name)
        gz.add_companies(doc.get("companies", {}), name)
        gz.add_topics(doc.get("topics", {}), name)
        gz.add_rules(doc, name)
    if user_file is not None:
        doc = _read_toml(Path(user_file))
        gz.add_companies(doc.get("companies", {}), str(user_file))
        gz.add_topics(doc.get("topics", {}), str(user_file))
        gz.add_rules(doc, str(user_file))
        log.info("classify: loaded %s (%d companies, %d topics in total)",
                 user_file, len(gz.companies), len(gz.topics))
    return gz


class PhraseMatcher:
    """Every phrase of the gazetteer in one trie-shaped regex: at each text position the
    regex follows only the branch of the next character, so a scan costs about the same
    however many phrases there are. A trailing * matches the rest of a word; exact
    phrases must match case-sensitively (checked after the scan).

    Matches never overlap, so a phrase also carries the keys of the shorter phrases
    inside it ("Alibaba Cloud" is the company and the enterprise term "cloud";
    "开源模型" is open-source and models)."""

    def __init__(self, entries: list[tuple[str, tuple, bool]]):
        self._keys: dict[str, list[tuple[str, tuple]]] = defaultdict(list)
        self._prefixes: dict[str, list[tuple[str, tuple]]] = defaultdict(list)
        self._spelling: dict[str, str] = {}   # lowercased -> as first written
        trie: dict = {}
        for phrase, key, exact in entries:
            wild = phrase.endswith("*")
            text = phrase.rstrip("*")
            self._spelling.setdefault(text.lower(), text)
            table = self._prefixes if wild else self._keys
            if (text if exact else "", key) not in table[text.lower()]:
                table[text.lower()].append((text if exact else "", key))
            node = trie
            for ch in text.lower():
                node = node.setdefault(ch, {})
            node["*" if wild else ""] = True
        self._inherit()
        self._max_prefix = max((len(p) for p in self._prefixes), default=0)
        body = self._pattern(trie, top=True)
        # Matching lowercased text case-sensitively is about twice as fast as IGNORECASE;
        # the slow pattern is for the rare text whose length changes when lowercased.
        self._body = body
        self._re = re.compile(body) if body else None
        self._re_any_case: re.Pattern | None = None   # compiled on first need

    def _inherit(self) -> None:
        originals = {low: list(entries) for low, entries in self._keys.items()}
        for low, entries in self._keys.items():
            listed = self._spelling[low]
            for part in _sub_phrases(low):
                for exact, key in originals.get(part, ()):
                    have = {(k[0], k[1]) for _, k in entries}
                    # an exact sub-phrase counts only if the longer phrase spells it so
                    if (key[0], key[1]) not in have and (not exact or exact in listed):
                        entries.append(("", key))

    def _pattern(self, node: dict, top: bool = False, last: str = "") -> str:
        alts = []
        for ch in (c for c in node if c not in ("", "*")):
            # The no-letter-before check comes after the first character, so every
            # branch starts with a literal and re can skip ahead to candidate positions.
            start = f"(?<![{_WORD}].)" if top and re.match(f"[{_WORD}]", ch) else ""
            alts.append(re.escape(ch) + start + self._pattern(node[ch], last=ch))
        if "*" in node:
            alts.append(f"[{_WORD}]*")
        if "" in node:  # a phrase ends here: a Latin word must not continue
            alts.append(f"(?![{_WORD}])" if re.match(f"[{_WORD}]", last) else "")
        if not alts:
            return ""
        return alts[0] if len(alts) == 1 and not top else "(?:" + "|".join(alts) + ")"

    def find(self, text: str) -> list[tuple[tuple, str, int]]:
        """(key, phrase as written in the text, position) for every match, in order."""
        if self._re is None or not text:
            return []
        low = text.lower()
        if len(low) == len(text):
            pattern, subject = self._re, low
        else:
            if self._re_any_case is None:
                self._re_any_case = re.compile(self._body, re.IGNORECASE)
            pattern, subject = self._re_any_case, text
        out = []
        for m in pattern.finditer(subject):
            found = text[m.start():m.end()]
            for exact, key in self._lookup(found):
                if not exact or found == exact:
                    out.append((key, found, m.start()))
        return out

    def _lookup(self, found: str) -> list[tuple[str, tuple]]:
        low = found.lower()
        if low in self._keys:
            return self._keys[low]
        for n in range(min(len(low), self._max_prefix), 0, -1):
            if low[:n] in self._prefixes:
                return self._prefixes[low[:n]]
        return []


@dataclass
class _Scan:
    """What one story's title and body matched, grouped for scoring."""
    companies: dict[str, list[tuple[int, bool]]] = field(default_factory=lambda: defaultdict(list))
    ai: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ai_strength: float = 0.0
    # (kind, owner, phrase) -> places ("title", "lead", "body") it was seen in, and weight
    terms: dict[tuple[str, str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    weights: dict[tuple[str, str, str], float] = field(default_factory=dict)


class Classifier:
    def __init__(self, gazetteer: Gazetteer | None = None):
        self.gz = gz = gazetteer or load_gazetteer()
        self._rules = {k: gz.rules.get(k, {}) for k in ("score", "ai", "strategy", "negative")}
        aliases = {a: canon for canon, al in gz.companies.items() for a in [canon, *al]}
        self._lookup = {a.casefold(): canon for a, canon in aliases.items()}
        self._matcher = PhraseMatcher(self._entries(aliases))
        self._topic_of_company = defaultdict(list)
        for topic in gz.topics.values():
            for name in topic.companies:
                self._topic_of_company[self.resolve_company(name) or name].append(topic.slug)

    def _entries(self, aliases: dict[str, str]) -> list[tuple[str, tuple, bool]]:
        """(phrase, (kind, owner, weight), exact) for companies, AI vocabulary, topic and
        strategy phrases, and negative phrases; one phrase may serve several."""
        gz, ai = self.gz, self._rules["ai"]
        out = [(a, ("company", canon, 0.0), a in gz.exact) for a, canon in aliases.items()]
        out += [(t, ("ai", "ai", 0.0), False) for t in ai.get("terms", []) + ai.get("products", [])]
        out += [(t, ("ai", "ai", 0.0), True) for t in ai.get("exact", [])]
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
        return out

    # ---- classification -------------------------------------------------------------
    def classify(self, title: str, text: str) -> Classification:
        scan = self._scan(title or "", text or "")
        companies = self._rank_companies(scan)
        reasons = [f"company:{c} x{len(scan.companies[c])}"
                   + (" (title)" if any(t for _, t in scan.companies[c]) else "")
                   for c in companies[:6]]
        points, topic_pts, why = self._score(scan, companies)
        reasons += why
        min_ai = float(self._rules["score"].get("min_ai", 2))
        about_ai = scan.ai_strength >= min_ai
        if not about_ai:
            reasons.append(f"gate:not about AI (AI evidence {scan.ai_strength:g} < {min_ai:g})")
        threshold = float(self._rules["score"].get("threshold", 3.0))
        strategy = about_ai and points >= threshold
        reasons.append(f"verdict:{'strategy' if strategy else 'not strategy'} "
                       f"(score {points:.2f}, threshold {threshold:g})")
        return Classification(strategy=strategy, score=round(points, 2), companies=tuple(companies),
                               topics=tuple(self._topics(scan, topic_pts)), reasons=tuple(reasons))

    def _scan(self, title: str, text: str) -> _Scan:
        scan = _Scan()
        sc = self._rules["score"]
        cut = _lead_end(text, int(sc.get("lead_chars", 400)))
        ai_w = {"title": 2.0, "lead": 1.0, "body": float(sc.get("ai_body", 0.25))}
        parts = (("title", title, 0), ("lead", text[:cut], len(title) + 1),
                 ("body", text[cut:], len(title) + 1 + cut))
        for place, part, base in parts:
            for (kind, owner, weight), phrase, pos in self._matcher.find(part):
                if kind == "company":
                    scan.companies[owner].append((base + pos, place == "title"))
                    if owner in self.gz.ai_companies:
                        scan.ai_strength += ai_w[place]
                elif kind == "ai":
                    scan.ai[phrase] += 1
                    scan.ai_strength += ai_w[place]
                else:
                    scan.terms[(kind, owner, phrase.lower())].add(place)
                    scan.weights[(kind, owner, phrase.lower())] = weight
        for canon in scan.companies:  # a topic's companies count like its phrases
            for slug in self._topic_of_company.get(canon, ()):
                places = {"title" if t else "lead" for _, t in scan.companies[canon]}
                scan.terms[("topic", slug, canon)] |= places
                scan.weights[("topic", slug, canon)] = 0.0  # membership, not strategy
        return scan

    def _rank_companies(self, scan: _Scan) -> list[str]:
        """Main company first: headline mentions weigh most, then frequency, then who
        is named first."""
        def rank(canon):
            hits = scan.companies[canon]
            return (-(3 * sum(t for _, t in hits) + len(hits)), min(p for p, _ in hits))
        return sorted(scan.companies, key=rank)

    def _score(self, scan: _Scan, companies: list[str]) -> tuple[float, dict, list[str]]:
        """Points for the story, points per topic, and the reasons behind them."""
        sc = self._rules["score"]
        owner_pts, term_why, negative, neg_why = self._phrase_points(scan)
        cap = float(sc.get("topic_cap", 4.5))
        total = sum(min(pts, cap) for pts in owner_pts.values()) - negative
        why = [w for _, w in sorted(term_why, key=lambda x: -x[0])[:MAX_TERM_REASONS]]
        why += [f"cap:{o} {pts:.3g} -> {cap:g}" for o, pts in owner_pts.items() if pts > cap]
        total += self._ai_bonus(scan, companies, why)
        why += [f"ai:{p} x{n}" for p, n in sorted(scan.ai.items(), key=lambda kv: -kv[1])[:2]]
        why += [w for _, w in sorted(neg_why, key=lambda x: -x[0])[:MAX_TERM_REASONS]]
        return total, owner_pts, why

    def _ai_bonus(self, scan: _Scan, companies: list[str], why: list[str]) -> float:
        """An AI lab is news in itself: "Mistral Medium 3.5" has no other words."""
        sc = self._rules["score"]
        lab = next((c for c in companies if c in self.gz.ai_companies), "")
        bonus = float(sc.get("ai_company", 0.5)) if lab else 0.0
        if lab and any(t for _, t in scan.companies[lab]):
            bonus += float(sc.get("ai_company_title", 1.0))
        if bonus:
            why.append(f"ai-company:{lab} +{bonus:g}")
        return bonus

    def _phrase_points(self, scan: _Scan):
        """Each distinct phrase counts once per place, times its weight and the place's
        factor; negatives are summed apart."""
        sc, neg = self._rules["score"], self._rules["negative"]
        factor = {"title": float(sc.get("title_factor", 2.0)), "lead": float(sc.get("lead_factor", 1.0)),
                  "body": float(sc.get("body_factor", 0.3))}
        nfactor = {"title": float(neg.get("title_factor", 1.5)), "lead": float(neg.get("lead_factor", 0.5)),
                   "body": float(neg.get("body_factor", 0.0))}
        owner_pts: dict[str, float] = defaultdict(float)
        term_why, neg_why, negative = [], [], 0.0
        for (kind, owner, phrase), places in scan.terms.items():
            w = scan.weights[(kind, owner, phrase)]
            pts = w * sum((nfactor if kind == "negative" else factor)[p] for p in places)
            if not pts:
                continue
            if kind == "negative":
                negative += pts
                neg_why.append((pts, f"negative:{phrase} -{pts:.3g}" + _title(places)))
            else:
                owner_pts[owner] += pts
                term_why.append((pts, f"term:{phrase} +{pts:.3g} [{owner}]" + _title(places)))
        return owner_pts, term_why, negative, neg_why

    def _topics(self, scan: _Scan, topic_pts: dict[str, float]) -> list[str]:
        """Topics with a headline phrase or two body phrases, strongest first."""
        strength: dict[str, int] = defaultdict(int)
        for (kind, owner, _), places in scan.terms.items():
            if kind == "topic":
                strength[owner] += 2 * ("title" in places) + bool(places - {"title"})
        chosen = [s for s, n in strength.items() if n >= 2]
        return sorted(chosen, key=lambda s: (-strength[s], -topic_pts.get(s, 0.0)))

    # ---- lookups used by commands ---------------------------------------------------
    def resolve_company(self, name: str) -> str | None:
        """Canonical name for a name, alias or product, any case ("qwen" -> "Alibaba")."""
        key = " ".join((name or "").split()).casefold()
        while key:
            if key in self._lookup:
                return self._lookup[key]
            shorter = _SUFFIXES.sub("", key)
            if shorter == key:
                return None
            key = shorter
        return None

    def suggest_companies(self, name: str, n: int = 3) -> list[str]:
        """Closest canonical names for a misspelt name ("alibabba" -> ["Alibaba", ...])."""
        matches = difflib.get_close_matches((name or "").casefold(), list(self._lookup),
                                            n=n * 4, cutoff=0.6)
        out: list[str] = []
        for m in matches:
            if self._lookup[m] not in out:
                out.append(self._lookup[m])
        return out[:n]

    def resolve_topic(self, slug: str) -> str | None:
        """Slug for a slug, label or synonym ("open source", "m&a", "export controls")."""
        key = " ".join((slug or "").split()).casefold()
        for cand in (key, key.replace(" ", "-"), key.replace("_", "-")):
            if cand in self.gz.topics:
                return cand
        for topic in self.gz.topics.values():
            names = [topic.label, *topic.synonyms]
            if key in (s.casefold() for s in names) or key == topic.slug.replace("-", ""):
                return topic.slug
        return None

    def company_names(self) -> list[str]:
        return sorted(self.gz.companies, key=str.casefold)

    def topic_slugs(self) -> list[str]:
        return list(self.gz.topics)

    def topic_label(self, slug: str) -> str:
        resolved = self.resolve_topic(slug)
        return self.gz.topics[resolved].label if resolved else slug


def _sub_phrases(low: str) -> set[str]:
    """Shorter phrases inside a phrase: runs of whole words, or any CJK substring."""
    if _CJK.search(low):
        return {low[i:j] for i in range(len(low)) for j in range(i + 1, len(low) + 1)} - {low}
    words = low.split()
    return {" ".join(words[i:j]) for i in range(len(words))
            for j in range(i + 1, len(words) + 1)} - {low}


def _lead_end(text: str, n: int) -> int:
    """End of the lead: the first n characters, not cutting a word in two."""
    if len(text) <= n:
        return len(text)
    space = text.find(" ", n)
    return len(text) if space < 0 else space


def _title(places: set[str]) -> str:
    return " (title)" if "title" in places else ""
