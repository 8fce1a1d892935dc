"""Channel commands through the neutral layer (bot/commands_subs.py): subscribe,
unsubscribe, subscriptions and digest, admin only, with their errors and pauses."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.discord.syntax import spell as discord_spell
from tests.classify_kit import gazetteer_classifier
from tests.commands_kit import ADMIN, MEMBER, seeded_store, core_commands


classifier = pytest.fixture(gazetteer_classifier, name="classifier", scope="module")
store = pytest.fixture(seeded_store, name="store")
commands = pytest.fixture(core_commands, name="commands")


# ---- subscriptions ----------------------------------------------------------------------
@pytest.mark.parametrize("target, listed", [
    ("all", "all AI strategy stories"),
    # `unsubscribe everything` stopped everything, `subscribe everything` was refused
    ("Everything", "all AI strategy stories"),
    ("pricing", "(topic pricing)"),
    ("qwen", "stories about Alibaba"),
    ("company:Meta", "stories about Meta"),
])
def test_subscribe_and_list(commands, target, listed):
    reply = commands.subscribe(ADMIN, target)
    assert reply.kind == "text" and not reply.ephemeral      # the channel sees it
    assert listed in commands.subscriptions(MEMBER).text
    again = commands.subscribe(ADMIN, target)
    assert "already" in again.text


@pytest.mark.parametrize("call", [
    lambda c: c.subscribe(MEMBER, "all"),
    lambda c: c.unsubscribe(MEMBER, "all"),
    lambda c: c.digest(MEMBER, "daily", "08:00"),
    lambda c: c.digest(MEMBER, "off"),
])
def test_channel_changes_are_admin_only(commands, call):
    reply = call(commands)
    assert reply.kind == "error"
    assert "only members with the Manage Channels permission" in reply.text
    assert commands.store.subscriptions_for_channel("discord", "c1") == []
    assert commands.store.digest_setting("discord", "c1") is None


@pytest.mark.parametrize("typed, listed", [
    ("#pricing", "(topic pricing)"),            # a Slack habit: channels are #named
    ("@OpenAI", "stories about OpenAI"),
    ("OpenAI's", "stories about OpenAI"),
    ("Alibaba’s", "stories about Alibaba"),
    ("pricing.", "(topic pricing)"),
    ("Nvidia!", "stories about Nvidia"),
])
def test_a_target_typed_with_a_mark_around_it_is_followed(commands, typed, listed):
    """`/subscribe #pricing` or `/subscribe OpenAI's` answered "no topic or company",
    the second with no suggestion at all, for a name the bot knows."""
    reply = commands.subscribe(ADMIN, typed)
    assert reply.kind == "text", reply.text
    assert listed in commands.subscriptions(MEMBER).text
    assert "no longer" in commands.unsubscribe(ADMIN, typed).text


@pytest.mark.parametrize("typed, first", [
    ("alibabba", "Alibaba"),
    ("pricng", "pricing"),          # a topic's typo: it came after a company ("Microsoft")
    ("chipz", "chips"),
    ("opnai", "OpenAI"),
    ("英伟", "Nvidia"),             # by its name 英伟达, as the company picker offers it
])
def test_unknown_subscription_target_suggests_the_closest_first(commands, typed, first):
    reply = commands.subscribe(ADMIN, typed)
    assert reply.kind == "error" and f"did you mean {first}" in reply.text
    assert commands.store.subscriptions_for_channel("discord", "c1") == []


def test_unsubscribe(commands):
    commands.subscribe(ADMIN, "pricing")
    commands.subscribe(ADMIN, "Nvidia")
    assert "no longer" in commands.unsubscribe(ADMIN, "pricing").text
    text = commands.subscriptions(MEMBER).text
    assert "Nvidia" in text and "pricing" not in text
    assert commands.unsubscribe(ADMIN, "chips").kind == "error"


@pytest.mark.parametrize("follows, typed, said", [
    (("pricing", "Nvidia"), "chatgpt",
     "this channel doesn't follow stories about OpenAI; it follows Nvidia, pricing: e.g. "
     "`unsubscribe Nvidia`, or `unsubscribe all` for everything"),
    (("Nvidia",), "xyzzy", "this channel doesn't follow 'xyzzy'; it follows Nvidia: "
                           "`unsubscribe Nvidia` stops that"),
    ((), "pricing", "this channel doesn't follow stories on Pricing & monetization (topic "
                    "pricing); it follows nothing"),
])
def test_unsubscribing_what_the_channel_does_not_follow_names_what_it_does(
        commands, follows, typed, said):
    """It answered "doesn't follow 'chatgpt'; `subscriptions` lists what it follows":
    another command to run for what the bot knew, and the alias as typed, as if the
    bot knew no OpenAI."""
    for target in follows:
        commands.subscribe(ADMIN, target)
    reply = commands.unsubscribe(ADMIN, typed)
    assert reply.kind == "error" and reply.text == said
    assert len(commands.store.subscriptions_for_channel("discord", "c1")) == len(follows)


def test_unsubscribe_without_a_target_names_what_the_channel_follows(commands):
    """`/unsubscribe` alone answered "e.g. /unsubscribe TARGET": a placeholder, though
    the channel's own targets were known."""
    assert commands.unsubscribe(ADMIN, " ").text == (
        "This channel follows nothing; nothing to stop. `subscriptions` lists what it follows.")
    commands.subscribe(ADMIN, "pricing")
    commands.subscribe(ADMIN, "Nvidia")
    reply = commands.unsubscribe(ADMIN, "")
    assert reply.kind == "error" and reply.text == (
        "say what to stop following; this channel follows Nvidia, pricing: e.g. "
        "`unsubscribe Nvidia`, or `unsubscribe all` for everything")
    commands.subscribe(ADMIN, "all")     # stored first: no "e.g. unsubscribe all, or ..."
    assert "e.g. `unsubscribe Nvidia`, or `unsubscribe all`" in commands.unsubscribe(ADMIN, "").text
    for target in ("Nvidia", "pricing"):
        commands.unsubscribe(ADMIN, target)
    assert commands.unsubscribe(ADMIN, "").text == (
        "say what to stop following; this channel follows all strategy stories: "
        "`unsubscribe all` stops them")


