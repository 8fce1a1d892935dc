"""Lookups through the neutral layer (bot/commands.py): company, latest, topic, search,
topics, help and completion, and every error a user can make in them."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from feeds.models import Subscription
from tests.classify_kit import gazetteer_classifier
from tests.commands_kit import (ADMIN, MEMBER, SEED, _story, core_commands, headlines,
                                seeded_store)


classifier = pytest.fixture(gazetteer_classifier, name="classifier", scope="module")
store = pytest.fixture(seeded_store, name="store")
commands = pytest.fixture(core_commands, name="commands")


# ---- lookups ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["alibaba", "ALIBABA", "Alibaba Group", "qwen"])
def test_company_by_name_or_alias(commands, name):
    reply = commands.company(MEMBER, name)
    assert reply.kind == "briefs" and reply.title == "Latest on Alibaba"
    assert headlines(reply) == [SEED]
    assert reply.ephemeral and reply.shareable


@pytest.mark.parametrize("typed, said", [
    ("alibba", "no company 'alibba' — did you mean Alibaba?"),
    # Was "did you mean OpenClaw?" (its old name Moltbot has letters of "robots").
    ("robots", "no company 'robots' — `topics` shows the companies in the news this week"),
    # Was "did you mean Microsoft?" (a letter added to its search engine Bing).
    ("being", "no company 'being' — `topics` shows the companies in the news this week"),
    # The picker offers Nvidia for 英伟 (英伟达 typed a character at a time); typed and
    # sent, it was refused with no suggestion (two characters are too few for a typo).
    ("英伟", "no company '英伟' — did you mean Nvidia?"),
])
def test_unknown_company_suggests_only_a_close_name(commands, typed, said):
    reply = commands.company(MEMBER, typed)
    assert reply.kind == "error" and reply.text == said


@pytest.mark.parametrize("typed", ["苹果", "蘋果"])
def test_apple_by_its_chinese_name_is_looked_up(commands, typed):
    """苹果 was refused ("did you mean Apple?"): only 苹果公司 was Apple's."""
    reply = commands.company(MEMBER, typed)
    assert reply.kind != "error" and "Apple" in (reply.title or reply.text)


def test_echoed_input_is_one_bounded_line(commands):
    reply = commands.company(MEMBER, "x" * 500 + "\n@everyone")
    assert reply.kind == "error" and len(reply.text) < 200 and "\n" not in reply.text


NEXT = "`latest` shows the newest stories"


@pytest.mark.parametrize("call, said", [
    (lambda c: c.company(MEMBER, "Anthropic"), "No stories about Anthropic in the archive "
     f"yet. {NEXT}; `subscribe Anthropic` (admins) has the next one posted here."),
    (lambda c: c.topic(MEMBER, "funding"), "No stories about Funding & investment in the "
     f"archive yet. {NEXT}; `subscribe funding` (admins) has the next one posted here."),
    (lambda c: c.latest(MEMBER, 5, "funding"), "No strategy stories on Funding & investment "
     f"in the archive yet. {NEXT}; `subscribe funding` (admins) has the next one posted here."),
    (lambda c: c.search(MEMBER, "zeppelin"), f"Nothing matches 'zeppelin'. Try fewer or "
     f"other words. {NEXT}."),
], ids=["company", "topic", "latest topic", "search"])
def test_an_empty_lookup_says_what_to_do_next(commands, call, said):
    """"No stories about Anthropic in the archive yet." read as a dead end: each empty
    answer names the same next steps, the newest stories and being told of the next one."""
    reply = call(commands)
    assert reply.kind == "briefs" and reply.briefs == () and reply.text == said


@pytest.mark.parametrize("follows, call", [
    (("company", "Anthropic"), lambda c: c.company(MEMBER, "Anthropic")),
    (("topic", "funding"), lambda c: c.topic(MEMBER, "funding")),
    (("all", "all"), lambda c: c.latest(MEMBER, 5, "funding")),
], ids=["company", "topic", "all"])
def test_an_empty_lookup_in_a_channel_following_it_says_the_next_one_comes_here(
        commands, store, follows, call):
    """Told to `subscribe Anthropic` in a channel that follows Anthropic, a member
    wondered whether the subscription worked: the answer says it does."""
    store.subscribe(Subscription(MEMBER.platform, MEMBER.workspace, MEMBER.channel, *follows))
    text = call(commands).text
    assert text.endswith(f"{NEXT}; this channel follows it, so the next one is posted here.")
    assert "subscribe" not in text


