"""Starting the chat platforms for `ainews run`, and retrying those not reachable yet.

After a reboot the network is often not up; during a platform incident Slack or
Discord answers 5xx. Neither is a reason to exit: a restart (or systemd's, Docker's)
would then end the bot for good, although its configuration is fine. So a start-up
failure marked StartUnavailable (bot/errors.py) is logged as one warning line and
retried with backoff until it works or the bot is stopped; any other UserError (a
refused token, a bad URL) still ends the run with its one-line message.

The platforms' first tries run side by side (`Platforms`). Meanwhile one not started
is represented in delivery by a `Pending` adapter that is never ready, so its posts
wait in the outbox without spending attempts, while the platforms that did start, and
the poller, run as usual."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any, Awaitable, Callable

from bot.adapter import TransientError
from bot.errors import StartUnavailable
from feeds.plural import count

# Backoff between start-up attempts: FIRST seconds, doubling up to MAX. Each wait is
# shortened by up to JITTER (a fraction) so bots restarted by one outage don't all
# knock at once when it ends. Tests patch FIRST and MAX.
RETRY_FIRST, RETRY_MAX, JITTER = 5.0, 300.0, 0.1
# How long `ainews run` waits for the platforms' first tries before it runs without
# those still trying (they go on in the background): a Slack that never answers must
# not hold up Discord's posts, nor the poller, for its 15-45 s of timeouts.
FIRST_TRY_WAIT = 5.0


def retry_delay(failures: int, retry_after: float | None = None,
                rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the `failures`-th failed attempt in a row; a 429's
    Retry-After is a floor."""
    # The exponent is capped: a week-long outage is ~2,000 failures, and 2.0 ** 2000
    # overflows a float.
    step = min(RETRY_MAX, RETRY_FIRST * 2.0 ** min(max(0, failures - 1), 40))
    return max(step * (1 - JITTER * rand()), retry_after or 0.0)


def seconds(delay: float) -> str:
    return f"{delay:.0f}" if delay >= 10 else f"{delay:.2g}"


class Pending:
    """Delivery's stand-in for a platform still trying to start: never ready, so
    delivery leaves its posts waiting; a call anyway raises TransientError(down=True),
    which never gives a post up."""
    min_interval = 0.0

    def __init__(self, platform: str, state: str = "retrying start-up"):
        self.platform, self.state = platform, state

    def ready(self) -> bool:
        return False

    def _not_yet(self) -> TransientError:
        return TransientError(f"{self.platform}: not connected yet (start-up is retrying)",
                              RETRY_FIRST, down=True)

    async def send(self, channel, brief, *, nonce) -> str:
        raise self._not_yet()

    async def edit(self, channel, message_id, brief) -> None:
        raise self._not_yet()

    async def send_digest(self, channel, title, briefs, *, nonce) -> str:
        raise self._not_yet()


class Starter:
    """Starts one platform: `start()` returns its runner (adapter, stop()) or raises."""

    def __init__(self, platform: str, start: Callable[[], Awaitable[Any]],
                 connection=None):
        self.platform, self.start = platform, start
        self.connection = connection     # bot/connections.py, for `ainews status`
        self.failures, self.delay = 0, 0.0
        self.log = logging.getLogger(f"ainews.{platform}")

    async def attempt(self) -> Any | None:
        """One try: the runner, or None when the platform was unreachable (logged, and
        `delay` set to the wait before the next try). Configuration errors raise."""
        try:
            runner = await self.start()
        except StartUnavailable as e:
            self.failures += 1
            self.delay = retry_delay(self.failures, e.retry_after)
            self.log.warning("%s: %s; retrying start-up in %s s", self.platform, e.reason,
                             seconds(self.delay))
            self._record("starting", f"retrying start-up: {e.reason}")
            return None
        if _ready(runner):      # else its client says connected once it is (Discord's)
            self._record("connected")
        if self.failures:
            self.log.info("%s: started after %s; its waiting posts go out now",
                          self.platform, count(self.failures, "failed attempt"))
        return runner

    def _record(self, state: str, reason: str = "") -> None:
        if self.connection is not None:
            self.connection.set(state, reason)

    async def keep_trying(self, stop: asyncio.Event,
                          in_flight: asyncio.Future | None = None) -> Any | None:
        """After the try `in_flight` (if any), retry after each backoff wait until
        started (the runner) or `stop` is set (None). A stop during a try is the
        caller's to cancel this task (which cancels the try it awaits)."""
        runner = await in_flight if in_flight is not None else None
        while runner is None and not await set_within(stop, self.delay):
            runner = await self.attempt()
        return runner


