"""Edits of a post already out: at most one an hour, at most MAX_EDITS in all.

A feed may change a story at every poll: a publisher A/B-testing two headlines, a title
carrying a changing count. Each change applied to a post already out marks it
"(edited)" in the channel and spends rate limit that new posts share, every poll for the
48 hours a story is news. So a post already out is edited only when what names the
news changes (`names`: headline, link, companies, topics), at most once an hour, and at
most MAX_EDITS times; later changes stay in the store, the lookups and the posts not
yet out.

The hour counts from the post itself: A/B tests flip headlines in the minutes after
publication, and the version current at the hour is often the one already posted. A
version known before the post was recorded (the story edited while it was being sent)
is applied at once: nobody has read the old one yet.

Nothing waits in memory. An edit waiting for its hour is an outbox row in state 'edit'
whose next_attempt is the end of the hour and whose brief is the latest version (each
later version replaces it; a flip back to what the post shows drops it). What the
platform shows is kept in `shown` when delivery records a post or edit, and an edit is
counted then, once, so a crash or restart neither loses the held edit nor counts one
twice. A mixin of Store (storage.delivery); dispatch decides what an edit wants,
this decides when, if ever, a post already out shows it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from feeds.models import Brief
from storage.delivery_schema import DeliveryWrites, from_ts, ts

EDIT_GAP = timedelta(hours=1)   # between two changes a channel sees of one post
MAX_EDITS = 5                   # renaming edits a post gets in its 48 hours; then it stands


def names(brief: Brief) -> tuple:
    """What names the news: a post already out is edited when this changes. A feed whose
    entries carry a changing count (Hacker News's points and comments) changes the text,
    and so the bullets, at every poll: editing for that would touch every post it sent,
    every poll, for 48 hours."""
    return (brief.headline, brief.url, brief.companies, brief.topics)


@dataclass(frozen=True, slots=True)
class EditPlan:
    brief: Brief | None    # what the post should show next; None: leave it as it is
    at: datetime           # not before
    capped: bool           # the news was renamed, but the post has had its MAX_EDITS


def plan_edit(shown: Brief, wanted: Brief, *, edits: int, since: datetime | None,
              now: datetime) -> EditPlan:
    """The next edit of a post showing `shown` whose story is now `wanted`: the whole
    new version when it renames the news (at `since` + EDIT_GAP at the earliest), else
    only outlets that joined ("also reported by" edits are bounded by the outlets and
    cost no hour), else nothing."""
    renamed = names(wanted) != names(shown)
    if renamed and edits < MAX_EDITS:
        return EditPlan(wanted, max(now, since + EDIT_GAP) if since else now, False)
    grown = replace(shown, also_reported_by=wanted.also_reported_by)
    return EditPlan(grown if grown != shown else None, now, renamed)


@dataclass(frozen=True, slots=True)
class Settled:
    """What a revision did to a row: its state afterwards, whether anything changed, an
    edit's time when it waits, and `capped` the first time the cap refused a version."""
    state: str
    changed: bool = True
    at: datetime | None = None
    capped: bool = False


_ROW = ("SELECT state, brief, COALESCE(shown, brief), edits, COALESCE(edited_at, sent_at), "
        "edit_capped, attempts, next_attempt FROM outbox WHERE id=?")


class PostEditStore(DeliveryWrites):
    """Mixed into storage.store.Store; uses self.db (sqlite_utils.Database)."""

    def _settle_edit(self, c, row_id: int, now: datetime, wanted: Brief | None = None, *,
                     at_once: bool = False) -> Settled:
        """Queue, move or drop the edit of a posted row (sent, or with an edit waiting)
        so that it shows `wanted` (default: the row's brief) when the rules allow.
        at_once: the version was known before the post was recorded."""
        state, brief, shown, edits, since, capped, attempts, due = c.execute(
            _ROW, (row_id,)).fetchone()
        if state not in ("sent", "edit"):
            return Settled(state)
        wanted = wanted or Brief.from_json(json.loads(brief))
        plan = plan_edit(Brief.from_json(json.loads(shown)), wanted, edits=edits,
                         since=None if at_once else from_ts(since), now=now)
        after = self._apply_plan(c, row_id, plan, shown, attempts and from_ts(due))
        if plan.capped and not capped:
            c.execute("UPDATE outbox SET edit_capped=1 WHERE id=?", (row_id,))
        return Settled(after[0], changed=after != (state, brief, due),
                       at=plan.at if plan.brief else None, capped=plan.capped and not capped)

    @staticmethod
    def _apply_plan(c, row_id: int, plan: EditPlan, shown: str,
                    retry_at: datetime | None) -> tuple:
        """Write the plan; returns the row's (state, brief, next_attempt) afterwards. A
        retry's backoff (attempts made) is kept when it ends later than the plan's time."""
        if plan.brief is None:
            row = ("sent", shown)
            c.execute("UPDATE outbox SET state='sent', brief=? WHERE id=?", (shown, row_id))
        else:
            row = ("edit", json.dumps(plan.brief.to_json()))
            c.execute("UPDATE outbox SET attempts=0 WHERE id=? AND state='sent'", (row_id,))
            c.execute("UPDATE outbox SET state='edit', brief=?, next_attempt=? WHERE id=?",
                      (row[1], ts(max(plan.at, retry_at or plan.at)), row_id))
        return (*row, c.execute("SELECT next_attempt FROM outbox WHERE id=?",
                                (row_id,)).fetchone()[0])

    def _record_shown(self, c, row_id: int, shown: Brief, now: datetime) -> None:
        """Delivery posted or edited the row as `shown`: an edit that renamed the news
        is counted here, when recorded, so once however many tries it took."""
        state, before = c.execute("SELECT state, COALESCE(shown, brief) FROM outbox "
                                  "WHERE id=?", (row_id,)).fetchone()
        renamed = state == "editing" and names(shown) != names(
            Brief.from_json(json.loads(before)))
        c.execute("UPDATE outbox SET shown=?, edits=edits+?, edited_at=CASE WHEN ? THEN ? "
                  "ELSE edited_at END WHERE id=?",
                  (json.dumps(shown.to_json()), int(renamed), int(renamed), ts(now), row_id))

    def edit_holds(self, now: datetime) -> tuple[int, int]:
        """(edits waiting for their hour, posts at the edit cap), for `ainews status`."""
        waiting = self.db.execute("SELECT COUNT(*) FROM outbox WHERE state='edit' AND "
                                  "next_attempt>?", (ts(now),)).fetchone()[0]
        capped = self.db.execute("SELECT COUNT(*) FROM outbox WHERE edit_capped=1").fetchone()[0]
        return waiting, capped
