"""The LLM condenser, driven through the real openai client against a fake server."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace

import pytest

from feeds.judge import SYSTEM as JUDGE_SYSTEM, Judge, parse_verdict
from feeds.llm import LLMCondenser, LLMRejected, validate
from feeds.models import Classification, Story
from feeds.same_event import SYSTEM as SAME_EVENT_SYSTEM
from tests.llm_kit import FALLBACK, GOOD, STORY, TEXT, ZH_BRIEF, ZH_STORY, condenser, stories

pytestmark = pytest.mark.usefixtures("close_llms")   # see tests/conftest.py

async def test_valid_answer_becomes_the_brief(fake_llm):
    fake_llm.script = [("json", GOOD)]
    brief = await condenser(fake_llm).condense(STORY, FALLBACK)
    assert brief.headline == GOOD["headline"]
    assert list(brief.bullets) == GOOD["bullets"]
    assert brief.condenser == "llm:qwen-plus"
    req = fake_llm.requests[0]
    assert req["auth"] == "Bearer test-key" and req["body"]["model"] == "qwen-plus"
    assert "Qwen" in req["body"]["messages"][1]["content"]


async def test_a_title_as_long_as_its_feed_is_sent_and_checked_in_part(fake_llm):
    # A feed may carry a title of megabytes: it was sent whole to the model, and the
    # grounding check read all of it on the event loop (seconds per megabyte).
    from dataclasses import replace
    long = replace(STORY, title=STORY.title + " 腾讯" * 1_000_000)
    fake_llm.script = [("json", GOOD)]
    brief = await condenser(fake_llm).condense(long, FALLBACK)
    assert brief.condenser == "llm:qwen-plus"
    sent = fake_llm.requests[0]["body"]["messages"][1]["content"]
    assert STORY.title in sent and len(sent) < len(TEXT) + 1_000


def _with(**changes) -> dict:
    return {**GOOD, **changes}


@pytest.mark.parametrize("script", [
    [("status", 429)],
    [("status", 500)],
    [("status", 401)],
    [("raw", "Sure! Here is your summary: Alibaba cut prices.")],
    [("raw", "[1, 2, 3]")],
    [("json", _with(bullets=["only one"]))],
    [("json", _with(bullets=["a", "", "c"]))],
    [("json", _with(why_it_matters=""))],
    [("json", _with(headline="x" * 500))],
    [("json", _with(bullets=["Alibaba cut prices by 60%.", GOOD["bullets"][1], GOOD["bullets"][2]]))],
    [("json", _with(bullets=["Microsoft joined the price war.", GOOD["bullets"][1], GOOD["bullets"][2]]))],
    # A figure or name hidden inside a longer one in the source is still invented.
    [("json", _with(bullets=["Alibaba cut prices by 8%.", GOOD["bullets"][1], GOOD["bullets"][2]]))],
    [("json", _with(bullets=["Alibaba cut prices by 5%.", GOOD["bullets"][1], GOOD["bullets"][2]]))],
    [("json", _with(bullets=["Tencent Cloud matched the cut.", GOOD["bullets"][1], "Ten rivals."]))],
    [("json", _with(why_it_matters="Alibaba could lose $3 billion a year."))],
    [("json", _with(why_it_matters="Microsoft will have to follow."))],
], ids=["429", "500", "401", "prose", "json-list", "one-bullet", "empty-bullet", "empty-why",
        "long-headline", "invented-figure", "invented-name", "figure-inside-a-figure",
        "figure-inside-a-figure-end", "name-inside-a-word", "invented-figure-in-why",
        "invented-name-in-why"])
async def test_every_failure_falls_back_to_the_extractive_brief(fake_llm, script):
    fake_llm.script = script
    assert await condenser(fake_llm).condense(STORY, FALLBACK) == FALLBACK


TEASER = "Alibaba Cloud cut prices of its Qwen models by 85% on Tuesday."
ZH_TEASER = "阿里巴巴周二表示，将把通义千问模型的价格下调85%。"


@pytest.mark.parametrize("text, bullets, note", [
    (TEASER, ["Qwen models now cost 85% less."], "is 1 sentence: give at most 1 bullet,"),
    (TEASER, [], "is 1 sentence: give at most 1 bullet,"),   # it holds the headline only
    (ZH_TEASER, ["企业调用通义千问的价格下调85%。"], "is 1 sentence: give at most 1 bullet,"),
    (TEASER + " Baidu and Tencent are expected to respond.",
     ["Qwen prices fall 85%.", "Baidu and Tencent are expected to respond."],
     "is 2 sentences: give at most 2 bullets,"),
    ("", [], "is its title alone: give at most 0 bullets,"),
], ids=["one-sentence", "one-sentence-none", "chinese-one-sentence", "two-sentences",
        "title-only"])
async def test_a_teaser_is_briefed_with_as_many_bullets_as_it_has_facts(fake_llm, text,
                                                                      bullets, note):
    # Most feeds carry a teaser of a sentence or two, and the model was told to give
    # exactly three facts: one that gave what the teaser holds was rejected, and one
    # that padded it to three (the headline thrice reworded) passed.
    story = replace(STORY, text=text, summary=text,
                    title=STORY.title if text != ZH_TEASER else "阿里巴巴下调通义千问价格85%")
    answer = {**(GOOD if text != ZH_TEASER else ZH_BRIEF), "bullets": bullets}
    fake_llm.script = [("json", answer)]
    brief = await condenser(fake_llm).condense(story, FALLBACK)
    assert brief.condenser == "llm:qwen-plus" and list(brief.bullets) == bullets
    asked = fake_llm.requests[0]["body"]["messages"][1]["content"]
    assert note in asked


async def test_timeout_falls_back(fake_llm):
    fake_llm.script = [("sleep", 3.0), ("json", GOOD)]
    assert await condenser(fake_llm, timeout=0.5).condense(STORY, FALLBACK) == FALLBACK


async def test_code_fenced_json_is_accepted(fake_llm):
    import json
    fake_llm.script = [("raw", "```json\n" + json.dumps(GOOD) + "\n```")]
    brief = await condenser(fake_llm).condense(STORY, FALLBACK)
    assert brief.condenser == "llm:qwen-plus"


async def test_hourly_cap_stops_calls_then_recovers(fake_llm):
    now = [0.0]
    fake_llm.script = [("json", GOOD)]
    llm = condenser(fake_llm, hourly_cap=2, clock=lambda: now[0])
    results = [await llm.condense(STORY, FALLBACK) for _ in range(3)]
    assert [r.condenser for r in results] == ["llm:qwen-plus", "llm:qwen-plus", "extractive"]
    assert len(fake_llm.requests) == 2
    now[0] = 3601.0
    assert (await llm.condense(STORY, FALLBACK)).condenser == "llm:qwen-plus"


async def test_calls_in_flight_are_capped_for_all_callers(fake_llm):
    # Every feed polled at once briefs (and judges) its new stories at once: dozens of
    # requests in flight timed a local model out, and every brief fell back.
    fake_llm.script, fake_llm.delay = [("json", GOOD)], 0.1
    llm = condenser(fake_llm, concurrency=2)
    briefs = await asyncio.gather(*(llm.condense(s, FALLBACK) for s in stories(6)))
    assert fake_llm.max_in_flight == 2 and len(fake_llm.requests) == 6
    assert {b.condenser for b in briefs} == {"llm:qwen-plus"}


def _from(feed: str, i: int) -> Story:
    return replace(STORY, id=f"{feed}{i}", url=f"https://{feed}.example/{i}",
                   feed_url=f"https://{feed}.example/feed", title=f"{STORY.title} ({feed}{i})")


async def test_the_feeds_briefs_take_turns_for_the_model(fake_llm):
    # A poll queues every new story's brief for the model at once: one feed's burst
    # filled the queue, and another feed's stories, read a moment later, waited behind
    # all of it and came past their deadline. Each feed's next brief in turn instead.
    fake_llm.script, fake_llm.delay = [("json", GOOD)], 0.3
    llm = condenser(fake_llm, concurrency=1)
    first = [asyncio.ensure_future(llm.condense(_from("a", i), FALLBACK)) for i in range(4)]
    while not fake_llm.in_flight:   # a0 is sent, a1-a3 wait
        await asyncio.sleep(0.01)
    await asyncio.gather(*first, *(llm.condense(_from("b", i), FALLBACK) for i in range(2)))
    sent = [r["body"]["messages"][1]["content"].partition("\n")[0] for r in fake_llm.requests]
    assert [t.rsplit("(", 1)[1].rstrip(")") for t in sent] == ["a0", "b0", "a1", "b1", "a2", "a3"]


JUDGED = Story(id="v1", url="https://example.com/v", title=STORY.title, text=TEXT,
               source="Example", feed_url="", published=STORY.published,
               classification=Classification(strategy=True))   # the judge is asked


def _by_kind(body: dict) -> tuple:
    """A valid answer to whatever was asked: a verdict, a same-event answer or a brief."""
    if body["messages"][0]["content"] == JUDGE_SYSTEM:
        return "json", {"strategy": True, "reason": "a price war"}
    if body["messages"][0]["content"] == SAME_EVENT_SYSTEM:
        return "json", {"same": True, "reason": "one price cut"}
    return "json", GOOD


def _kinds(fake_llm) -> list[str]:
    return ["verdict" if r["body"]["messages"][0]["content"] == JUDGE_SYSTEM else "brief"
            for r in fake_llm.requests]


async def test_a_verdict_gets_the_next_slot_before_briefs_queued_for_one(fake_llm):
    # A feed's burst of new stories queued their briefs for the model while another
    # feed's stories waited for their verdicts, which decide whether a story is posted
    # at all (a brief only how it reads): behind four briefs the verdict came past its
    # deadline, and the offline verdict stood.
    fake_llm.script, fake_llm.delay = [("fn", _by_kind)], 0.5
    llm = condenser(fake_llm, concurrency=1)
    briefs = [asyncio.ensure_future(llm.condense(s, FALLBACK)) for s in stories(5)]
    while not fake_llm.in_flight:   # the first brief is sent, the others wait
        await asyncio.sleep(0.01)
    # a deadline of four briefs and more: the order of the calls tells, not the clock
    (judged,) = await Judge(llm, deadline=10.0).judge_all([JUDGED])
    await asyncio.gather(*briefs)
    assert "llm: strategy (a price war)" in judged.classification.reasons
    assert _kinds(fake_llm) == ["brief", "verdict"] + ["brief"] * 4


async def _answered(kind: str, llm: LLMCondenser, judge: Judge) -> bool:
    """One call of `kind`: whether the model's answer was used."""
    if kind == "brief":
        return (await llm.condense(stories(2)[1], FALLBACK)).condenser != "extractive"
    if kind == "verdict":
        (judged,) = await judge.judge_all([JUDGED])
        return judged != JUDGED
    return bool(await judge.same_events([(JUDGED, [(1, STORY)])]))


