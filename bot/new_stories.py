"""A polled feed's entries the store lacks: classified, stored (new only), and the ones
that may be posted condensed into briefs. Mixed into bot.pipeline.Pipeline."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Callable

from bot.poll_summary import FeedOutcome
from feeds.judge import carried
from feeds.models import UNDATED, Story
from feeds.parser import off_the_loop
from storage.feedstate import FeedState

DATE_GRAIN = timedelta(minutes=1)
CONDENSE_AT_ONCE = 4   # briefs of one feed's new stories made at once (article pages)
SAME_EVENT_ROUNDS = 3  # rounds of same-event questions (later ones about reports stored
                       # meanwhile), all within the judge's one deadline


class NewStories:
    """Uses Pipeline's store, classifier, judge, formatter and max_post_age."""

    @staticmethod
    def _count_new(out: FeedOutcome, new: list[Story]) -> None:
        out.new = len(new)
        out.new_strategy = sum(s.classification.strategy for s in new)

    async def _store_new(self, stories: list[Story], *, backlog: bool, now,
                         too_old: Callable[[Story], bool] | None = None,
                         ) -> tuple[list[Story], list[Story]]:
        """Store the unseen entries; return (new, fresh): fresh are the new ones that
        may be posted (none of a backlog, none too old)."""
        unseen, known = self._unseen(stories)
        classified = await self._classify_off_loop(unseen)
        held = {s.id for s in classified if too_old(s)} if too_old and not backlog else set()
        joins: dict[str, int] = {}
        if not backlog:
            classified, joins = await self._llm_decisions(classified, known, held)
        # One poll's entries are one feed's: none is stored should it have been removed
        # meanwhile (the fetch and the judge's calls take seconds).
        new = self.store.add_new_stories(classified, backlog=backlog, now=now,
                                         hold=(lambda s: s.id in held) if held else None,
                                         joins=joins,
                                         feed_url=stories[0].feed_url if stories else None)
        fresh = [] if backlog else [s for s in new if s.id not in held]
        await self.condense_fresh(fresh, backlog=backlog)
        return new, fresh

    async def _llm_decisions(self, stories: list[Story], known: set[str], held: set[str],
                             ) -> tuple[list[Story], dict[str, int]]:
        """The judge's verdicts and same-event joins for the new stories that may be
        posted (none edited, none too old); an edit keeps its first version's verdict."""
        def postable(s: Story) -> bool:
            return s.id not in known and s.id not in held
        stories = self._keep_verdicts(await self._judge(stories, postable), known)
        found = await self._same_events(stories, postable)
        noted = [s.with_classification(replace(s.classification, reasons=s.classification.reasons
                                               + (f"llm-event: {found[s.id][1]}",)))
                 if s.id in found else s for s in stories]   # `why` shows who joined it
        return noted, {sid: key for sid, (key, _) in found.items()}

    def _too_old(self, state: FeedState, now: datetime) -> Callable[[Story], bool] | None:
        """What holds a new story of a later poll back: being published before the age
        limit, or, while no poll has read the feed's entries, being dated before the last
        poll or undated (the fetch time an undated entry bears can't show it came after:
        the feed that was empty or answered 304 may now list its whole archive undated).
        An entry dated after the fetch (the publisher's clock ahead) bears the fetch time
        too, and is as new as entries come: posted."""
        cutoff = now - self.max_post_age if self.max_post_age else None
        # Feeds date entries in whole seconds or minutes: an entry published in the
        # minute of the last poll would otherwise read as dated before it.
        since = None if state.baselined or not state.last_ok else state.last_ok - DATE_GRAIN
        if cutoff is None and since is None:
            return None

        def too_old(story: Story) -> bool:
            when = story.published
            return ((cutoff is not None and when < cutoff)
                    or (since is not None and (UNDATED in story.flags or when <= since)))
        return too_old

    def classify_unseen(self, stories: list[Story]) -> list[Story]:
        """Classify the entries the store lacks. Known, unchanged entries are dropped
        before the costly steps; an edited one goes on so the store can update its text."""
        return self._classify(self._unseen(stories)[0])

    def _unseen(self, stories: list[Story]) -> tuple[list[Story], set[str]]:
        """The entries the store lacks or holds edited, or holds from other feeds only
        (it records that this one carries them too), and the ids it holds."""
        if not stories:
            return [], set()
        # One poll's entries are one feed's.
        known = self.store.known_story_hashes([s.id for s in stories], stories[0].feed_url)
        # an unknown id is new without hashing its text (a sha256 per story of a backlog)
        return [s for s in stories
                if s.id not in known or known[s.id] != s.content_hash], set(known)

    def _classify(self, stories: list[Story]) -> list[Story]:
        return [s.with_classification(self.classifier.classify(s.title, s.text))
                for s in stories]

    async def _classify_off_loop(self, stories: list[Story]) -> list[Story]:
        """_classify in the parser's thread: a feed of long full-text entries (or one
        10 MB entry) costs tenths of a second, which on the loop would stall chat
        heartbeats, slash-command replies and deliveries meanwhile."""
        return await off_the_loop(self._classify, stories) if stories else []

    async def classify_unseen_off_loop(self, stories: list[Story]) -> list[Story]:
        """classify_unseen, the classifying done off the event loop."""
        return await self._classify_off_loop(self._unseen(stories)[0])

    async def _judge(self, stories: list[Story], postable: Callable[[Story], bool],
                     ) -> list[Story]:
        """The LLM judge's verdicts for the new stories that may be posted (a backlog,
        a too-old or an edited story costs no call). Stored with the story, so a
        re-poll or a restart never asks again."""
        if self.judge is None:
            return stories
        todo = [s for s in stories if postable(s)]
        verdicts = {s.id: s for s in await self.judge.judge_all(todo)}
        return [verdicts.get(s.id, s) for s in stories]

    async def _same_events(self, stories: list[Story], postable: Callable[[Story], bool],
                           ) -> dict[str, tuple[int, str]]:
        """With the LLM judge on: the earlier report each new strategy story joins when
        the model calls them one event and the offline rule did not (feeds/same_event.py),
        so a channel gets one post per event, the other outlets listed under it."""
        if self.judge is None or not self.judge.checks_same_events():
            return {}   # resting or out of calls: no candidate search on the loop either
        todo = [s for s in stories if postable(s) and s.classification.strategy]
        asked: dict[str, set[int]] = {s.id: set() for s in todo}
        found: dict[str, tuple[int, str]] = {}
        # Another feed of the same pass may store its report of the event while these
        # questions wait for the model (an embargo lifting: every outlet at once): later
        # rounds ask about those. All rounds share the judge's one deadline, so a slow
        # model holds a story no longer than one round would (README, "An LLM is optional").
        clock = asyncio.get_running_loop().time
        end = clock() + self.judge.deadline
        for _ in range(SAME_EVENT_ROUNDS):
            if clock() >= end or not self.judge.checks_same_events():
                break   # out of time, resting or out of calls: no search for nothing
            asks = self._round_asks(todo, asked, found)
            if not asks:
                break
            found.update(await self.judge.same_events(asks, within=end - clock()))
        return found

    def _round_asks(self, todo: list[Story], asked: dict[str, set[int]],
                    found: dict[str, tuple[int, str]]) -> list[tuple[Story, list]]:
        """Each story not joined yet, with its candidates not asked about yet (a story
        with none is left out)."""
        return [(s, c) for s in todo if s.id not in found
                for c in [self._unasked_candidates(s, asked[s.id])] if c]

    def _unasked_candidates(self, story: Story, asked: set[int]) -> list[tuple[int, Story]]:
        """The story's best 3 candidates now, less those asked about already (noted as
        asked now). A later round so asks about a report stored meanwhile that ranks
        among the best 3, never about the 4th best of before, which a story stored at
        once is not asked about either (the questions docs/clustering.md counts)."""
        fresh = [(k, e) for k, e in self.store.event_candidates(story, limit=3)
                 if k not in asked]
        asked.update(k for k, _ in fresh)
        return fresh

    def _keep_verdicts(self, stories: list[Story], known: set[str]) -> list[Story]:
        """An edited story keeps the LLM judge's verdict on its earlier version (the
        store's update would otherwise write the offline verdict over it)."""
        out = []
        for s in stories:
            earlier = self.store.get_story(s.id) if s.id in known else None
            out.append(s if earlier is None else
                       s.with_classification(carried(s.classification, earlier.classification)))
        return out

    async def condense_fresh(self, new: list[Story], *, backlog: bool) -> None:
        """Brief the stories that may be posted. A backlog is never posted, so its briefs
        are made on first lookup (bot/commands.py), not for a whole feed's archive here.
        A few at once: with an LLM or article pages each brief waits on the network, and
        one at a time a feed's ten new stories would hold its posts for a minute. The LLM
        calls are not queued here: behind this limit a brief waited its turn before its
        deadline (LLM_TIMEOUT plus a second) began, and twelve stories were held for
        three model answers. LLM_CONCURRENCY bounds them, the wait within the deadline,
        the judge's calls (of any feed) served before the briefs waiting, each feed's
        next brief in turn."""
        if backlog:
            return
        todo: dict[str, Story] = {}   # one per content: a copy finds its brief cached
        for story in new:
            if story.classification.strategy:
                todo.setdefault(story.content_hash, story)
        pages = asyncio.Semaphore(CONDENSE_AT_ONCE)
        results = await asyncio.gather(*(self.formatter.brief_for(s, pages=pages)
                                         for s in todo.values()), return_exceptions=True)
        for failed in (r for r in results if isinstance(r, BaseException)):
            raise failed   # as before: the feed's handling reports it, none is left running
