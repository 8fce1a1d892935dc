"""find_sent: did Slack take a post before a crash or timeout, or before `ainews
restore` put back a backup that knows nothing of it? Slack has no idempotency key, so
the adapter puts each post's nonce and stories in its metadata (post_metadata), and a
retry, or a first post after a restore, looks for them in the channel's history first.
Mixed into bot.slack.adapter.SlackAdapter."""
from __future__ import annotations

import logging
from typing import Any, Sequence

from slack_sdk.errors import SlackApiError

from bot.adapter import RejectedError
from bot.first_tries import epoch_ago
from feeds.models import Brief
from bot.slack.render import READ_ACTION, safe_url
from bot.slack.webapi import NETWORK_ERRORS, classify_error, error_code

log = logging.getLogger("ainews.slack")

# find_sent: how far back a retry looks for its own earlier post (pages of 200 since the
# first attempt, at most 1,000 messages), and the answers that mean "can't look" (post
# anyway) rather than "try later".
HISTORY_PAGE, HISTORY_PAGES = 200, 5
CLOCK_SKEW = 300.0          # seconds: our clock against the ts Slack stamps on messages
HISTORY_UNREADABLE = {"missing_scope", "not_in_channel", "channel_not_found",
                      "no_permission", "restricted_action"}


def post_metadata(kind: str, nonce: str, briefs: Sequence[Brief]) -> dict:
    """What a post carries for find_sent: its nonce, and its stories (a string, as
    Slack's metadata takes a list of objects only), which name it after a restore too."""
    return {"event_type": f"ainews_{kind}",
            "event_payload": {"nonce": nonce, "stories": _stories(briefs)}}


class SentLookup:
    """Uses the adapter's client, _first_try, _bot_id, _warned_history, _recheck, _error."""
    # It tells a post by its stories too: after `ainews restore`, delivery asks it of
    # posts the restored outbox never heard of (bot/retry.py before_restore).
    finds_by_story = True

    async def find_sent(self, channel: str, nonce: str, briefs: Sequence[Brief] = (), *,
                        tried_ago: float | None = None) -> str | None:
        """Our post of `briefs` (one, or a roundup's several) carrying `nonce` or naming
        the same stories (Posted), among the channel's messages since its first attempt
        (`tried_ago` seconds ago by the outbox, or by this process's own; after a
        restore, since the story's publication; when neither knows, the latest ones), in
        pages, at most HISTORY_PAGES of them. Slack has no idempotency key, so this is
        how a retry learns that Slack took the post before a crash or timeout. Needs
        channels:history (groups:history for private channels); without it the answer
        is None and the retry posts."""
        bot_id, wanted = await self._own_bot_id(), Posted(nonce, briefs)
        args = self._history_args(channel, nonce, tried_ago)
        for _ in range(HISTORY_PAGES):
            resp = await self._history(args)
            if resp is None:
                return None
            ts = _posted_ts(resp, wanted, bot_id)
            if ts is not None:
                return f"{channel}:{ts}"
            args["cursor"] = (resp.get("response_metadata") or {}).get("next_cursor") or ""
            if not (resp.get("has_more") and args["cursor"]):
                return None
        log.warning("slack: looked for %s in the latest %d messages of %s and stopped there; "
                    "if Slack took it earlier, it may appear twice", nonce,
                    HISTORY_PAGE * HISTORY_PAGES, channel)
        return None

    def _history_args(self, channel: str, nonce: str, tried_ago: float | None) -> dict:
        """conversations.history's first page, read back to the post's first attempt."""
        args = {"channel": channel, "limit": HISTORY_PAGE, "include_all_metadata": True}
        age = self._first_try.age(nonce, tried_ago)
        if age is not None:
            args["oldest"] = f"{max(0.0, epoch_ago(age) - CLOCK_SKEW):.6f}"
        return args

    async def _history(self, args: dict) -> Any:
        """One page of conversations.history, or None when Slack won't let us read it."""
        channel = args["channel"]
        self._recheck("conversations.history", channel)
        try:
            return await self.client.conversations_history(**args)
        except SlackApiError as exc:
            error = self._error(exc, "conversations.history", channel)
            # A lookup Slack refuses says nothing of the post: a RejectedError here would
            # fail a post that was never refused.
            if error_code(exc) in HISTORY_UNREADABLE or isinstance(error, RejectedError):
                self._history_unreadable(channel, error_code(exc))
                return None
            raise error from exc
        except NETWORK_ERRORS as exc:
            raise classify_error(exc, "conversations.history", channel) from exc

    async def _own_bot_id(self) -> str:
        """The bot's id (auth.test, asked once), to tell our posts from others'."""
        if self._bot_id is None:
            try:
                self._bot_id = str((await self.client.auth_test()).get("bot_id") or "")
            except (SlackApiError, *NETWORK_ERRORS) as exc:
                raise self._error(exc, "auth.test", "the workspace") from exc
        return self._bot_id

    def _history_unreadable(self, channel: str, code: str) -> None:
        # Once per channel and answer: each channel needs its own invite, each answer its
        # own fix.
        if (channel, code) in self._warned_history:
            return
        self._warned_history.add((channel, code))
        log.warning("slack: can't read the history of %s (%s), so a post retried after a "
                    "crash or timeout may appear twice; %s", channel, code or "refused",
                    _history_fix(channel, code))


