"""Handlers for the `ainews` sub-commands (parsing lives in bot/cli_parser.py; the story
look-ups' in bot/cli_lookups.py)."""
from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import replace
from pathlib import Path

from bot.config import ConfigError, environment_warnings, load_settings
from bot.console import json_line
from bot.errors import UserError
from bot.logs import setup_logging
from bot.replies import Caller, Reply

CONSOLE = Caller(platform="console", workspace="console", channel="console", user="cli",
                 is_admin=True)


def dispatch(args) -> int:
    """Run a sub-command; errors a user can act on become one-line UserErrors."""
    from feeds.classify import GazetteerError
    from feeds.feedlist import FeedListError
    import sqlite3
    from storage.store import StoreBusy, StoreError
    from storage.store_errors import unusable
    try:
        return _dispatch(args)
    except (GazetteerError, FeedListError, StoreError) as e:
        raise UserError(f"{e}; end it and try again" if isinstance(e, StoreBusy) else str(e)
                        ) from None
    except sqlite3.DatabaseError as e:
        # A read that found the file damaged or its disk failing: the operator's to mend.
        halt = unusable(args.db or load_settings().db_path, e)
        if halt is None:
            raise
        raise UserError(str(halt)) from None


def _dispatch(args) -> int:
    settings = _settings(args)
    # The demo's point is the briefs: its logs stay quiet unless asked for.
    level = "WARNING" if args.cmd == "demo" else settings.log_level
    setup_logging(level, args.verbose)
    for line in environment_warnings():
        logging.getLogger("ainews.config").warning("%s", line)
    if args.cmd in _WITHOUT_STORE:
        return _run_without_store(args, settings)
    if _answers_without_db(args) and _no_db_at(settings.db_path):
        # `feeds check` fetches and parses, `chat help` lists commands: neither reads
        # anything stored. Opening the path created an empty database there, which the
        # next `chat unsubscribe all` from the wrong directory then changed (exit 0).
        settings = replace(settings, db_path=Path(":memory:"))
    _refuse_missing_db(args, settings.db_path)
    app = _open_app(settings)
    try:
        session = args.cmd == "chat" and not args.words
        if session:             # said before the prompt, not after `quit`
            _say_restart(settings)
        code = _handler(args.cmd)(app, args)
        if _reads_settings(args) and not session:
            _say_restart(settings)
        return code
    finally:
        app.close()


# Sub-commands that never open the --db store as an App: backup and restore copy the
# file (it may be damaged), the demo makes its own, the others need none.
_WITHOUT_STORE = ("discord-invite", "brief", "backup", "restore", "demo")


def _run_without_store(args, settings) -> int:
    if args.cmd == "discord-invite":
        from bot.cli_extra import discord_invite
        return discord_invite(settings)
    if args.cmd == "brief":
        from bot.cli_extra import brief
        return brief(settings, args)
    if args.cmd in ("backup", "restore"):   # never through the Store: it may be damaged
        from bot import backup
        print(getattr(backup, args.cmd)(settings.db_path, args.file))
        return 0
    from bot.demo import run_demo
    return run_demo(settings, seconds=args.seconds)


def _reads_settings(args) -> bool:
    """Commands whose answer rests on `.env` or the AINEWS_USER_DATA file as this
    process read them: the guard's `feeds add` and `check`, chat's `subscribe`."""
    return args.cmd == "chat" or (args.cmd == "feeds" and args.action in ("add", "check"))


def _say_restart(settings) -> None:
    from bot.runlock import restart_note
    if (note := restart_note(settings)) is not None:
        print(f"ainews: {note}", file=sys.stderr)


def _settings(args):
    try:
        settings = load_settings()
    except ConfigError as e:
        raise UserError(str(e)) from None
    # "--db=~/x.db" reaches us unexpanded (the shell expands only a word starting with ~).
    return replace(settings, db_path=args.db) if args.db else settings


# Commands that only read, or change what must already be there: on a path with no
# database a typo is likelier than a wish for a new, empty one (which would then answer
# "no stories" or "no feeds yet" as if the archive were empty). poll, run and
# `feeds add` create it.
LOOKUPS = frozenset({"latest", "company", "topic", "topics", "search", "status", "prune",
                     "why", "subscriptions"})
FEED_ACTIONS_ON_A_DATABASE = frozenset({"list", "remove", "resume"})


def _needs_existing_db(args) -> bool:
    if args.cmd == "feeds":
        return args.action in FEED_ACTIONS_ON_A_DATABASE
    if args.cmd == "chat":      # run from another directory, it changed a new, empty one
        return not _chat_help(args)
    return args.cmd in LOOKUPS


def _answers_without_db(args) -> bool:
    return (args.cmd == "feeds" and args.action == "check") or _chat_help(args)


def _chat_help(args) -> bool:
    from bot.commands_text import command_name
    return args.cmd == "chat" and bool(args.words) and command_name(" ".join(args.words)) == "help"


