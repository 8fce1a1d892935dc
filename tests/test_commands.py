"""Commands through the neutral layer: every command, every error a user can make."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.commands import Commands
from bot.config import Settings
from feeds.classify import Classifier, load_gazetteer
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.models import Classification, Story
from storage.store import Store
from tests.fakes.feedserver import FeedServer, make_entries, make_rss
from tests.fakes.recorder import FakeClock
from bot.replies import Caller

ADMIN = Caller("discord", "g1", "c1", "u1", is_admin=True)
MEMBER = replace(ADMIN, user="u2", is_admin=False)
SEED = "China's Alibaba shifts towards revenue over open-source AI"


@pytest.fixture(scope="module")
def classifier():
    return Classifier(load_gazetteer())


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(tmp_path, clock):
    s = Store(tmp_path / "ainews.db")
    stories = [
        _story("seed", SEED, clock, ("Alibaba", "Tencent", "Baidu"), ("open-source", "pricing")),
        _story("nv", "Nvidia H20 export licences tightened", clock, ("Nvidia",),
               ("chips", "policy"), hours_ago=2),
        _story("old", "Baidu cuts Ernie prices", clock, ("Baidu",), ("pricing",), hours_ago=24 * 8),
    ]
    s.add_new_stories(stories, backlog=False, now=clock())
    yield s
    s.close()


def _story(sid, title, clock, companies, topics, hours_ago=1) -> Story:
    return Story(id=sid, url=f"https://news.example/{sid}", title=title,
                 text=f"{title}. The company said more on Monday.", source="FT",
                 feed_url="https://news.example/rss",
                 published=clock.now - timedelta(hours=hours_ago),
                 classification=Classification(strategy=True, score=3.0,
                                               companies=companies, topics=topics))


@pytest.fixture
def commands(store, classifier, clock):
    return Commands(store, classifier, settings=Settings(), clock=clock)


def headlines(reply):
    return [b.headline for b in reply.briefs]


# ---- lookups ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["alibaba", "ALIBABA", "Alibaba Group", "qwen"])
def test_company_by_name_or_alias(commands, name):
    reply = commands.company(MEMBER, name)
    assert reply.kind == "briefs" and reply.title == "Latest on Alibaba"
    assert headlines(reply) == [SEED]
    assert reply.ephemeral and reply.shareable


def test_unknown_company_suggests(commands):
    reply = commands.company(MEMBER, "alibabba")
    assert reply.kind == "error"
    assert reply.text == "no company 'alibabba' — did you mean Alibaba?"


def test_echoed_input_is_one_bounded_line(commands):
    reply = commands.company(MEMBER, "x" * 500 + "\n@everyone")
    assert reply.kind == "error" and len(reply.text) < 200 and "\n" not in reply.text


def test_company_without_stories_says_so(commands):
    reply = commands.company(MEMBER, "Anthropic")
    assert reply.kind == "briefs" and reply.briefs == ()
    assert "No stories about Anthropic" in reply.text


@pytest.mark.parametrize("call", [
    lambda c, lim: c.company(MEMBER, "alibaba", lim),
    lambda c, lim: c.latest(MEMBER, lim),
    lambda c, lim: c.topic(MEMBER, "pricing", lim),
    lambda c, lim: c.search(MEMBER, "Alibaba", lim),
])
@pytest.mark.parametrize("limit", ["abc", 0, 26, "-1", "2.5"])
def test_bad_limits_say_what_to_do(commands, call, limit):
    reply = call(commands, limit)
    assert reply.kind == "error" and "1" in reply.text and "25" in reply.text


def test_limit_caps_results(commands):
    assert len(commands.latest(MEMBER, "1").briefs) == 1
    assert len(commands.latest(MEMBER, 25).briefs) == 3


def test_latest_newest_first_and_by_topic(commands):
    assert headlines(commands.latest(MEMBER))[:2] == [SEED, "Nvidia H20 export licences tightened"]
    reply = commands.latest(MEMBER, 5, "chips")
    assert headlines(reply) == ["Nvidia H20 export licences tightened"]


def test_latest_of_a_topic_without_stories_names_the_topic(commands):
    """The archive has stories, none on funding: not "no stories yet, feeds are polled"."""
    reply = commands.latest(MEMBER, 5, "funding")
    assert reply.kind == "briefs" and reply.briefs == ()
    assert reply.text == "No strategy stories on Funding & investment in the archive yet."


@pytest.mark.parametrize("call", [lambda c: c.latest(MEMBER, 5, "chipz"),
                                  lambda c: c.topic(MEMBER, "chipz")])
def test_unknown_topic_lists_topics(commands, call):
    reply = call(commands)
    assert reply.kind == "error"
    assert "no topic 'chipz'" in reply.text and "did you mean chips" in reply.text
    assert "open-source" in reply.text


def test_topic(commands):
    reply = commands.topic(MEMBER, "pricing")
    assert headlines(reply) == [SEED, "Baidu cuts Ernie prices"]
    assert "Pricing" in reply.title or "pricing" in reply.title.lower()


def test_search_and_its_errors(commands):
    assert headlines(commands.search(MEMBER, "revenue open-source")) == [SEED]
    empty = commands.search(MEMBER, "zeppelin")
    assert empty.kind == "briefs" and empty.briefs == () and "zeppelin" in empty.text
    assert commands.search(MEMBER, "   ").kind == "error"


def test_search_leaves_out_minus_words(commands):
    assert headlines(commands.search(MEMBER, "prices -ernie")) == []
    assert headlines(commands.search(MEMBER, "alibaba -revenue")) == []
    assert headlines(commands.search(MEMBER, "revenue -nvidia")) == [SEED]
    only = commands.search(MEMBER, "-alibaba")
    assert only.kind == "error" and "-WORD only leaves out" in only.text
    assert "`search openai -microsoft`" in only.text


@pytest.mark.parametrize("query", ["...", "-- ?", "AND OR (", '""'])
def test_search_of_no_word_says_so(commands, query):
    """Punctuation alone (or operators) read "Nothing matches '...'. Try fewer or other
    words", as if the archive had been searched."""
    reply = commands.search(MEMBER, query)
    assert reply.kind == "error", reply
    assert f"'{query}' has no word to search for (letters or digits)" in reply.text


