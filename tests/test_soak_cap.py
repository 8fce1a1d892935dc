"""The capped soak's own detectors (`bench/soak.py --cap N`): they must fire when the cap,
its spreading or the once-per-channel rule is broken, and tell a roundup from a post
as the real renderers make them. The capped soak itself is not run here: a channel's
spread turns are minutes apart at any cap, so even a one-minute run takes three
(docs/reliability.md, "With the hourly cap")."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.roundup_text import overflow_title
from feeds.models import Brief

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from soak_cap import cap_rows, messages, most_in_an_hour, spread_breaches  # noqa: E402
from soak_check import Channel, Verdict, delivery_rows, posted  # noqa: E402
from soak_fakes import Window  # noqa: E402
from soak_publish import CapPace  # noqa: E402

BRIEF = Brief(id="b", headline="Nvidia open-sources a model", bullets=("One.", "Two."),
              why_it_matters="Developers.", url="https://outlet001.example.com/news/soak-00001",
              source="Outlet 001", published=datetime(2026, 12, 1, tzinfo=timezone.utc),
              companies=("Nvidia",), topics=("open source",), strategy=True, score=5.0)


def test_the_most_messages_in_any_sliding_hour_counts_one_exactly_an_hour_later():
    assert most_in_an_hour([]) == 0
    assert most_in_an_hour([0.0, 10.0, 3600.0, 3601.0, 7300.0]) == 3
    assert most_in_an_hour([float(t) for t in range(0, 3600 * 3, 300)]) == 13


def test_a_message_sooner_than_its_spread_turn_is_flagged():
    seven = [float(t) for t in range(7)]                 # cap 10: 7 free, then 4 minutes
    assert spread_breaches(seven + [6 + 240.0, 6 + 480.0], 10) == []
    assert spread_breaches(seven + [6 + 100.0], 10) == [106.0]
    assert spread_breaches([float(t) for t in range(6)] + [100.0], 10) == []   # 7th: free


def test_roundups_are_told_from_own_posts_as_the_renderers_make_them():
    from bot.discord.render import brief_embed
    from bot.discord.render_roundup import digest_embeds
    from bot.slack.render import brief_message
    from bot.slack.render_roundup import digest_message
    other = replace(BRIEF, url="https://outlet002.example.com/news/soak-00002")
    title = overflow_title(10)
    discord = _Discord([{"embeds": [brief_embed(BRIEF).to_dict()], "content": "Nvidia"},
                        {"embeds": [e.to_dict() for e in digest_embeds(title, [BRIEF, other])],
                         "content": title}])
    slack = _Slack([brief_message(BRIEF), digest_message(title, [BRIEF, other])])
    got = messages(discord, slack, 0.0)
    want = [(1.0, {"soak-00001"}, False), (2.0, {"soak-00001", "soak-00002"}, True)]
    assert got[("discord", "1")] == got[("slack", "C1")] == want


def test_a_story_in_its_own_post_and_a_roundup_is_a_duplicate_and_past_the_cap_fails():
    from bot.discord.render import brief_embed
    from bot.discord.render_roundup import digest_embeds
    title = overflow_title(4)
    own = [{"embeds": [brief_embed(replace(BRIEF, url=f"https://o.example/soak-{n:05d}"))
                       .to_dict()], "content": "x"} for n in range(1, 5)]
    roundup = {"embeds": [e.to_dict() for e in digest_embeds(title, [BRIEF])], "content": title}
    discord, slack = _Discord(own + [roundup]), _Slack([])
    expected = {f"soak-{n:05d}": {"t": 0.0} for n in range(1, 5)}
    channels, v = [Channel("discord", "1", "discord #1")], Verdict()
    delivery_rows(v, channels, posted(discord, slack, 0.0), expected, set())
    cap_rows(v, channels, messages(discord, slack, 0.0), expected, 4)
    assert any("1 duplicate posts" in f for f in v.failures)
    assert any("5 messages in one hour (cap 4)" in f for f in v.failures)
    assert v.data["cap"]["in_roundups"] == 1 and v.data["cap"]["roundups"] == 1


def test_the_capped_pace_leaves_one_turn_for_the_last_stories():
    pace = CapPace(2.0, until=510.0, cap=10)     # 7 free posts, then 4-minute turns
    assert [pace(n, 10.0 + 2 * n) for n in range(7)] == [2.0] * 7
    assert pace(7, 30.0) == 40.0                 # a turn's 240 s over about six stories
    # Publishing for two turns (the 8th and 9th messages) leaves the 10th for the rest.
    assert pace(12, 509.0) == 40.0 and pace(19, 510.0) is None
    early = CapPace(2.0, until=100.0, cap=10)
    assert early(7, 30.0) == 40.0 and early(8, 100.0) is None     # the run ends first


def test_a_fault_opened_until_met_waits_for_a_post_to_meet_it():
    plain, met = Window(), Window()
    plain.open(0.0)
    met.open(0.0, until_met=True)
    assert not plain.active() and met.active()      # its seconds are over, no post met it
    met.hits += 1                                   # the fake counts the post it failed
    assert not met.active()


class _Discord:
    def __init__(self, bodies: list[dict]):
        self._posts = [dict(b, id=str(n), channel_id="1") for n, b in enumerate(bodies, 1)]
        self.created = {m["id"]: float(m["id"]) for m in self._posts}

    def posts(self) -> list[dict]:
        return self._posts


class _Slack(SimpleNamespace):
    def __init__(self, payloads: list[dict]):
        super().__init__(payloads=[dict(p, channel="C1", _created=float(n))
                                   for n, p in enumerate(payloads, 1)])

    def posts(self) -> list[dict]:
        return self.payloads


@pytest.mark.parametrize("cap, ok", [(3, False), (4, False), (6, False), (7, True), (10, True)])
def test_a_cap_that_leaves_no_turn_for_a_roundup_is_refused(cap, ok):
    """Caps 4-6 spread, but the publisher holds stories back for no turn at them: a run
    published free posts only and tested nothing capped."""
    from soak_publish import check_cap
    if ok:
        assert check_cap(str(cap)) == cap
    else:
        with pytest.raises(argparse.ArgumentTypeError, match="use 7 or more"):
            check_cap(str(cap))


def test_a_post_still_waiting_for_a_live_channel_at_the_end_is_counted(tmp_path):
    """A held second copy goes out at the channel's next turn, minutes after the story
    first showed: the run must not end, nor pass, while it waits."""
    from soak_check import unfinished_posts
    from storage.store import Store
    from tests.fakes.slack import make_brief
    live, gone = Channel("discord", "1", "discord #1"), Channel("discord", "2", "discord #2")
    gone.deleted_at = 5.0
    with Store(str(tmp_path / "a.db")) as store:
        for ch in ("1", "2"):
            store.enqueue_post(cluster_id=f"k{ch}", brief=make_brief(id=f"s{ch}"),
                               platform="discord", workspace="g", channel=ch, held=True,
                               now=datetime(2026, 12, 1, tzinfo=timezone.utc))
        assert unfinished_posts(store, [live, gone]) == 1
        assert unfinished_posts(store, [gone]) == 0


def test_the_soaks_discord_forgets_a_nonce_after_a_few_minutes(monkeypatch):
    """The fake remembered every nonce forever: a retry minutes later was deduplicated
    by a memory Discord does not have, hiding whether find_sent found the post."""
    import soak_fakes
    discord = soak_fakes.SoakDiscord()
    now = [1000.0]
    monkeypatch.setattr(soak_fakes.time, "monotonic", lambda: now[0])
    discord.nonces[(1, "n1")] = "m1"
    discord._age_nonces()
    now[0] += soak_fakes.NONCE_MEMORY - 1
    discord._age_nonces()
    assert (1, "n1") in discord.nonces
    now[0] += 2
    discord._age_nonces()
    assert discord.nonces == {}
