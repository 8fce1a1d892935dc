"""Command replies -> Discord send_message/followup arguments: outside text inert, our
examples as inline code, briefs as embeds. Pure, as render.py, whose escaping and embeds
it uses."""
from __future__ import annotations

import functools

import discord

from bot.discord import syntax
from bot.discord.render import (CONTENT_MAX, DEFAULT_COLOUR, DESCRIPTION_MAX,
                                EMBEDS_PER_MESSAGE, brief_embeds, clip, inert, plain)
from bot.examples import Example
from bot.replies import Reply


@functools.lru_cache(maxsize=512)
def example_code(example: Example) -> str:
    """An example as inline code, as the user types it: `/company name:Alibaba`. Ours,
    but a value may come from stored data (a subscription's target): one with a
    backtick or a line break could end the code early, so it is shown inert instead."""
    text = syntax.spell(example)
    if "`" in text or "\n" in text:
        return inert(text)
    return f"`{plain(text)}`"


def reply_text(reply: Reply) -> str:
    """The reply's text as markdown: outside text inert, our examples as code."""
    return reply.said(example_code, inert)


def reply_payload(reply: Reply) -> dict:
    """A Reply as send_message/followup keyword arguments (content, embeds, ephemeral)."""
    if reply.kind == "briefs" and reply.briefs:
        # The title, and a note on how to read the briefs when there is one.
        head = "\n".join(([inert(reply.title)] if reply.title else [])
                         + ([reply_text(reply)] if reply.text else []))
        embeds = brief_embeds(reply.briefs)
        # A message holds 10 embeds; the core allows up to 25 (`/topic pricing 20`,
        # `/company name:alibaba 20`): say how many are left out, never drop them unsaid.
        more = (f"Showing {len(embeds)} of {len(reply.briefs)}: a Discord message holds "
                f"{EMBEDS_PER_MESSAGE}." if len(reply.briefs) > len(embeds) else "")
        if more:
            head = clip(head, CONTENT_MAX - len(more) - 1) + "\n" + more if head else more
        return {"content": clip(head, CONTENT_MAX) or None,
                "embeds": embeds, "ephemeral": reply.ephemeral}
    text = reply_text(reply) if reply.text else inert(reply.title or "Nothing to show.")
    if reply.kind == "error":
        text = "⚠️ " + text
    if len(text) > CONTENT_MAX:  # long lists (feeds, topics) fit an embed's 4,096
        embed = discord.Embed(description=clip(text, DESCRIPTION_MAX), colour=DEFAULT_COLOUR)
        return {"content": None, "embeds": [embed], "ephemeral": reply.ephemeral}
    return {"content": text, "embeds": [], "ephemeral": reply.ephemeral}
