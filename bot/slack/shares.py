"""A lookup shared into the channel once: the "Share in channel" button's private answer
loses its button when the share is posted, and a second click that came before that
(a double click) is told "Already posted to the channel.", as in Discord."""
from __future__ import annotations

from bot.replies import Reply
from bot.slack import render_reply

# Sent to the click's response_url after the share: Slack replaces the private answer it
# came from, ephemeral or not (Slack's "Modifying messages"), with this line alone.
SHARED = {"text": "Shared in the channel.", "replace_original": True}
ALREADY = {**render_reply.reply_message(Reply.message("Already posted to the channel.")),
           "replace_original": False}


def answer_key(body: dict) -> tuple[str, str] | None:
    """The private answer a click came from, as Slack names it (channel, message ts);
    None when the click doesn't say."""
    container = body.get("container") or {}
    ts = container.get("message_ts")
    return (str(container.get("channel_id") or ""), str(ts)) if ts else None


class Shares:
    """Answers shared lately: the clicks of a double click both arrive before the first
    share took the button away. Kept in memory; after a restart the button is gone."""

    REMEMBER = 1000

    def __init__(self):
        self._shared: dict[tuple[str, str], None] = {}    # insertion-ordered: oldest first

    def take(self, key: tuple[str, str] | None) -> bool:
        """True if the answer `key` names may be shared now (and is taken); False if it
        was. An answer the click doesn't name is always shared, as before."""
        if key is None:
            return True
        if key in self._shared:
            return False
        self._shared[key] = None
        if len(self._shared) > self.REMEMBER:
            del self._shared[next(iter(self._shared))]
        return True

    def give_back(self, key: tuple[str, str] | None) -> None:
        """Nothing was posted (the lookup failed, Slack refused it): clickable again."""
        if key is not None:
            self._shared.pop(key, None)
