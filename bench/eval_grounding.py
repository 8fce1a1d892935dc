"""The LLM grounding check on real stories: faithful briefs pass, invented facts do not.

    .venv/bin/python bench/eval_grounding.py [--items PATH] [--show N]

Items: JSONL with title and content_html or summary (default: the shared corpus's
news/items.jsonl; any file of that shape, a Chinese one too). For each story two briefs
a reader would call faithful are built from its own text: its title over its first four
sentences ("lead") and the extractive condenser's brief ("condense"). Each is validated
against the story (feeds/llm_validate.py) as written, with its figures in another form
(number words to digits and back, "billion" as "bn", digits before 亿/万/家 as Chinese
numerals: these must pass too), and with one invented fact (a figure changed to a value
the story lacks, in the same form; a Chinese company the story never names in place of
one it does: these must be rejected). Prints the counts per brief and variant, and with
--show the first N rejections of faithful briefs and misses of invented ones. The
outlets' text stays in the corpus: nothing of it is written out but those examples.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_parse import ITEMS  # noqa: E402
from feeds.company_names import bundled_names  # noqa: E402
from feeds.condense import condense  # noqa: E402
from feeds.figures import PATTERN, read_figures, read_match  # noqa: E402
from feeds.llm_reply import LLMRejected  # noqa: E402
from feeds.llm_validate import validate  # noqa: E402
from feeds.models import Story  # noqa: E402
from feeds.sentences import split_sentences  # noqa: E402
from feeds.text import html_to_text  # noqa: E402

_EN = "zero one two three four five six seven eight nine ten eleven twelve".split()
_ZH_DIGITS = "零一二三四五六七八九"
_ZH_SENTENCE = re.compile(r"(?<=[。！？；])")
_ZH_COMPANIES = ("腾讯", "字节跳动", "百度", "阿里巴巴", "华为", "小米")


def stories(path: Path) -> list[tuple[str, str, str]]:
    """(title, text, html) of every item with a title and some text."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        html = item.get("content_html") or ""
        text = html_to_text(html) if html else (item.get("summary") or item.get("text") or "")
        if (item.get("title") or "").strip() and text.strip():
            out.append((item["title"], text, html))
    return out


def sentences(text: str) -> list[str]:
    """Sentences (Chinese split at its own stops), or a teaser's clauses when fewer than 3."""
    if re.search("[\u4e00-\u9fff]", text):
        return [s.strip() for p in text.splitlines() for s in _ZH_SENTENCE.split(p)
                if len(s.strip()) > 4]
    found = [s for s in split_sentences(text) if len(s) > 20]
    if len(found) >= 3:
        return found
    return [c.strip() for s in split_sentences(text) for c in re.split(r"[,;:—]\s", s)
            if len(c.strip()) > 15]


