"""Parser: feed bytes -> ParsedFeed, for the real feeds in tests/data and small RSS 1.0,
Atom and JSON Feed documents inline. Every test runs through both XML readers
(tests/parser_kit.py)."""
from __future__ import annotations

import html as htmllib
import json
from datetime import datetime, timezone

import pytest

from feeds.models import Classification, story_id
from feeds.parser import ParseError
from tests.parser_kit import DATA, FEED, FETCHED, rss, parse, set_reader, RDF


reader = pytest.fixture(set_reader, name="reader", autouse=True, params=["auto", "feedparser"])


@pytest.mark.parametrize("name, count, feed_title, a_title", [
    ("feed_miniflux_parser__encoding_ISO-8859-1.xml", 40, "Golem.de",
     "Machine Learning: Von KI erstelltes Porträt für 432.500 US.Dollar versteigert"),
    ("feed_miniflux_parser__encoding_WINDOWS-1251.xml", 50, "iBash.Org.Ru", "Цитата #17703"),
    ("feed_miniflux_parser__no_encoding_ISO-8859-1.xml", 9,   # 10 items, one empty
     "Flux RSS du magazine de psychologie Le Cercle Psy",
     "Travail, organisations, emploi : les modèles européens"),
    ("feed_miniflux_parser__rdf_UTF8.xml", 60, "heise online News",
     "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen"),
    ("feed_miniflux_parser__large_atom.xml", 25, "Artificial truth", "Using vale with vim"),
    ("feed_miniflux_parser__large_rss.xml", 25, "Artificial truth", "Using vale with vim"),
    ("feed_miniflux_parser__small_atom.xml", 20, "Recent Commits to v2:main",
     "Parse podcast categories"),
    ("feed_miniflux_parser__urdu_UTF8.xml", 26,
     "BBC News اردو - پاکستان کے لیے امریکی امداد کی بہار و خزاں", None),
    ("feed_miniflux_encoding__koi8r.xml", 2, "Пример RSS ленты", "Первая новость"),
    ("feed_miniflux_encoding__utf8.xml", 1, "테스트 피드", "Café"),
    ("feed_miniflux_encoding__utf8-incorrect-prolog.xml", 1, "테스트 피드", "Café"),
    ("feed_miniflux_encoding__invalid-prolog.xml", 1, "테스트 피드", "Café"),
    ("feed_gb2312.xml", 2, "科技快讯", "阿里巴巴下调通义千问大模型价格，降幅达百分之九十"),
])
def test_corpus_feed(name, count, feed_title, a_title):
    parsed = parse((DATA / name).read_bytes())
    assert len(parsed.stories) == count
    assert parsed.title == feed_title
    titles = [s.title for s in parsed.stories]
    assert a_title is None or a_title in titles
    assert all("\ufffd" not in t and "Ã" not in t for t in titles)  # no mojibake
    assert len({s.id for s in parsed.stories}) == count
    for s in parsed.stories:
        assert s.source == feed_title and s.feed_url == FEED
        assert s.published.tzinfo == timezone.utc and s.published <= FETCHED
        assert s.classification == Classification()


@pytest.mark.parametrize("name, feed_title", [
    ("feed_miniflux_encoding__iso-8859-1.xml", "Café"),
    ("feed_miniflux_encoding__windows-1252.xml", "Euro €"),
    ("feed_miniflux_encoding__windows-1252-incorrect-prolog.xml", "Euro €"),
])
def test_corpus_feed_title_encoding(name, feed_title):
    parsed = parse((DATA / name).read_bytes())
    assert (parsed.title, parsed.stories) == (feed_title, [])


def test_wrong_declared_encoding_is_recorded_as_warning():
    parsed = parse((DATA / "feed_miniflux_encoding__windows-1252-incorrect-prolog.xml").read_bytes())
    assert parsed.warning == f"parser: {FEED}: declared windows-1252 but the body is UTF-8; read as UTF-8"


