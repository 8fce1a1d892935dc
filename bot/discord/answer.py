"""Answering an interaction: a Reply sent as Discord's answer (respond, refuse) and the
"Post to channel" button under an ephemeral lookup (ShareView)."""
from __future__ import annotations

from typing import Any

import discord

from bot.discord.interaction import caller_for, in_thread
from bot.discord.render_reply import reply_payload
from bot.replies import Reply
from bot.shares import ALREADY_SHARED, Shares

NO_MENTIONS = discord.AllowedMentions.none()


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
