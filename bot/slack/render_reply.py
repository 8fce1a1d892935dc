"""Command replies -> Slack respond() payloads: text, errors, or briefs in full (headlines
only when they don't fit one message), with a button to share a lookup in the channel.
Pure, as render.py, whose escaping and blocks it uses."""
from __future__ import annotations

import json

from bot.replies import Reply
from bot.slack.render import (MAX_BLOCKS, MAX_BRIEF_BLOCKS, MAX_CONTEXT, MAX_FALLBACK,
                              MAX_SECTION, MAX_VALUE, bold, brief_blocks, button, escape,
                              fallback_text, fit, mrkdwn, plain, plain_section, section,
                              utf16_len)
from bot.slack.render_roundup import digest_blocks
from bot.slack.syntax import spell
from feeds.plural import count

# Briefs a lookup always shows in full: a brief is at most MAX_BRIEF_BLOCKS and a
# divider, beside the title, a note, the share button and "Shared by" (reply_blocks,
# reply_message).
ALWAYS_FULL = (MAX_BLOCKS - 4 + 1) // (MAX_BRIEF_BLOCKS + 1)

SHARE_ACTION = "ainews_share"


def share_value(command: str, args: str) -> str | None:
    """The share button carries the lookup to re-run; None if it can't fit."""
    value = json.dumps({"cmd": command, "args": args}, ensure_ascii=False)
    return value if len(value) <= MAX_VALUE else None


def text_sections(text: str) -> list[dict]:
    """Long text split at line breaks into plain_text sections of at most MAX_SECTION."""
    if not text.strip():
        return [plain_section("(nothing to show)")]
    chunks, current = [], ""
    for line in plain(text).splitlines() or [""]:
        candidate = f"{current}\n{line}" if current else line
        if current and utf16_len(candidate) > MAX_SECTION:
            chunks.append(current)
            candidate = line
        current = candidate
    chunks.append(current)
    return [plain_section(c) for c in chunks[: MAX_BLOCKS - 2]]


def reply_body(reply: Reply) -> str:
    """The reply's text with its command examples as Slack users type them. Plain text:
    backticks would show as they are, so an example is just the command."""
    return reply.said(spell)


def reply_blocks(reply: Reply, *, share: str | None = None) -> list[dict]:
    if reply.kind == "error":
        return [plain_section(":warning: " + reply_body(reply))]
    if reply.kind != "briefs":
        return text_sections(reply_body(reply))
    blocks = [section(bold(reply.title, MAX_SECTION))] if reply.title.strip() else []
    if not reply.briefs:
        return blocks + text_sections(reply_body(reply) or "Nothing found.")
    if reply.text.strip():     # a note on how to read them
        blocks.append({"type": "context",
                       "elements": [mrkdwn(escape(reply_body(reply)), MAX_CONTEXT)]})
    full = [brief_blocks(b) for b in reply.briefs]
    if len(blocks) + sum(len(f) + 1 for f in full) + 1 > MAX_BLOCKS:
        # Said, or `/latest 10` read as a broken bot: the bullets of `/latest 5` gone.
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"Headlines only: the bullets of {count(len(reply.briefs), 'story')} don't fit "
            f"in one Slack message; {ALWAYS_FULL} or fewer show in full.")]})
        blocks += digest_blocks("", reply.briefs, room=MAX_BLOCKS - len(blocks) - 1)[1:]
    else:
        for i, f in enumerate(full):
            blocks += ([{"type": "divider"}] if i else []) + f
    if share:
        blocks.append({"type": "actions", "elements": [
            button("Share in channel", SHARE_ACTION, value=share, style="primary")]})
    return blocks


def reply_text(reply: Reply) -> str:
    if reply.kind == "briefs" and reply.briefs:
        first = fallback_text(reply.briefs[0])
        return fit(escape(reply.title) + ": " + first if reply.title else first, MAX_FALLBACK)
    return fit(escape(reply_body(reply) or reply.title or "Done."), MAX_FALLBACK)


def reply_message(reply: Reply, *, share: str | None = None,
                  in_channel: bool | None = None, note: str = "") -> dict:
    """respond() arguments for a command's Reply. `note` is our own trusted mrkdwn."""
    blocks = reply_blocks(reply, share=share if reply.shareable else None)
    if note:
        blocks = blocks[: MAX_BLOCKS - 1] + [{"type": "context", "elements": [mrkdwn(note)]}]
    visible = (not reply.ephemeral) if in_channel is None else in_channel
    return {"text": reply_text(reply), "blocks": blocks,
            "response_type": "in_channel" if visible else "ephemeral",
            "unfurl_links": False, "unfurl_media": False}


