"""What a subscription command's TARGET names: a topic, a company or everything, read
from what was typed (`pricing`, `qwen`, `company:Meta`, `all`), with the errors that say
what to type instead (a Commands mixin, used by bot/commands_subs.py)."""
from __future__ import annotations

import difflib
import re

from bot import examples as ex
from bot.commands_text import quote, unquoted
from bot.examples import Text, say
from bot.replies import Reply
from feeds.models import Subscription


class TargetNames:
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
        if means_everything(raw) and only is None:
            return ("all", "all")
        if found := self._named(raw, only) or self._named(bare(raw), only):
            return found
        if other := self._other_kind(raw, only):
            return Reply.not_there(other)
        if several := self._several(raw):   # "pricing alibaba": a request to fix
            return Reply.error(one_at_a_time(several, ex.subscribe_named))
        return Reply.not_there(self._unknown_target(raw))

    def _named(self, raw: str, only: str | None) -> tuple[str, str] | None:
        """The topic or company `raw` names (`only`: of that kind), or None."""
        slug = self.classifier.resolve_topic(raw) if raw and only != "company" else None
        if slug:
            return ("topic", slug)
        company = self.classifier.resolve_company(raw) if raw and only != "topic" else None
        return ("company", company) if company else None

    def _other_kind(self, raw: str, only: str | None) -> Text | None:
        """`company:pricing` names a topic (`topic:qwen` a company): say which, not "no
        topic or company 'pricing' — did you mean pricing?"."""
        if only == "company" and (slug := self.classifier.resolve_topic(raw)):
            return say("'{}' is a topic, not a company: {}", quote(raw),
                       ex.subscribe_named(slug))
        if only == "topic" and (company := self.classifier.resolve_company(raw)):
            return say("'{}' is a company, not a topic: {}", quote(raw),
                       ex.subscribe_named(company))
        return None

    def _unknown_target(self, raw: str) -> Text:
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
        if means_everything(part):
            return "all"
        return self.classifier.resolve_topic(part) or self.classifier.resolve_company(part)

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

    def _describe(self, kind: str, target: str) -> str:
        if kind == "all":
            return "all AI strategy stories"
        if kind == "topic":
            return f"stories on {self.classifier.topic_label(target)} (topic {target})"
        return f"stories about {target}"


# Marks around a name typed as in a chat message: #pricing (a Slack habit), @OpenAI,
# OpenAI's, "pricing." or "Nvidia!" at the end of a sentence.
_MARKS = re.compile(r"^[#＃@＠]+|(?:['’]s)?[.!?。！？]*$")


def bare(raw: str) -> str:
    """`raw` without the marks around it ("" when they were all of it)."""
    return _MARKS.sub("", raw).strip()


# Between targets typed as a list: commas (full-width and ideographic too), semicolons.
_SEPARATORS = re.compile("[,;，、；]")


def one_at_a_time(targets: list[str], example) -> Text:
    """`pricing, chips` -> "one topic or company at a time: `subscribe pricing`, then
    `subscribe chips`", each spelled as the platform types it."""
    fields = ", ".join(["{}"] * (len(targets) - 1)) + ", then {}"
    return say("one topic or company at a time: " + fields, *map(example, targets))


def means_everything(target) -> bool:
    """TARGET names everything (all, everything, ALL): `subscribe` follows all strategy
    stories, `unsubscribe` stops everything the channel gets."""
    return unquoted(target).casefold() in ("all", "everything")
