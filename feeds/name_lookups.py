"""Company and topic names as users type them (a Classifier mixin): a name, alias,
product or legal name to its company, a slug, label or synonym to its topic, the closest
ones for a mistyped name (feeds/suggest.py), and the lists the commands show."""
from __future__ import annotations

import re

from feeds.hanzi import simplified
from feeds.suggest import closest, wide

# Legal names too: "Alibaba Group Holding Limited", "Arm Holdings plc", "OpenAI LLC".
_SUFFIXES = re.compile(r"[\s,]+(inc\.?|corp\.?|corporation|group|holdings?|ltd\.?|limited|co\.?"
                       r"|plc|llc|platforms|technologies|technology|company)$"
                       # Chinese company names take theirs unspaced: 腾讯控股, 阿里巴巴集团,
                       # 华为技术, 百度智能云 (Baidu's AI cloud), 小米科技有限公司
                       r"|(?<=\S)(集团|控股|股份|有限责任公司|有限公司|公司|科技|技术|网络|智能云|云)$",
                       re.I)


def _key(text: str | None) -> str:
    """A typed name as the lookups compare it: spaces evened out, traditional characters
    as simplified ones, any case."""
    return simplified(" ".join((text or "").split())).casefold()


def _holds(key: str, names) -> bool:
    """One of `names`, read as _key reads them, holds `key`."""
    return any(key in simplified(name).casefold() for name in names)


class NameLookups:
    # ---- lookups used by commands ---------------------------------------------------
    def resolve_company(self, name: str) -> str | None:
        """Canonical name for a name, alias or product, any case ("qwen" -> "Alibaba")."""
        key = _key(name)
        while key:
            if key in self._lookup:
                return self._lookup[key]
            shorter = _SUFFIXES.sub("", key)
            if shorter == key:
                return None
            key = shorter
        return None

    def companies_named_in(self, typed: str) -> list[str]:
        """Companies, in name order, one of whose aliases or products holds `typed` (any
        case; traditional characters as simplified ones, as resolve_company reads them:
        騰 -> Tencent by 腾讯, qwe -> Alibaba by Qwen): what the company picker offers
        beyond the names themselves."""
        key = _key(typed)
        if not key:
            return []
        return [c for c in self.company_names()
                if _holds(key, self.gz.companies[c])]

    def suggest_companies(self, name: str, n: int = 3) -> list[str]:
        """Closest canonical names for a mistyped one ("alibba" -> ["Alibaba"]), or for
        a Chinese one (a character or two: too few for a typo) those with a name it
        starts, at least half of it (英伟 -> Nvidia by 英伟达); or none."""
        found = closest(name, self._lookup, n)
        return found or (self._started_by(name)[:n] if wide(name or "") else [])

    def _started_by(self, typed: str) -> list[str]:
        """Companies, in name order, a name of which starts with `typed` and is at most
        twice as long: an IME types a name a character at a time. A word only ending a
        name or inside one is generic (公司 in 苹果公司, 模型 in 文心大模型, 科技 in 稀宇科技)."""
        key = _key(typed)
        return [c for c in self.company_names() if any(
            spelled.startswith(key) and len(spelled) <= 2 * len(key)
            for spelled in map(_key, [c, *self.gz.companies[c]]))]

    def suggest_topics(self, name: str, n: int = 2) -> list[str]:
        """Closest topic slugs for a mistyped topic, by its slug, label or synonyms
        ("acquisition" -> ["acquisitions"]), or none. Synonyms are everyday words
        (deal, paid): offered by their stem, not by any word a typo away."""
        topics = self.gz.topics.values()
        names = {simplified(spelled).casefold(): t.slug for t in topics
                 for spelled in (t.slug, t.label)}
        words = {simplified(spelled).casefold(): t.slug for t in topics
                 for spelled in t.synonyms}
        return closest(name, names, n, words)

    def topics_named_in(self, typed: str) -> list[str]:
        """Topic slugs a Chinese synonym of which holds `typed` in Chinese (芯 -> chips by
        芯片, 監 -> policy by 监管), as an IME types a word a character at a time. Not
        for Latin letters: a letter or two is in most English synonyms."""
        key = _key(typed)
        if not key or not wide(key):
            return []
        return [t.slug for t in self.gz.topics.values()
                if _holds(key, t.synonyms)]

    def resolve_topic(self, slug: str) -> str | None:
        """Slug for a slug, label or synonym ("open source", "m&a", "export controls", 芯片),
        traditional characters as simplified ones (監管)."""
        key = _key(slug)
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