def test_an_empty_lookup_elsewhere_still_offers_to_subscribe(commands, store):
    store.subscribe(Subscription(MEMBER.platform, MEMBER.workspace, "other", "company",
                                 "Anthropic"))
    assert "`subscribe Anthropic` (admins)" in commands.company(MEMBER, "Anthropic").text


SLACK_MEMBER = replace(MEMBER, platform="slack")


@pytest.mark.parametrize("call", [
    lambda c, who, lim: c.company(who, "alibaba", lim),
    lambda c, who, lim: c.latest(who, lim),
    lambda c, who, lim: c.topic(who, "pricing", lim),
    lambda c, who, lim: c.search(who, "Alibaba", lim),
])
@pytest.mark.parametrize("who", [MEMBER, SLACK_MEMBER], ids=["discord", "slack"])
@pytest.mark.parametrize("limit", ["abc", 0, 26, "-1", "2.5"])
def test_bad_limits_name_the_range_help_states(commands, call, who, limit):
    """Discord's refusal said "from 1 to 25" where /help says at most 10 (a message
    holds 10 briefs): each platform names the range its /help states."""
    most = commands.help(who).text.rsplit("at most ", 1)[1].split(")")[0]
    reply = call(commands, who, limit)
    assert reply.kind == "error" and f"from 1 to {most}" in reply.text
    assert ("Discord shows 10 at a time" in reply.text) == (who is MEMBER)


@pytest.mark.parametrize("who", [MEMBER, SLACK_MEMBER], ids=["discord", "slack"])
def test_limit_caps_results(commands, who):
    """Up to 25 are taken on both: Discord shows 10 of them and counts the rest."""
    assert len(commands.latest(who, "1").briefs) == 1
    assert len(commands.latest(who, 25).briefs) == 3


@pytest.mark.parametrize("call, said", [
    (lambda c, who: c.latest(who, 2), "More stories than these 2: `latest {}` shows up to {}."),
    (lambda c, who: c.topic(who, "pricing", 1),
     "More stories than this one: `topic pricing {}` shows up to {}."),
    (lambda c, who: c.company(who, "baidu 1"),
     "More stories than this one: `company Baidu {}` shows up to {}."),
], ids=["latest", "topic", "company"])
@pytest.mark.parametrize("who, most", [(MEMBER, 10), (SLACK_MEMBER, 25)],
                         ids=["discord", "slack"])
def test_a_lookup_with_more_stories_than_shown_says_how_to_see_them(commands, call, said,
                                                                     who, most):
    """/company openai showed 5 stories and said nothing of the rest, as if that were
    all (a search says "More stories match than these 5"); the LIMIT to ask for more was
    only in /help."""
    reply = call(commands, who)
    assert reply.text == said.format(most, most)
    assert reply.briefs and len(commands.latest(who, most).briefs) == 3


def test_a_lookup_showing_all_there_is_or_the_most_adds_no_note(commands):
    assert commands.latest(MEMBER, 3).text == commands.latest(MEMBER, 10).text == ""


def test_latest_newest_first_and_by_topic(commands):
    assert headlines(commands.latest(MEMBER))[:2] == [SEED, "Nvidia H20 export licences tightened"]
    reply = commands.latest(MEMBER, 5, "chips")
    assert headlines(reply) == ["Nvidia H20 export licences tightened"]


def test_latest_of_a_topic_without_stories_names_the_topic(commands):
    """The archive has stories, none on funding: not "no stories yet, feeds are polled"."""
    reply = commands.latest(MEMBER, 5, "funding")
    assert reply.kind == "briefs" and reply.briefs == ()
    assert reply.text.startswith("No strategy stories on Funding & investment in the archive yet.")


@pytest.mark.parametrize("call", [lambda c, t: c.latest(MEMBER, 5, t),
                                  lambda c, t: c.topic(MEMBER, t)])
@pytest.mark.parametrize("typed, listed", [("chipz", "did you mean chips? Topics are"),
                                           ("ceos", "did you mean leadership? Topics are"),
                                           ("privacy", "topics are"), ("robots", "topics are")])
