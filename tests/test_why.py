"""`why` in chat (bot/commands.py, bot/why.py): a reader's "why was this posted?" answered
from the stored verdict: their own channel's post, their workspace's other channels
counted, safe to render."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.commands import Commands
from bot.config import Settings
from bot.replies import DM, Caller
from feeds.classify import Classifier
from feeds.models import UNDATED, Subscription, shown_utc, utcnow
from feeds.plural import count
from storage.store import Store
from tests.fakes.slack import make_brief
from tests.fakes.stories import classified

SLACK_T1 = Caller("slack", "T1", "C1", "U1")
WORKSPACE = {"slack": "workspace", "discord": "server"}
LINK = "https://news.example.com/lead"


@pytest.fixture(scope="module")
def classifier():
    return Classifier()


@pytest.fixture
def commands(tmp_path, classifier):
    now = utcnow()
    store = Store(tmp_path / "ainews.db")
    store.add_new_stories([classified(
        classifier, "lead", "Alibaba cuts Qwen API prices by 50% <!channel> @everyone",
        "Alibaba Cloud said it would cut Qwen prices for enterprise customers.", now)],
        backlog=False, now=now)
    for platform, workspace, channel in (("slack", "T1", "C1"), ("slack", "T2", "C9"),
                                         ("discord", "g1", "123")):
        store.enqueue_post(cluster_id="lead", brief=make_brief(id="lead"), platform=platform,
                           workspace=workspace, channel=channel, held=False, now=now)
    yield Commands(store, classifier, settings=Settings())
    store.close()


@pytest.mark.parametrize("caller", [SLACK_T1, Caller("discord", "g1", "123", "u1")])
def test_a_reader_sees_the_verdict_and_only_their_workspaces_posts(commands, caller):
    text = commands.why(caller, LINK).text
    assert text.splitlines()[2:] == [
        "Counted as AI strategy news.", "Companies: Alibaba · Topics: enterprise, pricing, china",
        'Words that weighed most: "prices" in the headline, "api" in the headline, '
        '"alibaba cloud".', "This channel: waiting to be posted."], text     # not C9's


def test_the_operator_sees_the_classifiers_terms_and_every_post(commands):
    text = commands.why(Caller("console", "console", "console", "cli"), LINK).text
    assert "verdict: strategy (" in text and "rules: company:Alibaba" in text
    assert text.splitlines()[-1] == "posts: slack C1 due; slack C9 due; discord 123 due"


@pytest.mark.parametrize("follows, line", [
    (("company", "Alibaba"), "This channel: posted {}, because it follows Alibaba."),
    (("all", "all"), "This channel: posted {}, because it follows all AI strategy news."),
])
def test_a_reader_is_told_in_plain_words_why_it_came_to_their_channel(commands, follows, line):
    """"verdict: strategy (score 15.45, p 0.96, threshold 0.45)", "rules: term:price war
    +6.75 [pricing] (title); cap:pricing 18.3 -> 4.5", "feature:company@title +1.65":
    a channel member learned neither why the story counted nor which subscription
    brought it. The chat answer says both in words."""
    store, now = commands.store, utcnow()
    store.add_subscription(Subscription("slack", "T1", "C1", *follows), now=now)
    store.record_sent(1, "C1:1700000000.000100", now, shown=make_brief())
    text = commands.why(SLACK_T1, LINK).text
    assert text.splitlines()[-1] == line.format(shown_utc(now)), text
    for technical in ("verdict:", "rules:", "term:", "feature:", "score", "cap:", "->"):
        assert technical not in text, technical


def test_a_channel_following_several_of_its_names_reads_them_as_a_list(commands):
    """"because it follows Alibaba and china and pricing": topics by their slugs alone
    read as words (a lower-case country), and three were strung on "and"."""
    store, now = commands.store, utcnow()
    for kind, target in (("company", "Alibaba"), ("topic", "china"), ("topic", "pricing"),
                         ("topic", "funding")):      # not one of the story's topics
        store.add_subscription(Subscription("slack", "T1", "C1", kind, target), now=now)
    store.record_sent(1, "C1:1700000000.000100", now, shown=make_brief())
    assert commands.why(SLACK_T1, LINK).text.splitlines()[-1] == (
        f"This channel: posted {shown_utc(now)}, because it follows Alibaba, the topic "
        "china and the topic pricing.")


def test_a_held_post_says_it_waits_for_the_channels_roundup(commands):
    store, now = commands.store, utcnow()
    store.add_subscription(Subscription("slack", "T1", "C4", "topic", "pricing"), now=now)
    store.set_digest("slack", "T1", "C4", "08:30", "UTC", now=now)
    store.enqueue_post(cluster_id="lead", brief=make_brief(id="lead"), platform="slack",
                       workspace="T1", channel="C4", held=True, now=now)
    text = commands.why(replace(SLACK_T1, channel="C4"), LINK).text
    assert ("This channel: held for the channel's daily roundup, because it follows the "
            "topic pricing." in text.splitlines()), text


@pytest.mark.parametrize("caller", [SLACK_T1, Caller("discord", "g1", "123", "u1")],
                         ids=["slack", "discord"])
def test_a_reader_is_told_of_other_channels_by_count_not_by_id(commands, caller):
    """"Channel C2: waiting to be posted": another channel's raw id, a private one's too,
    told a reader that a channel they may not be in exists and what it gets, in words
    they could not read. Their own is "this channel"; the others are counted."""
    others = ["C2", "C3"] if caller.platform == "slack" else ["1300000000000000456"]
    for channel in others:
        commands.store.enqueue_post(cluster_id="lead", brief=make_brief(id="lead"),
                                    platform=caller.platform, workspace=caller.workspace,
                                    channel=channel, held=False, now=utcnow())
    many = count(len(others), "other channel")
    text = commands.why(caller, LINK).text
    assert text.splitlines()[-2:] == [
        "This channel: waiting to be posted.",
        f"{many} in this {WORKSPACE[caller.platform]} {'gets' if len(others) == 1 else 'get'} "
        "it too."], text
    elsewhere = commands.why(replace(caller, channel="C7"), LINK).text
    assert elsewhere.splitlines()[-1] == (
        f"Not posted in this channel; {count(len(others) + 1, 'other channel')} in this "
        f"{WORKSPACE[caller.platform]} get it."), elsewhere
    for channel in others + [caller.channel]:
        assert channel not in text.splitlines()[-1] + elsewhere.splitlines()[-1]


@pytest.mark.parametrize("others", [0, 1])
def test_a_channel_subscribed_after_the_story_came_is_told_so(commands, others):
    """A channel subscribed to Alibaba an hour after the story came asked why it never
    got it, and was told "no channel in this workspace follows its companies or
    topics": it did, and does."""
    asker = replace(SLACK_T1, channel="C7") if others else Caller("slack", "T3", "C8", "U1")
    commands.store.add_subscription(Subscription("slack", asker.workspace, asker.channel,
                                                 "company", "Alibaba"),
                                    now=utcnow() + timedelta(hours=1))
    text = commands.why(asker, LINK).text
    told = ["Not posted in this channel: it came before the channel followed Alibaba, and "
            "a subscription gets the stories new from then on."]
    assert text.splitlines()[-1 - others:] == told + (
        ["1 other channel in this workspace gets it."] if others else []), text


