"""find_sent: did Discord take a post whose answer was lost? Mixed into
bot.discord.adapter.DiscordAdapter.

Every post carries its nonce with enforce_nonce, but Discord remembers a nonce for a few
minutes only. A retry within that window needs nothing more: its POST gets the earlier
post back. A later retry (the bot was down longer, or a fourth attempt ~13 minutes on)
reads the channel's history first. Discord's history shows no nonces, so the post is
recognised by what it shows: our bot's own message (not another bot's, not a slash
command's answer) with the same story link, or for a roundup the same stories. The
outbox makes one post per story and channel, so that message is the post. Reading needs
Read Message History; without it the retry posts as before (a possible duplicate, never
a lost story) and the log says so once per channel. No Message Content intent is needed:
Discord shows an app the content of its own messages."""
from __future__ import annotations

import logging
from contextlib import aclosing
from typing import Sequence

from bot.adapter import DeliveryError, RejectedError
from bot.discord.render import text_fallback
from bot.discord.render_roundup import digest_embeds
from bot.first_tries import epoch_ago
from feeds.models import Brief

log = logging.getLogger("ainews.discord")

# Discord says a nonce is checked "in the past few minutes"; taken as two, so a retry
# later than that looks in the history (one GET) rather than trust a forgotten nonce.
# Delivery's second attempt (a minute's backoff, after at most a 30 s timeout) is
# within it: the common retry costs no extra request.
NONCE_WINDOW = 120.0
CLOCK_SKEW = 300.0          # seconds: our clock against the one Discord stamps ids with
HISTORY_PAGE, HISTORY_PAGES = 100, 5     # Discord's largest page; 500 messages a way
DISCORD_EPOCH_MS = 1_420_070_400_000
# Answers to the history read that mean "can't look" (post anyway), not "channel gone".
HISTORY_UNREADABLE = {50001: "Missing Access", 50013: "Missing Permissions"}
DEFAULT_MESSAGE = 0         # a message type; replies to slash commands are 20, 19, 23


class SentLookup:
    """Uses the adapter's bot, _call, _channel, _cached_permissions and _first_try
    (bot.first_tries.FirstTries); keeps _warned_history."""
    nonce_window = NONCE_WINDOW
    # It tells a post by the stories it shows, not by a nonce: after `ainews restore`,
    # delivery asks it of posts the restored outbox never heard of (bot/retry.py).
    finds_by_story = True

    async def find_sent(self, channel: str, nonce: str, briefs: Sequence[Brief] = (), *,
                        tried_ago: float | None = None) -> str | None:
        """The id of our post of `briefs` (one for a post, a roundup's several) made by
        an earlier attempt, or None: none found, none possible within the nonce window,
        or the history unreadable. `tried_ago`: seconds since the first attempt, by the
        outbox (across restarts). When neither it nor this process knows when that was,
        the latest HISTORY_PAGES pages are read."""
        age = self._first_try.age(nonce, tried_ago)
        if not briefs or (age is not None and age < self.nonce_window):
            return None     # the retry's own POST gets the earlier post back
        self._channel(channel)     # not connected, or not a channel id: as the post would
        if self._history_hidden(channel):
            self._history_unreadable(channel, "no Read Message History permission")
            return None
        wanted, bot_id = Shown.of(briefs), str(self.bot.user.id)
        async with aclosing(self._pages(channel, age, nonce)) as pages:
            async for page in pages:
                found = next((m["id"] for m in page if _ours(m, bot_id) and wanted.seen_in(m)),
                             None)
                if found:
                    self._first_try.forget(nonce)
                    return str(found)
        return None

    async def _pages(self, channel: str, age: float | None, nonce: str):
        """Pages of history, each newest first: forward from a little before the first
        attempt (`age` seconds ago) when that is known, at most HISTORY_PAGES of them;
        then, or when that is not known, back from the newest, as many again, down to
        what the forward read saw. A later attempt may be the one Discord took, its post
        near the newest messages with more than a forward read's worth in between (the
        outbox keeps when the first attempt was, not the later ones)."""
        reach = _Reach()
        if age is not None:
            async for page in self._read(channel, reach, after=snowflake_at(
                    epoch_ago(age) - CLOCK_SKEW)):
                yield page
            if reach.ended:
                return
        async for page in self._read(channel, reach):
            yield page
        if not reach.ended:
            log.warning("discord: looked for %s in %d messages of channel %s and stopped "
                        "there; if Discord took it beyond those, it may appear twice", nonce,
                        reach.messages, channel)

    async def _read(self, channel: str, reach: "_Reach", **where):
        """At most HISTORY_PAGES pages from `where` (after an id: forward; else back from
        the newest, stopping at the newest message `reach` saw before). reach.ended: the
        messages ran out first, or the history can't be read."""
        forward, reach.ended = "after" in where, False
        for _ in range(HISTORY_PAGES):
            page = await self._history(channel, **where)
            if page is None:
                reach.ended = True
                return
            ids = [int(m["id"]) for m in page]
            reach.messages += len(page)
            yield page
            met = not forward and reach.newest and min(ids, default=0) <= reach.newest
            if len(page) < HISTORY_PAGE or met:
                reach.ended = True
                return
            reach.newest = max(reach.newest, *ids) if forward else reach.newest
            where = {"after": max(ids)} if forward else {"before": min(ids)}

    async def _history(self, channel: str, **where) -> list | None:
        """One page of the channel's messages, newest first; None when Discord won't let
        us read them (post anyway). A deleted channel, a 429 not waited out or a timeout
        raise as they would for the post itself."""
        try:
            return await self._call(channel, self.bot.http.logs_from(
                int(channel), HISTORY_PAGE, **where))
        except DeliveryError as exc:
            code = getattr(exc.__cause__, "code", None)
            # A lookup refused says nothing of the post: pausing the channel or failing
            # the post for it would lose a story that was never refused.
            if code in HISTORY_UNREADABLE or isinstance(exc, RejectedError):
                self._history_unreadable(channel, f"{HISTORY_UNREADABLE[code]}, code {code}"
                                         if code in HISTORY_UNREADABLE else exc.reason)
                return None
            raise

    def _history_hidden(self, channel: str) -> bool:
        """The bot may not read the channel's history, by the permissions discord.py has
        cached. Discord answers such a read with no messages, not an error: "not found"
        would then be said of every post, and the missing permission never."""
        perms = self._cached_permissions(channel)
        # Not known here: read, as the post is tried anyway.
        return perms is not None and not perms.read_message_history

    def _history_unreadable(self, channel: str, why: str) -> None:
        if channel in self._warned_history:
            return
        self._warned_history.add(channel)
        log.warning("discord: can't read the message history of channel %s (%s), so a post "
                    "retried after a crash or lost answer more than a few minutes on may "
                    "appear twice; give the bot the Read Message History permission there "
                    "to close the gap", channel, why)


