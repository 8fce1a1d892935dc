"""The chat core as a user meets it: what they type in Slack and Discord, through the
real slack-bolt and discord.py against the fakes on loopback (tests/fakes/chat.py), and
what comes back. (test_commands*.py call the core directly; test_slack_commands.py and
test_discord_commands.py check the adapters with a stand-in core; /digest:
test_digest_chat.py.)"""
from __future__ import annotations

import logging

import pytest

from bot.commands import Commands
from bot.config import Settings
from bot.delivery import Delivery
from bot.dispatch import dispatch_new
from bot.slack import render, render_reply
from feeds.classify import Classifier
from feeds.models import Story, Subscription
from storage.store import Store
from tests.discord_kit import EPHEMERAL
from tests.fakes.chat import QWEN, WHEN, discord_chat, slack_chat


# (what the user types in Slack, the same in Discord, admin?) -> words in the answer
NAMES = {
    # Quotes around a name with a space in it; a phone's smart quotes; a Chinese IME's.
    "quoted company": (("/company", '"Alibaba Group"'),
                       ("company", {"name": '"Alibaba Group"'}), False,
                       "Alibaba open-sources Qwen 3"),
    "smart quotes and a limit": (("/company", "“Alibaba Group” 2"),
                                 ("company", {"name": "“Alibaba Group”", "limit": 2}),
                                 False, "Alibaba open-sources Qwen 3"),
    "corner brackets": (("/company", "「阿里巴巴」"),
                        ("company", {"name": "「阿里巴巴」"}), False,
                        "Alibaba open-sources Qwen 3"),
    "quoted topic": (("/latest", '"open source"'), ("latest", {"topic": '"open source"'}),
                     False, "Alibaba open-sources Qwen 3"),
    # Alibaba's legal name, as filings and Wikipedia give it.
    "legal name": (("/company", "Alibaba Group Holding Limited"),
                   ("company", {"name": "Alibaba Group Holding Limited"}), False,
                   "Alibaba open-sources Qwen 3"),
    "quoted subscribe": (("/subscribe", "‘Alibaba Group’"),
                         ("subscribe", {"target": "‘Alibaba Group’"}), True,
                         "This channel now gets stories about Alibaba:"),
    # A quote left open or never opened: a slip, not part of the name ("no company
    # ''alibaba'" named the right company in a reply that refused it).
    "quote left open": (("/company", "'alibaba"), ("company", {"name": "'alibaba"}), False,
                        "Alibaba open-sources Qwen 3"),
    "smart quote left open and a limit": (("/ainews", "company “Alibaba Group 2"),
                                          ("company", {"name": "“Alibaba Group", "limit": 2}),
                                          False, "Alibaba open-sources Qwen 3"),
    "quote never opened": (("/latest", 'open source"'), ("latest", {"topic": 'open source"'}),
                           False, "Alibaba open-sources Qwen 3"),
    "subscribe, quote left open": (("/subscribe", "'Alibaba Group"),
                                   ("subscribe", {"target": "'Alibaba Group"}), True,
                                   "This channel now gets stories about Alibaba:"),
}


@pytest.mark.parametrize("slack, discord, admin, shown", NAMES.values(), ids=NAMES)
async def test_a_name_in_quotes_or_in_full_is_the_name(chat, slack, discord, admin, shown):
    """`/company "Alibaba Group"` answered "no company '"Alibaba Group"' — did you mean
    Alibaba?": the quotes were read as part of the name."""
    answer = await chat.ask(slack, discord, admin=admin)
    assert shown in answer and "no company" not in answer, answer


MIXED_UP = {
    "topic for a company": (("/company", "pricing"), ("company", {"name": "pricing"}),
                            "'pricing' is a topic, not a company: ",
                            {"slack": "/ainews topic pricing",
                             "discord": "/topic slug:pricing"}),
    "company for a topic": (("/ainews", "topic alibaba"), ("topic", {"slug": "alibaba"}),
                            "'alibaba' is a company, not a topic: ",
                            {"slack": "/company Alibaba", "discord": "/company name:Alibaba"}),
    "alias for a topic": (("/latest", "qwen"), ("latest", {"topic": "qwen"}),
                          "'qwen' is a company, not a topic: ",
                          {"slack": "/company Alibaba", "discord": "/company name:Alibaba"}),
}