def test_corpus_text_is_decoded_and_structured():
    stories = parse((DATA / "feed_miniflux_encoding__koi8r.xml").read_bytes()).stories
    assert stories[0].text == "Это тестовое описание с русскими символами: Привет мир! Ёжик, чай, Москва, Санкт-Петербург."
    assert stories[1].text.startswith("Проверка специальных символов: & < >")
    golem = parse((DATA / "feed_miniflux_parser__encoding_ISO-8859-1.xml").read_bytes()).stories
    assert golem[0].url.startswith("https://www.golem.de/news/red-dead-redemption-2-")
    assert golem[0].published == datetime(2018, 10, 28, 12, 48, tzinfo=timezone.utc)


def test_gb2312_feed_fields():
    parsed = parse((DATA / "feed_gb2312.xml").read_bytes())
    first = parsed.stories[0]
    assert first.url == "https://news.example.cn/ai/qwen-price-cut.html"   # utm_* dropped
    assert first.guid == "news-example-cn-20240521-001"
    assert first.id == story_id(FEED, first.guid, first.url)
    assert first.published == datetime(2024, 5, 21, 2, 30, tzinfo=timezone.utc)  # +0800
    assert first.author == "王小明"
    assert first.text == "阿里云宣布通义千问主力模型的调用价格大幅下降。\n- 输入价格每千个词元降至半厘\n- 开源模型同步免费开放"
    assert "<li>开源模型同步免费开放</li>" in first.html
    assert parsed.ttl_minutes == 45 and parsed.link == "https://news.example.cn/"


def test_rss_and_atom_of_one_blog_give_the_same_urls():
    urls = [{s.url for s in parse((DATA / f"feed_miniflux_parser__large_{kind}.xml").read_bytes()).stories}
            for kind in ("rss", "atom")]
    assert urls[0] == urls[1] and len(urls[0]) == 25


def test_corpus_xml_that_is_not_a_feed():
    with pytest.raises(ParseError) as err:
        parse((DATA / "feed_miniflux_xml__iso88591_utf8_mismatch.xml").read_bytes())
    assert err.value.kind == "not-a-feed" and err.value.alternate is None


# --- formats --------------------------------------------------------------------------


def test_rss10_rdf():
    parsed = parse(RDF)
    (s,) = parsed.stories
    assert (parsed.title, parsed.link) == ("RDF News", "https://r.example.org/")
    assert (s.title, s.url, s.author, s.text) == (
        "Baidu unveils Ernie 5", "https://r.example.org/1", "Li Wei", "Baidu cut prices.")
    assert s.published == datetime(2025, 2, 2, 19, 5, 6, tzinfo=timezone.utc)


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.com/ai/">
  <title type="html">AI &lt;b&gt;Strategy&lt;/b&gt; Blog</title>
  <link rel="alternate" href="./"/>
  <updated>2025-01-01T00:00:00Z</updated>
  <entry xml:base="posts/2025/">
    <title>Meta opens Llama weights</title>
    <link rel="alternate" href="llama.html?utm_source=atom#comments"/>
    <id>tag:blog.example.com,2025:1</id>
    <published>2025-01-02T09:00:00-05:00</published>
    <author><name>Jane Doe</name></author>
    <summary>Short summary</summary>
    <content type="html">&lt;p&gt;Read &lt;a href="../../more.html"&gt;more&lt;/a&gt;&lt;/p&gt;</content>
  </entry>
  <entry>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Google &amp; <em>Gemini</em> pricing</div></title>
    <link href="/root-relative"/>
    <id>tag:blog.example.com,2025:2</id>
    <updated>2024-12-30T23:30:00+01:00</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Inline <b>xhtml</b></p></div></content>
  </entry>
