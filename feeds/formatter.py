"""The formatter: a Story in, a Brief out, each story condensed once.

Order of work: the brief cache (by content hash, so a restart or a re-poll costs
nothing), the article page when the feed carries only a teaser and fetching is on,
the extractive condenser, then the LLM when configured (which falls back to the
extractive brief on any failure)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from typing import Protocol

from feeds.article import decode_page, extract_main_text
from feeds.condense import condense
from feeds.models import Brief, Story

log = logging.getLogger("ainews.formatter")

TEASER_CHARS = 600   # shorter story text than this is a teaser worth expanding


class BriefCache(Protocol):
    def brief_for_hash(self, content_hash: str) -> Brief | None: ...
    def save_brief(self, story_id: str, content_hash: str, brief: Brief) -> None: ...


class MemoryCache:
    """A cache for one-off runs (`ainews brief`): nothing persists."""
    def __init__(self):
        self.briefs: dict[str, Brief] = {}

    def brief_for_hash(self, content_hash: str) -> Brief | None:
        return self.briefs.get(content_hash)

    def save_brief(self, story_id: str, content_hash: str, brief: Brief) -> None:
        self.briefs[content_hash] = brief


class Formatter:
    def __init__(self, cache: BriefCache, *, llm=None, fetcher=None, fetch_articles: bool = False):
        self.cache = cache
        self.llm = llm
        self.fetcher = fetcher
        self.fetch_articles = fetch_articles and fetcher is not None

    async def brief_for(self, story: Story, *, use_llm: bool = True,
                        pages: asyncio.Semaphore | None = None) -> Brief:
        """The story's brief. `pages` bounds the article reads and extractive briefs made
        at once (a poll's). The LLM call is outside it: LLM_CONCURRENCY bounds those, and
        a brief's deadline covers its wait for that slot, not a wait for this one."""
        h = story.content_hash
        cached = self.cache.brief_for_hash(h)
        if cached is not None:
            return _for_story(cached, story)
        async with pages or contextlib.nullcontext():
            article = await self._article_text(story)
            try:
                brief = condense(story, article_text=article)
            except Exception:   # a bug on one story must not stop the poll or every dispatch
                log.exception("formatter: condensing %s failed; posting its headline only",
                              story.url or story.id)
                return _headline_only(story)   # not cached: a fixed condenser tries again
        if self.llm is not None and use_llm:
            if article:
                story = replace(story, text=article)
            brief = await self.llm.condense(story, brief)
        self.cache.save_brief(story.id, h, brief)
        return brief

    async def _article_text(self, story: Story) -> str | None:
        if not self.fetch_articles or not story.url or len(story.text) >= TEASER_CHARS:
            return None
        try:
            page = await self.fetcher.fetch_page(story.url)
        except Exception as e:   # FetchError or anything else: keep the teaser
            log.info("formatter: article fetch failed for %s: %s", story.url, e)
            return None
        # Off the loop: a page may be megabytes (seconds of extraction), and chat
        # heartbeats, slash-command replies and other feeds must go on meanwhile.
        return await asyncio.to_thread(_page_text, page.body or b"", page.content_type,
                                       story.url)


def _page_text(body: bytes, content_type: str | None, url: str) -> str | None:
    return extract_main_text(decode_page(body, content_type), url)


def _for_story(brief: Brief, story: Story) -> Brief:
    """A cached brief may come from an identical story under another id (syndication)."""
    if brief.id == story.id:
        return brief
    return replace(brief, id=story.id, url=story.url, source=story.source,
                   published=story.published)


def _headline_only(story: Story) -> Brief:
    c = story.classification
    return Brief(id=story.id, headline=story.title, bullets=(), why_it_matters="",
                 url=story.url, source=story.source, published=story.published,
                 dek=story.subtitle, companies=c.companies, topics=c.topics,
                 strategy=c.strategy, score=c.score)
