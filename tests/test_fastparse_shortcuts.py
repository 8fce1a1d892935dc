"""The fast path's shortcuts give what the general code they skip would give: text
without markup (no lxml parse), plain URLs (no urllib), common date spellings (no
feedparser handler chain), UTF-8 bodies (no re-encoding), trees with nothing to strip."""
from __future__ import annotations

import copy
import random

import lxml.etree
import pytest
from feedparser.datetimes import _parse_date as feedparser_date

from feeds import elements, fast_values, htmlclean, urls
from feeds import hostile, invisible
from feeds import text as textmod
from feeds.entries import paragraphs
from feeds.fastparse import parse_date
from feeds.parser import parse_feed_with
from tests.fastparse_kit import FEED, assert_same, both, rss

BASE = "https://feeds.example.com/ai.xml"
# Characters that lxml's HTML reading changes or that whitespace handling treats apart.
CHARS = list("ab c\n\t\r>\"'=/;#-.") + ["\xa0", "é", "\u2019", "\u3000", "\u2028", "\x85", "\x81",
                                        "\x9d", "\x7f", "\U0001F600", "\ue000", "\ufeff", "\u200b",
                                        "\u00ad", "  ", "\r\n", "\n\n", "\r\n\r\n",
                                        "\ufffe", "\x01"]  # the last two: lxml refuses them


def random_strings(seed: int, n: int, pieces: list[str], longest: int = 30) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, longest))) for _ in range(n)]


def outcome(read, *args):
    try:
        return read(*args)
    except htmlclean.Unsupported:
        return "declined"


def test_text_without_markup_reads_as_lxml_reads_it():
    texts = [s for s in random_strings(1, 3000, CHARS) if s.strip()]
    assert len(texts) > 2500
    assert [outcome(htmlclean.clean_html, s, BASE) for s in texts] == [
        outcome(htmlclean._clean_tree, s, BASE) for s in texts]


# Mostly single-spaced words, sometimes a character that ends the single-spaced shortcut.
WORDY = ["word", "é", "\u2019", ">", " ", " ", " ", "x.", "\U0001F600"] * 4 + CHARS


def test_single_spaced_text_reads_as_lxml_reads_it():
    """Text whose only whitespace is single spaces skips the line assembly: the same
    HTML and text as lxml's parse, plain-text paragraphs included."""
    texts = [s for s in random_strings(13, 3000, WORDY, longest=12) if s.strip()]
    assert 400 < sum(map(textmod._single_spaced, texts)) < len(texts) - 400
    assert [outcome(htmlclean.clean_html, s, BASE) for s in texts] == [
        outcome(htmlclean._clean_tree, s, BASE) for s in texts]
    values = ["\n\n".join(random_strings(i, 3, WORDY, longest=8)) for i in range(1000)]
    assert [outcome(htmlclean.plain_html, v) for v in values] == [
        outcome(lxml_paragraphs, v) for v in values]


def lxml_paragraphs(value: str) -> tuple[str, str]:
    html = paragraphs(value)
    return html, textmod.tree_to_text(htmlclean._fragment(html)) if html else ""


def test_plain_text_paragraphs_read_as_lxml_reads_them():
    values = random_strings(2, 3000, CHARS + ["<p>", "&amp;", "&", "<"])
    assert [outcome(htmlclean.plain_html, v) for v in values] == [
        outcome(lxml_paragraphs, v) for v in values]


TAGS = ["x y", "\n", "&#1;", "&#x1f;", "<p>", "</p>", "<li>", "<ul>", "<br>", "<pre>", "</pre>",
        "<td>", "<!-- c -->", "<noscript>", "<form>", "<textarea>", "<b>", "</b>", "<h2>", "é"]


@pytest.mark.parametrize("html", random_strings(3, 400, TAGS, longest=12))
def test_text_walks_agree(html):
    """The walk for trees without <pre> and the one with (document_to_text) agree, and a
    tree the sanitiser finds prose-only reads the same without the stripping pass."""
    assert textmod.html_to_text(html) == textmod.document_to_text(html)
    try:
        root = textmod.parse_fragment(html)
    except ValueError:  # e.g. a control character in the leading text: read another way
        return
    if root is not None and htmlclean._sanitize(root, BASE):
        assert textmod.tree_to_text(copy.deepcopy(root), clean=False) == textmod.tree_to_text(root)


