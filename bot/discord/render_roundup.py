"""Roundups -> Discord messages: the text a notification shows, naming the first stories,
and full embeds when they fit one message, else one compact list of headlines. Pure, as
render.py, whose escaping and embeds it uses."""
from __future__ import annotations

from typing import Sequence

import discord

from bot.roundup_text import roundup_text
from bot.discord.render import (DEFAULT_COLOUR, DESCRIPTION_MAX, EMBED_TOTAL_MAX,
                                EMBEDS_PER_MESSAGE, TITLE_MAX, brief_embeds, clip, inert,
                                safe_url, without_cards)
from feeds.hostile import spoofed_link
from feeds.models import Brief
from feeds.plural import count


ROUNDUP_CONTENT_MAX = 600   # a notification's few lines
ROUNDUP_NAME_MAX = 150      # one story's "Headline (Source)" there


def digest_content(title: str, briefs: Sequence[Brief]) -> str:
    """A roundup's text beside its embeds: its title alone named no story in a push
    notification. "Title: 5 stories: Headline (Source); ...; …and 2 more", inert and
    short, a link a headline names in <...> (no preview card under the roundup)."""
    named, more = roundup_text(inert(title) or "Digest", briefs, _named)
    # The <> lengthen the line: cut the names to fit with them, the count kept whole.
    return without_cards(named, ROUNDUP_CONTENT_MAX - len(more)) + more


def _named(brief: Brief) -> str:
    line = inert(brief.headline) or "(untitled)"
    return clip(f"{line} ({inert(brief.source)})" if brief.source else line, ROUNDUP_NAME_MAX)


def digest_embeds(title: str, briefs: Sequence[Brief]) -> list[discord.Embed]:
    """A roundup: full embeds when they fit in one message, else one compact list."""
    if len(briefs) <= EMBEDS_PER_MESSAGE:
        return brief_embeds(briefs)
    return [headline_list(title, briefs)]


def headline_list(title: str, briefs: Sequence[Brief]) -> discord.Embed:
    """One embed listing headlines with links, cut where the description is full."""
    lines, used = [], 0
    title_text = clip(inert(title) or "Digest", TITLE_MAX)
    room = min(DESCRIPTION_MAX, EMBED_TOTAL_MAX - len(title_text) - 100)
    for i, brief in enumerate(briefs):
        line = _headline_line(brief)
        more = f"… and {len(briefs) - i} more"
        if used + len(line) + 1 > room - len(more) - 1:
            lines.append(more)
            break
        lines.append(line)
        used += len(line) + 1
    embed = discord.Embed(title=title_text, description="\n".join(lines),
                          colour=DEFAULT_COLOUR)
    embed.set_footer(text=count(len(briefs), "story"))
    return embed


def _headline_line(brief: Brief) -> str:
    # Our own masked link to the story's own URL; brackets in the headline are escaped
    # so it cannot end the link text early.
    headline = clip(inert(brief.headline), 200).replace("[", "\\[").replace("]", "\\]")
    url = safe_url(brief.url)
    source = clip(inert(brief.source), 60)   # a description renders markdown: not plain()
    if url:
        url = url.replace("(", "%28").replace(")", "%29")
    shown = url and not spoofed_link(brief.headline, headline, url)   # "paypal.com ..." elsewhere
    line = f"• [{headline}]({url})" if shown else f"• {headline}"
    line += f" ({source})" if source else ""
    return line + (f" <{url}>" if url and not shown else "")