def test_unknown_topic_lists_topics(commands, call, typed, listed):
    """Only a close topic is offered: "chipz" was "chips or china", "privacy" policy."""
    reply = call(commands, typed)
    assert reply.kind == "error"
    assert reply.text.startswith(f"no topic '{typed}' — {listed}: open-source, ")


def _other_news(store, clock, sid, title, companies, topics):
    """A story naming a company or topic that the classifier did not count as strategy."""
    story = _story(sid, title, clock, companies, topics, hours_ago=0.5)
    story = replace(story, classification=replace(story.classification, strategy=False))
    store.add_new_stories([story], backlog=False, now=clock())


@pytest.mark.parametrize("call", [lambda c: c.company(MEMBER, "nvidia"),
                                  lambda c: c.topic(MEMBER, "chips"),
                                  lambda c: c.latest(MEMBER, 5, "chips")],
                         ids=["company", "topic", "latest topic"])
def test_company_and_topic_list_strategy_stories_as_latest_does(commands, store, clock, call):
    """/company nvidia listed a gaming laptop's review and /topic pricing a headphones
    deal (stories the classifier turned down, never posted), where /latest chips and a
    channel following Nvidia get the strategy stories only."""
    _other_news(store, clock, "acer", "Acer gaming laptop gets Nvidia graphics", ("Nvidia",),
                ("chips",))
    assert headlines(call(commands)) == ["Nvidia H20 export licences tightened"]


@pytest.mark.parametrize("call, said", [
    (lambda c: c.company(MEMBER, "Anthropic"), "No AI strategy stories about Anthropic "
     "yet: those naming it so far are other news."),
    # No search for a topic: its stories need not hold its name ("leadership": a new CEO).
    (lambda c: c.topic(MEMBER, "funding"), "No AI strategy stories on Funding & investment "
     "yet: those on it so far are other news."),
], ids=["company", "topic"])
def test_a_lookup_of_only_other_news_says_so(commands, store, clock, call, said):
    _other_news(store, clock, "gig", "Anthropic funds a concert", ("Anthropic",), ("funding",))
    reply = call(commands)
    assert reply.kind == "briefs" and reply.briefs == () and reply.text.startswith(said)


def test_topic(commands):
    reply = commands.topic(MEMBER, "pricing")
    assert headlines(reply) == [SEED, "Baidu cuts Ernie prices"]
    assert "Pricing" in reply.title or "pricing" in reply.title.lower()


def test_search_and_its_errors(commands):
    assert headlines(commands.search(MEMBER, "revenue open-source")) == [SEED]
    empty = commands.search(MEMBER, "zeppelin")
    assert empty.kind == "briefs" and empty.briefs == () and "zeppelin" in empty.text
    assert commands.search(MEMBER, "   ").kind == "error"


@pytest.mark.parametrize("typed, said", [
    # Its stories name it otherwise (the corpus's Moonshot AI posts say Kimi).
    ("qwen", "Nothing matches 'qwen'. `company Alibaba` lists the stories about Alibaba, "
             "whatever name they give it."),
    ("alibba", "Nothing matches 'alibba'. Did you mean `search Alibaba`?"),
    ("antropic", "Nothing matches 'antropic'. Try fewer or other words."),  # no stories
])
def test_an_empty_search_of_a_company_points_to_it(commands, typed, said):
    """`search moonshot` and `search antropic` answered only "Try fewer or other words",
    while `company moonshot` listed five stories and `company antropic` asked "did you
    mean Anthropic?"."""
    reply = commands.search(MEMBER, typed)
    assert reply.briefs == () and reply.text == f"{said} {NEXT}."


@pytest.mark.parametrize("typed, apart", [
    ('"alibaba revenue"', "alibaba revenue"), ("\u201calibaba revenue\u201d", "alibaba revenue"),
    ('"alibaba revenue" -"closed source"', 'alibaba revenue -"closed source"'),
])
def test_an_empty_search_of_a_phrase_offers_its_words_apart(commands, typed, apart):
    """`ainews search "alibaba revenue"`, the whole search quoted as a shell user often
    does, is a phrase: it found nothing, though both words are in a headline."""
    reply = commands.search(MEMBER, typed)
    assert reply.briefs == () and reply.text == (
        f"Nothing matches '{typed}'. Without the quotes, `search {apart}` finds the words "
        f"apart. {NEXT}.")
    assert commands.search(MEMBER, '"revenue alibaba" zeppelin').text.startswith(
        "Nothing matches '\"revenue alibaba\" zeppelin'. Try fewer")   # not even apart


