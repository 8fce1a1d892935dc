"""The LIMIT argument of the lookups: how many briefs a caller may ask for and see, a
limit read from what was typed (`3`, `"alibaba 3"` as one string), and the errors that
say what to do instead."""
from __future__ import annotations

from bot import examples as ex
from bot.commands_text import NUMBER, unquoted, user_text
from bot.examples import Text, say
from bot.platforms import platform_of
from bot.replies import Caller, Reply

DEFAULT_LIMIT = 5
MAX_LIMIT = 25            # a chat answer: one message's worth


def limit_cap(caller: Caller) -> int:
    """The most a LIMIT may ask where `caller` asks (the command line: 500)."""
    return platform_of(caller.platform).limit_cap or MAX_LIMIT


def most_shown(caller: Caller) -> int:
    """The largest LIMIT that shows in full where `caller` asks (help says it): Discord's
    options stop at 10; a larger one typed into a name (`/topic slug:pricing 12`) shows
    10 and says how many it left out."""
    shown, cap = platform_of(caller.platform).most_shown, limit_cap(caller)
    return cap if shown is None else min(shown, cap)


def caller_limit(caller: Caller, limit, example: ex.Example | None = None) -> int | Reply:
    """parse_limit with the caller's cap. A refusal on Discord names 1 to 10, as /help
    and the LIMIT options do ("from 1 to 25" contradicted them), though 11 to 25 typed
    into a name are still taken: 10 shown, the rest counted."""
    shown, platform = most_shown(caller), platform_of(caller.platform)
    said = (f"1 to {shown} ({platform.shown_name} shows {shown} at a time)"
            if shown < limit_cap(caller) else None)
    return parse_limit(limit, example, limit_cap(caller), said=said)


def parse_limit(limit, example: ex.Example | None = None, most: int = MAX_LIMIT, *,
                said: str | None = None) -> int | Reply:
    """None -> the default; "3" or 3 -> 3 (at most `most`); anything else -> a
    Reply.error saying what to do, with `example`: the command the user typed, with a
    good limit. `said`: the range the error names, if not "1 to `most`"."""
    said = said or f"1 to {most}"
    if limit is None or limit == "":
        return DEFAULT_LIMIT
    if isinstance(limit, bool):
        limit = str(limit)
    eg = say(", e.g. {}", example) if example else ()
    try:
        value = int(user_text(limit))
    except ValueError:
        # "1.5 is not a number" was not so: it is no whole number (nor is "lots").
        return Reply.error(say("limit {} is not a whole number: give one from {}",
                               repr(str(limit)), said) + eg)
    if not 1 <= value <= most:
        return Reply.error(say("limit {} is out of range: give a whole number from {}",
                               str(value), said) + eg)
    return value


def split_limit(arg: str | None, limit) -> tuple[str, object]:
    """"alibaba 3" passed as one string (Slack's /company text) -> ("alibaba", "3").
    A last word that reads as a number is the limit, a bad one too ("-1", "1.5"), as
    the text command (`/ainews company alibaba -1`) reads it: a limit error, not "no
    company 'alibaba -1'"."""
    words = user_text(arg).split()
    if limit is None and len(words) > 1 and NUMBER.match(words[-1]):
        return " ".join(words[:-1]), words[-1]
    return " ".join(words), limit


def ends_in_count(name: str) -> bool:
    """`company alibaba 3 4`: the limit was split off and a count is still left. Checked
    only for a name nothing resolves ("Llama 3" is Meta): 'no company "alibaba 3" — did
    you mean Alibaba or Meta?' hid that the command takes one limit."""
    words = name.split()
    return len(words) > 1 and bool(NUMBER.match(words[-1]))


def several_counts(limit) -> bool:
    """"3 4": more than one count where one LIMIT goes ('limit "3 4" is not a number'
    read as if 3 alone had been wrong)."""
    words = user_text(limit).split() if isinstance(limit, str) else []
    return len(words) > 1 and all(NUMBER.match(w) for w in words)


def named_lookup(text: str, limit, usage: Text, example: ex.Example,
                  caller: Caller) -> tuple[str, int] | Reply:
    """`company NAME [N]` / `topic SLUG [N]`: the name and a checked limit, or the error."""
    text, limit = split_limit(text, limit)
    text = unquoted(text)
    if not text:
        return Reply.error(usage)
    lim = caller_limit(caller, limit, example)
    return lim if isinstance(lim, Reply) else (text, lim)
