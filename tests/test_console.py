"""Console adapter: what a console user sees, through delivery and through commands."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest

from bot.commands import Commands
from bot.console import ConsoleAdapter, format_reply, run_console_command
from bot.delivery import Delivery
from bot.dispatch import dispatch_new
from bot.replies import Reply
from feeds.classify import Classifier, load_gazetteer
from feeds.models import Brief, Subscription
from storage.store import Store
from tests.fakes.recorder import FakeClock

BRIEF = Brief(id="b1", headline="China's Alibaba shifts towards revenue over open-source AI",
              bullets=("Qwen's best models stay closed.", "Cloud prices rise.",
                       "Rivals keep open weights."),
              why_it_matters="Fewer free frontier models for developers.",
              url="https://www.ft.com/content/x", source="FT",
              published=datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc),
              companies=("Alibaba", "Tencent"), topics=("open-source",), strategy=True,
              also_reported_by=("Reuters",))


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ainews.db")
    yield s
    s.close()


async def test_send_prints_the_whole_brief():
    out = io.StringIO()
    adapter = ConsoleAdapter(out)
    ids = {await adapter.send("console", BRIEF, nonce="ainews-1"),
           await adapter.send("console", BRIEF, nonce="ainews-2")}
    text = out.getvalue()
    assert len(ids) == 2                      # message ids are distinct (edits need them)
    for part in (BRIEF.headline, *BRIEF.bullets, BRIEF.why_it_matters, "FT", BRIEF.url,
                 "Reuters"):
        assert part in text


async def test_a_lookalike_host_is_printed_as_punycode():
    """A story at https://pаypal.com/login (a Cyrillic "а") printed as that, which a
    terminal makes a link reading "paypal.com": it is shown as a browser shows it."""
    from dataclasses import replace
    out = io.StringIO()
    await ConsoleAdapter(out).send("console", replace(
        BRIEF, url="https://p\u0430ypal.com/login"), nonce="ainews-1")
    assert "https://xn--pypal-4ve.com/login\n" in out.getvalue()
    assert "\u0430" not in out.getvalue()


@pytest.mark.parametrize("url, shown", [
    ("https://stra\u00dfe.de/ki", "https://xn--strae-oqa.de/ki"),
    ("https://ed@m\u00fcnchen.de:8443/ki", "https://ed@xn--mnchen-3ya.de:8443/ki"),
])
async def test_an_international_host_is_printed_as_browsers_reach_it(url, shown):
    """https://straße.de/ki was printed as https://strasse.de/ki (Python's IDNA 2003
    codec): another site than the one browsers and the fetcher open (IDNA 2008); and a
    link's user ("ed@") was dropped along the way."""
    from dataclasses import replace
    out = io.StringIO()
    await ConsoleAdapter(out).send("console", replace(BRIEF, url=url), nonce="ainews-1")
    assert shown + "\n" in out.getvalue()


async def test_digest_and_edit_are_printed():
    out = io.StringIO()
    adapter = ConsoleAdapter(out)
    other = Brief(id="b2", headline="Nvidia H20 licences tightened", bullets=(),
                  why_it_matters="", url="https://x.example/2", source="Reuters",
                  published=BRIEF.published)
    await adapter.send_digest("console", "AI strategy digest, Mon 02 Mar 2026",
                              [BRIEF, other], nonce="ainews-d1")
    await adapter.edit("console", "console-1", BRIEF)     # an id from an older ainews
    text = out.getvalue()
    assert "AI strategy digest, Mon 02 Mar 2026" in text
    assert BRIEF.headline in text and other.headline in text
    assert "(update to an earlier post)" in text


async def test_an_update_after_a_restart_names_the_post_it_replaces():
    # Ids were a counter from 1 per process, kept in the outbox for edits: after a
    # restart two updates of different stories both read "(update to console-1)".
    first, second = io.StringIO(), io.StringIO()
    posted = await ConsoleAdapter(first, clock=lambda: datetime(
        2026, 3, 2, 8, 5, 9, tzinfo=timezone.utc)).send("console", BRIEF, nonce="ainews-1")
    restarted = ConsoleAdapter(second, clock=lambda: datetime(2026, 3, 2, 9, 0,
                                                              tzinfo=timezone.utc))
    other = await restarted.send("console", BRIEF, nonce="ainews-2")
    assert other != posted
    await restarted.edit("console", posted, BRIEF)
    assert "(update to the post printed 2026-03-02 08:05:09 UTC)" in second.getvalue()


async def test_delivery_to_the_console_end_to_end(store):
    clock = FakeClock(BRIEF.published)
    store.add_subscription(Subscription("console", "console", "console", "all", "all"),
                           now=clock())
    out = io.StringIO()
    dispatch_new(store, [BRIEF], clock())
    assert await Delivery(store, {"console": ConsoleAdapter(out)}, clock=clock,
                          sleep=clock.sleep).run_once() == 1
    assert BRIEF.headline in out.getvalue()


def test_run_console_command_prints_the_reply(store):
    commands = Commands(store, Classifier(load_gazetteer()))
    out = io.StringIO()
    reply = run_console_command(commands, "company alibabba", stream=out)
    assert reply.kind == "error"
    assert out.getvalue() == "error: no company 'alibabba' — did you mean Alibaba?\n"
    out = io.StringIO()
    run_console_command(commands, "subscribe pricing", stream=out)
    assert "now gets" in out.getvalue()      # the console user is the admin
    assert store.subscriptions_for_channel("console", "console")[0].target == "pricing"


@pytest.mark.parametrize("reply, expected", [
    (Reply(kind="briefs", title="Latest on Alibaba", briefs=(BRIEF,)), BRIEF.headline),
    (Reply(kind="briefs", title="Latest on Anthropic", text="No stories yet."),
     "No stories yet."),
    (Reply.message("plain text"), "plain text"),
])
def test_format_reply(reply, expected):
    text = format_reply(reply)
    assert expected in text and (not reply.title or text.startswith(reply.title))


@pytest.mark.parametrize("line", ["feeds list", "feeds add https://news.example.com/x.xml"])
def test_feed_text_in_a_reply_reaches_the_terminal_defused(store, line):
    """Feed names and errors are feed text (a name defaults to the feed's own title):
    an ANSI/OSC escape in one must not drive the console user's terminal."""
    from feeds.models import FeedSource
    url = "https://news.example.com/x.xml"
    store.upsert_feed(FeedSource("Wire\x1b]0;pwned\x07\x1b[2J", url))
    now = datetime(2026, 3, 2, tzinfo=timezone.utc)
    store.record_fetch_failure(url, now=now, next_poll=now, kind="http",
                               message="HTTP 500: \x1b[31mred\u202e")
    out = io.StringIO()
    run_console_command(Commands(store, Classifier(load_gazetteer())), line, stream=out)
    assert "Wire]0;pwned[2J" in out.getvalue()
    assert not any(c in out.getvalue() for c in "\x1b\x07\u202e")


@pytest.mark.parametrize("text", ["Wire\u202egnp.exe", "a\x9b2Jb", "zero\u200bwidth", "阿里巴巴 Qwen"])
def test_json_output_keeps_feed_text_but_cannot_drive_the_terminal(text):
    # --json lines quote feed text; JSON escapes C0 itself but printed C1 and bidi raw.
    from bot.console import json_line
    from bot.logs import CONTROL
    line = json_line({"headline": text})
    assert not CONTROL.search(line) and json.loads(line) == {"headline": text}
    assert "阿里巴巴" in json_line({"h": "阿里巴巴"})     # CJK stays readable
