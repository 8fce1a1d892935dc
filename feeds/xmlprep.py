"""Feed bytes -> text an XML reader can be trusted with.

Three steps run before any XML reader: the body is decoded (feeds often declare the
wrong charset), defused (DTD entity declarations removed, so no entity bomb expands and
no external entity is read) and re-encoded as UTF-8 that says so, minus the characters
XML forbids.
"""
from __future__ import annotations

import codecs
import re

# --- bytes -> str -------------------------------------------------------------------

# Decoders that are strict supersets of what servers declare (as browsers use them).
_SUPERSET = {"iso8859-1": "cp1252", "ascii": "cp1252", "gb2312": "gb18030", "gbk": "gb18030",
             "cp936": "gb18030", "big5": "big5hkscs", "shift_jis": "cp932", "euc_kr": "cp949",
             "iso8859-9": "cp1254", "tis-620": "cp874"}
# Multi-byte legacy encodings: their text can pass as UTF-8 by accident, so they're
# tried before UTF-8. Single-byte text practically never is valid UTF-8.
_MULTIBYTE = {"gb2312", "gbk", "gb18030", "cp936", "big5", "big5hkscs", "cp950", "shift_jis",
              "cp932", "euc_jp", "euc_kr", "cp949", "iso2022_jp", "hz", "johab",
              "euc_jis_2004", "shift_jis_2004", "euc_jisx0213", "shift_jisx0213"}
# UTF-16 and UTF-32 without a BOM, told by how "<?" (or "<") starts (XML 1.0, appendix F).
# UTF-32 passes for UTF-8 when each of its bytes is below 0x80 (Cyrillic "А" is 10 04 00
# 00): read so, a Cyrillic feed lost its letters to the control filter on feedparser's path.
_NO_BOM = {b"<\x00?\x00": "utf-16-le", b"\x00<\x00?": "utf-16-be",
           b"<\x00\x00\x00": "utf-32-le", b"\x00\x00\x00<": "utf-32-be"}
