"""ROUGE-1/2/L of the extractive bullets against human highlights, beside LEAD-3.

    .venv/bin/python bench/eval_rouge.py [--limit N]

Data: /work/shared/eval/cnndm-sample/train_sample.csv (columns id, article, highlights).
Each article is condensed as an untitled plain-text story (CNN/DailyMail gives no
headline, so the condenser's first pick becomes the headline: we score headline +
bullets, the text a reader sees). LEAD-3 is the first three sentences of the same
cleaned article, split with the same splitter. ROUGE is implemented here, simply:
lowercased alphanumeric tokens, no stemming, F1 of clipped n-gram overlap (1, 2) and
of the longest common subsequence (L), averaged over articles, x100.
"""
from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feeds.condense import condense  # noqa: E402
from feeds.models import Story  # noqa: E402
from feeds.sentences import split_sentences  # noqa: E402

SAMPLE = Path("/work/shared/eval/cnndm-sample/train_sample.csv")
# Daily Mail bylines: "By . Name . PUBLISHED: . 14:11 EST, 25 October 2013 . | . UPDATED: ..."
# and CNN datelines: "WASHINGTON (CNN) -- ". Both systems read the same cleaned text.
_BYLINE = re.compile(r"^.{0,300}?(?:UPDATED: \. \d\d:\d\d EST, \d+ \w+ \d{4} \. |"
                     r"\(CNN\)\s*(?:--\s*)?|^[^.]{0,60}?--\s)", re.S)


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def f1(overlap: int, n_sys: int, n_ref: int) -> float:
    if not overlap:
        return 0.0
    p, r = overlap / n_sys, overlap / n_ref
    return 2 * p * r / (p + r)


def rouge_n(sys_toks: list[str], ref_toks: list[str], n: int) -> float:
    sys_ng = Counter(tuple(sys_toks[i:i + n]) for i in range(len(sys_toks) - n + 1))
    ref_ng = Counter(tuple(ref_toks[i:i + n]) for i in range(len(ref_toks) - n + 1))
    return f1(sum((sys_ng & ref_ng).values()), sum(sys_ng.values()), sum(ref_ng.values()))


def rouge_l(sys_toks: list[str], ref_toks: list[str]) -> float:
    prev = [0] * (len(ref_toks) + 1)
    for a in sys_toks:
        cur = [0]
        for j, b in enumerate(ref_toks):
            cur.append(prev[j] + 1 if a == b else max(prev[j + 1], cur[j]))
        prev = cur
    return f1(prev[-1], len(sys_toks), len(ref_toks))


def scores(system: str, reference: str) -> tuple[float, float, float]:
    s, r = tokens(system), tokens(reference)
    return rouge_n(s, r, 1), rouge_n(s, r, 2), rouge_l(s, r)


def clean(article: str) -> str:
    return _BYLINE.sub("", article, count=1) if len(article) > 200 else article


def extractive(article: str) -> str:
    story = Story(id="x", url="", title="", text=article, source="", feed_url="",
                  published=datetime(2025, 1, 1, tzinfo=timezone.utc))
    brief = condense(story)
    return " ".join((brief.headline, *brief.bullets))


def lead3(article: str) -> str:
    return " ".join(split_sentences(article)[:3])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0, help="first N articles only")
    ap.add_argument("--sample", type=Path, default=SAMPLE,
                    help=f"CSV with id, article, highlights (default {SAMPLE})")
    args = ap.parse_args()
    if not args.sample.is_file():
        sys.exit(f"eval_rouge: sample {args.sample} not found (use --sample)")
    csv.field_size_limit(10_000_000)
    with args.sample.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[: args.limit or None]
    results = {"extractive": [], "lead-3": []}
    for row in rows:
        article = clean(row["article"])
        results["extractive"].append(scores(extractive(article), row["highlights"]))
        results["lead-3"].append(scores(lead3(article), row["highlights"]))
    print(f"eval_rouge: {len(rows)} CNN/DailyMail articles, F1 x100 (mean)")
    print(f"  {'system':12} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8}")
    for name, rs in results.items():
        r1, r2, rl = (100 * statistics.mean(col) for col in zip(*rs))
        print(f"  {name:12} {r1:8.2f} {r2:8.2f} {rl:8.2f}")


if __name__ == "__main__":
    main()
