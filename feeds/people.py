"""Who "he" or "she" is, when that is certain: the people a sentence names, for
feeds/antecedents.py. Names are not classified by any model here, so the rule is strict
and a doubt means no answer:

- the sentence just before names exactly one person, with a cue ("CEO Eddie Wu",
  "Eddie Wu said", "according to Eddie Wu", "Mr Wu");
- nobody else is named in the three sentences before it: no other two-word name, titled
  name or speaker ("Reuters said" counts too), and no other capitalised word in the
  sentence just before ("... told reporters that Benedict ...");
- nothing says it is someone else: a title of the other gender ("She" after "Mr Wu"),
  or a pronoun of the other gender in the sentence before ("Wu met her ...");
- we are not inside a quotation ("'I spoke to him. He has to ...'": the speaker's "he").
"""
from __future__ import annotations

import re

__all__ = ["person_for", "people"]

_TOKEN = r"[A-Z][a-z]+(?:[-’'][A-Z]?[a-z]+)*"
_NAME = re.compile(rf"{_TOKEN}(?: (?:[A-Z]\.|{_TOKEN})){{1,3}}")
_MALE, _FEMALE = re.compile(r"\b(?:[Hh]e|[Hh]im|[Hh]is)\b"), re.compile(r"\b(?:[Ss]he|[Hh]er|[Hh]ers)\b")
_GENDER_TITLE = re.compile(r"\b(?:(Mr)|(Mrs|Ms|Miss))\.? $")
_TITLE_BEFORE = re.compile(
    r"(?:CEO|CTO|CFO|COO|[Cc]hief(?: [a-z]+){0,2}|[Ff]ounder|[Cc]o-?founder|[Pp]resident|"
    r"[Cc]hair(?:man|woman)?|analyst|[Ss]pokes(?:person|man|woman)|director|head|researcher|"
    r"[Pp]rofessor|scientist|executive|[Mm]inister|Secretary|Senator|Sen\.|Rep\.|Mrs?\.?|Ms\.?|"
    r"Miss|Dr\.?|officer|partner|economist|engineer|investor|billionaire|entrepreneur|"
    r"lawyer|attorney|[Jj]udge|said|says|according to|told|boss|leader|manager|vice president|"
    r"VP),? $")
_SPEAKER = re.compile(rf"\b({_TOKEN}),? (?:said|says|told|added|wrote|noted)\b")
_TITLED = re.compile(rf"\b(?:Mrs?|Ms|Miss|Dr|Sgt|Prof)\.? ({_TOKEN})")
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
    "International Holdings Company Corporation Twitter Pro Ultra Max Mini County Service "
    "Police City Club United Wife Husband Mother Father Son Daughter Brother Sister Mum Dad "
    "Mr Mrs Ms Miss Dr Sgt Prof Sir Lord Lady Archbishop Bishop Pope President Senator "
    "Governor Judge General Professor Chancellor Prime Minister King Queen Prince Princess Sen "
    "Rep Gov Analyst Executive Chief Founder Co-founder Cofounder Spokesperson Spokesman "
    "Spokeswoman Director Researcher Scientist Engineer Investor Economist Lawyer Attorney "
    "Former Billionaire Entrepreneur Officer Head Chairman Chairwoman Vice Boss".split())


def person_for(pronoun: str, before: tuple[str, ...], companies: tuple[str, ...],
               known: dict[str, str], marks: tuple[int, ...] | None = None) -> str | None:
    """The full name `pronoun` (he, she, his, her) stands for, or None when not certain.
    `marks`: quote_marks of all the sentences before, when `before` holds only the last
    three (feeds/ranking.py: every sentence's whole paragraph so far was quadratic)."""
    if not before or quote_open(quote_marks(" ".join(before)) if marks is None else marks):
        return None
    cued = {n for n in cued_names(before[-1]) if not _is_company(n, companies)}
    if len(cued) != 1:
        return None
    name = cued.pop()
    if not _agrees(pronoun.lower() in ("he", "his"), before[-1], name):
        return None
    others = {n for s in before[-3:] for n in named(s, companies, known)} | _capitalised(before[-1])
    return name if all(_same(n, name, known) or _is_company(n, companies) for n in others) else None


