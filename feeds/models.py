"""The shared vocabulary: every stage speaks in these types.

Stories come out of the parser, get classified, are stored, and are condensed into
Briefs; chat channels hold Subscriptions. Nothing here does I/O.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

DEFAULT_TOPICS = (
    "open-source", "pricing", "funding", "acquisitions", "partnerships", "chips",
    "policy", "models", "leadership", "enterprise", "china",
)


@dataclass(frozen=True, slots=True)
class FeedSource:
    """A feed the poller reads: from the feeds TOML file or `ainews feeds add`."""
    name: str
    url: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Classification:
    """What classify decided about a story, and why (phrases that counted)."""
    strategy: bool = False
    score: float = 0.0
    companies: tuple[str, ...] = ()   # canonical names, main company first
    topics: tuple[str, ...] = ()      # topic slugs
    reasons: tuple[str, ...] = ()     # e.g. ("company:Alibaba x3", "term:open-source +1.5")
    # The learned layer's probability and threshold, when it scored the story (None: the
    # rules alone or a veto decided); not stored: the LLM judge reads them at poll time.
    probability: float | None = None
    threshold: float | None = None
    # Past the AI gate. A story the gate stopped keeps its probability (the layer's view
    # of it as a business move), so the judge can ask whether it is about AI after all.
    about_ai: bool = True


SHARED_LINK = "shared-link"   # a Story flag: see Story
UNDATED = "undated"           # a Story flag: see Story
DATED_AHEAD = "dated-ahead"   # a Story flag: see Story


@dataclass(frozen=True, slots=True)
class Story:
    """One feed entry, cleaned. Text fields hold untrusted text verbatim (never escaped
    here): renderers escape for their platform. `flags` marks text that needs care
    ("mention" for @everyone/<!channel>-like text, "link" for markdown/Slack links) and
    SHARED_LINK a url that other entries of the feed share (so not the story's identity);
    UNDATED an entry without a date, `published` then being the fetch time (as it is for
    one dated later than the fetch, DATED_AHEAD: the two differ in what they show, not in
    the date). Either's date is a stand-in, which an edit of the entry does not move."""
    id: str                      # stable: see story_id()
    url: str                     # canonical URL
    title: str                   # plain text, entities decoded, source prefix kept
    text: str                    # plain text of content (or summary when no content)
    source: str                  # outlet name (feed name, or feed title)
    feed_url: str
    published: datetime          # aware, UTC
    guid: str = ""
    author: str = ""
    summary: str = ""            # plain text of the entry's summary/description
    html: str = ""               # the entry's HTML (content, else summary), for condense
    subtitle: str = ""           # entry subtitle if the feed has one (used as dek)
    flags: tuple[str, ...] = ()
    classification: Classification = field(default_factory=Classification)

    @property
    def content_hash(self) -> str:
        """Hash of the story's words: a changed hash means an edited story. The text,
        not the HTML, so markup that serialises differently (`<br>` / `<br />`) is not
        an edit."""
        h = hashlib.sha256()
        for part in (self.title, self.subtitle, self.summary, self.text):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return h.hexdigest()[:32]

    def with_classification(self, c: Classification) -> "Story":
        return replace(self, classification=c)


def story_id(feed_url: str, guid: str, canonical_url: str) -> str:
    """Stable id: the GUID when the feed gives one, else the canonical URL.

    Scoped to the feed for GUIDs (two feeds may reuse "1"), global for URLs."""
    key = f"guid:{feed_url}\x00{guid}" if guid else f"url:{canonical_url}"
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class Brief:
    """A condensed story: what every reader sees. JSON shape: DESIGN.md contract."""
    id: str                          # the story id
    headline: str
    bullets: tuple[str, ...]         # up to 3, never padded with repeats
    why_it_matters: str
    url: str
    source: str
    published: datetime
    dek: str = ""
    companies: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    strategy: bool = False
    score: float = 0.0
    also_reported_by: tuple[str, ...] = ()
    condenser: str = "extractive"    # or "llm:MODEL"
    why_is_generated: bool = False   # True when no sentence in the story stated it
    verdict: str = ""                # the LLM judge's, when it decided (lookups fill it in)

    def to_json(self) -> dict:
        # Not dataclasses.asdict: its deep copy was a tenth of the bot's CPU when one
        # brief was queued for a hundred channels (bench service, py-spy).
        d = {name: getattr(self, name) for name in self.__slots__}
        d["published"] = iso_utc(self.published)
        for k in ("bullets", "companies", "topics", "also_reported_by"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Brief":
        d = dict(d)
        d["published"] = parse_iso(d["published"])
        for k in ("bullets", "companies", "topics", "also_reported_by"):
            d[k] = tuple(d.get(k) or ())
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True, slots=True)
class Subscription:
    """A chat channel following a target: a topic slug, a company, or "all"."""
    platform: str          # "discord" | "slack" | "console"
    workspace: str         # guild id / team id / "console"
    channel: str
    kind: str              # "topic" | "company" | "all"
    target: str            # slug, canonical company name, or "all"
    paused_reason: str = ""
    # When it was made (None: not read from the store). Not part of its identity: the
    # same channel and target is the same subscription whenever it was made.
    since: datetime | None = field(default=None, compare=False)
    # Paused for what the channel's admins can fix: its posts are kept for the resume.
    keeps_posts: bool = False

    @property
    def paused(self) -> bool:
        return bool(self.paused_reason)


def iso_utc(dt: datetime) -> str:
    """2026-03-02T09:00:00Z: the stored form of a time (to the second, UTC)."""
    dt = dt.astimezone(timezone.utc)
    # isoformat is ~2x cheaper than strftime (which builds a struct_time); the
    # store writes ~3 of these a story. It writes years before 1000 with four digits,
    # as parse_iso reads them back and as they sort among the others (strftime's "999-"
    # failed a whole poll's store, and sorted after "2026-").
    return dt.isoformat(timespec="seconds")[:19] + "Z"


def parse_iso(s: str) -> datetime:
    dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def shown_utc(when: datetime | str) -> str:
    """A time as text output shows it, "2026-12-01 05:29 UTC" (`--json` keeps iso_utc's
    form); a stored value that is no ISO time (an older version's row) as stored."""
    if isinstance(when, str):
        try:
            when = parse_iso(when)
        except ValueError:
            return when
    return f"{when.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