# (LLM_HOURLY_CAP, AINEWS_LLM_JUDGE_HOURLY_CAP): one more call of the kind spends the
# last (same-event questions may take three quarters of the judge's cap, rounded down)
ONE_CALL_LEFT = pytest.mark.parametrize("kind,caps", [
    ("brief", (2, 120)), ("verdict", (120, 1)), ("same-event", (120, 2))])


@ONE_CALL_LEFT
async def test_a_call_never_sent_costs_none_of_the_hourly_cap(fake_llm, kind, caps):
    # The cap was charged before the wait for a slot: a call that timed out waiting was
    # never sent, yet it spent the hour's calls, and the next story went extractive (or
    # kept the offline verdict, or its own post) until the hour was over.
    fake_llm.script = [("sleep", 3.0), ("fn", _by_kind)]
    llm = condenser(fake_llm, concurrency=1, deadline=0.5, hourly_cap=caps[0])
    judge = Judge(llm, hourly_cap=caps[1], deadline=0.5)
    # a brief takes the one slot past every deadline: the call queued behind it is not sent
    slow, late = await asyncio.gather(llm.condense(STORY, FALLBACK), _answered(kind, llm, judge))
    assert slow == FALLBACK and not late and len(fake_llm.requests) <= 1
    # Only the cap is under test now: the next call is given time to be answered on a
    # loaded machine.
    llm.deadline = judge.deadline = 30.0
    assert await _answered(kind, llm, judge)