class Platforms:
    """The chat platforms of one run: their first tries side by side, the ones not
    reachable yet retried in the background, and stop() for all of it."""

    def __init__(self, starters: list[Starter], stop: asyncio.Event):
        self.starters, self.stop_event = starters, stop
        self.runners: list = []                  # what started: stop() stops these
        self.fatal: BaseException | None = None  # what ended a background retry for good
        self._waiting: list[tuple[Starter, asyncio.Future | None]] = []  # + a try in flight
        self._tasks: list[asyncio.Task] = []

    async def start(self, *, wait_all: bool = False) -> dict:
        """platform -> its adapter, or a Pending stand-in while it can't be reached (or
        its first try takes over FIRST_TRY_WAIT, unless `wait_all`). The tries run side
        by side. A configuration error cancels the others and is raised (what did start
        is in self.runners: the caller then calls stop())."""
        tries = [asyncio.ensure_future(starter.attempt()) for starter in self.starters]
        if not tries:
            return {}
        try:
            await unless_stopped(self.stop_event, asyncio.wait(
                tries, timeout=None if wait_all else FIRST_TRY_WAIT,
                return_when=asyncio.FIRST_EXCEPTION))
            for done in (t for t in tries if t.done()):
                done.result()                   # a configuration error raises here
        except BaseException:
            await _cancel(tries)
            raise
        finally:
            self.runners += [r for r in map(_runner, tries) if r is not None]
        return {starter.platform: self._adapter(starter, done)
                for starter, done in zip(self.starters, tries)}

    def _adapter(self, starter: Starter, first_try: asyncio.Future):
        runner = _runner(first_try)
        if runner is not None:
            return runner.adapter
        in_flight = None if first_try.done() else first_try
        self._waiting.append((starter, in_flight))
        return Pending(starter.platform, "still starting" if in_flight else
                       "retrying start-up")

    def keep_starting(self, attach: Callable[[Any], None]) -> None:
        """Retry the platforms that could not start; `attach(adapter)` each that does."""
        for starter, in_flight in self._waiting:
            self._tasks.append(asyncio.create_task(
                self._start_late(starter, in_flight, attach), name=f"start {starter.platform}"))

    async def _start_late(self, starter: Starter, in_flight, attach) -> None:
        """A configuration error found meanwhile (Slack back, but refusing the token) ends
        the run with its message (`fatal`), as it would have at start-up."""
        try:
            runner = await starter.keep_trying(self.stop_event, in_flight)
        except Exception as e:   # noqa: BLE001 - the service raises it once all is closed
            self.fatal = self.fatal or e
            self.stop_event.set()
            return
        if runner is not None:
            self.runners.append(runner)
            attach(runner.adapter)

    async def stop(self) -> None:
        first_tries = [t for _, t in self._waiting if t is not None]
        await _cancel([*self._tasks, *first_tries])   # a try in flight closes what it opened
        self._tasks = []
        # A first try that finished just now, before its retry task took the runner:
        late = [r for r in map(_runner, first_tries) if r is not None]
        self.runners += [r for r in late if all(r is not x for x in self.runners)]
        for runner in reversed(self.runners):
            with contextlib.suppress(Exception):
                await runner.stop()


def _runner(first_try: asyncio.Future):
    """The runner a finished try returned; None while in flight, failed or cancelled."""
    if not first_try.done() or first_try.cancelled() or first_try.exception():
        return None
    return first_try.result()


async def _cancel(tries: list[asyncio.Future]) -> None:
    for t in tries:
        t.cancel()                  # a try still in flight closes what it opened
    await asyncio.gather(*tries, return_exceptions=True)


STOPPED = object()     # what unless_stopped returns for work a stop cut short


async def unless_stopped(stop: asyncio.Event, coro):
    """`coro`'s result, or STOPPED if `stop` was set first (`coro` is then cancelled)."""
    task = asyncio.ensure_future(coro)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return STOPPED
    return task.result()


async def set_within(event: asyncio.Event, timeout: float) -> bool:
    """Wait up to `timeout` seconds for `event`; whether it is set."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
    return event.is_set()


def _ready(runner) -> bool:
    """A runner handed over before its connection is up (Discord's slow gateway) says
    so with ready(); one without it is up when it is returned."""
    ready = getattr(runner, "ready", None)
    return ready is None or bool(ready())
