"""Ranked sentences for the condenser, when the story does not state its points itself.

Sentences are scored (centrality, position, relevance to the headline, salience of
companies, figures and strategy terms); up to three non-redundant ones become the
bullets, in story order, and "Why it matters" comes from a sentence that states a
consequence (cue phrases, English and Chinese), if one does.
"""
from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from dataclasses import dataclass

from feeds.antecedents import resolve
from feeds.boilerplate import opening_label, strip_tail, usable
from feeds.bullets import MAX_BULLET, MAX_WHY, trim_bullet
from feeds.headline import mark_cut
from feeds.models import Story
from feeds.people import marks_of, people, plus_marks, quote_marks
from feeds.references import opening
from feeds.sentences import Block, is_why_heading, split_sentences
from feeds.wordsets import CJK, restates, similar, tokens

__all__ = ["candidates", "fill"]

_FIGURE = re.compile(r"[$€£¥]\s?\d|\d(?:[.,]\d+)?\s?(?:%|bn|billion|million|m\b|trillion|percent)")
_STRATEGY = re.compile(
    r"\b(?:pric\w*|revenue|monetiz\w*|monetis\w*|profit\w*|open[- ]source|open[- ]weights?|"
    r"paid|subscription|api|fund\w*|rais\w*|invest\w*|valuation|acqui\w*|merger|deal|"
    r"partner\w*|chips?|gpus?|semiconductor\w*|compute|export|sanction\w*|regulat\w*|"
    r"antitrust|ceo|chief|resign\w*|appoint\w*|rival\w*|compet\w*|enterprise|cloud|"
    r"launch\w*|release\w*|model)\b")  # matched on lowercased text
_CUES = (  # (pattern, weight) on lowercased text: phrases that state a consequence
    # "This means ..." opening a sentence states a consequence (1 + 1); mid-sentence
    # "which means" / "it means" often defines a term or hedges ("even if it means"), so
    # it needs another cue.
    (r"\b(?:could|would|will|may|might) mean\b", 2.0),
    (r"\b(?:this|that|which|it) means\b", 1.0),
    (r"^(?:this|that|it) means\b", 1.0),   # anchored: left out of _ANY_CUE (see below)
    # The event read for its effect: "the move could ...", "sends a message that ...",
    # "what is at stake", "a test of ...", "the latest sign of ...".
    (r"\b(?:move|deal|decision|ban|shift|partnership|expansion|investment|change|launch) "
     r"(?:would|could|may|might|will likely|is likely to)\b", 2.0),
    (r"\bsends? (?:a|an) (?:[\w-]+ ){0,3}(?:message|signal)\b|\b(?:at stake|the stakes)\b", 2.0),
    (r"\b(?:litmus|key|real) test\b|\bserve as (?:a|an) (?:\w+ )?(?:test|model|blueprint|template)\b", 2.0),
    (r"\bthe latest (?:sign|example|indication|in a (?:\w+ )?(?:string|series|wave))\b|"
     r"\bstrongest (?:sign|indication)\b", 2.0),
    (r"\b(?:give|gives|giving) (?:\w+ ){1,3}(?:an edge|an advantage|a head start|a leg up)\b|"
     r"\bcompetitive (?:advantage|edge)\b", 2.0),
    # What a modal says would change ("could reduce costs"), with the modal's 0.5.
    (r"\b(?:could|would|may|might|will likely) (?:alleviate|increase|reduce|boost|hurt|harm|"
     r"transform|disrupt|weaken|strengthen|accelerate|slow|undercut|affect|change|reshape)\b", 1.5),
    (r"\bacross the (?:\w+ )?(?:industry|sector|market)\b", 1.5),
    (r"\bsignals? (?:a|an|that|the|its|how|growing|further)\b", 2.0),
    (r"\braises? (?:questions|concerns|the stakes)\b|\bputs? (?:\w+ )?pressure on\b", 2.0),
    (r"\bas competition\b|\bcompetition (?:intensifies|heats up)\b", 2.0),
    (r"\bunderscores?\b|\ba sign (?:of|that)\b|\bmarks? a (?:shift|turning point|departure)\b", 2.0),
    (r"\bpaves? the way\b|\bsets? the stage\b", 2.0),
    (r"\bimplications?\b|\breshap(?:e|es|ing)\b", 1.5),
    (r"\b(?:this|which|that) reflects\b|\breflects (?:a|the|growing)\b", 1.5),
    (r"\bfor (?:developers|customers|investors|enterprises|businesses|consumers|the industry)\b", 1.0),
    (r"\bcould\b|\bis likely to\b|\bwill likely\b|\bmay\b|\bthreaten\w*\b", 0.5),
)
_CUES_ZH = (  # Chinese outlets: "means", "marks", "shows", "competition intensifies";
    (r"意味着|标志着|表明|预示着?|凸显|竞争(?:日趋|日益|更加)?(?:激烈|加剧)", 2.0),
    (r"价格战", 1.5),   # "price war"; "for developers/enterprises/...", "could", "is set to"
    (r"对(?:开发者|企业|投资者|行业|用户)", 1.0),
    (r"可能|或将|有望", 0.5),
)
_CUE_RES = tuple((re.compile(p), w) for p, w in _CUES)   # matched on lowercased text
# The quick test for any cue; an anchored branch ("^...") would make the alternation
# ~10x slower, and each is implied by an unanchored one.
_ANY_CUE = re.compile("|".join(p for p, _ in _CUES if not p.startswith("^")))
# Kept apart: in the English alternation they cost ~40% of condensing throughput.
_CUE_RES_ZH = _CUE_RES + tuple((re.compile(p), w) for p, w in _CUES_ZH)
_ANY_CUE_ZH = re.compile("|".join(p for p, _ in _CUES + _CUES_ZH if not p.startswith("^")))
_END_MARKS, _CLOSERS = set(".!?。！？…"), "\"'”’»)]」』）"


