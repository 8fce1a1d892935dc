"""`ainews chat`: the chat commands, for the console channel. Without chat tokens the bot
prints its posts to the console, and a console user had no way to choose what it prints
(`subscribe company:alibaba`), set a digest or try `help` before setting up Discord or
Slack. One command from the arguments (`ainews chat subscribe pricing`), or one per line
from standard input (with a prompt on a terminal) until end of input or `quit`."""
from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.console import CONSOLE_CALLER, set_up_console
from bot.examples import Example, console

PROMPT = "ainews> "
QUIT = {"quit", "exit", "q"}
# Changes to a channel are answered visibly (ephemeral False); on the console they only
# matter to a bot that prints there, which a chat platform turns off (service_platforms).
CONSOLE_OFF_NOTE = ("ainews chat: note: the bot prints to the console only when no chat "
                    "platform is set up (or AINEWS_CONSOLE=1), so this channel gets nothing "
                    "while Discord or Slack runs")


def chat_spell(ex: Example) -> str:
    """An example as the shell takes it: `ainews chat subscribe pricing`."""
    return f"`ainews chat {console(ex)[1:]}"


def cmd_chat(app, args) -> int:
    set_up_console(app.store)     # what `ainews run` starts it with: all strategy stories
    if args.words:
        return _answer(app, " ".join(args.words), chat_spell)
    return session(app, sys.stdin, interactive=sys.stdin.isatty())


def session(app, lines: TextIO, *, interactive: bool) -> int:
    """One command a line, answered in turn; 1 when any of them failed (a script piping
    commands in learns that), else 0."""
    failed = False
    while (line := _next_line(lines, interactive)) is not None:
        if line.strip().lower() in QUIT:
            break
        if line.strip():
            failed |= _answer(app, line, console) != 0
    return 1 if failed else 0


def _next_line(lines: TextIO, interactive: bool) -> str | None:
    if interactive:
        print(PROMPT, end="", flush=True)
    line = lines.readline()
    return line.rstrip("\n") if line else None


def _answer(app, line: str, spell) -> int:
    from bot.cli_commands import print_reply
    reply = asyncio.run(app.commands.run_text(CONSOLE_CALLER, line))
    code = print_reply(reply, False, spell=spell)
    if not reply.ephemeral and not app.settings.console_enabled:
        print(CONSOLE_OFF_NOTE, file=sys.stderr)
    return code