def plain_urls(n: int) -> list[str]:
    rng = random.Random(4)
    hosts = ["x.com", "X.Com", "a-b.c0.org.", "news.example.com", "1.2.3.4", "xn--e1a.com"]
    segments = ["a", "B", "%2F", "é", "~x", ".", "..", "", "p.html", "@", ":", "!$&'()*+,="]
    queries = ["utm_source=rss", "id=7", "ref=x", "source=feed", "q=a%20b", "", "=", "&",
               "a=1&&b=2", "Utm_Medium=y", "from=rss_x", "x=é"]
    found = []
    for _ in range(n):
        url = rng.choice(["http://", "https://"]) + rng.choice(hosts)
        url += "/" + "/".join(rng.choice(segments) for _ in range(rng.randint(0, 3)))
        if rng.random() < 0.6:
            url += "?" + "&".join(rng.choice(queries) for _ in range(rng.randint(0, 3)))
        if rng.random() < 0.2:
            url += rng.choice(["#", "#f", "#a?b"])
        found.append(url)
    return found


@pytest.mark.parametrize("base", ["", BASE, "http://other.example/d/", "http://[bad"])
def test_plain_urls_canonicalise_as_urllib_reads_them(base):
    links = plain_urls(2000)
    assert sum(bool(urls._PLAIN_URL.match(u)) for u in links) > 1500
    for url in links:   # a base urljoin refuses ("http://[bad") is passed over by both
        assert urls.canonical_url(url, base) == urls._parsed_canonical(url, base), url


@pytest.mark.parametrize("base", ["", BASE, "http://other.example/d/", "http://[bad", "/rel"])
def test_a_guid_spelled_as_its_link_shares_its_canonical_form_only_where_that_is_exact(base):
    """build_stories reuses the link's canonical form for a GUID spelled the same when
    base_plays_no_part says the base made no difference: it never says so wrongly."""
    links = plain_urls(2000) + [" " + u for u in plain_urls(50)] + ["//x.com/a", "/a", "x"]
    said = 0
    for url in links:
        if urls.base_plays_no_part(url, base):
            said += 1
            assert urls.canonical_url(url, base) == urls.canonical_url(url), url
    assert said > 1500


ZONES = ["GMT", "UT", "Z", "+0000", "-0530", "+1400", "+9999", "EST", "+08:00"]


def dates(n: int) -> list[str]:
    rng = random.Random(5)

    def two() -> str:
        return f"{rng.randint(0, 61):02d}" if rng.random() < 0.9 else str(rng.randint(0, 40))
    found = []
    for _ in range(n):
        day_name = rng.choice(["Mon, ", "tue, ", "Sat ", "Tuesday, ", ""])
        found.append(f"{day_name}{two()} {rng.choice(['Jan', 'may', 'DEC', 'Mayo', 'Foo'])} "
                     f"{rng.choice(['2024', '0001', '9999', '24'])} {two()}:{two()}:{two()} "
                     f"{rng.choice(ZONES)}")
        found.append(f"{rng.choice(['2024', '0001', '9999'])}-{two()}-{two()}{rng.choice('Tt ')}"
                     f"{two()}:{two()}:{two()}{rng.choice(['', '.5', '.123456', '.99999999999'])}"
                     f"{rng.choice(['Z', 'z', '+05:30', '-08:00', '+0530', '', '-23:59'])}")
    return found


def test_common_dates_read_as_feedparser_reads_them():
    for s in dates(5000):
        expected, got = feedparser_date(s), parse_date(s)
        assert (got and tuple(got[:6])) == (expected and tuple(expected[:6])), s


