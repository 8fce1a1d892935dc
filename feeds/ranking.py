"""Ranked sentences for the condenser, when the story does not state its points itself.

Sentences are scored (centrality, position, relevance to the headline, salience of
companies, figures and strategy terms); up to three non-redundant ones become the
bullets, in story order, and "Why it matters" comes from a sentence that states a
consequence (feeds/why_line.py), if one does.
"""
from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from dataclasses import dataclass

from feeds.antecedents import resolve
from feeds.boilerplate import opening_label, strip_tail, usable
from feeds.bullets import MAX_BULLET, trim_bullet
from feeds.headline import mark_cut
from feeds.models import Story
from feeds.people import marks_of, people, plus_marks, quote_marks
from feeds.references import opening
from feeds.sentences import Block, is_why_heading, split_sentences
from feeds.why_line import CLOSERS, take_why, unhinged
from feeds.wordsets import CJK, restates, similar, tokens

__all__ = ["candidates", "fill"]

_FIGURE = re.compile(r"[$€£¥]\s?\d|\d(?:[.,]\d+)?\s?(?:%|bn|billion|million|m\b|trillion|percent)")
_STRATEGY = re.compile(
    r"\b(?:pric\w*|revenue|monetiz\w*|monetis\w*|profit\w*|open[- ]source|open[- ]weights?|"
    r"paid|subscription|api|fund\w*|rais\w*|invest\w*|valuation|acqui\w*|merger|deal|"
    r"partner\w*|chips?|gpus?|semiconductor\w*|compute|export|sanction\w*|regulat\w*|"
    r"antitrust|ceo|chief|resign\w*|appoint\w*|rival\w*|compet\w*|enterprise|cloud|"
    r"launch\w*|release\w*|model)\b")  # matched on lowercased text
_END_MARKS = set(".!?。！？…")
DANGLING = 0.7   # the score share of a sentence opening with an unresolved reference


@dataclass
class Sentence:
    text: str
    index: int
    tokens: frozenset[str]
    score: float = 0.0
    before: tuple[str, ...] = ()   # the last 3 sentences before it (its paragraph so far, the one before)
    marks: tuple[int, ...] = (0,) * 5   # quote_marks of all of those (feeds/people.py)
    dangling: bool = False         # opens with a reference left unresolved ("They ...")
    follows: bool = False          # the sentence before it in the story is sents[index - 1]
    block: int = 0                 # the index of its paragraph among the story's blocks


def candidates(blocks: list[Block]) -> list[Sentence]:
    """Sentences that may become bullets: paragraphs only, outside any why section."""
    out: list[Sentence] = []
    in_why, last = False, ()
    for at, b in enumerate(blocks):
        if b.kind == "h":
            in_why = is_why_heading(b.text)
            continue
        if b.kind != "p" or in_why or (b.label and is_why_heading(b.label)):
            continue
        sents = split_sentences(strip_tail(b.text))
        marks = marks_of(last)
        for j, s in enumerate(sents):
            s = opening_label(s) if j == 0 else s
            if usable(s, last=j == len(sents) - 1):
                # The last few only, and the quote marks of all: a tuple of all the
                # sentences before each was quadratic (a 200 KB paragraph of "He said
                # it was fine.": 650 MB and 51 s on the event loop).
                before = (*last, *sents[:j])[-3:] if j < 3 else tuple(sents[j - 3:j])
                follows = bool(out and before) and out[-1].text == before[-1]
                out.append(Sentence(s, len(out), tokens(s), before=before, follows=follows,
                                    block=at, marks=marks))
            marks = plus_marks(marks, quote_marks(sents[j]))
        last = tuple(sents)
    return _whole_only(out)


def _whole_only(out: list[Sentence]) -> list[Sentence]:
    """Feeds cut content mid-sentence ("..., will be"): such pieces go when whole
    sentences are left; when none is, they stay marked as cut ("..., will…"), as a
    feed's own "…" would have shown (some feeds cut teasers at N words, unmarked)."""
    whole = [s for s in out if s.text.rstrip(CLOSERS)[-1:] in _END_MARKS]
    if not whole:
        for s in out:
            if not CJK.search(s.text):   # Chinese lines often go without a stop
                s.text = mark_cut(s.text)
        return out
    if len(whole) < len(out):
        return [Sentence(s.text, i, s.tokens, before=s.before, marks=s.marks,
                         follows=s.follows and i > 0 and whole[i - 1].index == s.index - 1,
                         block=s.block)
                for i, s in enumerate(whole)]
    return out


