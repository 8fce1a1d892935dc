"""Characters that Python counts as spaces and HTML5 does not (U+0085 NEL, U+2028,
U+2029), the other C1 controls, form feed and vertical tab: wherever they sit in an
entry's HTML, the fast path reads it as the feedparser path does, and still reads the feed."""
from __future__ import annotations

import html as htmllib

import pytest

from feeds.htmlclean import needs_feedparser
from feeds.parser import parse_feed_with
from tests.fastparse_kit import FEED, FETCHED, assert_same, atom, both, rss

CHARS = [chr(c) for c in range(0x80, 0xA0)] + ["\u2028", "\u2029", "\x0c", "\x0b"]
# Where a character can sit in entry HTML; each place reads differently in one reader or
# the other (strip at the ends of the sanitised HTML, tag splitting, <pre>, URLs, repair).
PLACES = [
    "<p>one{c}two</p>",
    "<script>x()</script>{c}<p>after a dropped element</p>",
    "<p>before a dropped element</p>{c}<style>p{{}}</style>",
    "<main>{c}an unknown tag{c}</main>",
    "<a{c}href='/x'>a tag split</a>",
    "<p>an end tag</p{c}>after it",
    "a line<br{c}/>break",
    "<ul><li{c}>item<li>next</ul>",
    "<a href='/x{c}y'>in a URL</a>",
    "<a href='/x'{c}title='t'>between attributes</a>",
    "<p>one</p>\n{c}\n<p>two</p>",
    "<pre>{c}pre\n{c}</pre>",
    "<p>mojibake</p>Caf\u00c3{c}<script>x()</script>",
]


def feeds_with(c: str) -> dict[str, bytes]:
    htmls = [place.format(c=c) for place in PLACES]
    items = "".join(f"<item><title>T{i}</title><link>https://x.com/{i}</link>"
                    f"<description><![CDATA[{h}]]></description></item>" for i, h in enumerate(htmls))
    entries = "".join(f"<entry><id>urn:{i}</id><title>T{i}</title><content type='html'>"
                      f"{htmllib.escape(h)}</content></entry>" for i, h in enumerate(htmls))
    return {"rss": rss(items), "atom": atom(entries)}


@pytest.mark.parametrize("kind", ["rss", "atom"])
@pytest.mark.parametrize("c", CHARS, ids=[f"U+{ord(c):04X}" for c in CHARS])
def test_space_like_characters_read_the_same_on_the_fast_path(c, kind):
    slow, fast = both(feeds_with(c)[kind])
    assert fast.reader == "lxml"  # read here, not handed to feedparser
    assert len(fast.stories) == len(PLACES)
    assert_same(slow, fast)


@pytest.mark.parametrize("html, text", [
    ("<p>Qwen prices cut\x85 more to come</p>", "Qwen prices cut\u2026 more to come"),
    ("<script>x()</script>\x85<p>Alibaba</p>", "Alibaba"),   # feedparser strips it first
    ("<p>Alibaba</p>\x85<style>p{}</style>", "Alibaba"),
    ("<p>Baidu</p\u2028>Tencent", "Baidu\nTencent"),           # the tag still ends the line
])
def test_what_a_reader_sees_of_a_next_line_character(html, text):
    body = rss(f"<item><title>T</title><link>https://x.com/1</link>"
               f"<description><![CDATA[{html}]]></description></item>")
    for reader in ("lxml", "feedparser"):
        parsed = parse_feed_with(reader, body, feed_url=FEED, fetched_at=FETCHED)
        assert parsed.stories[0].text == text


@pytest.mark.parametrize("html, handed_over", [
    ("<p>Alibaba\u2019s Qwen \u2014 \u901a\u4e49\u5343\u95ee\u00a0cuts prices</p>", False),
    ("<p>one\u2028two</p><p>\u3000three</p>", False),     # in text: lxml reads them alike
    ("<p>a\u0093quoted\u0094 word</p>", False),           # C1 controls but U+0085: alike too
    ("<p>cut\x85 short</p>", True),
    ("<a href='/x'\u2029title='t'>x</a>", True),
    ("<li\u00a0class='x'>item</li>", True),
    ("<p>a</p\u3000>b", True),
])
def test_only_html_the_two_readers_split_differently_is_handed_to_feedparser(html, handed_over):
    """feedparser's sanitiser reads HTML several times slower than the fast path:
    prose in any script, with any spaces, stays on the fast path."""
    assert needs_feedparser(html) is handed_over
