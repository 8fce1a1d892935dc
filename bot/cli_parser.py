"""What the `ainews` command line accepts: its parser, and the words argparse can't
read alone (--db after the command, a search's -WORDs, extra words, a missing command).
Values are checked here as usage errors (exit 2), by the chat core's own rules."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

# Not .env.example alone: a pip install or the Docker image has none; the README is the
# package's description, shown wherever it is published.
EPILOG = ("Settings come from the environment or .env in the working directory: the README's "
          "\"Running it for real\" lists them, as does .env.example in a checkout.")


def _lookup_flags(p: argparse.ArgumentParser, limit: int = 10) -> None:
    command = p.prog.split()[-1]
    p.add_argument("--limit", "-n", type=lambda text: _limit(command, text), default=limit, help=f"how many (default {limit})")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def _strategy_flag(p: argparse.ArgumentParser) -> None:
    # Here every stored story is listed; chat lists the strategy ones, as this flag does.
    p.add_argument("--strategy-only", action="store_true",
                   help="only AI-strategy stories (what chat lists)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ainews", epilog=EPILOG,
                                 description="AI-industry strategy news briefs for chat.")
    ap.add_argument("--db", type=_db, help="SQLite database: a path or an SQLite URI, "
                    "file:PATH?mode=rwc (default: AINEWS_DB or ./data/ainews.db)")
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    # Not required: argparse's "required: COMMAND" listed no command (see menu_of).
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    ap.set_defaults(menu=ap)
    _service_commands(sub)
    _lookup_commands(sub)
    p = sub.add_parser("brief", help="condense a feed file, article, URL or - (stdin)")
    p.add_argument("source")
    p.add_argument("--json", action="store_true", help="one JSON object per story")
    _feeds_command(sub)
    _subscriptions_command(sub)
    _operator_commands(sub)
    return ap


def _service_commands(sub) -> None:
    p = sub.add_parser("run", help="poll, condense and post, until stopped")
    p.add_argument("--once", action="store_true", help="one poll, deliver what is due, exit")
    p = sub.add_parser("poll", help="one pass over the active feeds (those waiting out a "
                                    "failure's backoff are named, not polled); posts nothing "
                                    "itself (a running bot posts what it finds)")
    p.add_argument("--once", action="store_true", help="(the default; kept for symmetry)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def _lookup_commands(sub) -> None:
    p = sub.add_parser("latest", help="latest stories")
    _lookup_flags(p)
    p.add_argument("--topic", help="only this topic")
    _strategy_flag(p)
    p = sub.add_parser("company", help="latest stories about a company")
    p.add_argument("name", nargs="+")
    _lookup_flags(p)
    _strategy_flag(p)
    p = sub.add_parser("topic", help="latest stories on a topic")
    # A label of several words ("open source"), as chat takes it, or a slug (open-source).
    p.add_argument("slug", nargs="+", metavar="TOPIC")
    _lookup_flags(p)
    _strategy_flag(p)
    p = sub.add_parser("search", help="full-text search",
                       epilog="e.g. ainews search openai -microsoft --limit 5")
    p.add_argument("query", nargs="+", metavar="WORD",
                   help="words to look for; -WORD leaves out the stories with WORD, "
                        'A OR B takes either, "two words" is a phrase')
    _lookup_flags(p)
    p = sub.add_parser("topics", help="topics and companies with counts for the last 7 days")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("why", help="why a story was posted or not: verdict, what counted, "
                                   "its cluster and posts")
    p.add_argument("link", metavar="LINK",
                   help="the story's link (as a post shows it), the post's own message link "
                        "(Slack's Copy link, Discord's Copy Message Link) or the story's id")
    p.add_argument("--json", action="store_true")


def _feeds_command(sub) -> None:
    p = sub.add_parser("feeds", help="manage feeds: list, add, remove, check, resume")
    fs = p.add_subparsers(dest="action", metavar="ACTION")
    p.set_defaults(menu=p)
    q = fs.add_parser("list", help="feeds with their health")
    q.add_argument("--json", action="store_true")
    q = fs.add_parser("add", help="add a feed")
    q.add_argument("url")
    q.add_argument("name", nargs="?")
    q.add_argument("--tag", action="append", default=[],
                   help="a tag for the feed; repeat it or separate tags with commas")
    q = fs.add_parser("remove", help="remove feeds")
    q.add_argument("url", nargs="+", metavar="URL_OR_NAME",
                   help="the feed's URL, or its name as `feeds list` shows it; several "
                        "feeds: a URL or a quoted name each")
    q = fs.add_parser("check", help="fetch a feed now and report what it holds")
    q.add_argument("url")
    q.add_argument("--json", action="store_true")
    q = fs.add_parser("resume", help="resume a paused feed, or poll a failing one at the "
                                     "next cycle instead of after its backoff (all: every "
                                     "paused or failing feed)")
    q.add_argument("url", nargs="+", metavar="URL_OR_NAME",
                   help="the feed's URL, or its name as `feeds list` shows it (several: "
                        "a URL or a quoted name each), or all")


def _subscriptions_command(sub) -> None:
    p = sub.add_parser("subscriptions", help="what each chat channel follows; remove a "
                                             "channel's (a deleted channel's stay paused)")
    ss = p.add_subparsers(dest="action", metavar="ACTION")
    p.add_argument("--json", action="store_true")
    q = ss.add_parser("list", help="every channel's subscriptions (the default)")
    q.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    q = ss.add_parser("remove", help="stop a channel's subscriptions: all, or one target")
    q.add_argument("platform", choices=("discord", "slack", "console"))
    q.add_argument("channel", help="the channel id, as `ainews subscriptions` or `status` shows it")
    # A default: else argparse named `target` among the missing arguments, though optional.
    q.add_argument("target", nargs="*", default=[], help="a topic or company (default: everything)")


def _operator_commands(sub) -> None:
    p = sub.add_parser("chat", help="chat commands for the console channel (subscribe, "
                                    "digest, help, ...); one per line from stdin without WORDS")
    p.add_argument("words", nargs=argparse.REMAINDER, metavar="WORDS",
                   help="one command, as typed in chat: subscribe company:alibaba")
    p = sub.add_parser("status", help="feeds health, queue depth, paused subscriptions")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("demo", help="the whole pipeline on bundled sample feeds, on loopback")
    p.add_argument("--seconds", type=_positive_seconds, default=40.0,
                   help="run at most this long (default 40; it ends sooner, about half a "
                        "minute in, once every sample story is out)")
    p = sub.add_parser("prune", help="slim stories older than AINEWS_KEEP_DAYS now "
                                     "(the running bot does it daily)")
    p.add_argument("--days", type=_keep_days, help="keep this many days whole instead")
    p = sub.add_parser("backup", help="copy the database to FILE, also while the bot runs")
    p.add_argument("file", type=Path, metavar="FILE")
    p = sub.add_parser("restore", help="put a backup made by `ainews backup` back as the "
                                       "database (the bot stopped)")
    p.add_argument("file", type=Path, metavar="FILE")
    sub.add_parser("discord-invite", help="print the Discord invite URL for this bot")


def _limit(command: str, text: str) -> int:
    """A wrong --limit is a usage error (exit 2) like any other wrong argument; it
    exited 1, the code for "no such company". The chat core's check and words, with
    an example of the command typed."""
    from bot import cli_syntax, examples as ex
    from bot.commands_limit import parse_limit   # here: heavy for --help
    from bot.platforms import CONSOLE
    eg = {"company": ex.COMPANY_LIMIT_EG, "topic": ex.TOPIC_LIMIT_EG,
          "latest": ex.LATEST_LIMIT_EG}.get(command)
    value = parse_limit(text, eg, CONSOLE.limit_cap)
    if not isinstance(value, int):
        raise argparse.ArgumentTypeError(value.spelled(cli_syntax.spell).removeprefix("limit "))
    return value


def _db(text: str) -> Path:
    from storage.db_path import db_setting
    try:
        return db_setting(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} {e}") from None


def refuse_extra_words(parser: argparse.ArgumentParser, command: str, extra: list[str]):
    """`ainews latest 3 4`: argparse said "unrecognized arguments" under the usage of
    ainews itself, not of latest; a lookup's error shows what that command takes."""
    from bot import cli_syntax, examples as ex
    usage = {"latest": ex.LATEST_USAGE, "company": ex.COMPANY_USAGE,
             "topic": ex.TOPIC_USAGE, "search": ex.SEARCH_USAGE}.get(command)
    if usage is None:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    print(f"ainews {command}: unexpected {' '.join(extra)!r}: use {cli_syntax.spell(usage)}",
          file=sys.stderr)
    sys.exit(2)


