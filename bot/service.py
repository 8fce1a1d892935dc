"""`ainews run`: the poll loop, dispatch and delivery, and the chat adapters, in one loop.

Start-up prints which adapters run, how many feeds, where the database is. A chat
platform that can't be reached yet is retried in the background while the rest runs
(bot/startup.py, bot/service_platforms.py); a refused token or another configuration
error ends the run. SIGINT, SIGTERM and SIGHUP (there is no reload) abandon the poll
pass in progress (what it stored is dispatched on the next start), let in-flight
deliveries finish (or release them) and stop the adapters; the caller (the CLI) closes
the store. Stored stories are dispatched
from the store (bot/service_dispatch.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3

from bot import stopping
from bot.app import App
from bot.config import cap_warnings
from bot.connections import ConnectionLog, forget_connections, llm_watched
from bot.errors import UserError
from bot.feed_import import import_feed_list
from bot.pipeline import Pipeline, PollSummary
from bot.poll_summary import PassLog, first_poll_note, idle_warning, waiting_note
from bot.quiet_feeds import QuietWatch
from bot.retention import DailyPrune
from bot.runlock import run_lock
from bot.service_dispatch import StoredDispatch
from bot.service_platforms import PlatformStarts
from bot.startup import STOPPED, Pending, Platforms, set_within, unless_stopped
from feeds.feedlist import FeedListError, load_feed_list
from feeds.models import utcnow
from storage.store import StoreError, StoreUnusable
from feeds.plural import count

log = logging.getLogger("ainews.service")

# SIGHUP stops the bot: a hang-up leaves no terminal to write to, and a stop said in the
# log is plainer than a "reload" that could not re-read what the process read at start.
NO_RELOAD = " (ainews has no reload: start it again to apply .env changes)"
TICK_SECONDS = 15.0   # how often the loop looks for due feeds (each feed has its own time)


async def poll_only(app: App, *, all_feeds: bool = True) -> PollSummary:
    """`ainews poll --once`: one pass over every active feed; store, condense, post nothing.

    The dispatch mark is left alone: a bot running on the same database (or the next
    `ainews run`) posts the new stories, as if it had found them. Moving the mark here
    also skipped the running bot's stored-but-not-yet-routed stories: lost posts."""
    _import_feed_list(app)
    try:
        async with pipeline_for(app) as pipeline:
            pipeline.reports_feeds = True   # the command prints each feed's failure and warning
            pipeline.single_pass = True
            summary = await pipeline.poll_once(all_feeds=all_feeds)
    finally:
        await app.aclose_clients()
    return summary


@contextlib.asynccontextmanager
async def pipeline_for(app: App):
    """A Pipeline with its fetchers open: one for feeds and, when article fetching is
    on, one for article pages that never reaches private hosts (story links are feed
    text, untrusted; AINEWS_ALLOW_PRIVATE_HOSTS is for the feeds the operator lists)."""
    async with contextlib.AsyncExitStack() as stack:
        feeds = await stack.enter_async_context(app.fetcher())
        articles = (await stack.enter_async_context(app.article_fetcher())
                    if app.settings.fetch_articles else None)
        yield Pipeline(app.store, feeds, app.classifier, app.formatter(articles),
                       poll_minutes=app.settings.poll_minutes,
                       max_post_age=app.settings.max_post_age, judge=app.judge)


def _import_feed_list(app: App) -> str:
    """The feeds file into the store; what happened, for the start-up line."""
    try:
        sources = load_feed_list(app.settings.feeds_file)
    except FeedListError as e:
        # The bundled list is ours; a file of the operator's was named by AINEWS_FEEDS.
        where = "; check AINEWS_FEEDS" if app.settings.feeds_file else ""
        raise UserError(f"{e}{where}") from None
    return import_feed_list(app.store, sources, app.settings.feeds_file)


def _retry_private_hosts(app: App) -> None:
    """Feeds refused as private hosts are due at once when AINEWS_ALLOW_PRIVATE_HOSTS=1
    now allows them: they waited out a backoff (or stayed paused) the setting had ended."""
    from feeds.guard import PRIVATE_HOSTS_HINT
    if not app.settings.allow_private_hosts:
        return
    if retried := app.store.retry_feeds_refused_for(PRIVATE_HOSTS_HINT):
        log.info("service: %s refused as a private host before AINEWS_ALLOW_PRIVATE_HOSTS=1 "
                 "polled now", count(len(retried), "feed"))


