"""Command examples in replies: written once in the chat core, spelled by each surface.

The core never writes a command as text. It writes an Example ("company" with
name=Alibaba) into a reply with `say()`, and each surface's render layer spells it as
its users type it: the console `company Alibaba`, Slack `/company Alibaba` (or
`/ainews feeds list` for commands without their own slash command), Discord
`/company name:Alibaba`, the CLI `ainews company Alibaba`.

    Reply.error(say("no company '{}' — {} lists them", quote(name), TOPICS))

Only the template is read for `{}` fields; the values filled in (user or feed text)
are kept verbatim, so outside text can never become an example, only ours can.
Every example the core uses is in REGISTRY (or made by the functions at the end), which
the tests walk on every surface with that surface's own parser."""
from __future__ import annotations

import string
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Union


@dataclass(frozen=True, slots=True)
class Arg:
    """One option of an example. `name` is the option's name (Discord shows it, text
    syntax is positional); `sample` makes a placeholder (HH:MM) a value for tests.
    An optional placeholder is shown in [brackets]; an optional value is shown bare,
    and a surface whose command lacks that option may leave it out."""
    name: str
    value: str
    optional: bool = False
    sample: str | None = None     # None: `value` is what to type

    @property
    def bracketed(self) -> bool:
        return self.optional and self.sample is not None

    @property
    def shown(self) -> str:
        return f"[{self.value}]" if self.bracketed else self.value


@dataclass(frozen=True, slots=True)
class Example:
    command: str                  # the words before the options: "company", "feeds add"
    args: tuple[Arg, ...] = ()

    @property
    def text(self) -> str:
        """The text-command syntax (console, Slack's /ainews): positional, in order."""
        return " ".join([self.command, *(a.shown for a in self.args)])

    @property
    def verb(self) -> str:
        return self.command.split()[0]

    def concrete(self, *, optional: bool = True) -> "Example":
        """Placeholders filled with their samples; optional ones kept or dropped."""
        args = tuple(Arg(a.name, a.sample if a.sample is not None else a.value, a.optional)
                     for a in self.args if optional or not a.optional)
        return replace(self, args=args)


Part = Union[str, Example]
Text = tuple[Part, ...]


def meta(shown: str, sample: str, *, optional: bool = False) -> Arg:
    """A placeholder such as HH:MM, with the value tests type for it; `example` names it."""
    return Arg("", shown, optional, sample)


def example(command: str, /, **args: "str | Arg") -> Example:
    """example("digest", mode="daily", at=meta("HH:MM", "08:30")): options in typing order."""
    return Example(command, tuple(replace(v, name=k) if isinstance(v, Arg) else Arg(k, v)
                                  for k, v in args.items()))


def say(template: str, *values: Part) -> Text:
    """A reply text: `template` (ours) with each `{}` replaced by the next value, an
    Example or any text (kept as is: braces or backticks in it mean nothing)."""
    parts: list[Part] = []
    fields = 0
    for literal, field, _, _ in string.Formatter().parse(template):
        parts += [literal] if literal else []
        if field is not None:
            if field or fields >= len(values):
                raise ValueError(f"examples: {template!r} needs one value per {{}} field")
            parts.append(values[fields])
            fields += 1
    if fields != len(values):
        raise ValueError(f"examples: {template!r} has {fields} fields, not {len(values)}")
    return tuple(parts)


def sentence_case(parts: Text) -> Text:
    """A capital first letter; one that opens an example or a quote stays as typed."""
    first = parts[0] if parts else None
    if not (isinstance(first, str) and first[:1].islower()):
        return parts
    return (first[0].upper() + first[1:],) + tuple(parts[1:])


def did_you_mean(names: str, then: Text) -> Text:
    """"did you mean NAMES? " and `then` as the new sentence it is, with a capital ("did
    you mean Europe/London? use ..." read as a typo); no names: `then` alone. `then`
    opens with our words (an example opening it stays as typed)."""
    if not names:
        return tuple(then)
    return say("did you mean {}? ", names) + sentence_case(tuple(then))


def spell(parts: Text, example: Callable[[Example], str],
          text: Callable[[str], str] = str) -> str:
    """The whole text on one surface: examples by `example`, everything else by `text`
    (its escaping of outside text)."""
    return "".join(example(p) if isinstance(p, Example) else text(p) for p in parts)


@lru_cache(maxsize=512)     # examples are few and fixed; every reply spells them again
def console(ex: Example) -> str:
    """What the console (and any plain text) shows: the text command, quoted."""
    return f"`{ex.text}`"


def examples_in(parts: Text) -> list[Example]:
    return [p for p in parts if isinstance(p, Example)]


