"""`feeds list|add|remove`: feed management from chat (a Commands mixin, admin only).

`feeds add` runs the SSRF guard (feeds.guard.check_url) before anything else and, when
Commands has a fetcher_factory, test-fetches and parses the feed, so a typo or an HTML
page is refused with the reason (and the page's own feed suggested) instead of failing
silently at the next poll."""
from __future__ import annotations

import difflib
import re
from urllib.parse import urldefrag, urlsplit

from bot import examples as ex
from bot.commands_text import link_text, quote, unquoted
from bot.dispatch import FEED_REMOVED
from bot.examples import say
from bot.platforms import platform_of
from bot.replies import Caller, Reply
from bot.unreached import NETWORK_DOWN, network_looks_down
from feeds.models import FeedSource
from feeds.plural import count
from feeds.urls import without_secrets

FEEDS_USAGE = say("use {}, {}, {} or {}", ex.FEEDS_LIST, ex.FEEDS_ADD_USAGE,
                  ex.FEEDS_REMOVE_USAGE, ex.FEEDS_RESUME_USAGE)
NOT_ADMIN_FEEDS = "only admins can manage the bot's feeds"
_ATTENTION = {"paused": 0, "failing": 1}   # listed first, in this order


def not_admin_feeds(caller: Caller, *, admins_known: bool = True) -> str:
    """Who may, as the caller's platform's users know it: "only admins" left a Slack
    member asking which admins (a channel manager is none here). `admins_known` False:
    the adapter could not learn them, so the caller may be one; its platform says how
    to mend that."""
    platform = platform_of(caller.platform)
    if platform.who_manages_feeds is None:
        return NOT_ADMIN_FEEDS
    text = (f"only {platform.who_manages_feeds} can manage the bot's feeds"
            f"{platform.feeds_note}; ask one of them")
    unknown = "" if admins_known else platform.feed_admins_unknown
    return f"{text}. {unknown}" if unknown else text