def _no_db_at(db_path: Path) -> bool:
    """No database file there; an SQLite URI (`file:x.db?mode=ro`) names one by its path."""
    from storage.db_path import db_file
    if (file := db_file(db_path)) is None:    # in memory
        return False
    try:
        return not file.exists()
    except PermissionError as e:   # a folder this user may not enter: no traceback
        raise UserError(f"cli: cannot look for a database at {db_path}: {e.strerror}; "
                        "check its folder's permissions, or give another --db") from None


def _refuse_missing_db(args, db_path: Path) -> None:
    if _needs_existing_db(args) and _no_db_at(db_path):
        raise UserError(f"cli: no database at {db_path} yet: check --db or AINEWS_DB, or "
                        "run `ainews poll --once` (or `ainews run`) first to create and fill it")


def _open_app(settings):
    from bot.app import App
    from storage.store import StoreError
    try:
        return App(settings)
    except StoreError as e:
        raise UserError(str(e)) from None


def cmd_run(app, args) -> int:
    """0 after `--once`, or a requested stop (SIGTERM, SIGINT) once shut down cleanly;
    what to fix (a refused token, an unwritable store) raises: one line, exit 2; a bug
    is logged with its traceback and ends with one line and exit 1 (README, "Exit codes")."""
    from bot.service import Service
    try:
        return asyncio.run(Service(app).run(once=args.once))
    except Exception as e:
        if _explained(e, app.settings.db_path):
            raise           # dispatch makes it the one line
        logging.getLogger("ainews.service").exception("service: crashed")
        print(f"ainews: service: stopped by an unexpected error ({type(e).__name__}: "
              f"{str(e)[:200]}); the traceback is logged above", file=sys.stderr)
        return 1


def _explained(e: Exception, db_path) -> bool:
    """An error that already says, in one line, what to fix (see dispatch)."""
    import sqlite3
    from feeds.classify import GazetteerError
    from feeds.feedlist import FeedListError
    from storage.store import StoreError
    from storage.store_errors import unusable
    if isinstance(e, (UserError, GazetteerError, FeedListError, StoreError)):
        return True
    return isinstance(e, sqlite3.DatabaseError) and unusable(db_path, e) is not None


def cmd_poll(app, args) -> int:
    from bot import cli_poll
    return cli_poll.cmd_poll(app, args)


def print_reply(reply: Reply, as_json: bool, spell=None, where: str = "") -> int:
    """Show a command's reply: JSON rows for briefs with --json, else readable text.
    `spell`: how its examples are written (default: as this command line takes them);
    `where`: what an error comes from, when several commands run ("line 3: ")."""
    from bot import cli_syntax
    from bot.console import terminal_text
    from feeds.render import render_text
    text = reply.spelled(spell or cli_syntax.spell)
    if reply.kind == "error":
        print(f"ainews: {where}{terminal_text(text)}", file=sys.stderr)
        return 1 if reply.nothing_there else 2    # README "Exit codes": nothing there, or fix
    if as_json:
        if reply.briefs and text:   # a note on how to read them, kept out of the rows
            print(f"ainews: {terminal_text(text)}", file=sys.stderr)
        for b in reply.briefs:
            print(json_line(b.to_json()))
        return 0
    if reply.title:
        print(terminal_text(reply.title) + "\n")
    if reply.briefs:
        if text:    # a note on how to read them
            print(terminal_text(text) + "\n")
        print("\n\n".join(render_text(b) for b in reply.briefs))
    elif text:
        print(terminal_text(text))
    return 0


def cmd_feeds(app, args) -> int:
    from bot import cli_feeds
    return cli_feeds.run(app, args)


def cmd_status(app, args) -> int:
    from bot.status import print_status
    return print_status(app, as_json=args.json)


def cmd_prune(app, args) -> int:
    """An operator's command (shell access is admin access): slim now, one line."""
    from bot.retention import prune, prune_line
    from feeds.models import utcnow
    days = app.settings.keep_days if args.days is None else args.days
    setting = "AINEWS_KEEP_DAYS" if args.days is None else "--days"
    print(prune_line(prune(app.store, days, utcnow()), days, setting))
    return 0


def cmd_subscriptions(app, args) -> int:
    from bot import cli_subs
    return cli_subs.run(app, args)


def cmd_chat(app, args) -> int:
    from bot import cli_chat
    return cli_chat.cmd_chat(app, args)


HANDLERS = {
    "run": cmd_run, "poll": cmd_poll, "feeds": cmd_feeds, "status": cmd_status,
    "prune": cmd_prune, "subscriptions": cmd_subscriptions, "chat": cmd_chat,
}
# The story look-ups are bot/cli_lookups.py's (imported when one runs, as the others'
# modules are: it imports this one).
LOOKUP_COMMANDS = frozenset({"latest", "company", "topic", "search", "topics", "why"})


def _handler(cmd: str):
    if cmd in LOOKUP_COMMANDS:
        from bot import cli_lookups
        return getattr(cli_lookups, f"cmd_{cmd}")
    return HANDLERS[cmd]
