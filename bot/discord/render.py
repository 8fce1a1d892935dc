"""Brief -> Discord embeds, inside Discord's limits, with feed text made inert; roundups
are rendered by render_roundup.py and command replies by render_reply.py, with these.

Everything from a feed is untrusted: markdown is escaped, mentions are broken with a
zero-width space and masked links `[text](url)` are shown as `text (url)`, so nothing
can ping a channel or disguise where a link goes. Limits are enforced after escaping
(escaping makes text longer).
"""
from __future__ import annotations

import re
from typing import Sequence
from urllib.parse import urlsplit

import discord

from feeds.headline import cut_at_word
from feeds.hostile import spoofed_link
from feeds.models import Brief
from feeds.url_display import link_url, target_url

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000          # Discord counts this across all embeds of one message
EMBEDS_PER_MESSAGE = 10
CONTENT_MAX = 2000
WHY, TOPICS = "Why it matters", "Topics"     # a brief's field names, Slack's labels
LINK = "Link"
AUTHOR_MAX = 256
URL_MAX = 2048

DEFAULT_COLOUR = 0x5865F2       # Discord blurple: no topic, or a user-defined one
TOPIC_COLOURS = {
    "open-source": 0x2ECC71, "pricing": 0xF1C40F, "funding": 0x1ABC9C,
    "acquisitions": 0xE67E22, "partnerships": 0x3498DB, "chips": 0x9B59B6,
    "policy": 0xE74C3C, "models": 0x00B0F4, "leadership": 0x95A5A6,
    "enterprise": 0x34495E, "china": 0xC0392B,
}

ZWSP = "\u200b"
_MASKED_LINK = re.compile(r"\[([^\[\]]*)\]\(\s*<?([^()<>\s]*)>?(?:\s+[^()]*)?\)")
# <@user> <@&role> <#channel> </command:id> <:emoji:id> <a:emoji:id> <t:time> and
# <id:customize> (a link into the server's own pages)
_MENTION_LIKE = re.compile(r"<(?=[@#/:]|a:|t:|id:)")
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
# Discord's parser reads a lone CR as a line break (and a reader sees U+2028/9 as one);
# escape_markdown's "^" only knows "\n": a "\r# x" stayed a heading.
_LINE_BREAK = re.compile(r"\r\n?|[\u2028\u2029]")
# An indent a reader doesn't see as text: spaces of any width, invisible format marks.
_INDENT = r"(?:[^\S\n]|[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff])+"
# escape_markdown puts its backslash before the indent of "  - item" lines, where
# Discord shows it; before the marker it escapes the same list and stays hidden.
_INDENTED_MARKER = re.compile(rf"^\\({_INDENT})(?=[-*+])")
# It escapes "# heading" and "> quote" only in the first column; Discord renders
# them indented too ("  # x", "\u00a0> x").
_INDENTED_BLOCK = re.compile(rf"^({_INDENT})(?=#{{1,3}}\s|>|-)")
# A numbered list ("1. x", indented too), which escape_markdown leaves alone. ("+ x" is
# no list in Discord: its list rule takes "-", "*" and numbers only.)
_NUMBERED = re.compile(rf"^((?:{_INDENT})?\d+)\.(?=\s)")


def neutralise_links(text: str) -> str:
    """`[Google](http://evil)` -> `Google (http://evil)`: the real target stays visible."""
    for _ in range(5):  # nested tricks like [[a](b)](c) unwrap one layer per pass
        new = _MASKED_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
        if new == text:
            break
        text = new
    return text


# A URL Discord links in text (its client's pattern). escape_markdown leaves it alone: one
# whose text is not where it goes ("https://paypal.com@evil.example", "https://pаypal.com")
# was a live link that read as PayPal's.
_AUTOLINK = re.compile(r"(?:https?|steam)://[^\s<]+[^<.,:;\"')\]\s]", re.IGNORECASE)