def test_unsubscribe_choices_stay_removable_when_the_gazetteer_forgets_a_name(commands):
    """A picker choice names its kind (`company:X`); one for a company no longer in the
    company list (a custom one removed from the TOML) must still unsubscribe it."""
    from feeds.models import Subscription
    commands.store.subscribe(Subscription("discord", "g1", "c1", "company", "Gone Corp"))
    [(label, value)] = commands.complete_subscription(ADMIN, "gone")
    assert (label, value) == ("Gone Corp", "company:Gone Corp")
    assert "no longer gets stories about Gone Corp" in commands.unsubscribe(ADMIN, value).text
    assert commands.complete_subscription(ADMIN, "") == []


@pytest.mark.parametrize("follows, stopped", [
    (("pricing", "qwen"), "Alibaba, pricing"),            # named targets only
    (("all", "pricing"), "all, pricing"),                 # all plus a named target
    (("Nvidia",), "Nvidia"),
])
@pytest.mark.parametrize("typed", ["all", "ALL", "everything"])
def test_unsubscribe_all_stops_everything_the_channel_follows(commands, follows, stopped,
                                                              typed):
    """An operator's channel followed pricing and Alibaba: `unsubscribe all` answered
    "this channel doesn't follow 'all'", with no one step to stop everything."""
    for target in follows:
        commands.subscribe(ADMIN, target)
    reply = commands.unsubscribe(ADMIN, typed)
    assert reply.kind == "text" and not reply.ephemeral
    assert f"no longer gets anything (stopped: {stopped})" in reply.text
    assert commands.store.subscriptions_for_channel("discord", "c1") == []
    assert "follows nothing" in commands.subscriptions(MEMBER).text
    assert "follows nothing" in commands.unsubscribe(ADMIN, "all").text