# Why lines opening with these, unresolved, point at people the brief may not show ("it"
# is mostly the headline's subject or event: "It means users can ...").
_PRONOUNS = frozenset(("he", "she", "his", "her", "they", "their", "them"))
# "If it does, ...", "If so, ...": a condition on a sentence the why line does not show.
_ELLIPTIC_IF = re.compile(r"(?:but |and )?if (?:so|not|it|this|that|they|he|she|the deal|"
                          r"the move|the plan)\b(?! (?:is|are|was|were) (?:a|an|the)\b)")
# The writer speaking ("We’ve contacted ...") or addressing the reader ("If you’ve ever
# watched ...", "You might think ...", "Your next bill ..."); "You.com" is a company.
_WRITER = re.compile(r"(?:I|We|You|If you)(?:[’'](?:ve|re|ll|d|m))?\b(?![-’'.])|Your\b")
DANGLING = 0.7   # the score share of a sentence opening with an unresolved reference
# A why line may lean on the sentence before it past its first word: a demonstrative as
# object ("There is truth in that, ..."; "in that it ..." joins a clause and stays) or
# "this is why"; a contrast with what came before ("On the other hand, it raises ...");
# "That means they ...", whose clause has its own dangling subject.
_OBJECT_REF = re.compile(
    r"\b(?:in|of|to|with|about|on|for|from|like|despite|beyond|after|given|besides) "
    r"(?:that|this|these|those)(?=[,.;:!?—–]| and\b| but\b|$)|"
    r"\b(?:this|that)(?: is|[’']s) (?:why|because)\b", re.I)
