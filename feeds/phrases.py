"""Phrases: finding every gazetteer phrase in a text, on word boundaries.

PhraseMatcher finds every phrase in one native Aho-Corasick pass and settles word
boundaries by looking at the characters around each hit, calling a trie-shaped regex
(which defines the matches) only where that cannot decide, so a scan costs about the
same however many phrases the gazetteer holds (feeds/classify.py builds one per
Classifier).
"""
from __future__ import annotations

import re
from collections import defaultdict
from functools import cached_property

from ahocorasick_rs import AhoCorasick, MatchKind

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
# Latin-script word characters: CJK neighbours do not break a Latin name ("阿里的Qwen模型").
_WORD = "0-9A-Za-z\u00c0-\u024f_"
_TOKEN = re.compile(f"[{_WORD}]+")
_WORD_CHARS = frozenset(ch for ch in map(chr, range(0x250)) if _TOKEN.match(ch))
# The key of a phrase that only stops shorter phrases inside it from matching (文心兰, an
# orchid, holds Baidu's 文心): it takes no keys of the phrases inside it.
NOT_A_NAME = ("not", "not", 0.0)


class PhraseMatcher:
    """Every phrase of the gazetteer in one trie-shaped regex: at each text position the
    regex follows only the branch of the next character. It defines the matches; an
    Aho-Corasick automaton finds where to try it (see _spans). A trailing * matches the
    rest of a word; exact phrases must match case-sensitively (checked after the scan).

    Matches never overlap, so a phrase also carries the keys of the shorter phrases
    inside it ("Alibaba Cloud" is the company and the enterprise term "cloud";
    "开源模型" is open-source and models)."""

    def __init__(self, entries: list[tuple[str, tuple, bool]], as_written=lambda key: False):
        self._as_written = as_written   # key -> must found() give its matches as written?
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
        self._re_any_case: re.Pattern | None = None   # compiled on first need
        self._seen: dict[str, list[tuple]] = {}
        self._starts(entries)

    def _starts(self, entries: list[tuple[str, tuple, bool]]) -> None:
        """An Aho-Corasick automaton (native code) over every phrase, a wildcard by its
        stem, reporting leftmost-longest hits without word boundaries; _spans turns them
        into exactly the regex's matches. Per phrase: is it one Latin word, does it begin
        with a Latin letter (then a match must start a word), when is a hit the match
        as it stands (_settled), and what found() reports for it (_shares)?"""
        stems = list(dict.fromkeys([*self._keys, *self._prefixes]))
        self._ac = AhoCorasick(stems, matchkind=MatchKind.LeftmostLongest) if stems else None
        self._stem_kind = [(_TOKEN.fullmatch(s) is not None, s[0] in _WORD_CHARS) for s in stems]
        # A one-word hit that runs into more of its word ("bill" in "billion") can only
        # be the regex's match through a wildcard that begins it; without one, no regex.
        self._may_run_on = [any(s.startswith(w) for w in self._prefixes) for s in stems]
        self._settles = [self._settled(stem, token)
                         for stem, (token, _) in zip(stems, self._stem_kind)]
        self._shared = [self._shares(stem) for stem in stems]
        others = {p.rstrip("*").lower()[0] for p, _, _ in entries}
        self._other_first = frozenset(others - _WORD_CHARS)

    @cached_property
    def _re(self) -> re.Pattern:
        """Compiled at the first scan, not with the matcher: a lookup (`ainews latest`)
        builds a classifier for its names and topics only (this was 0.17 s of its 0.7 s)."""
        return re.compile(self._body)

    def _spans(self, low: str, text: str | None = None) -> list:
        """The spans of self._re.finditer(low), or with `text` (which lowercases to low)
        the matches as written there (see found). The automaton reports the longest
        phrase at each leftmost place. At a word start (or any start, for a phrase not
        beginning with a Latin letter), a hit that ends where its phrase may end (the
        end of a word, for a phrase ending in a Latin letter) is the regex's match as
        it stands: the regex tries longer phrases first, and the automaton found none
        longer; but a wildcard phrase of more than one word would run on (see
        _settled). Every other hit is settled by the regex there."""
        match, kinds, n, last, out = self._re.match, self._stem_kind, len(low), 0, []
        run_on, settles, append = self._may_run_on, self._settles, out.append
        word_chars = _WORD_CHARS
        shared = self._shared if text is not None else None
        for pid, start, end in self._ac.find_matches_as_indexes(low):
            if start < last:   # begins inside a match a wildcard ran on: may hide a start
                if end > last:
                    last = self._inside(low, last, end, last, out, text)
                continue
            token, latin = kinds[pid]
            if latin and start and low[start - 1] in word_chars:   # inside a word
                if not token:   # a phrase going past this word may hide a real start
                    last = self._inside(low, start + 1, end, last, out, text)
                continue
            at_end = settles[pid]
            if at_end and (at_end == 2 or end == n or low[end] not in word_chars):
                append(shared[pid] or text[start:end] if shared else (start, end))
                last = end
                continue
            if token and not run_on[pid]:
                continue
            m = match(low, start)
            if m is not None:
                last = m.end()
                out.append((start, last) if text is None else text[start:last])
            if not token and last < end:   # the regex settled on less than the hit
                last = self._inside(low, max(last, start + 1), end, last, out, text)
        return out

    def _inside(self, low: str, begin: int, end: int, last: int, out: list,
                text: str | None) -> int:
        """Try the regex wherever a phrase may begin in low[begin:end] (a stretch a
        longer hit covered), appending its matches; the new end of the last match."""
        for at in range(begin, end):
            ch = low[at]
            if at >= last and (ch in self._other_first or (
                    ch in _WORD_CHARS and low[at - 1] not in _WORD_CHARS)):
                m = self._re.match(low, at)
                if m is not None:
                    last = m.end()
                    out.append((at, last) if text is None else text[at:last])
        return last

    def _settled(self, stem: str, token: bool) -> int:
        """When a hit of this phrase at a possible start is a match as it stands:
        1 if the word ends there, 2 always (it ends in punctuation), 0 never without
        the regex (a wildcard of more than one word: its run would need the regex)."""
        if token:   # a one-word wildcard at a word end has nothing to run on
            return 1
        if stem in self._prefixes:
            return 0
        return 1 if stem[-1] in _WORD_CHARS else 2

    def _shares(self, stem: str) -> str | None:
        """The stem itself, for found() to report instead of the spelling, when none of
        the phrase's entries (inherited ones included) is case-sensitive and none asks
        to be reported as written: then its keys do not depend on case."""
        entries = self._keys.get(stem) or self._prefixes.get(stem, ())
        if not any(exact or self._as_written(key) for exact, key in entries):
            return stem
        return None

    def _inherit(self) -> None:
        originals = {low: list(entries) for low, entries in self._keys.items()}
        for low, entries in self._keys.items():
            if any(key == NOT_A_NAME for _, key in entries):
                continue
            listed = self._spelling[low]
            for part in _sub_phrases(low):
                for exact, key in originals.get(part, ()):
                    if key == NOT_A_NAME:
                        continue
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

    def found(self, text: str) -> list[str]:
        """Every match as written in text, in order, for callers that need no positions.
        A phrase whose keys do not depend on case (see _shares) may come back as its
        lowercased stem, the same string each time, so a caller's memo lookups cost less."""
        if not self._body or not text:
            return []
        low = text.lower()
        if len(low) == len(text):
            try:
                return self._spans(low, text)
            except UnicodeEncodeError:   # a lone surrogate: see spans
                pass
        return [text[start:end] for start, end in self.spans(text)]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every match in text, in order."""
        if not self._body or not text:
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