def test_search_with_more_matches_than_a_limit_of_one_says_this_one(commands):
    reply = commands.search(MEMBER, "company", 1)       # in every story's text
    assert headlines(reply) == [SEED]
    assert "More stories match than this one:" in reply.text, reply.text


def _discord(reply):
    from bot.discord.render import reply_payload
    return reply_payload(reply)["content"]


def _slack(reply):
    from bot.slack.render import all_texts, reply_message
    return "\n".join(t for _, t in all_texts(reply_message(reply)["blocks"]))


def _console(reply):
    from bot.console import format_reply
    return format_reply(reply)


@pytest.mark.parametrize("shown", [lambda r: r.text, _discord, _slack, _console],
                         ids=["core", "discord", "slack", "console"])
def test_search_says_when_no_story_has_every_word(commands, shown):
    """With no story having every word, stories with any of them are shown: without a
    word of it, results lacking some words look like a broken search."""
    some = commands.search(MEMBER, "revenue zeppelin -nvidia")
    assert headlines(some) == [SEED]
    assert ("No story has all of: revenue zeppelin; showing stories with any of them."
            in shown(some))
    every = commands.search(MEMBER, "revenue open-source")
    assert headlines(every) == [SEED] and "No story has all" not in shown(every)


def test_topics_counts_the_last_seven_days(commands):
    text = commands.topics(MEMBER).text
    assert "pricing (" in text and "): 1" in text.split("pricing (")[1].split("\n")[0]
    assert "  Alibaba: 1" in text and "  Nvidia: 1" in text
    assert "Baidu: 1" in text            # the 8-day-old Baidu story is not counted


def test_help_lists_every_command(commands):
    lines = commands.help(MEMBER).text.splitlines()
    for word in ("company", "latest", "topic", "search", "topics", "why", "subscribe",
                 "unsubscribe", "subscriptions", "digest", "feeds"):
        assert any(line.startswith(f"  `{word}") for line in lines), word


