"""How far two careful people agree on "AI strategy": the ceiling for any classifier.

    .venv/bin/python bench/eval_labels.py

Three label sets per item: the first labeller's (tests/data/devset.tsv and testset.tsv
before adjudication: a reason "adjudicated 0->1: ..." records the first label), a
second labeller's, made blind to the first and to the classifier
(tests/data/second-labels.tsv), and the adjudicated label the sets now carry (a third
reading of every disagreement against the written policy, docs/classifier.md).
Prints, per set, agreement, Cohen's kappa, and each labeller's precision and recall
scored like a classifier against the other labels.
"""
from __future__ import annotations

import re
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
ADJUDICATED = re.compile(r"adjudicated ([01])->[01]")


def read_tsv(path: Path) -> list[list[str]]:
    return [line.rstrip("\n").split("\t") for line in path.read_text().splitlines(True)
            if line.strip() and not line.startswith("#")]


def label_sets(name: str, second: dict[str, str]) -> dict[str, dict[str, str]]:
    first, final = {}, {}
    for link, label, *reason in read_tsv(DATA / f"{name}set.tsv"):
        m = ADJUDICATED.match(reason[0] if reason else "")
        first[link], final[link] = (m.group(1) if m else label), label
    return {"first": first, "second": {k: second[k] for k in first}, "adjudicated": final}


def scores(truth: dict[str, str], other: dict[str, str]) -> dict[str, float]:
    """`other` scored against `truth`, over items both decided (no "?")."""
    keys = [k for k in truth if truth[k] in "01" and other[k] in "01"]
    pairs = [(truth[k] == "1", other[k] == "1") for k in keys]
    tp = sum(t and o for t, o in pairs)
    fp = sum(o and not t for t, o in pairs)
    fn = sum(t and not o for t, o in pairs)
    agree = sum(t == o for t, o in pairs) / len(pairs)
    pt, po = (sum(x) / len(pairs) for x in zip(*pairs))
    chance = pt * po + (1 - pt) * (1 - po)
    return {"n": len(pairs), "agree": agree, "kappa": (agree - chance) / (1 - chance),
            "precision": tp / (tp + fp), "recall": tp / (tp + fn)}


def main() -> None:
    second = {link: label for link, label, *_ in read_tsv(DATA / "second-labels.tsv")}
    print(f"{'set':5} {'labels scored':28} {'against':12} {'n':>5} {'agree':>6} "
          f"{'kappa':>6} {'P':>6} {'R':>6}")
    for name in ("dev", "test"):
        sets = label_sets(name, second)
        for who, truth in (("second", "first"), ("first", "adjudicated"),
                           ("second", "adjudicated")):
            s = scores(sets[truth], sets[who])
            print(f"{name:5} {who + ' labeller':28} {truth:12} {s['n']:5} {s['agree']:6.3f} "
                  f"{s['kappa']:6.3f} {s['precision']:6.3f} {s['recall']:6.3f}")


if __name__ == "__main__":
    main()
