"""Flags for feed text that a chat platform would act on: mentions that ping people
(@everyone, <!channel>, <@U1>) and links whose text can differ from their target
([text](url), <url|text>). Stories keep such text verbatim with these flags; the
renderers escape all feed text whatever the flags say."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from feeds.invisible import IGNORABLE
from feeds.urls import dns_host

# Mentions that ping many people or a specific user/role on Slack or Discord.
_MENTION = re.compile(
    r"@(?:everyone|here|channel)\b|<!(?:channel|here|everyone|subteam\^[^>]*)(?:\|[^>]*)?>"
    r"|<@[!&]?[A-Za-z0-9]+>|<#[A-Za-z0-9]+(?:\|[^>]*)?>",
    re.IGNORECASE,
)
# Links whose visible text can differ from the target: [text](url) and <url|text>.
_LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?[a-z][a-z0-9+.-]*:[^)\s]*"   # [text](scheme:...)
                   r"|<[a-z][a-z0-9+.-]*:[^>|\s]*\|[^>]*>",             # <scheme:...|text>
                   re.IGNORECASE)


def hostile_flags(s: str) -> tuple[str, ...]:
    """("mention",) / ("link",) / both, for text a chat platform would act on."""
    if not s:
        return ()
    flags = []
    # Each regex only where its literal characters occur (a story's HTML often has an
    # "@" but no "|", or the reverse): those tests run at memchr speed, the regexes not.
    if _has_mention(s):
        flags.append("mention")
    if _has_link(s):
        flags.append("link")
    return tuple(flags)


def _has_mention(s: str) -> bool:
    """_MENTION.search(s) is not None, tried only where a mention can start: every one
    begins with "@", "<!", "<@" or "<#", i.e. at an "@", "!" or "#" or the "<" just
    before one. Single characters are found at memchr speed; the regex's own search
    steps through a story's ~5 KB of text and HTML character by character."""
    for mark in "@!#":
        i = s.find(mark)
        while i >= 0:
            if (mark == "@" and _MENTION.match(s, i)) or (
                    i and s[i - 1] == "<" and _MENTION.match(s, i - 1)):
                return True
            i = s.find(mark, i + 1)
    return False


def _has_link(s: str) -> bool:
    """_LINK.search(s) is not None, tried only where a link can start. "[text](" starts
    at a "["; "<scheme:...|text>" at a "<" from which its first "|" follows with no ">",
    "|" or whitespace between: for each "|", the "<"s back to the nearest of those."""
    if "](" in s:
        i = s.find("[")
        while i >= 0:
            if _LINK.match(s, i):
                return True
            i = s.find("[", i + 1)
    after, bar = 0, s.find("|")  # after: just past the previous "|", where runs stop
    while bar >= 0:
        end = bar
        start = s.rfind("<", after, end)
        while start >= 0 and _LINK_STOP.search(s, start + 1, end) is None:
            if _LINK.match(s, start):
                return True
            end, start = start, s.rfind("<", after, start)
        after, bar = bar + 1, s.find("|", bar + 1)
    return False


_LINK_STOP = re.compile(r"[>|\s]")  # what the scheme and target of <scheme:...|...> exclude


def may_be_hostile(s: str) -> bool:
    """False guarantees hostile_flags(s) == (): a cheap test that spares its regexes the
    usual text, which has none of the characters a mention or link needs. One-character
    tests go first: they run at memchr speed, the two-character ones far slower."""
    return ("@" in s or "|" in s or ("!" in s and "<!" in s) or ("#" in s and "<#" in s)
            or ("]" in s and "](" in s))


