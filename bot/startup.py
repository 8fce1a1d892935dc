"""Starting the chat platforms for `ainews run`, and retrying those not reachable yet.

After a reboot the network is often not up; during a platform incident Slack or
Discord answers 5xx. Neither is a reason to exit: a restart (or systemd's, Docker's)
would then end the bot for good, although its configuration is fine. So a start-up
failure marked StartUnavailable (bot/errors.py) is logged as one warning line and
retried with backoff until it works or the bot is stopped; any other UserError (a
refused token, a bad URL) still ends the run with its one-line message.

Meanwhile the platform is represented in delivery by a `Pending` adapter that is never
ready, so its posts wait in the outbox without spending attempts, while the platforms
that did start, and the poller, run as usual."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any, Awaitable, Callable

from bot.adapter import TransientError
from bot.errors import StartUnavailable

# Backoff between start-up attempts: FIRST seconds, doubling up to MAX. Each wait is
# shortened by up to JITTER (a fraction) so bots restarted by one outage don't all
# knock at once when it ends. Tests patch FIRST and MAX.
RETRY_FIRST, RETRY_MAX, JITTER = 5.0, 300.0, 0.1


def retry_delay(failures: int, retry_after: float | None = None,
                rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the `failures`-th failed attempt in a row; a 429's
    Retry-After is a floor."""
    step = min(RETRY_MAX, RETRY_FIRST * 2 ** max(0, failures - 1))
    return max(step * (1 - JITTER * rand()), retry_after or 0.0)


def seconds(delay: float) -> str:
    return f"{delay:.0f}" if delay >= 10 else f"{delay:.2g}"


class Pending:
    """Delivery's stand-in for a platform still trying to start: never ready, so
    delivery leaves its posts waiting; a call anyway raises TransientError(down=True),
    which never gives a post up."""
    min_interval = 0.0

    def __init__(self, platform: str):
        self.platform = platform

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

    def __init__(self, platform: str, start: Callable[[], Awaitable[Any]]):
        self.platform, self.start = platform, start
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
            return None
        if self.failures:
            self.log.info("%s: started after %d failed attempt(s); its waiting posts go "
                          "out now", self.platform, self.failures)
        return runner

    async def keep_trying(self, stop: asyncio.Event) -> Any | None:
        """Retry after each backoff wait until started (the runner) or `stop` is set
        (None). A stop during an attempt is the caller's to cancel this task."""
        while not await _set_within(stop, self.delay):
            runner = await self.attempt()
            if runner is not None:
                return runner
        return None


async def _set_within(event: asyncio.Event, timeout: float) -> bool:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
    return event.is_set()
