"""How often chat users may run commands (a Commands mixin). Lookups run on the event
loop: a script or an impatient user firing dozens a second kept it busy for everyone
(polling, delivery, other users' commands; Discord shows "The application did not
respond" after 3 s). Each user has a token bucket, and so has each server or workspace,
so that its members and bots together can't hog the loop either.

Every command costs one token, admin ones too: "5 commands in 10 s" stays true as said,
an admin setting a channel up (one command every few seconds) stays well under it, and a
flood of /subscribe or /feeds add (a write, a fetch) is held like one of lookups. The
console and the CLI (any platform registered as the operator's, bot/platforms.py) are
never throttled; a busy workspace is named in its platform's word ("this server").
Autocomplete (names in memory; /unsubscribe's picker, one indexed read) is not counted; a share button re-runs or
re-posts a lookup and is."""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Callable

from bot.platforms import platform_of
from bot.replies import DM, Caller, Reply

log = logging.getLogger("ainews.commands")

USER_BURST, USER_PER_S = 5, 0.5              # 5 at once, then one every 2 s: 5 per 10 s
WORKSPACE_BURST, WORKSPACE_PER_S = 30, 3.0   # 30 per 10 s for a whole server or workspace
TELL_EVERY = 60.0    # s: one INFO line per user (or server) going fast, the rest DEBUG
SWEEP_EVERY = 10.0   # s: how often buckets that refilled are forgotten


@dataclass(slots=True)
class Bucket:
    tokens: float
    at: float                   # monotonic time `tokens` was counted at
    told: float = -math.inf     # when the log last said this one went fast


class Buckets:
    """Token buckets by key, `burst` deep, refilled at `rate` per second. A key without a
    bucket has a full one: buckets that refilled (and were not logged lately) are
    forgotten, so memory holds only those who ran commands in the last minute or so."""

    def __init__(self, burst: float, rate: float):
        self.burst, self.rate = float(burst), rate
        self.held: dict[tuple, Bucket] = {}

    def tokens(self, key: tuple, now: float) -> float:
        b = self.held.get(key)
        if b is None:
            return self.burst
        # max: a clock that went back refills nothing, rather than owing the step.
        return min(self.burst, b.tokens + max(0.0, now - b.at) * self.rate)

    def wait(self, key: tuple, now: float) -> float:
        """Seconds until `key` has a token (0: it has one now)."""
        return max(0.0, (1.0 - self.tokens(key, now)) / self.rate)

    def spend(self, key: tuple, now: float) -> None:
        told = self.held[key].told if key in self.held else -math.inf
        self.held[key] = Bucket(self.tokens(key, now) - 1.0, now, told)

    def first_told(self, key: tuple, now: float) -> bool:
        """Whether the log should say `key` is going fast: once in TELL_EVERY seconds."""
        b = self.held.get(key)
        if b is None or now - b.told < TELL_EVERY:
            return False
        b.told = now
        return True

    def forget_idle(self, now: float) -> None:
        self.held = {k: b for k, b in self.held.items()
                     if self.tokens(k, now) < self.burst or now - b.told < TELL_EVERY}


class Throttle:
    """Both buckets of a chat caller: its user's and its server's (a DM has no server:
    the user's alone). A command is let through only when both have a token."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self.monotonic = monotonic
        self.users = Buckets(USER_BURST, USER_PER_S)
        self.places = Buckets(WORKSPACE_BURST, WORKSPACE_PER_S)
        self._swept = monotonic()

    def admit(self, caller: Caller) -> tuple[float, str]:
        """(0, "") when `caller` may run a command now, its tokens spent; else the
        seconds to wait and which bucket is empty: "user" or "place"."""
        now = self.monotonic()
        if now - self._swept >= SWEEP_EVERY or now < self._swept:
            self.users.forget_idle(now)
            self.places.forget_idle(now)
            self._swept = now
        user, place = (caller.platform, caller.user), (caller.platform, caller.workspace)
        counted = [(self.users, user, "user")] + (
            [(self.places, place, "place")] if caller.workspace != DM else [])
        for buckets, key, which in counted:
            wait = buckets.wait(key, now)
            if wait > 0:
                self._tell(buckets, key, which, caller, now)
                return wait, which
        for buckets, key, _ in counted:
            buckets.spend(key, now)
        return 0.0, ""

    def _tell(self, buckets: Buckets, key: tuple, which: str, caller: Caller,
              now: float) -> None:
        if which == "user":
            who = f"{caller.platform} user {caller.user}"
            rate = f"{USER_BURST} commands in {USER_BURST / USER_PER_S:.0f} s"
        else:
            who = f"{caller.platform} {platform_of(caller.platform).workspace} " \
                  f"{caller.workspace}"
            rate = f"{WORKSPACE_BURST} commands in {WORKSPACE_BURST / WORKSPACE_PER_S:.0f} s"
        if buckets.first_told(key, now):
            log.info("commands: %s is going fast (over %s); their commands are answered "
                     "'try again' until they slow down (said once a minute)", who, rate)
        else:
            log.debug("commands: refused a command of %s: going fast", who)


class ThrottleCommands:
    """Uses Commands' throttle (made in its __init__ with the injected monotonic clock)."""
    throttle: Throttle

    def too_fast(self, caller: Caller) -> Reply | None:
        """The answer to a chat command that comes too soon after the caller's (or its
        server's) others, nothing run; None: go ahead (its token is spent). An adapter
        asks this first, for every command and share click."""
        if platform_of(caller.platform).operator:     # the console: the operator's own
            return None
        wait, which = self.throttle.admit(caller)
        if not wait:
            return None
        again = f"try again in {max(1, math.ceil(wait))} s"
        if which == "user":
            return Reply.error(f"you're going fast: {again}")
        place = platform_of(caller.platform).workspace
        return Reply.error(f"this {place} is sending many commands at once: {again}")