_PROLOG_ENC = re.compile(rb"""\A\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, list[str]]:
    """Decode a feed body: (text, notes). Notes say when the declared charset was wrong.

    Order: BOM; declared multi-byte charset; UTF-8 when the bytes are valid UTF-8 (even
    if e.g. windows-1252 is declared); the declared charset; windows-1252 as a last resort."""
    text, notes, _codec_used = read_body(body, content_type)
    return text, notes


def read_body(body: bytes, content_type: str | None = None) -> tuple[str, list[str], str]:
    """decode_body, also naming the codec that decoded the body ("utf-8" for ASCII too)."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body.decode(enc, "replace"), [], enc
    if enc := _NO_BOM.get(body[:4]):
        return body.decode(enc, "replace"), [], enc
    label = (_PROLOG_ENC.search(body[:512]) or [b"", b""])[1].decode("ascii")
    declared = _codec(label)
    http = _codec((_CHARSET.search(content_type or "") or ["", ""])[1])
    if body.isascii():
        return body.decode("ascii"), [], "utf-8"
    for enc in (e for e in (declared, http) if e in _MULTIBYTE):
        if (text := _try(body, enc)) is not None:
            return text, [], enc
    if (text := _try(body, "utf-8")) is not None:
        wrong = declared and declared not in ("utf-8", "ascii")
        notes = [f"declared {label} but the body is UTF-8; read as UTF-8"] if wrong else []
        return text, notes, "utf-8"
    for enc in (e for e in (declared, http) if e and e != "utf-8"):
        if (text := _try(body, enc)) is not None:
            return text, [], enc
    return body.decode("cp1252", "replace"), [
        f"body is not {label or http or 'UTF-8'} as declared; read as windows-1252"], "cp1252"


def _codec(name: str) -> str:
    """Python's name for a charset label, or "" when unknown (e.g. encoding="invalid")."""
    try:
        return codecs.lookup(name).name if name else ""
    except LookupError:
        return ""


def _try(body: bytes, enc: str) -> str | None:
    for candidate in (_SUPERSET.get(enc), enc):
        if candidate:
            try:
                return body.decode(candidate)
            except (UnicodeDecodeError, LookupError):
                pass
    return None


# --- DTD defusing -------------------------------------------------------------------

_ENTITY_DECL = re.compile(r"""<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:"([^"]*)"|'([^']*)')\s*>""")
_SAFE_VALUE = re.compile(r"\A(?:&#\d{1,7};|&#x[0-9a-fA-F]{1,6};|[^&%<\"']{0,8})\Z")
_ENTITY_USE = re.compile(r"&([A-Za-z_][\w.-]*);")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_TAG_START = re.compile(r"<(?![?!])")


def defuse_doctype(text: str) -> tuple[str, str | None]:
    """Drop the DOCTYPE's internal subset: entity bombs and external entities live there.
    Returns (text, note or None).

    Short literal entities (``<!ENTITY mdash "&#8212;">``) are expanded here, at most a
    few characters each, so nothing can amplify; references to the rest are escaped
    and stay visible as text. Either way the strict XML parser still accepts the body."""
    head_end = _first_element(text)
    head = text[:head_end]
    if "<!ENTITY" not in head.upper():
        return text, None
    decls = ((m[1], m[2] if m[2] is not None else m[3]) for m in _ENTITY_DECL.finditer(head))
    safe = {name: value for name, value in decls if _SAFE_VALUE.match(value)}
    head = _without_doctypes(head)
    last = head.rfind(">") + 1   # none ends later; searched there, each rescanned the rest
    head = _ENTITY_DECL_ANY.sub("", head[:last]) + head[last:]
    body = _ENTITY_USE.sub(lambda m: _expand(m, safe), text[head_end:])
    return head + body, "DTD entity declarations ignored"


def _expand(m: re.Match, safe: dict[str, str]) -> str:
    name = m[1]
    if name in _XML_ENTITIES:
        return m[0]
    return safe.get(name, f"&amp;{name};")


_ENTITY_DECL_ANY = re.compile(r"<!ENTITY[^>]*>", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_DOCTYPE_RUN_END = re.compile(r"[\[>]")
_SUBSET_END = re.compile(r"\]\s*>")


def _without_doctypes(head: str) -> str:
    """re.sub(r"<!DOCTYPE[^\\[>]*(\\[.*?\\]\\s*)?>", "", head, flags=re.I | re.S), in one
    pass: that regex rescanned the rest of the head for each "<!DOCTYPE" it could not
    close (220 KB of them: 20 s holding the GIL). A failed start means every start before
    the same "[" or ">" fails, and no "]>" left means no "[" after closes either."""
    out, at, pos, closable = [], 0, 0, True
    while m := _DOCTYPE.search(head, pos):
        run_end = _DOCTYPE_RUN_END.search(head, m.end())
        if run_end is None:
            break
        end = run_end.end() if run_end[0] == ">" else None
        if end is None and closable:
            subset = _SUBSET_END.search(head, run_end.end())
            end, closable = (subset.end(), True) if subset else (None, False)
        if end is None:
            pos = run_end.start()
            continue
        out.append(head[at:m.start()])
        at = pos = end
    return "".join(out) + head[at:]


_DOCTYPE_ASCII = re.compile(r"<!DOCTYPE", re.IGNORECASE | re.ASCII)   # as str.upper() reads it


def _first_element(text: str) -> int:
    """Offset of the root element's "<" (the prolog and DOCTYPE come before it). Brackets
    are counted as the search goes: counted again up to each "<" they were quadratic."""
    pos = counted = opened = closed = 0
    doctype = _DOCTYPE_ASCII.search(text)
    while True:
        m = _TAG_START.search(text, pos)
        if not m:
            return len(text)
        start = m.start()
        opened += text.count("[", counted, start)
        closed += text.count("]", counted, start)
        counted = start
        # A "<" inside the DOCTYPE's internal subset (e.g. in an entity value) doesn't count.
        if opened <= closed or doctype is None or doctype.end() > start:
            return start
        close = text.find("]>", start)
        if close < 0:
            return len(text)
        pos = close + 2


# --- surrogate character references ---------------------------------------------------

# Some CMSs write an emoji as its two UTF-16 halves (&#55357;&#56832;). XML forbids
# them, lxml refuses the document and feedparser's fallback raises on them: the halves
# of a pair become the one character they mean, a lone half becomes U+FFFD.
_SURROGATE_REF = re.compile(r"&#(?:x(d[89a-f][0-9a-f]{2})|(5[5-7]\d{3}));", re.IGNORECASE)


def repair_surrogate_refs(text: str) -> tuple[str, str | None]:
    """(text, note or None): surrogate character references replaced by characters."""
    if not _SURROGATE_REF.search(text):
        return text, None
    raw = _SURROGATE_REF.sub(_surrogate, text)
    # UTF-16 pairs the halves that belong together and replaces the rest.
    text = raw.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text, "surrogate character references repaired"


def _surrogate(m: re.Match) -> str:
    n = int(m[1], 16) if m[1] else int(m[2])
    return chr(n) if 0xD800 <= n <= 0xDFFF else m[0]


# --- str -> UTF-8 XML -----------------------------------------------------------------

_PROLOG = re.compile(r"\A\s*<\?xml[^>]*\?>")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_C0_FORBIDDEN = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20))


def as_utf8_xml(text: str) -> bytes:
    """Re-encode as UTF-8, stating so in the prolog, and drop chars XML forbids. Past
    the head, C0 controls are deleted from the bytes (single bytes in UTF-8, never part
    of another character): bytes.translate is far faster than a regex on 400 KB."""
    head = _FORBIDDEN.sub("", text[:4096])
    head = _PROLOG.sub('<?xml version="1.0" encoding="utf-8"?>', head, count=1)
    rest = text[4096:]
    if "\ufffe" in rest or "\uffff" in rest:
        rest = rest.replace("\ufffe", "").replace("\uffff", "")
    return (head + rest).encode("utf-8", "replace").translate(None, _C0_FORBIDDEN)


# A prolog (or none) under which an XML reader reads UTF-8 bytes as as_utf8_xml's output
# reads: version 1.0, UTF-8 and nothing else but standalone=.
_UTF8_PROLOG = re.compile(rb"""<\?xml\s+version\s*=\s*(["'])1\.0\1"""
                          rb"""(?:\s+encoding\s*=\s*(["'])(?i:utf-8)\2)?"""
                          rb"""(?:\s+standalone\s*=\s*(["'])(?:yes|no)\3)?\s*\?>""")


def utf8_as_is(body: bytes, codec: str) -> bool:
    """True when `body`, as it came, is what as_utf8_xml makes of its text, unless it
    holds a character XML forbids (an XML reader refuses those: then re-encode). That
    is UTF-8 text (read_body's `codec`) with a plain UTF-8 prolog or none."""
    return codec == "utf-8" and (not body.startswith(b"<?xml") or bool(_UTF8_PROLOG.match(body)))