@pytest.mark.parametrize("slack, discord, said, example", MIXED_UP.values(), ids=MIXED_UP)
async def test_a_topic_typed_for_a_company_or_back_says_where_it_goes(chat, slack, discord,
                                                                      said, example):
    """`/company pricing` said to look at /topics for companies, `/latest alibaba` listed
    the topic slugs: the user had the right word in the wrong command."""
    answer = await chat.ask(slack, discord)
    assert said in answer and example[chat.platform] in answer, answer


async def test_unsubscribing_one_topic_of_all_says_it_comes_with_all(chat, chat_core):
    """A channel following all: `/unsubscribe chips` said "this channel doesn't follow
    'chips'", as if no chip stories would come; they still come, through all."""
    chat_core.store.subscribe(Subscription(chat.platform, "w", chat.channel, "all", "all"))
    answer = await chat.ask(("/unsubscribe", "chips"), ("unsubscribe", {"target": "chips"}),
                            admin=True)
    assert "they come with all strategy stories, which it follows" in answer, answer
    assert {"slack": "/unsubscribe all", "discord": "/unsubscribe target:all"}[
        chat.platform] in answer
    followed = chat_core.store.subscriptions_for_channel(chat.platform, chat.channel)
    assert [s.kind for s in followed] == ["all"]


UNSUBSCRIBE_ALL = {"slack": "/unsubscribe all", "discord": "/unsubscribe target:all"}


@pytest.mark.parametrize("target", ["pricing", "Alibaba"])
async def test_unsubscribing_a_target_of_a_channel_following_all_says_it_still_comes(
        chat, chat_core, target):
    """A channel following all and pricing: `/unsubscribe pricing` said "This channel no
    longer gets stories on Pricing & monetization", and the pricing stories kept coming."""
    for kind, name in (("all", "all"), ("topic", "pricing"), ("company", "Alibaba")):
        chat_core.store.subscribe(Subscription(chat.platform, "w", chat.channel, kind, name))
    answer = await chat.ask(("/unsubscribe", target), ("unsubscribe", {"target": target}),
                            admin=True)
    assert "no longer gets" not in answer and "on their own; they still come with all AI " \
        "strategy stories, which it follows" in answer, answer
    assert UNSUBSCRIBE_ALL[chat.platform] in answer and "stops everything)." in answer
    followed = chat_core.store.subscriptions_for_channel(chat.platform, chat.channel)
    assert target not in [s.target for s in followed] and "all" in [s.kind for s in followed]


SEVERAL = {
    "slack": "One topic or company at a time: /{0} pricing, then /{0} Alibaba",
    "discord": "One topic or company at a time: `/{0} target:pricing`, then "
               "`/{0} target:Alibaba`",
}


@pytest.mark.parametrize("command", ["subscribe", "unsubscribe"])
@pytest.mark.parametrize("typed", ["pricing, qwen", "pricing qwen", "pricing，阿里巴巴"])
async def test_several_targets_at_once_are_asked_for_one_at_a_time(chat, chat_core,
                                                                   command, typed):
    """`/subscribe pricing, qwen` answered "No topic or company 'pricing, qwen'", as if
    neither existed; `/unsubscribe pricing, qwen` "doesn't follow 'pricing, qwen'"."""
    for kind, name in (("topic", "pricing"), ("company", "Alibaba")):
        if command == "unsubscribe":
            chat_core.store.subscribe(Subscription(chat.platform, "w", chat.channel, kind,
                                                   name))
    before = chat_core.store.subscriptions_for_channel(chat.platform, chat.channel)
    answer = await chat.ask((f"/{command}", typed), (command, {"target": typed}), admin=True)
    assert answer.endswith(SEVERAL[chat.platform].format(command)), answer
    assert chat_core.store.subscriptions_for_channel(chat.platform, chat.channel) == before


