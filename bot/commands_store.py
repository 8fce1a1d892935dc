"""The chat core and a store that fails it (a Commands mixin): a command whose store
cannot be used is answered in one line, whatever the command and the platform; and a
lookup's one write, caching the briefs it made, never costs the user the answer.

A full disk, a failing disk, a damaged or read-only file (storage.store_errors.unusable) is the
operator's to mend: the log says so once, naming the file and what to do, not with a
traceback per command, and a running bot (`ainews run`) stops as when its poller meets
it (on_store_unusable, set by bot/service.py). A store another program keeps locked is
one warning line a command; the next try may well work."""
from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from typing import Callable

from bot.replies import Reply
from feeds.condense import condense
from feeds.models import Brief, Story
from storage.store import StoreError, StoreUnusable

log = logging.getLogger("ainews.commands")

# How long a chat command's write waits for another program's lock (not BUSY_TIMEOUT's
# 15 s): Discord wants an interaction answered within 3 s, or the user sees "The
# application did not respond"; a lookup then answers without caching its briefs.
CHAT_WAIT = 1.0

# Platform-neutral; each platform renders it as its errors (Slack's and Discord's warning
# sign, the console's "error:"). Not "failed on our side": nothing of the bot is broken.
STORE_DOWN = ("the bot's store is unavailable right now, so this command did nothing; try "
              "again later (whoever runs the bot can see why in its log)")


class StoreCommands:
    """Uses Commands' store. on_store_unusable: called with the StoreUnusable a command
    met (`ainews run` ends on it); None outside a running bot."""
    on_store_unusable: Callable[[StoreUnusable], None] | None = None
    _store_said = ""   # the last unusable store's line logged: once, not once a command

    def store_failure(self, e: BaseException) -> Reply | None:
        """The answer to a command that raised `e` when it is the store's (unusable, or
        locked past its busy timeout); None for anything else, which the adapter's
        handler takes as a bug."""
        halt = self.store.unusable(e)
        if halt is not None:
            self.store_unusable(halt)
        elif isinstance(e, StoreError):   # locked: already one line naming the file
            log.warning("commands: a chat command was answered 'store unavailable': %s", e)
        else:
            return None
        return Reply.error(STORE_DOWN)

    def store_unusable(self, halt: StoreUnusable) -> None:
        if str(halt) != self._store_said:
            self._store_said = str(halt)
            log.error("commands: chat commands cannot use the store: %s", halt)
        if self.on_store_unusable is not None:
            self.on_store_unusable(halt)

    # ---- a lookup's briefs ------------------------------------------------------------
    def _condensed(self, briefs: list[Brief]) -> list[Brief]:
        """Briefs with bullets: a backlog strategy story is condensed when first looked
        up (the poller skips it, most are never read) and cached, so only once."""
        made = {b.id: m for b in briefs if _unbriefed(b) and (m := self._condense(b))}
        self._cache(made.values())
        return [_current(made[b.id][1], b) if b.id in made else b for b in briefs]

    def _condense(self, brief: Brief) -> tuple[Story, Brief] | None:
        story = self.store.get_story(brief.id)
        if story is None:
            return None
        try:
            return story, condense(story)
        except Exception:   # a lookup still answers, with the headline only
            log.exception("commands: condensing %s on lookup failed", brief.id)
            return None

    def _cache(self, made) -> None:
        """The briefs made, in one write: a store that refuses it (its disk full, locked
        by a backup) still leaves the lookup its answer, the failure said in one line."""
        # A slimmed story (storage/retention.py) has only its title: its brief is made
        # again at each lookup, cheaply. Cached, it was never read (its words' hash is
        # not the stored one) and, made after the prune went past the story, never deleted.
        whole = [(s, b) for s, b in made if s.text or s.summary or s.html]
        if not whole:
            return
        try:
            with self.store.transaction():
                for story, brief in whole:
                    self.store.save_brief(story.id, story.content_hash, brief)
        except (StoreError, sqlite3.Error) as e:
            if (halt := self.store.unusable(e)) is None:
                log.warning("commands: the briefs a lookup made were not cached (%s)", e)
            else:
                self.store_unusable(halt)


def _current(made: Brief, row: Brief) -> Brief:
    """The lookup's row is current (classification, cluster): it wins, as for a cached brief."""
    return replace(made, companies=row.companies, topics=row.topics, strategy=row.strategy,
                   score=row.score, also_reported_by=row.also_reported_by, verdict=row.verdict)


def _unbriefed(brief: Brief) -> bool:
    """A strategy story the store has no brief for (a cached brief always has a why)."""
    return brief.strategy and not brief.bullets and not brief.why_it_matters