# ---- every example the core uses ---------------------------------------------------
LIMIT = meta("LIMIT", "3", optional=True)
COMPANY_USAGE = example("company", name=meta("NAME", "OpenAI"), limit=LIMIT)
COMPANY_EG = example("company", name="Alibaba")
LATEST_USAGE = example("latest", limit=LIMIT, topic=meta("TOPIC", "chips", optional=True))
LATEST_LIMIT_EG = example("latest", limit="5")
LATEST = example("latest")
# A limit example for each command that takes one (optional: Discord's /topic has none).
COMPANY_LIMIT_EG = example("company", name="Alibaba", limit=Arg("", "3", optional=True))
TOPIC_LIMIT_EG = example("topic", slug="pricing", limit=Arg("", "3", optional=True))
LATEST_EG = example("latest", limit="5", topic="pricing")
TOPIC_USAGE = example("topic", slug=meta("SLUG", "chips"), limit=LIMIT)
TOPIC_EG = example("topic", slug="pricing")
SEARCH_USAGE = example("search", query=meta("QUERY", "export controls"))
SEARCH_EG = example("search", query="qwen pricing")
SEARCH_CHINESE_EG = example("search", query="通义千问 价格")
SEARCH_EXCLUDE_EG = example("search", query="openai -microsoft")
SEARCH_PREFIX_EG = example("search", query="regulat*")
SEARCH_VERSION_EG = example("search", query="GPT-5")
SEARCH_PHRASE_EG = example("search", query='"export controls" nvidia')
TOPICS = example("topics")
WHY_USAGE = example("why", link=meta("LINK", "https://news.example/2026/ai-deal"))
HELP = example("help")
SUBSCRIPTIONS = example("subscriptions")
SUBSCRIBE_USAGE = example("subscribe", target=meta("TARGET", "OpenAI"))
UNSUBSCRIBE_USAGE = example("unsubscribe", target=meta("TARGET", "chips"))
UNSUBSCRIBE_ALL = example("unsubscribe", target="all")
SUBSCRIBE_ALL = example("subscribe", target="all")
SUBSCRIBE_TOPIC = example("subscribe", target="pricing")
SUBSCRIBE_COMPANY = example("subscribe", target="Alibaba")
DIGEST_USAGE = example("digest", mode="daily", at=meta("HH:MM", "07:45"),
                       timezone=meta("TIMEZONE", "Asia/Shanghai", optional=True))
DIGEST_EG = example("digest", mode="daily", at="08:30", timezone="Europe/Berlin")
DIGEST_OFF = example("digest", mode="off")
FEEDS_LIST = example("feeds list")
FEEDS_ADD_USAGE = example("feeds add", url=meta("URL", "https://news.example/ai.xml"),
                          name=meta("NAME", "Example News", optional=True))
# Remove and resume find a feed by its URL or by the name `feeds list` shows.
FEED_KEY = meta("URL|NAME", "https://news.example/ai.xml")
FEEDS_REMOVE_USAGE = example("feeds remove", url=FEED_KEY)
FEEDS_RESUME_USAGE = example("feeds resume", url=FEED_KEY)
FEEDS_RESUME_ALL = example("feeds resume", url="all")

REGISTRY: tuple[Example, ...] = tuple(
    v for k, v in sorted(globals().items()) if isinstance(v, Example) and k.isupper())


def feed_resume(url: str) -> Example:
    """`feeds resume URL` for a paused feed: its URL as stored."""
    return example("feeds resume", url=url)


def subscribe_named(target: str) -> Example:
    """`subscribe TARGET`: a paused subscription's target as stored (subscribing again
    resumes it), or a company or topic a lookup found no stories about."""
    return example("subscribe", target=target)


def unsubscribe_named(target: str) -> Example:
    """`unsubscribe TARGET` for one of the channel's subscriptions, as stored."""
    return example("unsubscribe", target=target)


def topic_named(slug: str) -> Example:
    """`topic SLUG` for a topic typed where a company goes (`company pricing`)."""
    return example("topic", slug=slug)


def why_named(link: str) -> Example:
    """`why LINK` for a story's link pasted where a search goes."""
    return example("why", link=link)


def company_named(name: str) -> Example:
    """`company NAME` for a company typed where a topic goes (`topic alibaba`)."""
    return example("company", name=name)


def search_named(query: str) -> Example:
    """`search NAME` for a company's name a search typed a typo away, or `search WORDS`
    for a phrase that found nothing, its words found apart."""
    return example("search", query=query)


def more_of(command: str, most: int, **args: str) -> Example:
    """`company Baidu 25`: a lookup that found more stories than it showed, asked for
    as many as show at once (`latest 25 pricing`: the limit before a topic)."""
    return example(command, **args, limit=str(most)) if command != "latest" else \
        example(command, limit=str(most), **args)