@ONE_CALL_LEFT
async def test_a_call_handed_its_slot_as_its_deadline_ends_is_not_sent(fake_llm, kind, caps):
    # Calls queued together reach their deadlines together: a slow model's call, cut off
    # at its deadline, handed its slot to one with a moment of its own deadline left.
    # With no answer measured yet (a model slower than every deadline never gives one)
    # nothing said that was too late: it was charged and sent, then cut off in turn.
    # The test above met it now and then on a loaded machine, its two deadlines ending
    # milliseconds apart; here the waiting call's ends 0.1 s after the slot frees.
    fake_llm.script, fake_llm.delay = [("fn", _by_kind)], 1.0   # past every deadline
    llm = condenser(fake_llm, concurrency=1, deadline=0.5, hourly_cap=caps[0])
    judge = Judge(llm, hourly_cap=caps[1])
    now = asyncio.get_running_loop().time
    frees = now() + 0.5
    slow = asyncio.ensure_future(llm.condense(STORY, FALLBACK))
    while not fake_llm.in_flight:
        await asyncio.sleep(0.01)
    llm.deadline = judge.deadline = frees + 0.1 - now()
    assert not await _answered(kind, llm, judge)
    assert await slow == FALLBACK
    llm.deadline = judge.deadline = 30.0   # the hour's last call is still there
    assert await _answered(kind, llm, judge)
    assert fake_llm.arrived == 2           # the slow call and this one: none between