def trim(s: str, n: int) -> str:
    s = " ".join(s.split())
    cut = s[:n]
    return s if len(s) <= n else (cut[:cut.rfind(" ")] if cut.rfind(" ") > n // 2 else cut)


def lead_brief(title: str, text: str, html: str) -> dict | None:
    picked = list(dict.fromkeys(trim(s, 200) for s in sentences(text)[:4]))
    if len(picked) < 3:
        return None
    return {"headline": trim(title, 120), "bullets": picked[:3], "why_it_matters": picked[-1]}


def condense_brief(title: str, text: str, html: str) -> dict | None:
    story = Story(id="s", url="https://example.com/s", title=title, text=text, source="",
                  feed_url="", summary=text, html=html,
                  published=datetime(2025, 1, 1, tzinfo=timezone.utc))
    b = condense(story)
    bullets = list(dict.fromkeys(b.bullets))
    if len(bullets) < 3 or not b.headline:
        return None
    why = bullets[-1] if b.why_is_generated or not b.why_it_matters else b.why_it_matters
    return {"headline": b.headline, "bullets": bullets[:3], "why_it_matters": trim(why, 300)}


def reworded(brief: dict, change) -> dict | None:
    """The brief with change() applied to each part, or None when nothing changed."""
    out = {"headline": trim(change(brief["headline"]), 120),
           "bullets": [trim(change(b), 200) for b in brief["bullets"]],
           "why_it_matters": trim(change(brief["why_it_matters"]), 300)}
    return None if out == brief else out


def words_to_digits(s: str) -> str:
    return re.sub(r"(?<![\w-])(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
                  r"(?![\w-])", lambda m: str(_EN.index(m.group(1).lower())), s, flags=re.I)


def digits_to_words(s: str) -> str:
    s = re.sub(r"(?<![\w.,$-])([2-9]|1[0-2])(?![\w.,%-])(?!\s*[ap]\.?m\b)",
               lambda m: _EN[int(m.group(1))], s)
    return re.sub(r"(\d+(?:\.\d+)?) billion", r"\1bn", s)


def to_hanzi(s: str) -> str:
    return re.sub(r"(?<![\d.])(\d{1,4})(亿|万|家|个|年|款|倍)(?!\d)",
                  lambda m: _hanzi(int(m.group(1))) + m.group(2), s)


def _hanzi(n: int) -> str:
    """n < 10,000 in Chinese numerals (二千零二十五, 十五)."""
    out, gap = "", False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // unit % 10
        if d:
            lead = "" if (d == 1 and unit == 10 and not out) else _ZH_DIGITS[d]
            out, gap = out + ("零" if gap else "") + lead + name, False
        elif out:
            gap = True
    return out or "零"


def invented_figure(brief: dict, story_values: frozenset) -> dict | None:
    """One checked figure changed (digits x3+7; a number word or Chinese numeral to the
    next one) to a value the story lacks, in its place."""
    parts = [brief["headline"], *brief["bullets"], brief["why_it_matters"]]
    for i, part in enumerate(parts):
        for m in PATTERN.finditer(part):
            new = _changed(m.group()) if _says_at(part, m.start()) else None
            changed = part[:m.start()] + (new or "") + part[m.end():]
            says = _says_at(changed, m.start()) if new else frozenset()
            if says and says.isdisjoint(story_values):
                parts[i] = changed
                return _brief(parts)
    return None


def _says_at(text: str, start: int) -> frozenset:
    """What the figure read at start says (nothing when none begins there)."""
    m = PATTERN.search(text, start)
    if m is None or m.start() != start:
        return frozenset()
    return read_match(m, text)[0].says


def _brief(parts: list[str]) -> dict:
    return {"headline": parts[0], "bullets": parts[1:4], "why_it_matters": parts[4]}


def _changed(figure: str) -> str | None:
    m = re.fullmatch(r"(\D*?)(\d+)(.*)", figure)
    if m:
        return f"{m.group(1)}{int(m.group(2)) * 3 + 7}{m.group(3)}"
    low = figure.lower().split()[0].split("-")[0]
    if low in _EN[:-1]:
        return re.sub(low, _EN[_EN.index(low) + 1], figure, count=1, flags=re.I)
    zh = next((ch for ch in figure if ch in "二两三四五六七八九"), None)
    return figure.replace(zh, "七" if zh != "七" else "三", 1) if zh else None


def invented_company(brief: dict, source: str) -> dict | None:
    """A Chinese company the story never names in place of one it does."""
    names = bundled_names()
    named = names.named(source)
    parts = [brief["headline"], *brief["bullets"], brief["why_it_matters"]]
    other = next((c for c in _ZH_COMPANIES if names.named(c).isdisjoint(named)), None)
    for i, part in enumerate(parts):
        for m in names.find(part):
            if other and re.search("[\u4e00-\u9fff]", m.text):
                parts[i] = part[:m.start] + other + part[m.end:]
                return _brief(parts)
    return None


def rejection(brief: dict, source: str) -> str | None:
    try:
        validate(brief, source)
    except LLMRejected as e:
        return str(e)
    return None


def variants(brief: dict, source: str) -> dict[str, tuple[dict | None, bool]]:
    """name -> (brief or None, whether it should pass)."""
    values = frozenset().union(*(f.gives for f in read_figures(source)))
    return {"faithful": (brief, True),
            "words->digits": (reworded(brief, words_to_digits), True),
            "digits->words, bn": (reworded(brief, digits_to_words), True),
            "digits->汉字": (reworded(brief, to_hanzi), True),
            "invented figure": (invented_figure(brief, values), False),
            "invented company": (invented_company(brief, source), False)}


def run(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=Path, default=ITEMS)
    ap.add_argument("--show", type=int, default=0)
    args = ap.parse_args(argv)
    counts: dict[str, Counter] = defaultdict(Counter)
    wrong: list[str] = []
    for title, text, html in stories(args.items):
        source = f"{title}\n{text[:12000]}"   # what the condenser shows the model
        for kind, make in (("lead", lead_brief), ("condense", condense_brief)):
            brief = make(title, text, html)
            for name, (b, should_pass) in (variants(brief, source) if brief else {}).items():
                if b is not None:
                    _score(f"{kind} {name}", b, source, should_pass, counts, wrong)
    return {"counts": {k: dict(v) for k, v in counts.items()}, "wrong": wrong[:args.show]}


def _score(name: str, brief: dict, source: str, should_pass: bool,
           counts: dict[str, Counter], wrong: list[str]) -> None:
    why = rejection(brief, source)
    right = (why is None) == should_pass
    counts[name].update(briefs=1, right=right)
    if not right:
        wrong.append(f"{name}: {why or 'passed'}: {json.dumps(brief, ensure_ascii=False)}")


def main() -> None:
    res = run()
    for name, c in res["counts"].items():
        print(f"{name:32} briefs {c['briefs']:5}   as they should be {c.get('right', 0):5}")
    for line in res["wrong"]:
        print(line)


if __name__ == "__main__":
    main()