@pytest.mark.parametrize("link, words", [
    ("", "give a story's link as its post shows it, e.g. `why LINK`"),
    ("https://news.example.com/other", "no stored story has the link or id"),
])
def test_what_to_do_when_no_story_is_found(commands, link, words):
    reply = commands.why(SLACK_T1, link)
    assert reply.kind == "error" and words in reply.text


async def test_the_text_command_line_takes_a_link(commands):
    reply = await commands.run_text(SLACK_T1, f"why {LINK}?utm_campaign=x")
    assert reply.kind == "text" and reply.text.startswith("Alibaba cuts Qwen API prices")


def test_a_hostile_headline_pings_no_one_in_slack(commands):
    from bot.slack.render import all_texts
    from bot.slack.render_reply import reply_message
    shown = "\n".join(t for _, t in all_texts(reply_message(commands.why(SLACK_T1, LINK))["blocks"]))
    assert "<!channel>" not in shown and "Alibaba cuts Qwen API prices" in shown


def test_a_capped_topic_shows_a_clean_arrow(commands, classifier):
    """"cap:pricing 18.3 -> 4.5" came out of Slack as "18.3 -› 4.5"."""
    from bot.slack.render import all_texts
    from bot.slack.render_reply import reply_message
    now = utcnow()
    commands.store.add_new_stories([classified(
        classifier, "capped", "Alibaba cuts Qwen API prices as price war with DeepSeek heats up",
        "Alibaba Cloud cut Qwen prices. The pricing change follows DeepSeek's cheaper "
        "model; the price war hits revenue.", now)], backlog=False, now=now)
    console = commands.why(Caller("console", "console", "console", "cli"), "capped").text
    assert " → " in console and " -> " not in console, console
    slack = reply_message(commands.why(SLACK_T1, "capped"))
    assert "-›" not in "\n".join(t for _, t in all_texts(slack["blocks"]))