def _held_for_digest(commands, clock, *follows: str) -> None:
    """The seeds' stories held for an 18:00 digest in channel c1, which follows `follows`."""
    from bot.dispatch import dispatch_new
    from feeds.models import FeedSource
    commands.store.upsert_feed(FeedSource("FT", "https://news.example/rss"))   # the seeds'
    for target in follows:
        commands.subscribe(ADMIN, target)
    commands.digest(ADMIN, "daily", "18:00", "Europe/London")
    stored = commands.store.stories_to_dispatch(0, commands.store.last_story_pk())
    assert dispatch_new(commands.store, stored, clock()) >= 1          # held for 18:00


def _killed(*_a, **_k):
    """A store write the bot was killed in."""
    raise RuntimeError("killed")


def test_unsubscribe_all_drops_the_waiting_posts_and_keeps_the_digest_setting(commands,
                                                                              clock):
    _held_for_digest(commands, clock, "pricing", "Baidu")
    text = commands.unsubscribe(ADMIN, "all").text
    assert re.search(r"\d+ waiting posts? won't go out", text) and "digest off" in text
    assert set(commands.store.outbox_counts()) == {"cancelled"}


@pytest.mark.parametrize("follows, typed", [(("pricing", "Baidu"), "all"),
                                             (("pricing",), "pricing")])
def test_unsubscribe_cut_short_keeps_the_subscription_with_its_waiting_posts(
        commands, clock, monkeypatch, follows, typed):
    """The subscription went in one transaction and its waiting posts in the next: the
    bot killed in between (a SIGKILL, the OOM killer, a crash), the channel that said
    stop got the day's digest all the same. Both go together, or neither."""
    _held_for_digest(commands, clock, *follows)
    monkeypatch.setattr(commands.store, "cancel_posts", _killed)
    with pytest.raises(RuntimeError):
        commands.unsubscribe(ADMIN, typed)
    assert len(commands.store.subscriptions_for_channel("discord", "c1")) == len(follows)
    assert set(commands.store.outbox_counts()) == {"held"}


def test_unsubscribe_offers_all_and_help_says_what_it_does(commands):
    commands.subscribe(ADMIN, "pricing")
    assert ("Everything this channel follows (stop all)", "all") not in \
        commands.complete_subscription(ADMIN, "")          # one target: itself is enough
    commands.subscribe(ADMIN, "Nvidia")
    assert commands.complete_subscription(ADMIN, "al")[-1] == (
        "Everything this channel follows (stop all)", "all")
    assert "unsubscribe all` stops everything" in commands.help(MEMBER).text


@pytest.mark.parametrize("target", ["", "   ", None])
def test_unsubscribe_without_a_target_says_what_to_type(commands, target):
    # It answered "this channel doesn't follow ''", which tells no one what to do.
    commands.subscribe(ADMIN, "pricing")
    reply = commands.unsubscribe(ADMIN, target)
    assert reply.kind == "error" and "''" not in reply.text
    assert "e.g. `unsubscribe pricing`" in reply.text
    assert "pricing" in commands.subscriptions(MEMBER).text


def test_subscriptions_empty_and_paused(commands):
    assert "follows nothing" in commands.subscriptions(MEMBER).text
    commands.subscribe(ADMIN, "all")
    commands.store.pause_channel("discord", "c1", "bot removed from the server")
    assert "PAUSED: bot removed from the server" in commands.subscriptions(MEMBER).text
    assert commands.subscribe(ADMIN, "all").text.startswith(
        "This channel gets all AI strategy stories again.")
    assert "PAUSED" not in commands.subscriptions(MEMBER).text


def test_a_paused_channel_says_so_once_with_one_command_that_resumes_everything(commands):
    """The pause covers the channel: each subscription repeated the reason with its own
    'subscribe X to resume', as if each needed a command, though one resumes them all."""
    for target in ("pricing", "qwen", "Nvidia"):
        commands.subscribe(ADMIN, target)
    commands.store.pause_channel("discord", "c1", "Missing Access")
    text = commands.subscriptions(MEMBER).text
    assert text.count("Missing Access") == 1 and text.count("— paused") == 3
    assert "then `subscribe Alibaba` resumes every subscription above" in text
    resumed = commands.subscribe(ADMIN, "chips").text
    assert "resumes for its other 3 subscriptions too" in resumed
    assert "paused" not in commands.subscriptions(MEMBER).text.casefold()


