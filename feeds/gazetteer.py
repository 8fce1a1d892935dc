"""Gazetteer: the companies, topics and scoring vocabulary behind feeds/classify.py.

Bundled data files (feeds/data/companies.toml, topics.toml, strategy.toml) are merged
with an optional user TOML file of the same layout; PhraseMatcher finds every phrase in
one native Aho-Corasick pass and settles word boundaries with a trie-shaped regex, so a
scan costs about the same however many phrases there are;
StrategyModel reads the learned layer's weights (feeds/data/strategy_model.json).
"""
from __future__ import annotations

import json
import logging
import math
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ahocorasick_rs import AhoCorasick, MatchKind

log = logging.getLogger("ainews.classify")
DATA = Path(__file__).parent / "data"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
# Latin-script word characters: CJK neighbours do not break a Latin name ("阿里的Qwen模型").
_WORD = "0-9A-Za-z\u00c0-\u024f_"
_TOKEN = re.compile(f"[{_WORD}]+")
_WORD_CHARS = frozenset(ch for ch in map(chr, range(0x250)) if _TOKEN.match(ch))


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
        for key in ("threshold", "veto"):
            value = doc.get("model", {}).get(key, 0)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise GazetteerError(f"classify: {origin}: [model] {key} must be a number")
        for section in ("score", "ai", "strategy", "negative", "model", "cues"):
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
        # utf-8-sig: Windows editors save "UTF-8 with BOM", which TOML itself rejects.
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
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
    regex follows only the branch of the next character. It defines the matches; an
    Aho-Corasick automaton finds where to try it (see _spans). A trailing * matches the
    rest of a word; exact phrases must match case-sensitively (checked after the scan).

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
        self._seen: dict[str, list[tuple]] = {}
        self._starts(entries)

    def _starts(self, entries: list[tuple[str, tuple, bool]]) -> None:
        """An Aho-Corasick automaton (native code) over every phrase, a wildcard by its
        stem, reporting leftmost-longest hits without word boundaries; _spans turns them
        into exactly the regex's matches. Per phrase: is it one Latin word, and does it begin with a
        Latin letter (then a match must start a word)?"""
        stems = list(dict.fromkeys([*self._keys, *self._prefixes]))
        self._ac = AhoCorasick(stems, matchkind=MatchKind.LeftmostLongest) if stems else None
        self._stem_kind = [(_TOKEN.fullmatch(s) is not None, s[0] in _WORD_CHARS) for s in stems]
        others = {p.rstrip("*").lower()[0] for p, _, _ in entries}
        self._other_first = frozenset(others - _WORD_CHARS)

    def _spans(self, low: str) -> list[tuple[int, int]]:
        """The spans of self._re.finditer(low). The automaton reports the longest phrase
        at each leftmost place; a one-word phrase at a word start that ends with the
        word is the regex's match as it stands (nothing longer matched there, nothing
        shorter is preferred), every other hit is settled by the regex at that place."""
        match, kinds, n, last, out = self._re.match, self._stem_kind, len(low), 0, []
        for pid, start, end in self._ac.find_matches_as_indexes(low):
            if start < last:   # begins inside a match a wildcard ran on: may hide a start
                if end > last:
                    last = self._inside(low, last, end, last, out)
                continue
            token, latin = kinds[pid]
            if latin and start and low[start - 1] in _WORD_CHARS:   # inside a word
                if not token:   # a phrase going past this word may hide a real start
                    last = self._inside(low, start + 1, end, last, out)
                continue
            if token and (end == n or low[end] not in _WORD_CHARS):
                out.append((start, end))
                last = end
                continue
            m = match(low, start)
            if m is not None:
                last = m.end()
                out.append((start, last))
            if not token and last < end:   # the regex settled on less than the hit
                last = self._inside(low, max(last, start + 1), end, last, out)
        return out

    def _inside(self, low: str, begin: int, end: int, last: int,
                out: list[tuple[int, int]]) -> int:
        """Try the regex wherever a phrase may begin in low[begin:end] (a stretch a
        longer hit covered), appending its matches; the new end of the last match."""
        for at in range(begin, end):
            ch = low[at]
            if at >= last and (ch in self._other_first or (
                    ch in _WORD_CHARS and low[at - 1] not in _WORD_CHARS)):
                m = self._re.match(low, at)
                if m is not None:
                    last = m.end()
                    out.append((at, last))
        return last

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
        keys = self.keys
        return [(key, text[start:end], start) for start, end in self.spans(text)
                for key in keys(text[start:end])]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every match in text, in order."""
        if self._re is None or not text:
            return []
        low = text.lower()
        if len(low) == len(text):
            try:
                return self._spans(low)
            except UnicodeEncodeError:   # a lone surrogate: the automaton takes only UTF-8
                return [m.span() for m in self._re.finditer(low)]
        if self._re_any_case is None:   # the rare text whose length changes when lowercased
            self._re_any_case = re.compile(self._body, re.IGNORECASE)
        return [m.span() for m in self._re_any_case.finditer(text)]

    def keys(self, found: str) -> list[tuple]:
        """The keys of a match, given as written in the text (exact phrases count only
        when spelt as listed)."""
        # The same few hundred spellings recur in every story: resolve each once.
        hit = self._seen.get(found)
        if hit is None:
            if len(self._seen) > 50_000:   # bound the memory a stream of odd words takes
                self._seen.clear()
            hit = self._seen[found] = [key for exact, key in self._resolve(found)
                                       if not exact or found == exact]
        return hit

    def _resolve(self, found: str) -> list[tuple[str, tuple]]:
        low = found.lower()
        if low in self._keys:
            return self._keys[low]
        for n in range(min(len(low), self._max_prefix), 0, -1):
            if low[:n] in self._prefixes:
                return self._prefixes[low[:n]]
        return []


def _sub_phrases(low: str) -> set[str]:
    """Shorter phrases inside a phrase: runs of whole words, or any CJK substring."""
    if _CJK.search(low):
        return {low[i:j] for i in range(len(low)) for j in range(i + 1, len(low) + 1)} - {low}
    words = low.split()
    return {" ".join(words[i:j]) for i in range(len(words))
            for j in range(i + 1, len(words) + 1)} - {low}


class StrategyModel:
    """Logistic regression over story_features() and, when the file names `lexical`
    settings, the headline's and lead's words (feeds/lexical.py), trained by
    bench/eval_classify.py --train on the labelled dev set; weights ship as
    feeds/data/<[model] weights>."""

    def __init__(self, weights: dict[str, float], bias: float, threshold: float,
                 lexical: dict | None = None):
        self.weights, self.bias, self.threshold = weights, bias, threshold
        self.lexical = lexical   # {"bigrams": bool, "lead_chars": int} or None: no words
        # word -> weight without the "w:" prefix: a story's words are intersected with
        # this, so only the few that carry a weight cost anything
        self.words = {k[2:]: w for k, w in weights.items() if k.startswith("w:")}
        self.vocabulary = frozenset(self.words)
        # words weighing too little to list as a reason are left out before sorting
        self._notable = frozenset(k for k, w in self.words.items() if abs(w) >= 0.05)
        self._strength = {k: abs(w) for k, w in self.words.items()}.__getitem__

    @classmethod
    def load(cls, rules: dict) -> "StrategyModel | None":
        if not rules.get("enabled", True) or not rules.get("weights"):
            return None
        path = DATA / str(rules["weights"])
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return cls.from_doc(doc)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise GazetteerError(f"classify: cannot load model weights {path}: {e}") from e

    @classmethod
    def from_doc(cls, doc: dict) -> "StrategyModel":
        """Checked: a weights file edited by hand or cut short fails here, at start-up,
        not as a wrong verdict later (ValueError says what is wrong)."""
        weights = {str(k): _number(v, f"weight of {k!r}") for k, v in doc["weights"].items()}
        threshold = _number(doc.get("threshold", 0.5), "threshold")
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold {threshold:g} is not a probability between 0 and 1")
        lexical = doc.get("lexical")
        if lexical is not None:
            if not isinstance(lexical.get("bigrams"), bool):
                raise ValueError("lexical.bigrams must be true or false")
            lexical = {"bigrams": lexical["bigrams"],
                       "lead_chars": int(_number(lexical.get("lead_chars"), "lexical.lead_chars"))}
        return cls(weights, _number(doc["bias"], "bias"), threshold, lexical)

    def predict(self, x: dict[str, float], hits: frozenset[str] = frozenset()
                ) -> tuple[float, list[tuple[str, float]], list[tuple[str, float]]]:
        """Probability of strategy; each present feature's contribution, largest first;
        and the same for the five strongest of the words found (`hits`: words of the
        vocabulary, each worth its weight)."""
        parts = [(k, self.weights[k] * v) for k, v in x.items() if k in self.weights]
        words = self.words
        z = self.bias + sum(c for _, c in parts) + sum(map(words.__getitem__, hits))
        p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
        top = sorted(hits & self._notable, key=self._strength, reverse=True)[:5]
        return (p, sorted((pc for pc in parts if abs(pc[1]) >= 0.05), key=lambda pc: -abs(pc[1])),
                [(h, words[h]) for h in top])


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return float(value)
