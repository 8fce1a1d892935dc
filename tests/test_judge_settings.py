"""Which verdicts the judge is asked for (the gate margin, the classifier's
probability), the settings that turn it on and tune it, and the bot scoring gated stories
only for a judge that asks."""
from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from feeds.judge import GATE_MARGIN, needs_judging, parse_verdict
from feeds.models import Classification
from tests.judge_kit import THRESHOLD, offline, LLM, app_with


pytestmark = pytest.mark.usefixtures("close_llms")   # see tests/conftest.py


@pytest.mark.parametrize("c,judge", [
    (offline(0.80), True),
    (offline(0.45), True),
    (offline(0.26), True),
    (offline(0.24), False),
    (offline(0.90, gate=True), True),             # a move the AI gate stopped: is it AI?
    (offline(0.26, gate=True), True),
    (offline(0.24, gate=True), False),
    (Classification(strategy=True, reasons=("veto:soup (negative weight >= 9)",
                                            "verdict:not strategy (score 9, veto 'soup')")),
     False),
    (Classification(strategy=True, reasons=("verdict:strategy (score 4, threshold 3)",)), True),
    (Classification(strategy=False, reasons=("verdict:not strategy (score 2, threshold 3)",)),
     False),
], ids=["past", "at", "within-margin", "beyond-margin", "gate", "gate-within", "gate-beyond",
        "veto", "rules-yes", "rules-no"])
def test_which_verdicts_are_judged(c, judge):
    assert needs_judging(c, 0.20, 0.20) is judge


@pytest.mark.parametrize("gate_margin, judged", [(None, False), (0.0, False), (0.30, True)])
def test_the_gate_margin_is_its_own(gate_margin, judged):
    """A story the AI gate stopped at p 0.20 (threshold 0.45), with a wide margin for the
    rest: only the gate margin says whether the model is asked."""
    assert needs_judging(offline(0.20, gate=True), 0.40, gate_margin) is judged
    assert needs_judging(offline(0.20), 0.40, gate_margin)


@pytest.mark.parametrize("title,text,about_ai", [
    ("Alibaba cuts prices of its Qwen AI models by 85% to win enterprise customers",
     "Alibaba Cloud said the AI model price cut applies to enterprise API customers.", True),
    # chips and export licences open the AI gate to the learned layer ("gate:near AI"):
    # exactly the stories the offline layer is least sure of
    ("Nvidia and AMD agree to pay a share of China chip revenue for export licences",
     "The chipmakers will pay the government part of their data-centre chip sales.", True),
    # a funding round of a company the gazetteer does not know: the AI gate stops it,
    # and only the model can tell whether the company is an AI one
    ("Electric car maker raises $2 billion in new funding round",
     "The EV startup will use the money to expand its factory.", False),
])
def test_the_classifier_gives_the_judge_its_probability(title, text, about_ai):
    from feeds.classify import Classifier, load_gazetteer
    c = Classifier(load_gazetteer()).classify(title, text)
    assert c.about_ai is about_ai, c.reasons
    assert 0 <= c.probability <= 1 and c.threshold == pytest.approx(THRESHOLD)
    assert c.strategy is (about_ai and c.probability >= c.threshold)
    assert needs_judging(c, 1.0, None) is about_ai   # no gate margin: the gate's no stands
    assert needs_judging(c, 1.0, 1.0)                # the widest: every scored story


@pytest.mark.parametrize("env,enabled", [
    ({}, False),                                  # no LLM: exactly today's pipeline
    (LLM, True),                                  # on with an LLM
    ({**LLM, "AINEWS_LLM_JUDGE": "0"}, False),
    ({**LLM, "AINEWS_LLM_JUDGE": "on"}, True),
], ids=["no-llm", "llm", "off", "on"])
async def test_the_judge_is_on_with_an_llm_unless_turned_off(tmp_path, env, enabled):
    async with app_with(env, tmp_path) as app:
        assert (app.judge is not None) is enabled
        if enabled:   # one client, one rest: the condenser's
            assert app.judge.llm is app.llm


