"""What in a story's paragraphs is no news, for the condenser's sentence ranking
(feeds/ranking.py): boilerplate ("Continue reading", photo credits, a Chinese outlet's
follow-us footer, whose companies the classifier leaves out too), a newsletter's or
a columnist's line about itself, datelines and section labels, fragments and teasers cut
mid-sentence.
"""
from __future__ import annotations

import re

from feeds.wordsets import CJK

_BOILERPLATE = re.compile(
    r"^(?:continue reading|read more|read the full|subscribe|sign up|click here|"
    r"advertisement|getty images|photo:|image:|credit:|follow us|share this|"
    r"the post .* appeared first on)", re.I)
# Chinese link texts: "点击查看原文>" ("click to read the original"), "阅读原文", "原文链接：URL".
# Only as a whole line or a paragraph's tail after a stop or space: "在应用内查看原文"
# inside a sentence is the story's own words.
_READ_MORE_ZH = (r"[【\[(（]?(?:(?:点击|点此|请)?(?:查看|阅读|浏览)(?:原文|全文|更多)|原文(?:链接|地址))"
                 r"[】\])）]?\s*[>》»→]*(?:\s*[:：]\s*(?:https?://\S*)?)?")
MAX_LINK = 2048   # a longer address closing a paragraph is left: the search stays short
_TAIL_JUNK = re.compile(r"\s*(?:\b(?:continue reading|read more)\W*|\[(?:…|\.\.\.)\])\s*$|"
                        r"(?<![^\s。！？!?.…”」』）)])" + _READ_MORE_ZH + r"\s*$", re.I)
# A Chinese outlet's "follow our account" footer, the same on every entry: "#欢迎关注爱范儿
# 官方微信公众号：...（微信号：ifanr），更多精彩内容...", "扫码关注...", "长按识别二维码，关注我们". It
# is no news, and it names WeChat, which the classifier reads as Tencent. From its opening
# to the end of its line, at a line's or sentence's start, after a space or a "#", and
# only when it names an account to follow after its opening: "扫码支付用户突破10亿" and
# "请关注后续报道" are the story's. (The spaces before it are dropped by drop_follow_us: a
# leading [ \t]* here rescanned a run of spaces from each of its positions.)
_FOLLOW_OPENERS = ("关注", "扫码", "扫描", "长按", "微信号")   # the quick test
_FOLLOW_ZH = re.compile(
    r"(?:#[ \t]*|(?<![^\s。！？!?…”」』）)]))(?P<opener>欢迎关注|敬请关注|请关注|关注我们|点击关注|"
    r"扫码|扫描(?:下方)?二维码|长按(?:识别)?(?:二维码|图中)|微信号[:：])[^\n]{0,120}$", re.M)
_FOLLOW_WHAT = re.compile(r"公众号|微信号|视频号|服务号|订阅号|关注")
# A newsletter describing itself ("This is Hot Pod, The Verge's newsletter about ...",
# "... arrives in our subscribers' inboxes at 8AM ET"): the same line on every issue.
_PROMO = re.compile(
    r"^this is (?:the )?[^,.]{1,40}, [^.]{0,40}\bnewsletter\b|^this is a developing story|"
    r"\bin this week[’']s [^.]{0,40}\bnewsletter\b|isn[’']t just a newsletter|"
    r"\bsubscribe to (?:the|our) [^.]{0,40}\bnewsletter\b|^follow @\w|"
    r"\b(?:arrives? in|delivered [^.]{0,30}(?:to|in)) (?:our|your) [^.]{0,30}\binbox|"
    r"^opt in (?:for|to) |^for more (?:on|about) [^.]{0,60}, follow |"
    r"^this (?:story|article|piece|post) (?:originally |first )?appeared (?:first )?in |"
    r"^to (?:get|receive) [^.]{0,60}\binbox\b|\bsign up here\b|"
    r"^(?:each|every) (?:week|day|morning|month),? (?:i|we) round up\b", re.I)
_PROMO_WORDS = ("newsletter", "inbox", "follow", "developing story", "opt in", "appeared",
                "sign up", "round up")
# A writer introducing themself at the top of a column ("I’m Jane Doe, Chief Content
# Officer at Example Media."): the same line on every issue, and no news.
_SELF_INTRO = re.compile(r"^I[’']m (?:[A-Z][\w.’'-]* ){1,3}?[A-Z][\w’'-]*, "
                         r"[^.]{0,80}?\b(?:at|of|for) [A-Z]")
# A section label before the first sentence: "The Batch AI News and Insights: ..."
# (three or more capitalised words ending in a section word; "Good news:" is a phrase).
_SECTION_LABEL = re.compile(
    r"^(?:(?:[A-Z][\w.’'-]*|and|of|the|&|in|on) ){2,7}"
    r"(?:News|Insights|Newsletter|Digest|Roundup|Briefing|Weekly|Daily|Updates?|Recap)\s*:\s+(?=\S)")
