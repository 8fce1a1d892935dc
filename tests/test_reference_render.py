"""A bullet whose opening reference was resolved ("He added" -> "Mara Velden added",
feeds/antecedents.py) is feed text joined to a name: hostile text beside the reference
stays inert in every renderer (Discord, Slack, console)."""
from __future__ import annotations

import re

import pytest

from bot.console import render_brief
from bot.discord import render as discord_render
from bot.slack import render as slack_render
from feeds.condense import condense
from tests.condense_kit import ZEPHYRA, story
from tests.discord_kit import HOSTILE as DISCORD_HOSTILE, visible_text
from tests.slack_kit import HOSTILE as SLACK_HOSTILE, assert_inert

HOSTILE = [t for t, _ in DISCORD_HOSTILE] + SLACK_HOSTILE + ["\x1b]8;;http://e\x07x", "\u202eevil"]
STORIES = [  # (text with {h} where the hostile text goes, how the resolved bullet opens)
    ("Zephyra chief executive Mara Velden said the company would halve the price of its model.\n"
     "He{h} added that the cuts would be paid for by growing cloud revenue {h} across Asia.\n"
     "Quorra has not said whether it will match.", "Mara Velden"),
    ("Zephyra said on Monday that it would halve the price of its flagship model for cloud customers.\n"
     "It also plans {h} to open two data centres in Jakarta next year to serve enterprise customers.\n"
     "Quorra has not said whether it will match.", "Zephyra also plans"),
    ("Zephyra chief executive Mara Velden said the company would halve the price.\n"
     "His {h} comments came after cloud revenue grew across Asia for the third quarter in a row.",
     "Mara Velden's"),
]


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("text, opens", STORIES)
def test_a_resolved_reference_beside_hostile_text_renders_inert(text, opens, hostile):
    brief = condense(story("Zephyra halves model prices", text.format(h=hostile),
                           classification=ZEPHYRA))
    resolved = [b for b in brief.bullets if b.startswith(opens)]
    shown = visible_text(discord_render.brief_embed(brief))
    assert not re.search(r"@(everyone|here)|<([@#/:]|a:|id:|t:)|\]\(", shown)
    message = slack_render.brief_message(brief)
    assert_inert(message["blocks"], message["text"])
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", render_brief(brief))
    # ("He" + a word is no pronoun; "a > b <" splits the sentence)
    assert resolved or hostile[0].isalpha() or hostile[0] == "\u202e"
