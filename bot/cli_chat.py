"""`ainews chat`: the chat commands, for the console channel. Without chat tokens the bot
prints its posts to the console, and a console user had no way to choose what it prints
(`subscribe company:alibaba`), set a digest or try `help` before setting up Discord or
Slack. One command from the arguments (`ainews chat subscribe pricing`), or one per line
from standard input (with a prompt on a terminal) until end of input or `quit`."""
from __future__ import annotations

import asyncio
import importlib
import shlex
import sys
from typing import TextIO

from bot.commands_text import command_name
from bot.console import CONSOLE_CALLER, set_up_console
from bot.examples import Example, console

PROMPT = "ainews> "
QUIT = {"quit", "exit", "q"}
# What changes the console channel. With a chat platform set up the bot does not print
# to the console (service_platforms pauses it), and a subscription made here would lift
# that pause: the running bot would queue every story for a console nobody reads.
CHANNEL_CHANGES = {"subscribe", "unsubscribe", "digest"}
CONSOLE_IDLE = ("ainews chat: the terminal's channel is off while Discord or Slack is set "
                "up; what it follows below applies when the bot prints to the terminal again")
CONSOLE_OFF = ("ainews chat: the terminal's channel is off while Discord or Slack is set "
               "up; change what a chat channel gets there (or set AINEWS_CONSOLE=1 to "
               "keep the terminal on as well)")


def chat_spell(ex: Example) -> str:
    """An example as the shell takes it: `ainews chat subscribe pricing`."""
    return f"`ainews chat {console(ex)[1:]}"


def cmd_chat(app, args) -> int:
    if app.settings.console_enabled:
        set_up_console(app.store)     # what `ainews run` starts it with: all strategy stories
    if args.words:
        return _answer(app, chat_line(args.words), chat_spell)
    return session(app, sys.stdin, interactive=sys.stdin.isatty())


def chat_line(words: list[str]) -> str:
    """The chat line the shell's words make: one word is the line as typed (`ainews chat
    'search "export controls"'`); several are quoted where the shell took quotes off, so
    run_text reads the same words (`ainews chat search "export controls" nvidia` searched
    the three words apart)."""
    return words[0] if len(words) == 1 else shlex.join(words)


def session(app, lines: TextIO, *, interactive: bool) -> int:
    """One command a line, answered in turn; 1 when any of them failed (a script piping
    commands in learns that), else 0. Piped in, an error names its line ("line 3: ..."):
    among a script's answers it did not say which command had failed."""
    failed = False
    if interactive:
        print("Chat commands for the terminal's channel: `help` lists them; `quit` or "
              "Ctrl-D ends.")
        _line_editing()
    for n, line in enumerate(iter(lambda: _next_line(lines, interactive), None), 1):
        if line.strip().lower() in QUIT:
            break
        if line.strip():
            failed |= _answer(app, line, console, "" if interactive else f"line {n}: ") != 0
    return 1 if failed else 0


def _line_editing() -> None:
    """Arrow keys and history at the prompt, as in a shell (readline is absent on some
    builds: the prompt still works, without them)."""
    try:
        importlib.import_module("readline")     # its import is what changes input()
    except ImportError:
        pass


def _next_line(lines: TextIO, interactive: bool) -> str | None:
    if interactive and lines is sys.stdin:
        try:
            return input(PROMPT)    # readline edits only what input() reads
        except EOFError:
            print()                 # Ctrl-D: the shell's prompt on a line of its own
            return None
    if interactive:
        print(PROMPT, end="", flush=True)
    line = lines.readline()
    return line.rstrip("\n") if line else None


def _answer(app, line: str, spell, where: str = "") -> int:
    from bot.cli_commands import print_reply
    if not app.settings.console_enabled:
        # Read as run_text reads it: a full-width ｓｕｂｓｃｒｉｂｅ, a pasted zero-width
        # space or a quoted "subscribe" got past a plain split.
        name = command_name(line)
        if name in CHANNEL_CHANGES:
            print(CONSOLE_OFF.replace(": ", f": {where}", 1), file=sys.stderr)
            return 1
        if name == "subscriptions":     # its PAUSED line's "subscribe" is refused here
            print(CONSOLE_IDLE, file=sys.stderr)
    reply = asyncio.run(app.commands.run_text(CONSOLE_CALLER, line))
    return print_reply(reply, False, spell=spell, where=where)
