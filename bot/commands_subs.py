"""Channel commands: subscribe, unsubscribe, subscriptions, digest (a Commands mixin).

Changes are admin-only (the adapter fills Caller.is_admin from the platform's rules)
and answered visibly, so the channel sees who changed what it gets."""
from __future__ import annotations

import difflib
import re
from datetime import timedelta

from bot.digest import (DigestError, next_scheduled, parse_schedule, released_note,
                         zone_note)
from bot.dispatch import matching_channels
from bot.pacing import SPREAD, room_now
from bot.commands_text import digest_words, quote, typed_name, unquoted, user_text
from bot import examples as ex
from bot.examples import Text, say
from bot.replies import Caller, Reply
from feeds.models import Subscription
from feeds.plural import count

EVERYTHING = "Everything this channel follows (stop all)"
UNSUBSCRIBED = "cancelled: unsubscribed before it was posted"
# Told apart in `ainews why`: that roundup may be in the channel after all.
UNSUBSCRIBED_UNCONFIRMED = ("cancelled: unsubscribed while its roundup was unconfirmed "
                            "(an earlier try may have posted it)")
NOT_ADMIN = ("only channel admins can change what this channel gets (Discord: Manage "
             "Channels; Slack: workspace admins or SLACK_ADMIN_USER_IDS)")
# Who may change what a channel gets, as each platform's users know it (docs/slack.md,
# docs/discord.md); help adds who may manage feeds where that differs.
CHANNEL_ADMINS = {
    "slack": "workspace admins and owners (and members listed in the bot's "
             "SLACK_ADMIN_USER_IDS)",
    "discord": "members with the Manage Channels permission",
}
WHO_IS_ADMIN = {**CHANNEL_ADMINS,
                "discord": CHANNEL_ADMINS["discord"] + " (feeds: Manage Server)"}


def not_admin(caller: Caller) -> str:
    """The refusal a non-admin gets, naming who can: a Slack channel manager is no admin
    here, so "only channel admins" told them the wrong thing."""
    who = CHANNEL_ADMINS.get(caller.platform)
    if who is None:
        return NOT_ADMIN
    return f"only {who} can change what this channel gets; ask one of them"


