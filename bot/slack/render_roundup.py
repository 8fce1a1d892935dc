"""Roundups -> Slack Block Kit payloads: a header and a line per story, every headline
shown within Slack's total for a post (MAX_MESSAGE_TEXT), links where they fit whole.
Pure, as render.py, whose escaping and blocks it uses."""
from __future__ import annotations

from typing import Sequence

from bot.roundup_text import roundup_text
from bot.slack.render import (MAX_BLOCKS, MAX_FALLBACK, MAX_MESSAGE_TEXT, MAX_SECTION,
                              escape, fit, header, headline_text, mrkdwn, safe_url, section,
                              text_size, url_text, utf16_len)
from feeds.hostile import spoofed_link
from feeds.models import Brief


def digest_line(brief: Brief, room: int = MAX_SECTION, link_room: int | None = None) -> str:
    """The brief as a roundup's line, in `room`; its link only if it adds at most
    `link_room` (None: whatever the section has left)."""
    headline = fit(escape(" ".join(brief.headline.split()) or "(untitled)"),
                   min(500, room // 2))
    meta = [escape(brief.source)] if brief.source else []
    meta += [escape(", ".join(brief.companies[:4]))] if brief.companies else []
    meta_line = fit(" · ".join(meta), min(1000, room - utf16_len(headline) - 8))
    # A link only if it fits whole: a cut inside <url|label> leaves a broken token.
    url = safe_url(brief.url)
    left = MAX_SECTION - utf16_len(headline) - utf16_len(meta_line) - 8
    if link_room is not None:
        left = min(left, link_room - 3)      # "<", "|" and ">" (or " <" and ">")
    if not url or len(url_text(url)) > left:
        title = f"*{headline}*"
    elif spoofed_link(brief.headline, headline, url):   # "paypal.com ..." over another address
        title = f"*{headline}* <{url_text(url)}>"
    else:
        title = f"*<{url_text(url)}|{headline}>*"
    return title + ("\n" + meta_line if meta_line else "")


def digest_lines(briefs: Sequence[Brief], budget: int | None) -> list[str]:
    """A line per brief, within `budget` characters in all (None: no total). Every
    headline shows, cut to an equal share; links go to the shortest first while they
    fit, so a few very long ones (tracking URLs, up to MAX_URL) lose theirs alone."""
    if budget is None:
        return [digest_line(b) for b in briefs]
    share = budget // max(1, len(briefs))
    lines = [digest_line(b, share, link_room=0) for b in briefs]
    spare = budget - sum(map(utf16_len, lines))
    for i in sorted(range(len(briefs)),
                    key=lambda i: len(url_text(safe_url(briefs[i].url) or ""))):
        linked = digest_line(briefs[i], share, link_room=spare)
        spare -= utf16_len(linked) - utf16_len(lines[i])
        lines[i] = linked
    return lines


def digest_blocks(title: str, briefs: Sequence[Brief], *, room: int = MAX_BLOCKS,
                  text_room: int | None = None) -> list[dict]:
    """Header + one section per brief, within `text_room` characters in all (None: no
    total); the overflow is counted, never dropped silently."""
    blocks, tail = [header(title)], []
    shown = list(briefs[: room - 2]) if len(briefs) > room - 1 else list(briefs)
    if len(shown) < len(briefs):
        more = len(briefs) - len(shown)
        tail.append({"type": "context", "elements": [mrkdwn(f"…and {more} more")]})
    budget = None if text_room is None else text_room - text_size(blocks + tail)
    return blocks + [section(line) for line in digest_lines(shown, budget)] + tail


def digest_text(title: str, briefs: Sequence[Brief]) -> str:
    """The roundup's `text`: all a phone's push notification and a screen reader get
    of it, so it names its first stories, not their count alone."""
    named, more = roundup_text(escape(title), briefs, headline_text)
    return fit(named, MAX_FALLBACK - utf16_len(more)) + more   # the count of the rest kept


def digest_message(title: str, briefs: Sequence[Brief]) -> dict:
    """chat.postMessage arguments for a roundup, within Slack's total for a post."""
    return {"text": digest_text(title, briefs),
            "blocks": digest_blocks(title, briefs, text_room=MAX_MESSAGE_TEXT),
            "unfurl_links": False, "unfurl_media": False}