def test_help_tells_admins_that_every_paused_feed_resumes_at_once(commands):
    # Chat takes `feeds resume all` (after an outage paused many), which help never said.
    feeds_line = next(line for line in commands.help(MEMBER).text.splitlines()
                      if line.startswith("  `feeds list`"))
    assert feeds_line.endswith("(`feeds resume all` resumes every paused one)")


def test_completion(commands):
    assert commands.complete_company("ali")[0] == "Alibaba"
    assert len(commands.complete_company("", limit=25)) == 25
    assert ("pricing", commands.classifier.topic_label("pricing")) in commands.complete_topic("pri")
    assert [s for s, _ in commands.complete_topic("open")] == ["open-source"]


@pytest.mark.parametrize("typed", ["qwen", "QWEN", "阿里", "阿里巴巴", "通义"])
def test_completion_knows_the_aliases_the_command_accepts(commands, typed):
    """`company qwen` and `company 阿里巴巴` work; typing them in Discord's company box
    must offer Alibaba too, not an empty list."""
    assert commands.complete_company(typed)[0] == "Alibaba"
    assert commands.company(MEMBER, commands.complete_company(typed)[0]).kind == "briefs"


# ---- subscriptions ----------------------------------------------------------------------
@pytest.mark.parametrize("target, listed", [
    ("all", "all AI strategy stories"),
    ("pricing", "(topic pricing)"),
    ("qwen", "stories about Alibaba"),
    ("company:Meta", "stories about Meta"),
])
def test_subscribe_and_list(commands, target, listed):
    reply = commands.subscribe(ADMIN, target)
    assert reply.kind == "text" and not reply.ephemeral      # the channel sees it
    assert listed in commands.subscriptions(MEMBER).text
    again = commands.subscribe(ADMIN, target)
    assert "already" in again.text


@pytest.mark.parametrize("call", [
    lambda c: c.subscribe(MEMBER, "all"),
    lambda c: c.unsubscribe(MEMBER, "all"),
    lambda c: c.digest(MEMBER, "daily", "08:00"),
    lambda c: c.digest(MEMBER, "off"),
])
def test_channel_changes_are_admin_only(commands, call):
    reply = call(commands)
    assert reply.kind == "error"
    assert "only members with the Manage Channels permission" in reply.text
    assert commands.store.subscriptions_for_channel("discord", "c1") == []
    assert commands.store.digest_setting("discord", "c1") is None


@pytest.mark.parametrize("typed, first", [
    ("alibabba", "Alibaba"),
    ("pricng", "pricing"),          # a topic's typo: it came after a company ("Microsoft")
    ("chipz", "chips"),
    ("opnai", "OpenAI"),
])
def test_unknown_subscription_target_suggests_the_closest_first(commands, typed, first):
    reply = commands.subscribe(ADMIN, typed)
    assert reply.kind == "error" and f"did you mean {first}" in reply.text
    assert commands.store.subscriptions_for_channel("discord", "c1") == []


def test_unsubscribe(commands):
    commands.subscribe(ADMIN, "pricing")
    commands.subscribe(ADMIN, "Nvidia")
    assert "no longer" in commands.unsubscribe(ADMIN, "pricing").text
    text = commands.subscriptions(MEMBER).text
    assert "Nvidia" in text and "pricing" not in text
    assert commands.unsubscribe(ADMIN, "chips").kind == "error"


def test_unsubscribe_choices_stay_removable_when_the_gazetteer_forgets_a_name(commands):
    """A picker choice names its kind (`company:X`); one for a company no longer in the
    company list (a custom one removed from the TOML) must still unsubscribe it."""
    from feeds.models import Subscription
    commands.store.subscribe(Subscription("discord", "g1", "c1", "company", "Gone Corp"))
    [(label, value)] = commands.complete_subscription(ADMIN, "gone")
    assert (label, value) == ("Gone Corp", "company:Gone Corp")
    assert "no longer gets stories about Gone Corp" in commands.unsubscribe(ADMIN, value).text
    assert commands.complete_subscription(ADMIN, "") == []