_DATELINE = re.compile(r"^[A-Z][A-Z .,'’/-]{2,40}(?:\([A-Za-z ]+\))?\s+[-–—]\s+(?=\S)")
# A Chinese outlet's dateline: "36氪获悉，" / "记者获悉：" ("36Kr has learned"), the
# outlet's name before the news; "记者从阿里巴巴获悉" names a source ("from Alibaba") and stays.
_DATELINE_ZH = re.compile(r"^据?[^\s，,。：:；从]{1,10}?获悉[，,：:]\s*(?=\S)")

# A Chinese long read's byline run before its first sentence (36Kr: "文｜张子怡 编辑｜袁斯来 ",
# "作者 | A B 编辑 | C ", "来源：电影剧照 ", "图源/企业 本文约2800字，建议阅读7分钟 ", a photo
# caption ending "（图源/企业）" or "（摄影/...）"): names are 2-4 characters each, a credit one word.
_ZH_ROLE = r"(?:文|作者|编辑|责编|责任编辑|撰文|采访|整理|记者|策划|出品|设计|视觉|排版|校对|编译|翻译|摄影)"
_ZH_NAME = r"[\u4e00-\u9fff·]{2,4}"
# "（来源：...）" also closes a lead citing its source ("星河集团发布新一代大模型（来源：公司公告）"):
# a caption only after words naming a picture, or alone.
_ZH_PICTURE = r"(?:图|照|图片|截图|画面|海报)"
_BYLINE_ZH = re.compile(
    r"^(?:(?:" + _ZH_ROLE + r"\s*[|｜丨:：]\s*" + _ZH_NAME
    + r"(?:[ 、](?!" + _ZH_ROLE + r"\s*[|｜丨:：])" + _ZH_NAME + r"(?=\s))*"
    r"|(?:封面|题图|图片)?来源\s*[|｜丨:：]\s*[^\s|｜丨]{1,20}|(?:图源|题图)\s*[|｜丨/:：]\s*[^\s|｜丨]{1,20}"
    r"|本文约\s*\d+\s*字[，,]?\s*(?:建议|预计)?阅读(?:时[间长])?约?\s*\d+\s*分钟"
    r"|[^\s。！？]{0,60}[（(](?:图源|图片来源|摄影)\s*[/:：|｜丨]\s*[^）)\s]{1,20}[）)]"
    r"|(?:[^\s。！？，,]{0,20}" + _ZH_PICTURE + r")?[（(]来源\s*[/:：|｜丨]\s*[^）)\s]{1,20}[）)]"
    r")\s+)+")


def opening_label(s: str) -> str:
    """A paragraph's first sentence without its byline run, dateline or section label."""
    if not s.isascii():
        s = _BYLINE_ZH.sub("", s)
    return _SECTION_LABEL.sub("", _DATELINE_ZH.sub("", _DATELINE.sub("", s)))


def strip_tail(text: str) -> str:
    """Drop a follow-us footer and "Continue reading…", "[…]" and "点击查看原文>" endings
    (searched in the tail only: paragraphs can be long and an end-anchored search would
    rescan them; from a position, so a look back sees what precedes it)."""
    text = drop_follow_us(text, max(0, len(text) - 200))
    m = _TAIL_JUNK.search(text, _tail_start(text))
    return text[:m.start()] if m else text


def _tail_start(text: str) -> int:
    """Where strip_tail looks: the last 40 characters, or from before a link in the last
    MAX_LINK ("原文链接：" and a WeChat article's address are 54), the junk ending with it."""
    tail = max(0, len(text) - 40)
    link = text.find("http", max(0, len(text) - MAX_LINK), tail)
    return tail if link < 0 else max(0, link - 40)


def drop_follow_us(text: str, start: int = 0) -> str:
    """`text` without the Chinese follow-us footers (_FOLLOW_ZH) at or after `start`."""
    kept, at = [], 0
    for m in _footers(text, start):
        kept.append(text[at:m.start()].rstrip(" \t"))
        at = m.end()
    return "".join(kept) + text[at:] if kept else text


def follow_us_footers(text: str) -> list[str]:
    """The Chinese follow-us footers in `text` (the classifier names no company of theirs)."""
    return [m.group() for m in _footers(text, 0)]


def _footers(text: str, start: int) -> list[re.Match]:
    if not any(w in text[start:] for w in _FOLLOW_OPENERS):
        return []
    return [m for m in _FOLLOW_ZH.finditer(text, start) if _names_an_account(m)]


def _names_an_account(m: re.Match) -> bool:
    """The opening's own words prove nothing ("扫码" opens news of QR-code payments too);
    "微信号：" is an account itself."""
    at = m.start("opener") if m.group("opener").startswith("微信号") else m.end("opener")
    return _FOLLOW_WHAT.search(m.string, at, m.end()) is not None


def usable(s: str, *, last: bool) -> bool:
    cjk = not s.isascii() and bool(CJK.search(s))  # CJK: short sentences, no spaces
    if _BOILERPLATE.match(s) or len(s) < (6 if cjk else 20) or (len(s.split()) < 4 and not cjk):
        return False
    if _is_promo(s) or _SELF_INTRO.match(s):
        return False
    return not (last and s.endswith(("...", "…")))  # a teaser cut mid-sentence


def _is_promo(s: str) -> bool:
    lower = s.lower()   # the substring test first: most sentences mention no newsletter
    return any(w in lower for w in _PROMO_WORDS) and bool(_PROMO.search(s))