@pytest.mark.parametrize("tz, next_digest", [
    ("Europe/London", "next: Tue 03 Mar 09:00 GMT"),     # clock: Mon 02 Mar 09:00 UTC
    ("Asia/Shanghai", "next: Tue 03 Mar 09:00 CST"),
])
@pytest.mark.parametrize("follows", [True, False])
def test_subscriptions_show_the_digest_time_zone_and_next_digest(commands, tz, next_digest,
                                                                 follows):
    """It said "one digest a day at 09:00 Europe/London": not when the next comes, nor
    that a day with no new stories sends none; and nothing once the list was empty."""
    if follows:
        commands.subscribe(ADMIN, "pricing")
    commands.digest(ADMIN, "daily", "09:00", tz)
    text = commands.subscriptions(MEMBER).text
    assert f"one digest a day at 09:00 {tz} ({next_digest})" in text
    assert "no digest on a day without new stories" in text


def test_all_plus_named_targets_says_the_named_ones_add_nothing(commands):
    commands.subscribe(ADMIN, "all")
    assert "already gets all strategy stories" in commands.subscribe(ADMIN, "pricing").text
    text = commands.subscriptions(MEMBER).text
    assert "(topic pricing) (already included in all)" in text
    assert "all AI strategy stories\n" in text


def test_subscriptions_are_per_channel(commands):
    commands.subscribe(ADMIN, "all")
    other = replace(MEMBER, channel="c2")
    assert "follows nothing" in commands.subscriptions(other).text


# A Discord thread (the one the bot opens under a post, DISCORD_THREADS=1): an id of its
# own, in channel c1.
IN_THREAD = replace(MEMBER, channel="t1", parent="c1")
ADMIN_IN_THREAD = replace(ADMIN, channel="t1", parent="c1")


def test_in_a_thread_subscriptions_tell_what_its_channel_gets(commands):
    """It said "This channel follows nothing yet. Admins: /subscribe all" under a post
    the channel got, inviting a subscription that would post each story twice."""
    commands.subscribe(ADMIN, "pricing")
    commands.digest(ADMIN, "daily", "09:00")
    text = commands.subscriptions(IN_THREAD).text
    assert text.startswith("This thread follows nothing of its own; the channel it is in "
                           "gets:"), text
    assert "(topic pricing)" in text and "one digest a day at 09:00" in text
    assert "follows nothing yet" not in text and "subscribe all" not in text
    commands.store.pause_channel("discord", "c1", "Missing Access")
    # Subscribing in the thread would make it a channel of its own, not resume c1.
    assert "Nothing is posted there until that is fixed; then `subscribe pricing` in that " \
           "channel resumes" in commands.subscriptions(IN_THREAD).text


def test_a_thread_that_follows_something_lists_its_own(commands):
    """A subscription made in a thread posts there (docs/discord.md): that is its list."""
    commands.subscribe(ADMIN, "pricing")
    commands.subscribe(ADMIN_IN_THREAD, "chips")
    text = commands.subscriptions(IN_THREAD).text
    assert text.startswith("This channel gets:") and "(topic chips)" in text
    assert "pricing" not in text


@pytest.mark.parametrize("target", ["pricing", "all", ""])
def test_unsubscribe_in_a_thread_says_to_run_it_in_the_channel(commands, target):
    """It answered "This channel follows nothing" (or "doesn't follow 'pricing'") where
    the channel the thread is in did, and left it as it was."""
    commands.subscribe(ADMIN, "pricing")
    reply = commands.unsubscribe(ADMIN_IN_THREAD, target)
    assert reply.kind == "error"
    assert "this thread follows nothing of its own; the channel it is in follows pricing: " \
           "run `unsubscribe pricing` there" in reply.text, reply.text
    assert [s.target for s in commands.store.subscriptions_for_channel("discord", "c1")] == [
        "pricing"]