UTF8_BODIES = {
    "control character": ("<?xml version='1.0' encoding='utf-8'?>", "Caf\u00e9 \x01bell\x1f"),
    "latin-1 declared": ('<?xml version="1.0" encoding="iso-8859-1"?>', "Caf\u00e9 \u2019q\u2019"),
    "windows-1252 declared": ('<?xml version="1.0" encoding="windows-1252"?>',
                              "Euro \u20ac \u201aq"),
    "version 1.1": ('<?xml version="1.1" encoding="utf-8"?>', "Caf\u00e9"),
    "space before prolog": (' <?xml version="1.0" encoding="utf-8"?>', "Caf\u00e9"),
    "no prolog": ("", "Caf\u00e9 \U0001F600"),
    "standalone": ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', "Caf\u00e9"),
    "noncharacter": ('<?xml version="1.0"?>', "odd \ufffe end"),
}


@pytest.mark.parametrize("prolog, title", UTF8_BODIES.values(), ids=UTF8_BODIES.keys())
def test_utf8_bodies_read_as_when_re_encoded(prolog, title):
    body = rss(f"<item><title>{title}</title><link>https://x.com/1</link></item>")
    body = prolog.encode() + body[body.index(b"?>") + 2:]
    slow, fast = both(body)
    assert fast.reader == "lxml"
    assert_same(slow, fast)


def test_control_characters_are_dropped_not_a_reason_to_decline():
    body = rss("<item><title>A\x01B</title><link>https://x.com/1</link></item>")
    parsed = parse_feed_with("lxml", body, feed_url=FEED)
    assert parsed.stories[0].title == "AB"


def test_element_names_in_an_unknown_namespace_follow_each_documents_prefix():
    docs = [f'<r xmlns:{p}="urn:unknown"><{p}:thing/></r>' for p in ("abc", "xyz")]
    keys = [elements.element_key(lxml.etree.fromstring(d)[0]) for d in docs * 2]
    assert keys == ["abc_thing", "xyz_thing"] * 2


def test_separator_prefilter_hands_over_what_the_full_search_does():
    """needs_feedparser skips its tag regex for HTML without U+2028/U+2029: the same
    answer as searching every string (a tag split by either is still handed over)."""
    pieces = ["<p", "<a href=", ">", "x", " ", "é", "\u2028", "\u2029", "\u3000", "</p", "<"]
    html = [s for s in random_strings(9, 4000, pieces, longest=10) if not s.isascii()]
    full = [bool("\x85" in s or htmlclean._SEPARATOR_IN_TAG.search(s)
                 or htmlclean._GLUED_TAG.search(s)) for s in html]
    assert sum(full) > 500 and len(full) - sum(full) > 500  # both answers are exercised
    assert [htmlclean.needs_feedparser(s) for s in html] == full


def test_hostile_flags_prefilters_flag_what_the_regexes_find():
    """hostile_flags runs each regex only where its literal characters occur: the same
    flags as running both on every string."""
    pieces = ["@", "everyone", "here", "<!", "<#", "<@", "channel", "|", "](", "[", "]", "(",
              "<", ">", "x", " ", "\n", "https:", "!", "#", "a1", "](https:", "<https:"]
    texts = random_strings(10, 6000, pieces, longest=8)

    def both_regexes(s):
        found = [hostile._MENTION.search(s) and "mention", hostile._LINK.search(s) and "link"]
        return tuple(f for f in found if f)
    expected = [both_regexes(s) for s in texts]
    assert {flags for flags in expected} == {(), ("mention",), ("link",), ("mention", "link")}
    assert sum(f == ("link",) for f in expected) > 50
    assert [hostile.hostile_flags(s) for s in texts] == expected


