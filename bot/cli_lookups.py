"""The story look-ups of the `ainews` command line: latest, company, topic, search,
topics and why (the other sub-commands: bot/cli_commands.py)."""
from __future__ import annotations

import asyncio
import sys
from dataclasses import replace

from bot.cli_commands import CONSOLE, print_reply
from bot.commands_text import search_words
from bot.console import json_line
from bot.replies import Reply


def print_found(reply: Reply, as_json: bool) -> int:
    """A lookup's reply (latest, company, topic, search): one that lists no story exits 1,
    nothing there, as grep does and as an unknown company does; with --json its note goes
    to stderr, the rows (none) to stdout. `ainews chat` keeps 0: nothing failed."""
    if reply.kind != "briefs" or reply.briefs:
        return print_reply(reply, as_json)
    if as_json:
        from bot import cli_syntax
        from bot.console import terminal_text
        print(f"ainews: {terminal_text(reply.spelled(cli_syntax.spell))}", file=sys.stderr)
    else:
        print_reply(reply, as_json)
    return 1


def _run(app, coro_or_reply):
    return asyncio.run(coro_or_reply) if asyncio.iscoroutine(coro_or_reply) else coro_or_reply


def cmd_latest(app, args) -> int:
    reply = _run(app, app.commands.latest(CONSOLE, args.limit, args.topic,
                                          strategy_only=args.strategy_only))
    if reply.kind == "briefs" and not (args.strategy_only or args.topic):
        # The chat command lists strategy stories only and says so; here all are listed.
        reply = replace(reply, title="Latest stories")
    return print_found(reply, args.json)


def cmd_company(app, args) -> int:
    reply = app.commands.company(CONSOLE, " ".join(args.name), args.limit,
                                 strategy_only=args.strategy_only)
    return print_found(_run(app, reply), args.json)


def cmd_topic(app, args) -> int:
    reply = app.commands.topic(CONSOLE, " ".join(args.slug), args.limit,
                               strategy_only=args.strategy_only)
    return print_found(_run(app, reply), args.json)


def cmd_search(app, args) -> int:
    # `ainews search "export controls" nvidia`: the shell took the quotes off a phrase.
    reply = app.commands.search(CONSOLE, search_words(args.query), args.limit)
    return print_found(_run(app, reply), args.json)


def cmd_topics(app, args) -> int:
    if args.json:
        topics, companies = app.commands.week_counts()
        print(json_line({"topics": topics, "companies": companies}))
        return 0
    return print_reply(_run(app, app.commands.topics(CONSOLE)), False)


def cmd_why(app, args) -> int:
    from bot.commands_text import user_text
    record = app.store.story_record(user_text(args.link)) if args.json else None
    if record is None:   # the text, or the one-line error of a story not found
        return print_reply(app.commands.why(CONSOLE, args.link), False)
    from bot.why import as_json
    print(json_line(as_json(record)))
    return 0