@pytest.mark.parametrize("follows, stopped", [
    (("pricing", "qwen"), "Alibaba, pricing"),            # named targets only
    (("all", "pricing"), "all, pricing"),                 # all plus a named target
    (("Nvidia",), "Nvidia"),
])
@pytest.mark.parametrize("typed", ["all", "ALL", "everything"])
def test_unsubscribe_all_stops_everything_the_channel_follows(commands, follows, stopped,
                                                              typed):
    """An operator's channel followed pricing and Alibaba: `unsubscribe all` answered
    "this channel doesn't follow 'all'", with no one step to stop everything."""
    for target in follows:
        commands.subscribe(ADMIN, target)
    reply = commands.unsubscribe(ADMIN, typed)
    assert reply.kind == "text" and not reply.ephemeral
    assert f"no longer gets anything (stopped: {stopped})" in reply.text
    assert commands.store.subscriptions_for_channel("discord", "c1") == []
    assert "follows nothing" in commands.subscriptions(MEMBER).text
    assert "follows nothing" in commands.unsubscribe(ADMIN, "all").text


def test_unsubscribe_all_drops_the_waiting_posts_and_keeps_the_digest_setting(commands,
                                                                              clock):
    from bot.dispatch import dispatch_new
    commands.subscribe(ADMIN, "pricing")
    commands.subscribe(ADMIN, "Baidu")
    commands.digest(ADMIN, "daily", "18:00", "Europe/London")
    stored = commands.store.stories_to_dispatch(0, commands.store.last_story_pk())
    assert dispatch_new(commands.store, stored, clock()) >= 1          # held for 18:00
    text = commands.unsubscribe(ADMIN, "all").text
    assert re.search(r"\d+ waiting posts? won't go out", text) and "digest off" in text
    assert set(commands.store.outbox_counts()) == {"cancelled"}


def test_unsubscribe_offers_all_and_help_says_what_it_does(commands):
    commands.subscribe(ADMIN, "pricing")
    assert ("Everything this channel follows (stop all)", "all") not in \
        commands.complete_subscription(ADMIN, "")          # one target: itself is enough
    commands.subscribe(ADMIN, "Nvidia")
    assert commands.complete_subscription(ADMIN, "al")[-1] == (
        "Everything this channel follows (stop all)", "all")
    assert "unsubscribe all` stops everything" in commands.help(MEMBER).text


@pytest.mark.parametrize("target", ["", "   ", None])
def test_unsubscribe_without_a_target_says_what_to_type(commands, target):
    # It answered "this channel doesn't follow ''", which tells no one what to do.
    commands.subscribe(ADMIN, "pricing")
    reply = commands.unsubscribe(ADMIN, target)
    assert reply.kind == "error" and "''" not in reply.text
    assert "unsubscribe chips" in reply.text or "unsubscribe TARGET" in reply.text
    assert "pricing" in commands.subscriptions(MEMBER).text


def test_subscriptions_empty_and_paused(commands):
    assert "follows nothing" in commands.subscriptions(MEMBER).text
    commands.subscribe(ADMIN, "all")
    commands.store.pause_channel("discord", "c1", "bot removed from the server")
    assert "PAUSED: bot removed from the server" in commands.subscriptions(MEMBER).text
    assert commands.subscribe(ADMIN, "all").text.startswith("This channel gets again")
    assert "PAUSED" not in commands.subscriptions(MEMBER).text


def test_a_paused_channel_says_so_once_with_one_command_that_resumes_everything(commands):
    """The pause covers the channel: each subscription repeated the reason with its own
    'subscribe X to resume', as if each needed a command, though one resumes them all."""
    for target in ("pricing", "qwen", "Nvidia"):
        commands.subscribe(ADMIN, target)
    commands.store.pause_channel("discord", "c1", "Missing Access")
    text = commands.subscriptions(MEMBER).text
    assert text.count("Missing Access") == 1 and text.count("— paused") == 3
    assert "then `subscribe Alibaba` resumes every subscription above" in text
    resumed = commands.subscribe(ADMIN, "chips").text
    assert "resumes for its other 3 subscriptions too" in resumed
    assert "paused" not in commands.subscriptions(MEMBER).text.casefold()