def test_search_leaves_out_minus_words(commands):
    assert headlines(commands.search(MEMBER, "prices -ernie")) == []
    assert headlines(commands.search(MEMBER, "alibaba -revenue")) == []
    assert headlines(commands.search(MEMBER, "revenue -nvidia")) == [SEED]
    only = commands.search(MEMBER, "-alibaba")
    assert only.kind == "error" and "-WORD only leaves out" in only.text
    assert "`search openai -microsoft`" in only.text


@pytest.mark.parametrize("query", ["...", "-- ?", "AND OR (", '""'])
def test_search_of_no_word_says_so(commands, query):
    """Punctuation alone (or operators) read "Nothing matches '...'. Try fewer or other
    words", as if the archive had been searched."""
    reply = commands.search(MEMBER, query)
    assert reply.kind == "error", reply
    assert f"'{query}' has no word to search for (letters or digits)" in reply.text


@pytest.mark.parametrize("query", [
    "美国收紧对华芯片出口管制，英伟达H20受影响",     # the headline pasted as posted
    "美国收紧对华芯片出口管制, 英伟达H20受影响",
    "芯片、英伟达",                                # a list typed with the enumeration comma
    "【英伟达】芯片：出口管制！",
], ids=["pasted", "ascii comma", "enumeration comma", "brackets"])
def test_a_chinese_search_reads_its_punctuation_as_a_space(commands, store, clock, query):
    """The chat folds "，" to "," (NFKC), and a Chinese query is a substring scan: a
    story's own headline pasted back, or 芯片、英伟达, found nothing."""
    headline = "美国收紧对华芯片出口管制，英伟达H20受影响"
    store.add_new_stories([replace(store.story_record("nv").story, id="zh", title=headline,
                                   url="https://news.example/zh")], backlog=False, now=clock())
    assert headlines(commands.search(MEMBER, query)) == [headline]


@pytest.mark.parametrize("query", ['"出口管制，英伟达"', '“出口管制，英伟达”', '"芯片出口管制"'],
                         ids=["quotes", "smart quotes", "no comma"])
def test_a_quoted_chinese_phrase_with_its_comma_finds_the_headline(commands, store, clock,
                                                                  query):
    """A clause of a headline quoted with its own "，" was folded to "," by the chat
    (NFKC) and then looked for whole, so it never matched the headline, which keeps its
    full-width "，"; its clauses are now found in order."""
    headline = "美国收紧对华芯片出口管制，英伟达H20受影响"
    store.add_new_stories([replace(store.story_record("nv").story, id="zh", title=headline,
                                   url="https://news.example/zh")], backlog=False, now=clock())
    assert headlines(commands.search(MEMBER, query)) == [headline]


@pytest.mark.parametrize("query", ['"英伟达，出口管制"', '"收紧，出口管制"'],
                         ids=["out of order", "words between"])
def test_a_quoted_chinese_phrase_wants_its_clauses_side_by_side(commands, store, clock,
                                                                query):
    headline = "美国收紧对华芯片出口管制，英伟达H20受影响"
    store.add_new_stories([replace(store.story_record("nv").story, id="zh", title=headline,
                                   url="https://news.example/zh")], backlog=False, now=clock())
    assert headline not in headlines(commands.search(MEMBER, query))


def test_search_with_more_matches_than_a_limit_of_one_says_this_one(commands):
    reply = commands.search(MEMBER, "company", 1)       # in every story's text
    assert headlines(reply) == [SEED]
    assert "More stories match than this one:" in reply.text, reply.text


