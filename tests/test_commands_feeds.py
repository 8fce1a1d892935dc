"""`/feeds` through the neutral layer (bot/commands_feeds.py): admin only, unsafe and
known URLs, a tested add, feeds needing attention first, resuming paused feeds."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.commands import Commands
from bot.config import Settings
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.plural import count
from tests.classify_kit import gazetteer_classifier
from tests.commands_kit import ADMIN, MEMBER, seeded_store, core_commands
from tests.fakes.feedserver import FeedServer, make_entries, make_rss


classifier = pytest.fixture(gazetteer_classifier, name="classifier", scope="module")
store = pytest.fixture(seeded_store, name="store")
commands = pytest.fixture(core_commands, name="commands")


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
    "https://news.example.com/rss#latest", "https://news.example.com/rss#",
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


@pytest.mark.parametrize("where, to_fix", [
    ("an intranet name", True),            # resolves to a private address: the setting
    ("a redirect to ftp://", False),       # the server's doing: no working feed there
])
async def test_a_refused_host_is_to_be_fixed_a_refused_redirect_is_no_feed(store, classifier,
                                                                           clock, where, to_fix):
    """`ainews feeds add` exits 2 for the one (fix the URL or AINEWS_ALLOW_PRIVATE_HOSTS)
    and 1 for the other, as for any URL with no working feed (Reply.nothing_there)."""
    from tests.fetcher_kit import LoopbackDNS
    private = where == "an intranet name"
    commands = Commands(store, classifier, settings=Settings(allow_private_hosts=not private),
                        clock=clock, fetcher_factory=lambda: Fetcher(
                            FetchPolicy(allow_private=not private), resolver=LoopbackDNS()))
    async with FeedServer() as srv:
        srv.add_redirect("/r", "ftp://example.com/rss", 301)
        url = f"http://intranet.example:{srv.port}/r" if private else srv.url("/r")
        reply = await commands.feeds(ADMIN, "add", url)
    said = "is a loopback address; refused" if private else "redirected to ftp://"
    assert reply.kind == "error" and said in reply.text
    assert reply.nothing_there is not to_fix and store.feed_states() == []


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


def paused_feed(store, clock, name: str, url: str) -> str:
    """A feed paused after 10 failures in a row; its URL."""
    from feeds.models import FeedSource
    store.upsert_feed(FeedSource(name, url))
    for _ in range(10):
        store.record_fetch_failure(url, now=clock(), next_poll=clock(), kind="http",
                                   message="fetcher: down.example answered HTTP 503")
    return url


async def test_a_paused_feed_can_be_resumed_from_chat(commands, store, clock):
    # `/feeds list` showed a feed paused after 10 failures, and chat had no way to
    # resume it (only `ainews feeds resume` on the bot's host).
    url = paused_feed(store, clock, "Down Wire", "https://down.example/rss")
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


async def test_a_paused_feed_is_resumed_from_chat_by_the_name_feeds_list_shows(commands, store,
                                                                             clock):
    url = paused_feed(store, clock, "Down Wire", "https://down.example/rss")
    resumed = await commands.run_text(ADMIN, "feeds resume down wire")
    assert resumed.kind == "text" and f"Resumed Down Wire ({url})" in resumed.text
    assert not store.feed_state(url).paused


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
    assert header.endswith("`feeds resume all` resumes every paused one and retries those "
                           "waiting after failures.")
    resumed = await commands.run_text(ADMIN, "feeds resume all")
    assert resumed.kind == "text" and "Resumed 2 paused feeds" in resumed.text
    assert [store.feed_state(u).paused for u in urls] == [False, False, False]
    again = await commands.feeds(ADMIN, "resume", "ALL")
    assert again.text == "No feed is paused or waiting after failures."


async def test_resume_from_chat_retries_feeds_waiting_after_failures(commands, store, clock):
    """Feeds in backoff (not paused) after a cause since fixed: "No feed is paused", and
    resuming one by name was refused as "not paused", while they waited for hours."""
    from datetime import timedelta
    from feeds.models import FeedSource
    urls = [f"https://intranet{i}.example/rss" for i in range(3)]
    for i, url in enumerate(urls):
        store.upsert_feed(FeedSource(f"Intranet {i}", url))
        store.record_fetch_failure(url, now=clock(), next_poll=clock() + timedelta(hours=2),
                                   kind="blocked", message="fetcher: refused")
    one = await commands.run_text(ADMIN, "feeds resume Intranet 0")
    assert one.kind == "text" and "backoff after 1 failure is cleared" in one.text
    resumed = await commands.run_text(ADMIN, "feeds resume all")
    assert resumed.text == "2 feeds waiting after failures are tried at the next poll."
    assert [u for u in urls if u in {s.source.url for s in store.due_feeds(clock())}] == urls
    assert not any(store.feed_state(u).last_error for u in urls)


async def test_several_feeds_are_removed_and_resumed_from_chat(commands, store, clock):
    """As `ainews feeds remove A B`: every one found before any is touched."""
    urls = [paused_feed(store, clock, f"Down {i}", f"https://down{i}.example/rss")
            for i in range(3)]
    resumed = await commands.run_text(ADMIN, f"feeds resume {urls[0]} {urls[1]}")
    assert resumed.kind == "text" and resumed.text.count("Resumed Down") == 2
    assert [store.feed_state(u).paused for u in urls] == [False, False, True]
    unknown = await commands.run_text(ADMIN, f"feeds remove {urls[0]} https://no.example/rss")
    assert unknown.kind == "error" and "'https://no.example/rss'" in unknown.text
    # A #fragment on the first: joined, the rest read as its fragment, and only it went.
    removed = await commands.run_text(ADMIN, f"feeds remove {urls[0]}#top {urls[2]}")
    assert removed.text == f"Removed 2 feeds: Down 0 ({urls[0]}), Down 2 ({urls[2]})."
    assert [s.source.url for s in store.feed_states()] == [urls[1]]


@pytest.mark.parametrize("name", ["iThome", "news.example.com"])
async def test_a_feed_that_is_not_paused_keeps_its_names_case_in_chat(commands, store, name):
    """Chat starts an error with a capital: "{name} (URL) is not paused" showed a feed
    named iThome as "IThome" and one named by its host as "News.example.com"."""
    from bot.discord.render_reply import reply_text
    from bot.slack.render_reply import reply_body
    from feeds.models import FeedSource
    url = "https://www.ithome.example/rss"
    store.upsert_feed(FeedSource(name, url))
    reply = await commands.feeds(ADMIN, "resume", name)
    assert reply.kind == "error"
    assert reply_body(reply) == f"Feed {name} ({url}) is not paused; it is polled as usual."
    assert f"Feed {name} (" in reply_text(reply)


@pytest.mark.parametrize("reached, said", [(False, True), (True, False)],
                         ids=["outage", "one-answered"])
async def test_feeds_list_in_chat_says_when_the_network_looks_down(commands, store, clock,
                                                                  reached, said):
    # "3 feeds (3 failing)", each with its DNS error, read as three broken feeds while
    # the poller had found the bot's own network down and counted none of it.
    from feeds.models import FeedSource
    for i in range(3):
        url = f"https://f{i}.example/rss"
        store.upsert_feed(FeedSource(f"F{i}", url))
        store.record_unreachable(url, now=clock(), next_poll=clock(), kind="dns",
                                 message=f"fetcher: f{i}.example: DNS lookup failed")
    if reached:
        store.upsert_feed(FeedSource("Up", "https://up.example/rss"))
        store.record_fetch_ok("https://up.example/rss", now=clock(), next_poll=clock(),
                              etag=None, last_modified=None, body_hash="h")
    lines = (await commands.feeds(ADMIN, "list")).text.splitlines()
    assert (lines[1] == "  (no feed answers, DNS or connection failures everywhere: the "
            "network looks down; not counted against the feeds)") == said


SECRET_URL = "https://alice:s3cretpw@private.example/rss?token=t0k3n&id=4"
SHOWN_URL = "https://alice:***@private.example/rss?token=***&id=4"


@pytest.mark.parametrize("command, said", [
    ("list", f"[paused] Private — {SHOWN_URL}"),
    ("list", f"feeds resume {SHOWN_URL}"),             # the command suggested works as shown
    (f"add {SECRET_URL}", f"Already following Private ({SHOWN_URL})."),
    ("add https://alice:s3cretpw@10.0.0.1/rss", "can't add https://alice:***@10.0.0.1/rss"),
    ("add https://alice:s3cretpw@private.example/other.xml",
     "Added feed private.example (https://alice:***@private.example/other.xml)."),
    (f"resume {SHOWN_URL}", f"Resumed Private ({SHOWN_URL})"),
    (f"remove {SHOWN_URL}", f"Removed feed Private ({SHOWN_URL})."),
    ("remove private", f"Removed feed Private ({SHOWN_URL})."),
    ("resume privat", f"did you mean Private ({SHOWN_URL})?"),
], ids=["list", "list-resume", "add-known", "add-refused", "add-other", "resume", "remove",
        "remove-by-name", "did-you-mean"])
async def test_chat_never_shows_a_feed_urls_credentials(commands, store, clock, command, said):
    """A private feed's user:password@ (sent as Basic auth) or ?token= was shown in every
    reply about it, in channels many people read."""
    paused_feed(store, clock, "Private", SECRET_URL)
    reply = await commands.run_text(ADMIN, f"feeds {command}")
    assert said in reply.text
    assert "s3cretpw" not in reply.text and "t0k3n" not in reply.text
    assert (store.feed_state(SECRET_URL) is not None) != command.startswith("remove")


@pytest.mark.parametrize("also_reported, dropped", [(False, 2), (True, 1)],
                         ids=["its-own", "also-reported-by-a-followed-feed"])
async def test_removing_a_feed_drops_its_waiting_posts(commands, store, clock, also_reported,
                                                       dropped):
    """`feeds remove` left the feed's queued and held posts to go out, and said nothing,
    where `unsubscribe` says "3 waiting posts won't go out". A post whose news a feed
    still followed reported too stays: that feed's readers still want it."""
    from bot.dispatch import dispatch_new
    from feeds.models import FeedSource
    from tests.commands_kit import SEED, _story
    store.upsert_feed(FeedSource("News", "https://news.example/rss"))
    store.upsert_feed(FeedSource("Wire", "https://wire.example/rss"))
    commands.subscribe(ADMIN, "all")
    fresh = store.stories_to_dispatch(0, store.last_story_pk())
    fresh = [s for s in fresh if s.id != "old"]                  # too old: never routed
    assert dispatch_new(store, fresh, clock()) == 2
    if also_reported:
        wire = replace(_story("wire", SEED, clock, ("Alibaba",), ("open-source",)),
                       feed_url="https://wire.example/rss", source="Wire",
                       url="https://wire.example/seed")
        store.add_new_stories([wire], backlog=False, now=clock())
    reply = await commands.run_text(ADMIN, "feeds remove News")
    assert reply.text == ("Removed feed News (https://news.example/rss). "
                          f"{count(dropped, 'waiting post')} from it won't go out.")
    assert store.outbox_counts() == {"cancelled": dropped, **({"due": 1} if also_reported else {})}
    assert store.get_story("seed") is not None and store.get_story("nv") is not None
    why = commands.why(ADMIN, "https://news.example/nv").text      # not the channel's doing
    assert "This channel: not posted: its feed was removed from the bot first" in why



