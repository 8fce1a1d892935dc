"""The LLM's same-event check (feeds/same_event.py) on the labelled pairs of
docs/clustering.md, through the real client and judge against recorded answers.

The shared corpus is clustered as bench/eval_cluster.py does (the offline rule). For
every labelled pair of strategy stories the rule left apart, the bot would ask whether
the later report is the earlier one's event; those requests are answered from
`--answers` (bench/judge_replay.py serves them on loopback; a missing answer is counted,
the pair stays apart). The figures, over the labelled pairs of strategy stories (the
only ones the bot posts): pair precision and recall of the offline rule alone, and of
the rule plus the model.

    .venv/bin/python bench/eval_same_event.py                          # the recorded answers
    .venv/bin/python bench/eval_same_event.py --dump ../judge/pairs.jsonl   # requests to answer
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import eval_cluster as ec  # noqa: E402
from bench.judge_replay import load_answers, request_key, serve  # noqa: E402
from feeds.same_event import SYSTEM, pair_block  # noqa: E402

ANSWERS = ec.ROOT / "tests" / "data" / "same-event-answers.jsonl"


def labelled_pairs() -> tuple[list[tuple], int, int]:
    """(earlier, later, label) for the strategy pairs the rule left apart, and the
    merged strategy pairs labelled same / different."""
    clusters = ec.cluster_corpus()
    apart, merged = [], [0, 0]
    for a, b, label, _ in ec.load_labels(ec.LABELS).values():
        sa, sb = sorted((clusters[a]["story"], clusters[b]["story"]), key=lambda s: (s.published, s.id))
        if not (sa.classification.strategy and sb.classification.strategy):
            continue
        if clusters[a]["lead"] == clusters[b]["lead"]:
            merged[label] += 1
        else:
            apart.append((sa, sb, label))
    return apart, merged[1], merged[0]


async def ask_all(apart: list[tuple], answers: dict[str, str]) -> list[bool | None]:
    """The judge's answer per pair: True / False, None when it gave none."""
    from feeds.judge import Judge
    from feeds.llm import LLMCondenser
    runner, url = await serve(answers)
    llm = LLMCondenser(url, "replay", "replay", timeout=30.0)
    judge = Judge(llm, hourly_cap=10 ** 9, deadline=600.0)
    try:   # one ask per pair: a story may be in several pairs
        found = await asyncio.gather(*(judge.same_events([(later, [(0, earlier)])])
                                       for earlier, later, _ in apart))
    finally:
        await llm.aclose()
        await runner.cleanup()
    known = set(answers)
    return [True if later.id in f else
            False if request_key(SYSTEM, pair_block(earlier, later)) in known else None
            for (earlier, later, _), f in zip(apart, found)]


async def as_the_bot_asks(answers: dict[str, str], missing: list | None = None,
                         limit: int = 3) -> dict:
    """The corpus stored in published order as the bot stores it with the check on: each
    strategy story's candidates (Store.event_candidates, at most 3, best first) asked,
    the answer's earlier report joined. Candidates outside the labelled pairs have no
    recorded answer: those stay apart (counted). Returns link -> cluster lead link."""
    import shutil
    import tempfile
    from feeds.classify import Classifier
    from feeds.judge import Judge
    from feeds.llm import LLMCondenser
    from storage.store import Store
    stories = sorted(ec.corpus_stories(Classifier()), key=lambda p: (p[1].published, p[0]))
    runner, url = await serve(answers)
    llm = LLMCondenser(url, "replay", "replay", timeout=30.0)
    judge, tmp = Judge(llm, hourly_cap=10 ** 9, deadline=600.0), Path(tempfile.mkdtemp())
    store, asked = Store(tmp / "s.db"), [0, 0]
    try:
        for _, story in stories:
            cands = store.event_candidates(story, limit) if story.classification.strategy else []
            found = await judge.same_events([(story, cands)]) if cands else {}
            joins = {sid: key for sid, (key, _) in found.items()}
            asked[0] += len(cands)
            for _, c in cands:
                key = request_key(SYSTEM, pair_block(c, story))
                asked[1] += key in answers
                if key not in answers and missing is not None:
                    missing.append({"key": key, "user": pair_block(c, story)})
            store.add_new_stories([story], backlog=True, now=ec.WHEN, joins=joins)
        link_of = {s.id: link for link, s in stories}
        rows = store.db.execute("SELECT s.id, l.id FROM stories s JOIN stories l "
                                "ON l.pk = s.cluster_id").fetchall()
    finally:
        store.close()
        await llm.aclose()
        await runner.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"as the bot asks: {asked[0]} questions over {len(stories)} stories, "
          f"{asked[1]} of them with a recorded answer")
    return {link_of[sid]: link_of[lid] for sid, lid in rows}