def test_hostile_flags_found_where_they_can_start_as_the_regexes_find_them():
    """Mentions and links are looked for only at their possible starts ("@", "<!", "<@",
    "<#", "[", and each "<" before a "|" with no ">", "|" or space between): the same
    flags as each regex searching the whole string, "<" runs and odd cases included."""
    pieces = ["<", "a", "b1", ":", "|", " ", "\n", ">", "[", "]", "](", "(", "@", "!", "#",
              "everyone", "here", "x", "\u017f", "\u212a", "\u3000", "<a:", "<b:c", "https:"]
    texts = random_strings(11, 20000, pieces, longest=30)

    def both_regexes(s):
        found = [hostile._MENTION.search(s) and "mention", hostile._LINK.search(s) and "link"]
        return tuple(f for f in found if f)
    expected = [both_regexes(s) for s in texts]
    assert sum(f == ("link",) for f in expected) > 500
    assert sum(f == ("mention",) for f in expected) > 300
    assert [hostile.hostile_flags(s) for s in texts] == expected


def test_c1_controls_found_as_the_regex_finds_them():
    """finish() looks for C1 controls through a byte search of the UTF-8 text: the same
    answer as the regex, next to the Latin-1 characters that share their lead byte."""
    pieces = ["a", "\x80", "\x9f", "\xa0", "\xbf", "\xc2", "\xe9", "\u0100", "\u2019",
              "\ud800", "\U0001F600", "\x7f"]
    texts = random_strings(12, 4000, pieces, longest=6)
    expected = [fast_values._C1.search(s) is not None for s in texts]
    assert 500 < sum(expected) < len(texts) - 500
    assert [fast_values._has_c1(s) for s in texts] == expected


def test_invisible_characters_dropped_as_the_regex_drops_them():
    """visible() runs the regex only where an exact prefilter finds a candidate: the same
    text comes out, on ASCII and other text, with every kind of character the regex
    lists and the visible ones around them."""
    pieces = ["a", " ", "\n", "\t", "\r", "\x00", "\x1b", "\x7f", "\x85", "\xa0", "\xad", "é",
              "\u061c", "\u200b", "\u200d", "\u200e", "\u202e", "\u2063", "\u2068",
              "\u3000", "\ufeff", "\U000e0041", "\U000e0000", "\U0001F600", "\u2019",
              "\u034f", "\u17b4", "\u180b", "\u3164", "\u1160", "\ufe00", "\ufe0e", "\ufe0f",
              "\U000e0100", "1", "#", "\u2764", "\ud800"]
    texts = random_strings(13, 6000, pieces, longest=8) + ["", "plain", "\x1b[31mred"]
    expected = [invisible._INVISIBLE.sub("", s) for s in texts]
    assert 500 < sum(e != s for e, s in zip(expected, texts)) < len(texts) - 500
    assert [invisible.visible(s) for s in texts] == expected


def test_html_handed_to_lxml_as_utf8_parses_as_the_str_does():
    """parse_fragment gives lxml UTF-8 bytes: the same document as the str gave, with
    encoding declarations, references, controls and a lone surrogate in the HTML."""
    odd = ['<meta charset="iso-8859-1">', '<?xml version="1.0" encoding="latin-1"?>',
           '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
           "\ud800", "\x00", "&eacute;", "&#x80;", "&#0;", "<![CDATA[", "<!--", "\u2019"]
    pages = [f"<html><body>{h}</body></html>"
             for h in random_strings(14, 3000, CHARS + TAGS + odd, longest=20)]
    assert sum(not p.isascii() for p in pages) > 2000

    def as_str(page):
        return _serialised(lxml.etree.fromstring(page, lxml.etree.HTMLParser()))
    assert [outcome(lambda p: _serialised(textmod._parse_html(p)[1]), p) for p in pages] == [
        outcome(as_str, p) for p in pages]


def _serialised(doc):
    return doc if doc is None else lxml.etree.tostring(doc, encoding="unicode")


def test_attributes_read_at_once_as_one_by_one():
    """link_value reads an element's attributes into one dict: the same value for each
    name as attr() (the first attribute of that name in any case), or the default."""
    rng = random.Random(15)
    names = ["href", "HREF", "Href", "rel", "REL", "type", "uri", "url", "{urn:x}href"]
    for _ in range(2000):
        el = lxml.etree.Element("link")
        for name in rng.sample(names, rng.randint(0, 5)):
            el.set(name, rng.choice(["a", "b", "C", ""]))
        found = fast_values.attrs(el)
        for name in ("href", "rel", "type", "uri", "url", "x"):
            assert found.get(name, "dflt") == fast_values.attr(el, name, "dflt")