@pytest.mark.parametrize("platform, server", [("discord", "server"), ("slack", "workspace")])
def test_a_server_gets_posts_in_at_most_its_cap_of_channels(store, classifier, clock,
                                                            platform, server):
    """Anyone may add a public Discord bot to a server of their own and subscribe every
    channel and thread there: each story was then one post per channel, all through the
    one rate limit every other server's posts wait on."""
    from bot.commands import Commands
    from bot.config import Settings
    commands = Commands(store, classifier, settings=Settings(channels_per_server=2),
                        clock=clock)
    admin = replace(ADMIN, platform=platform)
    for channel in ("c1", "c2"):
        assert commands.subscribe(replace(admin, channel=channel), "pricing").kind == "text"
    refused = commands.subscribe(replace(admin, channel="c3"), "all")
    assert refused.kind == "error" and refused.text == (
        f"this {server} already has posts in 2 channels, the most this bot takes from one "
        f"{server}; stop one of them first (run `unsubscribe all` there), or ask whoever "
        "runs the bot to raise AINEWS_CHANNELS_PER_SERVER")
    assert store.subscriptions_for_channel(platform, "c3") == []
    assert commands.subscribe(replace(admin, channel="c1"), "Nvidia").kind == "text"
    assert commands.subscribe(replace(admin, workspace="g2", channel="d1"), "all").kind == "text"
    store.pause_channel(platform, "c2", "deleted")     # gets no posts: a place is free
    assert commands.subscribe(replace(admin, channel="c3"), "all").kind == "text"
    assert commands.subscribe(replace(admin, channel="c2"), "all").kind == "error"   # resumed
    # Paused keeping its posts (the bot removed: bot/kept_posts.py), a channel keeps its
    # place: its posts are still routed there, and its resume is never refused.
    store.pause_channel(platform, "c1", "Missing Access", keep=True)
    assert commands.subscribe(replace(admin, channel="c4"), "all").kind == "error"
    assert commands.subscribe(replace(admin, channel="c1"), "all").kind == "text"


# ---- digest -------------------------------------------------------------------------------
def test_digest_daily_and_off(commands):
    reply = commands.digest(ADMIN, "daily", "8:30", "Europe/Berlin")
    assert "08:30 Europe/Berlin" in reply.text and not reply.ephemeral
    assert "none on a day without new stories" in reply.text
    setting = commands.store.digest_setting("discord", "c1")
    assert (setting.at_time, setting.tz) == ("08:30", "Europe/Berlin")
    commands.subscribe(ADMIN, "all")
    assert "digest a day at 08:30 Europe/Berlin" in commands.subscriptions(MEMBER).text
    assert "Digest off" in commands.digest(ADMIN, "off").text
    assert commands.store.digest_setting("discord", "c1") is None


def test_digest_off_cut_short_keeps_the_digest_with_its_held_posts(commands, clock,
                                                                   monkeypatch):
    """`digest off` cleared the setting in one transaction and let the held posts go in
    the next: the bot killed in between, they stayed held in a channel with no digest,
    and went out later as a roundup titled as over the hourly cap."""
    _held_for_digest(commands, clock, "pricing")
    monkeypatch.setattr(commands.store, "release_held", _killed)
    with pytest.raises(RuntimeError):
        commands.digest(ADMIN, "off")
    assert commands.store.digest_setting("discord", "c1") is not None
    assert set(commands.store.outbox_counts()) == {"held"}


@pytest.mark.parametrize("follows", [False, True])
def test_a_digest_for_a_channel_that_follows_nothing_says_so(commands, follows):
    # "now gets one digest a day" for a channel that follows nothing: an empty digest,
    # waited for in vain.
    if follows:
        commands.subscribe(ADMIN, "pricing")
    text = commands.digest(ADMIN, "daily", "8:30").text
    assert "digest a day at 08:30" in text
    assert ("follows nothing" in text and "subscribe all" in text) is not follows


@pytest.mark.parametrize("tz, note", [
    ("EST", "EST has no summer time"),
    ("GMT", "use Europe/London"),
    ("Europe/London", None),
    ("Asia/Shanghai", None),
    ("UTC", None),
])
def test_a_digest_in_a_zone_without_summer_time_says_what_that_means(commands, tz, note):
    """EST and GMT are valid zone names, but a New York or London channel that picks
    them gets its digest an hour late all summer, with nothing said."""
    text = commands.digest(ADMIN, "daily", "09:00", tz).text
    assert f"09:00 {tz}" in text
    assert (note in text) if note else ("summer time" not in text)