def pipeline_report(lead: dict) -> None:
    clusters = ec.cluster_corpus()
    tp = fp = fn = 0
    for a, b, label, _ in ec.load_labels(ec.LABELS).values():
        if not (clusters[a]["story"].classification.strategy
                and clusters[b]["story"].classification.strategy):
            continue
        together = lead[a] == lead[b]
        tp, fp, fn = tp + (together and label), fp + (together and not label), fn + (not together and label)
    print(f"  as the bot asks: pair precision={tp / max(1, tp + fp):.3f} "
          f"recall={tp / max(1, tp + fn):.3f} (tp={tp} fp={fp} fn={fn})")


def report(apart, same_merged: int, diff_merged: int, said: list[bool | None]) -> None:
    same_total = same_merged + sum(label for _, _, label in apart)
    tp = same_merged + sum(1 for (_, _, y), s in zip(apart, said) if s and y)
    fp = diff_merged + sum(1 for (_, _, y), s in zip(apart, said) if s and not y)
    print(f"strategy pairs labelled: {same_total} same event, "
          f"{diff_merged + sum(1 for *_, y in apart if not y)} different; "
          f"left apart by the rule: {len(apart)}, asked and answered: "
          f"{sum(s is not None for s in said)}")
    print(f"  offline rule: pair precision={same_merged / max(1, same_merged + diff_merged):.3f} "
          f"recall={same_merged / max(1, same_total):.3f} (tp={same_merged} fp={diff_merged})")
    print(f"  rule + model: pair precision={tp / max(1, tp + fp):.3f} "
          f"recall={tp / max(1, same_total):.3f} (tp={tp} fp={fp})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=Path, default=ANSWERS)
    ap.add_argument("--dump", type=Path, help="write the requests (key, user) instead")
    ap.add_argument("--as-the-bot-asks", action="store_true",
                    help="also store the corpus as the bot does, asking at most 3 candidates a story")
    ap.add_argument("--candidates", type=int, default=3,
                    help="with --as-the-bot-asks: candidates asked about per story (the bot: 3)")
    ap.add_argument("--dump-missing", type=Path,
                    help="with --as-the-bot-asks: write the questions no answer was recorded for")
    args = ap.parse_args(argv)
    apart, same_merged, diff_merged = labelled_pairs()
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as f:
            for earlier, later, _ in apart:
                user = pair_block(earlier, later)
                f.write(json.dumps({"key": request_key(SYSTEM, user), "user": user},
                                   ensure_ascii=False) + "\n")
        print(f"eval_same_event: {len(apart)} requests written to {args.dump}")
        return 0
    answers = load_answers(args.answers)
    said = asyncio.run(ask_all(apart, answers))
    report(apart, same_merged, diff_merged, said)
    if args.as_the_bot_asks:
        missing: list = []
        pipeline_report(asyncio.run(as_the_bot_asks(answers, missing, args.candidates)))
        if args.dump_missing:
            args.dump_missing.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n"
                                                 for m in missing), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