def test_a_hostile_headline_pings_no_one_in_discord(commands):
    from bot.discord.render_reply import reply_payload
    payload = reply_payload(commands.why(replace(SLACK_T1, platform="discord"), LINK))
    shown = payload["content"] or payload["embeds"][0].description
    assert "@everyone" not in shown and "Alibaba cuts Qwen API prices" in shown


def test_a_storys_address_in_the_discord_answer_is_a_working_link_naming_no_one(
        commands, classifier):
    """The story's address is a line of the answer: "https://social.example/@everyone/1"
    read as a ping, and the zero-width space that broke the mention went into the link
    (another address). Its letter is %-escaped instead, the same address."""
    from bot.discord.render_reply import reply_payload
    now = utcnow()
    story = classified(classifier, "handle", "Alibaba cuts Qwen API prices by 50%",
                       "Alibaba Cloud said it would cut Qwen prices.", now)
    story = replace(story, url="https://social.example/@everyone/1")
    commands.store.add_new_stories([story], backlog=False, now=now)
    shown = reply_payload(commands.why(replace(SLACK_T1, platform="discord"), "handle"))
    assert "https://social.example/@%65veryone/1\n" in shown["content"], shown["content"]


@pytest.mark.parametrize("published_ago, backlog, flags, line, operator", [
    # Held for its age (AINEWS_MAX_POST_AGE_HOURS, 48 h by default): the reason was
    # given as a feed's first poll, which sent the operator looking at the wrong thing.
    (timedelta(days=3), False, (), "Not posted: it was published 3 days before the bot "
                                   "first saw it, older than the news it posts.",
     "too old: published 3 days before it was first seen, over AINEWS_MAX_POST_AGE_HOURS "
     "(48); stored, never posted"),
    (timedelta(hours=1), True, (), "Not posted: the bot stored it when it first read its "
                                   "feed, and posts none of that first batch (no flood of "
                                   "old news).",
     "backlog: stored by a feed's first poll, never posted"),
    # Undated, after a first poll that read nothing (a 304, an empty feed): it was said
    # to be a first poll's, though a later poll stored it.
    (timedelta(0), False, (UNDATED,), "Not posted: it has no date, and the bot stored it "
                                      "when it first read its feed's entries, of which it "
                                      "posts none (no flood of old news).",
     "undated: stored by the first poll to read its feed's entries (without a date it "
     "can't show it is newer than the feed's archive), never posted"),
], ids=["too old", "first poll", "undated"])
def test_a_story_never_posted_says_which_rule_held_it(commands, classifier, published_ago,
                                                      backlog, flags, line, operator):
    now = utcnow()
    story = classified(classifier, "held", "OpenAI raises $6.6bn at a $157bn valuation",
                       "OpenAI closed its funding round led by Thrive Capital.",
                       now - published_ago)
    story = replace(story, flags=flags)
    commands.store.add_new_stories([story], backlog=backlog, now=now, hold=lambda s: True)
    text = commands.why(SLACK_T1, "held").text
    assert text.splitlines()[-1] == line, text
    text = commands.why(Caller("console", "console", "console", "cli"), "held").text
    assert text.splitlines()[-1] == operator, text


def test_a_roundups_message_link_asks_for_one_storys_link(commands):
    """A roundup is one message of many stories: its link names none of them alone."""
    store, now = commands.store, utcnow()
    store.enqueue_post(cluster_id="other", brief=make_brief(id="other"), platform="slack",
                       workspace="T1", channel="C1", held=False, now=now)
    for row in (1, 4):          # lead's C1 post and the other story's, in one roundup
        store.record_sent(row, "C1:1700000000.000100", now, shown=make_brief())
    text = commands.why(SLACK_T1, "https://t1.slack.com/archives/C1/p1700000000000100").text
    assert text == ("that message is a roundup of 2 stories; give one story's link (its "
                    "headline's link in the roundup)")