async def test_removing_a_feed_keeps_a_post_another_followed_feed_carries_as_is(
        commands, store, clock):
    """review2: an outlet's main feed and its AI section (or an aggregator) carry the
    same article, same link. The store keeps it as one story row, the first feed's (the
    second feed's copy is only an alias), so `feeds remove` of the first feed found no
    "story from another feed" and cancelled the post the still-followed feed carries."""
    from bot.dispatch import dispatch_new
    from feeds.models import FeedSource
    from tests.commands_kit import SEED, _story
    store.upsert_feed(FeedSource("News", "https://news.example/rss"))
    store.upsert_feed(FeedSource("News AI", "https://news.example/ai/rss"))
    commands.subscribe(ADMIN, "all")
    fresh = [s for s in store.stories_to_dispatch(0, store.last_story_pk()) if s.id != "old"]
    assert dispatch_new(store, fresh, clock()) == 2
    # The AI section's copy of the seed story: its own guid, the same link.
    section = replace(_story("ai-section-guid", SEED, clock, ("Alibaba",), ("open-source",)),
                      feed_url="https://news.example/ai/rss", url="https://news.example/seed")
    assert store.add_new_stories([section], backlog=False, now=clock()) == []   # known
    await commands.run_text(ADMIN, "feeds remove News")
    assert store.outbox_counts() == {"cancelled": 1, "due": 1}
    # Once neither feed is followed, the post goes as well.
    await commands.run_text(ADMIN, 'feeds remove "News AI"')
    assert store.outbox_counts() == {"cancelled": 2}


