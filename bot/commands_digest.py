"""The digest command (`digest daily 08:30 Europe/Berlin`, `digest off`) and the
delivery line `subscriptions` ends with (a Commands mixin; schedules in bot/digest.py)."""
from __future__ import annotations

from datetime import timedelta

from bot import examples as ex
from bot.commands_subs import not_admin
from bot.commands_text import digest_words, user_text
from bot.digest import DigestError, next_scheduled, parse_schedule, with_meridiem, zone_note
from bot.examples import say
from bot.pacing import SPREAD, room_now
from bot.replies import Caller, Reply
from bot.roundup_text import released_note
from feeds.plural import count


class DigestCommands:
    def digest(self, caller: Caller, mode: str, at: str | None = None,
               tz: str | None = None) -> Reply:
        if not caller.is_admin:
            return Reply.error(not_admin(caller))
        if at is None and tz is None:        # one string: "daily 08:30 Europe/Berlin"
            mode, at, tz = digest_words(user_text(mode).split())
        mode, at, tz = user_text(mode).lower(), user_text(at), user_text(tz) or None
        at, tz = with_meridiem(at, tz)
        if mode == "off":
            return self._digest_off(caller)
        if mode != "daily":
            return Reply.error(say("use {} (e.g. {}) or {}", ex.DIGEST_USAGE, ex.DIGEST_EG,
                                   ex.DIGEST_OFF))
        return self._digest_daily(caller, at, tz)

    def _digest_off(self, caller: Caller) -> Reply:
        # As one: killed in between, the held posts stayed held in a channel with no
        # digest, to go out as a roundup "over the hourly cap".
        with self.store.transaction():
            if not self.store.clear_digest(caller.platform, caller.channel):
                return Reply.message("This channel has no digest; stories are posted "
                                     "as they come.")
            # Held for the digest: now they go as the instant posts asked for (the
            # hourly cap still rolls a long list into a roundup).
            n = self.store.release_held(caller.platform, caller.channel, self.clock())
        held = released_note(n, self._cap_room(caller), self.hourly_cap) if n else ""
        return Reply.message(f"Digest off: new stories are posted as they come.{held}",
                             ephemeral=False)

    def _digest_daily(self, caller: Caller, at: str, tz: str | None) -> Reply:
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
