"""The chat platforms of `ainews run`, started, and the console (a Service mixin): each
configured platform tried (one not reachable yet retried in the background, bot/startup.py),
the console on when no chat platform is, else its channel paused."""
from __future__ import annotations

import logging

from bot.connections import ConnectionLog
from bot.errors import StartUnavailable, UserError
from bot.startup import Platforms, Starter
from feeds.plural import count

log = logging.getLogger("ainews.service")

CONSOLE_OFF = ("the console adapter is off (a chat platform is configured; "
               "AINEWS_CONSOLE=1 keeps it on)")


class PlatformStarts:
    async def _start_adapters(self, *, once: bool = False) -> dict:
        """Try each chat platform. One that can't be reached yet (no network after a
        reboot, an outage) gets a stand-in that holds its posts in the outbox, and is
        retried in the background once delivery runs (bot/startup.py). `run --once`
        waits for every first try: its single delivery pass comes soon after."""
        self.platforms = Platforms(self._starters(), self.stop)
        adapters = await self.platforms.start(wait_all=once)
        if self.app.settings.console_enabled:
            adapters["console"] = self._console_adapter()
        else:
            self._pause_console()
        for line in unserved_warnings(self.app.store.active_subscriptions(), adapters,
                                      self.app.settings.max_post_age):
            log.warning("%s", line)
        return adapters

    def _starters(self) -> list[Starter]:
        s, starters = self.app.settings, []
        if s.slack_enabled:
            starters.append(Starter("slack", self._start_slack, self._connection("slack")))
        elif half := half_slack(s):
            # Not an error: a .env shared with another Slack tool may hold its token.
            # But said, in the log and in `ainews status`, not silently.
            log.warning("slack: %s; Slack stays off", half)
            self._connection("slack").set("off", half)
        if s.discord_enabled:
            starters.append(Starter("discord", self._start_discord, self._connection("discord")))
        return starters

    def _connection(self, platform: str) -> ConnectionLog:
        """One per platform and run: the starter and the client's events share it."""
        if platform not in self.connections:
            self.connections[platform] = ConnectionLog(self.app.store, platform)
            self.connections[platform].set("starting")
        return self.connections[platform]

    async def _start_slack(self):
        from bot.slack import start_slack
        from bot.slack.app import SlackStartError
        try:
            return await start_slack(self.app.settings, self.app.commands,
                                     connection=self._connection("slack"))
        except StartUnavailable:
            raise
        except SlackStartError as e:
            raise UserError(str(e)) from None

    async def _start_discord(self):
        from bot.discord import start_discord
        return await start_discord(self.app.settings, self.app.commands, self.app.store,
                                   connection=self._connection("discord"))

    def _console_adapter(self):
        from bot.console import ConsoleAdapter, set_up_console
        store = self.app.store
        set_up_console(store)
        subs = store.subscriptions_for_channel("console", "console")
        if subs and subs[0].paused:     # paused by a run on a chat platform (_pause_console)
            store.subscribe(subs[0])
        elif not subs:
            log.info("service: the console channel follows nothing, so nothing is printed; "
                     "`ainews chat subscribe all` (or a topic or company) changes that")
        return ConsoleAdapter()

    def _pause_console(self) -> None:
        """A chat platform replaces the console (tried first without tokens): its posts
        would pile up unseen in the outbox, and flood the terminal when it is next on."""
        store = self.app.store
        if not any(not sub.paused for sub in store.subscriptions_for_channel("console",
                                                                             "console")):
            return
        store.pause_channel("console", "console", CONSOLE_OFF)
        # Cancelled, not failed: nothing went wrong, so `status` lists no failures.
        n = store.cancel_posts([r.id for r in store.waiting_posts("console", "console")],
                               f"cancelled: {CONSOLE_OFF}")
        dropped = f"; {count(n, 'waiting post')} dropped" if n else ""
        log.info("service: console channel paused while a chat platform runs%s; "
                 "AINEWS_CONSOLE=1 keeps it on", dropped)

    async def _stop_adapters(self) -> None:
        await self.platforms.stop()


def unserved_warnings(subs, adapters: dict, max_age) -> list[str]:
    """Channels still subscribed on a platform not configured (Slack switched off, the
    bot moved to Discord): dispatch queues a post for each of every story, and they
    wait in the outbox, for good without an age limit (bot/delivery.py)."""
    channels: dict[str, set[str]] = {}
    for sub in subs:
        if sub.platform not in adapters:
            channels.setdefault(sub.platform, set()).add(sub.channel)
    fate = (f"until older than AINEWS_MAX_POST_AGE_HOURS ({max_age.total_seconds() / 3600:g}), "
            "then are not posted" if max_age else
            "for good (AINEWS_MAX_POST_AGE_HOURS=0: no age limit)")
    return [f"service: {count(len(names), 'channel')} of {p} {'is' if len(names) == 1 else 'are'} "
            f"subscribed but {p} is not configured: their posts wait in the outbox {fate}; "
            f"`ainews subscriptions remove {p} CHANNEL` ends a channel's"
            for p, names in sorted(channels.items())]


def half_slack(s) -> str:
    """Why a Slack configuration that is only half there can't start, or ""."""
    if s.slack_bot_token and not s.slack_enabled:
        return ("SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor "
                "SLACK_SIGNING_SECRET (HTTP mode) is")
    if s.slack_app_token or s.slack_signing_secret:
        named = "SLACK_APP_TOKEN" if s.slack_app_token else "SLACK_SIGNING_SECRET"
        if not s.slack_bot_token:
            return f"{named} is set but SLACK_BOT_TOKEN (xoxb-...) is not"
    return ""