def inert(text: str) -> str:
    """Untrusted text -> text Discord shows literally (no pings, links or formatting); a
    URL, which Discord links, reads as where it goes (feeds.url_display.target_url)."""
    text = neutralise_links(_LINE_BREAK.sub("\n", text or ""))
    if "://" in text:
        text = _AUTOLINK.sub(lambda m: unmentioned(target_url(m.group())), text)
    text = "\n".join(_escape_line(line) for line in text.split("\n"))
    text = _MASS_MENTION.sub(lambda m: "@" + ZWSP + m.group(1), text)
    text = _MENTION_LIKE.sub("<" + ZWSP, text)
    return text.replace("](", "]" + ZWSP + "(")


def _escape_line(line: str) -> str:
    """One line escaped: escape_markdown's "^\\s*-" ran across line breaks, so a line
    "-# x" after a break got its backslash before the break (shown) and stayed subtext."""
    line = discord.utils.escape_markdown(line)
    line = _INDENTED_MARKER.sub(lambda m: m.group(1) + "\\", line)
    line = _NUMBERED.sub(lambda m: m.group(1) + "\\.", line)
    return _INDENTED_BLOCK.sub(lambda m: m.group(1) + "\\", line)


def plain(text: str) -> str:
    """For places Discord shows without markdown (footer, thread name): no escaping,
    which would show as backslashes; mentions and masked links are still broken."""
    text = neutralise_links(" ".join((text or "").split()))
    text = _MASS_MENTION.sub(lambda m: "@" + ZWSP + m.group(1), text)
    return _MENTION_LIKE.sub("<" + ZWSP, text)


def clip(text: str, limit: int) -> str:
    """Cut to `limit` characters with an ellipsis, at a word boundary where there is one
    (feeds.headline.cut_at_word), never leaving a dangling escape."""
    if len(text) <= limit:
        return text
    if limit < 1:           # no room: "…" alone would still be one character too many
        return ""
    cut = text[:limit - 1]
    if cut:
        cut = cut_at_word(cut, text[len(cut)])
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut.rstrip() + "…"


def safe_url(url: str) -> str | None:
    """Only http(s) links with a host go into an embed; anything else is dropped. The
    address is shown as text (Link field, roundup lines, text fallback): unmentioned."""
    url = link_url(url, URL_MAX)
    return unmentioned(url) if url else None


def unmentioned(url: str) -> str:
    """"https://social.example/@everyone/1" -> ".../@%65veryone/1": a handle in an address
    read as a ping wherever the address is text, and a zero-width space would break the
    link; a letter and its %-escape are the same address (RFC 3986, 2.3). ("<@123>" needs
    nothing: link_url and the autolink pattern never keep a "<".)"""
    return _MASS_MENTION.sub(lambda m: f"@%{ord(m.group(1)[0]):02X}{m.group(1)[1:]}", url)


def topic_colour(topics: Sequence[str]) -> int:
    return TOPIC_COLOURS.get(topics[0], DEFAULT_COLOUR) if topics else DEFAULT_COLOUR


