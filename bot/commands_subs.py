"""Channel commands: subscribe, unsubscribe, subscriptions (a Commands mixin; what a
TARGET names is in bot/commands_targets.py, the digest in bot/commands_digest.py).

Changes are admin-only (the adapter fills Caller.is_admin from the platform's rules)
and answered visibly, so the channel sees who changed what it gets."""
from __future__ import annotations

from dataclasses import replace

from bot.commands_targets import TargetNames, means_everything, one_at_a_time
from bot.dispatch import matching_channels
from bot.commands_text import quote, typed_name, unquoted, user_text
from bot import examples as ex
from bot.examples import Text, say
from bot.platforms import platform_of
from bot.server_cap import server_full
from bot.replies import Caller, Reply
from feeds.models import Subscription
from feeds.plural import count

EVERYTHING = "Everything this channel follows (stop all)"
UNSUBSCRIBED = "cancelled: unsubscribed before it was posted"
# Told apart in `ainews why`: that roundup may be in the channel after all.
UNSUBSCRIBED_UNCONFIRMED = ("cancelled: unsubscribed while its roundup was unconfirmed "
                            "(an earlier try may have posted it)")
# A platform that names no admins of its own (bot/platforms.py) gets this.
NOT_ADMIN = "only channel admins can change what this channel gets"

def not_admin(caller: Caller) -> str:
    """The refusal a non-admin gets, naming who can as their platform's users know it
    (docs/slack.md, docs/discord.md): a Slack channel manager is no admin here, so
    "only channel admins" told them the wrong thing."""
    who = platform_of(caller.platform).channel_admins
    if who is None:
        return NOT_ADMIN
    return f"only {who} can change what this channel gets; ask one of them"

