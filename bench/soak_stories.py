"""Synthetic AI-strategy stories for the soak test: distinct events, some hostile.

Every story is an unmistakable strategy story about gazetteer companies ("Alibaba cuts
Qwen API prices by 40%") with three paragraphs. Each must be its own event, or the
product would rightly fold two into one post ("also reported by") and the soak would
count a false loss; so candidates are checked with the product's own classifier and
same-event test and dropped when they are not strategy or collide with an earlier one.
Ids ("soak-00042") ride in the story URL, which is how posts are matched to stories.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone

from feeds.classify import Classifier
from feeds.cluster import _signature
from feeds.event_match import same_signature

COMPANIES = ["Alibaba", "Tencent", "Baidu", "ByteDance", "Moonshot AI", "DeepSeek", "Zhipu",
             "MiniMax", "Baichuan", "SenseTime", "iFlytek", "Huawei", "Xiaomi", "OpenAI",
             "Google", "Meta", "Microsoft", "Anthropic", "xAI", "Mistral", "Nvidia", "AMD",
             "Intel", "TSMC", "Qualcomm", "Samsung", "Amazon", "Cohere", "Perplexity",
             "Hugging Face", "Databricks", "Snowflake", "Oracle", "IBM", "Salesforce",
             "Scale AI", "SoftBank", "Cerebras", "Groq", "CoreWeave"]
TITLES = [   # event words and a figure; the invented product name makes each distinct
    "{a} slashes {p} API prices by {pct}% in a ${m} billion bet against {b}",
    "{a} open-sources {p}, a {n}-billion-parameter model worth ${m} billion to developers",
    "{a} raises ${m} billion for {p} at a ${v} billion valuation",
    "{a} agrees to acquire {p} for ${m} billion",
    "{a} and {b} sign a ${m} billion {p} chips partnership",
    "{a} appoints {p} as chief executive of its ${m} billion AI unit",
    "Export controls block {a} shipment of ${m} billion of {p} accelerators",
    "{a} puts {p} behind a paywall at ${fee} a month, eyeing ${m} billion revenue",
]
SYLLABLES = ["zor", "vath", "kel", "pin", "mar", "quo", "tel", "dra", "fen", "lux", "ori",
             "sab", "nym", "pra", "gol", "rik", "ves", "tan", "bry", "cal", "dun", "hex"]
PARAGRAPHS = [
    "{a} said the {p} change is part of a shift in its AI strategy, as competition "
    "with {b} for developers and enterprise customers intensifies. The company expects "
    "the move to lift revenue from its cloud and model business within a year.",
    "Analysts said the decision puts pressure on rival AI labs to respond on pricing "
    "and access to large language models, and that investors will watch whether it "
    "pays for the heavy spending on data centres and chips.",
    "The {p} announcement follows months of debate inside {a} over open versus paid "
    "models. Executives described it as a bet that distribution and enterprise "
    "contracts matter more than model size.",
]
# Text that must never ping a channel or hide where a link goes once posted.
HOSTILE = [
    " @everyone", " @here", " <@123456789012345678>", " <@&998877665544332211>",
    " <!channel>", " <!here|here>", " [Reuters](http://evil.example/phish)",
    " <http://evil.example/login|Read on Reuters>", " [https://reuters.com](http://evil.example/x)",
]
REGIONS = ["China", "the Middle East", "Southeast Asia", "Europe"]


@dataclass
class StoryEntry:
    uid: str                  # "soak-00042": also in the URL
    title: str
    paragraphs: list[str]
    hostile: bool
    published: datetime | None = None
    link: str = ""

    def rss_entry(self, feed_no: int) -> dict:
        """The dict tests.fakes.feedserver.make_rss expects."""
        self.link = self.link or f"https://outlet{feed_no:03d}.example.com/news/{self.uid}"
        html = "".join(f"<p>{_xml_text(p)}</p>" for p in self.paragraphs)
        return {"title": self.title, "link": self.link, "guid": self.link,
                "author": "Soak Desk", "published": self.published or _now(),
                "summary": self.paragraphs[0][:280], "content_html": html}


def _xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class StoryPool:
    """Deterministic stream of distinct strategy stories (seeded)."""

    def __init__(self, seed: int = 7, hostile_every: int = 5):
        self.rng = random.Random(seed)
        # Every n-th story, not a random share: even a short run gets hostile ones early.
        self.hostile_every = hostile_every
        self.classifier = Classifier()
        self._by_company: dict[str, list] = {}
        self._count = 0

    def next(self) -> StoryEntry:
        for _ in range(1000):
            entry = self._candidate()
            if self._accept(entry):
                return entry
        raise RuntimeError("soak: could not make a distinct story after 1000 tries")

    def _candidate(self) -> StoryEntry:
        r = self.rng
        a, b = r.sample(COMPANIES, 2)
        fill = dict(a=a, b=b, p=self._product(),
                    pct=r.randint(11, 89), n=r.randint(3, 900), m=round(r.uniform(1, 90), 1),
                    v=r.randint(20, 900), fee=r.randint(5, 99), region=r.choice(REGIONS))
        title = r.choice(TITLES).format(**fill)
        paragraphs = [p.format(**fill) for p in PARAGRAPHS]
        hostile = self._count % self.hostile_every == 2
        if hostile:
            title += r.choice(HOSTILE)
            paragraphs[1] += r.choice(HOSTILE)
        return StoryEntry(uid=f"soak-{self._count:05d}", title=title,
                          paragraphs=paragraphs, hostile=hostile)

    def _product(self) -> str:
        r = self.rng
        word = lambda: "".join(r.choice(SYLLABLES) for _ in range(3)).capitalize()
        return f"{word()} {word()}"

    def _accept(self, entry: StoryEntry) -> bool:
        text = "\n\n".join(entry.paragraphs)
        c = self.classifier.classify(entry.title, text)
        if not c.strategy or not c.companies:
            return False
        sig = _signature(entry.title, text[:400], c.companies)
        rivals = {id(s): s for co in c.companies for s in self._by_company.get(co, ())}
        if any(same_signature(sig, other) for other in rivals.values()):
            return False
        for co in c.companies:
            self._by_company.setdefault(co, []).append(sig)
        self._count += 1
        return True
