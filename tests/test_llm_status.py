"""The LLM's health where an operator looks: a check when `ainews run` starts (a wrong
key or model is said in the first seconds, not at the first new strategy story) and a
line in `ainews status` beside the chat platforms'. The real openai client against the
fake OpenAI-compatible server; the run lock held as a running bot holds it."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import pytest

from bot.app import App
from bot.cli import main
from bot.config import load_settings
from bot.connections import llm_watched
from bot.runlock import run_lock
from feeds.llm import MAX_TOKENS

pytestmark = pytest.mark.usefixtures("close_llms")   # see tests/conftest.py

KEY = "sk-live-0123456789abcdef"


@pytest.fixture
def app(tmp_path, fake_llm, clean_env):
    clean_env.setenv("AINEWS_DB", str(tmp_path / "ainews.db"))
    settings = load_settings(environ={"AINEWS_DB": str(tmp_path / "ainews.db"),
                                      "LLM_BASE_URL": fake_llm.base_url, "LLM_API_KEY": KEY,
                                      "LLM_MODEL": "qwen-plus"}, dotenv_path=None)
    made = App(settings)
    yield made
    made.close()


async def status_lines(capsys) -> dict[str, str]:
    assert await asyncio.to_thread(main, ["status"]) == 0
    rows = [line.split(None, 1) for line in capsys.readouterr().out.splitlines() if line]
    return {r[0]: r[1] if len(r) > 1 else "" for r in rows}


@pytest.mark.parametrize("script,key,words", [
    ([("echo-key", 401)], KEY, "check LLM_API_KEY"),
    # Told "Incorrect API key provided: [LLM_API_KEY]", as if a wrong one were set.
    ([("echo-key", 401)], "", "LLM_API_KEY is not set"),
    ([("error", (404, "model 'qwen3:8b' not found, try pulling it first"))], KEY,
     "check LLM_MODEL"),
], ids=["wrong-key", "no-key", "model-not-pulled"])
async def test_a_wrong_setting_is_said_at_start_and_shown_by_status(app, fake_llm, capsys,
                                                                    caplog, script, key,
                                                                    words):
    fake_llm.script = script
    app.settings = replace(app.settings, llm_api_key=key)
    with run_lock(app.settings.db_path):
        async with llm_watched(app) as check:
            assert await check is False
            lines = await status_lines(capsys)
    assert lines["llm"].startswith("failing since ") and words in lines["llm"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("llm: qwen-plus failed")
    assert words in warnings[0]
    assert "0123456789abcdef" not in caplog.text + lines["llm"]
    if not key:   # the client's placeholder is no key of the operator's to hide
        assert "[LLM_API_KEY]" not in caplog.text


@pytest.mark.parametrize("stream", [False, True])
async def test_an_endpoint_that_never_goes_quiet_is_given_up_at_start(app, fake_llm, capsys,
                                                                      caplog, stream):
    """The client's LLM_TIMEOUT counts the quiet between two reads: an endpoint that keeps
    sending without answering held the start-up check (and an LLM_CONCURRENCY slot) for
    as long as it went on, with nothing in the log or `ainews status`. The check gives up
    after LLM_TIMEOUT plus a second, says so in one line and the endpoint rests."""
    app.settings = replace(app.settings, llm_timeout=1.0)
    fake_llm.always_stream = stream
    fake_llm.script = [("trickle", (40, 0.5, {"ok": True}))]   # answers after 20 s
    with run_lock(app.settings.db_path):
        async with llm_watched(app) as check:
            assert await check is False
            lines = await status_lines(capsys)
            assert await app.llm.ask("s", "u", temperature=0.0) is None   # resting
    assert lines["llm"].startswith("failing since ") and "start-up check" in lines["llm"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
                and r.name.startswith("ainews")]   # not the fake's "client went away"
    assert len(warnings) == 1 and warnings[0].startswith("llm: qwen-plus failed"), warnings
    assert "no answer to the start-up check within 2 s (LLM_TIMEOUT plus a second)" \
        in warnings[0]
    assert len(fake_llm.requests) == 1


async def test_an_llm_that_answers_is_shown_as_answering(app, fake_llm, capsys, caplog):
    caplog.set_level(logging.INFO, logger="ainews.llm")
    fake_llm.script = [("json", {"ok": True})]
    with run_lock(app.settings.db_path):
        async with llm_watched(app) as check:
            assert await check is True
            lines = await status_lines(capsys)
    assert lines["llm"].startswith("answering since ")
    assert "llm: qwen-plus answers (start-up check)" in caplog.text
    assert "llm" not in await status_lines(capsys)   # no bot runs: nothing to say of now


async def test_an_llm_that_refuses_every_request_is_shown_as_refusing(app, fake_llm, capsys):
    """A model that turns down every request for itself (HTTP 400: a context window no
    article fits, a filter, a parameter it takes from no one) was shown as "answering"
    while every brief was extractive. Said after three in a row; an answer clears it."""
    fake_llm.script = [("json", {"ok": True}),
                       ("error", (400, "the request was rejected by the content filter"))]
    with run_lock(app.settings.db_path):
        async with llm_watched(app) as check:
            assert await check is True                 # the start-up ping is answered
            for _ in range(3):
                assert await app.llm.ask("s", "u", temperature=0.0) is None
            llm = (await status_lines(capsys))["llm"]
            assert llm.startswith("refusing since ") and "3 requests in a row" in llm
            assert "content filter" in llm
            fake_llm.script = [("json", {"ok": True})]
            assert await app.llm.ask("s", "u", temperature=0.0) is not None
            assert (await status_lines(capsys))["llm"].startswith("answering since ")


async def test_briefs_refused_every_time_beside_answered_verdicts_show_as_refusing(
        app, fake_llm, capsys):
    """A small context window (vLLM --max-model-len 2048) refuses every article and
    answers the judge's short lead: a story a poll, verdict answered, brief refused, and
    each verdict's answer cleared the count, so status said "answering" while no brief
    was ever the LLM's."""
    from feeds.llm_prompt import SYSTEM as BRIEF
    from feeds.models import Classification
    from tests.llm_kit import FALLBACK, stories

    def server(body: dict) -> tuple:
        if body["messages"][0]["content"] == BRIEF:
            return "error", (400, "This model's maximum context length is 2048 tokens. "
                                  "However, your request has 3100 input tokens.")
        return "json", {"strategy": True, "reason": "a pricing move"}
    fake_llm.script = [("fn", server)]
    near = Classification(strategy=True, score=9.0, probability=0.5, threshold=0.45,
                          about_ai=True)
    with run_lock(app.settings.db_path):
        async with llm_watched(app, check=False):
            for story in stories(3):
                judged = await app.judge.judge(story.with_classification(near))
                assert judged.classification.reasons[-1].startswith("llm: ")   # answered
                assert (await app.llm.condense(judged, FALLBACK)).condenser == "extractive"
            llm = (await status_lines(capsys))["llm"]
    assert llm.startswith("refusing since ") and "3 briefs in a row" in llm, llm
    assert "context window" in llm