@pytest.mark.parametrize("guid, section_guid, section_link", [
    ("", "", ""), ("", "ai-1", ""), ("story-0", "story-0", "https://news.example.com/ai/0"),
], ids=["same-link-no-guid", "same-link-own-guid", "same-guid-other-link"])
@pytest.mark.parametrize("section_added_after", [False, True],
                         ids=["section-followed-before", "section-added-after"])
async def test_removing_a_feed_keeps_the_post_a_followed_feed_lists_too(
        store, classifier, clock, guid, section_guid, section_link, section_added_after):
    """An outlet's main feed and its AI section list the same article. Without a <guid>
    both copies get the one id made of the link, and the section's was dropped as known
    before anything recorded that the section carries it: `feeds remove` of the main
    feed cancelled the post the still-followed section carries. With the same GUID but
    another link (GUIDs are the feed's own: two stories, one cluster) the post was
    cancelled when the section first listed it in its first poll, and when kept it went
    out after both feeds were removed."""
    from datetime import timedelta
    from bot.dispatch import dispatch_new
    from bot.pipeline import Pipeline
    from feeds.formatter import Formatter
    from feeds.models import FeedSource, utcnow
    from tests.fakes.stories import archive_entry, strategy_entry
    clock.now = utcnow()
    commands = Commands(store, classifier, settings=Settings(), clock=clock)
    entry = {**strategy_entry(0), "guid": guid}
    copy = {**entry, "guid": section_guid, "link": section_link or entry["link"]}
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=2)
        srv.add("/news.xml", make_rss("News", [archive_entry(0)]))
        srv.add("/ai.xml", make_rss("News AI", [archive_entry(1)]))
        feeds = [FeedSource("News", srv.url("/news.xml")),
                 FeedSource("News AI", srv.url("/ai.xml"))]
        for feed in feeds[:1 if section_added_after else 2]:
            store.upsert_feed(feed)
        commands.subscribe(ADMIN, "all")
        await pipeline.poll_once(now=clock.now, all_feeds=True)   # archives: never posted
        srv.add("/news.xml", make_rss("News", [entry, archive_entry(0)]))
        polled = await pipeline.poll_once(now=clock.now + timedelta(minutes=5), all_feeds=True)
        assert dispatch_new(store, polled.fresh, clock()) == 1
        srv.add("/ai.xml", make_rss("News AI", [copy, archive_entry(1)]))
        store.upsert_feed(feeds[1])
        await pipeline.poll_once(now=clock.now + timedelta(minutes=10), all_feeds=True)
    reply = await commands.run_text(ADMIN, "feeds remove News")
    assert reply.text == f"Removed feed News ({feeds[0].url})."        # nothing cancelled
    assert store.outbox_counts() == {"due": 1}
    why = commands.why(ADMIN, entry["link"]).text
    assert "This channel: waiting to be posted" in why, why
    # Once neither feed is followed, the post goes as well.
    await commands.run_text(ADMIN, 'feeds remove "News AI"')
    assert store.outbox_counts() == {"cancelled": 1}


@pytest.mark.parametrize("name, said", [
    ("Hacker News Daily", "Renamed News (https://news.example.com/rss) to Hacker News Daily: "
                          "its stories found from now on are posted under that name."),
    ("News", "Already following News (https://news.example.com/rss)."),
    ("", "Already following News (https://news.example.com/rss)."),
])
async def test_feeds_add_with_another_name_renames_a_followed_feed(commands, name, said):
    """`feeds add URL "New Name"` for a feed already followed answered "Already following
    Old Name", and no command renamed a feed: the name every post shows stayed for good."""
    from feeds.models import FeedSource
    commands.store.upsert_feed(FeedSource("News", "https://news.example.com/rss", ("ai",)))
    reply = await commands.feeds(ADMIN, "add", "HTTPS://news.example.com/rss", name)
    assert reply.kind == "text" and reply.text == said
    (state,) = commands.store.feed_states()
    assert (state.source.name, state.source.tags) == (name or "News", ("ai",))
