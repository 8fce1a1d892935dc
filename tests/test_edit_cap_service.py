"""The edit rules through the real service: a local feed A/B-tests a story's headline at
every poll; `ainews run --once` after each poll (fetch, parse, classify, store, condense,
dispatch, deliver) prints the post and its edits on the console, on a fake clock.
Without the rules every poll after the post printed an edit."""
from __future__ import annotations

from datetime import timedelta

from bot.service import Service
from storage.post_edits import MAX_EDITS
from tests.edit_cap_kit import STORY, posted, publish

OTHER = "Tencent slashes AI model prices by 13% in a push for enterprise customers"


async def test_a_headline_ab_test_edits_the_console_post_once_an_hour_five_times(
        tmp_path, feeds, capsys):
    app, clock = await posted(tmp_path, feeds)
    assert capsys.readouterr().out.count(STORY["title"]) == 1     # posted
    edits = []
    for n in range(1, 8 * 6):                               # 8 hours of 10-minute polls
        clock.advance(minutes=10)
        publish(feeds, OTHER if n % 2 else STORY["title"])
        await Service(app, clock=clock).run(once=True)
        out = capsys.readouterr().out
        edits += [clock.now] * out.count("(update to the post printed")
    app.store.close()
    assert len(edits) == MAX_EDITS
    assert all(b - a >= timedelta(hours=1) for a, b in zip(edits, edits[1:]))