def menu_of(args) -> argparse.ArgumentParser | None:
    """The parser whose command is missing (`ainews`, `ainews feeds`): its whole help,
    with the list of commands, is what a user typing it wants; exit 2, a usage error."""
    if args.cmd is None or (args.cmd == "feeds" and args.action is None):
        return args.menu
    return None


def _positive_seconds(text: str) -> float:
    """`demo --seconds -1` ran a demo that stopped before its first story."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds above 0")
    return value


def _keep_days(text: str) -> int:
    """The same rule as AINEWS_KEEP_DAYS (bot/config_values.py), as a usage error."""
    from bot.config import ConfigError
    from bot.config_values import keep_days
    try:
        return keep_days("--days", text)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("config: ")) from None


def search_words_last(argv: list[str]) -> list[str]:
    """`ainews search openai -microsoft`: argparse takes `-microsoft` for an unknown
    option (and `-nvidia` for `-n vidia`). After the `search` command every word but its
    own options (--json, --limit N, -n N, -h) is a search word, `-WORD`s included: they
    go after a `--`, in the order typed. `--` typed by the user still ends the options."""
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        # the global options before the command; --db (or --d, --db=) takes a value
        takes_value = "=" not in argv[i] and len(argv[i]) > 2 and "--db".startswith(argv[i])
        i += 2 if takes_value else 1
    if i >= len(argv) or argv[i] != "search":
        return argv
    options, words, rest = [], [], iter(argv[i + 1:])
    for word in rest:
        if word == "--":
            words += rest
        elif word.startswith("--") or word in ("-h", "-n") or _SHORT_LIMIT.match(word):
            options.append(word)
            limit_flag = word == "-n" or (len(word) > 2 and "--limit".startswith(word))
            value = next(rest, None) if limit_flag else None
            options += [value] if value is not None else []
        else:
            words.append(word)
    return argv[:i + 1] + options + ["--"] + words


_SHORT_LIMIT = re.compile(r"^-n[+-]?\d+$")       # -n5, as argparse reads it


def db_option_first(argv: list[str]) -> list[str]:
    """`ainews latest --db x.db`: argparse takes a global option only before the
    command, and said "unrecognized arguments: --db x.db". --db (or --db=PATH) anywhere
    before a `--` is moved to the front; no command takes a --db of its own."""
    front, rest, i = [], [], 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            rest += argv[i:]
            break
        if word == "--db" and i + 1 < len(argv):
            front += argv[i:i + 2]
            i += 2
            continue
        (front if word.startswith("--db=") else rest).append(word)
        i += 1
    return front + rest