async def _two_at_once(kind: str, llm: LLMCondenser, judge: Judge) -> list[bool]:
    """Two calls of `kind` at once: whether each one's answer was used."""
    two = [replace(JUDGED, id=f"v{i}", url=f"https://example.com/v{i}") for i in (1, 2)]
    if kind == "brief":
        briefs = await asyncio.gather(*(llm.condense(s, FALLBACK) for s in two))
        return [b.condenser != "extractive" for b in briefs]
    if kind == "verdict":
        return [j != s for j, s in zip(await judge.judge_all(two), two)]
    found = await judge.same_events([(s, [(1, STORY)]) for s in two])
    return [s.id in found for s in two]


@pytest.mark.parametrize("kind", ["brief", "verdict", "same-event"])
async def test_a_call_whose_turn_comes_too_late_to_be_answered_is_not_sent(fake_llm, kind):
    # A call that waited for its slot was sent however little of its deadline was left:
    # charged to the hourly cap, billed (or worked on by a local GPU), then cut off by
    # the deadline, its answer never used; each such call handed its slot to the next
    # one as doomed, and a burst could drain the hour's cap. Once the model's answers
    # are known to take longer than the time left, the call is not sent.
    fake_llm.script, fake_llm.delay = [("fn", _by_kind)], 2.0
    llm = condenser(fake_llm, concurrency=1, deadline=3.0)   # a turn at 2 s leaves 1 s
    judge = Judge(llm, deadline=3.0)
    assert await _two_at_once(kind, llm, judge) == [True, False]
    assert len(fake_llm.requests) == 1
    assert len((llm if kind == "brief" else judge).cap.calls) == 1
    # a call with no deadline is always sent, whatever the answers take
    what = {"same-event": "same-event question"}.get(kind, kind)
    assert await llm.ask(JUDGE_SYSTEM, "ping", temperature=0.0, what=what) is not None


async def test_an_exhausted_cap_falls_back_without_waiting_for_a_slot(fake_llm):
    fake_llm.script = [("sleep", 3.0), ("json", GOOD)]
    llm = condenser(fake_llm, concurrency=1, hourly_cap=1)
    slow = asyncio.ensure_future(llm.condense(STORY, FALLBACK))   # the hour's one call
    while not fake_llm.in_flight:
        await asyncio.sleep(0.01)
    assert await llm.condense(stories(2)[1], FALLBACK) == FALLBACK
    assert not slow.done()   # answered while the slot was still taken
    slow.cancel()


async def test_invisible_characters_in_an_answer_are_dropped(fake_llm):
    # The model's text reaches chat and terminals like feed text: no ANSI escapes, no
    # bidi override re-ordering a line, no zero-width space hiding a mention.
    fake_llm.script = [("json", _with(
        headline="Alibaba cuts \x1b[K Qwen\u202e model prices by 85%",
        bullets=["Alibaba Cloud cut Qwen prices by 85%.\u2066",
                 "Enterprise customers in China pay less for API calls.",
                 "Baidu and Tencent are expected to @every\u200bone respond."]))]
    brief = await condenser(fake_llm).condense(STORY, FALLBACK)
    assert brief.condenser == "llm:qwen-plus"
    assert brief.headline == "Alibaba cuts [K Qwen model prices by 85%"
    assert brief.bullets[0] == GOOD["bullets"][0]
    assert "@everyone" in brief.bullets[2]   # one word again: the renderers escape it