def brief_embed(brief: Brief, budget: int = EMBED_TOTAL_MAX) -> discord.Embed:
    """One brief as an embed of at most `budget` counted characters.

    Each part gets a share of the budget (a full digest has 600 per embed); what the
    short parts leave unused goes to the bullets. The title's share holds a whole
    headline (MAX_HEADLINE) even then: a tenth cut ten headlines at 60 characters."""
    title = clip(inert(brief.headline) or "(untitled)", min(TITLE_MAX, budget // 5))
    footer = clip(_footer(brief), min(FOOTER_MAX, budget // 10))
    # A generated line ("Context: Baidu · pricing") states no consequence and repeats the
    # footer's companies and the Topics field: left out, as Slack leaves it out.
    why = "" if brief.why_is_generated else \
        clip(inert(brief.why_it_matters), min(FIELD_VALUE_MAX, budget // 4))
    # "Topics", as Slack labels them (a "Context" field here told them apart).
    topics = clip(inert(", ".join(brief.topics)), min(FIELD_VALUE_MAX, budget // 10))
    title_url, shown_url = _title_link(brief, title)
    used = len(title) + len(footer) + _field_size(WHY, why) + _field_size(TOPICS, topics)
    link, author = _link_within(shown_url, budget - used)
    used += _field_size(LINK, link) + len(author)
    embed = discord.Embed(
        title=title, url=title_url,
        description=_bullets_within(brief, min(DESCRIPTION_MAX, budget - used)),
        colour=topic_colour(brief.topics), timestamp=brief.published,
    )
    if author:
        embed.set_author(name=author, url=shown_url)
    if why:
        embed.add_field(name=WHY, value=why, inline=False)
    if topics:
        embed.add_field(name=TOPICS, value=topics, inline=False)
    if link:
        embed.add_field(name=LINK, value=link, inline=False)
    if footer:
        embed.set_footer(text=footer)
    return embed


def _field_size(name: str, value: str | None) -> int:
    return len(name) + len(value) if value else 0


def _link_within(url: str | None, room: int) -> tuple[str | None, str]:
    """(the Link field's text, the author line's) for a story address shown beside a
    title that can't carry it. The bullets give way to the field first; a link is never
    cut (a cut one is a wrong address), so one that won't fit (a 400-character Google
    News link in a ten-brief message) is the author line's link, named by its host."""
    if not url:
        return None, ""
    if _field_size(LINK, url) <= min(room, len(LINK) + FIELD_VALUE_MAX):
        return url, ""
    return None, clip(urlsplit(url).hostname or "", min(AUTHOR_MAX, room))


def _bullets_within(brief: Brief, room: int) -> str | None:
    """The bullets cut to `room`, without a bullet the cut left empty ("•…")."""
    lines = clip(_bullets(brief), room).split("\n")
    while lines and not lines[-1].strip("•… "):
        lines.pop()
    return "\n".join(lines) or None


def _title_link(brief: Brief, title: str) -> tuple[str | None, str | None]:
    """(the title's link, a link to show beside it): the story's address goes on the
    title unless the headline names another address ("paypal.com: verify ..."), which
    would make the title a spoofed link; then it is shown as itself."""
    url = safe_url(brief.url)
    if not url or not spoofed_link(brief.headline, title, url):
        return url, None
    return None, url


def _bullets(brief: Brief) -> str:
    lines = [f"• {inert(b)}" for b in brief.bullets if b.strip()]
    if not lines and brief.dek:
        lines = [inert(brief.dek)]
    return "\n".join(lines)


def _footer(brief: Brief) -> str:
    parts = [brief.source] if brief.source else []
    if brief.companies:
        parts.append(", ".join(brief.companies))
    if brief.also_reported_by:
        parts.append("also reported by " + ", ".join(brief.also_reported_by))
    return plain(" · ".join(parts))


def post_content(brief: Brief) -> str:
    """A post's text beside its embed, "Headline — Source": all a push notification
    shows, and all a member who turned embeds off sees. Without the story's link, which
    would add Discord's preview card of the article under the embed; a link the text
    itself names is shown in <...>, which Discord links without a card."""
    line = inert(brief.headline) or "(untitled)"
    if brief.source:
        line += f" — {inert(brief.source)}"
    return without_cards(line, CONTENT_MAX)


def without_cards(line: str, limit: int) -> str:
    """`line` cut to `limit` with each link in <...>, which Discord links without a
    preview card. The <> make it longer: cut shorter until it fits, a link cut or not
    in its <>."""
    room = limit
    while len(text := _AUTOLINK.sub(lambda m: f"<{m.group()}>", clip(line, room))) > limit:
        room -= len(text) - limit
    return text


def text_fallback(brief: Brief) -> str:
    """The brief as one plain message: headline (source), then the link."""
    line = inert(brief.headline) or "(untitled)"
    if brief.source:
        line += f" ({inert(brief.source)})"
    url = safe_url(brief.url)
    return clip(line, CONTENT_MAX - (len(url) + 1 if url else 0)) + (f"\n{url}" if url else "")


def brief_embeds(briefs: Sequence[Brief]) -> list[discord.Embed]:
    """Up to 10 briefs as embeds that together stay within one message's limits."""
    chosen = list(briefs)[:EMBEDS_PER_MESSAGE]
    if not chosen:
        return []
    budget = EMBED_TOTAL_MAX // len(chosen)
    return [brief_embed(b, budget) for b in chosen]
