"""Console adapter: briefs printed to a stream as they would appear in a channel.

Used when no chat platform is configured (or AINEWS_CONSOLE=1), and by the `ainews`
lookups through run_console_command. Its only channel is "console" in workspace
"console"; posting never fails and needs no pacing."""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import sys
from datetime import datetime
from typing import Callable, Sequence, TextIO

from bot.console_writer import StreamWriter
from bot.logs import CONTROL
from bot.replies import Caller, Reply
from feeds.models import Brief, Subscription, utcnow
from feeds.render import render_text

log = logging.getLogger("ainews.console")

CONSOLE_CALLER = Caller(platform="console", workspace="console", channel="console",
                        user="console", is_admin=True)
RULE = "-" * 72
SET_UP = "console_set_up"   # meta key: the console channel got its default subscription
# A reply quotes feed text (feed names default to the feed's own title, last errors,
# headlines): the same characters as in log lines are dropped.
_CONTROL = CONTROL


def terminal_text(text: str) -> str:
    """Text for a terminal: lines kept, control characters dropped."""
    return _CONTROL.sub("", str(text))


def json_line(value, **kwargs) -> str:
    """One JSON line for --json output: feed text as written (CJK unescaped), but the
    characters that drive or reorder a terminal escaped (JSON escapes only C0 itself)."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return _CONTROL.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def render_brief(brief: Brief) -> str:
    return render_text(brief)


def format_reply(reply: Reply) -> str:
    """A command's reply as console text (errors start with "error:")."""
    if reply.kind == "error":
        return f"error: {terminal_text(reply.text)}"
    parts = [terminal_text(reply.title)] if reply.title else []
    if reply.briefs:
        parts += [terminal_text(reply.text)] if reply.text else []   # how to read them
        parts.append(f"\n{RULE}\n".join(render_brief(b) for b in reply.briefs))
    elif reply.text:
        parts.append(terminal_text(reply.text))
    return "\n\n".join(parts)


class ConsoleAdapter:
    """The Adapter protocol over a text stream (stdout unless told otherwise)."""
    platform = "console"
    min_interval = 0.0

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], datetime] = utcnow):
        self.stream = stream
        self.clock = clock
        self._ids = itertools.count(1)
        self._writer = StreamWriter()

    async def _print(self, text: str) -> str:
        out = self.stream or sys.stdout
        try:
            # Recorded as sent only once written: a post still waiting on a stdout
            # nobody reads when the run stops is printed at the next start.
            await self._writer.write(out, text.rstrip("\n") + "\n\n")
        except asyncio.CancelledError:
            log.warning("console: stdout is not being read (a paused terminal or pipe); "
                        "the post being printed is left for the next start")
            raise
        # The id outlives the process (the outbox keeps it for edits): a bare counter
        # restarted at 1, so after a restart "(update to console-1)" named another post.
        return f"console-{self.clock():%Y%m%dT%H%M%SZ}-{next(self._ids)}"

    async def send(self, channel: str, brief: Brief, *, nonce: str) -> str:
        return await self._print(f"{RULE}\n{render_brief(brief)}")

    async def edit(self, channel: str, message_id: str, brief: Brief) -> None:
        await self._print(f"{RULE}\n({edited_post(message_id)})\n{render_brief(brief)}")

    async def send_digest(self, channel: str, title: str, briefs: Sequence[Brief],
                          *, nonce: str) -> str:
        body = f"\n{RULE}\n".join(render_brief(b) for b in briefs)
        return await self._print(f"{'=' * 72}\n{title}\n{'=' * 72}\n{body}")


_PRINTED = re.compile(r"console-(\d{8}T\d{6}Z)-\d+")


def edited_post(message_id: str) -> str:
    """Which earlier post an update replaces, as a terminal reader can find it: by the
    time it was printed (ids from before that was recorded name no post reliably)."""
    m = _PRINTED.fullmatch(message_id)
    if not m:
        return "update to an earlier post"
    when = datetime.strptime(m[1], "%Y%m%dT%H%M%SZ")
    return f"update to the post printed {when:%Y-%m-%d %H:%M:%S} UTC"


def run_console_command(commands, line: str, *, stream: TextIO | None = None,
                        caller: Caller = CONSOLE_CALLER) -> Reply:
    """Run one text command ("company alibaba 3") and print its reply; returns it.

    Call from synchronous code (the CLI); inside a running loop await
    commands.run_text() and format_reply() instead."""
    reply = asyncio.run(commands.run_text(caller, line))
    out = stream or sys.stdout
    out.write(format_reply(reply).rstrip("\n") + "\n")
    return reply


def set_up_console(store) -> None:
    """The console channel follows all strategy stories until its user says otherwise
    (`ainews chat`). Done once per database: a console told to follow Alibaba alone, or
    nothing, stayed so only until the next start, which gave it all back."""
    if store.get_meta(SET_UP):
        return
    if not store.subscriptions_for_channel("console", "console"):
        store.subscribe(Subscription("console", "console", "console", "all", "all"))
    store.set_meta(SET_UP, True)
