"""The LLM calls sent in the last hour, per cap ("llm", "judge"): the hourly caps
(feeds/llm_cap.py) go on from them when the bot starts again, so a bot restarted in a
loop, or a cron's `run --once`, spends no more than LLM_HOURLY_CAP an hour."""
from __future__ import annotations

from datetime import timedelta

from feeds.models import iso_utc, parse_iso

HOUR = timedelta(hours=1)


class LlmCallStore:
    """Mixin of Store: uses self.db, self._write() and self._now()."""

    def llm_call_ages(self, kind: str) -> list[float]:
        """Seconds since each call of `kind` sent in the last hour (a clock set back
        makes one 0: counted as just sent, never forgotten early)."""
        now = self._now()
        rows = self.db.execute("SELECT at FROM llm_calls WHERE kind = ? AND at > ?",
                               (kind, iso_utc(now - HOUR))).fetchall()
        return [max(0.0, (now - parse_iso(at)).total_seconds()) for (at,) in rows]

    def record_llm_call(self, kind: str) -> None:
        """One call of `kind` sent now; those older than an hour go."""
        now = self._now()
        with self._write():
            self.db.execute("DELETE FROM llm_calls WHERE kind = ? AND at <= ?",
                            (kind, iso_utc(now - HOUR)))
            self.db.execute("INSERT INTO llm_calls (kind, at) VALUES (?, ?)",
                            (kind, iso_utc(now)))
