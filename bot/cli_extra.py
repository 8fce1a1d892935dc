"""`ainews brief` and `ainews discord-invite`: commands that need no database."""
from __future__ import annotations

import asyncio
import logging
import re
import sys
from pathlib import Path

from bot.console import json_line
from bot.errors import UserError
from feeds.models import Story, utcnow

log = logging.getLogger("ainews.brief")
_HTML = re.compile(rb"<\s*(html|body|article|p|div)\b", re.I)


def brief(settings, args) -> int:
    stories = asyncio.run(_stories_from(settings, args.source))
    if not stories:
        raise UserError(f"brief: found no story in {args.source}")
    briefs = asyncio.run(_condense_all(settings, stories))
    from feeds.render import render_text
    for b in briefs:
        print(json_line(b.to_json()) if args.json else render_text(b) + "\n")
    return 0


async def _stories_from(settings, source: str) -> list[Story]:
    url = source if source.startswith(("http://", "https://")) else ""
    data = await _read(settings, source) if url else _read_local(source)
    if not data.strip():     # said "found no story in -", as if a story had been read
        raise UserError("brief: no input on stdin: pipe a story in, e.g. `ainews brief - "
                        "< story.txt`" if source == "-" else f"brief: {source} is empty")
    return stories_from_bytes(data, url=url, name=Path(source).name if not url else "")


def _read_local(source: str) -> bytes:
    if not source.strip():   # Path("") is the working directory: "Is a directory"
        raise UserError("brief: give a feed or text file, an article (file or URL), or - "
                        "for stdin, e.g. `ainews brief story.txt`")
    try:
        return sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as e:
        raise UserError(f"brief: cannot read {source}: {e.strerror or e}") from None


async def _read(settings, url: str) -> bytes:
    from bot.app import fetch_policy
    from feeds.fetcher import FetchError, Fetcher
    try:
        async with Fetcher(fetch_policy(settings)) as f:
            return (await f.fetch_page(url)).body or b""
    except FetchError as e:
        raise UserError(str(e)) from None


def stories_from_bytes(data: bytes, *, url: str = "", name: str = "") -> list[Story]:
    """A feed gives one story per entry; else an HTML article or plain text gives one."""
    from feeds.article import decode_page, story_from_html, story_from_text
    from feeds.parser import ParseError, parse_feed
    try:
        parsed = parse_feed(data, feed_url=url or name, fetched_at=utcnow())
    except ParseError as e:
        error = e
    else:
        if parsed.warning:   # what was repaired may explain a brief cut short
            log.info("%s", parsed.warning)
        return parsed.stories
    if _HTML.search(data[:4096]):
        return [story_from_html(decode_page(data), url=url)]
    if error.kind == "not-a-feed":   # XML or JSON, but of something else: no prose to brief
        raise UserError(f"brief: {error}")
    if b"\0" in data[:4096]:         # text never holds NUL bytes; binary files do
        where = url or ("stdin" if name in ("-", "") else name)
        raise UserError(f"brief: {where} is not a feed, an HTML page or text")
    text = data.decode("utf-8", "replace").strip()
    return [story_from_text(text, url=url)] if text else []


async def _condense_all(settings, stories: list[Story]):
    from bot.app import make_classifier, make_llm
    from feeds.formatter import Formatter, MemoryCache
    classifier = make_classifier(settings)
    formatter = Formatter(MemoryCache(), llm=make_llm(settings, classifier.gz))
    if formatter.llm is not None:
        formatter.llm.endpoint.one_shot = True
    out = []
    try:
        for s in stories:
            s = s.with_classification(classifier.classify(s.title, s.text))
            out.append(await formatter.brief_for(s))
    finally:
        if formatter.llm is not None:
            await formatter.llm.aclose()
    return out


def discord_invite(settings) -> int:
    if not settings.discord_token:
        raise UserError("discord-invite: set DISCORD_TOKEN (in .env) first: the invite names "
                        "your bot's application")
    from bot.discord.invite import fetch_application_id, invite_url
    app_id = asyncio.run(fetch_application_id(settings))
    print(invite_url(app_id))
    return 0