def fill(bullets: list[str], why: str, sents: list[Sentence], title: frozenset[str],
         story: Story, *, headline: str = "", list_at: int = 0) -> tuple[list[str], str]:
    """Bullets up to three and a why line, from the ranked `sents`, none repeating what
    is already there, in story order: a sentence from a paragraph before block `list_at`
    (where the story's own list of `bullets` starts) goes before them. `headline` stands
    before the story's first sentence (its "It said" is the headline's subject)."""
    _score(sents, title, story)
    _resolve_openings(sents, story.classification.companies, headline)
    taken = [tokens(b) for b in bullets]
    if why:
        taken.append(tokens(why))
    elif len(sents) > 1:  # the lead states the news; a consequence comes after it
        why = take_why(sents[1:], title, taken)
    chosen = sorted(_take_bullets(sents, title, taken, 3 - len(bullets)), key=lambda s: s.index)
    shown = [(s, s.text if _after_chosen(s, chosen) else unhinged(s.text, bullet=True))
             for s in chosen]
    ahead = [trim_bullet(t) for s, t in shown if s.block < list_at]
    after = [trim_bullet(t) for s, t in shown if s.block >= list_at]
    return ahead + bullets + after, why


def _resolve_openings(sents: list[Sentence], companies: tuple[str, ...], headline: str) -> None:
    """"It said" -> "Alibaba said" where that is certain (feeds/antecedents.py); a
    reference left unresolved marks the sentence dangling. A sentence resolved stands
    resolved before the next ("Alibaba said ... It added ... The company also ...")."""
    known, done = None, {}
    for s in sents:
        o = opening(s.text)
        if o is None:
            continue
        if known is None and o.kind == "person":   # names are looked for only when needed
            known = people([x.text for x in sents], companies)
        before, marks = (headline,), None
        if s.before:   # the sentence before as resolved, its quote marks for the first's
            was = s.before[-1]
            now = done.get(was, was)
            before = (*s.before[:-1], now)
            marks = plus_marks(s.marks, quote_marks(now), quote_marks(was))
        text = resolve(s.text, before, companies, known, marks)
        if text is None:
            s.dangling = True
        else:
            done[s.text] = text
            s.text, s.tokens = text, tokens(text)


def _take_bullets(sents: list[Sentence], title: frozenset[str], taken: list,
                  room: int) -> list[Sentence]:
    """The best-scored sentences, up to `room`, that restate neither headline nor `taken`.
    A dangling sentence ("They also ...") competes at DANGLING x its score, unless the
    brief shows its antecedent (the sentence before it is chosen, or it opens the story
    and follows the headline): a comparably ranked self-contained one wins."""
    chosen: list[Sentence] = []
    queue = [(-s.score, s.index, False) for s in sents]
    heapq.heapify(queue)
    while queue and len(chosen) < room:
        score, i, damped = heapq.heappop(queue)
        s = sents[i]
        if s.dangling and s.before and not damped and not _after_chosen(s, chosen):
            heapq.heappush(queue, (score * DANGLING, i, True))
        elif s.tokens and not restates(s.tokens, title) and not any(similar(s.tokens, t) for t in taken):
            chosen.append(s)
            taken.append(s.tokens)
    return chosen


def _after_chosen(s: Sentence, chosen: list[Sentence]) -> bool:
    return s.follows and any(c.index == s.index - 1 for c in chosen)


def _score(sents: list[Sentence], title: frozenset[str], story: Story) -> None:
    df = Counter(t for s in sents for t in s.tokens)
    companies = [c.lower() for c in story.classification.companies]
    central = [sum(df[t] - 1 for t in s.tokens) / math.sqrt(len(s.tokens) + 1) for s in sents]
    top = max(central, default=0) or 1.0
    for s, c in zip(sents, central):
        lower = s.text.lower()
        salience = (0.4 * any(n in lower for n in companies) + 0.3 * bool(_FIGURE.search(lower))
                    + 0.1 * min(3, len(_STRATEGY.findall(lower))))
        relevance = len(s.tokens & title) / math.sqrt(len(title) + 1)
        s.score = (0.35 * c / top + 0.25 * min(1.0, relevance) + 0.25 / (1 + 0.2 * s.index)
                   + 0.15 * min(1.0, salience))
        if len(s.text.split()) < 8 or s.text.endswith("?"):
            s.score *= 0.6  # fragments and questions make weak bullets
        if s.text[:1] in "\"“‘'":
            # A quotation is colour; the facts around it come first. One too long for a
            # bullet is cut before its speaker is named: a quote from no one.
            cut = len(s.text) > MAX_BULLET and trim_bullet(s.text).rstrip("\"”").endswith("…")
            s.score *= 0.4 if cut else 0.8
