"""Same-event detection: is this story another outlet's report of an event we have?

Outlets word one event differently ("Anthropic raises $4bn from Amazon" / "Amazon to
invest another $4 billion in Anthropic"), so titles alone don't decide. A story's
`Signature` holds what outlets share when they report one event: the companies, the
figures (normalised: $4bn = $4 billion = 4B dollars), the kind of event (funding,
pricing, ...) and the distinctive title terms (product names, places);
feeds/event_match.py weighs agreement against conflict. Pure: no I/O, no clock.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from feeds.hanzi import simplified
from feeds.models import Story

WINDOW = timedelta(hours=48)

_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "million": 1e6,
          "b": 1e9, "bn": 1e9, "bln": 1e9, "billion": 1e9, "t": 1e12, "tn": 1e12,
          "trillion": 1e12}
# Figures are found from their digits (a regex anchored anywhere is ~20x slower on
# long summaries): the currency before, the percent/scale/currency word after. The
# first digit is outside the alternatives, so `re` skips to digits in C (3x faster).
_NUM = re.compile(r"\d(?:\d{0,2}(?:,\d{3})+(?!\d)|\d*(?:\.\d+)?)")
_CURRENCY_BEFORE = re.compile(r"(?:(?:us|hk|a|c|s)?\$|€|£|¥|\b(?:usd|eur|rmb|cny|gbp)\s?)$",
                              re.IGNORECASE)
_AFTER = re.compile(
    r"(?:\s?(?P<pct>%|％|per\s?cent\b|percent\b))?"
    r"(?:[\s-]?(?P<scale>trillion|billion|million|thousand|bln|mln|bn|mn|tn|[kmbt])\b"
    r"|(?P<cn_scale>万亿|千亿|亿|万))?"   # Chinese: 10亿美元 = $1 billion, 3.5万 = 35,000
    r"(?:\s?(?P<cur>dollars?|usd|euros?|eur|yuan|rmb|cny|pounds?|gbp|yen)\b"
    r"|(?P<cn_cur>美元|人民币|港元|港币|元))?",
    re.IGNORECASE)
_CN_SCALE = {"万": 1e4, "亿": 1e8, "千亿": 1e11, "万亿": 1e12}

# Words naming the kind of event; a word may name more than one ("deal", "stake").
_EVENTS = {
    "funding": "raise raises raised raising funding fundraise fundraising invest invests "
               "invested investing investment investor investors backs backed backing "
               "round valuation valued valuing stake",
    "acquisition": "acquire acquires acquired acquiring acquisition buy buys bought buying "
                   "buyout takeover merger merge merges purchase purchases deal stake",
    "pricing": "price prices pricing priced cheaper discount discounts fee fees "
               "subscription subscriptions paywall",
    "earnings": "revenue revenues earnings profit profits quarter quarterly results sales "
                "loss losses forecast guidance",
    "launch": "launch launches launched launching release releases released releasing "
              "unveil unveils unveiled debut debuts introduce introduces introduced "
              "rollout rolls",
    "partnership": "partner partners partnered partnership partnerships alliance "
                   "collaboration collaborate deal agreement agreements pact",
    "legal": "sue sues sued lawsuit lawsuits court judge ruling antitrust probe "
             "investigation fine fined settlement settle settles",
    "policy": "ban bans banned export exports restriction restrictions regulation "
              "regulations regulator regulators sanction sanctions rules law bill act",
    "leadership": "ceo cto cfo chief executive resign resigns resigned steps departs "
                  "depart quits hire hires hired appoint appoints appointed ousted "
                  "fired reinstated reinstates returns",
    "layoffs": "layoff layoffs lay lays laid jobs job workforce staff",
}
# Chinese headlines have no spaces: their event words are found as substrings (in
# simplified characters; a traditional headline is folded first), and their words for
# the title overlap are character pairs (阿里云降价 -> 阿里, 里云, 云降, 降价).
_EVENTS_ZH = {
    "funding": "融资 领投 参投 跟投 估值 募资",
    "acquisition": "收购 并购 入股",
    "pricing": "降价 定价 涨价 价格 免费 收费",
    "earnings": "营收 财报 净利润 亏损 扭亏",
    "launch": "发布 推出 上线 亮相",
    "partnership": "合作 联手 牵手 结盟 联合实验室",
    "legal": "起诉 诉讼 罚款 罚单 反垄断 立案调查",
    "policy": "出口管制 禁令 制裁 监管 管制 实体清单 备案 许可证",
    "leadership": "离职 辞职 任命 卸任 接任 兼任 出任 人事变动",
    "layoffs": "裁员",
}
_ZH_EVENT_OF: dict[str, frozenset[str]] = {}
for _kind, _words in _EVENTS_ZH.items():
    for _w in _words.split():
        _ZH_EVENT_OF[_w] = _ZH_EVENT_OF.get(_w, frozenset()) | {_kind}
_ZH_EVENT = re.compile("|".join(sorted(_ZH_EVENT_OF, key=len, reverse=True)))
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")

_EVENT_OF: dict[str, frozenset[str]] = {}
for _kind, _words in _EVENTS.items():
    for _w in _words.split():
        _EVENT_OF[_w] = _EVENT_OF.get(_w, frozenset()) | {_kind}

# A shopping post ("$300 off in an early Black Friday deal", "the best Prime Day deals")
# reports a price, not a company's news: its "deal" is no acquisition.
_SHOPPING = re.compile(r"\b(?:black friday|cyber monday|prime day)\b|\$\d[\d,.]*\s+off\b"
                       r"|\bbest\b.*\bdeals\b", re.IGNORECASE)

# Words that say nothing about which event this is.
_STOP = frozenset("""
a an the and or but of in on at to for from by with without as is are was were be been
being it its it's this that these those their his her our your my we you they he she i
after before over under into out up down off about amid against between than then so
not no new news says say said report reports reported reportedly according could would
will may might can should must has have had do does did more most less least also just
first latest big bigger biggest major top inside why how what when where who which
ai artificial intelligence model models company companies firm firms tech technology
giant giants group inc corp ltd co plans plan plans set sets move moves amid amp
another other others its own year years week weeks day days today now yet still
sign signs signed strike strikes struck terms talks tie-up gets get getting all
use using used here heres here's what's know best top getting
billion million trillion bn mn percent per cent us usd dollars dollar
""".split())
_WORD = re.compile(r"[a-z0-9][a-z0-9\-\.]*[a-z0-9]|[a-z0-9]")
# "5bn", "40", "12%": amounts are compared as figures, not as words.
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:bn|mn|tn|[kmbt]|%)?")


@dataclass(frozen=True, slots=True)
class Signature:
    """What outlets reporting one event tend to share."""
    companies: frozenset[str]
    figures: frozenset[str]          # "amt:4e+09", "pct:10"
    events: frozenset[str]           # kinds of event: "funding", "pricing", ...
    terms: frozenset[str]            # distinctive title words (product names, places)
    words: frozenset[str]            # all content words of the title, events as kinds
    # The figures split once here, not on each of the ~10 comparisons a story meets.
    amounts: frozenset[str]          # the "amt:" figures
    others: frozenset[str]           # the rest ("pct:")
    headliners: frozenset[str] = frozenset()   # the companies the title names
    subject: str = ""                # the company the title names first ("" if none)
    named: frozenset[str] = frozenset()   # the companies the title or lead names
    shopping: bool = False           # a shopping post (see _SHOPPING)


def figures(text: str) -> frozenset[str]:
    """Amounts and percentages in `text`, normalised so outlets' spellings agree.

    Bare numbers (years, counts) are left out: only a currency, a scale word or a
    percent sign makes a number a figure."""
    found = set()
    for m in _NUM.finditer(text):
        if m.start() and text[m.start() - 1] in ".,":
            continue   # the tail of "1.5" or "4,000" already read
        after = _AFTER.match(text, m.end())
        value = float(m[0].replace(",", ""))
        if after["pct"]:
            found.add(f"pct:{value:g}")
            continue
        before = text[max(0, m.start() - 5):m.start()]
        currency = bool(after["cur"] or after["cn_cur"] or _CURRENCY_BEFORE.search(before))
        if after["cn_scale"]:
            found.add(f"amt:{value * _CN_SCALE[after['cn_scale']]:.6g}")
            continue
        scale = (after["scale"] or "").lower()
        if not (currency or scale) or (len(scale) == 1 and not currency):
            continue   # "2025", "5G", "7B parameters": not an amount
        found.add(f"amt:{value * _SCALE.get(scale, 1):.6g}")
    return frozenset(found)


@lru_cache(maxsize=1 << 16)   # the same few thousand title words recur in every backfill
def _stem(word: str) -> str:
    """Crude suffix folding so "recommends"/"recommended" or "chips"/"chip" agree."""
    word = word.strip(".-")
    if word.endswith("'s") or word.endswith("’s"):
        word = word[:-2]
    if word in _EVENT_OF or not word.isalpha():
        return word   # event words are listed in all their forms; "gpt-4o" stays
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[:-len(suffix)]
            break
    # A silent e goes too, so "image"/"images" and "release"/"released" agree.
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


# Title words are compared stemmed ("more" -> "mor"), so the stop words are too.
_STOP = _STOP | frozenset(map(_stem, _STOP))


@lru_cache(maxsize=4096)   # title_key and the signature both split each new title
def _title_words(title: str) -> tuple[str, ...]:
    text = title.lower().replace("’", "'")
    return tuple(map(_stem, _WORD.findall(text.replace("'s ", " "))))


# Signatures stay cached by the thousand (storage/clusters.py: 20,000, ~3 KB each); most
# of their small sets recur (the same companies, event kinds, no figures), so one copy of
# each is kept. Bounded: cleared when full (a set then just isn't shared).
_SHARED: dict[frozenset[str], frozenset[str]] = {}
_SHARED_MAX = 20_000


def _shared(items) -> frozenset[str]:
    fs = frozenset(items)
    found = _SHARED.get(fs)
    if found is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        _SHARED[fs] = found = fs
    return found


def signature(story: Story) -> Signature:
    """The cheap-to-compare summary of a story used by `same_event`."""
    return _signature(*signature_input(story))


def signature_input(story: Story) -> tuple[str, str, tuple[str, ...]]:
    """What a story's signature is made of: a store keeps this for a story nothing was
    compared with yet, and makes the signature (`signed`) when a later story needs it."""
    lead = f"{story.subtitle}\n{(story.summary or story.text)[:400]}"
    return story.title, lead, story.classification.companies


def signed(made_of: tuple[str, str, tuple[str, ...]]) -> Signature:
    """The signature of a story whose `signature_input` this is."""
    return _signature(*made_of)


@lru_cache(maxsize=4096)   # a new story is compared with the same few recent ones
def _signature(title: str, lead: str, companies_: tuple[str, ...]) -> Signature:
    companies = _shared(c.casefold() for c in companies_)
    company_words = {w for c in companies for w in _name_words(c)[0]}
    in_order = _title_words(title)
    title_words = set(in_order)
    headliners = _shared(c for c in companies if _named_in(c, title_words))
    if len(headliners) > 1:
        subject = min(headliners, key=lambda c: (_first_at(c, in_order), c))
    else:
        subject = next(iter(headliners), "")
    named = headliners
    if len(companies) > len(headliners):   # the rest: a substring test is enough here
        lower = lead.lower()
        named = _shared(headliners | {c for c in companies - headliners if c in lower})
    events, terms, words = _title_terms(title_words, company_words)
    _chinese_title_words(title, events, words)
    found = figures(f"{title}\n{lead}")
    amounts = _shared(f for f in found if f.startswith("amt:"))
    return Signature(companies, _shared(found), _shared(events), _shared(terms),
                     _shared(words), amounts, _shared(found - amounts), headliners, subject, named,
                     bool(_SHOPPING.search(title)))


def _title_terms(title_words: set[str], company_words: set[str]
                 ) -> tuple[set[str], set[str], set[str]]:
    """(events, terms, words) of a title's words: stop words and bare numbers dropped;
    an event word ("acquires") is its event kinds; a term is a word of 3+ letters no
    company's name has."""
    events, terms, words = set(), set(), set()
    for w in title_words:
        if w in _STOP or not w or _NUMBER.fullmatch(w):
            continue
        kinds = _EVENT_OF.get(w)
        if kinds:
            events |= kinds
            words |= {f"event:{k}" for k in kinds}
            continue
        words.add(w)
        if w not in company_words and len(w) > 2:
            terms.add(w)
    return events, terms, words


