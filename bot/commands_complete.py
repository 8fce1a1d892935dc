"""Completion: what the adapters' autocomplete offers for a company or topic being typed
(a Commands mixin)."""
from __future__ import annotations

from bot.commands_text import typed_name


class CompletionCommands:
    # ---- completion (the adapters' autocomplete) -------------------------------------
    def complete_company(self, prefix: str, limit: int = 25) -> list[str]:
        """Canonical names by their own name first, then by an alias or product the
        company command also accepts (qwen, 阿里巴巴 -> Alibaba)."""
        prefix = typed_name(prefix)
        names = _complete(self.classifier.company_names(), prefix, limit)
        if prefix and len(names) < limit:
            found = {*self.classifier.companies_named_in(prefix),
                     self.classifier.resolve_company(prefix)}    # a legal name, 腾讯控股
            names += [c for c in self.classifier.company_names()
                      if c not in names and c in found]
        return names[:max(0, limit)]

    def complete_topic(self, prefix: str, limit: int = 25) -> list[tuple[str, str]]:
        labels = {s: self.classifier.topic_label(s) for s in self.classifier.topic_slugs()}
        p = typed_name(prefix).casefold()
        first = [s for s, lab in labels.items()
                 if s.startswith(p) or lab.casefold().startswith(p)]
        named = self.classifier.resolve_topic(p) if p else None   # a synonym: 芯片, m&a
        part = set(self.classifier.topics_named_in(p))            # of one: 芯, 出口
        rest = [s for s, lab in labels.items() if s not in first
                and (p in s or p in lab.casefold() or s == named or s in part)]
        return [(s, labels[s]) for s in (first + rest)[:limit]]


def _complete(names: list[str], prefix: str, limit: int) -> list[str]:
    p = (prefix or "").strip().casefold()
    ordered = sorted(names, key=str.casefold)
    first = [n for n in ordered if n.casefold().startswith(p)]
    rest = [n for n in ordered if p and p in n.casefold() and n not in first]
    return (first + rest)[:max(0, limit)]