@pytest.mark.parametrize("line, understood", [
    ("daily 8:30 pm Europe/London", "20:30 Europe/London"),
    ("daily 08:30 PM Europe/London", "20:30 Europe/London"),
    ("daily 8:30pm Europe/London", "20:30 Europe/London"),
    ("daily 8 pm", "20:00 UTC"),
    ("daily 12 am Asia/Shanghai", "00:00 Asia/Shanghai"),
    ("daily 12 pm", "12:00 UTC"),
])
def test_a_twelve_hour_time_is_read_as_the_time_it_names_and_said_back(commands, line,
                                                                       understood):
    """`digest daily 8:30 pm Europe/London` was answered "unknown time zone 'pm
    Europe/London'; did you mean Europe/London?": the user who dropped the "pm" as told
    got a digest at 08:30, twelve hours early, with nothing said."""
    reply = commands.digest(ADMIN, line)
    assert reply.kind != "error", reply.text
    assert f"one digest a day at {understood} instead" in reply.text, reply.text
    setting = commands.store.digest_setting("discord", "c1")
    assert f"{setting.at_time} {setting.tz}" == understood


def test_a_mistyped_digest_time_zone_suggests_the_zone_meant(commands):
    reply = commands.digest(ADMIN, "daily 09:00 Europe/Londn")
    assert reply.kind == "error" and "did you mean Europe/London?" in reply.text
    assert commands.store.digest_setting("discord", "c1") is None


@pytest.mark.parametrize("args, message", [
    (("daily", "25:61"), "not a time"),
    (("daily", "08:30", "Moon/Base"), "unknown time zone"),
    (("daily",), "give the time of day"),
    (("weekly", "08:30"), "digest daily HH:MM"),
])
def test_digest_errors(commands, args, message):
    reply = commands.digest(ADMIN, *args)
    assert reply.kind == "error" and message in reply.text
    assert commands.store.digest_setting("discord", "c1") is None


def test_subscribing_again_lifts_a_channel_pause_for_all_its_subscriptions(commands):
    commands.subscribe(ADMIN, "pricing")
    commands.subscribe(ADMIN, "Nvidia")
    commands.store.pause_channel("discord", "c1", "missing permission")
    commands.subscribe(ADMIN, "chips")              # the admin fixed the channel
    text = commands.subscriptions(MEMBER).text
    assert "PAUSED" not in text and all(t in text for t in ("pricing", "Nvidia", "chips"))


# ---- what a new subscription says happens next ----------------------------------------
@pytest.mark.parametrize("target, lookup", [
    ("qwen", "/company name:Alibaba"),
    ("pricing", "/topic slug:pricing"),
    ("all", "/latest"),
])
def test_a_new_subscription_says_posts_start_with_the_next_story_and_how_to_see_the_latest(
        commands, target, lookup):
    """"This channel now gets stories about Alibaba." was followed by silence until a
    story was published after it (those already stored are never posted to it), and
    nothing offered the lookup that shows the latest now, as an empty lookup does."""
    shown = commands.subscribe(ADMIN, target).spelled(discord_spell)
    assert "new ones from now on" in shown, shown
    assert f"{lookup} shows the latest now" in shown, shown


@pytest.mark.parametrize("paused", [False, True])
def test_subscribing_in_a_digest_channel_says_the_stories_come_in_its_digest(commands,
                                                                             paused):
    """With a daily digest set, "This channel now gets all AI strategy stories." read as
    instant posts, and the channel then heard nothing until the next morning."""
    commands.digest(ADMIN, "daily", "08:30", "Europe/Berlin")
    if paused:
        commands.subscribe(ADMIN, "all")
        commands.store.pause_channel("discord", "c1", "Missing Access")
    text = commands.subscribe(ADMIN, "all").text
    assert "Delivery: one digest a day at 08:30 Europe/Berlin (next: Tue 03 Mar" in text
    elsewhere = replace(ADMIN, channel="c2")                    # no digest there
    assert "Delivery" not in commands.subscribe(elsewhere, "all").text
