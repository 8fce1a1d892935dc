"""Platform-neutral commands: plain arguments + a Caller in, a Reply out.

Discord, Slack and the console only translate their events into these calls and render
the Reply. Lookups live here; subscriptions in commands_subs.py (their targets in
commands_targets.py), digests in commands_digest.py; feed management in
commands_feeds.py; why a story was posted in commands_why.py; the text command line
(`/ainews company alibaba 3`, the console) in commands_text.py; the LIMIT argument in
commands_limit.py; autocomplete in commands_complete.py; a lookup's list as a reply in
commands_lists.py; a lookup's briefs cached, and a store that fails a command, in
commands_store.py; what a search the store won't run is told
in commands_search.py; how often a chat user may run them in
commands_throttle.py.

    commands = Commands(store, classifier, settings=settings, fetcher_factory=app.fetcher)
    reply = commands.company(caller, "qwen", 3)
    reply = await commands.run_text(caller, "latest 5 pricing")
"""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Callable

from bot import examples as ex
from bot.commands_complete import CompletionCommands
from bot.commands_feeds import FeedCommands
from bot.commands_search import nothing_to_find, too_broad_text, words_apart
from bot.commands_limit import (DEFAULT_LIMIT, caller_limit, ends_in_count, most_shown,
                                named_lookup, several_counts)
from bot.commands_lists import briefs_reply, next_step, these_many, with_more
from bot.commands_digest import DigestCommands
from bot.commands_store import StoreCommands
from bot.commands_subs import SubscriptionCommands
from bot.commands_text import TextCommands, quote, unquoted, user_text
from bot.commands_throttle import Throttle, ThrottleCommands
from bot.commands_why import WhyCommands
from bot.examples import Text, say
from bot.platforms import platform_of
from bot.replies import Caller, Reply
from feeds.models import utcnow
from storage.query import parse as parse_query

# Rows are "example — what it does": no columns, which Slack's and Discord's
# proportional fonts would not keep aligned anyway.
# What anyone can ask, in a DM too.
HELP_LOOKUPS = say("""\
AI strategy news briefs. Commands:
  {} — latest briefs about a company (aliases work: qwen → Alibaba)
  {} — the newest strategy briefs, optionally of one topic
  {} — latest briefs of a topic ({} lists them)
  {} — full-text search of the archive (-WORD or NOT WORD leaves out stories with \
WORD, A OR B takes either, "two words" is a phrase of up to 8, regulat* finds words \
starting so: 3 letters or more before the *, 3 such words at most)
  {} — topics and companies with story counts, last 7 days
  {} — why a story was posted or not (its link, or the post's own message link)""",
                   ex.COMPANY_USAGE, ex.LATEST_USAGE, ex.TOPIC_USAGE, ex.TOPICS,
                   ex.SEARCH_USAGE, ex.TOPICS, ex.WHY_USAGE)
# A channel's own: Discord has none of these in a DM.
HELP_CHANNEL = say("""
  {} — what this channel follows (and why a subscription is paused)
Admins:
  {} — post new stories here; TARGET is a topic, a company or all
  {} — stop posting them ({} stops everything this channel gets)
  {} — one roundup a day instead of instant posts (TIMEZONE: an IANA name such \
as Europe/Berlin; UTC if left out)
  {} — back to instant posts
  {}, {}, {}, {} — manage the feeds the bot reads (NAME is a feed's name \
as {} shows it; {} resumes every paused one and retries those waiting after failures)""",
                   ex.SUBSCRIPTIONS, ex.SUBSCRIBE_USAGE, ex.UNSUBSCRIBE_USAGE,
                   ex.UNSUBSCRIBE_ALL, ex.DIGEST_USAGE, ex.DIGEST_OFF, ex.FEEDS_LIST,
                   ex.FEEDS_ADD_USAGE, ex.FEEDS_REMOVE_USAGE, ex.FEEDS_RESUME_USAGE,
                   ex.FEEDS_LIST, ex.FEEDS_RESUME_ALL)