@pytest.mark.parametrize("query, said", [
    ("a-a* a-b* a-c*", "'a-a*' is too short a start of a word to search for: give at least "
                       "3 letters before the * (after any hyphen), e.g. `search regulat*`"),
    ("qwen2.5*", "'qwen2.5*' is too short a start of a word to search for: search for "
                 "'qwen2.5' without the *, which finds the versions after it too: "
                 "`search GPT-5` finds GPT-5.1 and GPT-5-mini"),  # "3 letters after any hyphen"
    ("revenue* open* alibaba* pric*", "that search has 4 words ending in *, at most 3: "
                                      "write the others out in full, e.g. `search regulat*`"),
    ('"' + "the company said " * 3 + '"', "'the company said the company said the company "
     "said' is too long to search for as one phrase (9 words, at most 8): quote only the "
     "words that must stand together, e.g. `search \"export controls\" nvidia`"),
    ("a-b-c-d-e-f-g-h-i", "'a-b-c-d-e-f-g-h-i' is too long to search for as one word "
     "(9 parts, at most 8): search for its telling parts, with spaces between them, e.g. "
     "`search qwen pricing`"),              # it said "without quotes": none were typed
    ("revenue " * 40, "that search is 319 characters long, over 300: keep the few words "
                      "that tell the story apart, e.g. `search qwen pricing`"),
    (" ".join(f"w{i}" for i in range(16)) + ' "open source"', "that search looks for 17 "
     "words, at most 16 (a quoted phrase is one): keep the few that tell the story apart, "
     "e.g. `search qwen pricing`"),
    ("openai " + " ".join(f"-w{i}" for i in range(17)), "that search leaves out 17 words, "
     "at most 16: leave out only the few that bring the wrong stories, e.g. "
     "`search openai -microsoft`"),
    # A pasted Chinese paragraph: its words are what lies between its punctuation.
    ("，".join(f"第{i}家公司" for i in range(17)), "that search looks for 17 words, at most "
     "16 (a Chinese one is read as the words between its punctuation): keep the few that "
     "tell the story apart, e.g. `search 通义千问 价格`"),
], ids=["short prefix", "version prefix", "prefixes", "phrase", "hyphenated", "long", "words",
        "left out", "chinese words"])
def test_a_search_too_costly_to_run_says_how_to_narrow_it(commands, query, said):
    # `a-a* a-b* ... a-p*` (79 characters) held the bot 9.7 s at 1M stories: no other
    # command answered, nothing posted, no feed polled.
    reply = commands.search(MEMBER, query)
    assert reply.kind == "error" and reply.text == said


def test_a_search_past_its_time_budget_says_too_broad_and_the_next_one_works(
        commands, monkeypatch):
    from storage import budget, search
    stopped = []
    commands.on_store_unusable = stopped.append     # as `ainews run` sets it
    monkeypatch.setattr(budget, "CHECK_EVERY", 1)
    monkeypatch.setattr(search, "SEARCH_BUDGET", 0.0)
    reply = commands.search(MEMBER, "revenue open-source")
    assert reply.kind == "error" and reply.text.startswith(
        "that search is too broad to answer quickly: add a rarer word"), reply.text
    assert "unavailable" not in reply.text and stopped == []   # the store is fine
    monkeypatch.setattr(search, "SEARCH_BUDGET", 0.5)
    assert headlines(commands.search(MEMBER, "revenue open-source")) == [SEED]
    assert commands.subscribe(ADMIN, "alibaba").kind != "error"   # the store writes on


def _discord(reply):
    from bot.discord.render_reply import reply_payload
    return reply_payload(reply)["content"]


def _slack(reply):
    from bot.slack.render import all_texts
    from bot.slack.render_reply import reply_message
    return "\n".join(t for _, t in all_texts(reply_message(reply)["blocks"]))


def _console(reply):
    from bot.console import format_reply
    return format_reply(reply)


@pytest.mark.parametrize("shown", [lambda r: r.text, _discord, _slack, _console],
                         ids=["core", "discord", "slack", "console"])
def test_search_says_when_no_story_has_every_word(commands, shown):
    """With no story having every word, stories with any of them are shown: without a
    word of it, results lacking some words look like a broken search."""
    some = commands.search(MEMBER, "revenue zeppelin -nvidia")
    assert headlines(some) == [SEED]
    assert ("No story has all of: revenue zeppelin; showing stories with any of them."
            in shown(some))
    every = commands.search(MEMBER, "revenue open-source")
    assert headlines(every) == [SEED] and "No story has all" not in shown(every)


