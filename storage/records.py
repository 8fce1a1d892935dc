"""One story's record, for `ainews why`: the story behind an id or a link as a post shows
it, its cluster, and where its cluster was posted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.models import Story, parse_iso
from feeds.link_key import link_key
from feeds.url_spellings import link_spellings
from storage.story_rows import STORY_COLUMNS, story_from_row


@dataclass(frozen=True)
class Post:
    """One channel's post of a cluster (an outbox row)."""
    platform: str
    workspace: str
    channel: str
    state: str          # due, held, sent, failed, cancelled, ... (storage/outbox.py)
    sent_at: str        # ISO time, "" until sent
    last_error: str


@dataclass(frozen=True)
class StoryRecord:
    story: Story
    status: str                     # "new" or "backlog" (a first poll's: never posted)
    lead: tuple[str, str] | None    # (lead id, lead source) when another report leads
    members: tuple[str, ...]        # the other outlets of its cluster
    posts: tuple[Post, ...]
    first_seen: datetime | None = None   # when a poll first stored it
    # The retention prune slimmed it: "new", "backlog" (its status then) or "unknown"
    # (slimmed before this was kept); "" not pruned. A pruned story's status is "backlog".
    pruned_from: str = ""


class RecordStore:
    """Mixin of Store (uses self.db and StoryStore.cluster_info)."""

    def story_record(self, ref: str) -> StoryRecord | None:
        """The story whose id, other id (an unstable GUID) or link is `ref`; a link may
        be spelled with tracking parameters or a fragment, as posts and browsers show it."""
        row = self._story_row(ref.strip())
        if row is None:
            return None
        *columns, status, first_seen, pruned_from = row
        story, pk, lead_pk = story_from_row(tuple(columns)), columns[0], columns[-1]
        lead_id, _, members = self.cluster_info(story.id)
        lead = None
        if lead_pk != pk:
            lead = self.db.execute("SELECT id, source FROM stories WHERE pk = ?",
                                   (lead_pk,)).fetchone()
        return StoryRecord(story, status, tuple(lead) if lead else None, tuple(members),
                           self._posts_of(lead_id), parse_iso(first_seen), pruned_from)

    def stories_of_message(self, platform: str, message_id: str) -> list[str]:
        """The stories a chat message of ours shows: one post's, or a roundup's many."""
        return [r for (r,) in self.db.execute(
            "SELECT story_id FROM outbox WHERE platform = ? AND message_id = ? "
            "GROUP BY story_id ORDER BY min(id)", (platform, message_id))]

    def _story_row(self, ref: str):
        columns = f"{STORY_COLUMNS}, status, first_seen, pruned_from"
        return (self._row_where(columns, "id = ?", ref) or self._row_by_link(columns, ref)
                or self._row_where(columns, "pk = (SELECT story_pk FROM story_aliases "
                                            "WHERE alias = ?)", ref))

    def _row_where(self, columns: str, where: str, value: str):
        return self.db.execute(f"SELECT {columns} FROM stories WHERE {where}",
                               (value,)).fetchone() if value else None

    def _row_by_link(self, columns: str, ref: str):
        """The story whose link is `ref` in any spelling of its escapes and host (a post
        shows 阿里 as %E9%98%BF%E9%87%8C): feeds/url_spellings.py, the same spelling first;
        else by the key dedupe compares (feeds/link_key.py: /%7Ebob is /~bob)."""
        links = _links(ref)
        if not links:
            return None
        keys = list(dict.fromkeys(link_key(link) for link in links))
        rows = []
        # `AND url != ''`: the planner can't tell `?` from '' and would scan every story
        # rather than use the partial index stories_url (WHERE url != ''), as dedupe.py.
        for column, values in (("url", list(dict.fromkeys(links + keys))),
                               ("link_key", keys)):
            rows += self.db.execute(f"SELECT {columns}, url FROM stories WHERE {column} IN "
                                    f"({','.join('?' * len(values))}) AND {column} != ''",
                                    values).fetchall()
        rows.sort(key=lambda r: links.index(r[-1]) if r[-1] in links else len(links))
        return rows[0][:-1] if rows else None

    def _posts_of(self, cluster_id: str) -> tuple[Post, ...]:
        rows = self.db.execute(
            "SELECT platform, workspace, channel, state, coalesce(sent_at, ''), last_error FROM outbox "
            "WHERE cluster_id = ? ORDER BY id", (cluster_id,)).fetchall()
        return tuple(Post(*r) for r in rows)


def _links(ref: str) -> list[str]:
    return link_spellings(ref) if ref.startswith(("http://", "https://")) else []
