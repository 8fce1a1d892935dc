"""The currency an amount is stated in, for the LLM grounding check (feeds/llm_validate.py).

Figures are compared by value (feeds/figures.py), so "66亿元" (yuan) was grounded by a
story's "66亿美元" (US dollars, seven times as much): a model dropping 美 invented an
amount with the story's digits. Here each figure gets the currencies its neighbours name:
a sign, code or name before it ("$", "US$", "HK$", "€", "RMB ", "新台币"), a word after
it ("美元", "元", " euros", " Hong Kong dollars"). "¥" is yuan or yen; "$" alone is US
dollars; "元" after a currency named before ("新台币50亿元", "港币5亿元": Taiwan's and Hong
Kong's way) is that currency's unit, not yuan. Traditional characters read as simplified.
"""
from __future__ import annotations

import re
from decimal import Decimal

from feeds.figures import read_spans
from feeds.hanzi import simplified

# Before an amount, ending where it starts: a sign, a code, 人民币.
_BEFORE = re.compile(r"(?:(?P<sign>(?:US|HK|NT|[ACS])?\$|[€£¥￥₩₹])|(?P<code>(?<![A-Za-z])"
                     r"(?:RMB|CNY|USD|EUR|GBP|JPY|HKD|KRW|INR))|(?P<zh>人民币|美元|美金|新台币|台币|港币|日币))\s?$")
# After it: a currency's word (the longer names first: 美元 before 元). Not "pounds" nor
# "won" alone: "500 pounds of cubesats" is a weight, "the two won" a verb.
_AFTER = re.compile(r"\s?(?P<word>美元|美金|港元|港币|欧元|英镑|日元|韩元|新台币|人民币|元|"
                    r"(?:US |U\.S\. |Hong Kong |Singapore |Australian |Canadian |Taiwan )?"
                    r"dollars?|euros?|British pounds?|pounds? sterling|yuan|renminbi|yen|rupees?|"
                    r"RMB|CNY|USD|EUR|GBP|JPY|HKD)(?![A-Za-z])", re.I)
_CODES = {
    "$": "USD", "us$": "USD", "usd": "USD", "美元": "USD", "美金": "USD", "dollar": "USD",
    "us dollar": "USD", "u.s. dollar": "USD", "hk$": "HKD", "hkd": "HKD", "港元": "HKD",
    "港币": "HKD", "日币": "JPY", "hong kong dollar": "HKD", "s$": "SGD", "singapore dollar": "SGD",
    "a$": "AUD", "australian dollar": "AUD", "c$": "CAD", "canadian dollar": "CAD",
    "nt$": "TWD", "新台币": "TWD", "台币": "TWD", "taiwan dollar": "TWD", "€": "EUR", "eur": "EUR",
    "欧元": "EUR", "euro": "EUR", "£": "GBP", "gbp": "GBP", "英镑": "GBP", "british pound": "GBP",
    "pound sterling": "GBP", "pounds sterling": "GBP",
    "rmb": "CNY", "cny": "CNY", "人民币": "CNY", "元": "CNY", "yuan": "CNY",
    "renminbi": "CNY", "jpy": "JPY", "日元": "JPY", "yen": "JPY", "₩": "KRW", "krw": "KRW",
    "韩元": "KRW", "₹": "INR", "inr": "INR", "rupee": "INR",
}
_EITHER = {"¥": frozenset({"CNY", "JPY"}), "￥": frozenset({"CNY", "JPY"})}


def amounts(text: str) -> list[tuple[frozenset[Decimal], frozenset[Decimal], frozenset[str]]]:
    """(says, gives, currencies) of every figure in text (feeds/figures.py's values),
    currencies empty for a figure no currency is named beside."""
    out = []
    # Once, not per figure: a story of thousands of amounts made simplified again for
    # each held the event loop for seconds. The same length: 新臺幣 as 新台币, 港幣 as 港币.
    read = simplified(text)
    for start, end, figures in read_spans(text):
        named = _currency(read, start, end)
        out += [(f.says, f.gives, named) for f in figures]
    return out


def _currency(text: str, start: int, end: int) -> frozenset[str]:
    """The currencies named beside text[start:end] (text already simplified)."""
    before = _BEFORE.search(text, max(0, start - 4), start)
    after = _AFTER.match(text, end)
    if before and before.lastgroup == "zh" and after and after.group("word") == "元":
        after = None     # 新台币50亿元: 元 is the new Taiwan dollar's unit here, not yuan
    said = [m.group(m.lastgroup) for m in (before, after) if m]
    return frozenset().union(*(_named(s) for s in said))


def _named(said: str) -> frozenset[str]:
    key = said.lower().rstrip("s") if said[-1:].isascii() else said
    if key in _EITHER:
        return _EITHER[key]
    return frozenset([_CODES[key]]) if key in _CODES else frozenset()