@pytest.mark.parametrize("tz, next_digest", [
    ("Europe/London", "next: Tue 03 Mar 09:00 GMT"),     # clock: Mon 02 Mar 09:00 UTC
    ("Asia/Shanghai", "next: Tue 03 Mar 09:00 CST"),
])
@pytest.mark.parametrize("follows", [True, False])
def test_subscriptions_show_the_digest_time_zone_and_next_digest(commands, tz, next_digest,
                                                                 follows):
    """It said "one digest a day at 09:00 Europe/London": not when the next comes, nor
    that a day with no new stories sends none; and nothing once the list was empty."""
    if follows:
        commands.subscribe(ADMIN, "pricing")
    commands.digest(ADMIN, "daily", "09:00", tz)
    text = commands.subscriptions(MEMBER).text
    assert f"one digest a day at 09:00 {tz} ({next_digest})" in text
    assert "no digest on a day without new stories" in text


def test_all_plus_named_targets_says_the_named_ones_add_nothing(commands):
    commands.subscribe(ADMIN, "all")
    assert "already gets all strategy stories" in commands.subscribe(ADMIN, "pricing").text
    text = commands.subscriptions(MEMBER).text
    assert "(topic pricing) (already included in all)" in text
    assert "all AI strategy stories\n" in text


def test_subscriptions_are_per_channel(commands):
    commands.subscribe(ADMIN, "all")
    other = replace(MEMBER, channel="c2")
    assert "follows nothing" in commands.subscriptions(other).text


# ---- digest -------------------------------------------------------------------------------
def test_digest_daily_and_off(commands):
    reply = commands.digest(ADMIN, "daily", "8:30", "Europe/Berlin")
    assert "08:30 Europe/Berlin" in reply.text and not reply.ephemeral
    assert "none on a day without new stories" in reply.text
    setting = commands.store.digest_setting("discord", "c1")
    assert (setting.at_time, setting.tz) == ("08:30", "Europe/Berlin")
    commands.subscribe(ADMIN, "all")
    assert "digest a day at 08:30 Europe/Berlin" in commands.subscriptions(MEMBER).text
    assert "Digest off" in commands.digest(ADMIN, "off").text
    assert commands.store.digest_setting("discord", "c1") is None


@pytest.mark.parametrize("follows", [False, True])
def test_a_digest_for_a_channel_that_follows_nothing_says_so(commands, follows):
    # "now gets one digest a day" for a channel that follows nothing: an empty digest,
    # waited for in vain.
    if follows:
        commands.subscribe(ADMIN, "pricing")
    text = commands.digest(ADMIN, "daily", "8:30").text
    assert "digest a day at 08:30" in text
    assert ("follows nothing" in text and "subscribe all" in text) is not follows


@pytest.mark.parametrize("tz, note", [
    ("EST", "EST has no summer time"),
    ("GMT", "use Europe/London"),
    ("Europe/London", None),
    ("Asia/Shanghai", None),
    ("UTC", None),
])
def test_a_digest_in_a_zone_without_summer_time_says_what_that_means(commands, tz, note):
    """EST and GMT are valid zone names, but a New York or London channel that picks
    them gets its digest an hour late all summer, with nothing said."""
    text = commands.digest(ADMIN, "daily", "09:00", tz).text
    assert f"09:00 {tz}" in text
    assert (note in text) if note else ("summer time" not in text)


def test_a_mistyped_digest_time_zone_suggests_the_zone_meant(commands):
    reply = commands.digest(ADMIN, "daily 09:00 Europe/Londn")
    assert reply.kind == "error" and "did you mean Europe/London?" in reply.text
    assert commands.store.digest_setting("discord", "c1") is None


@pytest.mark.parametrize("args, message", [
    (("daily", "25:61"), "not a time"),
    (("daily", "08:30", "Moon/Base"), "unknown time zone"),
    (("daily",), "give the time of day"),
    (("weekly", "08:30"), "digest daily HH:MM"),
])
def test_digest_errors(commands, args, message):
    reply = commands.digest(ADMIN, *args)
    assert reply.kind == "error" and message in reply.text
    assert commands.store.digest_setting("discord", "c1") is None


