"""Slash commands and button actions: Slack event -> Commands call -> Reply -> respond().

Every listener acks first (Slack gives 3 s), then computes, then answers through the
response_url, so a slow lookup never shows the user "operation_timeout".
"""
from __future__ import annotations

import inspect
import json
import logging
import re
from dataclasses import replace
from typing import Any, Awaitable, Callable

from slack_sdk.errors import SlackApiError

from bot.commands_text import NUMBER, command_name, quote
from bot.replies import Caller, Reply, failed
from bot.slack import render, render_reply, shares
from bot.slack.admin_check import USER_ID
from bot.slack.webapi import NETWORK_ERRORS, error_code, failure_text
from bot.slack.syntax import SLASH_COMMANDS
from feeds.urls import without_secrets

log = logging.getLogger("ainews.slack")

_SLACK_TOKEN = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def from_slack(text: str) -> str:
    """Slack's wire format -> what the user typed: a link Slack formatted as <url|label>
    is its URL, <#C1|name> its label, and &amp; &lt; &gt; are & < > again."""
    def token(m: re.Match) -> str:
        target, label = m.group(1), m.group(2)
        return target if target.startswith(("http://", "https://")) else (label or target)
    text = _SLACK_TOKEN.sub(token, text or "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# Lookups without a slash command of their own: /search and /topic are Slack's built-ins;
# why has none (the app's manifest keeps its commands few).
VIA_AINEWS = ("search", "topic", "why")


def plan(command: str, text: str) -> tuple[str, str]:
    """'/company qwen' -> ('company', 'qwen'); '/ainews feeds add URL' -> ('feeds', 'add URL');
    '/ainews search qwen' -> ('search', 'qwen'), a lookup as '/company' is;
    '/ainews anything else' -> ('text', 'anything else')."""
    name, text = command.lstrip("/").lower(), " ".join(from_slack(text).split())
    if name != "ainews":
        return name, text
    first, _, rest = text.partition(" ")
    first = first.lstrip("/").lower()
    if first in ("", "help"):
        return "help", ""
    if first == "feeds" or first in VIA_AINEWS:
        return first, rest
    return "text", text


def command_of(name: str, args: str) -> str:
    """The command a planned line runs: '/ainews company qwen' (('text', 'company qwen'))
    runs company, as run_text reads it."""
    return command_name(args) if name == "text" else name


def typed(name: str, args: str) -> str:
    """A planned command as the user typed it (without the slash), for "Sorry, /...
    failed": plan()'s 'text' is 'ainews company', and 'search' is 'ainews search'
    (/search is Slack's own command)."""
    if f"/{name}" in SLASH_COMMANDS:
        return name
    return " ".join(["ainews", quote(command_of(name, args), 30)]).strip()


def _latest(commands, caller: Caller, args: str):
    """'/latest pricing 3' or '/latest 3 pricing': a number is the limit, words the topic."""
    # As the text command reads it (NUMBER): "-1" and "1.5" are (bad) limits, not topics.
    numbers = [w for w in args.split() if NUMBER.match(w)]
    words = " ".join(w for w in args.split() if not NUMBER.match(w))
    limit = numbers[-1] if numbers else None
    if limit is not None and limit.lstrip("+-").isdigit():
        limit = int(limit)
    if len(numbers) > 1:    # '/latest 3 5': not the last one silently; the core says why
        limit = " ".join(numbers)
    return commands.latest(caller, limit=limit, topic=words or None)


# name -> how to call the chat core; args is the rest of the command line.
_CALLS: dict[str, Callable[[Any, Caller, str], Any]] = {
    "company": lambda c, who, a: c.company(who, a),
    "latest": _latest,
    "search": lambda c, who, a: c.search(who, a),
    "topic": lambda c, who, a: c.topic(who, a),
    "topics": lambda c, who, a: c.topics(who),
    "why": lambda c, who, a: c.why(who, a),
    "subscribe": lambda c, who, a: c.subscribe(who, a),
    "unsubscribe": lambda c, who, a: c.unsubscribe(who, a),
    "subscriptions": lambda c, who, a: c.subscriptions(who),
    "digest": lambda c, who, a: c.digest(who, a),
    "help": lambda c, who, a: c.help(who),
    "feeds": lambda c, who, a: c.feeds(who, a),
    "text": lambda c, who, a: c.run_text(who, a),
}


async def run_command(commands, name: str, args: str, caller: Caller) -> Reply:
    """Call the chat core (sync or async); a crash becomes an error the user can act on,
    a store that can't be used the core's answer for it."""
    call = _CALLS.get(name)
    if call is None:
        return Reply.error(f"Unknown command /{name}. Try /ainews help.")
    try:
        result = call(commands, caller, args)
        return await result if inspect.isawaitable(result) else result
    except Exception as e:  # noqa: BLE001 - the user gets an answer whatever broke
        if (reply := commands.store_failure(e)) is not None:   # logged by the core
            return reply
        said = typed(name, args)
        # Hidden before the cut: a password cut short has no "@" after it to be known by.
        log.exception("slack: /%s %r failed for %s", said, without_secrets(args)[:100],
                      caller.user)
        return failed(said)


REFUSED = ("Sorry, Slack would not show that answer. Try again with a smaller limit; if "
           "it keeps happening, tell whoever runs the bot.")


async def _respond(respond, message: dict, what: str) -> bool:
    """Send `message` to the response_url; whether Slack took it."""
    try:
        sent = await respond(**message)
        # A response_url refusal (invalid_blocks, no_text) is an HTTP 400 answer, not an
        # exception: unchecked, the user got nothing and the log said nothing.
        status = getattr(sent, "status_code", 200)
        if status >= 400:
            log.warning("slack: Slack refused the answer to %s: HTTP %s %s", what, status,
                        str(getattr(sent, "body", ""))[:200])
            # Say so, once, in short plain text (which it takes).
            await respond(text=REFUSED, response_type="ephemeral", replace_original=False)
            return False
    except Exception as exc:  # noqa: BLE001 - an expired response_url must not kill the bot
        log.warning("slack: answering %s failed: %s", what, failure_text(exc))
        return False
    return True


def register(app, commands, is_admin: Callable[[str], Awaitable[bool]]) -> None:
    """Attach every slash command and button listener to a bolt AsyncApp."""

    async def on_command(ack, command, respond, client):
        await ack()
        name, args = plan(command.get("command", ""), command.get("text", ""))
        caller = _caller(command.get("team_id"), command.get("channel_id"),
                         command.get("user_id"))
        log.debug("slack: /%s %r from %s in %s", name, without_secrets(args)[:100],
                  caller.user, caller.channel)
        reply = await _answer(commands, is_admin, (name, args), caller, client)
        share = render_reply.share_value(name, args) if reply.shareable else None
        await _respond(respond, render_reply.reply_message(reply, share=share), f"/{name}")

    for slash in SLASH_COMMANDS:
        app.command(slash)(on_command)
    app.action(render_reply.SHARE_ACTION)(_share_listener(commands))
    app.action(render.READ_ACTION)(on_read)
    # Last, so the two above match first: a button of another version's posts.
    app.action(re.compile(".*"))(on_unknown_action)


def _share_listener(commands):
    """The Share button's listener: the lookup run again and posted to the channel, once
    per private answer (a double click's second is told it was already posted)."""
    shared = shares.Shares()

    async def on_share(ack, body, action, respond):
        await ack()
        user = (body.get("user") or {}).get("id", "")
        caller = _caller((body.get("team") or {}).get("id"),
                         (body.get("channel") or {}).get("id"), user)
        if (slow := commands.too_fast(caller)) is not None:    # a click re-runs a lookup
            return await _respond(respond, share_message(slow, user), "share")
        if not shared.take(key := shares.answer_key(body)):
            return await _respond(respond, shares.ALREADY, "share")
        message = share_message(await _share_lookup(commands, action, caller), user)
        public = message["response_type"] == "in_channel"
        if await _respond(respond, message, "share") and public:
            return await _respond(respond, shares.SHARED, "share")   # its button gone
        shared.give_back(key)           # nothing posted: the button may be clicked again

    return on_share


async def _answer(commands, is_admin: Callable[[str], Awaitable[bool]],
                  command: tuple[str, str], caller: Caller, client) -> Reply:
    """The core's answer to `command` (name, args); first, "try again" to a caller going
    too fast (nothing run, users.info not asked: hammering a change doesn't spend its
    rate limit), and "invite me" to a /subscribe where the bot can't see the channel."""
    if (slow := commands.too_fast(caller)) is not None:
        return slow
    name, args = command
    # Only commands that can change something need users.info: a lookup never waits
    # on it (or logs its failures), typed through /ainews too.
    if caller.user and command_of(name, args) not in READ_ONLY:
        caller = replace(caller, is_admin=await is_admin(caller.user))
    if caller.is_admin and subscribes(name, args) \
            and await hidden_from_bot(client, caller.channel):
        return Reply.error(CANT_POST)
    return await run_command(commands, name, args, caller)


def _caller(team: str, channel: str, user: str) -> Caller:
    """Not yet known as an admin: `_answer` asks, once the throttle let it through."""
    return Caller(platform="slack", workspace=team or "", channel=channel or "",
                  user=user or "")


async def _share_lookup(commands, action: dict, caller: Caller) -> Reply:
    """The lookup a "Share" button's value names, run again for the one who clicked."""
    lookup = parse_share(action.get("value") or "")
    if lookup is None:
        return Reply.error("That button no longer works; run the command again.")
    return await run_command(commands, *lookup, caller)


async def on_read(ack) -> None:
    await ack()   # a link button still sends an action; unanswered, Slack shows a warning


async def on_unknown_action(ack, body) -> None:
    """Ack it, or Slack shows the user a warning icon; there is nothing to do."""
    await ack()
    actions = body.get("actions") or [{}]
    log.info("slack: ignored a click on unknown button %r", actions[0].get("action_id"))


# Slash commands work in channels the bot can't see (private ones it wasn't invited to,
# others' DMs); a subscription there would only pause at its first story.
CANT_POST = ("I can't post in this channel: it's private (or a direct message) and I'm not "
             "in it. Invite me with /invite @ainews, then run /subscribe again.")


def subscribes(name: str, args: str) -> bool:
    """/subscribe, or '/ainews subscribe ...' (the text form)."""
    return command_of(name, args) == "subscribe"


async def hidden_from_bot(client, channel: str) -> bool:
    """True when Slack says the bot can't see `channel` (channel_not_found). Reading one
    message needs only the history scopes the bot has; any other answer (not_in_channel:
    a public channel, which chat:write.public can post to; no scope; Slack down) is not
    proof, and the subscription goes ahead as before."""
    try:
        await client.conversations_history(channel=channel, limit=1)
    except SlackApiError as exc:
        return error_code(exc) == "channel_not_found"
    except NETWORK_ERRORS as exc:
        log.debug("slack: couldn't check %s before subscribing: %s", channel, exc)
    return False


LOOKUPS = ("company", "latest", "search", "topic")
# Commands that only read: they never ask who is admin. Any other (a change, /ainews
# anything, a command added to the core later) asks, so a new admin-only command can't
# silently refuse the admins.
READ_ONLY = frozenset({*LOOKUPS, "topics", "why", "subscriptions", "help"})


def parse_share(value: str) -> tuple[str, str] | None:
    """A share button's value -> the lookup to re-run. Only lookups: a button can never
    be made to change subscriptions or feeds."""
    try:
        data = json.loads(value)
        name, args = str(data["cmd"]), str(data.get("args", ""))
    except (ValueError, KeyError, TypeError):
        return None
    first = args.split()[0].lower() if args.split() else ""
    return (name, args) if name in LOOKUPS or (name == "text" and first in LOOKUPS) else None


def share_message(reply: Reply, user: str) -> dict:
    """The re-run lookup, posted visibly; anything else stays with the clicker."""
    if reply.kind != "briefs" or not reply.briefs:
        why = reply if reply.kind == "error" else Reply.error(
            "Those stories are no longer available to share; run the command again.")
        return {**render_reply.reply_message(why), "replace_original": False}
    note = f"Shared by <@{user}>" if USER_ID.match(user or "") else "Shared from ainews"
    message = render_reply.reply_message(reply, in_channel=True, note=note)
    return {**message, "replace_original": False}
