"""Resolving a bullet's opening reference the way a careful editor would, offline: only
when exactly one name can be meant, else not at all (the ranking then avoids the
sentence). Never a guess: a wrong name is worse than a vague pronoun.

- "It said" / "Its shares" / "The company, which": when the sentence before opens with
  the story's main company as its subject ("Alibaba said on Monday ..."), and "It" is
  followed by what a company does (said, plans, launched, raised ...; never "It is ...",
  which may be the product or an expletive "It is unclear whether ...").
- "He said" / "She added" / "His comments": when the sentences before it (its paragraph
  so far and the paragraph before) name exactly one person, recognised by a cue such as
  "CEO Eddie Wu", "Eddie Wu said", "according to Eddie Wu". The full name is used: the
  brief shows the first mention.
"""
from __future__ import annotations

import re

from feeds.references import Opening, opening

__all__ = ["resolve", "people"]

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
# Lead-in before the subject: "On Monday, " or lowercase descriptors ("Chinese tech giant").
_SUBJECT_LEAD = (r"(?:[^,.;:“”\"]{1,80}, )?(?:[A-Z][\w-]* )?"
                 r"(?:(?!(?:which|who|that|whose|and|or|but|with|by|to|of|in|on|for|from|as|at|"
                 r"is|was|has|had|said|says|after|before|while|than)\b)[a-z][\w-]* ){0,3}")
# After the subject: a verb, "(", or an aside ", which ..." / ", China's ..."; not a list
# ("Alibaba and Tencent", "Alibaba, Tencent and Baidu") nor a possessive.
_SUBJECT_END = r"(?=,? \(| (?!and\b|or\b)[a-z]|, (?:[a-z]|[A-Z]\w*[’']s\b))"

_TOKEN = r"[A-Z][a-z]+(?:[-’'][A-Z]?[a-z]+)*"
_NAME = re.compile(rf"{_TOKEN}(?: (?:[A-Z]\.|{_TOKEN})){{1,3}}")
_TITLE_BEFORE = re.compile(
    r"(?:CEO|CTO|CFO|COO|[Cc]hief(?: [a-z]+){0,2}|[Ff]ounder|[Cc]o-?founder|[Pp]resident|"
    r"[Cc]hair(?:man|woman)?|analyst|[Ss]pokes(?:person|man|woman)|director|head|researcher|"
    r"[Pp]rofessor|scientist|executive|[Mm]inister|Secretary|Senator|Sen\.|Rep\.|Mr\.|Ms\.|"
    r"Mrs\.|Dr\.|officer|partner|economist|engineer|investor|billionaire|entrepreneur|"
    r"lawyer|attorney|[Jj]udge|said|says|according to|told|by|boss|leader|manager|vice president|"
    r"VP),? $")
_CUE_AFTER = re.compile(
    r"(?:,? (?:said|says|told|wrote|writes|added|noted|explained|argued|tweeted|posted|stated|"
    r"confirmed|predicted|warned|admitted|announced|believes|thinks)\b|"
    r", (?:who\b|(?:the|a|an|[A-Z][\w.&-]*[’']s) (?:[\w-]+ ){0,4}?(?:CEO|founder|co-?founder|chief|"
    r"president|head|director|analyst|professor|researcher|spokes\w+|executive|minister|partner|"
    r"scientist|engineer|economist|lawyer|chair\w*|officer)\b))")
_NOT_NAME = frozenset(
    "The A An In On At By For But And Or So Yet Its It He She We They This That These Those "
    "Last Next Earlier Later Today Monday Tuesday Wednesday Thursday Friday Saturday Sunday "
    "January February March April May June July August September October November December "
    "According After Before While When If As Meanwhile However Still Also Chinese American "
    "US U.S. UK EU European Google Microsoft Apple Amazon Meta OpenAI Nvidia AI Inc Corp Co "
    "Ltd Group Cloud Labs Lab Research Institute University College Capital Ventures Partners "
    "Securities Bank Times News Post Journal Street Reuters Bloomberg Agency Commission "
    "Department Office Court House Senate Congress Council Ministry Foundation Association "
    "Technologies Technology Systems Intelligence Insider Magazine Review Media Global "
    "International Holdings Company Corporation Twitter Pro Ultra Max Mini".split())


