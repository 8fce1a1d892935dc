"""The brief cache: a brief kept by the content hash it was made from, so an unchanged
story is never condensed twice (lookups condense backlog stories on first show).
"""
from __future__ import annotations

import json

from feeds.models import Brief, iso_utc

__all__ = ["BriefCache"]


class BriefCache:
    """Mixin of Store (through StoryStore): uses self.db, self._write(), self._now()."""

    def save_brief(self, story_id: str, content_hash: str, brief: Brief) -> None:
        """Cache `brief` for this content: an unchanged story is never condensed twice."""
        with self._write():
            self.db.execute(
                "INSERT INTO briefs (content_hash, story_id, brief, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (content_hash) DO UPDATE SET "
                "story_id = excluded.story_id, brief = excluded.brief, "
                "created_at = excluded.created_at",
                (content_hash, story_id, json.dumps(brief.to_json(), ensure_ascii=False),
                 iso_utc(self._now())))

    def brief_for_hash(self, content_hash: str) -> Brief | None:
        row = self.db.execute("SELECT brief FROM briefs WHERE content_hash = ?",
                              (content_hash,)).fetchone()
        return Brief.from_json(json.loads(row[0])) if row else None