class SubscriptionCommands:
    def subscribe(self, caller: Caller, target: str) -> Reply:
        if not caller.is_admin:
            return Reply.error(not_admin(caller))
        resolved = self._target(target)
        if isinstance(resolved, Reply):
            return resolved
        kind, name = resolved
        before = self.store.subscriptions_for_channel(caller.platform, caller.channel)
        paused = [s for s in before if s.paused and (s.kind, s.target) != (kind, name)]
        sub = Subscription(caller.platform, caller.workspace, caller.channel, kind, name)
        outcome = self.store.add_subscription(sub, now=self.clock())
        what = self._describe(kind, name)
        if outcome == "exists":
            return Reply.message(f"This channel already gets {what}.")
        # "gets again stories on X" read backwards: "again" goes last.
        text = (f"This channel gets {what} again." if outcome == "resumed" else
                f"This channel now gets {what}.")
        if paused:          # the pause was the channel's: every subscription resumes
            others = "subscription" if len(paused) == 1 else count(len(paused), "subscription")
            text += f" Posting here resumes for its other {others} too."
        if kind != "all" and any(s.kind == "all" for s in before):
            text += " (It already gets all strategy stories, which include these.)"
        return Reply.message(text, ephemeral=False)

    def unsubscribe(self, caller: Caller, target: str) -> Reply:
        if not caller.is_admin:
            return Reply.error(not_admin(caller))
        current = self.store.subscriptions_for_channel(caller.platform, caller.channel)
        if not user_text(target):
            return self._what_to_stop(current)
        if means_everything(target):
            return self._unsubscribe_everything(caller, current)
        match = self._existing(current, target)
        if match is None:
            return Reply.error(self._not_followed(current, target))
        self.store.remove_subscription(caller.platform, caller.channel, match.kind,
                                       match.target)
        dropped = self._drop_unwanted(caller)
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
        names = ", ".join(self._short(s) for s in current)
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
        for s in current:
            self.store.remove_subscription(caller.platform, caller.channel, s.kind, s.target)
        dropped = self._drop_unwanted(caller)
        names = ", ".join(self._short(s) for s in current)
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
        if several := self._several(unquoted(target)):
            return one_at_a_time(several, ex.unsubscribe_named)
        named = self._target(target)
        if not isinstance(named, Reply) and any(s.kind == "all" for s in current):
            return say("this channel doesn't follow {} on their own: they come with all "
                       "strategy stories, which it follows ({} stops everything)",
                       self._describe(*named), ex.UNSUBSCRIBE_ALL)
        return say("this channel doesn't follow '{}'; {} lists what it follows",
                   quote(target or ""), ex.SUBSCRIPTIONS)

    def _short(self, s: Subscription) -> str:
        return "all" if s.kind == "all" else s.target

    def subscriptions(self, caller: Caller) -> Reply:
        subs = self.store.subscriptions_for_channel(caller.platform, caller.channel)
        if not subs:
            text = say("This channel follows nothing yet. Admins: {}, {} or {}.",
                       ex.SUBSCRIBE_ALL, ex.SUBSCRIBE_TOPIC, ex.SUBSCRIBE_COMPANY)
            if self.store.digest_setting(caller.platform, caller.channel):
                text += ("\n\n", self._delivery_line(caller))
            return Reply.message(text)
        lines: list = ["This channel gets:"]
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
        reasons = list(dict.fromkeys(pause_reason(s.paused_reason) for s in subs if s.paused))
        if reasons:     # the platform's error text, without the log's prefix
            lines += say("\n\nPAUSED: {}. Nothing is posted here until that is fixed; "
                         "then {} resumes every subscription above.", "; ".join(reasons),
                         ex.subscribe_named(next(s.target for s in subs if s.paused)))
        lines += ["\n\n", self._delivery_line(caller)]
        return Reply.message(tuple(lines))

    def digest(self, caller: Caller, mode: str, at: str | None = None,
               tz: str | None = None) -> Reply:
        if not caller.is_admin:
            return Reply.error(not_admin(caller))
        if at is None and tz is None:        # one string: "daily 08:30 Europe/Berlin"
            mode, at, tz = digest_words(user_text(mode).split())
        mode, at, tz = user_text(mode).lower(), user_text(at), user_text(tz) or None
        if mode == "off":
            had = self.store.clear_digest(caller.platform, caller.channel)
            if not had:
                return Reply.message("This channel has no digest; stories are posted as "
                                     "they come.")
            # Held for the digest: now they go as the instant posts asked for (the
            # hourly cap still rolls a long list into a roundup).
            n = self.store.release_held(caller.platform, caller.channel, self.clock())
            held = released_note(n, self._cap_room(caller), self.hourly_cap) if n else ""
            return Reply.message(f"Digest off: new stories are posted as they come.{held}",
                                 ephemeral=False)
        if mode != "daily":
            return Reply.error(say("use {} (e.g. {}) or {}", ex.DIGEST_USAGE, ex.DIGEST_EG,
                                   ex.DIGEST_OFF))
        if not at:
            return Reply.error(say("give the time of day for the digest, e.g. {}",
                                   ex.DIGEST_EG))
        try:
            schedule = parse_schedule(at, tz or "UTC")
        except DigestError as e:
            return Reply.error(say("{}, as in {}", str(e).removeprefix("digest: "),
                                   ex.DIGEST_EG))
        self.store.set_digest(caller.platform, caller.workspace, caller.channel,
                              schedule.at_text, schedule.tz_name, now=self.clock())
        text = say("This channel now gets one digest a day at {} {} instead of instant "
                   "posts (none on a day without new stories).", schedule.at_text,
                   schedule.tz_name)
        if note := zone_note(schedule.tz_name):
            text += (f" Note: {note}.",)
        if not self.store.subscriptions_for_channel(caller.platform, caller.channel):
            text += say(" It follows nothing yet, so the digest would be empty: {} (or a "
                        "topic or company) first.", ex.SUBSCRIBE_ALL)
        return Reply.message(text, ephemeral=False)

    # ---- helpers ---------------------------------------------------------------------
    def _target(self, target: str) -> tuple[str, str] | Reply:
        """("all"|"topic"|"company", name) for what the user typed, or an error."""
        raw = unquoted(target)
        if not raw:
            return Reply.error(say("say what to follow: a topic ({} lists them), a company, "
                                   "or everything: {}", ex.TOPICS, ex.SUBSCRIBE_ALL))
        kind, _, rest = raw.partition(":")
        if kind.lower() in ("topic", "company") and rest.strip():
            raw, only = unquoted(rest), kind.lower()
        else:
            only = None
        if raw.lower() == "all" and only is None:
            return ("all", "all")
        slug = self.classifier.resolve_topic(raw) if only != "company" else None
        if slug:
            return ("topic", slug)
        company = self.classifier.resolve_company(raw) if only != "topic" else None
        if company:
            return ("company", company)
        return Reply.error(self._unknown_target(raw))

    def _unknown_target(self, raw: str) -> Text:
        if several := self._several(raw):
            return one_at_a_time(several, ex.subscribe_named)
        hints = list(self.classifier.suggest_companies(raw, 3))
        hints += self.classifier.suggest_topics(raw, 2)
        # Closest first, topics and companies alike ("pricng": pricing, not Microsoft).
        key = raw.casefold()
        hints.sort(key=lambda h: -difflib.SequenceMatcher(None, key, h.casefold()).ratio())
        return say("no topic or company '{}' — ", quote(raw)) + ex.did_you_mean(
            " or ".join(hints), say("follow a topic slug ({} lists them), a company, or "
                                    "everything: {}", ex.TOPICS, ex.SUBSCRIBE_ALL))

    def _several(self, raw: str) -> list[str]:
        """The targets in "pricing, chips" or "pricing chips" when every part names one:
        no command takes several, and "no topic or company 'pricing, chips'" read as if
        neither existed."""
        parts = _SEPARATORS.split(raw) if _SEPARATORS.search(raw) else raw.split()
        named = [self._one(unquoted(p)) for p in parts if p.strip()]
        return named if len(named) > 1 and all(named) else []

    def _one(self, part: str) -> str | None:
        if part.lower() == "all":
            return "all"
        return self.classifier.resolve_topic(part) or self.classifier.resolve_company(part)

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

    def _existing(self, subs: list[Subscription], target: str) -> Subscription | None:
        raw = unquoted(target)
        resolved = self._target(raw)
        for s in subs:
            if not isinstance(resolved, Reply) and (s.kind, s.target) == resolved:
                return s
        # A target the gazetteer no longer knows can still be removed by its name
        # (`company:Name` too, as a picker's choice names it).
        kind, _, name = raw.partition(":")
        if kind.lower() in ("topic", "company") and name.strip():
            return next((s for s in subs if s.kind == kind.lower()
                         and s.target.casefold() == name.strip().casefold()), None)
        return next((s for s in subs if s.target.casefold() == raw.casefold()), None)

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

    def _describe(self, kind: str, target: str) -> str:
        if kind == "all":
            return "all AI strategy stories"
        if kind == "topic":
            return f"stories on {self.classifier.topic_label(target)} (topic {target})"
        return f"stories about {target}"

    def _cap_room(self, caller: Caller) -> int:
        """Posts the channel may send at once now: what its hourly cap has room for, as
        far as a busy channel's posts are not spread over the hour (bot/pacing.py)."""
        now = self.clock()
        sent = self.store.posts_sent_since(caller.platform, caller.channel,
                                           now - timedelta(hours=1))
        return room_now(sent, now, self.hourly_cap, SPREAD)

    def _delivery_line(self, caller: Caller) -> str:
        d = self.store.digest_setting(caller.platform, caller.channel)
        if d:
            schedule = parse_schedule(d.at_time, d.tz)
            nxt = next_scheduled(schedule, self.clock()).astimezone(schedule.tz)
            return (f"Delivery: one digest a day at {d.at_time} {d.tz} (next: "
                    f"{nxt:%a %d %b} {nxt:%H:%M %Z}); no digest on a day without new "
                    "stories.")
        return (f"Delivery: as they come, up to {count(self.hourly_cap, 'post')} an hour "
                "(more roll into one roundup).")


