"""The edit rules through the real service: a local feed A/B-tests a story's headline at
every poll; `ainews run --once` after each poll (fetch, parse, classify, store, condense,
dispatch, deliver) prints the post and its edits on the console, on a fake clock.
Without the rules every poll after the post printed an edit."""
from __future__ import annotations

import logging
from datetime import timedelta

from bot.service import Service
from storage.post_edits import MAX_EDITS
from tests.edit_cap_kit import STORY, posted, publish

OTHER = "Tencent slashes AI model prices by 13% in a push for enterprise customers"


async def flip_headlines(app, clock, feeds, capsys, hours: int) -> list:
    """Poll every 10 minutes for `hours`, the feed flipping the story's headline each
    time; the times an update of the post was printed."""
    edits = []
    for n in range(1, hours * 6):
        clock.advance(minutes=10)
        publish(feeds, OTHER if n % 2 else STORY["title"])
        await Service(app, clock=clock).run(once=True)
        out = capsys.readouterr().out
        edits += [clock.now] * out.count("(update to the post printed")
    return edits


async def test_a_headline_ab_test_edits_the_console_post_once_an_hour_five_times(
        tmp_path, feeds, capsys):
    app, clock = await posted(tmp_path, feeds)
    assert capsys.readouterr().out.count(STORY["title"]) == 1     # posted
    edits = await flip_headlines(app, clock, feeds, capsys, hours=8)
    app.store.close()
    assert len(edits) == MAX_EDITS
    assert all(b - a >= timedelta(hours=1) for a, b in zip(edits, edits[1:]))


async def test_a_headline_ab_test_logs_the_edits_that_go_out_not_every_poll(
        tmp_path, feeds, capsys, caplog):
    """Each poll queued the edit for its hour or dropped it (the headline flipped back),
    and each was logged at INFO, `dispatch: 1 edited story changed 1 post` and often
    "... revised after an edit (sent)": 30-60 lines an hour per such story (polls every
    1-2 minutes) for the 48 hours it is news, while the channel saw an edit an hour."""
    app, clock = await posted(tmp_path, feeds)
    caplog.set_level(logging.INFO)
    caplog.clear()                              # the post's own lines
    edits = await flip_headlines(app, clock, feeds, capsys, hours=3)
    app.store.close()
    said = [r.getMessage() for r in caplog.records
            if r.levelno >= logging.INFO and r.getMessage().startswith("dispatch: ")]
    assert 2 <= len(edits) and len(said) <= 2 * len(edits), "\n".join(said)
