"""The extractive condenser: Story -> Brief (headline, dek, up to 3 bullets, why it matters).

Offline and deterministic. What the story already states wins: its own bullet list and
"Why it matters" section are kept as written. Otherwise sentences are ranked (centrality,
position, relevance to the headline, salience of companies, figures and strategy terms)
and up to three non-redundant ones become the bullets, in story order. "Why it matters"
comes from a sentence that states a consequence; when none does we say less rather than
invent: a line marked "Context:" built from the classification (why_is_generated=True),
or nothing when there is no classification either.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from feeds.headline import clean_headline, trim_words
from feeds.models import Brief, Story
from feeds.sentences import Block, blocks_from_html, blocks_from_text, is_why_heading, split_sentences

__all__ = ["condense", "trim_bullet", "MAX_BULLET"]


MAX_BULLET = 200
MAX_WHY = 300
MAX_DEK = 200

_STOP = frozenset("""
a an the and or but if of to in on at by for with from as is are was were be been being it
its this that these those has have had do does did not no so than then there their they
them he she his her we our you your i me my will would can could may might should also
about into over after before more most such which who whom what when where while up out
said says say just new one two its it's
""".split())
_TOKEN = re.compile(r"[a-z0-9]+(?:[.\-'’][a-z0-9]+)*|[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_FIGURE = re.compile(r"[$€£¥]\s?\d|\d(?:[.,]\d+)?\s?(?:%|bn|billion|million|m\b|trillion|percent)")
_STRATEGY = re.compile(
    r"\b(?:pric\w*|revenue|monetiz\w*|monetis\w*|profit\w*|open[- ]source|open[- ]weights?|"
    r"paid|subscription|api|fund\w*|rais\w*|invest\w*|valuation|acqui\w*|merger|deal|"
    r"partner\w*|chips?|gpus?|semiconductor\w*|compute|export|sanction\w*|regulat\w*|"
    r"antitrust|ceo|chief|resign\w*|appoint\w*|rival\w*|compet\w*|enterprise|cloud|"
    r"launch\w*|release\w*|model)\b")  # matched on lowercased text
_CUES = (  # (pattern, weight) on lowercased text: phrases that state a consequence
    (r"\b(?:could|would|will|may|might) mean\b|\b(?:this|that|which|it) means\b", 2.0),
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
_ANY_CUE = re.compile("|".join(p for p, _ in _CUES))
# Kept apart: in the English alternation they cost ~40% of condensing throughput.
_CUE_RES_ZH = _CUE_RES + tuple((re.compile(p), w) for p, w in _CUES_ZH)
_ANY_CUE_ZH = re.compile("|".join(p for p, _ in _CUES + _CUES_ZH))
_CJK = re.compile("[\u4e00-\u9fff]")
_BOILERPLATE = re.compile(
    r"^(?:continue reading|read more|read the full|subscribe|sign up|click here|"
    r"advertisement|getty images|photo:|image:|credit:|follow us|share this|"
    r"the post .* appeared first on)", re.I)
_TAIL_JUNK = re.compile(r"\s*(?:continue reading\W*|read more\W*|\[(?:…|\.\.\.)\])\s*$", re.I)
_END_MARKS, _CLOSERS = set(".!?。！？…"), "\"'”’»)]」』）"
_DATELINE = re.compile(r"^[A-Z][A-Z .,'’/-]{2,40}(?:\([A-Za-z ]+\))?\s+[-–—]\s+(?=\S)")


@dataclass
class _Sentence:
    text: str
    index: int
    tokens: frozenset[str]
    score: float = 0.0


def condense(story: Story, *, article_text: str | None = None) -> Brief:
    """Condense a story into a Brief; article_text (the fetched page) replaces a teaser."""
    headline, source = clean_headline(story.title, story.source)
    title = _tokens(headline)
    blocks = (blocks_from_html(story.html) if story.html.strip()
              else blocks_from_text(story.text or story.summary))
    article = blocks_from_text(article_text) if article_text and article_text.strip() else []
    bullets = _story_bullets(blocks, title)
    why = _stated_why(blocks) or _stated_why(article)
    if len(bullets) < 3 or not why:
        bullets, why = _fill(bullets, why, _candidates(article or blocks), title, story)
    if not headline and bullets:  # an untitled entry: its lead sentence stands in, once
        headline, bullets = trim_words(bullets[0], 120), bullets[1:]
    c = story.classification
    generated = _context_line(c.companies, c.topics) if not why else ""
    return Brief(
        id=story.id, headline=headline, bullets=tuple(bullets), why_it_matters=why or generated,
        url=story.url, source=source, published=story.published,
        dek=_dek(story, title, bullets, why or generated), companies=c.companies,
        topics=c.topics, strategy=c.strategy, score=c.score, condenser="extractive",
        why_is_generated=bool(generated))


def trim_bullet(text: str, limit: int = MAX_BULLET) -> str:
    """At most `limit` characters, cut at a clause boundary if one is late enough, else
    at a word boundary; never mid-word; "…" marks the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    window = text[:limit - 1]
    cut = max(window.rfind(sep) for sep in (", ", "; ", " — ", " – ", ": "))
    if cut >= limit * 0.6:
        return window[:cut].rstrip(" ,;:—–") + "…"
    return trim_words(text, limit)