@pytest.mark.parametrize("env,words", [
    ({"LLM_BASE_URL": "http://localhost:11434/v1/chat/completions"},
     "is the chat endpoint; set the API's base instead: http://localhost:11434/v1"),
    ({"LLM_BASE_URL": "ws://localhost:8000/v1"}, "must be an http(s) URL with a host"),
    ({"LLM_BASE_URL": "http:///v1"}, "must be an http(s) URL with a host"),
    # an unclosed IPv6 bracket: urlsplit's ValueError was a traceback and exit 1
    ({"LLM_BASE_URL": "http://[::1/v1"}, "must be an http(s) URL with a host"),
    ({"LLM_BASE_URL": "localhost:11434"}, "must start with http:// or https://"),
    ({"LLM_BASE_URL": "http://localhost:11434/v1", "LLM_MODEL": ""}, "LLM_MODEL is not set"),
    ({"LLM_CONCURRENCY": "0"}, "LLM_CONCURRENCY='0' must be at least 1"),
    ({"LLM_TIMEOUT": "soon"}, "LLM_TIMEOUT='soon' is not a number"),
    ({"LLM_MAX_TOKENS": "4k"}, "LLM_MAX_TOKENS='4k' is not a whole number"),
    ({"LLM_MAX_TOKENS": "-1"}, "LLM_MAX_TOKENS='-1' must be at least 0"),
    # every answer would be cut off: said at start, not at each brief
    ({"LLM_MAX_TOKENS": "100"}, "LLM_MAX_TOKENS='100' is too few (a long brief takes about "
                                "230 tokens in English, 1,200 in Chinese); use 256 or more, "
                                "or unlimited (0: the same, no cap)"),
    # every call failed with "UnicodeEncodeError: 'ascii' codec can't encode character"
    ({"LLM_API_KEY": "“sk-proj-abc”"}, "LLM_API_KEY=[not shown] holds '“' (character 1 of 13)"),
], ids=["pasted-endpoint", "websocket", "no-host", "bad-ipv6", "no-scheme", "no-model", "concurrency-0",
        "timeout-word", "max-tokens-word", "max-tokens-negative", "max-tokens-too-few",
        "key-in-typographic-quotes"])