def test_a_grouped_story_names_what_brought_its_leads_post(commands, classifier):
    """A story listed under another outlet's post went out as that post: the channel got
    it for the lead's companies and topics. Judged on its own (no "enterprise" in this
    report), the reader saw no reason at all."""
    store, now = commands.store, utcnow()
    member = classified(classifier, "member", "Alibaba halves Qwen model prices by 50%",
                        "Alibaba halved the prices of its Qwen models by 50%.", now,
                        source="Other Wire")
    store.add_new_stories([member], backlog=False, now=now)
    assert "enterprise" not in member.classification.topics
    store.add_subscription(Subscription("slack", "T1", "C1", "topic", "enterprise"), now=now)
    store.record_sent(1, "C1:1700000000.000100", now, shown=make_brief())
    text = commands.why(SLACK_T1, "member").text
    assert "this one is listed under it as also reported by" in text, text
    assert text.splitlines()[-1] == (f"This channel: posted {shown_utc(now)}, because it "
                                     "follows the topic enterprise."), text


def test_a_grouped_storys_own_post_names_what_brought_it(commands, classifier):
    """A report listed under another outlet's post is still routed by its own companies
    and topics: a channel following one the lead lacks (chips) gets this report as the
    cluster's post. Judged on the lead's alone, that channel read no reason at all, and
    the lead's channel none either once judged on the report's alone."""
    from bot.dispatch import dispatch_new
    store, now = commands.store, utcnow()
    for channel, topic in (("C1", "enterprise"), ("C3", "chips")):
        store.add_subscription(Subscription("slack", "T1", channel, "topic", topic), now=now)
    member = classified(classifier, "member", "Alibaba halves Qwen model prices by 50% as "
                        "it raises $2 billion for AI chips", "Alibaba halved the prices of "
                        "its Qwen models by 50%, and raised $2 billion for its AI chips.",
                        now, source="Other Wire")
    store.add_new_stories([member], backlog=False, now=now)
    assert store.cluster_info("member")[0] == "lead"
    assert "chips" in member.classification.topics
    assert "chips" not in store.story_record("lead").story.classification.topics
    dispatch_new(store, [member], now)       # C3 gets this report as the cluster's post
    lines = commands.why(SLACK_T1, "member").text.splitlines()
    assert ("This channel: waiting to be posted, because it follows the topic "
            "enterprise.") in lines
    c3 = commands.why(replace(SLACK_T1, channel="C3"), "member").text.splitlines()
    assert "This channel: waiting to be posted, because it follows the topic chips." in c3


async def test_a_post_too_old_by_its_turn_says_so(commands):
    """The bot was stopped for days: its post waited past AINEWS_MAX_POST_AGE_HOURS and
    was not made. Reader and operator are told why, not "waiting to be posted"."""
    from bot.delivery import Delivery
    from tests.fakes.recorder import FakeClock, RecordingAdapter
    clock = FakeClock(utcnow() + timedelta(days=3))
    adapter = RecordingAdapter(platform="slack", clock=clock)
    await Delivery(commands.store, {"slack": adapter}, clock=clock, sleep=clock.sleep,
                   max_post_age=timedelta(hours=48)).run_once()
    assert adapter.sends == []
    assert commands.why(SLACK_T1, LINK).text.splitlines()[-1] == (
        "This channel: not posted: it waited so long (the bot stopped, or the channel was "
        "paused or rate-limited) that it was no longer news.")
    operator = commands.why(Caller("console", "console", "console", "cli"), LINK).text
    assert operator.splitlines()[-1].startswith(
        "posts: slack C1 stale (too old to post: over AINEWS_MAX_POST_AGE_HOURS (48)"), operator


def _lead_queued_in_c1(store: Store, classifier, title: str, now, *, backlog=False) -> None:
    """Story "lead" about Alibaba's Qwen prices, stored at `now`, its post queued for
    Slack's C1."""
    store.add_new_stories([classified(
        classifier, "lead", title,
        "Alibaba Cloud said it would cut Qwen prices for enterprise customers.", now)],
        backlog=backlog, now=now)
    store.enqueue_post(cluster_id="lead", brief=make_brief(id="lead"), platform="slack",
                       workspace="T1", channel="C1", held=False, now=now)


# One other channel, or none: the count reads right, no blank line at the end.
@pytest.fixture
def why_commands(tmp_path):
    classifier = Classifier()
    store = Store(tmp_path / "why.db")
    _lead_queued_in_c1(store, classifier, "Alibaba cuts Qwen API prices by 50%", utcnow())
    yield Commands(store, classifier, settings=Settings())
    store.close()