async def test_a_link_wrapped_to_hide_its_preview_is_the_link(chat_core):
    """Discord users write <https://...> to keep a link from unfurling; /why said no
    story has that link. (Slack sends links wrapped anyway: test_slack_commands.)"""
    async with discord_chat(chat_core) as chat:
        answer = await chat.ask(None, ("why", {"link": f"<{QWEN.url}>"}))
    assert "Counted as AI strategy news." in answer and "No stored story" not in answer, answer


async def test_a_search_that_finds_more_than_it_shows_says_so(chat, chat_core):
    """`/ainews search alibaba` over an archive of thousands showed 5 stories and
    nothing more, as if those were all there is; search takes no limit in chat."""
    chat_core.store.add_new_stories([Story(
        id=f"a{i}", url=f"https://news.example/a{i}", title=f"Alibaba deal {i} with vendor{i}",
        text=f"Alibaba agreed terms{i} with supplier{i}.", source="Reuters",
        feed_url="https://news.example/rss", published=WHEN.replace(day=1 + i),
        classification=QWEN.classification) for i in range(12)], backlog=False, now=WHEN)
    many = await chat.ask(("/ainews", "search alibaba"), ("search", {"query": "alibaba"}))
    one = await chat.ask(("/ainews", "search qwen"), ("search", {"query": "qwen"}))
    assert "More stories match than these 5: add a word to narrow the search" in many, many
    assert {"slack": "/ainews search openai -microsoft",
            "discord": "/search query:openai -microsoft"}[chat.platform] in many
    assert "Alibaba open-sources Qwen 3" in one and "More stories" not in one


HYPHENATED_PREFIXES = " ".join(f"a-{c}*" for c in "abcdefghijklmnop")   # 79 characters


async def test_a_search_too_costly_to_run_says_how_to_narrow_it(chat):
    """16 hyphenated prefixes held the bot 9.7 s at 1M stories: no other user's command
    answered, nothing posted, no feed polled. Refused, saying what to change."""
    answer = await chat.ask(("/ainews", f"search {HYPHENATED_PREFIXES}"),
                            ("search", {"query": HYPHENATED_PREFIXES}))
    assert ("'a-a*' is too short a start of a word to search for: give at least 3 letters "
            "before the * (after any hyphen), e.g. ") in answer, answer
    assert {"slack": "/ainews search regulat*",
            "discord": "/search query:regulat*"}[chat.platform] in answer, answer


async def test_a_search_pasted_long_in_slack_is_refused(chat_core):
    # Discord's /search takes 200 characters; Slack's text took any length: one phrase
    # of 3,000 characters held the bot 57 s at 1M stories.
    phrase = '"' + " ".join(["said the"] * 333) + '"'
    async with slack_chat(chat_core) as chat:
        answer = await chat.ask(("/ainews", f"search {phrase}"), None)
    assert "That search is 2998 characters long, over 300: keep the few words" in answer


async def test_a_link_pasted_into_search_is_pointed_to_why(chat):
    # A story's link has 11 "words": it was refused as "too long to search for as one
    # phrase ... without quotes", though no quotes were typed.
    link = "https://techcrunch.com/2025/01/27/deepseek-r1-is-now-available"
    answer = await chat.ask(("/ainews", f"search {link}"), ("search", {"query": link}))
    why = {"slack": f"/ainews why {link}", "discord": f"/why link:{link}"}[chat.platform]
    assert "without quotes" not in answer and why in answer, answer