def test_topics_counts_the_last_seven_days(commands, store, clock):
    # Counted as /topic and /company list them: a story not strategy news is not.
    _other_news(store, clock, "acer", "Acer gaming laptop gets Nvidia graphics", ("Nvidia",),
                ("pricing",))
    text = commands.topics(MEMBER).text
    assert "pricing (" in text and "): 1" in text.split("pricing (")[1].split("\n")[0]
    assert "  Alibaba: 1" in text and "  Nvidia: 1" in text
    assert "Baidu: 1" in text            # the 8-day-old Baidu story is not counted


def test_help_lists_every_command(commands):
    lines = commands.help(MEMBER).text.splitlines()
    for word in ("company", "latest", "topic", "search", "topics", "why", "subscribe",
                 "unsubscribe", "subscriptions", "digest", "feeds"):
        assert any(line.startswith(f"  `{word}") for line in lines), word


@pytest.mark.parametrize("platform, most", [("slack", 25), ("discord", 10), ("console", 500)])
def test_help_says_the_largest_limit_where_it_is_read(commands, platform, most):
    """Help said only "default 5": a Discord user learned the most (10, a message's
    embeds) by typing 20, a Slack user never learned 25 would do."""
    text = commands.help(replace(MEMBER, platform=platform)).text
    assert f"LIMIT is how many briefs to show (default 5, at most {most})." in text


def test_help_tells_admins_that_every_paused_feed_resumes_at_once(commands):
    # Chat takes `feeds resume all` (after an outage paused many), which help never said.
    feeds_line = next(line for line in commands.help(MEMBER).text.splitlines()
                      if line.startswith("  `feeds list`"))
    assert feeds_line.endswith("`feeds resume all` resumes every paused one and retries "
                               "those waiting after failures)")


def test_help_says_what_search_and_feeds_take_beyond_plain_words_and_urls(commands):
    # Search reads OR, NOT and "phrases", and feeds remove/resume take a feed's name: the
    # help said only -WORD and URL, so nobody would try them.
    lines = commands.help(MEMBER).text.splitlines()
    search = next(line for line in lines if line.startswith("  `search"))
    assert "NOT WORD" in search and "A OR B" in search and '"two words" is a phrase' in search
    feeds = next(line for line in lines if line.startswith("  `feeds list`"))
    assert "`feeds remove URL|NAME`, `feeds resume URL|NAME`" in feeds
    assert "NAME is a feed's name as `feeds list` shows it" in feeds


def test_completion(commands):
    assert commands.complete_company("ali")[0] == "Alibaba"
    assert len(commands.complete_company("", limit=25)) == 25
    assert ("pricing", commands.classifier.topic_label("pricing")) in commands.complete_topic("pri")
    assert [s for s, _ in commands.complete_topic("open")] == ["open-source"]


@pytest.mark.parametrize("typed", ["qwen", "QWEN", "阿里", "阿里巴巴", "通义"])
def test_completion_knows_the_aliases_the_command_accepts(commands, typed):
    """`company qwen` and `company 阿里巴巴` work; typing them in Discord's company box
    must offer Alibaba too, not an empty list."""
    assert commands.complete_company(typed)[0] == "Alibaba"
    assert commands.company(MEMBER, commands.complete_company(typed)[0]).kind == "briefs"


@pytest.mark.parametrize("typed, company", [("騰", "Tencent"), ("華", "Huawei"),
                                            ("阿裡", "Alibaba"), ("騰訊雲", "Tencent")])
def test_completion_reads_a_traditional_name_as_the_command_does(commands, typed, company):
    """`company 騰訊` works (traditional characters read as simplified); the picker
    offered nothing for 騰 or 華, and so a Hong Kong or Taiwan user saw an empty list."""
    assert company in commands.complete_company(typed)


@pytest.mark.parametrize("typed, slug", [("出口", "policy"), ("芯", "chips"), ("融", "funding"),
                                         ("監", "policy"), ("「芯", "chips")])
def test_topic_completion_offers_a_topic_by_part_of_a_chinese_synonym(commands, typed, slug):
    """An English label is offered by its start ("expo", "chi"); a Chinese synonym was
    offered only once typed whole (出口管制, 芯片, 融资), which an IME types a character
    or two at a time."""
    assert slug in [s for s, _ in commands.complete_topic(typed)]


