"""Parser: feed bytes -> ParsedFeed. Real feeds from tests/data, small synthetic ones inline.

Every test runs twice: through parse_feed as shipped (the lxml fast path where it applies)
and forced onto feedparser, the path every feed the fast path declines still takes."""
from __future__ import annotations

import html as htmllib
import http.server
import json
import threading
import tracemalloc
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from feeds.models import Classification, story_id
from feeds.parser import MAX_ENTRIES, ParseError, parse_feed, parse_feed_with

DATA = Path(__file__).parent / "data"
FEED = "https://feeds.example.com/ai.xml"
FETCHED = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def rss(items: str, channel: str = "<title>AI Wire</title><link>https://wire.example.com/</link>",
        prolog: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (f'{prolog}<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
            f' xmlns:dc="http://purl.org/dc/elements/1.1/"'
            f' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
            f' xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
            f"<channel>{channel}{items}</channel></rss>").encode("utf-8")


READER = "auto"


@pytest.fixture(autouse=True, params=["auto", "feedparser"])
def reader(request):
    """The XML reader parse() uses (see the module docstring)."""
    global READER
    READER = request.param
    yield request.param
    READER = "auto"


def parse(body: bytes, **kw):
    kw.setdefault("feed_url", FEED)
    kw.setdefault("fetched_at", FETCHED)
    return parse_feed_with(READER, body, **kw)


# --- real feeds (miniflux corpus, Apache-2.0) and our GB2312 feed -------------------

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

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://r.example.org/"><title>RDF News</title>
    <link>https://r.example.org/</link><description>d</description>
    <items><rdf:Seq><rdf:li resource="https://r.example.org/1"/></rdf:Seq></items></channel>
  <item rdf:about="https://r.example.org/1"><title>Baidu unveils Ernie 5</title>
    <link>https://r.example.org/1?utm_source=rdf</link><dc:date>2025-02-03T04:05:06+09:00</dc:date>
    <dc:creator>Li Wei</dc:creator><description>Baidu &lt;b&gt;cut&lt;/b&gt; prices.</description></item>
</rdf:RDF>"""


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


# --- broken input ---------------------------------------------------------------------

def test_bozo_feed_keeps_entries_and_records_warning():
    body = rss("<item><title>Good one</title><link>https://x.com/1</link></item>"
               "<item><title>Bad &nbsp; entity</title><link>https://x.com/2</link></item>"
               "<item><title>Mismatched <b>tag</title><link>https://x.com/3</link></item>")
    parsed = parse(body)
    assert [s.url for s in parsed.stories] == ["https://x.com/1", "https://x.com/2", "https://x.com/3"]
    assert parsed.stories[0].title == "Good one"
    assert parsed.warning.startswith(f"parser: {FEED}: malformed XML (")
    assert parsed.warning.endswith("kept 3 entries") and "\n" not in parsed.warning


def test_truncated_xml_keeps_complete_entries():
    body = rss("<item><title>one</title><link>https://x.com/1</link></item>"
               "<item><title>two</title><link>https://x.com/2</link></item>")
    body = body[:body.index(b"</channel>")] + b"<item><title>thr"   # cut off mid-entry
    parsed = parse(body)
    assert [s.title for s in parsed.stories] == ["one", "two"]
    assert "kept 2 entries" in parsed.warning


@pytest.mark.parametrize("body", [
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>cut he",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR binary",
    b"<<<>>> not xml at all &&&",
])
def test_unreadable_body_is_a_parse_error(body):
    with pytest.raises(ParseError) as err:
        parse(body)
    assert err.value.kind == "parse" and str(err.value).startswith(f"parser: {FEED}: ")


def test_empty_body_is_a_parse_error():
    with pytest.raises(ParseError, match=r"^parser: https://feeds.example.com/ai.xml: empty body$"):
        parse(b"  \n")


@pytest.mark.parametrize("body", [
    b"\xef\xbb\xbf",                       # an empty file saved "UTF-8 with BOM"
    b"\xff\xfe",                            # the same in UTF-16
    b"<entry<channel<link</item</link>",     # tag soup feedparser itself trips over
])
def test_unreadable_bodies_are_parse_errors_naming_the_feed(body):
    with pytest.raises(ParseError, match=r"^parser: https://feeds.example.com/ai.xml: "):
        parse(body)


def test_empty_but_valid_feed_has_no_stories():
    parsed = parse(rss(""))
    assert (parsed.stories, parsed.warning, parsed.title) == ([], None, "AI Wire")


# --- an HTML page instead of a feed ---------------------------------------------------

@pytest.mark.parametrize("head, alternate", [
    ('<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss.xml">',
     "https://x.example/rss.xml"),
    ('<link rel="stylesheet" href="/s.css"><link rel="Alternate" type="application/atom+xml" '
     'href="feeds/atom.xml">', "https://x.example/news/feeds/atom.xml"),
    ('<link rel="alternate" type="application/feed+json" href="https://cdn.x.example/f.json">',
     "https://cdn.x.example/f.json"),
    ('<base href="https://base.x.example/dir/"><link rel="alternate" '
     'type="application/rss+xml" href="r.xml">', "https://base.x.example/dir/r.xml"),
    ('<link rel="alternate" hreflang="de" href="/de/">', None),
    ("", None),
])
def test_html_page_is_not_a_feed(head, alternate):
    page = f"<!DOCTYPE html>\n<html><head><title>News</title>{head}</head><body><p>Hi</p></body></html>"
    with pytest.raises(ParseError) as err:
        parse(page.encode(), feed_url="https://x.example/news/", content_type="text/html")
    assert err.value.kind == "not-a-feed" and err.value.alternate == alternate
    if alternate:
        assert str(err.value) == (f"parser: https://x.example/news/ is an HTML page, not a feed; "
                                  f"its feed is {alternate}")
    else:
        assert str(err.value).startswith("parser: https://x.example/news/ is an HTML page, not a feed")


def test_html_page_without_doctype_is_detected():
    page = b'<html><head><link rel="alternate" type="application/rss+xml" href="/f"></head></html>'
    with pytest.raises(ParseError) as err:
        parse(page, feed_url="https://x.example/")
    assert err.value.alternate == "https://x.example/f"


# --- security: entity expansion and external entities ---------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
              for i in range(1, 10))
    + ']>\n<rss version="2.0"><channel><title>Bomb</title><item><title>boom &lol9;</title>'
    '<link>https://x.com/1</link><description>&lol9;&lol9;</description></item></channel></rss>'
).encode()
QUADRATIC = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + "A" * 20000 + '">]>'
    '<rss version="2.0"><channel><title>Q</title><item><title>q</title><link>https://x.com/q</link>'
    "<description>" + "&a;" * 20000 + "</description></item></channel></rss>"
).encode()


@pytest.mark.parametrize("body", [BILLION_LAUGHS, QUADRATIC], ids=["billion-laughs", "quadratic"])
def test_entity_bomb_does_not_expand(body):
    tracemalloc.start()
    try:
        parsed = parse(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024          # a 1 GB expansion would be far beyond this
    (story,) = parsed.stories
    assert "lollollol" not in story.text + story.title and "AAAAAAAAAA" not in story.text
    assert "DTD entity declarations ignored" in parsed.warning


def test_short_declared_entities_still_expand():
    body = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY mdash "&#8212;"><!ENTITY co "Co">]>'
            b'<rss version="2.0"><channel><title>T</title><item><title>A &mdash; B &co; &amp; C</title>'
            b"<link>https://x.com/1</link></item></channel></rss>")
    assert parse(body).stories[0].title == "A \u2014 B Co & C"


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<!ENTITY leak 'LEAKED-OVER-HTTP'>")

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE rss [\n<!ENTITY file SYSTEM "file://{secret}">\n'
    '<!ENTITY web SYSTEM "{web}/entity">\n<!ENTITY % dtd SYSTEM "{web}/dtd"> %dtd;\n]>',
    '<!DOCTYPE rss SYSTEM "{web}/external.dtd">',
], ids=["internal-subset", "external-dtd"])
def test_external_entities_are_neither_read_nor_fetched(tmp_path, recorder, doctype):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = (f'<?xml version="1.0"?>\n{doctype.format(secret=secret, web=recorder)}\n'
            f'<rss version="2.0"><channel><title>X</title><item><title>t &file; &web;</title>'
            f"<link>https://x.com/1</link><description>&file;&web;&leak;</description></item>"
            f"</channel></rss>").encode()
    parsed = parse(body)
    story = parsed.stories[0]
    everything = " ".join([story.title, story.text, story.html, story.summary, parsed.title])
    assert "TOP-SECRET" not in everything and "LEAKED" not in everything
    assert story.url == "https://x.com/1"
    assert _Recorder.hits == []


def test_a_feed_yields_at_most_max_entries_the_newest_kept():
    """100,000 entries fit in 10 MB: each poll would classify and store them all."""
    n = MAX_ENTRIES + 5
    items = "".join(   # oldest first, as some feeds list them
        f"<item><title>T{i}</title><link>https://x.com/{i}</link>"
        f"<pubDate>{format_datetime(FETCHED - timedelta(minutes=n - i), usegmt=True)}</pubDate>"
        "</item>" for i in range(n))
    parsed = parse(rss(items))
    assert [s.title for s in parsed.stories] == [f"T{i}" for i in range(5, n)]
    assert f"kept the newest {MAX_ENTRIES} of {n} entries" in parsed.warning


def test_a_json_feed_yields_at_most_max_entries():
    items = [{"id": str(i), "url": f"https://x.com/{i}", "title": f"T{i}"}
             for i in range(MAX_ENTRIES + 1)]
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items})
    parsed = parse(body.encode())
    assert len(parsed.stories) == MAX_ENTRIES and parsed.stories[-1].title == f"T{MAX_ENTRIES - 1}"


# --- ids, duplicates, GUIDs -----------------------------------------------------------

def test_duplicate_guids_inside_one_feed_give_one_story():
    item = "<item><guid isPermaLink='false'>g-1</guid><title>{}</title><link>https://x.com/{}</link></item>"
    parsed = parse(rss(item.format("first", 1) + item.format("again", 2)))
    assert [s.title for s in parsed.stories] == ["first"]


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
    assert s.source == "AI Wire" and s.flags == ()


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


@pytest.mark.parametrize("title, description, flags", [
    ("<![CDATA[@everyone Free GPUs]]>", "calm text", ("mention",)),
    ("Update", "ping &lt;!channel&gt; now", ("mention",)),
    ("Update", "<![CDATA[<p>hi <@U123ABC></p>]]>", ("mention",)),
    ("<![CDATA[<!here> look]]>", "x", ("mention",)),
    ("Role ping &lt;@&amp;123&gt;", "x", ("mention",)),
    ("Deal", "[click](http://evil.example)", ("link",)),
    ("<![CDATA[<http://evil.example|Google> pricing]]>", "x", ("link",)),
    ("@here", "[c](http://e.example)", ("mention", "link")),
    ("Alibaba cuts Qwen prices", "Ordinary [1] text (really)", ()),
])
def test_hostile_text_is_kept_verbatim_and_flagged(title, description, flags):
    s = parse(rss(f"<item><title>{title}</title><link>https://x.com/1</link>"
                  f"<description>{description}</description></item>")).stories[0]
    assert s.flags == flags
    for needle in ("@everyone", "@here", "<!channel>", "[click](http://evil.example)"):
        if needle in title + description.replace("&lt;", "<").replace("&gt;", ">"):
            assert needle in s.title + "\n" + s.text


# Drawn by nothing, acted on by terminals and chat clients: an ANSI colour (ESC), an
# OSC title's BEL, bidi override and isolate, a zero-width space splitting a mention, a
# BOM and a Unicode tag character. (C1 controls such as CSI, U+009B, are read as the
# windows-1252 characters they mostly are, on both XML paths.)
INVISIBLE = "\x1b\x07\u202e\u2066\u200b\ufeff\U000e0041"


def test_invisible_characters_never_reach_a_story():
    # XML forbids ESC and BEL but feedparser's loose reading takes them as references;
    # bidi and zero-width characters are valid XML on either path.
    refs = "".join(f"&#{ord(c)};" for c in INVISIBLE)
    item = (f"<item><title>Open{refs}AI [31m</title><link>https://x.com/1</link>"
            f"<dc:creator>Ed{refs}</dc:creator>"
            f"<description>Text{INVISIBLE[2:]} here</description></item>")
    parsed = parse(rss(item, channel=f"<title>Wire{refs}</title>"))
    (story,) = parsed.stories
    assert (parsed.title, story.source, story.title, story.author, story.text, story.summary) \
        == ("Wire", "Wire", "OpenAI [31m", "Ed", "Text here", "Text here")


def test_invisible_characters_never_reach_a_json_feed_story():
    emoji = "\U0001F468\u200d\U0001F469"   # ZWJ joins an emoji sequence: kept
    hidden = INVISIBLE + "\x9b"   # JSON carries C1 controls as they are
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": f"J{hidden}",
                       "items": [{"id": "1", "url": "https://x.com/1",
                                  "title": f"\x1b]0;pwned\x07T{hidden} {emoji}",
                                  "content_text": f"a{hidden}\n\nb",
                                  "authors": [{"name": f"A{hidden}"}]}]}).encode()
    parsed = parse(body)
    (story,) = parsed.stories
    assert (parsed.title, story.source, story.title, story.text, story.author) == (
        "J", "J", f"]0;pwnedT {emoji}", "a\nb", "A")


def test_json_feed_hostile_title():
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [
        {"id": "1", "url": "https://x.com/1", "title": "<!channel> <http://evil|Google>",
         "content_text": "@everyone"}]}).encode()
    s = parse(body).stories[0]
    assert (s.title, s.text, s.flags) == ("<!channel> <http://evil|Google>", "@everyone", ("mention", "link"))


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