async def test_a_search_past_its_time_budget_is_answered_and_the_bot_goes_on(
        chat, chat_core, monkeypatch, caplog):
    from storage import budget, search
    monkeypatch.setattr(budget, "CHECK_EVERY", 1)
    monkeypatch.setattr(search, "SEARCH_BUDGET", 0.0)       # spent at once
    answer = await chat.ask(("/ainews", "search qwen"), ("search", {"query": "qwen"}))
    assert "That search is too broad to answer quickly: add a rarer word" in answer, answer
    assert STORE_DOWN not in answer and not any(r.exc_info for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    monkeypatch.setattr(search, "SEARCH_BUDGET", 0.5)
    answer = await chat.ask(("/ainews", "search qwen"), ("search", {"query": "qwen"}))
    assert "Alibaba open-sources Qwen 3" in answer, answer


async def test_subscribing_in_a_paused_channel_says_its_other_subscription_resumes(
        chat, chat_core):
    """It said "resumes for its other 1 subscription too"."""
    store = chat_core.store
    store.subscribe(Subscription(chat.platform, "w", chat.channel, "topic", "pricing"))
    store.pause_channel(chat.platform, chat.channel, "channel_not_found")
    answer = await chat.ask(("/subscribe", "qwen"), ("subscribe", {"target": "qwen"}),
                            admin=True)
    assert answer.startswith("This channel now gets stories about Alibaba: new ones"), answer
    assert answer.endswith("). Posting here resumes for its other subscription too."), answer
    assert not any(s.paused for s in store.subscriptions_for_channel(chat.platform,
                                                                     chat.channel))


REFUSED = {   # the platform refuses the bot's post; what /subscriptions says about it
    "slack": (lambda fake: fake.fail("chat.postMessage", error="not_in_channel"),
              "PAUSED: the bot is not in the channel; invite it with /invite @ainews "
              "(Slack said not_in_channel). Nothing is posted here until that is fixed; "
              "then /subscribe all resumes every subscription above."),
    "discord": (lambda fake: fake.fail("POST", r"/channels/\d+/messages", 403, code=50013),
                "PAUSED: Missing Permissions (needs Send Messages, or Send Messages in "
                "Threads in a thread, and Embed Links). Nothing is posted here until that "
                "is fixed; then `/subscribe target:all` resumes every subscription above."),
}


async def test_a_channel_paused_by_a_refused_post_says_why_without_the_logs_words(
        chat, chat_core):
    """It said "PAUSED: slack: chat.postMessage to C1 failed: not_in_channel: ..." and
    "PAUSED: discord: channel 1300000000000000001: Missing Permissions": the log line,
    with the channel's ID and an API method a member never sees."""
    store = chat_core.store
    store.subscribe(Subscription(chat.platform, "w", chat.channel, "all", "all"))
    dispatch_new(store, [QWEN], WHEN)
    refuse, said = REFUSED[chat.platform]
    refuse(chat.fake)
    assert await Delivery(store, {chat.platform: chat.adapter}).run_once() == 0
    answer = await chat.ask(("/subscriptions", ""), ("subscriptions", {}))
    assert said in answer and chat.channel not in answer, answer


FEED = "https://news.example/ai.xml"


async def test_a_feed_added_with_a_quoted_name_is_named_without_the_quotes(chat, chat_core):
    """`/ainews feeds add URL "Example News"` stored the name with its quotes, and every
    post from the feed showed the outlet as "Example News", quotes and all; a quoted
    URL was refused as having no scheme. In Discord a <URL> (kept from unfurling) too."""
    answer = await chat.ask(("/ainews", f'feeds add "{FEED}" "Example News"'),
                            ("feeds", {"url": f"<{FEED}>", "name": "“Example News”"},
                             {"subcommand": "add"}),
                            admin=True)
    assert f"Added feed Example News ({FEED})" in answer, answer
    assert [s.source.name for s in chat_core.store.feed_states()] == ["Example News"]


@pytest.mark.parametrize("url, said", [
    ("http://127.0.0.1/feed.xml", "Can't add http://127.0.0.1/feed.xml: 127.0.0.1 is a "
                                  "loopback address; refused"),
    ("file:///etc/passwd", "Can't add file:///etc/passwd: file:// is not fetched"),
    ("news.example/ai.xml", "Can't add news.example/ai.xml: news.example/ai.xml has no "
                            "scheme; start it with https:// or http://"),
])
async def test_a_feed_that_cant_be_added_says_why_without_the_logs_component(
        chat, chat_core, url, said):
    """`/feeds add` answered "Can't add URL: fetcher: 127.0.0.1 is a loopback address":
    the name of the module that logs it, as /digest no longer says "digest: "."""
    answer = await chat.ask(("/ainews", f"feeds add {url}"),
                            ("feeds", {"url": url}, {"subcommand": "add"}), admin=True)
    assert said in answer and "fetcher:" not in answer, answer
    assert chat_core.store.feed_states() == []


@pytest.mark.parametrize("opened", [slack_chat, discord_chat], ids=["slack", "discord"])
async def test_latest_in_an_archive_of_other_news_says_so(opened):
    """With stories stored but none of them strategy news, /latest said "No stories yet:
    the bot stores new ones as feeds are polled", as if the bot read nothing."""
    store = Store(":memory:")
    store.add_new_stories([Story(
        id="g1", url="https://news.example/phone", title="A phone review", text="A phone.",
        source="Reuters", feed_url="https://news.example/rss", published=WHEN)],
        backlog=False, now=WHEN)
    async with opened(Commands(store, Classifier(), Settings())) as chat:
        answer = await chat.ask(("/latest", ""), ("latest", {}))
    store.close()
    assert "No AI strategy stories yet: the stories stored so far are other news" in answer
    assert {"slack": "/ainews search qwen pricing",
            "discord": "/search query:qwen pricing"}[chat.platform] in answer, answer


async def test_why_takes_the_posts_own_message_link(chat, chat_core):
    """Asked why a post went out, people copy the post's link ("Copy link", "Copy Message
    Link"): /why answered that no story has that link. In Slack the story's own link is
    behind a button, which can't be copied: the message link was all a user had."""
    store = chat_core.store
    store.subscribe(Subscription(chat.platform, "w", chat.channel, "all", "all"))
    dispatch_new(store, [QWEN], WHEN)
    assert await Delivery(store, {chat.platform: chat.adapter}).run_once() == 1
    link = chat.message_link(store.outbox_post(1).message_id)
    answer = await chat.ask(("/ainews", f"why {link}"), ("why", {"link": link}))
    assert answer.startswith("Alibaba open-sources Qwen 3\nReuters · ") and \
        "Counted as AI strategy news." in answer, answer
    # A message of someone else's, or one long forgotten (another id, even when the
    # fake's own ends in 999: the test failed then).
    gone = link[:-3] + ("998" if link.endswith("999") else "999")
    answer = await chat.ask(("/ainews", f"why {gone}"), ("why", {"link": gone}))
    assert "That message is no post of this bot's that it still keeps" in answer, answer


@pytest.mark.parametrize("slack, discord, admin, shown", [
    (("/ainews", "topic 开源"), ("topic", {"slug": "开源"}), False,
     "Alibaba open-sources Qwen 3"),
    (("/latest", "芯片"), ("latest", {"topic": "芯片"}), False,
     "No strategy stories on Chips & compute in the archive yet."),
    (("/subscribe", "監管"), ("subscribe", {"target": "監管"}), True,     # traditional
     "This channel now gets stories on Policy, regulation & export controls (topic policy):"),
], ids=["topic", "latest", "subscribe"])
async def test_a_topic_named_in_chinese_is_the_topic(chat, slack, discord, admin, shown):
    """The bot reads Chinese outlets and takes 阿里巴巴 for Alibaba, but `/ainews topic 开源`
    answered "no topic '开源'": only China (中国) had a Chinese name."""
    answer = await chat.ask(slack, discord, admin=admin)
    assert shown in answer and "no topic" not in answer, answer


@pytest.mark.parametrize("command, option, typed, value", [
    ("topic", "slug", "芯片", "chips"), ("topic", "slug", "m&a", "acquisitions"),
    ("topic", "slug", "price", "pricing"),
    ("company", "name", "Alibaba Group Holding Limited", "Alibaba"),
    ("company", "name", '"Tencent Holdings"', "Tencent")])
async def test_the_picker_offers_what_a_name_names(chat_core, command, option, typed, value):
    """/topic 芯片, /topic m&a, /company Alibaba Group Holding Limited work, but Discord's
    picker offered nothing for them, as if there were no such topic or company."""
    async with discord_chat(chat_core) as chat:
        inter = await chat.fake.autocomplete(command, {option: typed}, option)
        choices = (await chat.fake.callback(inter))["data"]["choices"]
    assert value in [c["value"] for c in choices], choices


@pytest.mark.parametrize("slack, discord, said", [
    (("/unsubscribe", "\u202eevil"), ("unsubscribe", {"target": "\u202eevil"}),
     "This channel doesn't follow 'evil'; "),
    (("/ainews", "why \u202elive.com\x1b[2J"), ("why", {"link": "\u202elive.com\x1b[2J"}),
     "No stored story has the link or id 'live.com[2J' — "),
], ids=["unsubscribe", "why"])
async def test_an_error_quoting_a_bidi_override_reads_left_to_right(chat, slack, discord, said):
    """A U+202E pasted into a command came back inside the error, and reversed the rest
    of it: "this channel doesn't follow 'swollof ti tahw stsil snoitpircsbus/ ;'live"."""
    answer = await chat.ask(slack, discord, admin=True)
    assert said in answer and "\u202e" not in answer and "\x1b" not in answer, answer


async def test_why_shows_a_lookalike_host_as_punycode(chat, chat_core):
    """/why showed a story's link https://pаypal.com/login (a Cyrillic "а") as written,
    and Discord made it a link reading "paypal.com"; browsers show such hosts in punycode."""
    chat_core.store.add_new_stories([Story(
        id="p1", url="https://p\u0430ypal.com/login", title="Alibaba pays out",
        text="Alibaba pays.", source="Reuters", feed_url="https://news.example/rss",
        published=WHEN, classification=QWEN.classification)], backlog=False, now=WHEN)
    answer = await chat.ask(("/ainews", "why p1"), ("why", {"link": "p1"}))
    assert "https://xn--pypal-4ve.com/login" in answer and "\u0430" not in answer, answer


@pytest.mark.parametrize("slack, discord, does", [
    (("/ainews", "feeds list"), ("feeds", {}, {"subcommand": "list"}),
     "can manage the bot's feeds"),
    (("/subscribe", "pricing"), ("subscribe", {"target": "pricing"}),
     "can change what this channel gets"),
], ids=["feeds", "subscribe"])
async def test_a_member_refused_is_told_who_may_in_the_same_words(chat, slack, discord, does):
    """`/ainews feeds list` from a Slack member said "only admins can manage the bot's
    feeds" (which admins? a channel manager is none here), and Discord refused in words
    of its own ("You need the Manage Server permission in this server to use this
    command") where Slack said who may and what to do."""
    answer = await chat.ask(slack, discord)
    who = {"slack": "Only workspace admins and owners (and members listed in the bot's "
                    "SLACK_ADMIN_USER_IDS) ",
           "discord": "Only the bot's owner (its application's owner in Discord's Developer "
                      "Portal, or that team's admins and developers) and users listed in its "
                      "DISCORD_ADMIN_USER_IDS "
                      if slack[0] == "/ainews" else
                      "Only members with the Manage Channels permission "}[chat.platform]
    assert who + does in answer and answer.endswith("; ask one of them"), answer


@pytest.mark.parametrize("slack, discord, said", [
    (("/company", "zzqx"), ("company", {"name": "zzqx"}), "No company 'zzqx' — "),
    (("/latest", "0"), ("latest", {"topic": "zzqx"}), ("Limit 0 is out", "No topic 'zzqx'")),
    (("/ainews", "why zzqx"), ("why", {"link": "zzqx"}), "No stored story has the link "),
], ids=["company", "latest", "why"])
async def test_the_cores_errors_start_with_a_capital_as_the_adapters_do(chat, slack, discord,
                                                                       said):
    """"no company 'zzqx' — ..." came under Slack's ":warning:" and Discord's "⚠️" in
    lower case, beside the adapters' own "Sorry, /company failed ..."."""
    answer = await chat.ask(slack, discord)
    said = said if isinstance(said, str) else said[chat.platform == "discord"]
    assert said in answer and answer.split(" ", 1)[1].startswith(said), answer


@pytest.mark.parametrize("slack, discord, said", [
    (("/latest", "chipz"), ("latest", {"topic": "chipz"}),
     "No topic 'chipz' — did you mean chips? Topics are: "),
    (("/subscribe", "pricng"), ("subscribe", {"target": "pricng"}),
     "No topic or company 'pricng' — did you mean pricing? Follow a topic slug ("),
    (("/digest", "daily 08:30 Europe/Londn"),
     ("digest", {"mode": "daily", "at": "08:30", "timezone": "Europe/Londn"}),
     "Unknown time zone 'Europe/Londn'; did you mean Europe/London? Use an IANA name "),
], ids=["topic", "subscribe", "time zone"])
async def test_a_sentence_after_a_suggestion_starts_with_a_capital(chat, slack, discord,
                                                                   said):
    """"did you mean Europe/London? use an IANA name": the sentence after the question
    began in lower case; the name offered stays as spelled (pricing, a slug)."""
    assert said in await chat.ask(slack, discord, admin=True)


async def test_a_command_that_breaks_says_so_alike_on_both_platforms(chat, chat_core,
                                                                      monkeypatch):
    """Discord said "Sorry, that command failed. The error was logged; please try again
    later." where Slack named the command and whom to tell if it keeps failing."""
    def broken(*args, **kwargs):
        raise RuntimeError("store is locked")
    monkeypatch.setattr(chat_core, "company", broken)
    answer = await chat.ask(("/company", "qwen"), ("company", {"name": "qwen"}))
    assert "Sorry, /company failed on our side. Try again in a minute; if it keeps failing, " \
           "tell whoever runs the bot." in answer, answer


STORE_DOWN = ("The bot's store is unavailable right now, so this command did nothing; try "
              "again later (whoever runs the bot can see why in its log)")


@pytest.mark.parametrize("slack, discord, admin, read, kind, why", [
    (("/company", "qwen"), ("company", {"name": "qwen"}), False, "stories_for_company", "io",
     "disk I/O error"),
    (("/latest", ""), ("latest", {}), False, "latest", "damaged", "is damaged"),
    (("/ainews", "search qwen"), ("search", {"query": "qwen"}), False, "find", "io", "disk I/O error"),
    (("/subscribe", "pricing"), ("subscribe", {"target": "pricing"}), True, None, "full",
     "its disk is full"),
    (("/ainews", "subscribe pricing"), ("subscribe", {"target": "pricing"}), True, None,
     "damaged", "is damaged"),
], ids=["company", "latest", "search", "subscribe", "subscribe as text"])
async def test_a_store_that_cannot_be_used_is_said_in_one_line(
        chat, chat_core, monkeypatch, caplog, slack, discord, admin, read, kind, why):
    """A failing disk or a damaged file under a lookup, a full disk under /subscribe:
    the user was told "Sorry, /company failed on our side" as for a bug, and the log had
    a traceback per command (sqlite3's bare "disk I/O error", naming no file). Now the
    user is told the store is unavailable, a subscribe that was not stored says so, and
    the log says once which file and what to do."""
    from tests.store_kit import fail_writes, sqlite_error

    def failing(*args, **kwargs):
        raise sqlite_error(kind)
    if read:
        monkeypatch.setattr(chat_core.store, read, failing)
    else:
        fail_writes(monkeypatch, chat_core.store, kind)
    answers = [await chat.ask(slack, discord, admin=admin) for _ in range(2)]
    assert all(STORE_DOWN in a and "now gets" not in a for a in answers), answers
    assert chat_core.store.subscriptions_for_channel(chat.platform, chat.channel) == []
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(": ", 2)[:2] for r in said] == [
        ["commands", "chat commands cannot use the store"]], caplog.text
    assert "store: " in said[0].getMessage() and why in said[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)