def _capitalised(sentence: str) -> set[str]:
    """Capitalised words after the first ("... told Reuters that Benedict has ..."): any
    of them may be the person meant."""
    words = re.findall(r"(?<=\s)[A-Z][a-z]+(?:[-’'][A-Z]?[a-z]+)*", sentence)
    return {w for w in words if w not in _NOT_NAME}


def _agrees(male: bool, previous: str, name: str) -> bool:
    at = previous.find(name)
    title = _GENDER_TITLE.search(previous[max(0, at - 6):at])
    if title and bool(title.group(1)) != male:
        return False
    return not (_FEMALE if male else _MALE).search(previous)


def _same(mention: str, name: str, known: dict[str, str]) -> bool:
    return mention == name or mention in name.split() or known.get(mention) == name


def quote_marks(text: str) -> tuple[int, int, int, int, int]:
    """The quotation marks in `text`: “, ”, ", an opening ‘ and a closing ’. Those of
    sentences joined by spaces are the sums of each sentence's."""
    return (text.count("“"), text.count("”"), text.count('"'),
            len(_SINGLE_OPENS.findall(text)) if "‘" in text else 0,
            len(_SINGLE_CLOSES.findall(text)) if "’" in text else 0)


def marks_of(sentences: tuple[str, ...]) -> tuple[int, ...]:
    """quote_marks(" ".join(sentences)), summed sentence by sentence."""
    marks = (0,) * 5
    for s in sentences:
        marks = plus_marks(marks, quote_marks(s))
    return marks


def plus_marks(marks: tuple[int, ...], more: tuple[int, ...],
               less: tuple[int, ...] = (0,) * 5) -> tuple[int, ...]:
    """marks + more - less: a sentence's marks added, or one sentence's swapped."""
    return tuple(m + a - b for m, a, b in zip(marks, more, less))


def quote_open(marks: tuple[int, ...]) -> bool:
    """True when text with these quote_marks leaves a quotation open at its end."""
    double_open, double_close, straight, opened, closed = marks
    return double_open != double_close or straight % 2 == 1 or opened > closed


_SINGLE_OPENS, _SINGLE_CLOSES = re.compile(r"(?:^|(?<=\s))‘"), re.compile(r"(?<=[.,!?])’")


def named(sentence: str, companies: tuple[str, ...], known: dict[str, str]) -> set[str]:
    """Everyone `sentence` may name: two-word names with or without a cue, titled names
    ("Mr Wu"), speakers ("Wu said"); companies and known non-names left out."""
    out = set(_names(sentence, cued=False))
    out |= {m.group(1) for r in (_SPEAKER, _TITLED) for m in r.finditer(sentence)
            if m.group(1) not in _NOT_NAME}
    return {known.get(n, n) for n in out if not _is_company(n, companies)}


def cued_names(sentence: str) -> list[str]:
    """Two- to four-word names with a cue: a title before, "said" after, an apposition."""
    return _names(sentence, cued=True)


def _names(sentence: str, *, cued: bool) -> list[str]:
    out = []
    for m in _NAME.finditer(sentence):
        words = m.group(0).split()
        while words and words[0] in _NOT_NAME:
            words.pop(0)
        if len(words) < 2 or any(w in _NOT_NAME for w in words):
            continue
        start = m.end() - len(" ".join(words))
        if not cued or _TITLE_BEFORE.search(sentence[max(0, start - 30):start]) \
                or _CUE_AFTER.match(sentence, m.end()):
            out.append(" ".join(words))
    return out


def _is_company(name: str, companies: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(c)}\b", name) for c in companies)


def people(sentences: list[str], companies: tuple[str, ...]) -> dict[str, str]:
    """First or last name -> full name of everyone the story names with a cue (a name
    two people share maps to nothing)."""
    out: dict[str, str] = {}
    for s in sentences:
        for n in cued_names(s):
            if not _is_company(n, companies):
                for word in {n.split()[0], n.split()[-1]}:
                    out[word] = n if out.get(word, n) == n else ""
    return {k: v for k, v in out.items() if v}
