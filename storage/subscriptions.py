"""Subscriptions (which channel gets which stories) and per-channel digest settings.

A mixin of Store (composed in storage.delivery); the tables are in storage.delivery_schema.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from feeds.models import Subscription
from storage.delivery_schema import DeliveryWrites, from_ts, ts


@dataclass(frozen=True, slots=True)
class DigestSetting:
    platform: str
    workspace: str
    channel: str
    at_time: str          # "HH:MM"
    tz: str               # IANA name
    last_run: datetime


class SubscriptionStore(DeliveryWrites):
    """Mixed into storage.store.Store; uses self.db (sqlite_utils.Database)."""

    # ---- subscriptions -------------------------------------------------------------
    def add_subscription(self, sub: Subscription, *, now: datetime) -> str:
        """Returns "added", "resumed" (the channel was paused) or "exists".

        A pause covers the whole channel (the platform refused its posts), so
        subscribing again there lifts it for all of the channel's subscriptions, and
        the posts it kept meanwhile become 'resumed' (bot/kept_posts.py sends them). A
        pause that kept none (nothing was routed there) counts each subscription from
        then (created_at, Subscription.since): an edit must not post those stories as
        new now. One that kept them keeps its dates: its stories were routed there."""
        with self._outbox_tx() as c:
            resumed = c.execute(
                "UPDATE subscriptions SET paused_reason='', created_at=CASE pause_keeps "
                "WHEN 1 THEN created_at ELSE ? END, pause_keeps=0 WHERE platform=? "
                "AND channel=? AND paused_reason!=''",
                (ts(now), sub.platform, sub.channel)).rowcount
            c.execute("UPDATE outbox SET state='resumed', next_attempt=? WHERE state='kept' "
                      "AND platform=? AND channel=?", (ts(now), sub.platform, sub.channel))
            added = c.execute(
                "INSERT OR IGNORE INTO subscriptions (platform, workspace, channel, kind, "
                "target, paused_reason, created_at) VALUES (?,?,?,?,?,'',?)",
                (sub.platform, sub.workspace, sub.channel, sub.kind, sub.target,
                 ts(now))).rowcount
        return "added" if added else "resumed" if resumed else "exists"

    def remove_subscription(self, platform: str, channel: str, kind: str, target: str) -> bool:
        return self._outbox_exec("DELETE FROM subscriptions WHERE platform=? AND channel=? AND "
                           "kind=? AND target=?", (platform, channel, kind, target)) > 0

    def _sub_rows(self, where: str = "", params=()) -> list[Subscription]:
        rows = self.db.execute(
            "SELECT platform, workspace, channel, kind, target, paused_reason, created_at, "
            f"pause_keeps FROM subscriptions {where} ORDER BY platform, channel, kind, target",
            params).fetchall()
        return [Subscription(*r[:6], since=from_ts(r[6]), keeps_posts=bool(r[7]))
                for r in rows]

    def subscriptions_for_channel(self, platform: str, channel: str) -> list[Subscription]:
        return self._sub_rows("WHERE platform=? AND channel=?", (platform, channel))

    def subscribe(self, sub: Subscription, *, now: datetime | None = None) -> str:
        """add_subscription with the current time (for start-up defaults)."""
        return self.add_subscription(sub, now=now or datetime.now(timezone.utc))

    def all_subscriptions(self) -> list[Subscription]:
        return self._sub_rows()

    def active_subscriptions(self) -> list[Subscription]:
        return self._sub_rows("WHERE paused_reason=''")

    def channels_getting_posts(self, platform: str, workspace: str) -> set[str]:
        """The channels of one server or workspace with a subscription not paused, or
        paused keeping its posts (routed there still, and sent once it is resumed)."""
        return {r[0] for r in self.db.execute(
            "SELECT DISTINCT channel FROM subscriptions WHERE platform=? AND workspace=? "
            "AND (paused_reason='' OR pause_keeps=1)", (platform, workspace))}

    def routed_subscriptions(self) -> list[Subscription]:
        """The subscriptions dispatch routes stories by: the active ones, and those of a
        channel paused keeping its posts (they wait there as 'kept')."""
        return self._sub_rows("WHERE paused_reason='' OR pause_keeps=1")

    def paused_subscriptions(self) -> list[Subscription]:
        return self._sub_rows("WHERE paused_reason!=''")

    def pause_channel(self, platform: str, channel: str, reason: str, *,
                      keep: bool = False) -> int:
        """Pause every subscription of a channel the platform refuses posts to; `keep`:
        what it refuses its admins can fix, so its posts are kept for the resume."""
        return self._outbox_exec("UPDATE subscriptions SET paused_reason=?, pause_keeps=? "
                                 "WHERE platform=? AND channel=?",
                                 (reason or "paused", int(keep), platform, channel))

    # ---- digest settings -----------------------------------------------------------
    def set_digest(self, platform: str, workspace: str, channel: str, at_time: str, tz: str,
                   *, now: datetime) -> None:
        """last_run = now: a time already past today does not fire at once."""
        self._outbox_exec("INSERT OR REPLACE INTO digest_settings VALUES (?,?,?,?,?,?)",
                    (platform, workspace, channel, at_time, tz, ts(now)))

    def clear_digest(self, platform: str, channel: str) -> bool:
        return self._outbox_exec("DELETE FROM digest_settings WHERE platform=? AND channel=?",
                           (platform, channel)) > 0

    def digest_setting(self, platform: str, channel: str) -> DigestSetting | None:
        r = self.db.execute("SELECT * FROM digest_settings WHERE platform=? AND channel=?",
                            (platform, channel)).fetchone()
        return DigestSetting(*r[:5], from_ts(r[5])) if r else None

    def record_digest_run(self, platform: str, channel: str, at: datetime) -> None:
        self._outbox_exec("UPDATE digest_settings SET last_run=? WHERE platform=? AND channel=?",
                    (ts(at), platform, channel))