# ---- text command lines -------------------------------------------------------------------
@pytest.mark.parametrize("line, check", [
    ("company alibaba 1", lambda r: headlines(r) == [SEED]),
    ("/ainews company Alibaba Group", lambda r: headlines(r) == [SEED]),
    ("latest 2 chips", lambda r: headlines(r) == ["Nvidia H20 export licences tightened"]),
    # a topic of two words, as Slack's /latest and the topic command take it
    ("latest 1 open source", lambda r: headlines(r) == [SEED]),
    ("latest export controls", lambda r: headlines(r) == ["Nvidia H20 export licences tightened"]),
    ("topic pricing 1", lambda r: headlines(r) == [SEED]),
    ("search revenue", lambda r: headlines(r) == [SEED]),
    ("topics", lambda r: "Companies:" in r.text),
    ("", lambda r: "Commands:" in r.text),
    ("help", lambda r: "Commands:" in r.text),
    ("latest abc", lambda r: r.kind == "error" and "no topic 'abc'" in r.text),
    ("latest 1.5", lambda r: r.kind == "error" and "'1.5' is not a number" in r.text),
    ("latest 0", lambda r: r.kind == "error" and "25" in r.text),
    ("frobnicate", lambda r: r.kind == "error" and "help" in r.text),
    ("subscribe open-source", lambda r: "Open" in r.text and not r.ephemeral),
    ('digest daily 07:15 "America/New_York"', lambda r: "07:15 America/New_York" in r.text),
])
async def test_run_text(commands, line, check):
    assert check(await commands.run_text(ADMIN, line))


@pytest.mark.parametrize("call, check", [
    (lambda c: c.company(MEMBER, "alibaba 1"), lambda r: headlines(r) == [SEED]),
    (lambda c: c.topic(MEMBER, "pricing 1"), lambda r: headlines(r) == [SEED]),
    (lambda c: c.digest(ADMIN, "daily 09:45 Asia/Tokyo"),
     lambda r: "09:45 Asia/Tokyo" in r.text),
    (lambda c: c.digest(ADMIN, "daily 09:45 Asia/Tokyo extra"), lambda r: r.kind == "error"),
])
def test_arguments_in_one_string(commands, call, check):
    """Slack's /company, /topic and /digest hand over their text as one string."""
    assert check(call(commands))


# ---- feeds --------------------------------------------------------------------------------
async def test_feeds_admin_only(commands):
    assert (await commands.feeds(MEMBER, "list")).kind == "error"


@pytest.mark.parametrize("url, message", [
    ("http://127.0.0.1/feed.xml", "127.0.0.1"),
    ("file:///etc/passwd", "only http and https"),
])
async def test_feeds_add_refuses_unsafe_urls(commands, url, message):
    reply = await commands.feeds(ADMIN, "add", url)
    assert reply.kind == "error" and message in reply.text
    assert commands.store.feed_states() == []


@pytest.mark.parametrize("typed", [
    "https://news.example.com/rss", "HTTPS://News.Example.COM/rss",
    "https://news.example.com:443/rss", " https://NEWS.example.com/rss ",
])
async def test_feeds_add_knows_a_feed_however_its_scheme_and_host_are_spelt(commands, typed):
    # HTTP://Example.COM/rss was added beside http://example.com/rss: one feed, polled twice.
    from feeds.models import FeedSource
    commands.store.upsert_feed(FeedSource("News", "https://news.example.com/rss"))
    reply = await commands.feeds(ADMIN, "add", typed)
    assert reply.text == "Already following News (https://news.example.com/rss)."
    assert len(commands.store.feed_states()) == 1


