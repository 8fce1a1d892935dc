"""The optional LLM's health while `ainews run` runs: one small call at start-up, so a
wrong key, model name or URL (or Ollama not started) is said in the first seconds
rather than at the first new strategy story, maybe hours later; and its state as the
bot last saw it ("answering", or "failing" and why) in the `connection:llm` row that
`ainews status` prints beside the chat platforms' (bot/connections.py)."""
from __future__ import annotations

import asyncio
import contextlib

from bot.connections import ConnectionLog


@contextlib.asynccontextmanager
async def llm_watched(app, *, check: bool = True):
    """Yields the start-up check's task (None without an LLM, or unasked: a cron's
    `run --once` meets a wrong setting on its first story anyway); it runs beside the
    start of the platforms and the first poll, and never holds them up."""
    llm = app.llm
    if llm is not None:
        llm.endpoint.on_change = ConnectionLog(app.store, "llm").set
    task = asyncio.create_task(llm.check()) if llm is not None and check else None
    try:
        yield task
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
