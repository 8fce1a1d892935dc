"""Resolving a bullet's opening reference the way a careful editor would, offline: only
when exactly one name can be meant, else not at all (the ranking then avoids the
sentence). Never a guess: a wrong name is worse than a vague pronoun.

- "It said" / "Its shares" / "The company, which": when the sentence before opens with
  the story's main company as its subject ("Alibaba said on Monday ..."), and "It" is
  followed by what a company does (said, plans, launched, raised ...; never "It is ...",
  which may be the product or an expletive "It is unclear whether ...").
- "He said" / "She added" / "His comments": when the sentence before names exactly one
  person and nobody else is named near it (feeds/people.py).
"""
from __future__ import annotations

import re

from feeds.people import person_for
from feeds.references import Opening, opening

__all__ = ["resolve"]

# What "It" does when it is a company: speech and corporate acts (after "also", "has").
_COMPANY_VERB = re.compile(
    r"(?:[’']s )?(?:(?:also|previously|recently|later|then|now|has|had|will|would|plans to|"
    r"did not|didn[’']t|does not|doesn[’']t|is also|was also) ){0,2}"
    r"(?:said|says|say|added|announced|announces|plans|planned|expects|expected|reported|"
    r"reports|launched|launch|launches|released|release|releases|raised|raise|unveiled|"
    r"unveil|introduced|introduce|declined|decline|confirmed|confirm|told|noted|warned|"
    r"acquired|acquire|bought|buy|invested|invest|hired|laid off|cut|cuts|aims|intends|hopes|"
    r"claims|claimed|estimates|estimated|disclosed|disclose|filed|agreed|signed|sign|"
    r"employs|posted|generated|partnered|comment|respond|responded|open-sourced|"
    r"(?:is|[’']s) (?:also |now )?(?:planning|investing|hiring|extending|raising|cutting|laying off|"
    r"seeking|working on|building|partnering|suing|charging))\b")
# What "Its" owns when it is a company.
_COMPANY_NOUN = re.compile(
    r"(?:shares|stock|revenue|revenues|sales|profit|profits|valuation|market value|"
    r"chief executive|CEO|founder|founders|co-founder|executives|investors|backers|board|"
    r"employees|staff|workforce|rivals|competitors|customers|parent|spokesperson|"
    r"spokesman|spokeswoman|headquarters)\b")
# References that say nothing of what the company is, so they follow the subject.
_GENERIC = frozenset({"it", "its", "the company", "the firm", "the group"})
# A second organisation in the sentence before, named by what it is (singular: "It" and
# "The company" cannot mean "rivals").
_PARTY_NOUN = re.compile(
    r"\b(?:start-?up|company|firm|developer|maker|provider|lab|rival|unit|subsidiary|"
    r"supplier|partner|venture|business|chipmaker|giant|operator|group|platform|"
    r"manufacturer|designer|retailer|bank|fund|insurer|carrier|unicorn|newcomer|"
    r"challenger|player|outfit|owner|parent|acquirer|buyer|seller|vendor|customer|"
    r"client|competitor|conglomerate|affiliate|joint venture|spin-?off)\b", re.I)
# Lead-in before the subject: "On Monday, " or lowercase descriptors ("Chinese tech giant").
_SUBJECT_LEAD = (r"(?:[^,.;:“”\"]{1,80}, )?(?:[A-Z][\w-]* )?"
                 r"(?:(?!(?:which|who|that|whose|and|or|but|with|by|to|of|in|on|for|from|as|at|"
                 r"is|was|has|had|said|says|after|before|while|than)\b)[a-z][\w-]* ){0,3}")
# After the subject: a verb, "(", or an aside ", which ..." / ", China's ..."; not a list
# ("Alibaba and Tencent", "Alibaba, Tencent and Baidu") nor a possessive.
_SUBJECT_END = r"(?=,? \(| (?!and\b|or\b)[a-z]|, (?:[a-z]|[A-Z]\w*[’']s\b))"

def resolve(text: str, before: tuple[str, ...], companies: tuple[str, ...],
            known: dict[str, str] | None = None,
            marks: tuple[int, ...] | None = None) -> str | None:
    """`text` with its opening reference replaced by the one name it can stand for; None
    when that name is not certain. `before`: the sentences before it (its paragraph so far
    and the paragraph before); `companies`: the story's, main first; `known`: first or
    last name -> full name of the people the story names (feeds.people.people); `marks`:
    the quote_marks of all the sentences before, when `before` holds the last few only."""
    o = opening(text)
    if o is None:
        return text
    if o.kind == "person":
        name = person_for(o.ref, before, companies, known or {}, marks)
    elif o.kind == "company" and companies and before:
        name = _company(text[o.start + len(o.ref):], o, before[-1], companies)
    else:
        name = None
    return _substitute(text, o, name) if name else None


def _company(rest: str, o: Opening, previous: str, companies: tuple[str, ...]) -> str | None:
    low, rest, main = o.ref.lower(), rest.lstrip(), companies[0]
    if low == "it" and not _COMPANY_VERB.match(rest):
        return None
    if low == "its" and not _COMPANY_NOUN.match(rest):
        return None
    subject = re.match(_SUBJECT_LEAD + re.escape(main) + _SUBJECT_END, previous)
    if not subject or _quoted(previous, subject.end()):
        return None
    described = low not in _GENERIC and _other_party(previous[subject.end():], companies[1:])
    return None if described else main


def _other_party(after: str, others: tuple[str, ...]) -> bool:
    """Whether the sentence, after its subject, names another party a described
    reference could mean: "Nvidia agreed to invest in a Tokyo-based developer. The
    start-up, founded in 2023, ..." is the developer, not Nvidia. ("It" and "The company"
    stay with the subject, as writers use them.)"""
    if _PARTY_NOUN.search(after):
        return True
    return any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", after) for name in others)


def _quoted(text: str, at: int) -> bool:
    head = text[:at]
    return head.count("“") > head.count("”") or head.count('"') % 2 == 1


def _substitute(text: str, o: Opening, name: str) -> str:
    low, rest = o.ref.lower(), text[o.start + len(o.ref):]
    if low in ("his", "her", "its"):
        name += "’s" if "’" in text else "'s"
    contraction = low in ("it", "he", "she") and re.match(r"[’']s (?=(?:(?:also|now) )?(\w+))", rest)
    if contraction:  # "It’s announced" -> "AMD has announced", "He's taking" -> "... is taking"
        verb = "has " if re.fullmatch(r"\w+(?:ed|en)|been|got", contraction.group(1)) else "is "
        rest = " " + verb + rest[contraction.end():]
    return text[:o.start] + name + rest
