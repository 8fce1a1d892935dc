"""The learned layer's inputs: the few dozen named cues `story_features` reads off one
scan (feeds/scan.py) and the story's headline and text; their weights are in
feeds/data/strategy_model.json (feeds/learned.py), docs/classifier.md describes them."""
from __future__ import annotations

import math
import re
from operator import call, itemgetter

from feeds.scan import PLACES, Scan

# Outlet-independent cues the vocabulary cannot see: money figures are deals and rounds;
# a bare short headline with no text is a vendor post; first person is a hands-on test.
# Money: $5, 5 bn, 5 billion, 5bn, 5m, 5亿. Every figure begins with a currency sign or a
# digit; the pattern starts with that class, so `re` skips to such characters in C, and
# each alternative checks behind it which one it was (~4x faster than trying all four
# alternatives at every character).
_MONEY = re.compile(r"[$€£¥\d](?:(?<=[$€£¥])\s?\d"
                    r"|(?<=\d)(?:\s?(?:bn|billion|million|trillion|亿)\b|(?:bn|m)\b|亿))", re.I)
_PERCENT = re.compile(r"\d\s?%|\bpercent\b", re.I)
# I, I'm, I've, my, My, we, We, Our as a word of their own: each alternative begins with
# its letter and checks behind it for the word start, so `re` skips to those letters in C.
# The character before the word may not be "." either: not the I of "A.I.".
_FIRST_PERSON = re.compile(r"(?:I(?<![\w.].)(?:'m|'ve)?|m(?<![\w.].)y|M(?<![\w.].)y"
                           r"|w(?<![\w.].)e|W(?<![\w.].)e|O(?<![\w.].)ur)(?=\W)")
_AI_FEATURES = tuple(f"ai@{place}" for place in PLACES)


def _has_percent(title: str) -> bool:
    """_PERCENT.search(title); each of its forms needs a "%" or the word "percent"."""
    return ("%" in title or "percent" in title.lower()) and _PERCENT.search(title) is not None


def story_features(scan: Scan, title: str, text: str, ai_companies: set[str],
                   points: float = 0.0, near_gate: bool = False) -> dict[str, float]:
    """The few dozen cues the learned layer weighs (see docs/classifier.md): per topic
    and place the summed phrase weights, AI evidence, companies, negatives, figures.
    Absent cues are 0, so a feature's weight times its value is what it contributed."""
    log1p, sums = math.log1p, scan.features
    # a headline's phrase weights are capped, elsewhere damped (shapes applied in C)
    f = dict(zip(sums, map(call, map(_SHAPES.__getitem__, sums), sums.values())))
    for name, hits in zip(_AI_FEATURES, scan.ai_places):
        if hits:
            f[name] = log1p(hits)
    named = scan.companies
    f["ai-company"] = float(not ai_companies.isdisjoint(named))
    f["ai-company@title"] = float(scan.lab_in_title)
    f["company@title"] = float(scan.company_in_title)
    f["companies"] = log1p(len(named))
    f["money@title"] = float(_MONEY.search(title) is not None)
    f["money@lead"] = float(_MONEY.search(text, 0, 300) is not None)   # as on text[:300]
    f["percent@title"] = float(_has_percent(title))
    f["first-person@title"] = float(bool(_FIRST_PERSON.search(title)))
    f["short-title"] = float(len(title.split()) <= 5)
    f["no-text"] = float(len(text) < 40 or len(text.strip()) < 40)
    f["rule-score"] = max(-3.0, min(points, 12.0)) / 3
    f["lab-post"] = f["no-text"] * f["ai-company@title"]   # "Mistral Medium 3.5" and nothing else
    f["near-ai"] = log1p(scan.near)
    f["near-gate"] = float(near_gate)   # past the gate on chips, data centres or crawlers alone
    return dict(filter(itemgetter(1), f.items()))   # absent cues are left out


class _Shapes(dict):
    """Feature name -> what its summed phrase weights become: min(sum, 3) for a
    headline's, log1p(sum) elsewhere (one entry per name, made on first sight)."""
    def __missing__(self, name: str):
        shape = self[name] = _cap_at_3 if name.endswith("@title") else math.log1p
        return shape


def _cap_at_3(value: float) -> float:
    return min(value, 3.0)


_SHAPES = _Shapes()
