"""A feed's entries as stories: ids from guids and links, headlines, dates, fields,
source names and TTL. Every test runs through both XML readers (tests/parser_kit.py)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from feeds.models import DATED_AHEAD, UNDATED, story_id
from feeds.parser import parse_feed
from tests.parser_kit import FEED, FETCHED, rss, parse, set_reader


reader = pytest.fixture(set_reader, name="reader", autouse=True, params=["auto", "feedparser"])


def test_duplicate_guids_inside_one_feed_give_one_story():
    item = "<item><guid isPermaLink='false'>g-1</guid><title>{}</title><link>https://x.com/1</link></item>"
    parsed = parse(rss(item.format("first") + item.format("again")))
    assert [s.title for s in parsed.stories] == ["first"]


@pytest.mark.parametrize("guid", ["<guid isPermaLink='false'>1</guid>",
                                  "<guid>https://x.com/</guid>"], ids=["token", "home-page"])
def test_entries_sharing_one_guid_stay_apart_by_link(guid):
    """A feed whose every item carries one GUID (its home page, a constant: a CMS
    plugin's bug) was read as one story listed again and again: each new item an edit
    of the archive's first, so nothing of it was ever posted. A GUID several entries with
    different links share names none of them, as a link several GUIDs share does not."""
    items = "".join(f"<item>{guid}<title>T{n}</title><link>https://x.com/p/{n}</link></item>"
                    for n in range(3))
    stories = parse(rss(items)).stories
    assert [s.url for s in stories] == [f"https://x.com/p/{n}" for n in range(3)]
    assert [s.id for s in stories] == [story_id("", "", s.url) for s in stories]


@pytest.mark.parametrize("variant", [
    "https://x.com/story?utm_source=rss&amp;utm_medium=feed",
    "https://X.com:443/story?fbclid=123#comments",
    "https://x.com/story?mc_cid=abc&amp;mc_eid=def",
])
def test_tracking_variants_without_guid_share_url_and_id(variant):
    plain = parse(rss("<item><title>T</title><link>https://x.com/story</link></item>")).stories[0]
    tracked = parse(rss(f"<item><title>T</title><link>{variant}</link></item>"),
                    feed_url="https://other.example/feed").stories[0]
    assert (tracked.url, tracked.id) == (plain.url, plain.id) == (
        "https://x.com/story", story_id("", "", "https://x.com/story"))


@pytest.mark.parametrize("guid", [
    "https://x.com/story?utm_source=rss",
    "https://x.com/story?ts=1717171717",
    "http://x.com/story/",
])
def test_unstable_url_guids_resolve_to_the_canonical_link(guid):
    poll = lambda g: parse(rss(f"<item><guid>{g}</guid><title>T</title>"   # noqa: E731
                               "<link>https://x.com/story</link></item>")).stories[0]
    assert poll(guid).id == poll("https://x.com/story?utm_source=newsletter").id
    assert poll(guid).url == "https://x.com/story"


def test_url_guid_naming_another_page_is_kept():
    item = "<item><guid>https://x.com/?p=123</guid><title>T</title><link>https://x.com/2025/slug-{}</link></item>"
    first, edited = (parse(rss(item.format(n))).stories[0] for n in ("v1", "v2"))
    assert first.id == edited.id             # slug edited: same story by its GUID
    assert first.guid == "https://x.com/?p=123"


def test_entries_sharing_one_link_stay_apart_by_guid():
    items = "".join(f"<item><guid isPermaLink='true'>https://x.com/p/{n}</guid><title>T{n}</title>"
                    f"<link>https://x.com/</link></item>" for n in range(3))
    assert len(parse(rss(items)).stories) == 3


def test_untitled_entry_is_headlined_by_its_first_sentence():
    # Microblog feeds (Mastodon, JSON Feed 1.1) have no titles: every lookup, embed and
    # search result showed an empty headline.
    items = ("<item><link>https://m.example/@lab/1</link><description>&lt;p&gt;We are "
             "releasing our new open-weight model today. It is free for research.&lt;/p&gt;"
             "</description></item>")
    (story,) = parse(rss(items)).stories
    assert story.title == "We are releasing our new open-weight model today."
    long = "<item><link>https://m.example/2</link><description>" + "word " * 80 + "</description></item>"
    (story,) = parse(rss(long)).stories
    assert len(story.title) <= 120 and story.title.endswith("word…")


def test_entry_without_link_or_guid_is_identified_by_title():
    items = "<item><title>Alpha</title><description>a</description></item><item><title>Beta</title><description>b</description></item>"
    ids = [s.id for s in parse(rss(items)).stories]
    assert len(set(ids)) == 2


# --- dates ----------------------------------------------------------------------------

@pytest.mark.parametrize("date, expected", [
    ("<pubDate>Tue, 21 May 2024 10:30:00 +0800</pubDate>", datetime(2024, 5, 21, 2, 30)),
    ("<pubDate>Tue, 21 May 2024 10:30:00 -0500</pubDate>", datetime(2024, 5, 21, 15, 30)),
    ("<pubDate>Tue, 21 May 2024 10:30:00 GMT</pubDate>", datetime(2024, 5, 21, 10, 30)),
    ("<pubDate>Tue, 21 May 2024 10:30:00 EST</pubDate>", datetime(2024, 5, 21, 15, 30)),
    ("<dc:date>2024-05-21T10:30:00+02:00</dc:date>", datetime(2024, 5, 21, 8, 30)),
    ("", FETCHED.replace(tzinfo=None)),                                     # missing
    ("<pubDate>not a date</pubDate>", FETCHED.replace(tzinfo=None)),        # unreadable
    ("<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate>", FETCHED.replace(tzinfo=None)),  # future
    # a CMS's "zero" date (MySQL 0000-00-00) is out of range: unusable, not fatal
    ("<pubDate>0000-00-00T00:00:00Z</pubDate>", FETCHED.replace(tzinfo=None)),
    ("<pubDate>0000-00-00T00:00:00Z</pubDate><dc:date>2024-05-21T10:30:00Z</dc:date>",
     datetime(2024, 5, 21, 10, 30)),                                        # next usable one
])
def test_published_is_utc_and_never_missing_or_future(date, expected):
    feed = parse(rss(f"<item><title>T</title><link>https://x.com/1</link>{date}</item>"
                     "<item><title>U</title><link>https://x.com/2</link></item>"))
    assert [s.title for s in feed.stories] == ["T", "U"]
    assert feed.stories[0].published == expected.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("date, expected", [
    ("2024-05-21T10:30:00+02:00", datetime(2024, 5, 21, 8, 30, tzinfo=timezone.utc)),
    ("Tue, 21 May 2024 10:30:00 GMT", datetime(2024, 5, 21, 10, 30, tzinfo=timezone.utc)),
    ("0000-00-00T00:00:00Z", FETCHED),
])
def test_json_feed_dates(date, expected):
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "1", "url": "https://x.com/1", "title": "T", "date_published": date}]})
    assert parse(body.encode()).stories[0].published == expected


@pytest.mark.parametrize("date, flag", [
    ("<pubDate>Tue, 21 May 2024 10:30:00 GMT</pubDate>", None),
    ("<pubDate>Fri, 21 May 2100 10:30:00 GMT</pubDate>", DATED_AHEAD),   # dated as fetched
    ("<pubDate>someday</pubDate>", UNDATED), ("", UNDATED)])
def test_an_entry_without_a_date_is_flagged_undated(date, flag):
    """Both bear the fetch time; only the undated one can't show it is newer than the
    feed's archive (bot/new_stories.py holds it while no poll has read the feed). The
    store keeps either's first date when the entry is edited (storage/stories.py)."""
    story = parse(rss(f"<item><title>T</title><link>https://x.com/1</link>{date}</item>")
                  ).stories[0]
    assert [f for f in story.flags if f in (UNDATED, DATED_AHEAD)] == ([flag] if flag else [])


def test_fetched_at_defaults_to_now():
    story = parse_feed(rss("<item><title>T</title><link>https://x.com/1</link></item>"),
                       feed_url=FEED).stories[0]
    assert story.published.tzinfo is not None
    assert abs((datetime.now(timezone.utc) - story.published).total_seconds()) < 3600


# --- fields ---------------------------------------------------------------------------

def test_story_fields_from_rss():
    item = ("<item><title>OpenAI &amp;amp; Microsoft renegotiate</title><link>/a/1</link>"
            "<guid isPermaLink='false'>id-1</guid><dc:creator> Sam  Reporter </dc:creator>"
            "<itunes:subtitle>The deal behind the deal</itunes:subtitle>"
            "<description>&lt;p&gt;Short &lt;b&gt;summary&lt;/b&gt;&lt;/p&gt;</description>"
            "<content:encoded><![CDATA[<h3>Terms</h3><p>Full text.</p><script>x()</script>"
            "<ul><li>Revenue share</li><li>Compute</li></ul>]]></content:encoded></item>")
    s = parse(rss(item)).stories[0]
    assert s.title == "OpenAI & Microsoft renegotiate"          # double-escaped, decoded
    assert s.url == "https://feeds.example.com/a/1"             # resolved against the feed
    assert (s.author, s.subtitle, s.summary) == ("Sam Reporter", "The deal behind the deal", "Short summary")
    assert s.text == "Terms\nFull text.\n- Revenue share\n- Compute"
    assert s.html.startswith("<h3>Terms</h3>") and "script" not in s.html
    assert s.source == "AI Wire" and s.flags == (UNDATED,)      # no <pubDate>


@pytest.mark.parametrize("source, channel, expected", [
    ("The Wire", "<title>AI Wire</title>", "The Wire"),
    ("", "<title> AI  Wire </title>", "AI Wire"),
    ("", "", "feeds.example.com"),
])
def test_source_name(source, channel, expected):
    parsed = parse(rss("<item><title>T</title><link>https://x.com/1</link></item>", channel=channel),
                   source=source)
    assert parsed.stories[0].source == expected


@pytest.mark.parametrize("channel, ttl", [
    ("<title>T</title><ttl>30</ttl>", 30),
    ("<title>T</title><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>", 30),
    ("<title>T</title><sy:updatePeriod>daily</sy:updatePeriod>", 1440),
    ("<title>T</title><ttl>soon</ttl>", None),
    ("<title>T</title>", None),
])
def test_ttl_minutes(channel, ttl):
    assert parse(rss("", channel=channel)).ttl_minutes == ttl


@pytest.mark.parametrize("link", [
    # A personalised subscriber feed (Stratechery's Passport: "every link is unique to
    # that user") signs each item's link in with the subscriber's own token.
    "https://stratechery.example/2026/ai-capex/?access_token=eyJfakeSubscriberJWT123",
    # A private feed whose item links carry the feed's own credential.
    "https://intranet.example/news/42?token=t0k3nFeedSecret",
], ids=["subscriber-token", "feed-token"])
def test_a_private_feeds_credentials_in_an_items_link_are_not_kept_in_the_story(link):
    """The feed URL's ?token= is hidden everywhere it is shown; the same kind of key in an
    item's link was kept byte for byte in Story.url, and so posted to every subscribed
    channel and answered in /latest, /search, /why and `ainews latest --json`: anyone in
    the channel could read the subscriber's paid articles as them."""
    item = (f"<item><title>Microsoft raises AI capex</title><link>{link}</link>"
            "<description>Microsoft will spend more on AI data centres.</description></item>")
    parsed = parse(rss(item), feed_url="https://intranet.example/rss?token=t0k3nFeedSecret")
    (story,) = parsed.stories
    assert "eyJfakeSubscriberJWT123" not in story.url and "t0k3nFeedSecret" not in story.url, \
        story.url