class Service(StoredDispatch, PlatformStarts):
    def __init__(self, app: App, *, clock=utcnow):
        self.app = app
        self.clock = clock   # dispatch and delivery time; tests pass a fake clock
        self.stop = asyncio.Event()
        self.platforms = Platforms([], self.stop)   # the chat platforms, once started
        self.delivery = None
        self.connections: dict[str, ConnectionLog] = {}   # what `ainews status` shows
        self._dispatching = asyncio.Lock()
        self.prune = DailyPrune(app.store, app.settings.keep_days, clock)
        self.quiet = QuietWatch(app.store, clock)   # feeds gone quiet, said in the log
        self._feeds_note = ""   # what importing the feeds file did, said at start-up
        self.pass_log = PassLog()   # which poll passes are INFO lines
        self.halted: StoreUnusable | None = None   # met by a chat command: the run ends
        self.once = False   # `run --once`: no "new ones print here" (it exits)

    async def run(self, *, once: bool = False) -> int:
        with run_lock(self.app.settings.db_path):     # one bot per database
            return await self._run(once=once)

    async def _run(self, *, once: bool) -> int:
        self._prepare(once=once)
        async with pipeline_for(self.app) as pipeline, llm_watched(self.app, check=not once):
            pipeline.single_pass = once
            try:
                adapters = await self._start_adapters(once=once)
            except BaseException:   # e.g. Discord refused its token after Slack connected
                await self._stop_adapters()
                raise
            try:
                # Inside the try: a failure here (the store unreadable) must stop the
                # platforms that started, or their connections keep the process alive.
                self.delivery = delivery = self._delivery(adapters)
                self._log_startup(adapters, once=once)
                self.app.log_user_data()
                self.platforms.keep_starting(delivery.attach)
                if once:
                    await self._run_once(pipeline, delivery)
                else:
                    await self._run_forever(pipeline, delivery)
            finally:
                await self._stop_adapters()
                await self.app.aclose_clients()
        if self.platforms.fatal is not None:    # a retry found the configuration refused
            raise self.platforms.fatal
        if self.halted is not None:
            raise self.halted
        log.info("service: stopped")
        return 0

    def _prepare(self, *, once: bool) -> None:
        """Before anything starts: the feeds file imported, the last run's connections
        forgotten, the dispatch mark set, signals and a store failure's halt wired up."""
        self.once = once
        self._feeds_note = _import_feed_list(self.app)
        _retry_private_hosts(self.app)
        forget_connections(self.app.store)      # the last run's, and platforms now off
        if self.app.store.dispatch_mark() is None:
            # Every file gets a mark when opened (storage/schema.py, migration 9); one
            # without (its meta row deleted): stories already stored are not news.
            self.app.store.set_dispatch_mark(self.app.store.last_story_pk())
            self.app.store.forget_edits(self.app.store.last_edit_seq())   # nor their edits
        self._install_signal_handlers()
        self.app.commands.on_store_unusable = self._halt
        if once and self.app.llm is not None:
            self.app.llm.endpoint.one_shot = True

    async def _run_once(self, pipeline: Pipeline, delivery) -> None:
        # A signal abandons the pass and stops delivery between posts, as in the loop
        # (what was stored is dispatched on the next start).
        await self._until_stopped(self._cycle(pipeline, all_feeds=True))
        if not self.stop.is_set():
            await delivery.run_once(self.stop)
            await self._guarded_prune()   # cron's `run --once` prunes too

    async def _run_forever(self, pipeline: Pipeline, delivery) -> None:
        deliver = asyncio.create_task(delivery.run_forever(self.stop), name="delivery")
        try:
            # Delivery ended on its own (a bug): the run ends with it (its error raised
            # below) rather than polling on while nothing is posted.
            while not self.stop.is_set() and not deliver.done():
                await self._guarded_cycle(pipeline)
                if not self.stop.is_set():   # a first prune of a big store takes seconds
                    await self._guarded_prune()
                await set_within(self.stop, min(TICK_SECONDS, self.app.settings.poll_minutes * 60))
        finally:
            self.stop.set()
            await deliver

    async def _guarded_cycle(self, pipeline: Pipeline) -> None:
        """One poll cycle; a failure the next tick may mend (a lock, a bug on one
        story) is logged and left to it. A store that refuses writes, whose disk is full
        or failing, or which is damaged ends the run instead (the CLI says it in one line
        and exits 2): polling on would repeat the same line every tick while nothing is
        stored or posted, and the operator, or a supervisor restarting the bot, must see
        it."""
        try:
            await self._until_stopped(self._cycle(pipeline))
        except StoreUnusable:
            raise
        except StoreError as e:  # locked: already one line, no trace
            log.warning("service: poll cycle failed (%s); retrying next tick", e)
        except Exception as e:   # a bug: the trace is worth having; next tick retries
            if (halt := self.app.store.unusable(e)) is not None:   # a read found it
                raise halt from None
            log.exception("service: poll cycle failed (%s: %s); retrying next tick",
                          type(e).__name__, e)

    async def _guarded_prune(self) -> None:
        """The daily prune (bot/retention.py); a store busy or failing now is tried
        again tomorrow, as polling goes on: retention is never worth stopping the bot."""
        try:
            await self.prune.maybe()
        except (StoreError, sqlite3.OperationalError) as e:   # or the vacuum's raw "locked"
            if (halt := self.app.store.unusable(e)) is not None:   # full, damaged: stop
                raise halt from None
            log.warning("service: pruning the store failed (%s); trying again tomorrow", e)

    async def _until_stopped(self, coro) -> None:
        """Run a poll pass, abandoning it if a stop is asked for: slow feeds must not hold
        up shutdown (a service manager would SIGKILL us). What the pass stored is safe:
        the next start dispatches it, and unfinished fetches are simply redone."""
        if await unless_stopped(self.stop, coro) is STOPPED:
            log.info("service: stopping; the poll pass in progress is abandoned")

    async def _cycle(self, pipeline: Pipeline, *, all_feeds: bool = False) -> None:
        self.app.store.check_same_file()   # removed or replaced since the last pass?
        async def dispatch() -> None:
            async with self._dispatching:   # feeds finish concurrently: one at a time
                await self._dispatch_stored(pipeline)
        summary = await pipeline.poll_once(all_feeds=all_feeds, on_fresh=dispatch)
        level, line = self.pass_log.line(summary, self.clock())
        log.log(level, "%s", line)
        if not self.once and (kept := self.pass_log.kept_back(summary,
                                                               console=self._prints_here)):
            log.info("%s", kept)
        await dispatch()
        self.quiet.maybe()

    def _prints_here(self) -> bool:
        """New briefs print in this terminal: the console is on and follows something."""
        return "console" in getattr(self.delivery, "adapters", {}) and any(
            not s.paused for s in self.app.store.subscriptions_for_channel("console",
                                                                          "console"))

    def _delivery(self, adapters: dict):
        from bot.delivery import Delivery
        return Delivery(self.app.store, adapters, hourly_cap=self.app.settings.channel_hourly_cap,
                        clock=self.clock, max_post_age=self.app.settings.max_post_age)

    def _halt(self, halt: StoreUnusable) -> None:
        """A chat command found the store unusable (its disk full, the file damaged):
        the run ends with it, as when the poller or delivery meets it."""
        self.halted = self.halted or halt
        self.stop.set()

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        # SIGHUP too: its default killed the bot with no log line (an ssh session dropped
        # with `make run` in it, a `kill -HUP` meant as "reload"); unless it is ignored
        # (`nohup ainews run`): that bot is meant to outlive the hang-up.
        hup = getattr(signal, "SIGHUP", None)
        if hup and signal.getsignal(hup) == signal.SIG_IGN:
            hup = None
        for sig in (signal.SIGINT, signal.SIGTERM, hup):
            with contextlib.suppress(NotImplementedError, RuntimeError, TypeError):
                loop.add_signal_handler(sig, self._on_signal, sig)
        if sig := stopping.requested():   # came during start-up, its exception lost
            self._on_signal(sig)

    def _on_signal(self, sig) -> None:
        # A second signal (`make` passing on timeout's, an impatient Ctrl-C) after the
        # first read as a second shutdown, even after "service: stopped".
        again = self.stop.is_set()
        hangup = sig == getattr(signal, "SIGHUP", None)
        log.log(logging.DEBUG if again else logging.INFO, "service: %s received, %s%s",
                signal.Signals(sig).name, "already shutting down" if again else
                "shutting down", NO_RELOAD if hangup and not again else "")
        self.stop.set()

    def _network_looks_down(self) -> bool:
        from bot.unreached import network_looks_down
        return network_looks_down(self.app.store, self.app.settings.poll_minutes, utcnow())

    def _log_startup(self, adapters: dict, *, once: bool) -> None:
        feeds = self.app.store.feed_states()
        active = sum(not f.paused for f in feeds)
        names = [f"{p} ({a.state})" if isinstance(a, Pending) else p
                 for p, a in adapters.items()]
        note = f"; {self._feeds_note}" if self._feeds_note else ""
        log.info("service: adapters: %s; %s (%d active)%s%s; database %s; polling every "
                 "%g min", ", ".join(names) or "none", count(len(feeds), "feed"), active,
                 note, waiting_note(feeds, utcnow(), self._network_looks_down()),
                 self.app.settings.db_path,
                 self.app.settings.poll_minutes)
        if not once and (first := first_poll_note(feeds, utcnow())):
            log.info("%s", first)   # `run --once` polls every feed not failing at once
        if idle := idle_warning(feeds):
            log.warning("%s", idle)
        if proxies := self.app.settings.proxies:   # which way out, credentials as ***
            log.info("service: through a proxy: %s", proxies.summary())
        for line in cap_warnings(self.app.settings):
            log.warning("%s", line)
