"""The LLM judge on a labelled set, through the endpoint the settings configure
(LLM_BASE_URL, LLM_API_KEY, LLM_MODEL from the environment or .env): what
`bench/eval_classify.py --llm-judge` prints.

Each item is classified offline; the ones the bot would send to the judge (past the AI
gate, p >= threshold - AINEWS_LLM_JUDGE_MARGIN) are asked once, as the bot asks. The
figures: the offline classifier alone, the two together (what the bot posts), and the
model alone on the items it judged. An item the endpoint did not answer (down, timeout,
an invalid answer) keeps its offline verdict and is counted.
"""
from __future__ import annotations

import asyncio
import os
import sys

from bot.config import load_settings
from feeds.judge import Judge
from feeds.llm import LLMCondenser
from feeds.models import Story, utcnow

CALLS_PER_HOUR = 10 ** 9   # a measurement: the bot's hourly cap does not apply


def judge_sets(clf, sets: dict[str, list], corpus: dict, story_text, environ=None) -> int:
    settings = load_settings(environ)
    if not settings.llm_enabled:
        print("eval_classify: --llm-judge needs an LLM: set LLM_MODEL and LLM_BASE_URL or "
              "LLM_API_KEY (environment or .env)", file=sys.stderr)
        return 2
    return asyncio.run(_judge_sets(clf, sets, corpus, story_text, settings))


def judge_replayed(clf, sets: dict[str, list], corpus: dict, story_text, answers_file) -> int:
    """The same, the endpoint being recorded answers served on loopback
    (bench/judge_replay.py): the real client and judge, no model reached."""
    from bench.judge_replay import load_answers, serve
    if not answers_file.exists():
        print(f"eval_classify: --replay {answers_file} not found", file=sys.stderr)
        return 2
    answers = load_answers(answers_file)

    async def run() -> int:
        runner, url = await serve(answers)
        try:
            margins = {k: v for k, v in os.environ.items() if k.startswith("AINEWS_LLM_JUDGE")}
            settings = load_settings({**margins, "LLM_BASE_URL": url, "LLM_API_KEY": "replay",
                                      "LLM_MODEL": f"replay of {answers_file.name}"}, dotenv_path=None)
            return await _judge_sets(clf, sets, corpus, story_text, settings)
        finally:
            await runner.cleanup()
    return asyncio.run(run())


async def _judge_sets(clf, sets, corpus, story_text, settings) -> int:
    from bot.app import llm_url
    llm = LLMCondenser(settings.llm_base_url or None, settings.llm_api_key, settings.llm_model,
                       timeout=settings.llm_timeout, max_tokens=settings.llm_max_tokens,
                       proxy=settings.proxies.for_url(llm_url(settings)),
                       ca_file=settings.ca_file and str(settings.ca_file))
    judge = Judge(llm, hourly_cap=CALLS_PER_HOUR, margin=settings.llm_judge_margin,
                  gate_margin=settings.llm_judge_gate_margin)
    try:
        for name, rows in sets.items():
            items = _stories(clf, rows, corpus, story_text)
            judged = await asyncio.gather(*(judge.judge(s) for s, _ in items
                                            if judge.wants(s)))
            report(name, items, {s.id: s for s in judged}, settings.llm_model)
    finally:
        await llm.aclose()
    return 0


def _stories(clf, rows, corpus, story_text) -> list[tuple[Story, int]]:
    out = []
    for link, label, _ in rows:
        item = corpus.get(link)
        if item is None:
            continue
        title, text = story_text(item)
        summary = item.get("summary") or ""
        story = Story(id=link, url=link, title=title, text=text, summary=summary,
                      source=item.get("outlet", ""), feed_url="", published=utcnow())
        out.append((story.with_classification(clf.classify(title, text)), label))
    return out


def report(name: str, items: list[tuple[Story, int]], judged: dict[str, Story],
           model: str) -> None:
    offline = [(s.classification.strategy, y) for s, y in items]
    answered = {k: s for k, s in judged.items() if _llm_said(s)}
    both = [(answered[s.id].classification.strategy if s.id in answered
             else s.classification.strategy, y) for s, y in items]
    alone = [(answered[s.id].classification.strategy, y) for s, y in items if s.id in answered]
    print(f"{name}: n={len(items)} sent to {model}: {len(judged)}, answered {len(answered)}, "
          f"no verdict {len(judged) - len(answered)}")
    for what, pairs in (("offline", offline), ("offline + judge", both),
                        ("judge alone, on the items it judged", alone)):
        print(f"  {what}: {_figures(pairs)}")


def _llm_said(story: Story) -> bool:
    return any(r.startswith("llm:") for r in story.classification.reasons)


def _figures(pairs: list[tuple[bool, int]]) -> str:
    tp = sum(1 for p, y in pairs if p and y)
    fp = sum(1 for p, y in pairs if p and not y)
    fn = sum(1 for p, y in pairs if not p and y)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f"precision={p:.3f} recall={r:.3f} f1={f1:.3f} (tp={tp} fp={fp} fn={fn})"
