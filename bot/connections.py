"""Each chat platform's connection as the running bot last saw it, for `ainews status`.

`ainews status` is another process: it learns about the bot only through the database
and the run lock. So the bot writes one `meta` row per platform (`connection:discord`,
`connection:slack`) whenever its connection changes: connected, reconnecting (with
since when and why), starting (unreachable at start-up, retrying) or stopped (a refused
token: no reconnect until a restart). A row is only news while a bot holds the run
lock (bot/runlock.py); a bot killed with SIGKILL leaves its last rows behind.

The optional LLM has a row too (`connection:llm`: answering, failing and why, or refusing
every request for itself and why; `late`: calls not sent as their turn came too late, by
kind), and
one small call when `ainews run` starts (`llm_watched`), so a wrong key, model name or
URL (or Ollama not started) is said in the first seconds rather than at the first new
strategy story, maybe hours later."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from datetime import datetime

from bot.console import terminal_text
from feeds.models import iso_utc, utcnow

log = logging.getLogger("ainews.service")

PREFIX = "connection:"
STATES = ("connected", "reconnecting", "starting", "stopped")


class ConnectionLog:
    """Records one platform's connection state in the store; never raises (a store
    hiccup must not break a gateway event handler: the next change writes again)."""

    def __init__(self, store, platform: str):
        self.store, self.platform = store, platform
        self._last: tuple[str, str] | None = None
        self._late: dict[str, int] = {}

    def set(self, state: str, reason: str = "", now: datetime | None = None) -> None:
        reason = one_line(reason, 300)
        if self.store is None or self._last == (state, reason):
            return
        if self._last is None or self._last[0] != state:
            self._since = now or utcnow()   # a new reason alone keeps "since"
        self._last = (state, reason)
        self._write()

    def set_late(self, late: dict[str, int]) -> None:
        """The LLM's calls not sent as their turn came too late, by kind (in the row from
        the next state on, if none was said yet)."""
        self._late = dict(late)
        if self.store is not None and self._last is not None:
            self._write()

    def _write(self) -> None:
        state, reason = self._last
        row = {"state": state, "since": iso_utc(self._since), "reason": reason,
               "pid": os.getpid(), **({"late": self._late} if self._late else {})}
        try:
            self.store.set_meta(PREFIX + self.platform, row)
        except Exception as e:  # noqa: BLE001 - see the class docstring
            log.debug("service: could not record %s's connection state (%s)",
                      self.platform, e)


def one_line(text: str, limit: int) -> str:
    """Error text a server wrote (a Slack error code, an exception's message) as one short
    line: it goes into the log and `ainews status`, where a newline would forge a log
    line, a control character drive the terminal, and 100 KB of it fill both."""
    line = terminal_text(" ".join(str(text)[:4 * limit].split()))
    return line if len(line) <= limit else line[:limit - 1] + "…"


def forget_connections(store) -> None:
    """At start: rows of an earlier run would read as this one's."""
    with store.transaction():
        store.db.execute("DELETE FROM meta WHERE key LIKE ?", (PREFIX + "%",))


def read_connections(store) -> dict[str, dict]:
    """platform -> {state, since, reason, pid}, as the bot last wrote them."""
    rows = store.db.execute("SELECT key, value FROM meta WHERE key LIKE ?",
                            (PREFIX + "%",)).fetchall()
    return {key.removeprefix(PREFIX): json.loads(value) for key, value in rows}


@contextlib.asynccontextmanager
async def llm_watched(app, *, check: bool = True):
    """Yields the start-up check's task (None without an LLM, or unasked: a cron's
    `run --once` meets a wrong setting on its first story anyway); it runs beside the
    start of the platforms and the first poll, and never holds them up."""
    llm = app.llm
    if llm is not None:
        row = ConnectionLog(app.store, "llm")
        llm.endpoint.on_change, llm.endpoint.on_late = row.set, row.set_late
    task = asyncio.create_task(llm.check()) if llm is not None and check else None
    try:
        yield task
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
