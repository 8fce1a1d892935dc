"""Command examples spelled for the `ainews` command line: `ainews company Alibaba`,
`ainews latest [--limit LIMIT] [--topic TOPIC]`, `ainews feeds add URL [NAME]`.

The CLI prints the chat core's replies to its lookups and to `feeds add`; ARGS says how
its parser (bot/cli_parser.py) takes each of those commands' options: positionally (None) or
by a flag. Channel commands (subscribe, digest, ...) exist only in chat: they keep the
console's text-command spelling."""
from __future__ import annotations

import shlex
from functools import lru_cache

from bot.examples import Arg, Example, console
from storage.query import tokens

ARGS: dict[str, dict[str, str | None]] = {
    "company": {"name": None, "limit": "--limit"},
    "latest": {"limit": "--limit", "topic": "--topic"},
    "topic": {"slug": None, "limit": "--limit"},
    "search": {"query": None, "limit": "--limit"},
    "topics": {},
    "why": {"link": None},
    "subscriptions": {},      # on the command line: every channel's, this one's among them
    "feeds list": {},
    "feeds add": {"url": None, "name": None},
    "feeds remove": {"url": None},
    "feeds resume": {"url": None},
}


@lru_cache(maxsize=512)
def spell(example: Example) -> str:
    how = ARGS.get(example.command)
    if how is None:
        return console(example)
    words = ["ainews", example.command] + [_arg(a, how[a.name]) for a in example.args]
    return f"`{' '.join(words)}`"


def _arg(arg: Arg, flag: str | None) -> str:
    # A placeholder (NAME) is shown as is; a value is quoted as a shell needs it.
    value = (arg.value if arg.sample is not None else
             _query(arg.value) if arg.name == "query" else shlex.quote(arg.value))
    word = f"{flag} {value}" if flag else value
    return f"[{word}]" if arg.bracketed else word


def _query(query: str) -> str:
    """A search as shell words: `ainews search openai -microsoft`, a phrase quoted,
    `ainews search 'export controls' nvidia`. Quoted whole it is one argument, which
    `ainews search` reads as one phrase (commands_text.search_words). Split as the
    search splits it, not as a shell would: `nvidia's` is one word, no open quote."""
    return " ".join(_shell_token(t) for t in tokens(query))


def _shell_token(token: str) -> str:
    sign, rest = ("-", token[1:]) if token.startswith('-"') else ("", token)
    phrase = rest[1:].removesuffix('"') if rest.startswith('"') else ""
    if len(phrase.split()) > 1:   # a word holding a space is a phrase to `ainews search`
        return sign + _shell_word(" ".join(phrase.split()))
    return _shell_word(token)


def _shell_word(word: str) -> str:
    """`word` as one shell word, an apostrophe in double quotes ("nvidia's") rather
    than shlex's 'nvidia'"'"'s'."""
    quoted = shlex.quote(word)
    if quoted != word and "'" in word and not any(c in word for c in '"$`\\!'):
        return f'"{word}"'
    return quoted