class _Reach:
    """How far find_sent's reads went: messages read, the newest id read forward, and
    whether the last read ran out of messages (or could not read) before its pages."""

    def __init__(self):
        self.messages, self.newest, self.ended = 0, 0, False


def snowflake_at(epoch_seconds: float) -> int:
    """The smallest Discord id of a message made at that time (ids start with it)."""
    return max(0, int(epoch_seconds * 1000) - DISCORD_EPOCH_MS) << 22


def _ours(message: dict, bot_id: str) -> bool:
    # Only what the bot posted itself over REST: another bot's post, a webhook's, or the
    # bot's answer to a slash command or "Post to channel" (a user put that there) is
    # not the post, however alike. A wrong "already posted" would lose the story.
    return (str((message.get("author") or {}).get("id")) == bot_id
            and message.get("type", DEFAULT_MESSAGE) == DEFAULT_MESSAGE
            and not message.get("webhook_id") and not message.get("interaction_metadata")
            and not message.get("interaction"))


class Shown:
    """What a post of these briefs shows that names its stories: each embed's story link
    (or, without one, its text), and for a single brief the plain-text fallback's last
    line (the link), which AutoMod may have made it. Headlines are left out: a story
    edited between two attempts keeps its link but not its headline."""

    def __init__(self, embeds: list[str], text: str | None):
        self.embeds, self.text = sorted(embeds), text

    @classmethod
    def of(cls, briefs: Sequence[Brief]) -> "Shown":
        embeds = [embed_key(e.to_dict()) for e in digest_embeds("", briefs)]
        text = text_fallback(briefs[0]).rsplit("\n", 1)[-1] if len(briefs) == 1 else None
        return cls(embeds, text)

    def seen_in(self, message: dict) -> bool:
        # Our posts' embeds are "rich"; Discord adds "link" previews to a text post.
        rich = [e for e in message.get("embeds") or [] if e.get("type", "rich") == "rich"]
        if rich:
            return sorted(map(embed_key, rich)) == self.embeds
        content = message.get("content") or ""
        return self.text is not None and content.rsplit("\n", 1)[-1] == self.text


def embed_key(embed: dict) -> str:
    """The story link an embed shows: its title's, or the Link field's (a headline that
    names another address); a list of headlines (a roundup of more than 10), its text."""
    link = next((f.get("value") for f in embed.get("fields") or []
                 if f.get("name") == "Link"), None)
    return embed.get("url") or link or embed.get("description") or embed.get("title") or ""