def _history_fix(channel: str, code: str) -> str:
    """What the operator can do about a refused history read, told apart by Slack's answer:
    scopes help only when one is missing."""
    if code == "missing_scope":
        return ("add the channels:history and groups:history scopes (slack-manifest.yml) "
                "and reinstall the app")
    if code == "not_in_channel":
        return (f"invite the bot to {channel} (/invite @ainews): chat:write.public lets it "
                "post there without being a member, but only a member can read the history")
    if code in ("channel_not_found", "is_archived"):
        return ("the channel was deleted or archived, or the bot was removed from it: "
                "there is no scope or invite to add")
    return (f"Slack answered {code or 'with no reason'} (its API docs for "
            "conversations.history say what that means)")


def _posted_ts(resp, wanted: "Posted", bot_id: str) -> str | None:
    """The ts of our post on this page of history, if it is there."""
    for message in resp.get("messages") or []:
        # Another app could post our metadata; only our own bot's post counts.
        if message.get("bot_id") == bot_id and wanted.seen_in(message):
            return message["ts"]
    return None


class Posted:
    """What names our post of these briefs. Only a delivery's post counts (ainews_
    metadata: not a shared lookup, nor anything else the bot said), and of those the one
    with the nonce or the same set of stories (a roundup is its whole set). A post made
    before posts carried their stories has the nonce alone: a single story's is known by
    its link (the "Read the story" button, or the plain-text fallback's last line), as a
    Discord post is. The outbox makes one post per story and channel, and other people's
    links don't count: no one else can write into the bot's own messages."""

    def __init__(self, nonce: str, briefs: Sequence[Brief]):
        self.nonce, self.stories = nonce, _stories(briefs) if briefs else None
        self.link = safe_url(briefs[0].url) if len(briefs) == 1 else None

    def seen_in(self, message: dict) -> bool:
        meta = message.get("metadata") or {}
        if not str(meta.get("event_type", "")).startswith("ainews_"):
            return False
        payload = meta.get("event_payload") or {}
        if payload.get("nonce") == self.nonce:
            return True
        if "stories" in payload:
            return self.stories is not None and payload["stories"] == self.stories
        return self.link is not None and _link_of(message) == self.link


def _stories(briefs: Sequence[Brief]) -> str:
    return ",".join(sorted(b.id for b in briefs))


def _link_of(message: dict) -> str | None:
    """The story link a one-story post shows: its button's, or without blocks (the plain
    fallback) its last line's."""
    if message.get("blocks"):
        return next((e.get("url") for b in message["blocks"] if b.get("type") == "actions"
                     for e in b.get("elements") or [] if e.get("action_id") == READ_ACTION),
                    None)
    last = (message.get("text") or "").rsplit("\n", 1)[-1]
    if last.startswith("<") and last.endswith(">") and "|" not in last:
        return last[1:-1].replace("&amp;", "&")
    return None
