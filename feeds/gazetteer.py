"""Gazetteer: the companies, topics and scoring vocabulary behind feeds/classify.py.

Bundled data files (feeds/data/companies.toml, topics.toml, strategy.toml) are merged
with an optional user TOML file of the same layout. The phrases are found by
feeds/phrases.py; the learned layer's weights are read by feeds/learned.py.
"""
from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("ainews.classify")
DATA = Path(__file__).parent / "data"


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
    # longer words holding an alias that are not the company (文心兰, an orchid; 阿里山)
    not_names: list[str] = field(default_factory=list)
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
            self.not_names += [w for w in _strings(spec.get("not", []), origin, name)
                               if w not in self.not_names]
            if spec.get("ai"):
                self.ai_companies.add(canon)

    def add_topics(self, table: dict, origin: str) -> None:
        for slug, spec in table.items():
            if not isinstance(spec, dict):
                raise GazetteerError(f"classify: {origin}: topic {slug!r} must be a table")
            topic = self.topics.setdefault(slug, Topic(slug, spec.get("label", slug)))
            topic.label = spec.get("label", topic.label)
            topic.weight = _number(spec.get("weight", topic.weight), origin,
                                   f"weight of topic {slug!r}")
            for term, w in _table(spec.get("weights", {}), origin, f"topics.{slug}.weights").items():
                topic.weights[term] = _number(w, origin, f"weight of {term!r}")
            for key in ("terms", "exact", "synonyms", "companies"):
                items = getattr(topic, key)
                items += [s for s in _strings(spec.get(key, []), origin, slug) if s not in items]

    def add_rules(self, doc: dict, origin: str) -> None:
        weights = _table(doc.get("negative", {}).get("weights", {}), origin, "negative.weights")
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


def _number(value, origin: str, what: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise GazetteerError(f"classify: {origin}: {what} must be a number")
    return float(value)


def _table(value, origin: str, what: str) -> dict:
    if not isinstance(value, dict):
        raise GazetteerError(f"classify: {origin}: {what} must be a table ([{what}])")
    return value


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


# What a user file may hold: the bundled files' sections.
_SECTIONS = ("companies", "topics", "score", "ai", "strategy", "negative", "model", "cues")


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
        unknown = [k for k in doc if k not in _SECTIONS]
        if unknown:   # a misspelt [company.X] would be ignored without a word
            raise GazetteerError(f"classify: {user_file}: unknown section {unknown[0]!r}; "
                                 f"use {', '.join(_SECTIONS[:2])} (or {', '.join(_SECTIONS[2:])})")
        for section in _SECTIONS:   # `topics = [...]` was an AttributeError's traceback
            _table(doc.get(section, {}), str(user_file), section)
        gz.add_companies(doc.get("companies", {}), str(user_file))
        gz.add_topics(doc.get("topics", {}), str(user_file))
        gz.add_rules(doc, str(user_file))
        log_loaded(gz, user_file)
    return gz


def log_loaded(gz: Gazetteer, user_file: Path, level: int = logging.DEBUG) -> None:
    """What the operator's file added. Debug when loaded: every one-shot command loads
    it; the running bot says it at start-up (bot/app.py)."""
    log.log(level, "classify: loaded %s (%d companies, %d topics in total)",
            user_file, len(gz.companies), len(gz.topics))