def test_a_bad_llm_setting_is_a_one_line_error_at_start(env, words):
    from bot.config import ConfigError
    base = {"LLM_BASE_URL": "http://localhost:11434/v1", "LLM_MODEL": "qwen3:8b"}
    with pytest.raises(ConfigError) as e:
        load_settings({**base, **env}, dotenv_path=None)
    assert words in str(e.value) and "\n" not in str(e.value)



@pytest.mark.parametrize("raw,cap", [("", MAX_TOKENS), ("0", 0), ("unlimited", 0),
                                     ("8192", 8192)])
def test_llm_max_tokens_reaches_the_condenser(raw, cap):
    from bot.app import make_llm
    settings = load_settings({"LLM_BASE_URL": "http://localhost:11434/v1",
                              "LLM_MODEL": "qwen3:8b", "LLM_MAX_TOKENS": raw}, dotenv_path=None)
    assert make_llm(settings).max_tokens == cap


@pytest.mark.parametrize("name, raw", [
    ("LLM_BASE_URL", "https://bob:s3cret-pass@llm.example/v1/chat/completions"),
    ("LLM_BASE_URL", "http://bob:s3cret-pass@/v1"),
    ("DISCORD_API_URL", "ftp://bob:s3cret-pass@discord.example/api"),
    ("LLM_API_KEY", "s3cret-pass…"),
    ("DISCORD_TOKEN", "“s3cret-pass”"), ("SLACK_BOT_TOKEN", "xoxb-s3cret-pass…"),
    ("SLACK_APP_TOKEN", "xapp-s3cret-pass​"), ("SLACK_SIGNING_SECRET", "s3cret-pass’"),
])
def test_a_bad_url_setting_s_error_does_not_print_its_password(name, raw):
    from bot.config import ConfigError
    base = {"LLM_BASE_URL": "http://localhost:11434/v1", "LLM_MODEL": "qwen3:8b"}
    with pytest.raises(ConfigError) as e:
        load_settings({**base, name: raw}, dotenv_path=None)
    assert "s3cret-pass" not in str(e.value) and f"config: {name}=" in str(e.value)


# LLM_MAX_TOKENS=0 is no cap, LLM_HOURLY_CAP=0 no calls: one word, `unlimited`, lifts
# either, and a value that is neither a number nor that word says what is accepted.
@pytest.mark.parametrize("name, raw, words", [
    ("LLM_HOURLY_CAP", "none", "LLM_HOURLY_CAP='none' is not a whole number; use a number "
                               "of calls (0: no calls at all) or unlimited (no cap)"),
    ("AINEWS_LLM_JUDGE_HOURLY_CAP", "off", "AINEWS_LLM_JUDGE_HOURLY_CAP='off' is not a whole "
                                           "number; use a number of calls (0: no calls at "
                                           "all) or unlimited (no cap)"),
    ("LLM_MAX_TOKENS", "none", "LLM_MAX_TOKENS='none' is not a whole number; use 256 or "
                               "more, or unlimited (0: the same, no cap)"),
])
def test_a_cap_that_is_no_number_lists_what_it_takes(name, raw, words):
    from bot.config import ConfigError
    with pytest.raises(ConfigError) as e:
        load_settings({"LLM_BASE_URL": "http://localhost:11434/v1", "LLM_MODEL": "qwen3:8b",
                       name: raw}, dotenv_path=None)
    assert str(e.value) == f"config: {words}"


