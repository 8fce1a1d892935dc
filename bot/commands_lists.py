"""How a lookup's list of briefs is answered (Commands' latest, company, topic and
search, bot/commands.py): the reply, the note of more stories than it shows, and the
next step an empty one names."""
from __future__ import annotations

from dataclasses import replace

from bot import examples as ex
from bot.commands_limit import most_shown
from bot.examples import Text, say
from bot.replies import Caller, Reply


def next_step(follow: Text = ()) -> Text:
    """What to do after an empty lookup, in the same words for each: the newest stories,
    then `follow`, how to be told of the next one. "No stories yet" read as a dead end;
    suggesting /subscribe to a channel that already follows it read as a broken one."""
    return say(" {} shows the newest stories", ex.LATEST) + tuple(follow) + (".",)


def with_more(reply: Reply, found: int, lim: int, caller: Caller, command: str,
          **args: str) -> Reply:
    """`reply`, saying how to see more when `found` (of lim + 1 asked) is more than it
    shows: the most a message shows, where the limit asked was less."""
    most = most_shown(caller)
    if found <= lim or lim >= most:
        return reply
    return replace(reply, parts=say(f"More stories than {these_many(lim)}: {{}} shows up to "
                                    f"{most}.", ex.more_of(command, most, **args)), text="")


def these_many(n: int) -> str:
    """"than these 5", "than this one" (a limit of 1 read "than these 1")."""
    return "this one" if n == 1 else f"these {n}"


def briefs_reply(title: str, briefs, empty: str | Text) -> Reply:
    briefs = tuple(briefs)
    if briefs:
        return Reply(kind="briefs", title=title, briefs=briefs, shareable=True)
    said = {"text": empty} if isinstance(empty, str) else {"parts": tuple(empty)}
    return Reply(kind="briefs", title=title, **said)
