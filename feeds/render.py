"""Platform-neutral renderings of a Brief: a terminal view and generic Markdown.

Every text field of a Brief comes from a feed, so it is untrusted: the terminal view
drops control characters (an ANSI escape in a title must not repaint the terminal) and
the Markdown view escapes Markdown-active characters so feed text can't inject links
or formatting. Discord and Slack renderings live in their adapters.
"""
from __future__ import annotations

import re
from datetime import timezone
from urllib.parse import quote, urlsplit

from feeds.hostile import misleading_link_text
from feeds.models import Brief
from feeds.url_display import shown_url

__all__ = ["render_text", "render_markdown", "meta_line", "safe_url"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MD_ACTIVE = re.compile(r"([\\`*_\[\]()<>#|~!{}])")
_LIST_START = re.compile(r"^([-+=>])|^(\d+)([.)])")


def render_text(brief: Brief) -> str:
    """A brief for a terminal: headline, source · time · companies, dek, bullets, why, link."""
    lines = [_plain(brief.headline), _plain(meta_line(brief))]
    if brief.dek:
        lines.append(_plain(brief.dek))
    if brief.bullets:
        lines.append("")
        lines += [f"• {_plain(b)}" for b in brief.bullets]
    if brief.why_it_matters:
        lines += ["", _plain(_why_line(brief))]
    if brief.also_reported_by:
        lines.append("Also reported by: " + _plain(", ".join(brief.also_reported_by)))
    if safe_url(brief.url):
        lines.append(safe_url(brief.url))
    return "\n".join(lines) + "\n"


def render_markdown(brief: Brief) -> str:
    """Generic Markdown; feed text is escaped, the only link is the story's http(s) URL."""
    lines = [f"**{_md(brief.headline)}**", f"_{_md(meta_line(brief))}_"]
    if brief.dek:
        lines.append(_md(brief.dek))
    if brief.bullets:
        lines.append("")
        lines += [f"- {_md(b)}" for b in brief.bullets]
    if brief.why_it_matters:
        label = "" if brief.why_is_generated else "**Why it matters:** "
        lines += ["", label + _md(brief.why_it_matters)]
    if brief.also_reported_by:
        lines.append("Also reported by: " + _md(", ".join(brief.also_reported_by)))
    url = safe_url(brief.url)
    if url:
        source = brief.source or "source"
        lines += ["", f"Read at {_md(source)}: <{_md_url(url)}>" if misleading_link_text(source, url)
                  else f"[Read at {_md(source)}]({_md_url(url)})"]
    return "\n".join(lines) + "\n"


def meta_line(brief: Brief) -> str:
    """"FT · 2025-03-03 09:00 UTC · Alibaba, Tencent" (parts that are empty are left out)."""
    when = brief.published.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [brief.source, when, ", ".join(brief.companies[:4])]
    return " · ".join(p for p in parts if p)


def safe_url(url: str) -> str:
    """The URL when it is http(s) and well formed, else "" (no javascript: links)."""
    url = _CONTROL.sub("", (url or "").strip())
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        return ""
    return shown_url(url)


def _why_line(brief: Brief) -> str:
    # A generated line already reads "Context: ..."; calling it "why it matters" would
    # claim the story said so.
    return brief.why_it_matters if brief.why_is_generated else f"Why it matters: {brief.why_it_matters}"


def _plain(text: str) -> str:
    return " ".join(_CONTROL.sub("", text).split())


def _md(text: str) -> str:
    text = _MD_ACTIVE.sub(r"\\\1", _plain(text))
    # Text opening a line must not start a list: "- x", "1. x" (a digit can't be escaped).
    return _LIST_START.sub(_escape_list_start, text)


def _escape_list_start(m: re.Match) -> str:
    return "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3)


def _md_url(url: str) -> str:
    # Parentheses, angle brackets and spaces would end or break the link target.
    return quote(url, safe=":/?#[]@!$&'*+,;=%~.-_")
