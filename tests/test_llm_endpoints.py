"""The LLM path as operators meet it: what OpenAI, Qwen on DashScope, Ollama, vLLM and
the proxies in front of them really send back. The real poller and openai client against
a fake OpenAI-compatible server and a loopback feed server."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.pipeline import Pipeline
from feeds.classify import Classifier
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.formatter import Formatter
from feeds.judge import Judge
from feeds.llm import LLMCondenser
from feeds.models import FeedSource
from storage.store import Store
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import archive_entry, strategy_entry
from tests.llm_kit import FALLBACK, GOOD, STORY, condenser, stories

pytestmark = pytest.mark.usefixtures("close_llms")   # see tests/conftest.py


@pytest.fixture(scope="module")
def classifier():
    return Classifier()


@pytest.fixture
async def poll(tmp_path, fake_llm, classifier):
    """poll(entries, llm=..., judge=...) -> the store, after a first poll read the feed's
    archive (so these entries are news to post)."""
    store = Store(tmp_path / "a.db")
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.add("/f.xml", make_rss("Wire", [archive_entry(0)]))
        store.upsert_feed(FeedSource("Wire", srv.url("/f.xml")))

        def pipeline(llm=None, judge=None):
            return Pipeline(store, fetcher, classifier, Formatter(store, llm=llm),
                            poll_minutes=2, max_post_age=timedelta(hours=48), judge=judge)
        await pipeline().poll_once(all_feeds=True)

        async def run(entries, **parts):
            srv.add("/f.xml", make_rss("Wire", entries + [archive_entry(0)]))
            return await pipeline(**parts).poll_once(all_feeds=True)
        yield store, run
    store.close()


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("ainews.") and r.levelno >= logging.WARNING]


@pytest.mark.parametrize("body", [
    '"OK"',                                                   # a health-check proxy
    '[{"generated_text": "Alibaba cut prices."}]',             # a non-OpenAI inference API
    '{"choices": [{"message": null}]}',
    '{"choices": [{"message": {"content": {"headline": "h"}}}]}',
], ids=["string", "list", "null-message", "object-content"])
async def test_an_answer_that_is_no_chat_completion_costs_the_feed_nothing(poll, fake_llm,
                                                                           caplog, body):
    # It used to raise AttributeError out of the brief: the feed was counted as failing
    # (paused after ten such polls) and its new stories were not handed on to post.
    store, run = poll
    fake_llm.script = [("body", body)]
    llm = LLMCondenser(fake_llm.base_url, "k", "qwen-plus")
    summary = await run([strategy_entry(1), strategy_entry(2)], llm=llm)
    (state,) = store.feed_states()
    assert state.failures == 0 and not summary.outcomes[0].error
    assert len(summary.fresh) == 2
    briefs = [store.brief_for_hash(s.content_hash) for s in summary.fresh]
    assert {b.condenser for b in briefs} == {"extractive"}
    (warning,) = _warnings(caplog)   # once, naming the component; no traceback
    assert warning.startswith("llm: qwen-plus ")
    assert not any(r.exc_info for r in caplog.records)


OPENROUTER_ERROR = {"error": {"message": "Provider returned error", "code": 429,
                              "metadata": {"raw": "Too Many Requests",
                                           "provider_name": "Hyperbolic"}},
                    "user_id": "user_1"}


@pytest.mark.parametrize("error,words", [
    (OPENROUTER_ERROR, "Provider returned error (429; Hyperbolic: Too Many Requests)"),
    ({"error": {"message": "upstream timed out", "type": "new_api_error"}},
     "upstream timed out"),
    ({"error": "quota exhausted"}, "quota exhausted"),
], ids=["openrouter", "gateway", "error-as-text"])
async def test_an_error_sent_with_http_200_is_said_in_the_provider_s_words(fake_llm, caplog,
                                                                          error, words):
    # OpenRouter and some gateways send a provider's failure as HTTP 200 with an error
    # object: the log asked whether LLM_BASE_URL was an OpenAI-compatible API at all,
    # and never said what the provider answered.
    fake_llm.script = [("body", json.dumps(error)), ("json", GOOD)]
    llm = condenser(fake_llm)
    assert await llm.condense(STORY, FALLBACK) == FALLBACK
    (warning,) = _warnings(caplog)
    assert words in warning and "with HTTP 200" in warning
    assert "LLM_BASE_URL" not in warning
    assert llm.resting()   # the endpoint's failure, not the story's: rested as a 429 is


async def test_content_sent_as_text_parts_is_read(fake_llm):
    parts = [{"type": "text", "text": json.dumps(GOOD)[:40]},
             {"type": "text", "text": json.dumps(GOOD)[40:]}]
    fake_llm.script = [("body", json.dumps({"choices": [{"message": {"content": parts}}]}))]
    assert (await condenser(fake_llm).condense(STORY, FALLBACK)).condenser == "llm:qwen-plus"


@pytest.mark.parametrize("content", [
    # Qwen3 or DeepSeek-R1 through Ollama or vLLM without a reasoning parser
    "<think>\nThe article says Alibaba cut prices {maybe}.\n</think>\n\n" + json.dumps(GOOD),
    "Here is the JSON you asked for:\n" + json.dumps(GOOD) + "\nLet me know!",
    "<think>The user wants JSON.</think>```json\n" + json.dumps(GOOD) + "\n```",
    # DeepSeek-R1's template opens <think> in the prompt: the answer holds only its close,
    # and reasoning that drafts the JSON ("{") made the answer "not JSON"
    'Okay, I need to answer with {"headline": str, "bullets": [...]} from the article.\n'
    "</think>\n\n" + json.dumps(GOOD),
], ids=["think", "prose-around", "think-then-fence", "deepseek-r1-close-only"])
async def test_a_reasoning_or_chatty_model_s_answer_is_read(fake_llm, content):
    fake_llm.script = [("raw", content)]
    brief = await condenser(fake_llm).condense(STORY, FALLBACK)
    assert brief.condenser == "llm:qwen-plus" and brief.headline == GOOD["headline"]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("text", [
    json.dumps(GOOD),
    "The user wants a brief of the price cut.\n" + json.dumps(GOOD),
], ids=["answer-only", "reasoning-then-answer"])
async def test_an_answer_a_reasoning_parser_filed_as_reasoning_is_read(fake_llm, field,
                                                                      streamed, text):
    # vLLM's and SGLang's DeepSeek parsers put the whole output in the reasoning field,
    # content empty, when the model never writes </think> (vllm-project/vllm#48645: a
    # fifth of answers): the brief was rejected as "answer is empty".
    fake_llm.script, fake_llm.always_stream = [("reasoning", (field, text))], streamed
    brief = await condenser(fake_llm).condense(STORY, FALLBACK)
    assert brief.condenser == "llm:qwen-plus" and brief.headline == GOOD["headline"]


async def test_reasoning_without_an_answer_is_said_as_such(fake_llm, caplog):
    fake_llm.script = [("reasoning", ("reasoning_content", "Alibaba cut prices, so"))]
    assert await condenser(fake_llm).condense(STORY, FALLBACK) == FALLBACK
    (warning,) = _warnings(caplog)
    assert "answer is reasoning only" in warning and "reasoning_content" in warning


QUOTES_TAG = {"headline": "DeepSeek-R1 update hides its reasoning",
              "bullets": ["The model now ends its reasoning with a </think> tag before "
                          "answering.", "Developers must strip the block.",
                          "The change ships this week."],
              "why_it_matters": "Apps parsing R1's output must be updated."}


@pytest.mark.parametrize("before", ["", "<think>let me see</think>"])
def test_a_closing_tag_quoted_inside_the_answer_is_text(before):
    """A brief about R1's output format quotes "</think>": read as R1's lone closing tag,
    all before it (the answer's "{") was dropped and the brief rejected "not JSON"."""
    from feeds.llm_reply import parse_json
    assert parse_json(before + json.dumps(QUOTES_TAG)) == QUOTES_TAG


async def test_a_reasoning_model_s_verdict_is_read(fake_llm):
    fake_llm.script = [("raw", '<think>Chip export rules are policy.</think>\n'
                               '{"strategy": true, "reason": "export controls"}')]
    judge = Judge(condenser(fake_llm))
    judged = await judge.judge(STORY)
    assert "llm: strategy (export controls)" in judged.classification.reasons


@pytest.mark.parametrize("content,words", [
    ("<think>\nLet me think about Alibaba and", "reasoning only"),
    ("", "answer is empty"),
], ids=["cut-off-reasoning", "empty"])
async def test_an_answer_without_json_says_what_it_was(fake_llm, caplog, content, words):
    fake_llm.script = [("raw", content)]
    assert await condenser(fake_llm).condense(STORY, FALLBACK) == FALLBACK
    (warning,) = _warnings(caplog)
    assert words in warning


CONTEXT = ("This model's maximum context length is 4096 tokens. However, you requested "
           "5210 tokens (4910 in the messages, 300 in the completion).")   # vLLM's words


@pytest.mark.parametrize("message,words", [
    (CONTEXT, "context window"),
    # OpenAI: a cap above the model's output limit
    ("max_tokens is too large: 100000. This model supports at most 16384 completion tokens, "
     "whereas you provided 100000.", "LLM_MAX_TOKENS"),
    # vLLM counts the cap in the window: here not even the floor of 256 fits beside it
    ("This model's maximum context length is 2048 tokens. However, your request has 1900 "
     "input tokens plus 4096 'max_tokens'. Please reduce one or the other.", "LLM_MAX_TOKENS"),
    # a part refused by name, with no instruction to act on: not the window's fault
    ("Unsupported parameter: 'max_tokens' is not supported with this model.",
     "does not take a part of the request"),
], ids=["article-too-long", "cap-over-output-limit", "cap-over-context", "part-unsupported"])
async def test_a_request_refused_for_itself_does_not_rest_the_endpoint(fake_llm, caplog,
                                                                       message, words):
    # vLLM or a small local model answers 400 for an article past its context window:
    # that one story goes extractive; the rest of the poll still gets LLM briefs (the
    # 400 used to rest the endpoint for a minute, and every brief after it fell back).
    # A refusal of the answer's cap names the setting, not the article's length.
    fake_llm.script = [("error", (400, message)), ("json", GOOD)]
    llm = condenser(fake_llm)
    briefs = [await llm.condense(s, FALLBACK) for s in stories(3)]
    assert [b.condenser for b in briefs] == ["extractive", "llm:qwen-plus", "llm:qwen-plus"]
    assert len(fake_llm.requests) == 3
    (warning,) = _warnings(caplog)
    assert "refused a request" in warning and words in warning


@pytest.mark.parametrize("message,room", [
    ("This model's maximum context length is 2048 tokens. However, your request has 8 input "
     "tokens plus 4096 'max_tokens'. Please reduce one or the other.", 2032),
    # names max_completion_tokens, but asks for no rename: the cap is fitted all the same
    ("'max_tokens' or 'max_completion_tokens' is too large: 4096. This model's maximum "
     "context length is 4096 tokens and your request has 610 input tokens (4096 > 4096 - "
     "610).", 3478),
    ("This model's maximum context length is 8192 tokens. However, you requested 9000 tokens "
     "(4904 in the messages, 4096 in the completion).", 3280),
], ids=["vllm-plus", "vllm-too-large", "vllm-requested"])
async def test_a_cap_past_a_small_context_window_is_fitted_to_the_article(fake_llm, caplog,
                                                                           message, room):
    # A local vLLM with a 2-8k window refused every long article once answers were capped
    # at 4096 tokens: the request is asked again with the room the window leaves, and the
    # next article gets the whole cap again.
    fake_llm.script = [("error", (400, message)), ("json", GOOD)]
    llm = condenser(fake_llm)
    briefs = [await llm.condense(s, FALLBACK) for s in stories(2)]
    assert [b.condenser for b in briefs] == ["llm:qwen-plus"] * 2
    assert [r["body"]["max_tokens"] for r in fake_llm.requests] == [4096, room, 4096]
    assert _warnings(caplog) == []


async def test_a_cap_is_fitted_once_per_request(fake_llm, caplog):
    # A server that says, each time, that one token less would fit was asked 3,840
    # times for one story (the cap fell by one a request, down to the floor of 256).
    def one_less(body: dict) -> tuple:
        cap = body["max_tokens"]
        return "error", (400, f"This model's maximum context length is {cap + 1007} tokens. "
                              f"However, your request has 1000 input tokens plus {cap} "
                              "'max_tokens'. Please reduce one or the other.")
    fake_llm.script = [("fn", one_less)]
    llm = condenser(fake_llm)
    assert await llm.condense(STORY, FALLBACK) == FALLBACK
    assert [r["body"]["max_tokens"] for r in fake_llm.requests] == [4096, 4095]
    (warning,) = _warnings(caplog)
    assert "refused a request" in warning and not llm.resting()


@pytest.mark.parametrize("message", [
    # a long run of digits: each was a start of "(\d+) in the messages" (quadratic)
    "This model's maximum context length is 4096 tokens. " + "1" * 1_000_000,
    # past int()'s 4,300 digits: a ValueError, taken for the endpoint failing
    "This model's maximum context length is " + "9" * 5_000 + " tokens. However, you "
    "requested 5210 tokens (4910 in the messages, 300 in the completion).",
], ids=["digit-run", "huge-window"])
async def test_a_refusal_with_odd_numbers_is_a_refusal(fake_llm, caplog, message):
    fake_llm.script = [("error", (400, message)), ("json", GOOD)]
    llm = condenser(fake_llm)
    briefs = [await llm.condense(s, FALLBACK) for s in stories(2)]
    assert [b.condenser for b in briefs] == ["extractive", "llm:qwen-plus"]
    assert len(fake_llm.requests) == 2
    (warning,) = _warnings(caplog)
    assert "refused a request" in warning


def _refuses(part: str, message: str, default: bool):
    """An endpoint that turns down every request unless `part` (a top-level key, whose
    value is `default` when absent) is absent or false."""
    def answer(body: dict) -> tuple:
        if body.get(part, default) is not False:
            return "error", (400, message)
        return "json", GOOD
    return answer


PARTS = pytest.mark.parametrize("part,message,default,sent", [
    ("response_format", "'response_format.type' must be 'json_schema' or 'text'", False,
     {"response_format": None}),
    # DeepSeek's API, its reasoner without naming the part
    ("response_format", "deepseek-reasoner does not support Json Output.", False,
     {"response_format": None}),
    # DashScope's Qwen3 open models think unless told not to, and not outside streaming
    ("enable_thinking", "parameter.enable_thinking must be set to false for non-streaming "
                        "calls", True, {"enable_thinking": False}),
    # OpenAI's reasoning models (o1, o3, o4, gpt-5) take the cap under another name
    ("max_tokens", "Unsupported parameter: 'max_tokens' is not supported with this model. "
                   "Use 'max_completion_tokens' instead.", False,
     {"max_tokens": None, "max_completion_tokens": 4096}),
    # ... and only their default temperature
    ("temperature", "Unsupported value: 'temperature' does not support 0.2 with this model. "
                    "Only the default (1) value is supported.", False, {"temperature": None}),
], ids=["lm-studio-json-mode", "deepseek-reasoner-json", "dashscope-qwen3-thinking",
        "openai-reasoning-max-tokens",
        "openai-reasoning-temperature"])


@PARTS
async def test_a_request_part_the_endpoint_does_not_take_is_dropped_once(fake_llm, caplog,
                                                                         part, message,
                                                                         default, sent):
    # Every brief used to fall back, the endpoint rested as if down.
    fake_llm.script = [("fn", _refuses(part, message, default))]
    llm = condenser(fake_llm)
    briefs = [await llm.condense(s, FALLBACK) for s in stories(3)]
    assert {b.condenser for b in briefs} == {"llm:qwen-plus"}
    assert len(fake_llm.requests) == 4   # one refused, then each story once
    assert [{k: r["body"].get(k) for k in sent} for r in fake_llm.requests[1:]] == [sent] * 3
    (warning,) = _warnings(caplog)
    assert warning.startswith("llm: qwen-plus ")


@PARTS
async def test_calls_refused_together_for_a_part_are_all_asked_again(fake_llm, caplog, part,
                                                                     message, default, sent):
    # A poll's first calls (or `ainews run --once`, with no start-up check) go out at
    # once and are all refused: one adapted the request, the others were taken as
    # refused for their story, extractive, with a warning blaming the context window.
    fake_llm.delay = 0.2   # the refusals overlap, as a poll's calls do
    fake_llm.script = [("fn", _refuses(part, message, default))]
    llm = condenser(fake_llm)
    briefs = await asyncio.gather(*(llm.condense(s, FALLBACK) for s in stories(4)))
    assert [b.condenser for b in briefs] == ["llm:qwen-plus"] * 4
    assert len(fake_llm.requests) == 8   # each refused once, then answered
    (warning,) = _warnings(caplog)
    assert warning.startswith("llm: qwen-plus ") and "refused" not in warning


@pytest.mark.parametrize("server", ["stream_only", "always_stream"],
                         ids=["dashscope-qwq-refuses-unstreamed", "gateway-streams-unasked"])
async def test_a_model_that_only_streams_writes_the_briefs(fake_llm, caplog, server):
    # Every request was refused as if for its story (a warning blaming one story), or
    # the streamed body taken for a page that is no API: never an LLM brief.
    setattr(fake_llm, server, True)
    fake_llm.script = [("json", GOOD)]
    llm = condenser(fake_llm)
    assert await llm.check() is True
    briefs = [await llm.condense(s, FALLBACK) for s in stories(3)]
    assert [b.headline for b in briefs] == [GOOD["headline"]] * 3
    assert not llm.resting()
    assert _warnings(caplog) == (["llm: qwen-plus answers only when streamed: asking with "
                                  "stream on"] if server == "stream_only" else [])


async def test_a_streamed_answer_cut_off_at_its_cap_is_still_said(fake_llm, caplog):
    fake_llm.stream_only = True
    fake_llm.script = [("cut", '{"headline": "Alibaba')]
    llm = condenser(fake_llm)
    assert (await llm.condense(STORY, FALLBACK)).condenser == "extractive"
    assert any("cut off at its token cap" in w for w in _warnings(caplog))


def _in_600_s() -> str:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime
    return format_datetime(datetime.now(timezone.utc) + timedelta(seconds=600), usegmt=True)


@pytest.mark.parametrize("retry_after", ["600", _in_600_s], ids=["seconds", "http-date"])
async def test_a_429_s_retry_after_is_waited_out(fake_llm, retry_after):
    # DashScope and OpenAI say how long to wait; asking again after our own minute only
    # met another 429. HTTP allows the header as a date too.
    now = [0.0]
    wait = retry_after if isinstance(retry_after, str) else retry_after()
    fake_llm.script = [("error", (429, "Throttling.RateQuota", {"Retry-After": wait})),
                       ("json", GOOD)]
    llm = condenser(fake_llm, clock=lambda: now[0])
    assert await llm.condense(STORY, FALLBACK) == FALLBACK
    now[0] = 120.0
    assert await llm.condense(STORY, FALLBACK) == FALLBACK
    assert len(fake_llm.requests) == 1
    now[0] = 601.0
    assert (await llm.condense(STORY, FALLBACK)).condenser == "llm:qwen-plus"


async def test_a_slow_model_does_not_hold_a_poll_s_briefs(fake_llm, caplog):
    # One slot and a model that takes most of LLM_TIMEOUT per brief: the fifth story of
    # a poll used to wait for the four before it (minutes with a local model); a brief
    # now waits at most LLM_TIMEOUT plus a second, its queue for a slot included.
    fake_llm.script, fake_llm.delay = [("json", GOOD)], 0.8
    llm = condenser(fake_llm, timeout=1.0, concurrency=1)
    briefs = await asyncio.gather(*(llm.condense(s, FALLBACK) for s in stories(5)))
    assert briefs[0].condenser == "llm:qwen-plus" and briefs[-1] == FALLBACK
    (warning,) = _warnings(caplog)
    assert "gave no brief within 2 s" in warning


async def test_a_bug_in_the_llm_path_leaves_the_extractive_brief(fake_llm, caplog, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("bullets")
    monkeypatch.setattr("feeds.llm.validate", broken)
    fake_llm.script = [("json", GOOD)]
    llm = condenser(fake_llm)
    assert [await llm.condense(s, FALLBACK) for s in stories(3)] == [FALLBACK] * 3
    (warning,) = _warnings(caplog)
    assert warning.startswith("llm: condensing") and "KeyError" in warning


def _grounded(body: dict) -> tuple:
    """A valid brief of whichever story was sent: its title and its sentences."""
    import re
    title, _, text = body["messages"][1]["content"].partition("\n\n")
    sentences = re.split(r"(?<=\.)\s+", text.strip())
    return "json", {"headline": title.removeprefix("Title: "), "bullets": sentences[:3],
                    "why_it_matters": sentences[-1]}


async def test_a_poll_s_briefs_wait_at_most_one_deadline_their_turn_included(poll, fake_llm):
    # README: a brief waits at most LLM_TIMEOUT plus a second, its turn included. The
    # poll queued its briefs four at a time before their deadline began: twelve new
    # stories and a model answering within LLM_TIMEOUT held the posts for three answers
    # (7.5 s here, every brief the LLM's). Now a brief's turn counts in its deadline: the
    # second wave's answers cannot come by then (2.5 + 2.5 s > 4 s), the third's turn
    # neither, so those stories are posted with the extractive brief. Nor are those
    # calls sent: each was charged to the hourly cap and billed, its answer cut off.
    fake_llm.script, fake_llm.delay = [("fn", _grounded)], 2.5
    llm = condenser(fake_llm, timeout=3.0)      # a brief's deadline: 4 s
    store, run = poll
    summary = await run([strategy_entry(i) for i in range(12)], llm=llm)
    made = [store.brief_for_hash(s.content_hash).condenser for s in summary.fresh]
    assert len(made) == 12 and made.count("extractive") >= 8, made
    assert len(fake_llm.requests) == len(llm.cap.calls) == 12 - made.count("extractive")
    assert fake_llm.max_in_flight <= 4          # LLM_CONCURRENCY still bounds the calls


async def test_one_feeds_burst_leaves_another_feeds_stories_their_turn(tmp_path, fake_llm,
                                                                      classifier):
    # A poll queued every new story's brief for the model at once, first come first
    # served: feed A's twelve filled the queue, and feed B's two, read 0.3 s later, got
    # no turn within their deadline (the fourth wave). The feeds take turns: B's go in
    # the second wave, answered by 5 s of their 7 s.
    fake_llm.script, fake_llm.delay = [("fn", _grounded)], 2.5
    llm = condenser(fake_llm, timeout=6.0)   # a brief's deadline: 7 s, room for two waves
    store = Store(tmp_path / "a.db")
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        for name in ("A", "B"):
            srv.add(f"/{name}.xml", make_rss(name, [archive_entry(0)]))
            store.upsert_feed(FeedSource(name, srv.url(f"/{name}.xml")))

        def pipeline(llm=None):
            return Pipeline(store, fetcher, classifier, Formatter(store, llm=llm),
                            poll_minutes=2, max_post_age=timedelta(hours=48))
        await pipeline().poll_once(all_feeds=True)
        srv.add("/A.xml", make_rss("A", [strategy_entry(i) for i in range(12)]
                                   + [archive_entry(0)]))
        srv.add("/B.xml", make_rss("B", [strategy_entry(i, base_url="https://b.example")
                                         for i in (40, 41)] + [archive_entry(0)]), latency=0.3)
        summary = await pipeline(llm).poll_once(all_feeds=True)
    made = {s.url: store.brief_for_hash(s.content_hash).condenser for s in summary.fresh}
    store.close()
    assert [c for u, c in made.items() if u.startswith("https://b.example")] == [
        "llm:qwen-plus"] * 2, made


@pytest.mark.parametrize("proxy_up, words", [
    (True, "the proxy 127.0.0.1:{port} wants credentials: check the user and password in "
           "HTTP_PROXY"),
    (False, "check that the proxy 127.0.0.1:{port} (HTTP_PROXY) is reachable and lets "
            "LLM_BASE_URL through, or name its host in NO_PROXY"),
])
async def test_a_failure_through_the_proxy_names_the_proxy(fake_llm, caplog, proxy_up, words):
    from tests.fakes.proxy import FakeProxy, proxies_at
    async with FakeProxy({"llm.example.com": "127.0.0.1"}, ("bob", "s3cret")) as proxy:
        if not proxy_up:
            await proxy.close()   # nothing listens there now
        url = fake_llm.base_url.replace("127.0.0.1", "llm.example.com")
        llm = LLMCondenser(url, "test-key", "qwen-plus",
                           proxy=proxies_at(proxy.url("bob", "wr0ng")).for_url(url))
        assert (await llm.condense(STORY, FALLBACK)) == FALLBACK
    [line] = _warnings(caplog)
    assert words.format(port=proxy.port) in line and "wr0ng" not in line
    assert not fake_llm.requests


def _at(fake_llm, proxy, host: str) -> LLMCondenser:
    """A condenser calling the fake server by `host`, through the fake proxy that knows it."""
    from tests.fakes.proxy import proxies_at
    url = fake_llm.base_url.replace("127.0.0.1", host)
    proxy.hosts[host] = "127.0.0.1"
    return LLMCondenser(url, "test-key", "qwen-plus",
                        timeout=0.5, proxy=proxies_at(proxy.url()).for_url(url))


@pytest.mark.parametrize("host, regions", [
    ("dashscope-intl.aliyuncs.com", True), ("dashscope.aliyuncs.com", True),
    ("llm.example.com", False),
])
async def test_a_dashscope_key_refused_names_both_regions(fake_llm, caplog, host, regions):
    # A DashScope key works only in its region: a Beijing key sent to the international
    # endpoint is "Incorrect API key provided", and "check LLM_API_KEY" sent the operator
    # to a key that was right.
    from tests.fakes.proxy import FakeProxy
    fake_llm.script = [("error", (401, "Incorrect API key provided. "))]
    async with FakeProxy() as proxy:
        assert await _at(fake_llm, proxy, host).condense(STORY, FALLBACK) == FALLBACK
    [line] = _warnings(caplog)
    assert "check LLM_API_KEY" in line
    assert ("dashscope.aliyuncs.com (China)" in line
            and "dashscope-intl.aliyuncs.com (international)" in line) == regions


@pytest.mark.parametrize("host, local", [
    ("127.0.0.1", True), ("localhost", True), ("llm.example.com", False),
])
@pytest.mark.parametrize("at", ["brief", "start-up check"])
async def test_a_local_model_slower_than_the_timeout_is_told_how_to_stay_loaded(
        fake_llm, caplog, host, local, at):
    # Ollama unloads a model after 5 idle minutes and loads it again on the next call: a
    # large one takes longer than LLM_TIMEOUT, so after every quiet spell the first
    # calls timed out, the endpoint rested, and the log said only "slower than LLM_TIMEOUT".
    from tests.fakes.proxy import FakeProxy
    fake_llm.script = [("sleep", 3.0), ("json", GOOD)]
    async with FakeProxy() as proxy:   # loopback is called straight, not through it
        llm = _at(fake_llm, proxy, host)
        assert await (llm.check() if at == "start-up check"
                      else llm.condense(STORY, FALLBACK)) in (False, FALLBACK)
    [line] = _warnings(caplog)
    assert "LLM_TIMEOUT" in line
    assert ("OLLAMA_KEEP_ALIVE=-1" in line) == local


@pytest.mark.parametrize("url, local", [
    ("http://127.0.0.1:8000/v1", True), ("http://[::1]:11434/v1", True),
    ("http://gpu-box.lan:11434/v1", True),            # Ollama's port on another machine
    ("https://api.openai.com/v1", False), ("http://gpu-box.lan:8000/v1", False),
])
def test_a_local_model_server_is_told_by_its_address(url, local):
    assert (LLMCondenser(url, "k", "m").endpoint.local) == local


async def test_behind_a_tls_inspecting_proxy_the_llm_needs_and_takes_the_ca_file(caplog):
    """The endpoint re-signed by the company's CA: without AINEWS_CA_FILE the failure
    says which setting trusts it (not "check that LLM_BASE_URL is reachable"); with
    it the brief is the model's, httpx's own CAs trusted as well."""
    from bot.app import make_llm
    from bot.config import Settings
    from tests.fakes.llm import FakeLLM
    from tests.fakes.tls import COMPANY_CA, company_signed
    server = await FakeLLM(ssl_context=company_signed()).start()
    server.script = [("json", GOOD)]
    settings = Settings(llm_base_url=server.base_url, llm_model="qwen-plus")
    try:
        assert await make_llm(settings).condense(STORY, FALLBACK) == FALLBACK
        trusted = make_llm(replace(settings, ca_file=COMPANY_CA))
        assert (await trusted.condense(STORY, FALLBACK)).condenser == "llm:qwen-plus"
    finally:
        await server.stop()
    [line] = _warnings(caplog)
    assert ("(APIConnectionError: Connection error.) — TLS handshake failed (certificate "
            "verify failed: unable to get local issuer certificate; AINEWS_CA_FILE names a "
            "CA to trust, such as a company's). Briefs are extractive") in line


async def test_ssl_cert_file_still_sets_the_cas_the_llm_trusts(monkeypatch):
    """SSL_CERT_FILE (the process environment's CA bundle, which OpenSSL reads for the
    feeds and chat, and httpx for itself) stopped reaching the LLM when its client was
    told to read no proxy from the environment (trust_env off)."""
    from bot.app import make_llm
    from bot.config import Settings
    from tests.fakes.llm import FakeLLM
    from tests.fakes.tls import COMPANY_CA, company_signed
    monkeypatch.setenv("SSL_CERT_FILE", str(COMPANY_CA))
    server = await FakeLLM(ssl_context=company_signed()).start()
    server.script = [("json", GOOD)]
    try:
        llm = make_llm(Settings(llm_base_url=server.base_url, llm_model="qwen-plus"))
        assert (await llm.condense(STORY, FALLBACK)).condenser == "llm:qwen-plus"
    finally:
        await server.stop()
