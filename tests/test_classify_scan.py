"""The word-level scan (feeds/scan.py) finds exactly what the full regex scan finds,
on real feeds, tricky text and glued phrases, and forgets spellings without changing results."""
from __future__ import annotations

import pytest

from feeds.classify import Classifier
from tests.classify_kit import DATA, seed, classifier


clf = pytest.fixture(classifier, name="clf", scope="module")


def _corpus_texts() -> list[str]:
    """Real feeds in tests/data and generated entries: headlines, summaries, bodies."""
    from feeds.parser import ParseError, parse_feed
    from feeds.text import html_to_text
    from tests.fakes.feedserver import make_entries
    texts = []
    for path in sorted(DATA.glob("*.xml")):
        try:
            stories = parse_feed(path.read_bytes(), feed_url=f"https://t.invalid/{path.name}").stories
        except ParseError:
            continue
        texts += [t for s in stories for t in (s.title, s.text)]
    for e in make_entries(60, seed=3):
        texts += [e["title"], e["summary"], html_to_text(e["content_html"])]
    return texts


TRICKY = [
    "Apple’s and apple's APPLE Meta meta-analysis Metaverse _Meta Meta_ éMeta Metaé",
    "open-source open source opensource open-sourced gpt-4o gpt-4o-mini GPT4 OpenAI's",
    "百度的Qwen模型 阿里巴巴和腾讯 阿里云Qwen开源模型 智谱AI 智谱ai发布",
    "monetization monetize Monetizing remonetize price-cut $1bn raised 1.5 billion",
    "xAI X.ai Nvidia-backed nvidia’s Arm ARM arms Character.AI A.I. ai-powered AI.",
    "a bet that data center on data centers new features chief scientist closed.",
    "", " ", "Meta", "?", "(Alibaba)", "Alibaba Cloud's cloud", "Hugging Face.hugging face",
    # a wildcard running on over the start of a longer phrase, which hides a later start
    "monetiz_oracle cloud infra", "semiconductorascend chips", "thai chips", "open sourced",
    "OpenAI \ud800 open source Qwen",   # a lone surrogate (JSON feeds can carry one)
]


def _glued(matcher, n: int, seed: int) -> list[str]:
    """The gazetteer's own phrases and their beginnings glued by word characters,
    spaces, punctuation and CJK: phrases overlapping and running into each other."""
    import random
    rng = random.Random(seed)
    stems = sorted({*matcher._keys, *matcher._prefixes})
    frags = stems + [s[:k] for s in stems[::7] for k in range(1, len(s))] + ["thai", "s", "é"]
    seps = ["", " ", "-", "的", "\n", ".", "'", "_", "é", ",", "?", "$", "😀"]
    return ["".join(rng.choice(frags) + rng.choice(seps) for _ in range(rng.randint(1, 10)))
            for _ in range(n)]


@pytest.mark.parametrize("source", ["corpus", "tricky", "shuffled", "glued"])
def test_word_scan_finds_exactly_the_regex_matches(clf, source):
    import random
    m = clf._matcher
    if source == "corpus":
        texts = _corpus_texts()
    elif source == "tricky":
        texts = TRICKY
    elif source == "shuffled":   # tricky words glued by spaces, nothing, hyphens and CJK
        rng, words = random.Random(7), " ".join(TRICKY).split()
        texts = [rng.choice(["", " ", "-", "的", "\n"]).join(rng.sample(words, 8)) for _ in range(800)]
    else:
        texts = _glued(m, 4000, seed=11)
    differing = [t for t in texts if [x.span() for x in m._re.finditer(t.lower())] != m.spans(t)]
    assert len(texts) > 10 or source == "tricky"
    assert differing == []
    # found(), the classifier's path, reports the same matches, as written (a phrase
    # with no case-sensitive key may come back lowercased: its keys are the same)
    for t in texts:
        written = [t[a:b] for a, b in m.spans(t)]
        assert [f.lower() for f in m.found(t)] == [w.lower() for w in written]
        assert all(m.keys(f) == m.keys(w) for f, w in zip(m.found(t), written))
    assert sum(len(m.find(t)) for t in texts) > len(texts)   # the texts do name things


@pytest.mark.parametrize("odd", ["İstanbul", "\ud800"], ids=["longer-lowercased", "lone-surrogate"])
def test_text_the_fast_scan_cannot_take_still_matches(clf, odd):
    # "İ" lowercases to two characters (no shared positions); a lone surrogate is not
    # UTF-8 for the automaton: both go to the regex alone
    c = clf.classify(f"{odd} startup raises funding from OpenAI", "")
    assert "OpenAI" in c.companies


def test_a_long_running_classifier_forgets_spellings_without_changing_results(monkeypatch):
    """The scan remembers each spelling's phrase keys; past a limit it starts afresh
    (odd spellings must not grow a long-running bot's memory), between stories."""
    import feeds.scan
    texts = _corpus_texts()[:400]
    stories = [seed(), *zip(texts[0::2], texts[1::2])] + [(t, "") for t in TRICKY]
    first = Classifier()
    fresh = [first.classify(t, x) for t, x in stories]
    monkeypatch.setattr(feeds.scan, "MEMO_LIMIT", 5)
    clf = Classifier()
    assert [clf.classify(t, x) for t, x in stories * 2] == fresh * 2
    assert len(clf._scanner._terms_of) < 400   # it did start afresh
