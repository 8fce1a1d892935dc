"""CDATA sections lifted out before the XML parse give the tree the plain parse gives,
or hand the document back to it (feeds/cdata.py)."""
from __future__ import annotations

import random

import lxml.etree

from feeds import cdata
from feeds.parser import parse_feed_with
from tests.fakes.feedserver import make_entries, make_rss

PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                              huge_tree=False, remove_pis=True)
# Sections in text, in tails, side by side, in comments, PIs and attributes, unclosed,
# nested, with line ends, references and characters XML forbids or that look like markers.
PIECES = ["<![CDATA[<p>a & b</p>]]>", "<![CDATA[]]>", "<![CDATA[x\r\ny]]>", "<b>", "</b>",
          "<c/>", "<!-- c -->", "text", " ", "\n", "\r\n", "&amp;", "&#13;", "]", "!", "é",
          "\u2019", "<![CDATA[\u00e9 ] ]] ]>]]>"] * 4 + [
    "<![CDATA[", "]]>", "]]", "<!--", "-->", "<?pi x?>", '<d e="', '">', "\r", "&#xE000;",
    "\t", "<", "&", "\x01", "\x0b", "\ufffe", "\ue000", "\ue0001\ue001", "\uefff",
    "\ud800", "\xff"]


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
        return lxml.etree.tostring(lxml.etree.fromstring(xml, PARSER))
    except lxml.etree.XMLSyntaxError:
        return "error"


def test_a_lifted_parse_gives_the_plain_parse_tree_or_declines():
    docs = random_docs(1, 20000)
    lifted = [cdata.parse_lifted(d, PARSER) for d in docs]
    taken = [(d, root) for d, root in zip(docs, lifted) if root is not None]
    assert len(taken) > 2000   # and many declined: see the next test
    assert [lxml.etree.tostring(root) for _, root in taken] == [plain(d) for d, _ in taken]


def test_what_it_declines_includes_every_kind_of_doubt():
    """Each kind of input the plain parse must settle is handed back to it."""
    declined = ['<a x="<![CDATA[y]]>"/>', "<a><!-- <![CDATA[ -->]]>--></a>", "<a><![CDATA[x</a>",
                "<a><![CDATA[\x01]]></a>", "<a><![CDATA[\ufffe]]></a>", "<a>\ue000</a><![CDATA[x]]>",
                "<a><?p <![CDATA[x]]>?></a>", "<a>no sections</a>", "<a><![CDATA[x]]></a>x"]
    assert [cdata.parse_lifted(d.encode(), PARSER) for d in declined] == [None] * len(declined)
    assert cdata.parse_lifted(b"<a><![CDATA[\xff]]></a>", PARSER) is None


def test_sections_come_back_where_the_parse_puts_them():
    xml = ("<a> <![CDATA[one\r\ntwo\r]]>&amp;<![CDATA[]]]]><![CDATA[>]]><b/>t<![CDATA[\u00e9]]>"
           "<c><![CDATA[<p>x</p>]]></c><!-- k --><![CDATA[z]]></a>").encode()
    assert lxml.etree.tostring(cdata.parse_lifted(xml, PARSER)) == plain(xml)


def test_rss_with_cdata_content_reads_as_without_the_lift(monkeypatch):
    body = make_rss("G", make_entries(5, seed=3, paragraphs=3))
    assert cdata.parse_lifted(body, PARSER) is not None
    lifted = parse_feed_with("lxml", body, feed_url="https://x.com/f")
    monkeypatch.setattr("feeds.fastparse.parse_lifted", lambda xml, parser: None)
    unlifted = parse_feed_with("lxml", body, feed_url="https://x.com/f")
    assert lifted.stories == unlifted.stories and len(lifted.stories) == 5
