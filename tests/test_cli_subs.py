"""`ainews subscriptions [list|remove]`: a deleted channel's paused subscriptions could
only be seen (`ainews status`), never removed: nobody can type /unsubscribe in a channel
that is gone."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.cli import main
from feeds.models import Subscription
from storage.store import Store
from tests.cli_kit import run_cli
from tests.fakes.slack import make_brief


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


@pytest.fixture()
def db(clean_env, tmp_path, monkeypatch) -> str:
    """A deleted Discord channel (paused, a held post, a digest) and a live Slack one."""
    path = str(tmp_path / "db" / "ainews.db")
    clean_env.setenv("AINEWS_DB", path)
    Path(path).parent.mkdir()
    monkeypatch.setattr("bot.cli_subs.utcnow", lambda: NOW)     # when the next digest is
    with Store(path) as store:
        store.add_subscription(Subscription("discord", "G1", "999", "all", "all"), now=NOW)
        store.add_subscription(Subscription("slack", "T1", "C1", "topic", "pricing"), now=NOW)
        store.add_subscription(Subscription("slack", "T1", "C1", "company", "Alibaba"), now=NOW)
        store.pause_channel("discord", "999", "channel deleted (404)")
        store.set_digest("discord", "G1", "999", "08:30", "UTC", now=NOW)
        store.enqueue_post(cluster_id="k1", brief=make_brief(id="s1"), platform="discord",
                           workspace="G1", channel="999", held=True, now=NOW)
    return path


@pytest.mark.parametrize("argv", [("subscriptions",), ("subscriptions", "list")])
def test_every_channels_subscriptions_are_listed_with_their_state(db, capsys, argv):
    code, out, _ = run_cli(capsys, *argv)
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["platform", "channel", "follows", "state",
                                              "delivery"]
    assert any("999" in x and "all" in x and "channel deleted (404)" in x for x in lines)
    assert any("C1" in x and "topic pricing" in x and "active" in x for x in lines)


@pytest.mark.parametrize("argv", [("subscriptions", "--json"), ("subscriptions", "list", "--json")])
def test_subscriptions_as_json_rows(db, capsys, argv):
    code, out, _ = run_cli(capsys, *argv)
    rows = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and len(rows) == 3
    assert {"platform": "discord", "workspace": "G1", "channel": "999", "kind": "all",
            "target": "all", "paused": "channel deleted (404)",
            "digest": {"at": "08:30", "tz": "UTC", "next": "2026-12-01T08:30:00Z"}} in rows


def test_an_operator_can_see_a_channel_gets_a_daily_digest_and_when(db, capsys):
    """"Why does #news get nothing all day?" `ainews subscriptions` said "active" (and
    its --json nothing more), `ainews status` "outbox 3 held": nothing on the command
    line said the channel asked for one digest a day at 01:30 Australia/Sydney, which
    only a chat user typing /subscriptions in that channel could read."""
    with Store(db) as store:
        store.set_digest("slack", "T1", "C1", "01:30", "Australia/Sydney", now=NOW)
    code, out, _ = run_cli(capsys, "subscriptions")
    rows = [line for line in out.splitlines() if "C1" in line]
    assert code == 0 and len(rows) == 2
    assert all(r.rstrip().endswith("digest daily 01:30 Australia/Sydney, next 2026-11-30 "
                                   "14:30 UTC") for r in rows), out
    assert [r.split()[-1] for r in out.splitlines() if "999" in r] == ["UTC"]
    code, out, _ = run_cli(capsys, "subscriptions", "--json")
    digests = {json.loads(x)["channel"]: json.loads(x)["digest"] for x in out.splitlines()}
    assert digests["C1"] == {"at": "01:30", "tz": "Australia/Sydney",
                             "next": "2026-11-30T14:30:00Z"}


def test_a_channel_without_a_digest_gets_its_posts_as_they_come(db, capsys):
    with Store(db) as store:
        store.clear_digest("discord", "999")
    out = run_cli(capsys, "subscriptions")[1]
    assert all(line.rstrip().endswith("as they come") for line in out.splitlines()[1:]), out
    rows = [json.loads(x) for x in run_cli(capsys, "subscriptions", "--json")[1].splitlines()]
    assert [r["digest"] for r in rows] == [None, None, None]


def test_status_shows_each_paused_subscription_with_its_reason(db, capsys):
    """What an operator reads to find the channel and why posting there stopped; the live
    Slack channel is not listed."""
    code, out, _ = run_cli(capsys, "status")
    section = out.split("paused subscriptions:\n", 1)[1].splitlines()
    assert code == 0 and section[0].split() == ["platform", "channel", "target", "reason"]
    assert section[1].split(maxsplit=3) == ["discord", "999", "all", "channel deleted (404)"]
    assert section[2].startswith("(posting there resumes with /subscribe")


def test_status_says_whether_a_paused_target_is_a_topic_or_a_company(db, capsys):
    with Store(db) as store:
        store.pause_channel("slack", "C1", "channel_not_found")
    code, out, _ = run_cli(capsys, "status")
    rows = [line.split() for line in
            out.split("paused subscriptions:\n", 1)[1].splitlines()[1:4]]
    assert ["slack", "C1", "topic", "pricing", "channel_not_found"] in rows
    assert ["slack", "C1", "company", "Alibaba", "channel_not_found"] in rows


# "everything" and "ALL" stop everything as "all" does: they kept the digest setting and
# told the user to type `digest off`, which no command line has (nor a deleted channel).
@pytest.mark.parametrize("everything", [(), ("all",), ("everything",), ("ALL",)])
def test_removing_a_deleted_channel_clears_it_and_nothing_else(db, capsys, everything):
    assert "ainews subscriptions remove PLATFORM CHANNEL" in run_cli(capsys, "status")[1]
    code, out, _ = run_cli(capsys, "subscriptions", "remove", "discord", "999", *everything)
    assert code == 0 and "no longer gets anything" in out and "digest setting is removed" in out
    assert "digest off" not in out
    with Store(os.environ["AINEWS_DB"]) as store:
        assert store.subscriptions_for_channel("discord", "999") == []
        assert store.digest_setting("discord", "999") is None
        assert store.waiting_posts("discord", "999") == []          # the held post won't go
        assert len(store.subscriptions_for_channel("slack", "C1")) == 2
    status = json.loads(run_cli(capsys, "status", "--json")[1])
    assert status["paused_subscriptions"] == []
    code, _, err = run_cli(capsys, "subscriptions", "remove", "discord", "999")
    assert code == 1 and "discord channel 999 follows nothing" in err   # nothing there


def test_removing_one_target_keeps_the_others(db, capsys):
    code, out, _ = run_cli(capsys, "subscriptions", "remove", "slack", "C1", "pricing")
    assert code == 0 and "no longer gets stories on" in out
    with Store(os.environ["AINEWS_DB"]) as store:
        assert [s.target for s in store.subscriptions_for_channel("slack", "C1")] == ["Alibaba"]
    code, _, err = run_cli(capsys, "subscriptions", "remove", "slack", "C1", "chips")
    assert code == 1 and "chips" in err


def test_an_unknown_platform_is_a_usage_error(db, capsys):
    with pytest.raises(SystemExit) as e:
        main(["subscriptions", "remove", "telegram", "C1"])
    assert e.value.code == 2 and "invalid choice: 'telegram'" in capsys.readouterr().err


def test_a_post_the_running_bot_tries_while_its_channel_is_removed_waits_and_stays_unsent(
        db, capsys, monkeypatch):
    """`subscriptions remove` reads the waiting posts and cancels them as one
    transaction, so `ainews run`, another process, can't post one in between: its
    claim waits for the removal, then finds the post cancelled (before, the claim got
    in between and the post went to the channel that said stop)."""
    import threading
    with Store(db) as bot:
        bot.enqueue_post(cluster_id="k2", brief=make_brief(id="s2"), platform="slack",
                         workspace="T1", channel="C1", held=False, now=NOW)
    real, claimed = Store.waiting_posts, []

    def the_bot_tries_to_post(store, row_id):
        with Store(db) as bot:
            claimed.append(bot.claim_post(row_id, NOW))

    def then_the_bot_posts(self, platform, channel, **kw):
        rows = real(self, platform, channel, **kw)
        bot = threading.Thread(target=the_bot_tries_to_post, args=(self, rows[0].id))
        bot.start()
        bots.append(bot)
        bot.join(0.5)       # its claim done before the cancel, unless it has to wait
        return rows
    bots: list[threading.Thread] = []
    monkeypatch.setattr(Store, "waiting_posts", then_the_bot_posts)
    code, out, _ = run_cli(capsys, "subscriptions", "remove", "slack", "C1")
    bots[0].join()
    assert code == 0 and "no longer gets anything" in out and "1 waiting post won't go out" in out
    assert claimed == [None]
    with Store(db) as store:
        assert store.outbox_counts() == {"cancelled": 1, "held": 1}     # held: discord 999's


@pytest.mark.parametrize("ran", [True, False], ids=["after-a-run", "before-any-run"])
def test_removing_the_consoles_sticks_and_says_how_to_follow_again(db, capsys, ran):
    """It said "The console follows everything again at the next `ainews run`", but the
    terminal is subscribed once per database (bot/console.py set_up_console, by the
    first `ainews run` or `ainews chat`): the next run logged "the console channel
    follows nothing" and printed nothing. The removal now sticks, run or not, and the
    line names the command that gives it everything again."""
    from bot.console import set_up_console
    with Store(os.environ["AINEWS_DB"]) as store:
        if ran:
            set_up_console(store)           # what every `ainews run` on the console does
        else:                               # subscribed by hand before any run
            store.add_subscription(Subscription("console", "console", "console", "all",
                                                "all"), now=NOW)
    code, out, _ = run_cli(capsys, "subscriptions", "remove", "console", "console")
    assert code == 0 and ("The console prints no stories from now on, at the next "
                          "`ainews run` too: `ainews chat subscribe all` gives it every "
                          "strategy story again.") in out
    with Store(os.environ["AINEWS_DB"]) as store:
        set_up_console(store)               # the next `ainews run`
        assert store.subscriptions_for_channel("console", "console") == []
    assert run_cli(capsys, "chat", "subscribe", "all")[0] == 0
    with Store(os.environ["AINEWS_DB"]) as store:
        assert [s.kind for s in store.subscriptions_for_channel("console", "console")] == \
            ["all"]
    code, out, _ = run_cli(capsys, "subscriptions", "remove", "slack", "C1")
    assert code == 0 and "again" not in out


def test_removing_a_topic_the_channel_gets_through_all_names_the_command_that_stops_it(
        db, capsys):
    """The chat's answer said "(`unsubscribe all` stops everything)", which no command
    line has: it names the command to type here."""
    code, _, err = run_cli(capsys, "subscriptions", "remove", "discord", "999", "chips")
    assert code == 1
    assert err.rstrip().endswith("(`ainews subscriptions remove discord 999 all` stops "
                                 "everything)"), err
