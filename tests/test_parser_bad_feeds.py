"""Bad feed bodies: broken, truncated, empty or unreadable XML, HTML pages, entity
bombs, external entities, and feeds longer than MAX_ENTRIES. Every test runs through
both XML readers (tests/parser_kit.py)."""
from __future__ import annotations

import http.server
import json
import threading
import tracemalloc
from datetime import timedelta
from email.utils import format_datetime

import pytest

from feeds.parser import MAX_ENTRIES, ParseError
from tests.parser_kit import FEED, FETCHED, rss, parse, set_reader, BILLION_LAUGHS, QUADRATIC


reader = pytest.fixture(set_reader, name="reader", autouse=True, params=["auto", "feedparser"])


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