async def test_an_endpoint_quoting_the_key_does_not_put_it_in_the_log(fake_llm, caplog):
    caplog.set_level(logging.DEBUG)
    fake_llm.script = [("echo-key", 401)]
    llm = LLMCondenser(fake_llm.base_url, "sk-live-0123456789abcdef", "qwen-plus")
    assert await llm.condense(STORY, FALLBACK) == FALLBACK
    assert "Incorrect API key provided: Bearer [LLM_API_KEY]" in caplog.text
    assert "0123456789abcdef" not in caplog.text


def _llm_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "ainews.llm" and r.levelno >= logging.WARNING]


@pytest.mark.parametrize("script,words", [
    ([("status", 401)], "check LLM_API_KEY"),              # wrong key
    ([("status", 404)], "check LLM_MODEL"),                # wrong model name
    ([("status", 503)], "InternalServerError"),
    ([("sleep", 3.0), ("json", GOOD)], "slower than LLM_TIMEOUT"),   # slow server
    # a proxy's page sent as JSON: the endpoint is not the API
    ([("body", "<html>502 Bad Gateway</html>")], "check that LLM_BASE_URL"),
], ids=["wrong-key", "wrong-model", "5xx", "slow", "garbage-body"])
async def test_a_failing_endpoint_is_reported_once_and_rested(fake_llm, caplog, script, words):
    # Each story used to pay the failure again (a slow server: LLM_TIMEOUT per story,
    # one after another, holding up the posts) and log it again, line after line.
    caplog.set_level(logging.INFO, logger="ainews.llm")
    now = [0.0]
    fake_llm.script = script
    llm = condenser(fake_llm, timeout=0.5, clock=lambda: now[0])
    briefs = [await llm.condense(s, FALLBACK) for s in stories(5)]
    assert briefs == [FALLBACK] * 5
    assert len(fake_llm.requests) == 1
    warnings = _llm_warnings(caplog)
    assert len(warnings) == 1 and words in warnings[0] and "extractive" in warnings[0]
    # After the rest it tries again, and says so once it answers.
    fake_llm.script = [("json", GOOD)]
    now[0] = 3600.0
    assert (await llm.condense(STORY, FALLBACK)).condenser == "llm:qwen-plus"
    assert any("answers again" in r.getMessage() for r in caplog.records)


async def test_an_endpoint_still_failing_after_its_rest_is_not_reported_again(fake_llm, caplog):
    now = [0.0]
    fake_llm.script = [("status", 401)]
    llm = condenser(fake_llm, clock=lambda: now[0])
    for step in range(4):
        now[0] = step * 4000.0
        assert await llm.condense(STORY, FALLBACK) == FALLBACK
    assert len(fake_llm.requests) == 4 and len(_llm_warnings(caplog)) == 1


async def test_answers_rejected_alike_are_reported_once(fake_llm, caplog):
    # A model that never answers in JSON: every story is asked (the next may pass),
    # but the log says it once, not per story.
    fake_llm.script = [("raw", "Sure! Here is your summary: Alibaba cut prices.")]
    llm = condenser(fake_llm)
    assert [await llm.condense(s, FALLBACK) for s in stories(4)] == [FALLBACK] * 4
    assert len(fake_llm.requests) == 4
    warnings = _llm_warnings(caplog)
    assert len(warnings) == 1 and "not JSON" in warnings[0]


def _invented(i: int) -> list[str]:
    """Bullets naming what the story never gave, different each time: a page of a site
    it names (the address holds an apostrophe: its repr is double-quoted) and a name."""
    name = "Zorb" + "".join(chr(97 + int(d)) for d in str(i))
    return [f"Read more at https://qwen.example/o'neil-{i}.", f"{name} said prices fall."]


def _brief_saying(bullet: str) -> dict:
    return dict(GOOD, bullets=[bullet, *GOOD["bullets"][1:]])