def _chinese_title_words(title: str, events: set[str], words: set[str]) -> None:
    """Add a Chinese headline's event kinds (found as substrings: no spaces) to `events`
    and `words`, and its character pairs to `words`, for the title overlap."""
    for run in _HAN_RUN.findall(simplified(title)):
        for hit in _ZH_EVENT.findall(run):
            events |= _ZH_EVENT_OF[hit]
            words |= {f"event:{k}" for k in _ZH_EVENT_OF[hit]}
        words.update(run[i:i + 2] for i in range(len(run) - 1))


@lru_cache(maxsize=4096)   # the same companies in every story: their words split once
def _name_words(company: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The stems of the words of a company's name, and of those that are not stop words."""
    words = _WORD.findall(company)
    return tuple(map(_stem, words)), tuple(_stem(w) for w in words if w not in _STOP)


def _named_in(company: str, title_words: set[str]) -> bool:
    """Whether a word of the company's name ("moonshot" of "moonshot ai") is in the title."""
    return any(map(title_words.__contains__, _name_words(company)[1]))


def _first_at(company: str, in_order: tuple[str, ...]) -> int:
    """Where the title (its words in order) first names `company`, as `_named_in` reads."""
    return min((in_order.index(w) for w in _name_words(company)[1] if w in in_order),
               default=len(in_order))


def title_key(title: str) -> str:
    """Normalised title for finding verbatim syndication (wire copy) cheaply in SQL;
    empty for short titles ("Podcast", "Week in review") that would merge unrelated items.
    Stored with each story: a change here needs a migration running rekey_titles again
    (storage/schema.py), or stories stored before it miss their wire copies
    (tests/test_upgrade.py fails until there is one)."""
    words = [w for w in _title_words(title) if w]
    return " ".join(words) if len(words) >= 4 else ""
