"""`ainews subscriptions [list|remove]`: what every channel follows, and removing a
channel's subscriptions from the command line.

Why from here: a channel that was deleted, or that the bot was removed from, keeps its
subscriptions paused (listed in `ainews status`), and nobody can type `/unsubscribe`
there any more. The removal is the chat command's own (`Commands.unsubscribe`), run as
an admin of that channel, so waiting posts are cancelled the same way.
"""
from __future__ import annotations

import shlex
import sys

from bot.cli_tables import format_table
from bot.commands_subs import means_everything
from bot.console import json_line
from bot.digest import DigestError, next_scheduled, parse_schedule
from bot.replies import Caller
from feeds.models import iso_utc, shown_utc, utcnow

PLATFORMS = ("discord", "slack", "console")


def run(app, args) -> int:
    return _remove(app, args) if args.action == "remove" else _list(app, args)


def _list(app, args) -> int:
    subs, now = app.store.all_subscriptions(), utcnow()
    digests = {key: _digest(app.store, *key, now)
               for key in dict.fromkeys((s.platform, s.channel) for s in subs)}
    if args.json:
        for s in subs:
            print(json_line({"platform": s.platform, "workspace": s.workspace,
                             "channel": s.channel, "kind": s.kind, "target": s.target,
                             "paused": s.paused_reason,
                             "digest": digests[s.platform, s.channel]}))
        return 0
    if not subs:
        print("no subscriptions yet: a channel admin types /subscribe in Slack or Discord")
        return 0
    print(format_table(["platform", "channel", "follows", "state", "delivery"],
                       [[s.platform, s.channel, follows(s.kind, s.target),
                         s.paused_reason or "active", _delivery(digests[s.platform, s.channel])]
                        for s in subs]))
    return 0


def _digest(store, platform: str, channel: str, now) -> dict | None:
    """A digest channel's setting and its next digest (UTC, as the command line shows
    times): all day it gets nothing, which only /subscriptions in it used to say."""
    d = store.digest_setting(platform, channel)
    if d is None:
        return None
    try:
        nxt = iso_utc(next_scheduled(parse_schedule(d.at_time, d.tz), now))
    except DigestError:     # a setting this version can't read: shown as stored
        nxt = None
    return {"at": d.at_time, "tz": d.tz, "next": nxt}


def _delivery(digest: dict | None) -> str:
    if digest is None:
        return "as they come"
    nxt = f", next {shown_utc(digest['next'])}" if digest["next"] else ""
    return f"digest daily {digest['at']} {digest['tz']}{nxt}"


def follows(kind: str, target: str) -> str:
    """What a subscription follows, as the command line shows it: all, topic pricing."""
    return "all" if kind == "all" else f"{kind} {target}"


def _remove(app, args) -> int:
    current = app.store.subscriptions_for_channel(args.platform, args.channel)
    if not current:     # nothing there (exit 1), as removing a target it doesn't follow
        print(f"ainews: subscriptions: {args.platform} channel {args.channel} follows "
              "nothing (`ainews subscriptions` lists every channel's)", file=sys.stderr)
        return 1
    caller = Caller(platform=args.platform, workspace=current[0].workspace,
                    channel=args.channel, user="cli", is_admin=True)
    target = " ".join(args.target) or "all"
    if args.platform == "console":
        # What the first `ainews run` or `ainews chat` does (once per database), done
        # now: else a run after this would subscribe the terminal to everything again.
        from bot.console import set_up_console
        set_up_console(app.store)
    # Everything removed: the digest setting goes too (the chat command keeps it for when
    # the channel follows something again; a deleted channel never will).
    digest = means_everything(target) and app.store.clear_digest(args.platform, args.channel)
    from bot.cli_commands import print_reply
    code = print_reply(app.commands.unsubscribe(caller, target), False,
                       _spelling(args.platform, args.channel))
    if digest:
        print("Its digest setting is removed too.")
    if args.platform == "console" and not app.store.subscriptions_for_channel("console",
                                                                             "console"):
        # "The console follows everything again at the next `ainews run`" was said, but
        # the terminal is subscribed once per database (set_up_console), not each start.
        print("The console prints no stories from now on, at the next `ainews run` too: "
              "`ainews chat subscribe all` gives it every strategy story again.")
    return code


def _spelling(platform: str, channel: str):
    """The command line's spelling, with the chat's `unsubscribe TARGET` written as this
    command takes it for the channel: "(`unsubscribe all` stops everything)" named a
    command no terminal has."""
    from bot import cli_syntax

    def spell(example) -> str:
        if example.command != "unsubscribe":
            return cli_syntax.spell(example)
        words = ["subscriptions", "remove", platform, channel, *(a.value for a in example.args)]
        return "`ainews " + " ".join(shlex.quote(w) for w in words) + "`"
    return spell