</feed>"""


def test_atom_relative_links_and_xml_base():
    parsed = parse(ATOM)
    first, second = parsed.stories
    assert (parsed.title, parsed.link) == ("AI Strategy Blog", "https://blog.example.com/ai/")
    assert first.url == "https://blog.example.com/ai/posts/2025/llama.html"
    assert second.url == "https://blog.example.com/root-relative"
    assert 'href="https://blog.example.com/ai/more.html"' in first.html  # content preferred
    assert (first.text, first.summary, first.author) == ("Read more", "Short summary", "Jane Doe")
    assert second.title == "Google & Gemini pricing"
    assert first.published == datetime(2025, 1, 2, 14, 0, tzinfo=timezone.utc)
    assert second.published == datetime(2024, 12, 30, 22, 30, tzinfo=timezone.utc)


def test_a_malformed_item_url_costs_only_that_link():
    # urljoin raises on "http://[::1"; it made every poll of the feed fail.
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [
        {"id": "a", "url": "http://[::1", "title": "Bad link", "content_text": "One."},
        {"id": "b", "url": "/ok", "title": "Good link", "content_text": "Two."}]})
    bad, good = parse(body.encode(), feed_url="https://j.example/feed.json").stories
    assert (bad.title, good.url) == ("Bad link", "https://j.example/ok")


@pytest.mark.parametrize("title, expected", [
    ("GPT-5 is here &#55357;&#56832;", "GPT-5 is here \U0001F600"),     # emoji as a UTF-16 pair
    ("GPT-5 is here &#xD83D;&#xDE00;", "GPT-5 is here \U0001F600"),
    ("Broken &#55357; emoji", "Broken \ufffd emoji"),                   # half a pair
])
def test_surrogate_character_references_cost_nothing_but_the_character(title, expected):
    # Some CMSs write emoji as two UTF-16 halves: feedparser raised on them, failing the feed.
    body = rss(f"<item><title>{title}</title><link>https://wire.example.com/1</link></item>"
               "<item><title>Next</title><link>https://wire.example.com/2</link></item>")
    first, second = parse(body).stories
    assert (first.title, second.title) == (expected, "Next")


@pytest.mark.parametrize("odd", [
    {"authors": 5}, {"authors": {"name": "Ada"}}, {"authors": True}, {"authors": [None, 3]},
    {"author": "Ada"}, {"date_published": "0001-01-01T00:00:00+14:00"},
    {"date_published": ["2024"]}, {"title": None, "url": 7}, {"content_html": ["x"]},
], ids=repr)
def test_json_feed_item_with_odd_types_is_still_read(odd):
    # A number where a list belongs, or a date before year 1 in UTC, failed the whole
    # feed with a TypeError or OverflowError instead of costing that field alone.
    item = {"id": "1", "url": "https://x.com/1", "title": "Kept", "content_text": "Body.", **odd}
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        item, {"id": "2", "url": "https://x.com/2", "title": "Next"}]})
    first, second = parse(body.encode()).stories
    assert (first.text, first.published, second.title) == ("Body.", FETCHED, "Next")


@pytest.mark.parametrize("link", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=", "vbscript:x", "mailto:a@b.example",
    "file:///etc/passwd",
])
def test_a_link_a_reader_cannot_follow_is_dropped_not_the_story(link):
    # Such links reached Story.url, `ainews brief --json` and the store as they came.
    body = rss(f"<item><title>Kept</title><link>{htmllib.escape(link)}</link></item>"
               "<item><title>Next</title><link>https://x.com/2</link></item>")
    first, second = parse(body).stories
    assert (first.title, first.url, second.url) == ("Kept", "", "https://x.com/2")


@pytest.mark.parametrize("link, url", [
    ("https://e.example/a\u00adb", "https://e.example/a%C2%ADb"),       # a soft hyphen
    ("https://e.example/\u202egpj.exe", "https://e.example/%E2%80%AEgpj.exe"),
    ("https://e.example/x\x7f", "https://e.example/x%7F"),
])
def test_an_invisible_character_in_a_link_is_escaped_not_hidden(link, url):
    body = rss(f"<item><title>Kept</title><link>{link}</link></item>")
    assert parse(body).stories[0].url == url


@pytest.mark.parametrize("entry", [
    "<entry><id>urn:uuid:5</id><title>Kept</title></entry>",     # feedparser's link
    "<entry><id>tag:b.example,2025:1</id><title>Kept</title><link href='mailto:a@b'/></entry>",
])
def test_an_atom_id_that_is_no_web_address_is_no_link(entry):
    body = ("<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>B</title>"
            f"{entry}</feed>").encode()
    (story,) = parse(body).stories
    assert (story.title, story.url) == ("Kept", "")


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_a_utf32_feed_without_byte_order_mark_reads_right_on_either_path(codec):
    # Its bytes pass for UTF-8: feedparser's path read "Цитата" as "&8B0B0".
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Баш</title><item>'
            "<title>Цитата #1</title><link>https://x.com/1</link></item></channel></rss>")
    feed = parse(body.encode(codec))
    assert (feed.title, feed.stories[0].title) == ("Баш", "Цитата #1")


@pytest.mark.parametrize("body", [
    rss("<item><guid isPermaLink='false'>http://[::1</guid><title>Kept</title><link>/1</link></item>"
        "<item><title>Next</title><link>https://x.com/2</link></item>"),
    json.dumps({"version": "https://jsonfeed.org/version/1.1", "home_page_url": "http://[::1",
                "items": [{"id": "1", "url": "https://x.com/1", "title": "Kept"},
                          {"id": "2", "url": "https://x.com/2", "title": "Next"}]}).encode(),
], ids=["rss-guid", "json-home-page"])
def test_a_malformed_ipv6_address_costs_nothing_but_itself(body):
    # urlsplit raises on "http://[::1": it failed the whole feed with a ValueError.
    assert [s.title for s in parse(body).stories] == ["Kept", "Next"]


def test_json_feed_lone_surrogate_escape_is_replaced():
    body = (b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "a", '
            b'"url": "https://j.example/a", "title": "Lone \\ud83d half", "content_text": "x"}]}')
    (story,) = parse(body, feed_url="https://j.example/feed.json").stories
    assert story.title == "Lone \ufffd half"
    story.title.encode("utf-8")   # storable: SQLite takes UTF-8


def test_json_feed():
    parsed = parse((DATA / "feed_jsonfeed.json").read_bytes(),
                   feed_url="https://pricing.example.com/feed.json", content_type="application/feed+json")
    a, b, c = parsed.stories
    assert (parsed.title, parsed.link) == ("Model Pricing Watch", "https://pricing.example.com/")
    assert a.url == "https://pricing.example.com/posts/open-weights"
    assert a.guid == "https://pricing.example.com/posts/open-weights"   # URL id canonicalised
    assert a.text == "Summary\nOpen models undercut paid APIs & margins shrink.\n- Price per token fell\n- Enterprises hedge\nAbout"
    assert "steal()" not in a.html and 'href="https://pricing.example.com/about"' in a.html
    assert (a.summary, a.author) == ("Open models undercut paid APIs.", "Ada Analyst, Bo Writer")
    assert a.published == datetime(2025, 3, 4, 1, 15, tzinfo=timezone.utc)
    assert b.text == "First paragraph about export controls.\nSecond paragraph about chips."
    assert (b.guid, b.author) == ("42", "Legacy Author")
    assert b.published == datetime(2025, 3, 5, 12, 0, tzinfo=timezone.utc)
    assert (c.url, c.published) == ("", FETCHED)
    assert parsed.warning == "parser: https://pricing.example.com/feed.json: 1 item skipped (not JSON objects)"


@pytest.mark.parametrize("body, kind", [
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "parse"),
    (b'{"error": "rate limited"}', "not-a-feed"),
    # Hostile nesting: the JSON decoder recurses; the feed fails, the poll goes on.
    (b'{"items": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "parse"),
])
def test_json_that_is_not_a_feed(body, kind):
    with pytest.raises(ParseError) as err:
        parse(body)
    assert err.value.kind == kind and str(err.value).startswith(f"parser: {FEED}")


def test_atom_plain_text_content_is_not_read_as_html():
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>P</title><entry><id>urn:1</id>'
            b'<title>Prices</title><content type="text">Qwen &lt; $1 &amp; &lt;b&gt;cheap&lt;/b&gt;\n\n'
            b"Second para</content></entry></feed>")
    story = parse(body).stories[0]
    assert story.text == "Qwen < $1 & <b>cheap</b>\nSecond para"
    assert story.html == "<p>Qwen &lt; $1 &amp; &lt;b&gt;cheap&lt;/b&gt;</p><p>Second para</p>"


def test_redirected_feed_keeps_its_ids_and_resolves_links_against_the_final_url():
    body = rss("<item><guid isPermaLink='false'>g-7</guid><title>T</title><link>a/7</link></item>")
    before = parse(body, feed_url="https://old.example/feed/").stories[0]
    after = parse(body, feed_url="https://old.example/feed/", base_url="https://new.example/rss/").stories[0]
    assert after.id == before.id and after.feed_url == "https://old.example/feed/"
    assert (before.url, after.url) == ("https://old.example/feed/a/7", "https://new.example/rss/a/7")
