"""A SIGTERM or SIGHUP that came before `ainews run` took signals over, for the service
to honour.

Until the service installs its own handlers, bot/cli.py turns SIGTERM and SIGHUP into an
exception (Terminated) wherever the main thread is. Raised inside a finalizer or a
weakref callback it is printed and dropped ("Exception ignored in ..."): about one
SIGTERM in fifteen in the first 0.2 s of start-up, and the bot then ran until killed.
The handler also records which signal came here, and the service stops at once, saying
so, if one was recorded."""
from __future__ import annotations

import signal

_requested: list[int] = []


def request(signum: int = signal.SIGTERM) -> None:
    _requested[:] = [signum]


def requested() -> int | None:
    """The signal recorded, if any."""
    return _requested[0] if _requested else None


forget = _requested.clear