def test_why_one_other_channel_reads_in_the_singular(why_commands):
    """Asked in C7 while only C1 gets the story: "1 other channel ... get it"."""
    text = why_commands.why(Caller("slack", "T1", "C7", "U1"), "https://news.example.com/lead").text
    assert text.splitlines()[-1] == ("Not posted in this channel; 1 other channel in this "
                                     "workspace gets it."), text


def test_why_in_the_posting_channel_ends_without_a_blank_line(why_commands):
    """Only this channel has it: _elsewhere returns "" and the answer ends in "\\n"."""
    text = why_commands.why(Caller("slack", "T1", "C1", "U1"), "https://news.example.com/lead").text
    assert not text.endswith("\n"), repr(text[-60:])


def test_why_in_a_thread_tells_of_the_post_in_the_channel_it_is_in(why_commands):
    """Asked in a thread opened under the post (Discord's DISCORD_THREADS=1), whose id is
    not its channel's: "Not posted in this channel; 1 other channel ... gets it"."""
    text = why_commands.why(Caller("slack", "T1", "TH9", "U1", parent="C1"),
                            "https://news.example.com/lead").text
    assert "The channel this thread is in: waiting to be posted" in text, text
    assert "Not posted in this channel" not in text and "other channel" not in text


@pytest.mark.parametrize("asker, label", [
    (Caller("slack", "T2", "C1", "U2"), "This channel"),
    (Caller("slack", "T2", "TH9", "U2", parent="C1"), "The channel this thread is in"),
], ids=["channel", "thread"])
def test_a_grid_member_of_another_workspace_is_told_of_their_channels_post(commands, asker,
                                                                           label):
    """An Enterprise Grid channel shared by workspaces T1 and T2 is one channel (C1), its
    subscription and post keyed by channel and stored with T1, whose admin subscribed.
    A T2 member asking in C1 was told "Not posted in this channel" of the post in front
    of them. Their channel is theirs whichever workspace it was stored with; only the
    other channels counted are their own workspace's (C9, not T1's)."""
    store, now = commands.store, utcnow()
    store.add_subscription(Subscription("slack", "T1", "C1", "company", "Alibaba"), now=now)
    store.enqueue_post(cluster_id="lead", brief=make_brief(id="lead"), platform="slack",
                       workspace="T1", channel="C2", held=False, now=now)
    store.record_sent(1, "C1:1700000000.000100", now, shown=make_brief())
    in_c1 = Caller("slack", "T2", "C1", "U2")      # /subscriptions already answers alike
    assert "stories about Alibaba" in commands.subscriptions(in_c1).text
    assert commands.why(asker, LINK).text.splitlines()[-2:] == [
        f"{label}: posted {shown_utc(now)}, because it follows Alibaba.",
        "1 other channel in this workspace gets it too."]


DISCORD_DM = Caller("discord", DM, "1700000000000000001", "1600000000000000001")


@pytest.mark.parametrize("caller, link, line", [
    # A Discord DM has no server and follows nothing: "no channel in this server
    # follows ...", though the story went out in servers' channels (the post's own
    # message link, copied from one, was asked by).
    (DISCORD_DM, LINK, "A direct message follows nothing: ask in a server channel to see "
                       "whether it was posted there."),
    (DISCORD_DM, "https://discord.com/channels/1200000000000000001/123/1500000000000000009",
     "A direct message follows nothing: ask in a server channel to see whether it was "
     "posted there."),
    # A Slack DM is in a workspace and may follow news (a DM with the bot takes
    # /subscribe), so it is a channel like any other there.
    (Caller("slack", "T1", "D0123", "U1"), LINK, "Not posted in this channel; 1 other "
                                                 "channel in this workspace gets it."),
], ids=["discord dm", "discord dm, message link", "slack dm"])
def test_why_in_a_direct_message_names_no_channel(commands, caller, link, line):
    commands.store.record_sent(3, "1500000000000000009", utcnow(), shown=make_brief())
    assert commands.why(caller, link).text.splitlines()[-1] == line


def test_why_in_a_discord_dm_of_a_story_not_counted_says_so(commands, classifier):
    """Not AI strategy news is posted nowhere: that much a DM is told as a channel is."""
    now = utcnow()
    commands.store.add_new_stories([classified(
        classifier, "weather", "Sunny weekend ahead for the coast",
        "Forecasters expect warm weather.", now)], backlog=False, now=now)
    assert commands.why(DISCORD_DM, "weather").text.splitlines()[-1] == (
        "Not posted: only AI strategy news is posted.")