async def test_an_unlimited_hourly_cap_calls_the_llm_past_the_default(fake_llm):
    """LLM_HOURLY_CAP=unlimited: the 121st brief of the hour (the default cap is 120)
    is still the LLM's; a number was the only way to lift the cap, and 0 stops every call."""
    from bot.app import make_llm
    from tests.llm_kit import FALLBACK, GOOD, STORY
    settings = load_settings({"LLM_BASE_URL": fake_llm.base_url, "LLM_MODEL": "qwen-plus",
                              "LLM_HOURLY_CAP": "Unlimited"}, dotenv_path=None)
    fake_llm.script = [("json", GOOD)]
    llm = make_llm(settings)
    briefs = [await llm.condense(STORY, FALLBACK) for _ in range(121)]
    assert {b.condenser for b in briefs} == {"llm:qwen-plus"}
    assert len(fake_llm.requests) == 121


async def test_an_hourly_cap_of_0_makes_no_call_and_status_says_the_llm_is_off(app, fake_llm,
                                                                            capsys):
    """README: LLM_HOURLY_CAP=0 means no LLM calls at all. The start-up check and the
    judge's verdicts were still sent, and status said "answering"."""
    from feeds.models import Classification
    from tests.llm_kit import FALLBACK, STORY
    app.settings = replace(app.settings, llm_hourly_cap=0)
    fake_llm.script = [("json", {"ok": True})]
    near = STORY.with_classification(Classification(strategy=True, score=9.0, probability=0.5,
                                                    threshold=0.45, about_ai=True))
    with run_lock(app.settings.db_path):
        async with llm_watched(app) as check:
            assert await check is False
            assert await app.judge.judge(near) == near
            assert await app.llm.condense(near, FALLBACK) == FALLBACK
            llm = (await status_lines(capsys))["llm"]
    assert fake_llm.requests == []
    assert llm.startswith("off since ") and "LLM_HOURLY_CAP=0: no LLM calls at all" in llm


@pytest.mark.parametrize("env, words", [
    ({"LLM_HOURLY_CAP": "0"}, "llm: LLM_HOURLY_CAP=0 allows no LLM calls: every brief is "
                              "extractive and every verdict offline (unlimited is no cap)"),
    ({"AINEWS_LLM_JUDGE_HOURLY_CAP": "0"}, "judge: AINEWS_LLM_JUDGE_HOURLY_CAP=0 allows no "
                                           "judge calls: the offline verdicts stand"),
])
def test_a_start_with_an_hourly_cap_of_0_says_it_means_no_calls(clean_env, tmp_path, capsys,
                                                                fake_llm, env, words):
    """Read beside LLM_MAX_TOKENS (0: no cap), LLM_HOURLY_CAP=0 looks like "no cap"; it
    is no calls, and the LLM went unused with nothing said at start."""
    (tmp_path / "none.toml").write_text("")
    for name, value in {"AINEWS_FEEDS": str(tmp_path / "none.toml"), "LLM_MODEL": "qwen-plus",
                        "LLM_BASE_URL": fake_llm.base_url, **env}.items():
        clean_env.setenv(name, value)
    assert main(["--db", str(tmp_path / "a.db"), "run", "--once"]) == 0
    err = capsys.readouterr().err
    assert words in err and err.count("allows no") == 1



async def test_run_once_makes_no_start_up_call_and_says_a_wrong_setting_at_its_first_brief(
        clean_env, tmp_path, capsys, fake_llm):
    """README: a cron's `run --once` skips the start-up call (it would cost a call every
    run, news or not); its briefs' own calls say a wrong key, with the same hint."""
    from tests.fakes.feedserver import FeedServer, make_rss
    from tests.fakes.stories import archive_entry, strategy_entry
    fake_llm.script = [("echo-key", 401)]
    async with FeedServer() as srv:
        srv.add("/f.xml", make_rss("Wire", [archive_entry(0)]))
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "Wire"\nurl = "{srv.url("/f.xml")}"\n')
        for name, value in {"AINEWS_FEEDS": str(feeds), "LLM_MODEL": "qwen-plus",
                            "LLM_BASE_URL": fake_llm.base_url, "LLM_API_KEY": KEY,
                            "AINEWS_ALLOW_PRIVATE_HOSTS": "1"}.items():
            clean_env.setenv(name, value)
        run_once = ["--db", str(tmp_path / "a.db"), "run", "--once"]
        assert await asyncio.to_thread(main, run_once) == 0      # a first poll: nothing new
        assert fake_llm.requests == [] and "llm:" not in capsys.readouterr().err
        srv.add("/f.xml", make_rss("Wire", [strategy_entry(1), archive_entry(0)]))
        assert await asyncio.to_thread(main, run_once) == 0
    err = capsys.readouterr().err
    assert fake_llm.requests and err.count("llm: qwen-plus failed") == 1, err
    assert "check LLM_API_KEY" in err and "for the rest of this run" in err