class FeedCommands:
    async def feeds(self, caller: Caller, action: str, url: str | None = None,
                    name: str | None = None) -> Reply:
        if not caller.is_admin:
            return Reply.error(not_admin_feeds(caller))
        if url is None:                      # one string: "add https://x/rss Name"
            action, _, rest = (action or "").strip().partition(" ")
            url, _, rest = rest.strip().partition(" ")
            name = name or rest.strip() or None
        # Quoted (a name with spaces: `feeds add URL "Example News"`), the quotes were
        # kept: every post showed the outlet as "Example News", quotes and all.
        action, url, name = (action or "").strip().lower(), link_text(url), unquoted(name)
        if action == "list":
            return self._feed_list()
        if action not in ("add", "remove", "resume") or not url:
            return Reply.error(FEEDS_USAGE)
        if action == "resume":
            return self._feed_resume(" ".join(filter(None, (url, name))))
        if action == "remove":
            return self._feed_remove(" ".join(filter(None, (url, name))))
        return await self._feed_add(url, name)

    def _feed_remove(self, key: str) -> Reply:
        states = self.feeds_named(key.split())
        if isinstance(states, (str, tuple)):
            return Reply.not_there(states)
        dropped = sum(self.remove_feed(s) for s in states)
        note = f" {dropped_note(dropped, len(states))}." if dropped else ""
        if len(states) == 1:
            return Reply.message(f"Removed feed {named(states[0])}.{note}")
        return Reply.message(f"Removed {len(states)} feeds: "
                             f"{', '.join(map(named, states))}.{note}")

    def remove_feed(self, state) -> int:
        """Stop polling the feed and posting from it (`feeds remove` in chat and the CLI):
        its posts still waiting are cancelled, as `unsubscribe` does; returns how many.
        Its stories, and posts already out, stay."""
        # As one: a dispatch between the two would queue the feed's stories for good.
        with self.store.transaction():
            dropped = self.store.cancel_posts(
                self.store.feed_waiting_posts(state.source.url), FEED_REMOVED)
            self.store.remove_feed(state.source.url)
        return dropped

    def feeds_named(self, words: list[str]):
        """The feeds `feeds remove|resume` were given: the one the words name together
        (Ars Technica, unquoted), else one feed per word (several URLs), each found
        before any is touched; else why not, as feed_named says it. When no word names
        a feed either, that is said of all the words: one mistyped name (Hacker Nws)."""
        # A URL holds no space: with one among several words they are several feeds
        # (joined, "URL#x URL2" read as one URL with a long fragment, and URL2 was lost).
        urls = len(words) > 1 and any("://" in w for w in words)
        whole = None if urls else self.feed_named(" ".join(words))
        if whole is not None and (len(words) < 2 or not isinstance(whole, (str, tuple))):
            return whole if isinstance(whole, (str, tuple)) else [whole]
        each = [self.feed_named(w) for w in words]
        missing = [s for s in each if isinstance(s, (str, tuple))]
        if missing:
            return whole if whole is not None and len(missing) == len(each) else missing[0]
        return list({s.source.url: s for s in each}.values())   # one URL typed twice

    def feed_named(self, key: str):
        """The feed at URL `key`, or named `key` (any case: the name `feeds list` shows,
        as `feeds remove` was only given the URL); else why not, as a reply's text:
        the feeds sharing that name, or the closest names."""
        state = self.followed(key)
        if state is not None:
            return state
        states = self.store.feed_states()
        named = [s for s in states if s.source.name.casefold() == key.casefold()]
        if len(named) == 1:
            return named[0]
        if named:
            urls = ", ".join(without_secrets(s.source.url) for s in named)
            return f"{len(named)} feeds are named '{quote(key)}': give one's URL ({urls})"
        return _shown_as(key, states) or _no_feed(key, states)

    def _feed_list(self) -> Reply:
        states = self.store.feed_states()
        if not states:
            return Reply.message(say("No feeds yet: {}.", ex.FEEDS_ADD_USAGE))
        # Those needing attention first: a long list is cut at the platform's limit.
        states = sorted(states, key=lambda s: _ATTENTION.get(s.health, len(_ATTENTION)))
        counts = [f"{n} {h}" for h in _ATTENTION if (n := sum(s.health == h for s in states))]
        lines: list = [count(len(states), "feed")
                       + (f" ({', '.join(counts)}):" if counts else ":")]
        if sum(s.paused for s in states) > 1:
            lines += say(" {} resumes every paused one and retries those waiting after "
                         "failures.", ex.FEEDS_RESUME_ALL)
        if self._network_down():
            lines.append(f"\n  ({NETWORK_DOWN})")
        for s in states:   # the URL as shown works in `feeds resume|remove` (feed_named)
            url = without_secrets(s.source.url)
            lines.append(f"\n  [{s.health}] {s.source.name} — {url}")
            if s.last_error:
                lines.append(f" (failures: {s.failures}; last error: "
                             f"{without_secrets(s.last_error)})")
            if s.paused:
                lines += say(" — {} to poll it again", ex.feed_resume(url))
        return Reply.message(tuple(lines))

    def _network_down(self) -> bool:
        """As `ainews feeds list` says: each "[failing]" row read as a broken feed while
        the poller had found the bot's network down and counted none of it."""
        from bot.config import DEFAULT_POLL_MINUTES
        minutes = getattr(self.settings, "poll_minutes", DEFAULT_POLL_MINUTES)
        return network_looks_down(self.store, minutes, self.clock())

    def _feed_resume(self, key: str) -> Reply:
        if key.lower() == "all" and self.store.feed_state(key) is None:
            return self._resume_all()
        states = self.feeds_named(key.split())
        if isinstance(states, (str, tuple)):
            return Reply.not_there(states)
        said = " ".join(map(self._resume_one, states))
        return Reply.message(said) if any(s.failures for s in states) else Reply.not_there(said)

    def _resume_one(self, state) -> str:
        """Paused, or waiting out a backoff (its cause fixed): polled on the next cycle."""
        if not state.failures:
            # Not opened by the name: chat capitalises an error's first letter, which
            # turned a feed named "iThome" or "news.example.com" into "IThome".
            return f"feed {named(state)} is not paused; it is polled as usual."
        self.store.resume_feed(state.source.url)
        if not state.paused:
            return (f"Feed {named(state)} was not paused; its backoff after "
                    f"{count(state.failures, 'failure')} is cleared: it is polled on the "
                    "next cycle.")
        return f"Resumed {named(state)}: it is polled on the next cycle."

    def _resume_all(self) -> Reply:
        paused, waiting = self.store.resume_paused_feeds(), self.store.retry_failing_feeds()
        said = [f"Resumed {count(len(paused), 'paused feed')}: polled on the next cycle."
                ] if paused else []
        said += [f"{waiting_retried(len(waiting))}."] if waiting else []
        return Reply.message(" ".join(said) or "No feed is paused or waiting after failures.")

    async def _feed_add(self, url: str, name: str) -> Reply:
        from feeds.fetcher import FetchError
        from feeds.guard import check_url
        allow_private = bool(getattr(self.settings, "allow_private_hosts", False))
        url = without_fragment(url)
        try:
            check_url(url, allow_private)
        except FetchError as e:      # the URL as typed: to be fixed
            return Reply.error(f"can't add {without_secrets(url)}: {why_not(e)}")
        known = self.followed(url)
        if known is not None and name and name != known.source.name:
            return self._rename(known, name)
        if known is not None:
            return Reply.message(f"Already following {named(known)}.")
        title = ""
        if self.fetcher_factory is not None:
            checked = await self._test_fetch(url)
            if isinstance(checked, Reply):
                return checked
            title = checked
        source = FeedSource(name=name or title or urlsplit(url).hostname or url, url=url)
        self.store.upsert_feed(source)
        return Reply.message(f"Added feed {source.name} ({without_secrets(url)}). Its first "
                             "poll stores the stories it carries now as backlog (searchable, "
                             "not posted); "
                             "stories that appear after that will be posted.")

    def _rename(self, state, name: str) -> Reply:
        """`feeds add URL NAME` for a feed followed under another name: the way to rename
        one (its feeds file entry, if any, is read again only once edited there)."""
        self.store.upsert_feed(FeedSource(name, state.source.url, state.source.tags))
        return Reply.message(f"Renamed {named(state)} to {name}: its stories found from now "
                             "on are posted under that name.")

    def followed(self, url: str):
        """The feed followed at `url`, its scheme and host spelt in any case and its
        default port given or not: HTTP://Example.COM:80/rss was added a second time
        beside http://example.com/rss, and polled twice."""
        from feeds.guard import feed_key
        key = feed_key(url)
        return self.store.feed_state(url) or next(
            (s for s in self.store.feed_states() if feed_key(s.source.url) == key), None)

    async def _test_fetch(self, url: str) -> str | Reply:
        """The feed's title if `url` fetches and parses as a feed, else the error."""
        from feeds.fetcher import FetchError
        from feeds.parser import ParseError, off_the_loop, parse_feed
        try:
            async with self.fetcher_factory() as fetcher:
                res = await fetcher.fetch(url)
            parsed = await off_the_loop(parse_feed, res.body or b"",
                                        feed_url=res.final_url or url,
                                        content_type=res.content_type)
        except (FetchError, ParseError) as e:
            return _cant_add(url, e)
        return (parsed.title or "").strip()[:80]


