"""Terminal and Markdown renderings: readable, and feed text can't take over the output."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from feeds.models import Brief
from feeds.render import render_markdown, render_text

BRIEF = Brief(
    id="s1", headline="China’s Alibaba shifts towards revenue over open-source AI",
    bullets=("Alibaba is deprioritizing free models.", "Paid APIs come first.", "Rivals: Tencent, Baidu."),
    why_it_matters="Fewer free models for developers.", url="https://www.ft.com/content/abc",
    source="FT", published=datetime(2025, 3, 3, 9, 5, tzinfo=timezone.utc),
    dek="The tech giant is deprioritizing free models.", companies=("Alibaba", "Tencent"),
    topics=("open-source",), strategy=True, score=5.0)


def test_text_rendering_reads_like_a_brief():
    assert render_text(BRIEF) == (
        "China’s Alibaba shifts towards revenue over open-source AI\n"
        "FT · 2025-03-03 09:05 UTC · Alibaba, Tencent\n"
        "The tech giant is deprioritizing free models.\n"
        "\n"
        "• Alibaba is deprioritizing free models.\n"
        "• Paid APIs come first.\n"
        "• Rivals: Tencent, Baidu.\n"
        "\n"
        "Why it matters: Fewer free models for developers.\n"
        "https://www.ft.com/content/abc\n")


def test_text_rendering_shows_time_in_utc_and_also_reported_by():
    from zoneinfo import ZoneInfo
    b = replace(BRIEF, published=datetime(2025, 3, 3, 17, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
                also_reported_by=("Reuters", "Bloomberg"))
    out = render_text(b)
    assert "FT · 2025-03-03 09:05 UTC" in out and "Also reported by: Reuters, Bloomberg" in out


def test_generated_context_is_not_labelled_why_it_matters():
    b = replace(BRIEF, why_it_matters="Context: Alibaba · pricing", why_is_generated=True)
    for out in (render_text(b), render_markdown(b)):
        assert "Context: Alibaba · pricing" in out and "Why it matters" not in out


def test_empty_parts_leave_no_gaps():
    b = replace(BRIEF, dek="", bullets=(), why_it_matters="", companies=())
    assert render_text(b) == ("China’s Alibaba shifts towards revenue over open-source AI\n"
                              "FT · 2025-03-03 09:05 UTC\nhttps://www.ft.com/content/abc\n")


def test_terminal_control_sequences_are_removed():
    b = replace(BRIEF, headline="Evil \x1b[2J\x1b[31mred\x07 title", bullets=("line\rover",))
    out = render_text(b)
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert out.startswith("Evil [2J[31mred title\n")


def test_markdown_rendering():
    assert render_markdown(BRIEF) == (
        "**China’s Alibaba shifts towards revenue over open-source AI**\n"
        "_FT · 2025-03-03 09:05 UTC · Alibaba, Tencent_\n"
        "The tech giant is deprioritizing free models.\n\n"
        "- Alibaba is deprioritizing free models.\n- Paid APIs come first.\n- Rivals: Tencent, Baidu.\n\n"
        "**Why it matters:** Fewer free models for developers.\n\n"
        "[Read at FT](https://www.ft.com/content/abc)\n")


HOSTILE = ["[click here](https://evil.example/phish)", "![img](https://evil.example/x.png)",
           "**bold** and _italic_ and `code`", "<https://evil.example>", "a | table | row", "~~strike~~"]
ACTIVE = set("[]()*_`<>#|~!")


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("field", ["headline", "dek", "bullets", "why_it_matters", "source"])
def test_markdown_escapes_feed_text(hostile, field):
    marked = f"ZQ{hostile}QZ"
    out = render_markdown(replace(BRIEF, **{field: (marked,) if field == "bullets" else marked}))
    for segment in out.split("ZQ")[1:]:
        segment = segment.split("QZ")[0]
        bare = re.sub(r"\\(.)", r"\1", segment)
        assert bare == hostile                                  # the reader sees the text as written
        unescaped = [c for i, c in enumerate(segment) if c in ACTIVE and segment[i - 1:i] != "\\"]
        assert unescaped == [], f"active Markdown left in {segment!r}"


@pytest.mark.parametrize("start, line", [
    ("- fake item", "\\- fake item"), ("+ fake item", "\\+ fake item"), ("1. fake item", "1\\. fake item"),
    ("2) fake", "2\\) fake"), ("# Heading", "\\# Heading"), ("> quote", "\\> quote"),
])
def test_markdown_line_starts_cannot_make_lists_or_headings(start, line):
    assert render_markdown(replace(BRIEF, dek=start)).splitlines()[2] == line


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "ftp://x/y", "", "not a url"])
def test_only_http_links_are_rendered(url):
    b = replace(BRIEF, url=url)
    assert "](" not in render_markdown(b)
    assert render_text(b).splitlines()[-1] == "Why it matters: Fewer free models for developers."


def test_markdown_link_target_cannot_be_broken_out_of():
    out = render_markdown(replace(BRIEF, url="https://example.com/a_(b)c)[x](y"))
    assert out.splitlines()[-1] == "[Read at FT](https://example.com/a_%28b%29c%29[x]%28y)"


def test_markdown_link_text_never_names_another_address():
    """A feed named "paypal.com" would make "[Read at paypal.com](story)" a spoofed link."""
    out = render_markdown(replace(BRIEF, source="paypal.com", url="https://n.example/a"))
    assert out.splitlines()[-1] == "Read at paypal.com: <https://n.example/a>"
