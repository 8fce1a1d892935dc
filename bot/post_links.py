"""A chat message's own link -> the post of ours it is, for `why`.

Asked why a post went out, people copy the post's link: Slack's "Copy link" or Discord's
"Copy Message Link". A Slack post shows its story's link only behind a button, which
can't be copied, so the message link is often the only one a Slack user has. Each
platform reads its own links (its traits' `message_id`, bot/platforms.py), to the
message id as its adapter records it in the outbox."""
from __future__ import annotations

from bot.platforms import registry


def message_of(link: str) -> tuple[str, str] | None:
    """(platform, message id as the outbox keeps it) of a platform's message link;
    None for any other text."""
    for platform in registry().values():
        if message := platform.message_id(link):
            return platform.name, message
    return None
