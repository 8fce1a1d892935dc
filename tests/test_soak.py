"""The soak and fault test, short: crash safety and escaping, end to end, in CI.

`bench/soak.py --minutes 1 --kills 2` runs a real `ainews run` against the local feed
server and the fake Discord and Slack with faults injected and two SIGKILLs; it exits
non-zero when a post is lost or duplicated, hostile text gets through, or a deleted
channel's subscription is not paused. The long run is `make soak`. Also here: the
regression test for the lost-post bug the soak found, and checks that the soak's own
detectors can fail (a detector that never fires would make the soak worthless)."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Settings
from bot.service import Service
from feeds.models import Brief, Classification, FeedSource, Story, Subscription

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from soak_check import discord_hostile, slack_hostile  # noqa: E402
from soak_run import rss_verdict  # noqa: E402

HOSTILE = Brief(id="h1", headline="Alibaba cuts prices @everyone <@123456789012345678>",
                bullets=("[Reuters](http://evil.example/phish) says so <!channel>",
                         "<http://evil.example/login|Read on Reuters> @here", "Third."),
                why_it_matters="<@&998877665544332211> [https://reuters.com](http://evil.example/x)",
                url="https://outlet001.example.com/news/soak-00001", source="Outlet <!here>",
                published=datetime(2026, 11, 29, tzinfo=timezone.utc),
                companies=("Alibaba",), topics=("pricing",), strategy=True, score=5.0)


@pytest.fixture(scope="module")
def soak_result(tmp_path_factory) -> tuple[int, dict, str]:
    out = tmp_path_factory.mktemp("soak") / "soak.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--minutes", "1",
                           "--kills", "2", "--publish-every", "3", "--json", str(out)],
                          capture_output=True, text=True, timeout=360, cwd=ROOT)
    data = json.loads(out.read_text()) if out.exists() else {}
    return proc.returncode, data, proc.stdout + proc.stderr


@pytest.mark.timeout(400)
def test_short_soak_passes_every_invariant(soak_result):
    code, data, output = soak_result
    assert code == 0, output[-4000:]
    assert data["failures"] == [] and "RESULT: PASS" in output
    assert data["kills"] == 2 and data["starts"] == 3


@pytest.mark.timeout(400)
def test_short_soak_delivered_every_story_once_to_live_channels(soak_result):
    _code, data, _output = soak_result
    rows = {r[0]: r for r in data["delivery"]}
    assert data["stories_published"] >= 10
    for label in ("discord #d1", "discord #d2", "slack #s1"):
        _label, should, got, lost, dups, backlog = rows[label]
        assert (should, got, lost, backlog) == (str(data["stories_published"]),) * 2 + ("0", "0")
        assert dups.startswith("0 ")


@pytest.mark.timeout(400)
def test_short_soak_let_no_hostile_text_through_and_paused_deleted_channels(soak_result):
    _code, data, _output = soak_result
    assert data["hostile"]["violations"] == []
    assert data["hostile"]["hostile_stories_posted"] > 0
    subs = {label: reason for label, _state, reason in data["subscriptions"]}
    assert "Unknown Channel" in subs["discord #dx (deleted)"]
    assert "channel_not_found" in subs["slack #sx (deleted)"]
    assert subs["discord #d1"] == subs["slack #s1"] == "active"


async def test_story_stored_but_not_dispatched_before_a_crash_is_posted_after_restart(
        tmp_path, capsys):
    """The soak's finding: a SIGKILL after a poll stored a story but before dispatch
    routed it lost the post for good (the restart saw the story as known)."""
    app = _console_app(tmp_path)
    _follow_paused(app.store)
    app.store.set_dispatch_mark(app.store.last_story_pk())       # a run was going...
    app.store.add_new_stories([_story(1)], backlog=False, now=_now())   # ...and died here
    await Service(app).run(once=True)
    assert capsys.readouterr().out.count("soak-00001") == 1
    await Service(_console_app(tmp_path)).run(once=True)
    assert "soak-00001" not in capsys.readouterr().out            # and never twice


@pytest.mark.parametrize("killed", ["before routing", "before forgetting the edit"])
async def test_an_edit_stored_but_not_routed_before_a_crash_is_posted_after_restart(
        tmp_path, capsys, monkeypatch, killed):
    """An edit makes a story name Tencent; the one channel follows only Tencent. The
    poll stored the edit and the bot died: the restart still posts it, once."""
    from dataclasses import replace
    from storage.store import Store
    app = _console_app(tmp_path)
    _follow_paused(app.store)          # a removed feed's edits are not routed
    app.store.add_subscription(Subscription("console", "console", "console", "company",
                                            "Tencent"), now=_now())
    app.store.set_dispatch_mark(app.store.last_story_pk())       # a run was going...
    first = _story(1)
    app.store.add_new_stories([first], backlog=False, now=_now())
    await Service(app).run(once=True)
    assert "soak-00001" not in capsys.readouterr().out           # Alibaba only: not theirs
    edited = replace(first, title="Alibaba and Tencent cut Qwen and Hunyuan API prices",
                     classification=replace(first.classification,
                                            companies=("Alibaba", "Tencent")))
    app = _console_app(tmp_path)
    app.store.add_new_stories([edited], backlog=False, now=_now())   # ...and died here
    if killed == "before forgetting the edit":
        with monkeypatch.context() as m:
            m.setattr(Store, "forget_edits", lambda self, upto: None)
            await Service(app).run(once=True)
        assert capsys.readouterr().out.count("soak-00001") == 1
        app = _console_app(tmp_path)
    await Service(app).run(once=True)
    out = capsys.readouterr().out
    if killed == "before routing":
        assert out.count("soak-00001") == 1 and "Tencent cut Qwen and Hunyuan" in out
    else:
        assert "soak-00001" not in out                           # routed again: no-op
    await Service(_console_app(tmp_path)).run(once=True)
    assert "soak-00001" not in capsys.readouterr().out            # and never twice


async def test_stories_of_a_file_from_before_dispatch_marks_are_not_posted(tmp_path, capsys):
    app = _console_app(tmp_path)
    app.store.add_new_stories([_story(2)], backlog=False, now=_now())  # an older version's
    # A file that older version wrote has no mark (a new file starts with one at 0).
    with app.store.db.conn:
        app.store.db.execute("DELETE FROM meta WHERE key = 'dispatch_mark'")
    await Service(app).run(once=True)
    assert "soak-00002" not in capsys.readouterr().out


@pytest.mark.parametrize("body", [
    {"allowed_mentions": {"parse": []}, "content": "Breaking @everyone"},
    {"allowed_mentions": {"parse": []}, "embeds": [{"description": "hi <@123456789012345678>"}]},
    {"allowed_mentions": {"parse": []}, "embeds": [{"title": "[Reuters](http://evil.example/)"}]},
    {"embeds": [{"title": "harmless"}]},
])
def test_discord_detector_flags_unsafe_posts(body):
    assert discord_hostile(body)


def test_discord_detector_passes_what_the_renderer_makes_of_hostile_text():
    from bot.discord.render import brief_embed
    body = {"allowed_mentions": {"parse": []}, "embeds": [brief_embed(HOSTILE).to_dict()]}
    assert discord_hostile(body) == []


@pytest.mark.parametrize("payload", [
    {"text": "<!channel> prices cut"},
    {"blocks": json.dumps([{"type": "section", "text": {"text": "<@U123> look"}}])},
    {"blocks": [{"type": "section", "text": {"text": "<http://evil.example|Reuters>"}}]},
    {"text": "ping @here"},
])
def test_slack_detector_flags_unsafe_posts(payload):
    assert slack_hostile(payload)


def test_slack_detector_passes_what_the_renderer_makes_of_hostile_text():
    from bot.slack.render import brief_message
    assert slack_hostile(brief_message(HOSTILE)) == []


@pytest.mark.parametrize("series,growing", [
    ([100_000] * 300, False),
    ([100_000 + 300 * i for i in range(300)], True),
    ([100_000] * 60, None),          # a minute: too short to judge
])
def test_memory_verdict(series, growing):
    rss = [(float(t), 1, kb) for t, kb in enumerate(series)]
    assert rss_verdict(rss)["growing"] is growing


def _console_app(tmp_path: Path) -> App:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text("# no feeds: the stories come from the store\n")
    return App(Settings(db_path=tmp_path / "ainews.db", feeds_file=feeds, console=True,
                        channel_hourly_cap=100))


def _follow_paused(store) -> None:
    """The stories' feed, followed (only a followed feed's stories are posted) but
    paused, so the run fetches nothing."""
    url = "https://outlet001.example.com/rss"
    store.upsert_feed(FeedSource("Outlet 001", url))
    store.record_fetch_failure(url, now=_now(), next_poll=_now(), kind="http",
                               message="soak: gone", pause_after=1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _story(n: int) -> Story:
    url = f"https://outlet001.example.com/news/soak-{n:05d}"
    text = ("Alibaba said it will cut API prices for its Qwen models by 40% to win "
            "enterprise developers. Rivals are expected to respond.")
    return Story(id=f"s{n}", url=url, title=f"Alibaba cuts Qwen API prices by 4{n}%",
                 text=text, source="Outlet 001", feed_url="https://outlet001.example.com/rss",
                 published=_now(), summary=text,
                 classification=Classification(strategy=True, score=6.0,
                                               companies=("Alibaba",), topics=("pricing",)))
