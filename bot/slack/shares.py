"""A lookup shared into the channel once: the "Share in channel" button's private answer
loses its button when the share is posted, and a second click that came before that
(a double click) is told "Already posted to the channel.", as in Discord (bot/shares.py)."""
from __future__ import annotations

from bot.replies import Reply
from bot.shares import ALREADY_SHARED, Shares
from bot.slack import render_reply

__all__ = ["ALREADY", "SHARED", "Shares", "answer_key"]

# Sent to the click's response_url after the share: Slack replaces the private answer it
# came from, ephemeral or not (Slack's "Modifying messages"), with this line alone.
SHARED = {"text": "Shared in the channel.", "replace_original": True}
ALREADY = {**render_reply.reply_message(Reply.message(ALREADY_SHARED)),
           "replace_original": False}


def answer_key(body: dict) -> tuple[str, str] | None:
    """The private answer a click came from, as Slack names it (channel, message ts);
    None when the click doesn't say."""
    container = body.get("container") or {}
    ts = container.get("message_ts")
    return (str(container.get("channel_id") or ""), str(ts)) if ts else None
