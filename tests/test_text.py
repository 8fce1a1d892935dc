"""HTML -> text, whitespace cleanup and hostile-text flags."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from feeds.fastparse import Unsupported
from feeds.parser import ParseError, parse_feed_with
from feeds.hostile import hostile_flags
from feeds.text import clean_line, document_to_text, html_to_text


@pytest.mark.parametrize("html, expected", [
    # scripts, styles and their kin vanish with their content
    ("<p>Before</p><script>alert('x')</script><style>p{color:red}</style><p>After</p>",
     "Before\nAfter"),
    ("<noscript>enable js</noscript><template><p>t</p></template>Text", "Text"),
    ("<html><head><title>Page</title></head><body><p>Body</p></body></html>", "Body"),
    # entities decoded
    ("AT&amp;T &eacute;t&eacute; &#8364;5 &#x4E2D;&lt;tag&gt; &quot;q&quot;",
     'AT&T été €5 中<tag> "q"'),
    ("a&nbsp;b", "a b"),
    # paragraphs, headings and line breaks each give a line; inline markup doesn't
    ("<h2>Why it matters</h2><p>First <b>bold</b> <a href='/x'>link</a>.</p><p>Second.</p>",
     "Why it matters\nFirst bold link.\nSecond."),
    ("<p>line one<br>line two<br/>line three</p>", "line one\nline two\nline three"),
    ("<div>outer<div>inner</div>tail</div>", "outer\ninner\ntail"),
    # list items become "- " lines, nested ones too; empty items vanish
    ("<p>Key points:</p><ul><li>Price cut 90%</li><li> Open <em>weights</em> </li><li></li></ul>",
     "Key points:\n- Price cut 90%\n- Open weights"),
    ("<ol><li>one<ul><li>one.a</li></ul></li><li>two</li></ol>", "- one\n- one.a\n- two"),
    # whitespace in the source is not a line break; inside <pre> it is
    ("<p>wrapped\n   across\n\tlines</p>", "wrapped across lines"),
    ("<pre>x = 1\ny = 2</pre>", "x = 1\ny = 2"),
    # comments dropped, their surroundings kept
    ("a<!-- hidden -->b", "ab"),
    # plain text and oddities
    ("just text", "just text"),
    ("", ""),
    ("   \n ", ""),
    ("<p>unclosed <b>bold", "unclosed bold"),
    ("<?xml version='1.0'?><html><body><p>xml-ish</p></body></html>", "xml-ish"),
    ("<table><tr><th>Co</th><th>Price</th></tr><tr><td>Qwen</td><td>$1</td></tr></table>",
     "Co Price\nQwen $1"),
])
def test_html_to_text(html, expected):
    assert html_to_text(html) == expected


@pytest.mark.parametrize("depth", [200, 5000])
def test_html_to_text_survives_deep_nesting(depth):
    html = "<div>" * depth + "deep" + "</div>" * depth
    text = html_to_text(html)  # no RecursionError: the walk is iterative
    # libxml2 drops what lies beyond its depth cap (256); within it, text survives
    assert text == ("deep" if depth < 256 else "")


@pytest.mark.parametrize("s, expected", [
    ("  a \n\t b  ", "a b"), ("one\u00a0two", "one two"), ("", ""), (None, ""),
])
def test_clean_line(s, expected):
    assert clean_line(s) == expected


@pytest.mark.parametrize("s, expected", [
    ("Breaking @everyone read this", ("mention",)),
    ("@here new model", ("mention",)),
    ("<!channel> pricing update", ("mention",)),
    ("<!here|here> ping", ("mention",)),
    ("cc <@U123ABC>", ("mention",)),
    ("role <@&123456789>", ("mention",)),
    ("user <@!987654321>", ("mention",)),
    ("[click here](http://evil.example)", ("link",)),
    ("see <http://evil.example|Google>", ("link",)),
    ("@everyone [free](https://evil.example)", ("mention", "link")),
    ("Alibaba cuts Qwen prices [update] (again)", ()),
    ("Email: press@example.com; price < $5 > $3", ()),
    ("", ()),
])
def test_hostile_flags(s, expected):
    assert hostile_flags(s) == expected


@pytest.mark.parametrize("text, misleading", [
    ("Nvidia raises prices", False), ("GPT-4.5 is here", False), ("U.S. bans chips, e.g. H20", False),
    ("Reuters.com exclusive", False), ("news.reuters.com says", False),
    ("write to bob@paypal.com", False),
    ("paypal.com security alert", True), ("https://paypal.com/login", True),
    # Sharing the link's last letters is not being its domain: each is a lookalike.
    ("fakereuters.com exclusive", True), ("ters.com login", True),
    ("Character.AI raises $1bn", True),      # a name that is an address: shown plain, harmless
    # Lookalikes a reader takes for the address: another script, a full-width dot, an IP.
    ("p\u0430ypal.com security alert", True), ("paypal\uff0ecom security alert", True),
    ("see http://203.0.113.9/login", True), ("m\u00fcnchen.de news", True),
    ("paypal\u200d.com security alert", True), ("paypal.\u200ccom security alert", True),
    ("阿里巴巴发布Qwen3.5模型。腾讯跟进", False), ("Python 3.12.1.2 ships", False),
    # After dots or a hyphen it is still an address; an IP needs no scheme.
    ("Urgent...paypal.com/verify", True), ("now..paypal.com", True), ("Notice -paypal.com", True),
    ("Log in at 203.0.113.9/paypal", True), ("at 10.0.0.1:8443", True),
    ("mail bob@mail.paypal.com", False), ("Chrome 120.0.6099.109 ships", False),
])
def test_link_text_naming_another_address_is_misleading(text, misleading):
    from feeds.hostile import misleading_link_text
    assert misleading_link_text(text, "https://www.reuters.com/tech/x") is misleading


@pytest.mark.parametrize("url", ["https://m\u00fcnchen.de/a", "https://xn--mnchen-3ya.de/a"])
def test_a_headline_naming_its_own_international_address_is_not_misleading(url):
    from feeds.hostile import misleading_link_text
    assert not misleading_link_text("m\u00fcnchen.de opens an AI lab", url)


@pytest.mark.parametrize("headline, url, misleading", [
    # its own address, as browsers spell it (IDNA 2008): was shown as a spoof
    ("stra\u00dfe.de opens an AI lab", "https://xn--strae-oqa.de/a", False),
    # another site: IDNA 2003 took strasse.de for straße.de and let it pass
    ("strasse.de opens an AI lab", "https://stra\u00dfe.de/a", True),
])
def test_a_sharp_s_address_is_told_from_its_ss_spelling(headline, url, misleading):
    from feeds.hostile import misleading_link_text
    assert misleading_link_text(headline, url) is misleading


# html_to_text reads fragments with parse_fragment + tree_to_text (fast) and everything
# else with document_to_text (lxml.html); for a fragment both must give the same text.
PIECES = ["x", " ", "\n", "\t", "\u00a0", "&", ";", "amp", "nbsp", "#8217", "é", "<p>", "</p>",
          "<b>", "</b>", "<br>", "<li>", "<ul>", "</ul>", "<pre>", "</pre>", "<td>", "<h2>",
          "<script>", "</script>", "<style>", "<!-- c -->", "<?pi x?>", '<a href="/r">', "</a>",
          "<div>", "</div>", "<body>", "</body>", "<head>", "<title>", "<html>", "<!doctype html>",
          "<svg>", "<table>", "<tr>", "<img src=x>", "<![CDATA[y]]>"]
DATA = Path(__file__).parent / "data"


def random_html(n: int) -> list[str]:
    rng = random.Random(20261129)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14))) for _ in range(n)]


def feed_html(reader: str) -> list[str]:
    """Every entry's HTML in tests/data, as `reader` leaves it."""
    found = []
    for path in sorted(DATA.glob("*.xml")):
        try:
            parsed = parse_feed_with(reader, path.read_bytes(), feed_url="https://f.example/")
        except (ParseError, Unsupported):  # no feed, or not one the fast path reads
            continue
        found += [s.html for s in parsed.stories]
    return found


def test_fast_reading_matches_the_lxml_html_reading():
    htmls = random_html(1500) + feed_html("feedparser") + feed_html("lxml")
    assert len(htmls) > 1900
    differ = [h for h in htmls if html_to_text(h) != document_to_text(h)]
    assert differ == []


@pytest.mark.parametrize("html, expected", [
    ("<!DOCTYPE html><html><head><title>T</title></head><body><p>Page</p></body></html>", "Page"),
    ("  <HTML><body><ul><li>a</li></ul></body></HTML>", "- a"),
    ("<?xml version='1.0' encoding='utf-8'?><html><body><p>Declared</p></body></html>", "Declared"),
    # lxml.html finds no <body> here (and used to raise AssertionError)
    ("<!doctype html></body><p>After a stray close</p>", "After a stray close"),
])
def test_whole_pages_read_like_fragments(html, expected):
    assert html_to_text(html) == document_to_text(html) == expected