def _verdict_keys(i: int) -> str:
    return json.dumps({"strategy": True, "reason": "a price war", f"{i} o'clock": 1})


SITE = TEXT + " Prices are listed at https://qwen.example/."


@pytest.mark.parametrize("reject", [
    lambda i: validate(_brief_saying(_invented(i)[0]), SITE),
    lambda i: validate(_brief_saying(_invented(i)[1]), SITE),
    lambda i: parse_verdict(_verdict_keys(i)),
], ids=["web-address", "name", "verdict-keys"])
def test_rejections_alike_are_one_kind_whatever_they_name(caplog, reject):
    # Each hallucinated specific was a new "said once" key, kept for the life of the
    # process (and a new warning): the kind of rejection is the key, not its text.
    llm = LLMCondenser("http://127.0.0.1:9/v1", "", "m", clock=lambda: 0.0)
    for i in range(200):
        with pytest.raises(LLMRejected) as e:
            reject(i)
        llm.rejected(STORY, e.value)
    assert len(llm.endpoint.reported) == 1
    assert len(_llm_warnings(caplog)) == 1


VERDICT = {"strategy": True, "reason": "a price war"}


@pytest.mark.parametrize("kw,brief_cap,verdict_cap", [
    ({}, 4096, 2048),
    ({"max_tokens": 1000}, 1000, 500),
    ({"max_tokens": 0}, None, None),    # LLM_MAX_TOKENS=0: no cap sent
], ids=["default", "set", "no-cap"])
async def test_every_answer_is_capped(fake_llm, kw, brief_cap, verdict_cap):
    # Uncapped, a model that loops generates until its context is full: billed, or
    # holding a local GPU long after the brief's deadline gave up on it.
    fake_llm.script = [("json", GOOD), ("json", VERDICT)]
    llm = condenser(fake_llm, **kw)
    assert (await llm.condense(STORY, FALLBACK)).condenser == "llm:qwen-plus"
    judged = await Judge(llm).judge(STORY)
    assert "llm: strategy (a price war)" in judged.classification.reasons
    assert [r["body"].get("max_tokens") for r in fake_llm.requests] == [brief_cap, verdict_cap]


@pytest.mark.parametrize("content", [
    json.dumps(GOOD)[:150],                          # a brief longer than the cap
    "<think>\nThe article says Alibaba cut prices", # reasoning past the cap
    "",                                              # hidden reasoning took it all (OpenAI's o3)
    json.dumps(GOOD) + "\n" * 4000,                  # a model that loops after its answer
], ids=["half-a-brief", "reasoning", "empty", "loops-after-the-answer"])
async def test_an_answer_cut_off_at_the_cap_is_rejected_and_said_once(fake_llm, caplog,
                                                                      content):
    fake_llm.script = [("cut", content)]
    llm = condenser(fake_llm)
    assert [await llm.condense(s, FALLBACK) for s in stories(3)] == [FALLBACK] * 3
    story = STORY.with_classification(Classification(strategy=True, score=4.0))
    assert await Judge(llm).judge(story) == story   # the offline verdict stands
    assert len(fake_llm.requests) == 4               # it answers: no rest
    (warning,) = _llm_warnings(caplog)
    assert "cut off at its token cap (4096 tokens): raise LLM_MAX_TOKENS" in warning


@pytest.mark.parametrize("content", ["", None, '{"headline": "Alibaba cuts'],
                         ids=["empty", "null", "part-of-a-brief"])
async def test_an_answer_stopped_by_a_content_filter_is_said_so(fake_llm, caplog, content):
    # Azure OpenAI and others stop an answer their filter flags (finish_reason
    # "content_filter"): the log said "answer is empty" or "answer is not JSON", as if
    # the model or the prompt were at fault. It answers: the endpoint does not rest.
    fake_llm.script = [("filtered", content)]
    llm = condenser(fake_llm)
    assert [await llm.condense(s, FALLBACK) for s in stories(2)] == [FALLBACK] * 2
    assert len(fake_llm.requests) == 2
    (warning,) = _llm_warnings(caplog)
    assert "stopped by the provider's content filter" in warning