@pytest.mark.parametrize("reason, told", [
    ("unsubscribed", "the channel stopped following it first"),
    ("edited", "its story was edited before it went out, and is no longer news this "
               "channel follows"),
], ids=["unsubscribed", "edited"])
def test_a_cancelled_post_says_what_cancelled_it(commands, reason, told):
    """An edit cancelling a waiting post (bot/dispatch.py) was told as the channel's
    doing: "the channel stopped following it first", though it followed all along."""
    from bot.commands_subs import UNSUBSCRIBED
    from bot.dispatch import EDITED_OUT
    (post,) = commands.store.waiting_posts("slack", "C1")
    if reason == "edited":      # the channel still follows what the story was about
        commands.store.add_subscription(Subscription("slack", "T1", "C1", "company",
                                                     "Alibaba"), now=utcnow())
    commands.store.cancel_posts([post.id], {"unsubscribed": UNSUBSCRIBED,
                                            "edited": EDITED_OUT}[reason])
    assert commands.why(SLACK_T1, LINK).text.splitlines()[-1] == (
        f"This channel: not posted: {told}.")


@pytest.mark.parametrize("backlog, line", [
    (False, "Posted or not: no longer known. The bot keeps a story in full for 180 days; "
            "this one is older, and its text and post records were forgotten."),
    (True, "Not posted: the bot stored it when it first read its feed, and posts none of "
           "that first batch (no flood of old news)."),
], ids=["new", "first poll"])
def test_a_pruned_story_is_not_told_never_posted(tmp_path, classifier, backlog, line):
    """The daily prune (AINEWS_KEEP_DAYS) marks the stories it slims "backlog" and
    forgets their settled posts: /why of a story posted 200 days ago said it was stored
    by its feed's first poll and never posted."""
    seen = utcnow() - timedelta(days=200)
    with Store(tmp_path / "ainews.db") as store:
        _lead_queued_in_c1(store, classifier,
                           "Alibaba cuts Qwen API prices by 50% to win customers", seen,
                           backlog=backlog)
        store.claim_post(1, seen)
        store.record_sent(1, "m1", seen, shown=make_brief(id="lead"))
        store.slim_stories_older_than(utcnow() - timedelta(days=180))
        text = Commands(store, classifier, settings=Settings()).why(SLACK_T1, "lead").text
    assert text.splitlines()[-1] == line, text


SLUG = "https://technews.example/2026/12/01/阿里巴巴-降价/"
ESCAPED = ("https://technews.example/2026/12/01/"
           "%E9%98%BF%E9%87%8C%E5%B7%B4%E5%B7%B4-%E9%99%8D%E4%BB%B7/")


@pytest.mark.parametrize("stored, given", [
    (SLUG, "discord"), (SLUG, "slack"),     # the post's own link: its Chinese %-escaped
    (SLUG, ESCAPED.lower()),                # escapes typed in lower case
    (ESCAPED.lower(), ESCAPED),             # a WordPress feed's %e9, a browser's %E9
    (ESCAPED.lower(), SLUG),                # ... and its address bar's characters
    (ESCAPED, SLUG),
    ("https://例子.example/a", "discord"),    # a host in Chinese, posted in punycode
    ("https://social.example/@everyone/1", "discord"),   # a letter escaped: @%65veryone
    # An escaped unreserved character, stored as the feed wrote it, given as typed.
    ("https://blog.example/%7Ebob/ai", "https://blog.example/~bob/ai"),
], ids=["discord", "slack", "lower", "upper", "decoded", "decoded-upper", "idn", "handle",
        "tilde"])
def test_why_takes_a_link_in_any_spelling_of_its_escapes(commands, classifier, stored, given):
    """A Chinese outlet's link holds its headline: stored as the feed wrote it, posted
    %-escaped (Discord and Slack refuse raw non-ASCII), shown decoded by browsers. `why`
    with the post's own link said "no stored story has the link"."""
    from bot.discord.render import safe_url as discord_link
    from bot.slack.render import safe_url as slack_link
    now = utcnow()
    story = replace(classified(classifier, "zh", "Alibaba cuts Qwen API prices by 50%",
                               "Alibaba Cloud said it would cut Qwen prices.", now), url=stored)
    commands.store.add_new_stories([story], backlog=False, now=now)
    link = {"discord": discord_link, "slack": slack_link}.get(given, lambda u: given)(stored)
    assert link != stored
    reply = commands.why(SLACK_T1, link)
    assert reply.kind == "text" and "no stored story" not in reply.text, reply.text