async def test_calls_not_sent_as_their_turn_came_too_late_are_counted_in_status(
        app, fake_llm, capsys):
    """A call whose turn comes with less of its deadline left than the model's answers
    take is not sent (feeds/llm.py TooLate): its story went extractive and nothing in
    `ainews status` said why, or what to raise. Counted per kind, shown when any."""
    from tests.llm_kit import FALLBACK, GOOD, stories
    app.settings = replace(app.settings, llm_timeout=3.0, llm_concurrency=1)
    fake_llm.script, fake_llm.delay = [("json", GOOD)], 2.5   # a turn at 2.5 s leaves 1.5
    with run_lock(app.settings.db_path):
        async with llm_watched(app, check=False):
            briefs = await asyncio.gather(*(app.llm.condense(s, FALLBACK)
                                            for s in stories(2)))
            llm = (await status_lines(capsys))["llm"]
    assert [b.condenser == "extractive" for b in briefs] == [False, True]
    assert llm.startswith("answering since ")
    assert llm.endswith("1 brief not sent: its turn came too late (raise LLM_CONCURRENCY "
                        "or LLM_TIMEOUT)"), llm


@pytest.mark.parametrize("ending", ["shutdown", "the minute's end"])
async def test_a_slow_models_late_calls_are_written_coalesced_and_status_shows_the_count(
        app, capsys, monkeypatch, ending):
    """Every call not sent wrote the LLM's row: under a slow model a write per call,
    each waiting for the store's lock beside the poller's. The first is written at
    once (status then says so), the rest at most once per LATE_WRITE_GAP, and the
    count as it ends is written by the gap's end, or at shutdown."""
    from bot import connections
    from bot.connections import read_connections
    if ending != "shutdown":
        monkeypatch.setattr(connections, "LATE_WRITE_GAP", 0.5, raising=False)
    writes, set_meta = [], app.store.set_meta
    monkeypatch.setattr(app.store, "set_meta", lambda k, v: writes.append(v) or set_meta(k, v))
    with run_lock(app.settings.db_path):
        async with llm_watched(app, check=False):
            app.llm.endpoint.answered("brief")
            for _ in range(50):
                app.llm.endpoint.too_late("brief")
            assert read_connections(app.store)["llm"]["late"] == {"brief": 1}
            if ending != "shutdown":                # the gap's end: a real timer
                await asyncio.wait_for(_late_written(app.store, {"brief": 50}), 10)
        llm = (await status_lines(capsys))["llm"]
    assert llm.endswith("50 briefs not sent: their turn came too late (raise "
                        "LLM_CONCURRENCY or LLM_TIMEOUT)"), llm
    assert len(writes) == 3                 # answering, the first late call, the last


async def _late_written(store, late: dict[str, int]) -> None:
    from bot.connections import read_connections
    while read_connections(store)["llm"].get("late") != late:
        await asyncio.sleep(0.01)


async def test_a_late_count_whose_write_failed_is_written_as_the_run_ends(app, monkeypatch):
    """The first late call's write met a busy store and no later call came: the count
    is still written at the end, or status would never say a brief went unsent."""
    from bot.connections import read_connections
    set_meta, busy = app.store.set_meta, [True]

    def locked_once(key, value):
        if "late" in value and busy:
            busy.pop()
            raise RuntimeError("database is locked")
        return set_meta(key, value)
    monkeypatch.setattr(app.store, "set_meta", locked_once)
    with run_lock(app.settings.db_path):
        async with llm_watched(app, check=False):
            app.llm.endpoint.answered("brief")
            app.llm.endpoint.too_late("brief")
    assert read_connections(app.store)["llm"].get("late") == {"brief": 1}