async def test_the_hourly_cap_is_reported_once_per_hour(fake_llm, caplog):
    caplog.set_level(logging.INFO, logger="ainews.llm")
    now = [0.0]
    llm = condenser(fake_llm, hourly_cap=1, clock=lambda: now[0])
    for _ in range(4):
        await llm.condense(STORY, FALLBACK)
    now[0] = 3601.0
    for _ in range(3):
        await llm.condense(STORY, FALLBACK)
    capped = [r for r in caplog.records if "hourly cap" in r.getMessage()]
    assert len(capped) == 2


@pytest.mark.parametrize("kind,cap", [("brief", "LLM_HOURLY_CAP"),
                                      ("verdict", "AINEWS_LLM_JUDGE_HOURLY_CAP")])
async def test_a_restart_goes_on_with_the_hour_s_calls_spent(tmp_path, fake_llm, kind, cap):
    # The caps were counted in memory: a bot restarted by its supervisor after a crash
    # (the judge runs before stories are stored, so each start judged them again), or a
    # cron's `run --once`, began each with the whole hour unspent, far past the cap.
    from bot.app import App
    from bot.config import load_settings
    fake_llm.script = [("fn", _by_kind)]
    settings = load_settings(environ={
        "AINEWS_DB": str(tmp_path / "a.db"), "LLM_BASE_URL": fake_llm.base_url,
        "LLM_MODEL": "qwen-plus", cap: "1"}, dotenv_path=None)
    answered = []
    for _start in range(2):
        app = App(settings)
        try:
            answered.append(await _answered(kind, app.llm, app.judge))
        finally:
            app.close()
    assert answered == [True, False] and len(fake_llm.requests) == 1


async def test_calls_kept_from_an_earlier_start_are_forgotten_after_the_hour(tmp_path,
                                                                              fake_llm):
    from datetime import datetime, timedelta, timezone
    from storage.store import Store
    now = [datetime(2026, 12, 1, 9, tzinfo=timezone.utc)]
    store = Store(tmp_path / "a.db", clock=lambda: now[0])
    fake_llm.script = [("json", GOOD)]
    briefs = []
    for wait in (0, 59 * 60, 61):   # a start now, one 59 minutes later, one past the hour
        now[0] += timedelta(seconds=wait)
        llm = condenser(fake_llm, hourly_cap=1)
        llm.cap.keep_in(store, "llm")
        briefs.append((await llm.condense(STORY, FALLBACK)).condenser)
    assert briefs == ["llm:qwen-plus", "extractive", "llm:qwen-plus"]
    assert store.db.execute("SELECT count(*) FROM llm_calls").fetchone()[0] == 1
    store.close()


async def test_unreachable_server_falls_back(caplog):
    llm = LLMCondenser("http://127.0.0.1:9/v1", "k", "m", timeout=2)
    assert await llm.condense(STORY, FALLBACK) == FALLBACK
    assert "check that LLM_BASE_URL is reachable. Briefs" in " ".join(_llm_warnings(caplog))


async def test_names_and_figures_from_the_title_count_as_the_story_s(fake_llm):
    # The model is shown the title with the text: a teaser's text often names no one.
    teaser = Story(id="s2", url="https://example.com/b", title="Tencent cuts Hunyuan prices by 30%",
                   text="The company said enterprise customers would pay less for API calls. "
                        "Rivals are expected to respond. Analysts expect margins to shrink.",
                   source="Example", feed_url="", published=STORY.published)
    fake_llm.script = [("json", {
        "headline": "Tencent cuts Hunyuan model prices by 30%",
        "bullets": ["Tencent cut Hunyuan prices by 30%.",
                    "Enterprise customers will pay less for API calls.",
                    "Rivals are expected to respond."],
        "why_it_matters": "Margins across the sector may shrink."})]
    brief = await condenser(fake_llm).condense(teaser, FALLBACK)
    assert brief.condenser == "llm:qwen-plus" and brief.headline.startswith("Tencent")


async def test_a_why_line_may_open_with_a_word_the_story_lacks(fake_llm):
    # "Investors ..." names no one: only names inside the sentence must be the story's.
    fake_llm.script = [("json", _with(why_it_matters="Investors should expect thinner "
                                                     "margins. Developers gain cheaper APIs."))]
    brief = await condenser(fake_llm).condense(STORY, FALLBACK)
    assert brief.condenser == "llm:qwen-plus"