def _tokens(text: str) -> frozenset[str]:
    out = set()
    for tok in _TOKEN.findall(text.lower()):
        if _CJK.match(tok):  # no spaces in CJK: character bigrams stand in for words
            out.update(tok[i:i + 2] for i in range(max(1, len(tok) - 1)))
            continue
        if tok.endswith(("'s", "’s")):
            tok = tok[:-2]
        if tok in _STOP or len(tok) < 2:
            continue
        out.add(tok[:-1] if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss") else tok)
    return frozenset(out)


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    """Near-duplicates: most words shared, in either direction."""
    if not a or not b:
        return False
    shared = len(a & b)
    return shared / len(a | b) >= 0.5 or shared / min(len(a), len(b)) >= 0.8


def _restates(toks: frozenset[str], title: frozenset[str]) -> bool:
    """A sentence made mostly of the headline's words adds nothing under it."""
    if not toks or not title:
        return False
    shared = len(toks & title)
    return shared / len(toks) >= 0.6 or shared / len(toks | title) >= 0.5


def _stated_why(blocks: list[Block] | None) -> str:
    for i, b in enumerate(blocks or ()):
        if b.label and is_why_heading(b.label) and b.text:
            return _short_why(b.text)
        if b.kind == "h" and is_why_heading(b.text):
            body = next((n.text for n in blocks[i + 1:] if n.kind != "h"), "")
            if body:
                return _short_why(body)
    return ""


def _short_why(text: str) -> str:
    return trim_bullet(" ".join(split_sentences(text)[:2]), MAX_WHY)


def _story_bullets(blocks: list[Block], title: frozenset[str]) -> list[str]:
    """Items of the story's own bullet list (the first that is not navigation)."""
    groups: dict[int, list[Block]] = {}
    heading: dict[int, str] = {}
    last_heading = ""
    for b in blocks:
        if b.kind == "h":
            last_heading = b.text
        elif b.kind == "li" and not b.text.endswith(":"):  # "Read some books:" heads a sub-list
            groups.setdefault(b.group, []).append(b)
            heading.setdefault(b.group, last_heading)
    for gid, items in groups.items():
        if _is_content_list(items, heading[gid]):
            picked: list[str] = []
            for item in items:
                toks = _tokens(item.text)
                if not _restates(toks, title) and not any(_similar(toks, _tokens(p)) for p in picked):
                    picked.append(trim_bullet(item.text))
            return picked[:3]
    return []


_FIELD = re.compile(r"^[\w’'-]+(?: [\w’'-]+){0,2}: ")
_NAV_HEADING = re.compile(r"related|read (?:more|next|also)|more (?:from|on|stories)|see also|"
                          r"recommended|popular|trending|latest|share|tags|follow|newsletter", re.I)


def _is_content_list(items: list[Block], heading: str) -> bool:
    if len(items) < 2 or (heading and _NAV_HEADING.search(heading)):
        return False
    words = sorted(len(b.text.split()) for b in items)
    if words[len(words) // 2] < 4:
        return False  # "Gambling", "Sexual themes": labels, not statements
    if sum(bool(_FIELD.match(b.text)) for b in items) * 2 > len(items):
        return False  # "Authors: ...", "PDF: ...": metadata, not the story's points
    return sum(b.links for b in items) / len(items) < 0.6  # lists of links are navigation


def _candidates(blocks: list[Block]) -> list[_Sentence]:
    """Sentences that may become bullets: paragraphs only, outside any why section."""
    out: list[_Sentence] = []
    in_why = False
    for b in blocks:
        if b.kind == "h":
            in_why = is_why_heading(b.text)
            continue
        if b.kind != "p" or in_why or (b.label and is_why_heading(b.label)):
            continue
        sents = split_sentences(_strip_tail(b.text))
        for j, s in enumerate(sents):
            s = _DATELINE.sub("", s) if j == 0 else s
            if _usable(s, last=j == len(sents) - 1):
                out.append(_Sentence(s, len(out), _tokens(s)))
    whole = [s for s in out if s.text.rstrip(_CLOSERS)[-1:] in _END_MARKS]
    if whole and len(whole) < len(out):  # feeds cut content mid-sentence ("..., will be")
        out = [_Sentence(s.text, i, s.tokens) for i, s in enumerate(whole)]
    return out


def _strip_tail(text: str) -> str:
    """Drop "Continue reading…" and "[…]" endings (searched in the tail only: paragraphs
    can be long and an end-anchored search would rescan them)."""
    head, tail = text[:-40], text[-40:]
    return head + _TAIL_JUNK.sub("", tail)


def _usable(s: str, *, last: bool) -> bool:
    cjk = not s.isascii() and bool(_CJK.search(s))  # CJK: short sentences, no spaces
    if _BOILERPLATE.match(s) or len(s) < (6 if cjk else 20) or (len(s.split()) < 4 and not cjk):
        return False
    return not (last and s.endswith(("...", "…")))  # a teaser cut mid-sentence


def _fill(bullets: list[str], why: str, sents: list[_Sentence], title: frozenset[str],
          story: Story) -> tuple[list[str], str]:
    _score(sents, title, story)
    taken = [_tokens(b) for b in bullets]
    if why:
        taken.append(_tokens(why))
    elif len(sents) > 1:  # the lead states the news; a consequence comes after it
        pick = _why_sentence([s for s in sents[1:] if not any(_similar(s.tokens, t) for t in taken)],
                             title)
        if pick:
            why = trim_bullet(pick.text, MAX_WHY)
            taken.append(pick.tokens)
    chosen: list[_Sentence] = []
    for s in sorted(sents, key=lambda s: (-s.score, s.index)):
        if len(bullets) + len(chosen) >= 3:
            break
        if s.tokens and not _restates(s.tokens, title) and not any(_similar(s.tokens, t) for t in taken):
            chosen.append(s)
            taken.append(s.tokens)
    return bullets + [trim_bullet(s.text) for s in sorted(chosen, key=lambda s: s.index)], why


def _score(sents: list[_Sentence], title: frozenset[str], story: Story) -> None:
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
            s.score *= 0.8  # a quotation is colour; the facts around it come first


def _why_sentence(sents: list[_Sentence], title: frozenset[str]) -> _Sentence | None:
    """The sentence that best states a consequence, if one does. It must be about the
    story (scored at least a fifth of the best sentence) and not a quotation (an opinion)."""
    best, best_key = None, 0.0
    floor = 0.2 * max((s.score for s in sents), default=0.0)
    for s in sents:
        lower = s.text.lower()
        any_cue, cues = (_ANY_CUE_ZH, _CUE_RES_ZH) if _CJK.search(lower) else (_ANY_CUE, _CUE_RES)
        if s.score < floor or lower[:1] in "\"“‘'" or not any_cue.search(lower):
            continue
        cue = sum(w for r, w in cues if r.search(lower))
        if cue >= 2.0 and not _restates(s.tokens, title) and cue + s.score > best_key:
            best, best_key = s, cue + s.score
    return best


def _context_line(companies: tuple[str, ...], topics: tuple[str, ...]) -> str:
    parts = [", ".join(companies[:3]), ", ".join(topics[:3])]
    parts = [p for p in parts if p]
    return "Context: " + " · ".join(parts) if parts else ""


def _dek(story: Story, title: frozenset[str], bullets: list[str], why: str) -> str:
    if story.subtitle.strip():
        return trim_bullet(story.subtitle, MAX_DEK)
    first = next(iter(split_sentences(_strip_tail(story.summary))), "")
    toks = _tokens(first)
    if not toks or _restates(toks, title) or not _usable(first, last=True):
        return ""
    if any(_similar(toks, _tokens(t)) for t in (*bullets, why) if t):
        return ""
    return trim_bullet(first, MAX_DEK)