HELP = HELP_LOOKUPS + HELP_CHANNEL


class Commands(SubscriptionCommands, DigestCommands, FeedCommands, WhyCommands,
               TextCommands, CompletionCommands, StoreCommands, ThrottleCommands):
    def __init__(self, store, classifier, settings=None, *, fetcher_factory=None,
                 hourly_cap: int | None = None, clock: Callable[[], datetime] = utcnow,
                 monotonic: Callable[[], float] = time.monotonic):
        self.store, self.classifier, self.settings = store, classifier, settings
        self.fetcher_factory = fetcher_factory
        cap = hourly_cap if hourly_cap is not None else getattr(settings, "channel_hourly_cap", 10)
        self.hourly_cap, self.clock = cap, clock
        self.throttle = Throttle(monotonic)    # the chat platforms' pace (too_fast)

    # ---- lookups ---------------------------------------------------------------------
    def company(self, caller: Caller, name: str, limit=None, *,
                strategy_only: bool = True) -> Reply:
        args = named_lookup(name, limit, say("give a company name, e.g. {}",
                                                    ex.COMPANY_EG), ex.COMPANY_LIMIT_EG,
                             caller)
        if isinstance(args, Reply):
            return args
        name, lim = args
        canonical = self.classifier.resolve_company(name)
        if canonical is None and ends_in_count(name):
            return Reply.error(say("use {}: one company and at most one LIMIT, e.g. {}",
                                   ex.COMPANY_USAGE, ex.COMPANY_LIMIT_EG))
        if canonical is None:
            return Reply.not_there(self._unknown_company(name))
        # No /search offered: the stories may name it otherwise (Kimi for Moonshot AI).
        other_news = say("No AI strategy stories about {} yet: those naming it so far are "
                         "other news.", canonical)
        return self._latest_on(caller, "company", self.store.stories_for_company, canonical,
                               canonical, lim, strategy_only, f"Latest on {canonical}",
                               other_news, name=canonical)

    def latest(self, caller: Caller, limit=None, topic: str | None = None, *,
               strategy_only: bool = True) -> Reply:
        if several_counts(limit):    # Slack's `/latest 3 4` hands both on, as "3 4"
            return Reply.error(say("use {}: at most one LIMIT, e.g. {}", ex.LATEST_USAGE,
                                   ex.LATEST_EG))
        lim = caller_limit(caller, limit, ex.LATEST_LIMIT_EG)
        if isinstance(lim, Reply):
            return lim
        slug, topic = None, unquoted(topic)
        if topic:
            slug = self.classifier.resolve_topic(topic)
            if slug is None:
                return Reply.not_there(self._unknown_topic(topic))
        found = self.store.latest(lim + 1, topic=slug, strategy_only=strategy_only)
        briefs = self._condensed(found[:lim])
        if slug:    # the archive may be full of other topics: not "no stories yet"
            label = self.classifier.topic_label(slug)
            return with_more(briefs_reply(f"Latest: {label}", briefs, say(
                "No {}stories on {} in the archive yet.", "strategy " if strategy_only else "",
                label) + self._next_step_for(caller, slug)), len(found), lim, caller,
                "latest", topic=slug)
        if not briefs and strategy_only and self.store.latest(1, strategy_only=False):
            # "No stories yet" read as a broken bot while /company listed stories.
            return briefs_reply("Latest AI strategy news", briefs, say(
                "No AI strategy stories yet: the stories stored so far are other news ({} "
                "finds them by their words).", ex.SEARCH_EG))
        return with_more(briefs_reply("Latest AI strategy news", briefs, "No stories yet: the bot "
                             "stores new ones as feeds are polled."), len(found), lim, caller,
                     "latest")

    def topic(self, caller: Caller, slug: str, limit=None, *,
              strategy_only: bool = True) -> Reply:
        args = named_lookup(slug, limit, say("give a topic, e.g. {} ({} lists them)",
                                              ex.TOPIC_EG, ex.TOPICS), ex.TOPIC_LIMIT_EG,
                             caller)
        if isinstance(args, Reply):
            return args
        slug, lim = args
        resolved = self.classifier.resolve_topic(slug.strip())
        if resolved is None and ends_in_count(slug):
            return Reply.error(say("use {}: one topic and at most one LIMIT, e.g. {}",
                                   ex.TOPIC_USAGE, ex.TOPIC_LIMIT_EG))
        if resolved is None:
            return Reply.not_there(self._unknown_topic(slug))
        label = self.classifier.topic_label(resolved)
        # Its other news is not offered to /search: a topic's stories need not hold
        # its name (leadership: a new CEO).
        other_news = say("No AI strategy stories on {} yet: those on it so far are other "
                         "news.", label)
        return self._latest_on(caller, "topic", self.store.stories_for_topic, resolved,
                               label, lim, strategy_only, f"Latest: {label}", other_news,
                               slug=resolved)

    def _latest_on(self, caller: Caller, command: str, find, key: str, shown: str, lim: int,
                   strategy_only: bool, title: str, other_news: Text, **more) -> Reply:
        """A company's or a topic's newest `lim` briefs (`find`: the store's query for
        `key`, named `shown`); when there are none, whether those stored so far are
        other news; and how to see more."""
        found = find(key, lim + 1, strategy_only=strategy_only)
        briefs = self._condensed(found[:lim])
        empty = (other_news if not briefs and strategy_only and find(key, 1)
                 else say("No stories about {} in the archive yet.", shown))
        return with_more(briefs_reply(title, briefs, empty + self._next_step_for(caller, key)),
                     len(found), lim, caller, command, **more)

    def search(self, caller: Caller, query: str, limit=None) -> Reply:
        query = user_text(query)
        if not query:
            return Reply.error(say("give words to search for, e.g. {}", ex.SEARCH_EG))
        wanted = parse_query(query)
        if not wanted.clauses:
            return Reply.error(nothing_to_find(query, wanted))
        lim = caller_limit(caller, limit)
        if isinstance(lim, Reply):
            return lim
        found = self.store.find(query, lim + 1)     # one more: are there more than shown?
        if found.too_broad is not None:
            return Reply.error(too_broad_text(found.too_broad))
        briefs = self._condensed(found.briefs[:lim])
        reply = briefs_reply(f"Search: {quote(query)}", briefs, say(
            "Nothing matches '{}'.", quote(query)) + (
            self._unmatched(query) if not briefs else ()) + next_step())
        more = len(found.briefs) > lim    # 5 of thousands read as all there is
        if found.any_word:    # results lacking some words read as a broken search
            some = f"{lim} of the stories" if more else "stories"
            return replace(reply, text=f"No story has all of: {quote(wanted.wanted())}; "
                                       f"showing {some} with any of them.")
        if more:
            return replace(reply, parts=say(
                "More stories match than {}: add a word to narrow the search, or "
                "leave stories out with -WORD, e.g. {}", these_many(lim), ex.SEARCH_EXCLUDE_EG),
                text="")
        return reply

    def topics(self, caller: Caller) -> Reply:
        topics, companies = self.week_counts()
        lines = ["Stories in the last 7 days", "", "Topics:"]
        for slug in self.classifier.topic_slugs():
            label = self.classifier.topic_label(slug)
            lines.append(f"  {slug} ({label}): {topics.get(slug, 0)}")
        ranked = sorted(((n, c) for c, n in companies.items() if n), key=lambda x: (-x[0], x[1]))
        lines += ["", "Companies:"] + ([f"  {c}: {n}" for n, c in ranked[:20]]
                                       or ["  none in the news this week"])
        return Reply.message("\n".join(lines))

    def week_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Strategy stories (what /topic and /company list) per topic and per company,
        last 7 days; every topic, those at 0 too (`ainews topics --json` left them out
        while the text listed them)."""
        topics, companies = self.store.counts_since(self.clock() - timedelta(days=7),
                                                    strategy_only=True)
        return {s: 0 for s in self.classifier.topic_slugs()} | topics, companies

    def help(self, caller: Caller) -> Reply:
        who = None if caller.in_dm else platform_of(caller.platform).who_is_admin
        # The most differs by platform (a Discord message holds 10 briefs): said, or
        # `/latest 20` was the way to learn it.
        limits = (f"\nLIMIT is how many briefs to show (default {DEFAULT_LIMIT}, at most "
                  f"{most_shown(caller)}).")
        listed = HELP_LOOKUPS if caller.in_dm else HELP
        return Reply.message(listed + (limits,) + ((f"\nAdmins here: {who}.",) if who else ()))

    # ---- messages --------------------------------------------------------------------
    def _next_step_for(self, caller: Caller, target: str) -> Text:
        """next_step, told whether the caller's channel already follows `target`
        (by name, or all AI strategy news) and so will be sent the next one."""
        subs = self.store.subscriptions_for_channel(caller.platform, caller.channel)
        followed = any(not s.paused and (s.kind == "all" or s.target.casefold() ==
                                         target.casefold()) for s in subs)
        if platform_of(caller.platform).operator:
            # The terminal is no channel and has no subscribe (a chat command): what it
            # has is the running bot printing what the console follows.
            return next_step(("; the running bot prints the next one on its console",)
                              if followed else ())
        if followed:
            return next_step(("; this channel follows it, so the next one is posted here",))
        if caller.in_dm:    # no /subscribe in a DM: nothing to follow there
            return next_step()
        return next_step(say("; {} (admins) has the next one posted here",
                              ex.subscribe_named(target)))

    def _unmatched(self, query: str) -> Text:
        """What to try after a search that found nothing: a company's name points to
        its lookup (its stories may name it otherwise: Kimi for Moonshot AI), a name a
        typo away from one with stories to that name, a quoted phrase (the whole search
        quoted in a shell) to its words apart when they are found so."""
        apart = words_apart(query)
        if apart and (found := self.store.find(apart, 1)).briefs and not found.any_word:
            return say(" Without the quotes, {} finds the words apart.", ex.search_named(apart))
        company = self.classifier.resolve_company(query)
        if company and self.store.stories_for_company(company, 1, strategy_only=True):
            return say(" {} lists the stories about {}, whatever name they give it.",
                       ex.company_named(company), company)
        close = self.classifier.suggest_companies(query, 1)
        if close and self.store.stories_for_company(close[0], 1):
            return say(" Did you mean {}?", ex.search_named(close[0]))
        return (" Try fewer or other words.",)

    def _unknown_company(self, name: str) -> Text:
        slug = self.classifier.resolve_topic(name)
        if slug:    # `/company pricing` told to look at the companies this week
            return say("'{}' is a topic, not a company: {}", quote(name), ex.topic_named(slug))
        hints = self.classifier.suggest_companies(name, 3)
        if hints:
            return say("no company '{}' — did you mean {}?", quote(name), _either(hints))
        return say("no company '{}' — {} shows the companies in the news this week",
                   quote(name), ex.TOPICS)

    def _unknown_topic(self, slug: str) -> Text:
        company = self.classifier.resolve_company(slug)
        if company:  # `/latest alibaba` was told the topic slugs, not where Alibaba is
            return say("'{}' is a company, not a topic: {}", quote(slug),
                       ex.company_named(company))
        slugs = self.classifier.topic_slugs()
        close = self.classifier.suggest_topics(slug, 2)
        return say("no topic '{}' — ", quote(slug)) + ex.did_you_mean(
            _either(close) if close else "", ("topics are: " + ", ".join(slugs),))



def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"