def test_children_read_a_tag_in_an_unknown_namespace_by_each_documents_prefix():
    """children() remembers what to do with a tag only where its key is the tag's: an
    unknown namespace's element is skipped under one prefix and read under another."""
    docs = [f'<item xmlns:{p}="urn:unknown"><{p}:creator>Li</{p}:creator></item>'
            for p in ("x", "dc", "x", "dc")]
    keys = [[key for _, key in elements.children(lxml.etree.fromstring(d), set())]
            for d in docs]
    assert keys == [[], ["dc_creator"], [], ["dc_creator"]]


def test_clean_line_skips_the_split_only_where_it_changes_nothing():
    """clean_line returns single-spaced text stripped, without splitting it into words:
    the same as joining its words, for every kind of space and control character."""
    texts = random_strings(16, 6000, WORDY, longest=10)
    assert 1000 < sum(map(textmod._single_spaced, texts)) < len(texts) - 1000
    assert [textmod.clean_line(s) for s in texts] == [" ".join(s.split()) for s in texts]


def test_the_html_guess_skipped_only_for_text_it_calls_plain():
    """plain_or_html asks feedparser whether an RSS title looks like HTML only when it
    holds "</" or "&": the same answer as asking for every title."""
    from feedparser.mixin import _FeedParserMixin
    pieces = ["<b>", "</b>", "</x>", "&amp;", "&#38;", "&x;", "&", "<", "/", ">", "a", " ", ";"]
    texts = random_strings(17, 4000, pieces, longest=6)
    expected = [_FeedParserMixin.looks_like_html(s) for s in texts]
    assert 200 < sum(expected) < len(texts) - 200
    assert [fast_values._looks_like_html(s) for s in texts] == expected


# Paragraph HTML, mostly of the shape the shortcut takes, often one piece off it.
PARAGRAPHED = ["<p>", "</p>", "</p><p>", "</p><p>", "word", "word", " ", " ", "x.", "é",
               "\u2019", "\U0001F600"] * 12 + CHARS + [
    "<", "&amp;", "&", "<P>", "</P>", "<b>", "</b>", "<br>", "<p >", "<p class=x>", "\x00",
    "<script>", "</script>", "<!-- c -->", "<![CDATA[x]]>", "<li>", "<pre>", "</pre>"]


def test_paragraph_html_reads_as_lxml_reads_it():
    """HTML of nothing but "<p>text</p>" skips lxml: the same HTML and text as the parse,
    sanitiser, serialiser and walk give, and everything else still goes to them."""
    texts = ["<p>" + s + "</p>" for s in random_strings(18, 6000, PARAGRAPHED, longest=14)]
    taken = sum(htmlclean._plain_paragraphs(s) is not None for s in texts)
    assert 800 < taken < len(texts) - 800
    assert [any_outcome(htmlclean.clean_html, s) for s in texts] == [
        any_outcome(htmlclean._clean_tree, s) for s in texts]


def any_outcome(read, html: str):
    """outcome(), or the error's type (a tag name lxml refuses: a fallback either way)."""
    try:
        return outcome(read, html, BASE)
    except ValueError as e:
        return type(e).__name__


def test_printable_as_str_isprintable():
    texts = random_strings(19, 6000, CHARS + WORDY + ["\x1f", "\x7f", "~", "\x00"], longest=8)
    assert [htmlclean._printable(s) for s in texts] == [s.isprintable() for s in texts]


def test_paragraphs_without_a_newline_split_as_the_regex_splits_them():
    """paragraph_list skips the blank-line split for text without "\\n": what the regex
    split gives, for every kind of space and line end."""
    from feeds import entries
    texts = random_strings(20, 6000, CHARS + WORDY, longest=10)
    assert 1000 < sum("\n" not in s for s in texts) < len(texts) - 1000
    assert [entries.paragraph_list(s) for s in texts] == [
        [p.strip() for p in entries._BLANK_LINE.split(s) if p.strip()] for s in texts]