# Between targets typed as a list: commas (full-width and ideographic too), semicolons.
_SEPARATORS = re.compile("[,;，、；]")


def one_at_a_time(targets: list[str], example) -> Text:
    """`pricing, chips` -> "one topic or company at a time: `subscribe pricing`, then
    `subscribe chips`", each spelled as the platform types it."""
    fields = ", ".join(["{}"] * (len(targets) - 1)) + ", then {}"
    return say("one topic or company at a time: " + fields, *map(example, targets))


# The log's words before the platform's reason: which channel and call ("slack:
# chat.postMessage to C0123 failed: not_in_channel: ..."); `ainews status` keeps them.
_SLACK_PAUSE = re.compile(r"^slack: \S+ to \S+ failed: (\w+): (.+)$", re.S)
_DISCORD_PAUSE = re.compile(r"^discord: channel \d+: (.+)$", re.S)


def pause_reason(reason) -> str:
    """Why a channel is paused, as its own members read it: the channel's ID and the
    Web API method meant nothing to them. Slack's error code stays, after the reason."""
    reason = str(reason)
    if m := _SLACK_PAUSE.match(reason):
        return f"{m.group(2)} (Slack said {m.group(1)})"
    if m := _DISCORD_PAUSE.match(reason):
        return m.group(1)
    return reason


def _choice_value(s: Subscription) -> str:
    return "all" if s.kind == "all" else f"{s.kind}:{s.target}"


def means_everything(target) -> bool:
    """`unsubscribe TARGET` stops everything the channel gets (all, everything, ALL)."""
    return unquoted(target).casefold() in ("all", "everything")
