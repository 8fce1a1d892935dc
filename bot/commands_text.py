"""One text command line -> a command call (a Commands mixin).

Used by the console and by Slack's `/ainews ...`: "company alibaba 3",
"latest 5 pricing", "subscribe open-source", "digest daily 08:30 Europe/Berlin"."""
from __future__ import annotations

import re
import shlex
import unicodedata

from bot import examples as ex
from bot.examples import say
from bot.replies import Caller, Reply
from feeds.invisible import visible

# A word that reads as a number is a limit, a bad one too ("-1", "1.5": "not a whole
# number" beats "no topic '1.5'"); "²" is a digit to isdigit() but not to \d: a word.
NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
# Invisible format characters that come along when a name is pasted (zero-width space
# and joiners, BOM, soft hyphen, bidi marks): never part of what was meant.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                        "\u2066-\u2069\ufeff]")


def user_text(text) -> str:
    """What a user typed or pasted, as meant: full-width forms folded (NFKC: a Chinese
    IME in full-width mode types ｑｗｅｎ ５ and ０８：３０), invisible characters dropped,
    whitespace collapsed."""
    text = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return " ".join(_INVISIBLE.sub("", text).split())


# Quotes around a name ("Alibaba Group", as one quotes a name with a space in it; a
# phone's smart quotes make “Alibaba Group”; a Chinese IME 「阿里巴巴」): not part of it.
_QUOTES = {'"': '"', "'": "'", "“": "”", "”": "”", "„": "“", "‘": "’", "«": "»",
           "「": "」", "『": "』"}


# A closing quote -> the quotes that open it.
_OPENERS: dict[str, set[str]] = {}
for _open, _close in _QUOTES.items():
    _OPENERS.setdefault(_close, set()).add(_open)


def unquoted(text) -> str:
    """A name as the user meant it (user_text), without quotes around it, nor one left
    open or never opened ('alibaba, “Alibaba Group, open source"): a slip of the keys,
    never part of a name ("no company ''alibaba'" refused the company it named)."""
    text = user_text(text)
    while len(text) > 1 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    if text[:1] in _QUOTES and _QUOTES[text[0]] not in text[1:]:
        text = text[1:].lstrip()
    if text[-1:] in _OPENERS and not _OPENERS[text[-1]] & set(text[:-1]):
        text = text[:-1].rstrip()
    return text


def typed_name(text) -> str:
    """What is typed so far into a picker (Discord's autocomplete), as the command will
    read it: unquoted, and without an opening quote whose closing one is not typed yet
    ("chi, “Ali): the topic picker offered nothing for "chips" or 「芯片」, which
    /topic itself accepts."""
    text = unquoted(text)
    return text[1:].lstrip() if text[:1] in _QUOTES else text


def link_text(text) -> str:
    """A link as the user meant it: unquoted, and without the <> that Discord users put
    around a link to keep it from unfurling (Slack's own <url|label> is undone first)."""
    text = unquoted(text)
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    return text


def digest_words(words: list[str]) -> tuple[str, str | None, str | None]:
    """`daily 08:30 America/New York` -> mode, time, zone: the zone is the rest, spaces
    and all (a zone with a space was "use /digest daily HH:MM [TIMEZONE]", though the
    zone is known with an underscore)."""
    return (words[0] if words else "", words[1] if len(words) > 1 else None,
            " ".join(words[2:]) or None)


def split_line(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:               # an unbalanced quote: read it as plain words
        return line.split()


def search_words(words: list[str]) -> str:
    """A search as typed before the line was split into words (the console's shlex, the
    shell's): a word holding a space was quoted, so it is a phrase again, as Slack and
    Discord, which keep the line whole, read `"export controls" nvidia`; a `-` before
    the quotes still leaves the phrase out."""
    return " ".join(_phrase(w) if len(w.split()) > 1 and '"' not in w else w for w in words)


def _phrase(word: str) -> str:
    sign = "-" if word.startswith("-") else ""
    return f'{sign}"{word[len(sign):].strip()}"'


def quote(user_text: str, width: int = 60) -> str:
    """User input echoed in a reply: one line, bounded, and without the characters that
    draw nothing yet act on the text (a U+202E pasted in reversed the rest of the reply)."""
    text = " ".join(visible(str(user_text)).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def command_words(line: str) -> list[str]:
    """A text command's words, its name first, without the "ainews" a Slack user types
    first ("/ainews company qwen 3": company, qwen, 3)."""
    words = split_line(unicodedata.normalize("NFKC", line or ""))
    return words[1:] if words and words[0].lstrip("/").lower() == "ainews" else words


def command_name(line: str) -> str:
    """The command a line names, as run_text dispatches it ("" for none)."""
    words = command_words(line)
    return _name(words[0]) if words else ""


def _name(word: str) -> str:
    return user_text(word).lstrip("/").lower()


class TextCommands:
    async def run_text(self, caller: Caller, line: str) -> Reply:
        words = command_words(line)
        if not words:
            return self.help(caller)
        name, args = _name(words[0]), words[1:]
        handler = getattr(self, f"_text_{name.replace('-', '_')}", None)
        if handler is None:
            return Reply.error(say("unknown command '{}'; {} lists the commands",
                                   quote(words[0]), ex.HELP))
        return await handler(caller, args)

    async def _text_company(self, caller: Caller, args: list[str]) -> Reply:
        limit = args.pop() if len(args) > 1 and NUMBER.match(args[-1]) else None
        return self.company(caller, " ".join(args), limit or "")

    async def _text_latest(self, caller: Caller, args: list[str]) -> Reply:
        limits = [a for a in args if NUMBER.match(a)]
        topic = " ".join(a for a in args if not NUMBER.match(a))   # "open source"
        # Several limits go on as one string: the core says it takes one.
        return self.latest(caller, " ".join(limits) or None, topic or None)

    async def _text_topic(self, caller: Caller, args: list[str]) -> Reply:
        limit = args.pop() if len(args) > 1 and NUMBER.match(args[-1]) else None
        return self.topic(caller, " ".join(args), limit or "")

    async def _text_search(self, caller: Caller, args: list[str]) -> Reply:
        return self.search(caller, search_words(args))

    async def _text_why(self, caller: Caller, args: list[str]) -> Reply:
        return self.why(caller, " ".join(args))

    async def _text_topics(self, caller: Caller, args: list[str]) -> Reply:
        return self.topics(caller)

    async def _text_help(self, caller: Caller, args: list[str]) -> Reply:
        return self.help(caller)

    async def _text_subscribe(self, caller: Caller, args: list[str]) -> Reply:
        return self.subscribe(caller, " ".join(args))

    async def _text_unsubscribe(self, caller: Caller, args: list[str]) -> Reply:
        return self.unsubscribe(caller, " ".join(args))

    async def _text_subscriptions(self, caller: Caller, args: list[str]) -> Reply:
        return self.subscriptions(caller)

    async def _text_digest(self, caller: Caller, args: list[str]) -> Reply:
        mode, at, tz = digest_words(args)
        return self.digest(caller, mode, at or "", tz)

    async def _text_feeds(self, caller: Caller, args: list[str]) -> Reply:
        action = args[0] if args else ""
        url = args[1] if len(args) > 1 else ""
        return await self.feeds(caller, action, url, " ".join(args[2:]) or None)