def test_topic_completion_by_an_english_synonym_stays_whole(commands):
    # A Latin letter or two is in most synonyms: "ra" is no start of "raise" to offer.
    assert [s for s, _ in commands.complete_topic("ra")] == []


# ---- text command lines -------------------------------------------------------------------
@pytest.mark.parametrize("line, check", [
    ("company alibaba 1", lambda r: headlines(r) == [SEED]),
    ("/ainews company Alibaba Group", lambda r: headlines(r) == [SEED]),
    ("latest 2 chips", lambda r: headlines(r) == ["Nvidia H20 export licences tightened"]),
    # a topic of two words, as Slack's /latest and the topic command take it
    ("latest 1 open source", lambda r: headlines(r) == [SEED]),
    ("latest export controls", lambda r: headlines(r) == ["Nvidia H20 export licences tightened"]),
    ("topic pricing 1", lambda r: headlines(r) == [SEED]),
    ("search revenue", lambda r: headlines(r) == [SEED]),
    # Quoted words are a phrase, as in Slack's and Discord's search: the console's split
    # took the quotes off, so "shifts alibaba" found the story with both words apart.
    ('search "shifts alibaba"', lambda r: headlines(r) == []),
    ('search "alibaba shifts" revenue',
     lambda r: r.title == 'Search: "alibaba shifts" revenue' and headlines(r) == [SEED]),
    ("search 'alibaba shifts' -\"licences tightened\"", lambda r: headlines(r) == [SEED]),
    ('search revenue -"alibaba shifts"', lambda r: headlines(r) == []),
    ("topics", lambda r: "Companies:" in r.text),
    ("", lambda r: "Commands:" in r.text),
    ("help", lambda r: "Commands:" in r.text),
    ("latest abc", lambda r: r.kind == "error" and "no topic 'abc'" in r.text),
    ("latest 1.5", lambda r: r.kind == "error" and "'1.5' is not a whole number: give one from 1 to 10" in r.text),
    ("latest 0", lambda r: r.kind == "error" and "from 1 to 10 (Discord shows 10" in r.text),
    ("frobnicate", lambda r: r.kind == "error" and "help" in r.text),
    ("subscribe open-source", lambda r: "Open" in r.text and not r.ephemeral),
    ('digest daily 07:15 "America/New_York"', lambda r: "07:15 America/New_York" in r.text),
])
async def test_run_text(commands, line, check):
    assert check(await commands.run_text(ADMIN, line))


@pytest.mark.parametrize("call, check", [
    (lambda c: c.company(MEMBER, "alibaba 1"), lambda r: headlines(r) == [SEED]),
    (lambda c: c.topic(MEMBER, "pricing 1"), lambda r: headlines(r) == [SEED]),
    (lambda c: c.digest(ADMIN, "daily 09:45 Asia/Tokyo"),
     lambda r: "09:45 Asia/Tokyo" in r.text),
    (lambda c: c.digest(ADMIN, "daily 09:45 Asia/Tokyo extra"), lambda r: r.kind == "error"),
])
def test_arguments_in_one_string(commands, call, check):
    """Slack's /company, /topic and /digest hand over their text as one string."""
    assert check(call(commands))


def test_lookup_answers_when_condensing_a_story_fails(commands, store, monkeypatch, caplog):
    """A story that cannot be condensed on lookup still shows as its headline."""
    import bot.commands_store

    def broken(story):
        raise ValueError("odd markup")
    monkeypatch.setattr(bot.commands_store, "condense", broken)
    reply = commands.company(ADMIN, "Alibaba")
    assert headlines(reply) == [SEED] and reply.briefs[0].bullets == ()
    assert store.brief_for_hash(store.get_story("seed").content_hash) is None
    assert "commands: condensing seed on lookup failed" in caplog.text


@pytest.mark.parametrize("kind, why", [("full", "its disk is full"),
                                       ("damaged", "is damaged")])
def test_a_lookup_whose_briefs_cannot_be_cached_still_shows_them(commands, store, monkeypatch,
                                                                 caplog, kind, why):
    """On a full disk a lookup's briefs, made but not cached, were shown as bare headlines,
    with a traceback logged for each. Now they show in full, the store's failure is one
    line, and a running bot is told (it stops, as its poller would)."""
    import logging
    from tests.store_kit import fail_writes
    fail_writes(monkeypatch, store, kind)
    halts = []
    commands.on_store_unusable = halts.append
    for _ in range(2):
        reply = commands.latest(ADMIN, 5)
        assert reply.briefs and all(b.bullets and b.why_it_matters for b in reply.briefs)
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and why in said[0], said
    assert not any(r.exc_info for r in caplog.records)
    assert halts and all(why in str(h) for h in halts)
    assert store.brief_for_hash(store.get_story("seed").content_hash) is None


