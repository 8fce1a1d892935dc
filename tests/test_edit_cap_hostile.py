"""A hostile feed against the edit rules, through the real service: a story whose
headline changes at every poll, each version longer and carrying pings, links and
control characters. The post already out is edited at most MAX_EDITS times, every edit
is as inert as the post (console: no control characters), and the store does not grow with the versions."""
from __future__ import annotations

import sqlite3

from bot.logs import CONTROL
from bot.service import Service
from storage.post_edits import MAX_EDITS
from tests.edit_cap_kit import STORY, posted, publish
from tests.slack_kit import HOSTILE

async def test_an_ever_changing_hostile_headline_is_edited_at_most_the_cap(tmp_path, feeds, capsys):
    app, clock = await posted(tmp_path, feeds)
    capsys.readouterr()
    db = tmp_path / "a.db"
    sizes, edits, printed = [], 0, ""
    for n in range(1, 12 * 6):                               # 12 hours of 10-minute polls
        clock.advance(minutes=10)
        hostile = HOSTILE[n % len(HOSTILE)] + " \x1b[2J\u202e"
        publish(feeds, f"{STORY['title']} {hostile} update {n} " + "more " * n)
        await Service(app, clock=clock).run(once=True)
        out = capsys.readouterr().out
        edits += out.count("(update to the post printed")
        printed += out
        with sqlite3.connect(db) as c:
            sizes.append(c.execute("SELECT SUM(LENGTH(brief) + LENGTH(COALESCE(shown, ''))) "
                                   "FROM outbox").fetchone()[0])
    app.store.close()
    assert edits == MAX_EDITS
    # A terminal acts on no mention or link, only on control and bidi characters (the
    # chat adapters' edits render as their posts do: tests/test_*_render.py).
    assert not CONTROL.search(printed) and printed.count(" more ") >= MAX_EDITS
    assert max(sizes) < 4 * sizes[0]   # the headline is cut at 120 characters