@pytest.mark.parametrize("raw, margin", [(None, GATE_MARGIN), ("off", None), ("0.3", 0.3)])
async def test_the_gate_margin_setting_reaches_the_judge(tmp_path, raw, margin):
    env = dict(LLM) if raw is None else {**LLM, "AINEWS_LLM_JUDGE_GATE_MARGIN": raw}
    async with app_with(env, tmp_path) as app:
        assert app.judge.gate_margin == margin


@pytest.mark.parametrize("env,words", [
    ({"AINEWS_LLM_JUDGE": "1"}, "AINEWS_LLM_JUDGE=1 needs an LLM"),
    ({**LLM, "AINEWS_LLM_JUDGE": "maybe"}, "AINEWS_LLM_JUDGE='maybe'"),
    ({**LLM, "AINEWS_LLM_JUDGE_HOURLY_CAP": "-1"}, "AINEWS_LLM_JUDGE_HOURLY_CAP='-1'"),
    ({**LLM, "AINEWS_LLM_JUDGE_MARGIN": "2"}, "AINEWS_LLM_JUDGE_MARGIN='2'"),
    ({**LLM, "AINEWS_LLM_JUDGE_GATE_MARGIN": "never"}, "AINEWS_LLM_JUDGE_GATE_MARGIN='never'"),
], ids=["on-without-llm", "not-bool", "cap", "margin", "gate-margin"])
def test_bad_judge_settings_are_one_line_errors(env, words):
    with pytest.raises(ConfigError) as e:
        load_settings(env, dotenv_path=None)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_a_verdict_s_reason_loses_invisible_characters():
    # The reason is stored and shown in lookups' JSON: the model's text is untrusted too.
    answer = '{"strategy": true, "reason": "chip \\u001b[2J\\u202edeal\\u200b"}'
    assert parse_verdict(answer) == (True, "chip [2Jdeal")


GATED = ("Electric car maker raises $2 billion in new funding round",
         "The EV startup will use the money to expand its factory.")
ABOUT_AI = ("Alibaba cuts prices of its Qwen AI models by 85% to win enterprise customers",
            "Alibaba Cloud said the AI model price cut applies to enterprise API customers.")


def test_without_a_judge_asking_the_gate_decides_alone():
    """No judge asks about what the AI gate stopped: such a story gets no probability
    (nothing would read it), and `why` says the gate decided, not "p 0.6, threshold
    0.45"; the verdict, companies and topics are the same either way."""
    from feeds.classify import Classifier, load_gazetteer
    gz = load_gazetteer()
    scored, alone = Classifier(gz), Classifier(gz, score_gated=False)
    c, d = scored.classify(*GATED), alone.classify(*GATED)
    assert c.probability is not None and d.probability is None
    assert (d.strategy, d.companies, d.topics, d.about_ai) == (c.strategy, c.companies, c.topics, False)
    assert "not about AI)" in d.reasons[-1] and not any(r.startswith("feature:") for r in d.reasons)
    assert not needs_judging(d, 1.0, 1.0)
    assert alone.classify(*ABOUT_AI) == scored.classify(*ABOUT_AI)   # past the gate: scored


@pytest.mark.parametrize("env,scores_gated", [
    ({}, False),                                          # no LLM: no judge
    (LLM, True),                                          # the judge asks within 0.20
    ({**LLM, "AINEWS_LLM_JUDGE_GATE_MARGIN": "off"}, False),
    ({**LLM, "AINEWS_LLM_JUDGE": "0"}, False),
], ids=["no-llm", "judge", "gate-margin-off", "judge-off"])
async def test_the_bot_scores_gated_stories_only_for_a_judge_that_asks(tmp_path, env, scores_gated):
    async with app_with(env, tmp_path) as app:
        c = app.classifier.classify(*GATED)
        assert (c.probability is not None) is scores_gated