def test_lookup_condenses_a_briefless_strategy_story_once(commands, store, monkeypatch):
    import bot.commands_store
    calls = []
    real = bot.commands_store.condense
    monkeypatch.setattr(bot.commands_store, "condense", lambda s: calls.append(s.id) or real(s))
    first = commands.company(ADMIN, "Alibaba").briefs[0]
    assert calls == ["seed"] and first.why_it_matters
    again = commands.latest(ADMIN, 5).briefs
    assert first in again and calls == ["seed", "nv", "old"]
    commands.latest(ADMIN, 5)
    assert calls == ["seed", "nv", "old"], "cached: condensed once"



def test_a_slimmed_story_looked_up_shows_a_brief_and_leaves_none_cached(commands, store,
                                                                       clock):
    """A story slimmed by retention has only its title left: a lookup still shows a brief
    of it, made from the title, each time; cached, it was never read again (its stored
    content hash is the whole story's) and never pruned (the prune had passed it)."""
    store.slim_stories_older_than(clock() + timedelta(days=1))
    assert store.get_story("seed").text == ""
    first = commands.company(ADMIN, "Alibaba").briefs
    assert [(b.headline, b.why_it_matters != "") for b in first] == [(SEED, True)]
    assert commands.company(ADMIN, "Alibaba").briefs == first
    assert store.db.execute("SELECT COUNT(*) FROM briefs").fetchone() == (0,)


# ---- input as people type or paste it -----------------------------------------------------
@pytest.mark.parametrize("call, check", [
    # full-width Latin and digits: a Chinese IME in full-width mode
    (lambda c: c.company(MEMBER, "ｑｗｅｎ"), lambda r: r.title == "Latest on Alibaba"),
    (lambda c: c.latest(MEMBER, "１", "ｐｒｉｃｉｎｇ"), lambda r: headlines(r) == [SEED]),
    (lambda c: c.topic(MEMBER, "ｃｈｉｐｓ"), lambda r: r.kind == "briefs"),
    (lambda c: c.subscribe(ADMIN, "ＯｐｅｎＡＩ"), lambda r: "stories about OpenAI" in r.text),
    (lambda c: c.digest(ADMIN, "ｄａｉｌｙ", "０８：３０"), lambda r: "08:30 UTC" in r.text),
    (lambda c: c.complete_company("ａｌｉ"), lambda r: r[0] == "Alibaba"),
    # zero-width characters pasted along with a name
    (lambda c: c.company(MEMBER, "Alibaba\u200b"), lambda r: r.title == "Latest on Alibaba"),
    (lambda c: c.subscribe(ADMIN, "\ufeffpri\u200dcing"), lambda r: "(topic pricing)" in r.text),
    (lambda c: c.search(MEMBER, "reve\u200bnue"), lambda r: headlines(r) == [SEED]),
])
def test_full_width_and_zero_width_input_is_read_as_meant(commands, call, check):
    assert check(call(commands))


@pytest.mark.parametrize("typed", ["llama 3 4", "Claude 3.5 2"])
def test_a_product_with_a_number_is_still_a_name_before_its_limit(commands, typed):
    """A second count is refused only when the name does not resolve: "Llama 3" is Meta."""
    reply = commands.company(MEMBER, typed)
    assert reply.kind == "briefs" and reply.title in ("Latest on Meta", "Latest on Anthropic")


async def test_chat_feeds_remove_takes_a_feed_name(commands, store):
    """`/ainews feeds remove Hacker News` (the name `feeds list` shows) said "no feed
    with URL Hacker"."""
    from feeds.models import FeedSource
    store.upsert_feed(FeedSource("Hacker News", "https://hn.example/rss"))
    reply = await commands.feeds(ADMIN, "remove hacker news")
    assert reply.text == "Removed feed Hacker News (https://hn.example/rss)."
    assert store.feed_states() == []
