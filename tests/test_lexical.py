"""Lexical: the headline's and lead's words as learned features, their reasons, their weights."""
from __future__ import annotations

import json

import pytest

from feeds.classify import Classifier, GazetteerError, load_gazetteer
from feeds.lexical import in_vocabulary, words

ACQUIRES = ("Microsoft acquires AI startup Inflection", "The deal brings its chatbot team over.")


# ---- words ------------------------------------------------------------------------------

@pytest.mark.parametrize("title, text, present, absent", [
    ("Alibaba CUTS Prices", "", {"alibaba", "cuts", "prices", "alibaba cuts", "cuts prices"}, {"Alibaba"}),
    ("Baidu raises $52bn, 13% more", "", {"00bn", "raises 00bn", "00"}, {"52bn", "13"}),
    ("OpenAI’s rival and Meta's model", "", {"openai", "openai rival", "meta", "meta model"}, {"s", "openai's"}),
    ("Read https://example.com/a-b now", "", {"read", "now", "read now"}, {"example", "https"}),
    ("Headline ends", "Lead starts here", {"ends", "lead", "lead starts"}, {"ends lead"}),
    ("阿里巴巴开源模型", "", {"阿里", "开源", "模型", "阿里 里巴"}, {"阿里巴巴开源模型"}),
    ("Qwen 阿里的Qwen模型", "", {"qwen", "阿里", "模型"}, set()),
    ("", "", set(), {""}),
])
def test_words_are_normalised_tokens_and_adjacent_pairs(title, text, present, absent):
    found = words(title, text)
    assert present <= found
    assert not absent & found


def test_words_read_only_the_lead_and_pairs_can_be_switched_off():
    text = "first words of the lead " + "filler " * 60 + "acquires"
    assert "acquires" not in words("Title", text, lead_chars=300)
    assert "acquires" in words("Title", text, lead_chars=len(text))
    assert "acquires" not in words("Title", "acquires", lead_chars=0)
    assert not any(" " in w for w in words("Microsoft acquires Inflection", "", bigrams=False))


@pytest.mark.parametrize("word, ok", [
    ("acquires", True), ("plans to", True), ("cuts prices", True), ("the", False), ("of the", False),
    ("verge", False), ("the verge", False), ("techcrunch", False), ("image", False), ("\n", False),
    ("ends \n", False),
])
def test_vocabulary_leaves_out_outlet_names_and_stopwords(word, ok):
    assert in_vocabulary(word) is ok


# ---- the learned layer with words ---------------------------------------------------------

def _model(tmp_path, weights: dict, **extra) -> Classifier:
    """A classifier whose learned layer is a small hand-written weights file."""
    doc = {"bias": -2.0, "threshold": 0.5, "lexical": {"bigrams": True, "lead_chars": 300},
           "weights": weights, **extra}
    (tmp_path / "m.json").write_text(json.dumps(doc), encoding="utf-8")
    user = tmp_path / "mine.toml"
    user.write_text(f'[model]\nweights = "{(tmp_path / "m.json").as_posix()}"\n', encoding="utf-8")
    return Classifier(load_gazetteer(user))


def test_words_that_moved_the_verdict_are_listed(tmp_path):
    clf = _model(tmp_path, {"w:acquires": 3.0, "w:chatbot": -0.5, "w:the": 0.01})
    c = clf.classify(*ACQUIRES)
    assert c.strategy, c.reasons
    words_listed = [r for r in c.reasons if r.startswith("word:")]
    assert words_listed == ['word:"acquires" +3.00', 'word:"chatbot" -0.50']   # strongest first; 0.01 is noise
    assert c.reasons[-1].startswith("verdict:strategy") and "p 0.62" in c.reasons[-1]   # -2 + 3 - 0.5 + 0.01
    assert not clf.classify("Microsoft buys AI startup Inflection", ACQUIRES[1]).strategy


def test_words_cannot_pass_a_story_that_is_not_about_ai(tmp_path):
    clf = _model(tmp_path, {"w:acquires": 9.0})
    c = clf.classify("Ford acquires a battery plant", "The carmaker said on Monday.")
    assert not c.strategy
    assert not any(r.startswith("word:") for r in c.reasons)
    assert any(r.startswith("gate:not about AI") for r in c.reasons)


def test_a_model_without_lexical_settings_ignores_words(tmp_path):
    clf = _model(tmp_path, {"w:acquires": 3.0}, lexical=None)
    c = clf.classify(*ACQUIRES)
    assert not c.strategy and not any(r.startswith("word:") for r in c.reasons)


