"""The "Why it matters" line the condenser takes from the story's ranked sentences
(feeds/ranking.py), when the story states none: the sentence that best states a
consequence (cue phrases, English and Chinese) and stands alone, its opening connective
dropped ("However, the deal ..." -> "The deal ...").
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from feeds.bullets import MAX_WHY, trim_bullet
from feeds.references import opening
from feeds.wordsets import CJK, restates, similar

if TYPE_CHECKING:
    from feeds.ranking import Sentence

__all__ = ["CLOSERS", "take_why", "unhinged"]

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
CLOSERS = "\"'”’»)]」』）"   # after a sentence's end mark


# Why lines opening with these, unresolved, point at people the brief may not show ("it"
# is mostly the headline's subject or event: "It means users can ...").
_PRONOUNS = frozenset(("he", "she", "his", "her", "they", "their", "them"))
# "If it does, ...", "If so, ...": a condition on a sentence the why line does not show.
_ELLIPTIC_IF = re.compile(r"(?:but |and )?if (?:so|not|it|this|that|they|he|she|the deal|"
                          r"the move|the plan)\b(?! (?:is|are|was|were) (?:a|an|the)\b)")
# The writer speaking ("We’ve contacted ...") or addressing the reader ("If you’ve ever
# watched ...", "You might think ...", "Your next bill ..."); "You.com" is a company.
_WRITER = re.compile(r"(?:I|We|You|If you)(?:[’'](?:ve|re|ll|d|m))?\b(?![-’'.])|Your\b")
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


def unhinged(text: str, *, bullet: bool = False) -> str:
    """`text` without an opening connective ("However, the deal ..." -> "The deal ...").
    A bullet keeps it before a reference ("But it's ..."): "It's ..." would dangle."""
    m = _CONNECTIVE.match(text)
    rest = text[m.end():] if m else ""
    if not rest or (bullet and opening(rest) is not None):
        return text
    first = rest.split(" ", 1)[0]
    return rest[:1].upper() + rest[1:] if first.islower() else rest   # "iPhone" stays


def take_why(sents: list[Sentence], title: frozenset[str], taken: list) -> str:
    pick = _why_sentence([s for s in sents if not any(similar(s.tokens, t) for t in taken)],
                         title)
    if not pick:
        return ""
    taken.append(pick.tokens)
    return trim_bullet(unhinged(pick.text), MAX_WHY)


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
    return text.rstrip(CLOSERS).endswith("?") or bool(_WRITER.match(text))


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