# A web address in text: "paypal.com", "https://bank.example/login", "www.x.co.uk", and
# the lookalikes a reader takes for one: labels in any script ("pаypal.com" with a
# Cyrillic "а", "münchen.de"), the full-width dots browsers read as "." and an IP.
# UTS #39 lists as confusable with "." also U+A4F8, U+0701, U+0702, U+A60E, U+10A50 and
# U+1D16D, which NFKC leaves alone (U+A4F8 is even a letter to \w): "paypalꓸcom".
_DOTS = ".\uff0e\uff61\u2024\ufe52\u3002\ua4f8\u0701\u0702\ua60e\U00010a50\U0001d16d\u0660\u06f0"
# Swapped for "." before NFKC, which makes the half-width "｡" an ideographic one.
_LOOKALIKE_DOT = re.compile("[\uff61\ua4f8\u0701\u0702\ua60e\U00010a50\U0001d16d]")
# The ideographic full stop reads as "." before a Latin letter ("paypal。com"); Chinese
# text ends its sentences with it ("发布。阿里"). The Arabic-Indic zeros (UTS #39 too) are
# digits in Arabic text: a dot only between Latin letters ("paypal٠com").
_LATIN_DOT = re.compile("\u3002(?=[A-Za-z])|(?<=[A-Za-z])[\u0660\u06f0](?=[A-Za-z])")
# "_" is no part of a host name: "_paypal.com_" names paypal.com. An address starts
# after no letter or digit, no "@" (bob@paypal.com is mail) and no dot or hyphen right
# after one (in "mail.paypal.com" that's one address), but after "...", " -" or "_."
# it does: "Urgent...paypal.com" names paypal.com.
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IP = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_ADDRESS = re.compile(r"(?<![^\W_]|@)(?<![^\W_][.\uff0e\uff61-])(?:https?://)?"
                      r"((?:[^\W_](?:[\w-]*[^\W_])?[.\uff0e\uff61])+(?:[^\W\d_]{2,24}|xn--[a-z0-9-]+)"
                      r"|(?<=//)\d{1,3}(?:\.\d{1,3}){3}"
                      # An IP without a scheme ("at 203.0.113.9/paypal"), told from a
                      # version ("Python 3.12.1.2") by a path or port after it or a
                      # three-digit part.
                      rf"|(?=(?:\d{{1,3}}\.){{0,3}}\d{{3}}(?!\d)){_IP}|{_IP}(?=/|:\d))"
                      r"(?![^\W_]|-)", re.IGNORECASE)


def misleading_link_text(text: str, url: str) -> bool:
    """True when `text`, shown as the text of a link to `url`, names a web address other
    than `url`'s host: a headline "paypal.com/security" over a link elsewhere would be a
    spoofed link. Renderers then show the text plain and the address beside it."""
    host = _ascii_host(urlsplit(url).hostname or "")
    return any(not (host == named or host.endswith("." + named) or named.endswith("." + host))
               for named in named_hosts(text))


def named_hosts(text: str) -> list[str]:
    """The web addresses `text` names as a reader takes them ("pаypal.com", "paypal。com",
    "203.0.113.9/x"), each host as DNS spells it (_ascii_host)."""
    if not any(dot in text for dot in _DOTS):
        return []
    if not text.isascii():
        # Unseen: format characters and default-ignorable ones ("paypal\u200d.com" and
        # "paypal.c\u034fom" read as paypal.com), dropped before NFKC, so "c\u034f\u0301"
        # is "ć" as read, and after it, which makes U+3164 and U+FFA0 the filler U+1160.
        text = IGNORABLE.sub("", _LOOKALIKE_DOT.sub(".", text))
        if not all(map(str.isprintable, text.split("\n"))):   # no Cf in it: spare the scan
            text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
        # As read: "c\u0301" is one letter "ć" ("paypal.ćom"), "ｃｏｍ" is "com".
        text = _LATIN_DOT.sub(".", IGNORABLE.sub("", unicodedata.normalize("NFKC", text)))
    return [_ascii_host(m.group(1)) for m in _ADDRESS.finditer(text)]


def spoofed_link(text: str, shown: str, url: str) -> bool:
    """misleading_link_text for `text` as written or as `shown` cut to fit a platform's
    limit, which can end an address early: "paypal.com.evil.example" over a link to
    evil.example names its own host, "paypal.com…" does not."""
    return misleading_link_text(text, url) or misleading_link_text(shown, url)


def _ascii_host(host: str) -> str:
    """A host as DNS spells it (punycode, "." for full-width dots, no "www."), so
    "münchen.de" in a headline is the story's own https://xn--mnchen-3ya.de."""
    host = re.sub("[\uff0e\uff61]", ".", host.lower()).removeprefix("www.")
    if host.isascii():
        return host
    try:
        return dns_host(host).removeprefix("www.")   # "ｗｗｗ." too
    except UnicodeError:       # a label too long for DNS: compared as written
        return host
