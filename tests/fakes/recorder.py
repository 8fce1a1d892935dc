"""A recording Adapter and a fake clock for chat-core tests.

RecordingAdapter keeps every send, edit and digest; script failures with
`fail(channel, error, times=1)` (times=None: always), or per story with
`fail_brief(brief_id, error, times=None)` (a digest fails if any of its briefs does).
`hold(channel)` makes sends to that channel wait until `release(channel)`, to show one
slow channel blocks no other."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Sequence

from feeds.models import Brief


class FakeClock:
    """clock() and sleep() for Delivery/Commands: sleeping advances time, instantly.
    monotonic() is its time.monotonic: advance() and sleep() move both, set_back()
    steps the wall clock alone back (NTP, a restored snapshot), as does setting `now`."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
        self.slept: list[float] = []
        self.mono = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float = 0, **kw) -> datetime:
        step = timedelta(seconds=seconds, **kw)
        self.now += step
        self.mono += step.total_seconds()
        return self.now

    def set_back(self, **kw) -> datetime:
        self.now -= timedelta(**kw)
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


@dataclass
class Sent:
    channel: str
    brief: Brief
    nonce: str
    message_id: str
    at: datetime | None = None


@dataclass
class Digest:
    channel: str
    title: str
    briefs: list[Brief]
    nonce: str
    message_id: str
    at: datetime | None = None


@dataclass
class RecordingAdapter:
    platform: str = "console"
    min_interval: float = 0.0
    clock: FakeClock | None = None
    sends: list[Sent] = field(default_factory=list)
    edits: list[tuple[str, str, Brief]] = field(default_factory=list)
    digests: list[Digest] = field(default_factory=list)
    calls: int = 0
    _failures: dict[str, list] = field(default_factory=dict)
    _gates: dict[str, asyncio.Event] = field(default_factory=dict)
    _brief_failures: dict[str, list] = field(default_factory=dict)

    def fail(self, channel: str, error: Exception, times: int | None = 1) -> None:
        self._failures.setdefault(channel, []).append([error, times])

    def fail_brief(self, brief_id: str, error: Exception, times: int | None = None) -> None:
        """Calls carrying this brief raise `error`: one unpostable story among good ones."""
        self._brief_failures[brief_id] = [error, times]

    def _check_briefs(self, briefs: Sequence[Brief]) -> None:
        for b in briefs:
            scripted = self._brief_failures.get(b.id)
            if scripted and scripted[1] != 0:
                if scripted[1] is not None:
                    scripted[1] -= 1
                raise scripted[0]

    def hold(self, channel: str) -> None:
        self._gates[channel] = asyncio.Event()

    def release(self, channel: str) -> None:
        self._gates[channel].set()

    async def _call(self, channel: str, briefs: Sequence[Brief] = ()) -> str:
        self.calls += 1
        if channel in self._gates:
            await self._gates[channel].wait()
        self._check_briefs(briefs)
        queue = self._failures.get(channel) or []
        if queue:
            error, times = queue[0]
            if times is not None:
                queue[0][1] -= 1
                if queue[0][1] <= 0:
                    queue.pop(0)
            raise error
        return f"m{self.calls}"

    def _at(self):
        return self.clock() if self.clock else None

    async def send(self, channel: str, brief: Brief, *, nonce: str) -> str:
        mid = await self._call(channel, [brief])
        self.sends.append(Sent(channel, brief, nonce, mid, self._at()))
        return mid

    async def edit(self, channel: str, message_id: str, brief: Brief) -> None:
        await self._call(channel, [brief])
        self.edits.append((channel, message_id, brief))

    async def send_digest(self, channel: str, title: str, briefs: Sequence[Brief],
                          *, nonce: str) -> str:
        mid = await self._call(channel, briefs)
        self.digests.append(Digest(channel, title, list(briefs), nonce, mid, self._at()))
        return mid
