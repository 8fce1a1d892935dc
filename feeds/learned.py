"""The learned layer's weights: logistic regression over the classifier's features.

Read from feeds/data/<[model] weights> (strategy_model.json), written by
bench/eval_classify.py --train; a file edited by hand or cut short fails at start-up.
"""
from __future__ import annotations

import json
import math
from itertools import compress, repeat
from operator import ge, mul

from feeds.gazetteer import DATA, GazetteerError


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
        weights, words = self.weights, self.words
        names = list(filter(weights.__contains__, x))
        values = list(map(mul, map(weights.__getitem__, names), map(x.__getitem__, names)))
        z = self.bias + sum(values) + sum(map(words.__getitem__, hits))
        p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
        top = sorted(hits & self._notable, key=self._strength, reverse=True)[:5] if hits else ()
        return p, self._largest(names, values), [(h, words[h]) for h in top]

    @staticmethod
    def _largest(names: list[str], values: list[float]) -> list[tuple[str, float]]:
        """(name, contribution) of those worth listing (|c| >= 0.05), largest |c| first,
        ties in feature order (a reverse sort keeps it), sorted in C."""
        sizes = list(map(abs, values))
        listed = compress(range(len(sizes)), map(ge, sizes, repeat(0.05)))
        return [(names[i], values[i]) for i in sorted(listed, key=sizes.__getitem__, reverse=True)]


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return float(value)
