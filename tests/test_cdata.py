"""CDATA sections lifted out before the XML parse give the tree the plain parse gives,
or hand the document back to it (feeds/cdata.py)."""
from __future__ import annotations

import random

import pytest

import lxml.etree

from feeds import cdata
from feeds.parser import parse_feed, parse_feed_with
from tests.fakes.feedserver import make_entries, make_rss

PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                              huge_tree=False, remove_pis=True)
# Sections (long ones are lifted) in text, in tails, side by side, in comments, PIs and
# attributes, unclosed, nested, with line ends, references and characters XML forbids or
# that look like markers.
LONG = "<p>a & b]</p>\r\n" * 40
PIECES = [f"<![CDATA[{LONG}]]>", "<![CDATA[]]>", "<![CDATA[x\r\ny]]>", "<b>", "</b>", "<c/>",
          "<!-- c -->", "text", " ", "\n", "\r\n", "&amp;", "&#13;", "]", "!", "é", "\u2019",
          f"<![CDATA[\u00e9 ] ]] ]>{LONG}]]>"] * 4 + [
    "<![CDATA[", "]]>", "]]", LONG, "<!--", "-->", "<?pi x?>", '<d e="', '">', "\r",
    "&#xE000;", "\t", "<", "&", "\x01", "\x0b", "\ufffe", "\ue000", "\ue0001\ue001",
    "\uefff", "\ud800", "\xff"]


def random_docs(seed: int, n: int) -> list[bytes]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        inner = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12)))
        text = f"<a>{inner}</a>" if rng.random() < 0.9 else inner
        data = text.encode("utf-8", "surrogatepass")
        docs.append(data.replace("\xff".encode(), b"\xff") if rng.random() < 0.5 else data)
    return docs


def plain(xml: bytes):
    try:
        return nodes(lxml.etree.fromstring(xml, PARSER))
    except lxml.etree.XMLSyntaxError:
        return "error"


def nodes(root) -> list[tuple]:
    """Every node as the fast path reads it: tag, text, tail, attributes (a marker in a
    text put back, within sections_in_use)."""
    return [(el.tag, put(el.text), put(el.tail), el.items()) for el in root.iter()]


def put(text):
    sections = cdata.lifted_sections()
    return cdata.put_back(text, sections) if text and sections else text


def lifted(xml: bytes):
    found = cdata.parse_lifted(xml, PARSER)
    if found is None:
        return None
    root, texts = found
    with cdata.sections_in_use(texts):
        return nodes(root)


def test_a_lifted_parse_reads_as_the_plain_parse_or_declines():
    docs = random_docs(1, 20000)
    taken = [(d, found) for d in docs if (found := lifted(d)) is not None]
    assert len(taken) > 1200   # and many declined: see the next test
    assert [found for _, found in taken] == [plain(d) for d, _ in taken]


def test_what_it_declines_includes_every_kind_of_doubt():
    """Each kind of input the plain parse must settle is handed back to it."""
    declined = ['<a x="<![CDATA[y]]>"/>', "<a><!-- <![CDATA[y -->]]>--></a>", "<a><![CDATA[y</a>",
                "<a><![CDATA[\x01y]]></a>", "<a><![CDATA[\ufffey]]></a>",
                "<a>\ue000</a><![CDATA[y]]>", "<a><?p <![CDATA[y]]>?></a>", "<a><![CDATA[y]]></a>y",
                "<a>no sections</a>", "<a><![CDATA[short]]></a>",
                "<a>\ue0000\ue001<!-- <![CDATA[y]]> --></a>"]   # (a feed's own marker)
    long = [d.replace("y", "y" * cdata._WORTH) for d in declined]
    assert [cdata.parse_lifted(d.encode(), PARSER) for d in long] == [None] * len(declined)
    assert cdata.parse_lifted(b"<a><![CDATA[\xff" + b"y" * 600 + b"]]></a>", PARSER) is None


def test_sections_come_back_where_the_parse_puts_them():
    xml = (f"<a> <![CDATA[one\r\ntwo\r{LONG}]]>&amp;<![CDATA[]]]]><![CDATA[>]]><b/>t<![CDATA["
           f"\u00e9{LONG}]]><c><![CDATA[<p>x</p>{LONG}]]></c><!-- k --><![CDATA[z]]></a>").encode()
    assert lifted(xml) == plain(xml)
    assert len(cdata.parse_lifted(xml, PARSER)[1]) == 3   # the short ones stay


def test_outside_a_lifted_document_markers_are_text():
    assert cdata.lifted_sections() == ()
    with cdata.sections_in_use(["x"]):
        assert cdata.lifted_sections() == ["x"]
    assert cdata.lifted_sections() == ()


def test_rss_with_cdata_content_reads_as_without_the_lift(monkeypatch):
    body = make_rss("G", make_entries(5, seed=3, paragraphs=3))
    assert cdata.parse_lifted(body, PARSER) is not None
    lifted = parse_feed_with("lxml", body, feed_url="https://x.com/f")
    monkeypatch.setattr("feeds.fastparse.parse_lifted", lambda xml, parser: None)
    unlifted = parse_feed_with("lxml", body, feed_url="https://x.com/f")
    assert lifted.stories == unlifted.stories and len(lifted.stories) == 5


# A reference to a marker character stands in for the one marker the parse drops (in a
# comment, a PI, an attribute): counted as lifted, it let the dropped section back in.
MARKER_REFS = ["&#xE000;0&#xE001;", "&#xe000;0&#xe001;", "&#57344;0&#57345;",
               "&#x0E000;0&#x00e001;", "&#0057344;0&#57345;", "&#xE000;9&#xE001;"]
HIDERS = ["<!-- <![CDATA[{}]]> -->", "<?pi <![CDATA[{}]]> ?>"]


@pytest.mark.parametrize("ref", MARKER_REFS)
@pytest.mark.parametrize("hider", HIDERS + ['<image x="<![CDATA[{}]]>"/>'])
def test_a_reference_to_a_marker_character_is_not_a_marker(ref, hider):
    hidden = hider.format("<p>hidden " + "x" * cdata._WORTH + "</p>")
    xml = f"<a><b>{ref}</b>{hidden}</a>".encode()
    assert cdata.parse_lifted(xml, PARSER) is None
    body = make_rss("G", make_entries(1, seed=1)).replace(
        b"<description>", f"{hidden}<description>{ref}".encode(), 1)
    fast = parse_feed(body, feed_url="https://x.com/f")
    assert all("hidden" not in s.text for s in fast.stories)
    assert [s.text for s in fast.stories] == [
        s.text for s in parse_feed_with("feedparser", body, feed_url="https://x.com/f").stories]