async def test_feeds_add_test_fetches_and_lists(store, classifier, clock):
    settings = Settings(allow_private_hosts=True)
    commands = Commands(store, classifier, settings=settings, clock=clock,
                        fetcher_factory=lambda: Fetcher(FetchPolicy(allow_private=True)))
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Example AI Wire", make_entries(3)))
        srv.add_html_with_feed("/", "/feed.xml")
        added = await commands.feeds(ADMIN, "add", srv.url("/feed.xml"))
        assert added.kind == "text" and "Example AI Wire" in added.text
        page = await commands.run_text(ADMIN, f"feeds add {srv.url('/')}")
        assert page.kind == "error" and srv.url("/feed.xml") in page.text
        missing = await commands.feeds(ADMIN, f"add {srv.url('/nope.xml')} Nope")
        assert missing.kind == "error" and "404" in missing.text
    listing = await commands.feeds(ADMIN, "list")
    assert "Example AI Wire" in listing.text and listing.text.startswith("1 feed:")
    assert (await commands.feeds(ADMIN, "remove", srv.url("/feed.xml"))).kind == "text"
    assert (await commands.feeds(ADMIN, "remove", srv.url("/feed.xml"))).kind == "error"
    assert (await commands.feeds(ADMIN, "frob")).kind == "error"


async def test_feeds_needing_attention_head_the_list(commands, store, clock):
    # Discord cuts a reply at 4,096 characters: with 60+ feeds listed by name, a paused
    # "Zeit" feed fell off the end, and with it the way to resume it.
    from feeds.models import FeedSource
    for i in range(80):
        store.upsert_feed(FeedSource(f"Wire {i:02d}", f"https://wire{i}.example/rss"))
    store.upsert_feed(FeedSource("Zeit Online", "https://zeit.example/rss"))
    for _ in range(10):
        store.record_fetch_failure("https://zeit.example/rss", now=clock(), next_poll=clock(),
                                   kind="http", message="fetcher: zeit.example answered 410")
    lines = (await commands.feeds(ADMIN, "list")).text.splitlines()
    assert lines[0] == "81 feeds (1 paused):"
    assert lines[1].startswith("  [paused] Zeit Online")


async def test_a_paused_feed_can_be_resumed_from_chat(commands, store, clock):
    # `/feeds list` showed a feed paused after 10 failures, and chat had no way to
    # resume it (only `ainews feeds resume` on the bot's host).
    from feeds.models import FeedSource
    url = "https://down.example/rss"
    store.upsert_feed(FeedSource("Down Wire", url))
    for _ in range(10):
        store.record_fetch_failure(url, now=clock(), next_poll=clock(), kind="http",
                                   message="fetcher: down.example answered HTTP 503")
    listing = await commands.feeds(ADMIN, "list")
    assert "[paused]" in listing.text and f"feeds resume {url}" in listing.text
    assert (await commands.feeds(MEMBER, "resume", url)).kind == "error"
    resumed = await commands.run_text(ADMIN, f"feeds resume {url}")
    assert resumed.kind == "text" and "Down Wire" in resumed.text
    state = store.feed_state(url)
    assert not state.paused and state.failures == 0
    again = await commands.feeds(ADMIN, "resume", url)
    assert again.kind == "error" and "not paused" in again.text
    unknown = await commands.feeds(ADMIN, "resume", "https://nowhere.example/rss")
    assert unknown.kind == "error" and "feeds list" in unknown.text


async def test_every_paused_feed_can_be_resumed_from_chat_at_once(commands, store, clock):
    # After an outage paused many feeds, chat had to resume them one URL at a time.
    from feeds.models import FeedSource
    urls = [f"https://down{i}.example/rss" for i in range(3)]
    for i, url in enumerate(urls):
        store.upsert_feed(FeedSource(f"Down {i}", url))
        for _ in range(10 if i < 2 else 1):
            store.record_fetch_failure(url, now=clock(), next_poll=clock(), kind="http",
                                       message="fetcher: answered HTTP 503")
    header = (await commands.feeds(ADMIN, "list")).text.splitlines()[0]
    assert header.endswith("`feeds resume all` resumes every paused one.")
    resumed = await commands.run_text(ADMIN, "feeds resume all")
    assert resumed.kind == "text" and "Resumed 2 paused feeds" in resumed.text
    assert [store.feed_state(u).paused for u in urls] == [False, False, False]
    assert store.feed_state(urls[2]).failures == 1      # not paused: left as it was
    again = await commands.feeds(ADMIN, "resume", "ALL")
    assert again.text == "No feed is paused."


