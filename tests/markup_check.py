"""An independent reader of chat markup, for tests of what the renderers make of hostile
text. Written from the platforms' documented syntax (Discord: message formatting and
"Markdown Text 101"; Slack: "Formatting text for app surfaces", Block Kit), not from
the renderers: it reports what a client would act on. Conservative where the docs are
vague (an indented "  # x" or "  > x" counts as a heading or quote; Discord's parser
reads a lone CR as a line break; any "@everyone" counts, whatever its case). Discord's
lists are "- ", "* " and numbered ("1. "); "+ " is none there (its client's list rule,
a copy of simple-markdown's, leaves "+" out).

Each checker returns a list of problems (empty when the text is inert); `links` are the
addresses our own links may point to (the story's)."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

import idna

LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
# Indentation a reader doesn't see: spaces of any width and invisible format characters.
_INDENT = r"(?:[^\S\r\n\u2028\u2029]|[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff])*"

# Discord -----------------------------------------------------------------------------
_D_MASS = re.compile(r"@(everyone|here)", re.IGNORECASE)
_D_PILL = re.compile(r"<(?:@[!&]?|#|/[^<>\n]*:|a?:\w*:|t:|id:)[^<>\n]*>")
_D_ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]")     # a backslash hides ASCII punctuation
_D_AUTOLINK = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
# A linked URL reads as the host after its "://"; browsers (WHATWG URL) go to the one
# after the last "@" before the first "/", "\\", "?" or "#", %-decoded ("%2E" is a dot),
# in punycode when in another script.
_D_AUTHORITY = re.compile(r"[a-z][a-z0-9+.-]*://([^/\\?#]*)", re.IGNORECASE)
_D_MASKED = re.compile(r"\[([^\]\n]*)\]\(\s*<?([a-z][\w+.-]*:[^\s)>]*)", re.IGNORECASE)
_D_LINE_START = re.compile(rf"^{_INDENT}(#{{1,3}}\s|-#\s|>>>\s|>\s|[-*]\s|\d+\.\s)")
_D_OUR_CODE = re.compile(r"`/[^`\n]*`")          # our own command examples
_D_STYLE = re.compile(r"[*_~|`]")


def discord_problems(text: str, *, markdown: bool = True, links=()) -> list[str]:
    """What Discord would act on in `text`: a mention (pill or ping) anywhere; where it
    renders markdown also a masked link to elsewhere or under another address, a URL it
    links whose host is not the one it reads as, a live style mark, and a heading,
    subtext, quote or list at a line start."""
    found = [f"mention {m.group()!r}" for m in _D_MASS.finditer(text)]
    found += [f"mention {m.group()!r}" for m in _D_PILL.finditer(text)]
    if not markdown:
        return found
    masked = _blank(_D_ESCAPED, text)
    for m in _D_MASKED.finditer(masked):
        label, target = text[m.start(1):m.end(1)], text[m.start(2):m.end(2)]
        if target not in links or names_other_address(label, target):
            found.append(f"masked link {m.group()!r}")
    found += [f"live link {m.group()!r} goes elsewhere than it reads"
              for m in _D_AUTOLINK.finditer(masked) if _goes_elsewhere(m.group())]
    masked = _blank(_D_OUR_CODE, _blank(_D_AUTOLINK, masked))
    found += [f"style mark {m.group()!r}" for m in _D_STYLE.finditer(masked)]
    for line in LINE_BREAK.split(masked):
        if m := _D_LINE_START.match(line):
            found.append(f"line starts with {m.group(1)!r}: {line!r}")
    return found


def _goes_elsewhere(url: str) -> bool:
    """A URL whose host is not the one a reader takes from its text (None where no
    browser could go: not a link anywhere)."""
    authority = _D_AUTHORITY.match(url).group(1)
    if "@" in authority:
        return True
    written = authority.partition(":")[0]
    host = re.sub("%([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), written)
    try:
        goes = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return goes != unicodedata.normalize("NFKC", written).lower()


def _blank(pattern: re.Pattern, text: str) -> str:
    """`text` with what `pattern` matches made inert, same length (spans stay valid)."""
    return pattern.sub(lambda m: "\x00" * len(m.group()), text)


# Slack -------------------------------------------------------------------------------
_S_TOKEN = re.compile(r"<([^<>]*)>")
_S_OUR_DATE = re.compile(r"!date\^\d+\^[^|]*\|[^|]*")
_S_BROADCAST = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
_S_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
_S_QUOTE = re.compile(rf"^{_INDENT}(&gt;|>)")
_S_BOLD = re.compile(r"(?<!\w)\*[^\s*](?:[^*\n]*[^\s*])?\*(?!\w)")   # ours: *Reuters*
_S_STYLE = re.compile(r"[*_~`]")


def slack_problems(text: str, *, links=()) -> list[str]:
    """What Slack would act on in mrkdwn `text`: a mention token or broadcast word, a
    link to elsewhere or under another address, a stray "&" entity, a quote at a line
    start, and any style mark outside a well-formed bold run."""
    found = [f"broadcast {m.group()!r}" for m in _S_BROADCAST.finditer(text)]
    found += [f"bare & at {m.start()}" for m in _S_ENTITY.finditer(text)]
    for m in _S_TOKEN.finditer(text):
        found += _slack_token(m.group(1), links)
    rest = _S_TOKEN.sub("x", text)
    for line in rest.split("\n"):
        if _S_QUOTE.match(line):
            found.append(f"quote: {line!r}")
        found += [f"style mark {s.group()!r} in {line!r}"
                  for s in _S_STYLE.finditer(_S_BOLD.sub("", line))]
    return found


def _slack_token(token: str, links) -> list[str]:
    if _S_OUR_DATE.fullmatch(token):
        return []
    if token[:1] in "!@#":
        return [f"mention <{token}>"]
    target, bar, label = token.partition("|")
    target = _unescape(target)          # where Slack goes: it decodes entities in links too
    if target not in links or (bar and names_other_address(label, target)):
        return [f"link <{token}>"]
    return []


# Addresses ---------------------------------------------------------------------------
# A top-level domain has 2 to 24 letters (the longest, in punycode, 24). A name starts
# after no letter, digit or "@" (mail), and after no dot or hyphen that follows one
# (part of a longer name); "Urgent...paypal.com" and "Notice -paypal.com" name it. An IP
# reads as one after "//", before a path or port, or with a three-digit part (not a
# version: "Python 3.12.1.2").
_BYTE = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_QUAD = rf"{_BYTE}\.{_BYTE}\.{_BYTE}\.{_BYTE}"
_HOST = re.compile(r"(?<![^\W_]|@)(?<![^\W_][.-])"
                   rf"((?:[^\W_][\w-]*\.)+[^\W\d_]{{2,24}}|(?<=//){_QUAD}|{_QUAD}(?=/|:[0-9])"
                   rf"|(?=(?:[0-9]+\.){{0,3}}[0-9]{{3}}(?![0-9])){_QUAD})(?![^\W_]|-)")
_SHOWN = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
# What UTS #39's confusables.txt reads as FULL STOP ("ꓸ", "܂", "꘎", ...); its Arabic-Indic
# zeros are digits in Arabic text, dots only between Latin letters.
_DOTLIKE = re.compile("[\u2024\ufe52\uff0e\uff61\ua4f8\u0701\u0702\ua60e\U00010a50\U0001d16d]")


def names_other_address(label: str, url: str) -> bool:
    """Does `label` read as a web address other than `url`'s host? Read as a person does:
    full-width and other lookalike dots and letters as their ASCII selves, invisible
    joiners and combining marks unseen."""
    # The ideographic full stop ends Chinese sentences; before a Latin letter it is a dot.
    seen = _D_ESCAPED.sub(lambda m: m.group()[1], label)          # as Discord shows it
    seen = _unescape(seen)                                        # as Slack does
    seen = unicodedata.normalize("NFKC", _DOTLIKE.sub(".", seen))
    seen = re.sub("\u3002(?=[A-Za-z])|(?<=[A-Za-z])[\u0660\u06f0](?=[A-Za-z])", ".", seen)
    seen = "".join(ch for ch in seen if unicodedata.category(ch) not in ("Cf", "Mn"))
    host = _ascii(urlsplit(url).hostname or "")
    for m in _HOST.finditer(seen):
        named = _ascii(m.group(1))
        if not (named == host or host.endswith("." + named) or named.endswith("." + host)):
            return True
    return False


def _unescape(text: str) -> str:
    """Slack's three entities as it shows them (text) or follows them (a link's address)."""
    return re.sub("&(lt|gt|amp);", lambda m: _SHOWN[m.group()], text)


def _ascii(host: str) -> str:
    host = host.lower().removeprefix("www.")
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return host