def test_shipped_model_lists_features_and_model_off_lists_none(tmp_path):
    # The shipped model is cue features only (words did not help under CV on dev).
    story = ("OpenAI and Microsoft expand partnership with new multibillion-dollar investment",
             "Microsoft will invest billions in OpenAI as the two companies deepen their AI alliance.")
    c = Classifier().classify(*story)
    assert c.strategy and any(r.startswith("feature:") for r in c.reasons), c.reasons
    path = tmp_path / "mine.toml"
    path.write_text("[model]\nenabled = false\n", encoding="utf-8")
    off = Classifier(load_gazetteer(path)).classify(*story)
    assert off.strategy and not any(r.startswith(("word:", "feature:")) for r in off.reasons)
    assert off.reasons[-1].endswith("threshold 2.25)")


@pytest.mark.parametrize("doc, message", [
    ({"bias": -1, "weights": {"w:acquires": "high"}}, "weight of 'w:acquires' must be a finite number"),
    ({"bias": -1, "weights": {"rule-score": float("nan")}}, "must be a finite number"),
    ({"weights": {"rule-score": 1.0}}, "'bias'"),
    ({"bias": -1, "weights": {}, "threshold": 1.5}, "not a probability"),
    ({"bias": -1, "weights": {}, "lexical": {"bigrams": "yes", "lead_chars": 300}}, "lexical.bigrams"),
    ({"bias": -1, "weights": {}, "lexical": {"bigrams": True}}, "lexical.lead_chars"),
    ({"bias": True, "weights": {}}, "bias must be a finite number"),
])
def test_bad_weights_files_are_one_line_errors(tmp_path, doc, message):
    (tmp_path / "m.json").write_text(json.dumps(doc), encoding="utf-8")
    user = tmp_path / "mine.toml"
    user.write_text(f'[model]\nweights = "{(tmp_path / "m.json").as_posix()}"\n', encoding="utf-8")
    with pytest.raises(GazetteerError) as err:
        Classifier(load_gazetteer(user))
    text = str(err.value)
    assert text.startswith("classify: cannot load model weights") and message in text and "\n" not in text


# ---- the trainer -------------------------------------------------------------------------

def test_vocabulary_needs_several_items_and_outlets():
    from bench.trainer import vocabulary
    item = lambda words, outlet, gate=True: ({f"w:{w}": 1.0 for w in words} | {"rule-score": 1.0},  # noqa: E731
                                              1, gate, outlet)
    data = [item(["acquires", "rare", "verge", "one"], "A"), item(["acquires", "verge", "one"], "B"),
            item(["acquires", "verge", "one"], "A"), item(["rare"], "B"), item(["rare"], "C", gate=False),
            item(["one"], "A")]
    # "rare" is in 2 gate-passing items, "one" in 4 but "verge" is an outlet name
    assert vocabulary(data, min_docs=3, min_outlets=2) == {"w:acquires", "w:one"}
    assert vocabulary(data, min_docs=3, min_outlets=3) == set()
    assert vocabulary(data, min_docs=2, min_outlets=2) == {"w:acquires", "w:one", "w:rare"}


def test_trainer_penalises_words_apart_from_cues():
    from bench.trainer import fit, prob
    xs = ([{"pricing@title": 1.0, "w:cuts": 1.0}] * 15 + [{"w:cuts": 1.0}] * 5
          + [{"cue:howto@title": 1.0}] * 20)
    ys = [1] * 15 + [1] * 5 + [0] * 20
    w_loose, b = fit(xs, ys, lam=0.3, lam_words=0.3)
    w_tight, b_tight = fit(xs, ys, lam=0.3, lam_words=30.0)
    assert abs(w_tight["w:cuts"]) < abs(w_loose["w:cuts"]) / 3
    assert w_tight["pricing@title"] > w_loose["pricing@title"]   # the cue takes over what words lost
    assert prob(w_tight, b_tight, {"pricing@title": 1.0, "w:cuts": 1.0}) > 0.8


def test_label_files_are_read_as_labellers_write_them(tmp_path):
    """Comment lines, a missing reason, Windows line ends: a second labeller's file reads."""
    from bench.eval_classify import load_labels
    path = tmp_path / "labels.tsv"
    path.write_bytes(b"# link\tlabel\treason\r\nhttps://a.invalid/1\t1\tAI funding\r\n"
                     b"https://a.invalid/2\t0\r\n\r\nhttps://a.invalid/3\t0\ttabs\tin reason\n")
    assert load_labels(path) == [("https://a.invalid/1", 1, "AI funding"), ("https://a.invalid/2", 0, ""),
                                 ("https://a.invalid/3", 0, "tabs\tin reason")]


def test_training_refuses_unknown_sets(tmp_path, capsys):
    from bench.eval_classify import main
    corpus = tmp_path / "items.jsonl"
    corpus.write_text("", encoding="utf-8")
    assert main(["--corpus", str(corpus), "--train", "--fit-on", "dev,holdout"]) == 2
    assert "--fit-on takes names of labelled sets" in capsys.readouterr().err