# The component a reason names for the log ("fetcher: 127.0.0.1 is a loopback address").
_COMPONENT = re.compile(r"^(?:fetcher|parser|guard): ")


def _cant_add(url: str, error: Exception) -> Reply:
    """A host refused as private (its name resolves to 10.x) is the caller's to fix, as a
    URL the guard refuses as typed is (`ainews` exits 2); one that holds no working feed
    (a redirect the guard refuses too) is "nothing there" (exit 1)."""
    from feeds.guard import refused_as_given
    said = f"can't add {without_secrets(url)}: {why_not(error)}"
    return Reply.error(said) if refused_as_given(url, error) else Reply.not_there(said)


def why_not(error: Exception) -> str:
    """Why a feed can't be added, as an admin reads it: without the log's component name,
    as /digest drops "digest: " (the reason itself names the host or page)."""
    return _COMPONENT.sub("", str(error))


def dropped_note(dropped: int, feeds: int) -> str:
    """What `feeds remove` cancelled, in unsubscribe's words."""
    return f"{count(dropped, 'waiting post')} from {'it' if feeds == 1 else 'them'} won't go out"


def waiting_retried(n: int) -> str:
    """What `feeds resume all` did to feeds in backoff (not paused): left waiting, they
    polled nothing for hours after their cause (a setting, an outage) was fixed."""
    return f"{count(n, 'feed')} waiting after failures {'is' if n == 1 else 'are'} tried " \
           "at the next poll"


def named(state) -> str:
    """A feed as replies name it: "Hacker News (https://hn.example/rss)", a private
    feed's credentials hidden (chat channels have many readers)."""
    return f"{state.source.name} ({without_secrets(state.source.url)})"


def _shown_as(key: str, states):
    """The feed whose URL, its credentials hidden, is `key`: what `feeds list` showed,
    pasted into `feeds resume|remove`; None if none is."""
    shown = [s for s in states if "***" in key and without_secrets(s.source.url) == key]
    if len(shown) > 1:
        return (f"{len(shown)} feeds are shown as {quote(key)}: give one's name "
                f"({', '.join(s.source.name for s in shown)})")
    return shown[0] if shown else None


def _no_feed(key: str, states) -> str | tuple:
    """No feed at or named `key`: the closest names (typed as `company` suggests)."""
    names = {s.source.name.casefold(): s for s in states}
    close = difflib.get_close_matches(key.casefold(), list(names), n=3, cutoff=0.6)
    if close:
        hints = " or ".join(named(names[n]) for n in close)
        return f"no feed with URL or name '{quote(key)}' — did you mean {hints}?"
    return say("no feed with URL or name '{}'; {} shows them", quote(key), ex.FEEDS_LIST)


def without_fragment(url: str) -> str:
    """`url` without its #fragment, never sent to the server: feed.xml#top was added
    beside feed.xml, and the same feed polled twice."""
    return urldefrag(url.strip()).url
