"""The console's output, written on a thread of its own.

A terminal that stops reading (Ctrl-S, `ainews run | less` left paused, a stuck pipe)
blocks a write to stdout. Written on the event loop, that blocked polling, the chat
platforms and the signal handlers with it: SIGTERM logged "service: stopped" and the
process stayed until someone read stdout. Here the loop only awaits the write, so a
stop ends the post's wait after delivery's grace and the process exits.

The thread is a daemon, and stdout is written with os.write, not through sys.stdout:
a thread blocked inside sys.stdout's buffer would hold its lock, and the interpreter's
last flush at exit would wait on it for good (or abort)."""
from __future__ import annotations

import asyncio
import io
import os
import queue
import threading
from typing import TextIO


class StreamWriter:
    """Writes text to streams in the order asked, one at a time, off the event loop."""

    def __init__(self):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def write(self, out: TextIO, text: str) -> None:
        """Return once `text` is written (or raise what writing raised)."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="console writer",
                                            daemon=True)
            self._thread.start()
        self._jobs.put((out, text, loop, done))
        await done

    def _run(self) -> None:
        while True:
            out, text, loop, done = self._jobs.get()
            error = None
            try:
                write_text(out, text)
            except BaseException as e:     # handed to the awaiting post, which fails
                error = e
            try:
                loop.call_soon_threadsafe(_settle, done, error)
            except RuntimeError:           # the loop has closed: nobody waits any more
                pass


def _settle(done: asyncio.Future, error: BaseException | None) -> None:
    if done.done():                        # cancelled: the run stopped meanwhile
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


def write_text(out: TextIO, text: str) -> None:
    """`text` to `out`; to its file descriptor when it has one (stdout), all of it."""
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        out.write(text)                    # a StringIO, pytest's capture
        out.flush()
        return
    data = text.encode(getattr(out, "encoding", None) or "utf-8",
                       getattr(out, "errors", None) or "strict")
    while data:
        data = data[os.write(fd, data):]
