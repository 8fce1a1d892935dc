"""Briefs -> Slack Block Kit payloads, and the escaping, cutting and blocks every Slack
payload is made of (roundups: render_roundup.py; command replies: render_reply.py).
Pure: no I/O, no slack imports.

Everything that came from a feed or a user is untrusted: in mrkdwn it is escaped so it can
never ping (<!channel>, <@U1>), hide a link behind other words (<http://evil|Google>) or
restyle the message; in plain_text it can't do any of that, but angle brackets are still
swapped for lookalikes so no block ever carries a raw < or > from outside.
Every field is cut to Slack's limits after escaping, so a 10 KB title still posts.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Iterable, Sequence

from feeds.headline import cut_at_word
from feeds.hostile import spoofed_link
from feeds.models import Brief
from feeds.url_display import link_url

# Slack's documented Block Kit limits.
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_URL = 3000
MAX_VALUE = 2000
MAX_FALLBACK = 3000   # top-level `text`: only notifications read it; keep it short
MAX_WHY_TEXT = 300    # why it matters in a post's `text`: a push shows a line or two
# Not in Slack's docs: chat.postMessage refuses blocks whose text is too long in all
# (msg_blocks_too_long). Reports: ~13,200 characters (slackapi/bolt-js#2509, where Slack
# said "12,000 text characters with a buffer for block containers"), 11,341 refused
# (bolt-js#2867). A post's block text is kept to this, well under both.
MAX_MESSAGE_TEXT = 10_000
MAX_CONTEXT_PART = 1000   # one of a brief's context parts: all of them and the body fit
MAX_BRIEF_BLOCKS = 7      # a brief's blocks at most (brief_blocks)

READ_ACTION = "ainews_read"
ELLIPSIS = "…"

# Formatting marks swapped for lookalikes: Slack mrkdwn has no escape for them.
_MARKS = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})
_BROADCAST = re.compile(r"@(?=(?:everyone|here|channel)\b)", re.IGNORECASE)
_MD_LINK = re.compile(r"\]\(")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
# "@everyonebank" is no broadcast and left as written; cut to "@everyone…" it would read
# as one, so a cut drops it.
_CUT_BROADCAST = re.compile(r"@(?:everyone|here|channel)$", re.IGNORECASE)
# A ">" opening a line (after any indent a reader doesn't see) is a block quote in mrkdwn,
# escaped or not: it becomes a lookalike there, and stays ">" everywhere else.
_QUOTE = (r"((?:[^\S\r\n\u2028\u2029]|"
          r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff])*)&gt;")
_LINE_QUOTE = re.compile(r"(^|[\r\n\u2028\u2029])" + _QUOTE)
_BREAK_QUOTE = re.compile(r"([\r\n\u2028\u2029])" + _QUOTE)    # a piece placed mid-line


def utf16_len(s: str) -> int:
    """Slack counts UTF-16 code units; an emoji outside the BMP counts twice."""
    return len(s.encode("utf-16-le")) // 2


def escape(text: str, *, mid_line: bool = False) -> str:
    """Untrusted text -> inert mrkdwn (no pings, no links, no styling). `mid_line`: it
    follows our own text on its line ("Why it matters: > 50% ..."), where a ">" it
    starts with is no quote: only one after a line break in it is."""
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _BROADCAST.sub("@\u2060", s)        # word joiner: "@here" no longer matches
    s = _MD_LINK.sub("]\u200b(", s)          # breaks [text](url) link syntax
    s = (_BREAK_QUOTE if mid_line else _LINE_QUOTE).sub(r"\1\2›", s)
    return s.translate(_MARKS)


def bold(text: str, limit: int) -> str:
    """Outside text as one of our own *bold* runs, whole within `limit`: Slack ends a run
    at a line break, and shows both asterisks when it starts or ends with a space or its
    closing one is cut off."""
    return "*" + fit(escape(" ".join(str(text).split())), limit - 2) + "*"


def plain(text: str) -> str:
    """Untrusted text for plain_text fields: nothing is parsed there, but keep < > out."""
    return _BROADCAST.sub("@\u2060", str(text).replace("<", "‹").replace(">", "›"))


def fit(s: str, limit: int) -> str:
    """Cut to `limit` UTF-16 units with an ellipsis, at a word boundary where there is
    one (feeds.headline.cut_at_word), never inside an &amp; entity."""
    if utf16_len(s) <= limit:
        return s
    cut = s[: limit - 1]
    if utf16_len(cut) > limit - 1:            # astral characters (emoji) count twice
        used, end = 0, 0
        for end, ch in enumerate(cut):
            used += 2 if ord(ch) > 0xFFFF else 1
            if used > limit - 1:
                break
        cut = cut[:end]
    if cut:
        cut = cut_at_word(cut, s[len(cut)])
    cut = _CUT_BROADCAST.sub("", _PARTIAL_ENTITY.sub("", cut))
    return cut.rstrip() + ELLIPSIS


def safe_url(url: str) -> str | None:
    """An http(s) URL fit for a button or a <url|label> link, or None."""
    return link_url(url, MAX_URL)


def url_text(url: str) -> str:
    """A safe_url as it stands in mrkdwn, in <url> or <url|label>: Slack reads "&" as
    the start of an entity throughout a text, its links too, and decodes "&amp;" there
    (its own messages carry "?a=1&amp;b=2"); link_url has %-escaped < > |."""
    return url.replace("&", "&amp;")


def mrkdwn(text: str, limit: int = MAX_SECTION) -> dict:
    # verbatim: Slack must not turn bare URLs or #channel names into links either
    return {"type": "mrkdwn", "text": fit(text, limit) or " ", "verbatim": True}


def section(text: str) -> dict:
    return {"type": "section", "text": mrkdwn(text)}


def plain_section(text: str) -> dict:
    """Untrusted text shown exactly (bar < >): a URL or a name copied from it still works,
    where mrkdwn would need lookalikes for _ * ` ~."""
    return {"type": "section", "text": {"type": "plain_text", "emoji": True,
                                        "text": fit(plain(text), MAX_SECTION) or " "}}


def header(text: str) -> dict:
    text = plain(" ".join(text.split())) or "(untitled)"
    return {"type": "header", "text": {"type": "plain_text", "text": fit(text, MAX_HEADER),
                                       "emoji": False}}


def button(label: str, action_id: str, *, url: str | None = None,
           value: str | None = None, style: str | None = None) -> dict:
    b = {"type": "button", "action_id": action_id,
         "text": {"type": "plain_text", "text": fit(plain(label), MAX_BUTTON_TEXT)}}
    if url:
        b["url"] = url
    if value is not None:
        b["value"] = value
    if style:
        b["style"] = style
    return b


def slack_date(dt: datetime) -> str:
    """Shown in each reader's own time zone; the fallback is UTC for old clients."""
    dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    fallback = dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(dt.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def context_for(brief: Brief) -> dict:
    parts = [bold(brief.source if brief.source.strip() else "unknown source",
                  MAX_CONTEXT_PART),
             slack_date(brief.published)]
    if brief.companies:
        parts.append("Companies: " + escape(", ".join(brief.companies), mid_line=True))
    if brief.topics:
        parts.append("Topics: " + escape(", ".join(brief.topics), mid_line=True))
    if brief.also_reported_by:
        parts.append("Also reported by " + escape(", ".join(brief.also_reported_by),
                                                  mid_line=True))
    elements = [mrkdwn(p, MAX_CONTEXT_PART) for p in parts[:MAX_CONTEXT_ELEMENTS]]
    return {"type": "context", "elements": elements}


def bullets_text(bullets: Sequence[str], limit: int = MAX_SECTION) -> str:
    # Each bullet gets an equal share, so one huge bullet can't push the others out.
    items = [b for b in bullets if b.strip()][:3]
    share = (limit - 4 * len(items)) // max(1, len(items))
    return "\n".join("• " + fit(escape(" ".join(b.split()), mid_line=True), share)
                     for b in items)


def brief_blocks(brief: Brief) -> list[dict]:
    """One brief: header, context, dek, bullets, why it matters, the address when the
    headline names another, buttons (<= MAX_BRIEF_BLOCKS), within MAX_MESSAGE_TEXT in all."""
    blocks = [header(brief.headline), context_for(brief)]
    shown, tail = blocks[0]["text"]["text"], []
    url = safe_url(brief.url)
    if url and spoofed_link(brief.headline, shown, url) and \
            len(url_text(url)) + 2 <= MAX_CONTEXT:
        # "paypal.com: verify ..." over a button that goes elsewhere: the button doesn't
        # show where it goes, so the address is shown as itself (as a digest does).
        tail.append({"type": "context",
                     "elements": [mrkdwn(f"<{url_text(url)}>", MAX_CONTEXT)]})
    if url:
        tail.append({"type": "actions",
                     "elements": [button("Read the story", READ_ACTION, url=url)]})
    return blocks + body_sections(brief, MAX_MESSAGE_TEXT - text_size(blocks + tail)) + tail


def body_sections(brief: Brief, room: int) -> list[dict]:
    """Dek, bullets and why it matters in `room` characters: each takes at most an equal
    share of what those before it left, so a short dek leaves more to the bullets."""
    parts = []
    if brief.dek.strip():
        parts.append(lambda limit: fit(escape(brief.dek), limit))
    if any(b.strip() for b in brief.bullets):
        parts.append(lambda limit: bullets_text(brief.bullets, limit))
    # A generated line ("Context: Baidu · pricing") states no consequence and only
    # repeats the companies and topics the context block shows: left out here.
    if brief.why_it_matters.strip() and not brief.why_is_generated:
        parts.append(lambda limit: fit("*Why it matters:* " + escape(
            brief.why_it_matters, mid_line=True), limit))
    sections = []
    for i, part in enumerate(parts):
        text = part(min(MAX_SECTION, room // (len(parts) - i)))
        room -= utf16_len(text)
        sections.append(section(text))
    return sections


def headline_text(brief: Brief) -> str:
    """The story as `text` names it: "Headline (Outlet)"."""
    line = escape(" ".join(brief.headline.split()) or "(untitled)")
    source = escape(brief.source, mid_line=True)
    return fit(f"{line} ({source})" if brief.source else line, MAX_FALLBACK)


def fallback_text(brief: Brief) -> str:
    """A post's `text`, all a phone's push notification and a screen reader read of it:
    the story named, then why it matters, short, when the story states it (a generated
    line only repeats the companies and topics, and is left out as in the blocks)."""
    named = headline_text(brief)
    if not brief.why_it_matters.strip() or brief.why_is_generated:
        return named
    why = escape(" ".join(brief.why_it_matters.split()), mid_line=True)
    return fit(f"{named}: {fit(why, MAX_WHY_TEXT)}", MAX_FALLBACK)


def plain_brief(brief: Brief) -> str:
    """The brief as one mrkdwn text, for when Slack refuses its blocks: the notification
    line, then the story's link, whole (unfurl_* stays off in the post)."""
    url = url_text(safe_url(brief.url) or "")
    link = f"\n<{url}>" if url and len(url) + 3 <= MAX_SECTION // 2 else ""
    return fit(fallback_text(brief), MAX_SECTION - len(link)) + link


def brief_message(brief: Brief) -> dict:
    """chat.postMessage / chat.update arguments for one brief."""
    return {"text": fallback_text(brief), "blocks": brief_blocks(brief),
            "unfurl_links": False, "unfurl_media": False}


def text_size(blocks: Iterable[dict]) -> int:
    """The blocks' text in all, as Slack counts it against msg_blocks_too_long."""
    return sum(utf16_len(text) for _, text in all_texts(blocks))


def all_texts(blocks: Iterable[dict]) -> list[tuple[str, str]]:
    """(type, text) of every text object in the blocks: for checks in tests and logs."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                found.append((node["type"], node["text"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(list(blocks))
    return found