# ---- going fast -------------------------------------------------------------------------
SLOW_DOWN = "You're going fast: try again in 2 s"


@pytest.fixture
def paced(clock):
    """The chat core over the Qwen story, its pace on `clock` (which stands still until
    advanced), and the store's reads of the newest stories, one list per /latest run."""
    store = Store(":memory:")
    store.add_new_stories([QWEN], backlog=False, now=WHEN)
    read, latest = [], store.latest
    store.latest = lambda *a, **kw: read.append(a) or latest(*a, **kw)
    yield Commands(store, Classifier(), Settings(), monotonic=clock.monotonic), read
    store.close()


async def test_discord_user_going_fast_is_told_to_slow_down_and_nothing_runs(paced, clock):
    """A script or an impatient user firing /latest kept the event loop busy for
    everyone; the sixth at once, and a share click, now get a private "try again"."""
    core, read = paced
    async with discord_chat(core) as chat:
        fake = chat.fake
        answers = [(await fake.callback(await fake.command("latest")))["data"]
                   for _ in range(5)]
        shown = fake.messages[next(reversed(fake.messages))]
        sixth = (await fake.callback(await fake.command("latest")))["data"]
        share = answers[-1]["components"][0]["components"][0]["custom_id"]
        click = (await fake.callback(await fake.click(shown, share)))["data"]
        picker = (await fake.callback(await fake.autocomplete("company", {"name": "ali"},
                                                              "name")))["data"]
        assert len(read) == 5    # neither the sixth nor the click read the store
        other = (await fake.callback(await fake.command(
            "latest", user_id=1600000000000000002)))["data"]
        clock.advance(2)
        again = (await fake.callback(await fake.command("latest")))["data"]
    for refused in (sixth, click):
        assert refused["content"] == "⚠️ " + SLOW_DOWN and not refused.get("embeds")
        assert refused["flags"] & EPHEMERAL
    assert {"name": "Alibaba", "value": "Alibaba"} in picker["choices"]   # not counted
    assert [a["embeds"][0]["title"] for a in (answers[0], other, again)] == \
        ["Alibaba open-sources Qwen 3"] * 3
    assert len(read) == 7