@pytest.mark.parametrize("story, note", [(ZH_STORY, True), (STORY, False)],
                         ids=["chinese", "english"])
async def test_a_chinese_story_is_briefed_in_chinese(fake_llm, story, note):
    # Asked in English alone, models answer in English, whose names and figures are not
    # in the Chinese text the brief is checked against: every Chinese brief fell back.
    fake_llm.script = [("json", ZH_BRIEF if note else GOOD)]
    brief = await condenser(fake_llm).condense(story, FALLBACK)
    asked = fake_llm.requests[0]["body"]["messages"][1]["content"]
    assert ("write the brief in Chinese" in asked) == note
    assert brief.condenser == "llm:qwen-plus"
    assert brief.headline == (ZH_BRIEF if note else GOOD)["headline"]


@pytest.mark.parametrize("title, text", [
    ("ソフトバンク、OpenAIに追加出資", "ソフトバンクグループは追加出資を発表した。"),   # Japanese
    ("Alibaba 阿里巴巴 cuts prices", "Alibaba Cloud cut prices of its models on Tuesday."),
    ("", ""),
])
def test_only_a_chinese_text_gets_the_chinese_note(title, text):
    from feeds.llm_prompt import language_note
    assert language_note(title, text) == ""


@pytest.mark.parametrize("no_proxy", ["", "llm.example.com"])
async def test_calls_go_through_the_proxy_unless_no_proxy_names_the_host(fake_llm, no_proxy):
    """As the feeds and chat go (Settings.proxies), not as httpx would read HTTPS_PROXY."""
    from bot.app import make_llm
    from bot.config import Settings
    from tests.fakes.proxy import FakeProxy, proxies_at
    fake_llm.script = [("json", GOOD)]
    async with FakeProxy({"llm.example.com": "127.0.0.1"}) as proxy:
        url = fake_llm.base_url.replace("127.0.0.1", "llm.example.com")
        llm = make_llm(Settings(llm_base_url=url, llm_model="qwen-plus",
                                proxies=proxies_at(proxy.url(), no_proxy)))
        brief = await llm.condense(STORY, FALLBACK)
    # Named in NO_PROXY, the host is asked of this machine's DNS, which does not know it.
    assert (brief.condenser == "llm:qwen-plus") == (not no_proxy)
    assert proxy.targets() == ([url + "/chat/completions"] if not no_proxy else [])


async def test_a_local_model_is_called_straight_whatever_the_proxy(fake_llm):
    """LLM_BASE_URL=http://localhost:11434/v1 (Ollama): the proxy's localhost is not ours."""
    from bot.app import make_llm
    from bot.config import Settings
    from tests.fakes.proxy import FakeProxy, proxies_at
    fake_llm.script = [("json", GOOD)]
    async with FakeProxy() as proxy:
        llm = make_llm(Settings(llm_base_url=fake_llm.base_url.replace("127.0.0.1", "localhost"),
                                llm_model="qwen-plus", proxies=proxies_at(proxy.url())))
        assert (await llm.condense(STORY, FALLBACK)).condenser == "llm:qwen-plus"
    assert proxy.seen == [] and len(fake_llm.requests) == 1


class _LockedLedger:
    """A store another program holds the write lock of (storage.store StoreBusy)."""
    def llm_call_ages(self, kind: str) -> list[float]:
        return []

    def record_llm_call(self, kind: str) -> None:
        raise RuntimeError("store: data/ainews.db is busy (database is locked)")


async def test_a_call_the_store_cannot_record_is_still_sent_and_counted(fake_llm, caplog):
    """The hourly cap keeps each call in the store (llm_calls): a store that cannot take
    the write (locked, a full disk) made the call fail as a bug of ours: the extractive
    brief posted and, for the judge, an error with a traceback for every story."""
    fake_llm.script = [("json", GOOD)]
    llm = condenser(fake_llm, hourly_cap=2)
    llm.cap.keep_in(_LockedLedger(), "llm")
    briefs = [(await llm.condense(STORY, FALLBACK)).condenser for _ in range(3)]
    assert briefs == ["llm:qwen-plus", "llm:qwen-plus", "extractive"]
    said = [r.getMessage() for r in caplog.records if "could not record" in r.getMessage()]
    assert len(said) == 1 and "is busy" in said[0], said
