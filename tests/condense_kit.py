"""Shared pieces of the condenser tests: a story with just the fields a test sets."""
from __future__ import annotations

from datetime import datetime, timezone

from feeds.models import Classification, Story


WHEN = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
# Padding that makes a sentence too long for a bullet without changing what it says.
PAD = "across its data centres in Europe, Asia and the Americas over the next two years"


def story(title="Alibaba changes course on AI", text="", *, html="", summary="", subtitle="",
          source="Example News", classification=Classification()) -> Story:
    return Story(id="story-1", url="https://example.com/a", title=title, text=text, source=source,
                 feed_url="https://example.com/feed", published=WHEN, summary=summary, html=html,
                 subtitle=subtitle, classification=classification)


ZEPHYRA = Classification(strategy=True, score=4.0, companies=("Zephyra", "Quorra"), topics=("pricing",))