async def test_slack_user_going_fast_is_told_to_slow_down_and_nothing_runs(paced, clock):
    core, read = paced
    async with slack_chat(core) as chat:
        fake = chat.fake

        async def run(command, text="", user="UPLAIN"):
            _, rid = await fake.slash_socket(command, text, user=user, channel=chat.channel)
            return await fake.wait_response(rid, timeout=5)

        answers = [await run("/latest") for _ in range(5)]
        sixth = await run("/ainews", "latest")
        share = [e["value"] for b in answers[-1]["blocks"] if b["type"] == "actions"
                 for e in b["elements"] if e["action_id"] == render_reply.SHARE_ACTION][0]
        _, rid = await fake.action_socket(render_reply.SHARE_ACTION, share, user="UPLAIN")
        click = await fake.wait_response(rid, timeout=5)
        assert len(read) == 5
        other = await run("/latest", user="UADMIN")
        clock.advance(2)
        again = await run("/latest")
    for refused in (sixth, click):
        assert _said(refused) == ":warning: " + SLOW_DOWN
        assert refused["response_type"] == "ephemeral"
    assert all("Alibaba open-sources Qwen 3" in _said(a) for a in (answers[0], other, again))
    assert len(read) == 7


def _said(answer: dict) -> str:
    return "\n".join(t for _, t in render.all_texts(answer["blocks"]))
