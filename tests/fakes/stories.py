"""Distinct, clearly AI-strategy feed entries for end-to-end tests.

Each entry is its own event (its own company, move and figure), so clustering keeps
them apart and every one should reach a subscribed channel."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

COMPANIES = ["Alibaba", "Tencent", "Baidu", "OpenAI", "Google", "Meta", "Anthropic",
             "Nvidia", "Microsoft", "ByteDance", "Mistral", "DeepSeek"]
MOVES = [
    ("cuts prices of its AI models by {n}% to win enterprise customers",
     "The price cut applies to enterprise API customers from next month.",
     "Rivals are expected to respond as competition over model pricing intensifies."),
    ("raises ${n}bn in new funding to expand AI data centres",
     "The funding round values the company far above its last round.",
     "The money will pay for compute as the cost of training frontier models rises."),
    ("agrees {n}-year cloud partnership for AI chips and compute",
     "The partnership covers access to GPUs and custom AI accelerators.",
     "The deal signals how access to compute is reshaping competition in AI."),
    ("stops releasing open-source models after {n} releases, shifts to paid API",
     "The company said future models will be available only through its paid API.",
     "The shift could mean higher costs for developers who relied on free open models."),
    ("faces new export controls on AI chips covering {n} products",
     "Regulators said the controls apply to advanced AI accelerators and cloud access.",
     "The rules could slow access to frontier compute for Chinese AI developers."),
]


# Relative to now, not a fixed date: end-to-end tests run the real clock, and a story
# older than AINEWS_MAX_POST_AGE_HOURS (48 h) when first seen is not posted.
RECENT = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=6)


def strategy_entry(i: int, *, base_url: str = "https://news.example.com",
                   published: datetime | None = None) -> dict:
    company = COMPANIES[i % len(COMPANIES)]
    move, fact, why = MOVES[(i // len(COMPANIES)) % len(MOVES)]
    n = 10 + i * 3
    title = f"{company} {move.format(n=n)}"
    html = (f"<p>{company} said on Monday it {move.format(n=n)}, in a move aimed at its "
            f"AI business strategy.</p><p>{fact} Story number {i}.</p><p>{why}</p>")
    when = published or RECENT + timedelta(minutes=i)
    return {"title": title, "link": f"{base_url}/story/{i}", "guid": f"story-{i}",
            "published": when, "content_html": html, "summary": f"{company}: {fact}",
            "author": "Staff reporter"}


def archive_entry(i: int, *, base_url: str = "https://news.example.com",
                  published: datetime | None = None) -> dict:
    """An old entry that is no strategy story: a feed's archive for a first poll to read,
    so the stories that follow count as news (a first poll of an empty feed reads none)."""
    return {"title": f"Archive {i}: a recipe for autumn soup",
            "link": f"{base_url}/archive/{i}", "guid": f"archive-{i}",
            "published": published or RECENT - timedelta(days=30, minutes=i),
            "content_html": "<p>Leeks, potatoes and a little butter make a simple soup.</p>",
            "summary": "A simple soup.", "author": "Staff reporter"}


def classified(classifier, sid: str, title: str, text: str, when: datetime,
               source: str = "Tech Daily"):
    """A Story at https://news.example.com/SID, classified by the real classifier."""
    from feeds.models import Story
    story = Story(sid, f"https://news.example.com/{sid}", title, text, source,
                  "https://news.example.com/rss", when)
    return story.with_classification(classifier.classify(title, text))