_CONTRAST = re.compile(r"(?:On the other hand|By contrast|In contrast|Conversely|Then again), ")
_MEANS = re.compile(r"(?:This|That|It) means,? (?:that )?")
# "However, ...", "Moreover, ...", "But ...": the other half is a sentence the brief may not
# show. The connective goes and the sentence stands (capitalised, else verbatim); "Yet
# another ..." is no connective.
_CONNECTIVE = re.compile(r"(?:However|Moreover|Nevertheless|Nonetheless|Even so|Still|Furthermore|"
                         r"Additionally|In addition|Instead|That said|Yet|But|Also), |"
                         r"(?:But|Yet) (?!(?:another|more|again|to)\b)(?=\w)")


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
    whole = [s for s in out if s.text.rstrip(_CLOSERS)[-1:] in _END_MARKS]
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
        why = _take_why(sents[1:], title, taken)
    chosen = sorted(_take_bullets(sents, title, taken, 3 - len(bullets)), key=lambda s: s.index)
    shown = [(s, s.text if _after_chosen(s, chosen) else unhinged(s.text, bullet=True))
             for s in chosen]
    ahead = [trim_bullet(t) for s, t in shown if s.block < list_at]
    after = [trim_bullet(t) for s, t in shown if s.block >= list_at]
    return ahead + bullets + after, why


def unhinged(text: str, *, bullet: bool = False) -> str:
    """`text` without an opening connective ("However, the deal ..." -> "The deal ...").
    A bullet keeps it before a reference ("But it's ..."): "It's ..." would dangle."""
    m = _CONNECTIVE.match(text)
    rest = text[m.end():] if m else ""
    if not rest or (bullet and opening(rest) is not None):
        return text
    first = rest.split(" ", 1)[0]
    return rest[:1].upper() + rest[1:] if first.islower() else rest   # "iPhone" stays


def _take_why(sents: list[Sentence], title: frozenset[str], taken: list) -> str:
    pick = _why_sentence([s for s in sents if not any(similar(s.tokens, t) for t in taken)],
                         title)
    if not pick:
        return ""
    taken.append(pick.tokens)
    return trim_bullet(unhinged(pick.text), MAX_WHY)


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


def _why_sentence(sents: list[Sentence], title: frozenset[str]) -> Sentence | None:
    """The sentence that best states a consequence, if one does. It must be about the
    story (scored at least a fifth of the best sentence), not a quotation (an opinion),
    and stand alone: "They say the deal could ..." points at someone the why line lacks
    ("This/It/The move could ..." mean the headline's subject or event, and stay)."""
    best, best_key = None, 0.0
    floor = 0.2 * max((s.score for s in sents), default=0.0)
    for s in sents:
        lower = s.text.lower()
        any_cue, cues = (_ANY_CUE_ZH, _CUE_RES_ZH) if CJK.search(lower) else (_ANY_CUE, _CUE_RES)
        if (s.score < floor or lower[:1] in "\"“‘'" or not any_cue.search(lower)
                or _leans_back(s) or _ELLIPTIC_IF.match(lower) or _asks_or_writer(s.text)):
            continue
        cue = sum(w for r, w in cues if r.search(lower))
        if cue >= 2.0 and not restates(s.tokens, title) and cue + s.score > best_key:
            best, best_key = s, cue + s.score
    return best


def _asks_or_writer(text: str) -> bool:
    """A question ("what are a few misquoted facts against ...?") or the writer speaking
    ("We’ve contacted the company ..., but remember that pricing could change") or
    addressing the reader ("If you’ve ever ..."): none states a consequence, however many
    cue words it holds."""
    return text.rstrip(_CLOSERS).endswith("?") or bool(_WRITER.match(text))


def _pronoun_opening(s: Sentence) -> bool:
    """Opens with he/she/they (or their possessives) left unresolved."""
    o = opening(s.text) if s.dangling else None
    return o is not None and o.ref.lower() in _PRONOUNS


def _leans_back(s: Sentence) -> bool:
    """Leans on a sentence the brief does not show: an unresolved he/she/they opening,
    or a reference further in (_OBJECT_REF, _CONTRAST, _MEANS, _CONNECTIVE), as
    feeds/references.py reads the words after the contrast, "This means" or "However,"."""
    if _pronoun_opening(s) or _OBJECT_REF.search(s.text):
        return True
    lead = _CONTRAST.match(s.text) or _MEANS.match(s.text) or _CONNECTIVE.match(s.text)
    o = opening(s.text[lead.end():]) if lead else None
    if o is None:
        return False
    return o.ref.lower() in _PRONOUNS or lead.re is _CONTRAST