def resolve(text: str, before: tuple[str, ...], companies: tuple[str, ...],
            known: dict[str, str] | None = None) -> str | None:
    """`text` with its opening reference replaced by the one name it can stand for; None
    when that name is not certain. `before`: the sentences before it (its paragraph so far
    and the paragraph before); `companies`: the story's, main first; `known`: surname ->
    full name of the people the story names (see people())."""
    o = opening(text)
    if o is None:
        return text
    if o.kind == "person":
        name = _person(before, companies, known or {})
    elif o.kind == "company" and companies and before:
        name = _company(text[o.start + len(o.ref):], o, before[-1], companies[0])
    else:
        name = None
    return _substitute(text, o, name) if name else None


def _company(rest: str, o: Opening, previous: str, main: str) -> str | None:
    low, rest = o.ref.lower(), rest.lstrip()
    if low == "it" and not _COMPANY_VERB.match(rest):
        return None
    if low == "its" and not _COMPANY_NOUN.match(rest):
        return None
    subject = re.match(_SUBJECT_LEAD + re.escape(main) + _SUBJECT_END, previous)
    return main if subject and not _quoted(previous, subject.end()) else None


def _quoted(text: str, at: int) -> bool:
    head = text[:at]
    return head.count("“") > head.count("”") or head.count('"') % 2 == 1


def _person(before: tuple[str, ...], companies: tuple[str, ...], known: dict[str, str]) -> str | None:
    found: set[str] = set()
    for s in before:
        found |= mentions(s, companies, known)
    full = {n for n in found if " " in n}
    # "Wu" beside "Eddie Wu" is the same person
    found = full | {n for n in found - full if not any(n in f.split() for f in full)}
    return found.pop() if len(found) == 1 and found <= full else None


def mentions(sentence: str, companies: tuple[str, ...], known: dict[str, str]) -> set[str]:
    """The people `sentence` names: full names with a cue, and single names said to speak
    ("Wu said": the full name when the story gave it, else the single name, which then
    only makes a choice ambiguous: it is never substituted)."""
    names = {n for n in _cued_names(sentence) if not _is_company(n, companies)}
    for m in re.finditer(rf"\b({_TOKEN}),? (?:said|says|told|added|wrote|noted)\b", sentence):
        word = m.group(1)
        if word not in _NOT_NAME and not _is_company(word, companies) \
                and not any(n.endswith(" " + word) or n.startswith(word + " ") for n in names):
            names.add(known.get(word, word))
    return names


def _cued_names(sentence: str) -> list[str]:
    out = []
    for m in _NAME.finditer(sentence):
        words = m.group(0).split()
        while words and words[0] in _NOT_NAME:
            words.pop(0)
        if len(words) < 2 or any(w in _NOT_NAME for w in words):
            continue
        start = m.end() - len(" ".join(words))
        if _TITLE_BEFORE.search(sentence[max(0, start - 30):start]) or _CUE_AFTER.match(sentence, m.end()):
            out.append(" ".join(words))
    return out


def _is_company(name: str, companies: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(c)}\b", name) for c in companies)


def people(sentences: list[str], companies: tuple[str, ...]) -> dict[str, str]:
    """First or last name -> full name of everyone the story names with a cue (a name two people
    share maps to nothing: "Wu said" is then ambiguous)."""
    out: dict[str, str] = {}
    for s in sentences:
        for n in _cued_names(s):
            if not _is_company(n, companies):
                for word in {n.split()[0], n.split()[-1]}:
                    out[word] = n if out.get(word, n) == n else ""
    return {k: v for k, v in out.items() if v}


def _substitute(text: str, o: Opening, name: str) -> str:
    low, rest = o.ref.lower(), text[o.start + len(o.ref):]
    if low in ("his", "her", "its"):
        name += "’s" if "’" in text else "'s"
    contraction = re.match(r"[’']s (?=(?:(?:also|now) )?(\w+))", rest)
    if contraction:  # "It’s announced" -> "AMD has announced", "It's also extending" -> "... is also"
        verb = "is " if contraction.group(1).endswith("ing") else "has "
        rest = " " + verb + rest[contraction.end():]
    return text[:o.start] + name + rest