def test_lookup_answers_when_condensing_a_story_fails(commands, store, monkeypatch, caplog):
    """A story that cannot be condensed on lookup still shows as its headline."""
    import bot.commands

    def broken(story):
        raise ValueError("odd markup")
    monkeypatch.setattr(bot.commands, "condense", broken)
    reply = commands.company(ADMIN, "Alibaba")
    assert headlines(reply) == [SEED] and reply.briefs[0].bullets == ()
    assert store.brief_for_hash(store.get_story("seed").content_hash) is None
    assert "commands: condensing seed on lookup failed" in caplog.text


def test_lookup_condenses_a_briefless_strategy_story_once(commands, store, monkeypatch):
    import bot.commands
    calls = []
    real = bot.commands.condense
    monkeypatch.setattr(bot.commands, "condense", lambda s: calls.append(s.id) or real(s))
    first = commands.company(ADMIN, "Alibaba").briefs[0]
    assert calls == ["seed"] and first.why_it_matters
    again = commands.latest(ADMIN, 5).briefs
    assert first in again and calls == ["seed", "nv", "old"]
    commands.latest(ADMIN, 5)
    assert calls == ["seed", "nv", "old"], "cached: condensed once"


def test_subscribing_again_lifts_a_channel_pause_for_all_its_subscriptions(commands):
    commands.subscribe(ADMIN, "pricing")
    commands.subscribe(ADMIN, "Nvidia")
    commands.store.pause_channel("discord", "c1", "missing permission")
    commands.subscribe(ADMIN, "chips")              # the admin fixed the channel
    text = commands.subscriptions(MEMBER).text
    assert "PAUSED" not in text and all(t in text for t in ("pricing", "Nvidia", "chips"))


# ---- input as people type or paste it -----------------------------------------------------
@pytest.mark.parametrize("call, check", [
    # full-width Latin and digits: a Chinese IME in full-width mode
    (lambda c: c.company(MEMBER, "ｑｗｅｎ"), lambda r: r.title == "Latest on Alibaba"),
    (lambda c: c.latest(MEMBER, "１", "ｐｒｉｃｉｎｇ"), lambda r: headlines(r) == [SEED]),
    (lambda c: c.topic(MEMBER, "ｃｈｉｐｓ"), lambda r: r.kind == "briefs"),
    (lambda c: c.subscribe(ADMIN, "ＯｐｅｎＡＩ"), lambda r: "stories about OpenAI" in r.text),
    (lambda c: c.digest(ADMIN, "ｄａｉｌｙ", "０８：３０"), lambda r: "08:30 UTC" in r.text),
    (lambda c: c.complete_company("ａｌｉ"), lambda r: r[0] == "Alibaba"),
    # zero-width characters pasted along with a name
    (lambda c: c.company(MEMBER, "Alibaba\u200b"), lambda r: r.title == "Latest on Alibaba"),
    (lambda c: c.subscribe(ADMIN, "\ufeffpri\u200dcing"), lambda r: "(topic pricing)" in r.text),
    (lambda c: c.search(MEMBER, "reve\u200bnue"), lambda r: headlines(r) == [SEED]),
])
def test_full_width_and_zero_width_input_is_read_as_meant(commands, call, check):
    assert check(call(commands))


@pytest.mark.parametrize("typed", ["llama 3 4", "Claude 3.5 2"])
def test_a_product_with_a_number_is_still_a_name_before_its_limit(commands, typed):
    """A second count is refused only when the name does not resolve: "Llama 3" is Meta."""
    reply = commands.company(MEMBER, typed)
    assert reply.kind == "briefs" and reply.title in ("Latest on Meta", "Latest on Anthropic")


async def test_chat_feeds_remove_takes_a_feed_name(commands, store):
    """`/ainews feeds remove Hacker News` (the name `feeds list` shows) said "no feed
    with URL Hacker"."""
    from feeds.models import FeedSource
    store.upsert_feed(FeedSource("Hacker News", "https://hn.example/rss"))
    reply = await commands.feeds(ADMIN, "remove hacker news")
    assert reply.text == "Removed feed Hacker News (https://hn.example/rss)."
    assert store.feed_states() == []
