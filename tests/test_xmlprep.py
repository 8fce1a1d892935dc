"""Decoding feed bodies (charsets declared, misdeclared and missing)."""
from __future__ import annotations

import pytest

from feeds.xmlprep import decode_body


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
    ('<?xml version="1.0"?><t>Цитата</t>'.encode("utf-32-le"), None, "Цитата"),   # no BOM
    ('<?xml version="1.0"?><t>Цитата</t>'.encode("utf-32-be"), None, "Цитата"),
    ("<t>Цитата</t>".encode("utf-32-le"), None, "Цитата"),
])
def test_decode_body(body, content_type, expected):
    text, _notes = decode_body(body, content_type)
    assert expected in text


def test_decode_body_notes_a_wrong_declaration():
    body = b'<?xml version="1.0" encoding="windows-1252"?><t>' + "€".encode("utf-8") + b"</t>"
    assert decode_body(body)[1] == ["declared windows-1252 but the body is UTF-8; read as UTF-8"]
    assert decode_body(b"<t>plain</t>")[1] == []
