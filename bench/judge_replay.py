"""Recorded answers for the LLM judge: measure it with a model reached some other way.

No model endpoint is reachable from the machine the figures are made on, but a capable
model can still read the judge's own requests and answer them. So the measurement is
split in two:

1. `dump`: the requests the bot would send for a labelled set, exactly as feeds/judge.py
   builds them (system message: the policy; user message: the story block), one JSON
   object a line: key, set, link, user. They hold the outlets' text, so they stay
   outside the repository. The system message is written once beside them.
2. Someone (a person or a model, blind to the labels) answers each request as the
   endpoint would: one line `{"key": ..., "content": "<the model's answer text>"}`.
3. `bench/eval_classify.py --llm-judge --replay ANSWERS` serves the answers from an
   OpenAI-compatible server on loopback and runs the real pipeline against it: the real
   `openai` client, the judge's parsing and rules, eval_judge's report. A request with no
   recorded answer is refused (HTTP 400: that story keeps its offline verdict, counted
   as "no verdict"), and answers recorded under another policy are refused the same way,
   since the key covers the system message too.

    .venv/bin/python bench/judge_replay.py dump --set fresh7 --out ../judge/fresh7.jsonl
    .venv/bin/python bench/eval_classify.py --set fresh7 --llm-judge --replay tests/data/judge-fresh7.jsonl
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feeds.judge import GATE_MARGIN, MARGIN, SYSTEM, needs_judging, story_block  # noqa: E402


def request_key(system: str, user: str) -> str:
    """The answer's key: both messages, so a changed policy or story finds no answer."""
    return hashlib.sha256(f"{system}\0{user}".encode()).hexdigest()[:24]


def dump(sets: dict[str, list], stories, out: Path, margin: float = MARGIN,
         gate_margin: float | None = GATE_MARGIN, skip: set[str] = frozenset()) -> int:
    """Write the requests the judge would send for these sets; returns how many."""
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with out.open("w", encoding="utf-8") as f:
        for name, rows in sets.items():
            for story, _ in stories(rows):
                if needs_judging(story.classification, margin, gate_margin):
                    user = story_block(story)
                    if request_key(SYSTEM, user) in skip:
                        continue
                    f.write(json.dumps({"key": request_key(SYSTEM, user), "set": name,
                                        "link": story.url, "user": user}, ensure_ascii=False) + "\n")
                    n += 1
    out.with_name("system.txt").write_text(SYSTEM + "\n", encoding="utf-8")
    return n


def load_answers(path: Path) -> dict[str, str]:
    """key -> the answer's text; a malformed line stops with its line number."""
    answers = {}
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            answers[str(row["key"])] = str(row["content"])
        except (ValueError, KeyError, TypeError) as e:
            raise SystemExit(f"judge_replay: {path}:{no}: not a {{key, content}} line ({e})")
    return answers


async def serve(answers: dict[str, str]):
    """An OpenAI-compatible /v1/chat/completions on loopback answering from `answers`;
    returns (runner, base URL). The caller cleans the runner up."""
    from aiohttp import web

    async def completions(request: web.Request) -> web.Response:
        body = await request.json()
        msgs = {m["role"]: m["content"] for m in body.get("messages", [])}
        content = answers.get(request_key(msgs.get("system", ""), msgs.get("user", "")))
        if content is None:
            return web.json_response({"error": {"message": "no recorded answer for this request",
                                                "type": "invalid_request_error"}}, status=400)
        return web.json_response({
            "id": "replay", "object": "chat.completion", "created": 0, "model": body.get("model"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})

    from bench.common import serve_loopback
    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    runner, port = await serve_loopback(app)
    return runner, f"http://127.0.0.1:{port}/v1"


def main(argv=None) -> int:
    from bench import eval_classify as ev
    from bench.eval_judge import _stories
    from feeds.classify import Classifier, load_gazetteer
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump", help="write the judge's requests for labelled sets")
    d.add_argument("--set", required=True, help="labelled sets, comma-separated")
    d.add_argument("--out", type=Path, required=True, help="requests file (JSONL), outside the repository")
    d.add_argument("--margin", type=float, default=MARGIN)
    d.add_argument("--gate-margin", type=float, default=GATE_MARGIN,
                   help="also stories the AI gate stopped, with p >= threshold - this")
    d.add_argument("--skip", type=Path, help="answers file: leave out the requests it answers")
    args = ap.parse_args(argv)
    unknown = [n for n in ev.set_names(args.set) if n not in ev.SETS]
    if unknown:
        print(f"judge_replay: --set takes names of labelled sets ({', '.join(ev.SETS)}), not {unknown[0]!r}",
              file=sys.stderr)
        return 2
    corpus = ev.load_corpus(ev.DEFAULT_CORPUS, *[p for p in ev.ITEMS.values() if p.exists()])
    clf = Classifier(load_gazetteer())
    sets = {n: ev.load_labels(ev.SETS[n]) for n in ev.set_names(args.set)}
    skip = set(load_answers(args.skip)) if args.skip else set()
    n = dump(sets, lambda rows: _stories(clf, rows, corpus, ev.story_text), args.out, args.margin,
             args.gate_margin, skip)
    print(f"judge_replay: {n} requests written to {args.out} (system message: "
          f"{args.out.with_name('system.txt')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