class SubscriptionCommands(TargetNames):
    def subscribe(self, caller: Caller, target: str) -> Reply:
        if not caller.is_admin:
            return Reply.error(not_admin(caller))
        resolved = self._target(target)
        if isinstance(resolved, Reply):
            return resolved
        if (full := server_full(self.store, self.settings, caller)) is not None:
            return full
        kind, name = resolved
        before = self.store.subscriptions_for_channel(caller.platform, caller.channel)
        kept = self.store.kept_count(caller.platform, caller.channel)
        sub = Subscription(caller.platform, caller.workspace, caller.channel, kind, name)
        outcome = self.store.add_subscription(sub, now=self.clock())
        what = self._describe(kind, name)
        if outcome == "exists":
            return Reply.message(f"This channel already gets {what}.")
        # "gets again stories on X" read backwards: "again" goes last.
        text = ((f"This channel gets {what} again.",) if outcome == "resumed" else
                say("This channel now gets {}: new ones from now on ({} shows the latest "
                    "now).", what, self._lookup(kind, name)))
        if kept:    # only a paused channel keeps posts, and any subscribe there resumes it
            text += (self._kept_note(caller, kept),)
        return Reply.message(text + self._subscribed_notes(caller, sub, before),
                             ephemeral=False)

    def _kept_note(self, caller: Caller, kept: int) -> str:
        """What comes of the posts the channel kept while paused (bot/kept_posts.py)."""
        one = kept == 1
        when = ("joins its next digest" if one else "join its next digest") if \
            self.store.digest_setting(caller.platform, caller.channel) else \
            ("goes out now" if one else "go out now")
        return (f" The {count(kept, 'post')} kept while it was paused {when} "
                f"({'if it is' if one else 'those'} still news).")

    def _subscribed_notes(self, caller: Caller, sub: Subscription,
                          before: list[Subscription]) -> Text:
        """What else a subscription changes: a channel pause lifted, stories `all`
        already brings, and in a digest channel when they come ("now gets" alone read
        as instant posts, then nothing until the digest)."""
        notes: Text = ()
        paused = [s for s in before if s.paused and (s.kind, s.target) != (sub.kind,
                                                                          sub.target)]
        if paused:          # the pause was the channel's: every subscription resumes
            others = "subscription" if len(paused) == 1 else count(len(paused), "subscription")
            notes += (f" Posting here resumes for its other {others} too.",)
        if sub.kind != "all" and any(s.kind == "all" for s in before):
            notes += (" (It already gets all strategy stories, which include these.)",)
        if self.store.digest_setting(caller.platform, caller.channel):
            notes += (" ", self._delivery_line(caller))
        return notes

    @staticmethod
    def _lookup(kind: str, name: str) -> ex.Example:
        """The lookup showing what a new subscription gets: the stories already stored
        are never posted to it, so without this it heard nothing until the next one."""
        if kind == "company":
            return ex.company_named(name)
        return ex.topic_named(name) if kind == "topic" else ex.LATEST

    def unsubscribe(self, caller: Caller, target: str) -> Reply:
        if not caller.is_admin:
            return Reply.error(not_admin(caller))
        current = self.store.subscriptions_for_channel(caller.platform, caller.channel)
        if not current and (above := self._channel_above(caller)):
            return Reply.error(say("this thread follows nothing of its own; the channel it "
                                   "is in follows {}: run {} there", self._names(above),
                                   self._stop_example(above)))
        if not user_text(target):
            return self._what_to_stop(current)
        if means_everything(target):
            return self._unsubscribe_everything(caller, current)
        match = self._existing(current, target)
        if match is None and (several := self._several(unquoted(target))):
            return Reply.error(one_at_a_time(several, ex.unsubscribe_named))
        if match is None:
            return Reply.not_there(self._not_followed(current, target))
        dropped = self._stop_following(caller, [match])
        note = f" {count(dropped, 'waiting post')} won't go out." if dropped else ""
        return Reply.message(self._stopped(caller, match) + (note,), ephemeral=False)

    def _stopped(self, caller: Caller, match: Subscription) -> Text:
        """What `unsubscribe TARGET` stopped. In a channel that still follows all, the
        stories keep coming through it: "no longer gets stories on Pricing" said they
        would stop, and the channel went on getting them."""
        what = self._describe(match.kind, match.target)
        left = self.store.subscriptions_for_channel(caller.platform, caller.channel)
        if match.kind == "all" or not any(s.kind == "all" for s in left):
            return say("This channel no longer gets {}.", what)
        return say("This channel no longer follows {} on their own; they still come with "
                   "all AI strategy stories, which it follows ({} stops everything).", what,
                   ex.UNSUBSCRIBE_ALL)

    def _what_to_stop(self, current: list[Subscription]) -> Reply:
        """`unsubscribe` with no target: what the channel follows, to name one of
        ("e.g. /unsubscribe TARGET" gave a placeholder where the targets were known)."""
        if not current:
            return Reply.message(say("This channel follows nothing; nothing to stop. {} "
                                     "lists what it follows.", ex.SUBSCRIPTIONS))
        names = self._names(current)
        named = [s for s in current if s.kind != "all"]
        if not named:       # "e.g. /unsubscribe all, or /unsubscribe all for everything"
            return Reply.error(say("say what to stop following; this channel follows all "
                                   "strategy stories: {} stops them", ex.UNSUBSCRIBE_ALL))
        return Reply.error(say("say what to stop following; this channel follows {}: e.g. "
                               "{}, or {} for everything", names,
                               ex.unsubscribe_named(self._short(named[0])),
                               ex.UNSUBSCRIBE_ALL))

    def _unsubscribe_everything(self, caller: Caller, current: list[Subscription]) -> Reply:
        """`unsubscribe all`: the one step that stops everything the channel gets, whether
        it follows `all` or only named topics and companies (it answered "doesn't follow
        'all'" to a channel following pricing and Alibaba, leaving one command per target)."""
        if not current:
            return Reply.message(say("This channel follows nothing; nothing to stop. {} "
                                     "lists what it follows.", ex.SUBSCRIPTIONS))
        dropped = self._stop_following(caller, current)
        names = self._names(current)
        text = say("This channel no longer gets anything (stopped: {}).", names)
        if dropped:
            text += (f" {count(dropped, 'waiting post')} won't go out.",)
        if self.store.digest_setting(caller.platform, caller.channel):
            text += say(" Its digest setting stays for when it follows something again "
                        "({} removes it).", ex.DIGEST_OFF)
        return Reply.message(text, ephemeral=False)

    def _not_followed(self, current: list[Subscription], target: str) -> Text:
        """Why `unsubscribe TARGET` stops nothing. In a channel following all, the
        stories asked about still come through all: "doesn't follow 'Alibaba'" read as
        if they would stop."""
        named = self._target(target)
        if not isinstance(named, Reply) and any(s.kind == "all" for s in current):
            return say("this channel doesn't follow {} on their own: they come with all "
                       "strategy stories, which it follows ({} stops everything)",
                       self._describe(*named), ex.UNSUBSCRIBE_ALL)
        # What it asked for by the bot's name for it (`chatgpt`: stories about OpenAI),
        # then what the channel does follow: "`subscriptions` lists what it follows"
        # was one more command to run for what was known here.
        asked = (self._describe(*named) if not isinstance(named, Reply)
                 else f"'{quote(target or '')}'")
        return say("this channel doesn't follow {}; ", asked) + self._follows(current)

    def _follows(self, current: list[Subscription]) -> Text:
        """What a channel follows, with the command that stops one of them."""
        if not current:
            return ("it follows nothing",)
        named = [s for s in current if s.kind != "all"]
        if len(current) == 1 or not named:
            return say("it follows {}: {} stops that", self._names(current),
                       self._stop_example(current))
        return say("it follows {}: e.g. {}, or {} for everything", self._names(current),
                   ex.unsubscribe_named(self._short(named[0])), ex.UNSUBSCRIBE_ALL)

    def _short(self, s: Subscription) -> str:
        return "all" if s.kind == "all" else s.target

    def _names(self, subs: list[Subscription]) -> str:
        return ", ".join(self._short(s) for s in subs)

    def _stop_example(self, subs: list[Subscription]):
        if len(subs) == 1 and subs[0].kind != "all":
            return ex.unsubscribe_named(self._short(subs[0]))
        return ex.UNSUBSCRIBE_ALL

    def _channel_above(self, caller: Caller) -> list[Subscription]:
        """What the channel a thread is in follows (none outside a thread). A thread has
        an id of its own (Discord's), and a subscription made in it posts there; one
        that follows nothing of its own gets its channel's posts, thread under each."""
        if not caller.parent:
            return []
        return self.store.subscriptions_for_channel(caller.platform, caller.parent)

    def subscriptions(self, caller: Caller) -> Reply:
        subs = self.store.subscriptions_for_channel(caller.platform, caller.channel)
        if not subs and (above := self._channel_above(caller)):
            # Not "follows nothing yet. Admins: subscribe all": that would post it twice.
            return self._listed(replace(caller, channel=caller.parent, parent=""), above,
                                "This thread follows nothing of its own; the channel it is "
                                "in gets:", where=" there", run=" in that channel")
        if not subs:
            text = say("This channel follows nothing yet. Admins: {}, {} or {}.",
                       ex.SUBSCRIBE_ALL, ex.SUBSCRIBE_TOPIC, ex.SUBSCRIBE_COMPANY)
            if self.store.digest_setting(caller.platform, caller.channel):
                text += ("\n\n", self._delivery_line(caller))
            return Reply.message(text)
        return self._listed(caller, subs, "This channel gets:")

    def _listed(self, caller: Caller, subs: list[Subscription], heading: str,
                where: str = " here", run: str = "") -> Reply:
        lines: list = [heading]
        follows_all = any(s.kind == "all" for s in subs)
        for s in subs:
            lines += ["\n", f"  - {self._describe(s.kind, s.target)}"]
            if follows_all and s.kind != "all":
                lines += [" (already included in all)"]
            if s.paused:
                lines += [" — paused"]
        # A pause covers the whole channel (the platform refused its posts) and one
        # subscribe lifts it for all: said once, not once per subscription with a
        # command each, as if every one needed its own.
        reasons = list(dict.fromkeys(pause_reason(s) for s in subs if s.paused))
        if reasons:     # the platform's error text, without the log's prefix
            lines += say("\n\nPAUSED: {}. Nothing is posted{} until that is fixed; then {}"
                         "{} resumes every subscription above.", "; ".join(reasons), where,
                         ex.subscribe_named(next(s.target for s in subs if s.paused)), run)
        lines += ["\n\n", self._delivery_line(caller)]
        return Reply.message(tuple(lines))

    # ---- helpers ---------------------------------------------------------------------
    def complete_subscription(self, caller: Caller, prefix: str,
                              limit: int = 25) -> list[tuple[str, str]]:
        """(label, value) of what this channel follows, for an unsubscribe picker: the
        ones whose name starts with what was typed first, then those containing it or
        named by it (an alias: qwen -> Alibaba). A value is what unsubscribe takes
        (`topic:pricing`, `company:Alibaba`, `all`), so a topic and a company of the
        same name stay apart."""
        p = typed_name(prefix).casefold()
        subs = self.store.subscriptions_for_channel(caller.platform, caller.channel)
        named = self._target(p) if p else None
        choices = {(self._choice_label(s), _choice_value(s)): s for s in subs}

        def starts(label: str, s: Subscription) -> bool:
            return label.casefold().startswith(p) or s.target.casefold().startswith(p)

        first = [c for c, s in choices.items() if starts(c[0], s)]
        rest = [c for c, s in choices.items() if c not in first
                and (p in c[0].casefold() or p in s.target.casefold()
                     or (s.kind, s.target) == named)]
        # `all` stops everything: offered when the channel follows named targets only
        # (a subscription to all is already a choice with that value).
        if len(subs) > 1 and all(s.kind != "all" for s in subs) and (
                EVERYTHING.casefold().startswith(p) or "all".startswith(p)):
            rest.append((EVERYTHING, "all"))
        return (first + rest)[:max(0, limit)]

    def _choice_label(self, s: Subscription) -> str:
        if s.kind == "all":
            label = "Everything (all strategy stories)"
        elif s.kind == "topic":
            label = f"{self.classifier.topic_label(s.target)} ({s.target})"
        else:
            label = s.target
        return label + (" — paused" if s.paused else "")

    def _stop_following(self, caller: Caller, subs: list[Subscription]) -> int:
        """The subscriptions removed and the posts no longer wanted cancelled, as one: a
        crash in between sent the channel that said stop its digest all the same."""
        with self.store.transaction():
            for s in subs:
                self.store.remove_subscription(caller.platform, caller.channel, s.kind,
                                               s.target)
            return self._drop_unwanted(caller)

    def _drop_unwanted(self, caller: Caller) -> int:
        """Posts still waiting (held for the digest or over the hourly cap, or retrying)
        that no remaining subscription wants: the channel said stop, so they never go.
        A roundup whose answer was lost goes too: its retry would be a new post if the
        try never arrived (and if it did, the channel has already seen it)."""
        subs = self.store.subscriptions_for_channel(caller.platform, caller.channel)
        unwanted = [r for r in self.store.waiting_posts(caller.platform, caller.channel,
                                                        unconfirmed=True)
                    if not matching_channels(subs, r.brief)]
        return (self.store.cancel_posts([r.id for r in unwanted if r.batch is None],
                                        UNSUBSCRIBED)
                + self.store.cancel_posts([r.id for r in unwanted if r.batch is not None],
                                          UNSUBSCRIBED_UNCONFIRMED, unconfirmed=True))

def pause_reason(sub: Subscription) -> str:
    """Why a channel is paused, as its own members read it (its platform's traits say):
    the log line's channel ID and Web API method meant nothing to them."""
    reason = str(sub.paused_reason)
    return platform_of(sub.platform).pause_reason(reason) or reason

def _choice_value(s: Subscription) -> str:
    return "all" if s.kind == "all" else f"{s.kind}:{s.target}"

