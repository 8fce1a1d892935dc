"""HTML -> text, whitespace cleanup, hostile-text flags and charset decoding."""
from __future__ import annotations

import pytest

from feeds.text import clean_line, decode_body, hostile_flags, html_to_text


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


@pytest.mark.parametrize("body, content_type, expected", [
    ("Café".encode("cp1252"), None, "Café"),                                 # no declaration
    (b'<?xml version="1.0" encoding="ISO-8859-1"?><t>' + "Jürgen".encode("latin-1") + b"</t>",
     None, "Jürgen"),
    (b'<?xml version="1.0" encoding="windows-1252"?><t>Euro ' + "€".encode("utf-8") + b"</t>",
     None, "Euro €"),                                                        # wrong declaration
    (b'<?xml version="1.0" encoding="KOI8-R"?><t>' + "Привет".encode("koi8-r") + b"</t>",
     None, "Привет"),
    (b'<?xml version="1.0" encoding="GB2312"?><t>' + "阿里巴巴".encode("gb2312") + b"</t>",
     None, "阿里巴巴"),
    (b'<?xml version="1.0" encoding="gb2312"?><t>' + "朱镕基".encode("gbk") + b"</t>",
     None, "朱镕基"),                                                        # GBK beyond GB2312
    (b"<t>" + "Москва".encode("cp1251") + b"</t>", "text/xml; charset=windows-1251", "Москва"),
    ("\ufeff<t>bom ✓</t>".encode("utf-8"), None, "bom ✓"),
    ("<t>utf16 ✓</t>".encode("utf-16"), None, "utf16 ✓"),
])
def test_decode_body(body, content_type, expected):
    text, _notes = decode_body(body, content_type)
    assert expected in text


def test_decode_body_notes_a_wrong_declaration():
    body = b'<?xml version="1.0" encoding="windows-1252"?><t>' + "€".encode("utf-8") + b"</t>"
    assert decode_body(body)[1] == ["declared windows-1252 but the body is UTF-8; read as UTF-8"]
    assert decode_body(b"<t>plain</t>")[1] == []
