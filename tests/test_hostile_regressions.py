"""What the hostile-text property (test_hostile_property.py) found, one case each: feed,
LLM or user text that restyled a message or put a lookalike address on a link."""
from __future__ import annotations

import re
import pytest

from bot.discord import render as drender
from bot.replies import Reply
from tests.fakes.slack import make_brief
from tests.markup_check import discord_problems

# Discord hides a backslash only before ASCII punctuation; anywhere else it shows.
SHOWN_BACKSLASH = re.compile(r"\\(?![!-/:-@\[-`{-~])")


@pytest.mark.parametrize("text, shown", [
    ("Note:\n  # Buy now", "Note:\n  \\# Buy now"),               # indented heading
    ("Note:\n\u00a0## Buy now", "Note:\n\u00a0\\## Buy now"),      # NBSP indent
    ("Note:\n\t> quoted", "Note:\n\t\\> quoted"),                  # indented quote
    ("Note:\n  >>> all of it", "Note:\n  \\>>> all of it"),
    ("Note:\n\u200b# Buy now", "Note:\n\u200b\\# Buy now"),        # invisible indent
    ("Note:\u200b\n\u200b-# small print", "Note:\u200b\n\u200b\\-# small print"),
    ("Cuts prices\r# Buy now", "Cuts prices\n\\# Buy now"),        # a lone CR breaks a line
    ("Cuts prices\u2028> quoted", "Cuts prices\n\\> quoted"),      # so does U+2028
    ("\n-# small print", "\n\\-# small print"),                    # was "\\\n-# ..."
    ("\n\n- item", "\n\n\\- item"),
])
def test_discord_line_start_markup_from_outside_is_shown_as_typed(text, shown):
    out = drender.inert(text)
    assert out == shown
    assert discord_problems(out) == [] and not SHOWN_BACKSLASH.search(out)


@pytest.mark.parametrize("where", ["bullets", "why_it_matters", "dek", "error"])
def test_discord_indented_heading_does_not_restyle_a_brief_or_reply(where):
    text = "Alibaba cuts prices\n  # FREE MODELS\r> and a quote"
    if where == "error":
        payload = drender.reply_payload(Reply.error(f"No company called '{text}'"))
        shown = [payload["content"]]
    else:
        value = (text,) if where == "bullets" else text
        brief = make_brief(**{where: value, **({"bullets": ()} if where == "dek" else {})})
        embed = drender.brief_embed(brief).to_dict()
        shown = [embed["description"]] + [f["value"] for f in embed["fields"]]
    assert all(discord_problems(s, links={"https://example.com/alibaba-ai"}) == []
               for s in shown), shown
    assert any("FREE MODELS" in s for s in shown)
