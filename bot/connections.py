"""Each chat platform's connection as the running bot last saw it, for `ainews status`.

`ainews status` is another process: it learns about the bot only through the database
and the run lock. So the bot writes one `meta` row per platform (`connection:discord`,
`connection:slack`) whenever its connection changes: connected, reconnecting (with
since when and why), starting (unreachable at start-up, retrying), stopped (a refused
token: no reconnect until a restart) or held (connected, but the platform refuses the
bot's posts, which wait: Slack refusing its token, a posting scope missing, the
workspace moving into an org, Discord refusing its token over REST (401); shown over
"connected" until released). A row is only news while a bot holds the run lock
(bot/runlock.py); a bot killed with SIGKILL leaves its last rows behind.

The optional LLM has a row too (`connection:llm`: answering, failing and why, or refusing
every request for itself and why; `late`: calls not sent as their turn came too late, by
kind, written at the first and then at most once a minute, and as the run ends), and
one small call when `ainews run` starts (`llm_watched`), so a wrong key, model name or
URL (or Ollama not started) is said in the first seconds rather than at the first new
strategy story, maybe hours later."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from datetime import datetime

from bot.console import terminal_text
from feeds.models import iso_utc, utcnow

log = logging.getLogger("ainews.service")

PREFIX = "connection:"
STATES = ("connected", "reconnecting", "starting", "stopped", "held")
# Under a slow model every call may come too late: a write per call, each waiting for
# the store's lock beside the poller's. The count is written at once when a kind first
# appears (status then says so), else at most once per this many seconds, the gap's
# last count by its end, and at shutdown (flush).
LATE_WRITE_GAP = 60.0


class ConnectionLog:
    """Records one platform's connection state in the store; never raises (a store
    hiccup must not break a gateway event handler: the next change writes again)."""

    def __init__(self, store, platform: str):
        self.store, self.platform = store, platform
        self._last: tuple[str, str] | None = None
        self._link: tuple[str, str] | None = None   # as set(), before any hold shows
        self._held = ""                             # why posts are held, if they are
        self._late: dict[str, int] = {}
        self._late_written: tuple[dict[str, int], float] | None = None   # and when
        self._late_timer: asyncio.TimerHandle | None = None

    def set(self, state: str, reason: str = "", now: datetime | None = None) -> None:
        self._link = (state, one_line(reason, 300))
        self._show(now)

    def hold(self, reason: str, now: datetime | None = None) -> None:
        """The platform takes the connection but refuses the bot's posts, which wait:
        "held" and why, in place of "connected" (a reconnect meanwhile must not hide
        it), until release()."""
        self._held = one_line(reason, 300)
        self._show(now)

    def release(self, now: datetime | None = None) -> None:
        if self._held:
            self._held = ""
            self._show(now)

    def _show(self, now: datetime | None) -> None:
        state, reason = self._link or ("connected", "")
        if self._held and state == "connected":
            state, reason = "held", self._held
        if self.store is None or self._last == (state, reason):
            return
        if self._last is None or self._last[0] != state:
            self._since = now or utcnow()   # a new reason alone keeps "since"
        self._last = (state, reason)
        self._write()

    def set_late(self, late: dict[str, int]) -> None:
        """The LLM's calls not sent as their turn came too late, by kind (in the row from
        the next state on, if none was said yet); written as LATE_WRITE_GAP says."""
        self._late = dict(late)
        if self.store is None or self._last is None:
            return
        wait = self._late_wait()
        if wait > 0 and self._late_timer is not None:
            return               # the flush already scheduled writes it
        loop = _running_loop() if wait > 0 else None
        if loop is None:         # (outside a loop nothing would flush it: now)
            self._write()
        else:
            self._late_timer = loop.call_later(wait, self.flush)

    def _late_wait(self) -> float:
        """Seconds until the late count may be written again: 0 for a kind not written
        yet (or none written), else the rest of the gap since the last write."""
        if self._late_written is None or set(self._late) - set(self._late_written[0]):
            return 0.0
        return self._late_written[1] + LATE_WRITE_GAP - time.monotonic()

    def flush(self) -> None:
        """Write a late count not written yet (the gap's end, shutdown)."""
        if self._late_timer is not None:
            self._late_timer.cancel()
            self._late_timer = None
        # Compared with what was written, not whether anything was: a first write that
        # met a busy store leaves nothing written, and its count is still owed.
        written = self._late_written[0] if self._late_written else {}
        if self._last is not None and self._late and written != self._late:
            self._write()

    def _write(self) -> None:
        state, reason = self._last
        row = {"state": state, "since": iso_utc(self._since), "reason": reason,
               "pid": os.getpid(), **({"late": self._late} if self._late else {})}
        try:
            self.store.set_meta(PREFIX + self.platform, row)
            if self._late:
                self._late_written = (dict(self._late), time.monotonic())
        except Exception as e:  # noqa: BLE001 - see the class docstring
            log.debug("service: could not record %s's connection state (%s)",
                      self.platform, e)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


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
        if llm is not None:
            row.flush()      # the late count status shows as the run ends
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
