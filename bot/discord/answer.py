"""Answering an interaction: a Reply sent as Discord's answer (respond, refuse), the
"Post to channel" button under an ephemeral lookup (ShareView), and an interaction
Discord no longer takes an answer for (too_late)."""
from __future__ import annotations

import logging
from typing import Any

import discord

from bot.discord.interaction import caller_for, in_thread
from bot.discord.render_reply import reply_payload
from bot.replies import Reply
from bot.shares import ALREADY_SHARED, Shares

NO_MENTIONS = discord.AllowedMentions.none()
UNKNOWN_INTERACTION = 10062   # Discord's answer once its 3 s for the first one are over

log = logging.getLogger("ainews.discord")


class ShareView(discord.ui.View):
    """The "Post to channel" button under an ephemeral lookup.

    Persistent: one instance, registered at start (AinewsBot.setup_hook), answers every
    click by re-posting the message the button is on, which Discord sends with the
    click. So a button works however long its answer stays open and across restarts,
    and nothing is kept in memory per lookup."""

    def __init__(self, core=None):
        super().__init__(timeout=None)
        self.shared = Shares()   # answers shared lately: a double click doesn't post twice
        self.core = core    # the chat core: a click counts as a command (too_fast)

    @discord.ui.button(label="Post to channel", style=discord.ButtonStyle.primary,
                       custom_id="ainews:share")
    async def share(self, interaction: discord.Interaction, button: discord.ui.Button):
        shown = interaction.message   # ours, rendered inert when it was sent
        slow = self.core.too_fast(caller_for(interaction)) if self.core else None
        if slow is not None:
            return await respond(interaction, slow)
        if not may_post(interaction):
            return await respond(interaction, Reply.error(CANT_POST))
        if not self.shared.take(shown.id):
            return await respond(interaction, Reply.message(ALREADY_SHARED))
        await interaction.response.send_message(
            content=shown.content or None, embeds=shown.embeds, allowed_mentions=NO_MENTIONS)

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item) -> None:
        """A click answered too late (too_late) posted nothing: one line, and the answer
        may be shared by the next click. Anything else as discord.py says it."""
        if not too_late(error):
            return await super().on_error(interaction, error, item)
        self.shared.give_back(getattr(interaction.message, "id", None))
        log.warning("discord: a click on Post to channel came too late to answer: Discord "
                    "takes one within 3 s (a slow link, or a click Discord sent again after "
                    "the gateway reconnected); the user saw \"This interaction failed\"")


# Anyone may run a lookup (Use Application Commands), in a read-only channel too.
CANT_POST = "You can't post in this channel, so this answer stays visible to you only."


def may_post(interaction: discord.Interaction) -> bool:
    """Whether the member clicking "Post to channel" may post where it is: the bot
    posts for them, so not in a channel (#announcements) where they may only read."""
    if interaction.guild_id is None:  # a DM: Discord sends no permissions, none apply
        return True
    perms = interaction.permissions   # the clicker's in this channel, overwrites applied
    send = "send_messages_in_threads" if in_thread(interaction) else "send_messages"
    return bool(perms.administrator or getattr(perms, send))


def share_button() -> ShareView:
    """The button for one answer; stopped, so discord.py doesn't keep it (the persistent
    instance takes the clicks)."""
    view = ShareView()
    view.stop()
    return view


async def respond(interaction: discord.Interaction, reply: Reply) -> None:
    """Send a Reply as the interaction's answer (or follow-up, when we deferred)."""
    payload = reply_payload(reply)
    extra: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    extra["suppress_embeds"] = not payload["embeds"]   # a link in text: no preview card
    if reply.shareable and reply.ephemeral and payload["embeds"]:
        extra["view"] = share_button()
    if interaction.response.is_done():
        await interaction.followup.send(**_followup(payload), **extra)
    else:
        await interaction.response.send_message(**payload, **extra)


def _followup(payload: dict) -> dict:
    # Webhook.send treats None differently from "not given"; drop the empty parts.
    return {k: v for k, v in payload.items() if v not in (None, [])}


async def refuse(interaction: discord.Interaction, why: str) -> None:
    """The core's refusal (who may, as in Slack), before the core is called at all."""
    await respond(interaction, Reply.error(why))


def too_late(error: BaseException | None) -> bool:
    """Discord refused the answer as too late: the interaction reached the bot, or its
    answer Discord, after Discord's 3 s (a slow link; an interaction Discord replays
    when the gateway resumes after a drop). discord.py wraps a command's in
    CommandInvokeError."""
    error = getattr(error, "original", error)
    return isinstance(error, discord.NotFound) and error.code == UNKNOWN_INTERACTION


def quiet_late_suggestions(record: logging.LogRecord) -> bool:
    """A filter for discord.py's command tree logger, which logs a suggestion (an
    autocomplete, sent at every keystroke) answered too late with its traceback at
    ERROR: the user typed on or saw none; a debug line of ours instead."""
    error = record.exc_info[1] if record.exc_info else None
    if not (record.getMessage().startswith("Ignoring exception in autocomplete")
            and too_late(error)):
        return True
    log.debug("discord: a suggestion came too late to answer (%s)", error)
    return False
