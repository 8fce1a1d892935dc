"""Sentences that open with a reference to something named before them ("It said ...",
"He added ...", "The company, which ...", "This comes as ..."). A bullet is a sentence
lifted out of its paragraph, so such a reference dangles: the brief does not say who
"he" is. `opening` tells what a sentence opens with; feeds/antecedents.py resolves the
safe cases ("It said" -> "Alibaba said") and the ranking avoids the rest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Opening", "opening"]

# A leading connective the reference may follow: "But he said", "However, it ...".
_LEAD = (r"(?:(?:But|And|Yet|So|Still|However|Meanwhile|Instead|Also|Separately|Previously|"
         r"Earlier|Later|Today|Indeed|In addition|At the same time|Last (?:week|month|year)),? )?")
_PRONOUN = re.compile(_LEAD + r"(?P<ref>[Hh]e|[Ss]he|[Hh]is|[Hh]er|[Ii]t|[Ii]ts|[Tt]hey|[Tt]heir|[Tt]hem|"
                      r"[Tt]hese|[Tt]hose|[Tt]his|[Tt]hat|[Ss]uch|[Tt]he (?:company|firm|startup|"
                      r"start-up|group|tech giant|giant|chipmaker|lab|e-commerce giant|search giant))"
                      r"\b(?![-’'](?:based|led)\b)")
# "It" and "This/That" without an antecedent: "It is unclear whether ...", "It remains to
# be seen", "This week ...", "That said, ...".
_EXPLETIVE_IT = re.compile(
    r"it(?:[’']s| is| was| remains| seems| appears| has been| will be| would be| could be| may be|"
    r"might be)(?: not| still| also| now| too| far| already)? (?:yet |very |more |less |also |"
    r"entirely |far |not )?(?:unclear|clear|likely|unlikely|possible|impossible|important|hard|"
    r"difficult|easy|worth|expected|too early|uncertain|understood|believed|reported|estimated|"
    r"rumou?red|true|notable|telling|no (?:secret|surprise|wonder)|not known|unknown|to be seen|"
    r"the first time|time|early days|a good time|tempting|fair to|safe to|obvious|evident|"
    r"unsurprising|surprising|ironic|odd|strange|interesting|notable|possible)\b|"
    r"it (?:takes|took|remains to|appears that|seems that|turns out|emerged|follows)\b|"
    r"it(?:[’']s| has) been (?:a|an|nearly|almost|over|more than|about|just|only|\w+ (?:years?|"
    r"months?|weeks?|days?))\b", re.I)
_TIME_THIS = re.compile(r"(?:this|that|these|those) (?:week|weekend|month|year|morning|afternoon|"
                        r"evening|spring|summer|fall|autumn|winter|quarter|season|days?|time of)\b|"
                        r"that said\b|that (?:day|night)\b|that’s why|that's why|this is (?:a|an) (?:developing|updated)", re.I)
KINDS = {"he": "person", "she": "person", "his": "person", "her": "person",
         "it": "company", "its": "company"}


@dataclass(frozen=True)
class Opening:
    """The reference a sentence opens with: `ref` as written ("He", "it", "The company"),
    where it starts, and its kind: "person", "company" or "other" (they, this, these)."""
    ref: str
    start: int
    kind: str


def opening(sentence: str) -> Opening | None:
    """The dangling reference `sentence` opens with, or None (no reference, an
    expletive "It is unclear whether ...", a time phrase "This week ...")."""
    m = _PRONOUN.match(sentence)
    if not m:
        return None
    ref, start = m.group("ref"), m.start("ref")
    rest = sentence[start:]
    if _EXPLETIVE_IT.match(rest) or _TIME_THIS.match(rest):
        return None
    low = ref.lower()
    if low.startswith("the "):
        return Opening(ref, start, "company")
    return Opening(ref, start, KINDS.get(low, "other"))
