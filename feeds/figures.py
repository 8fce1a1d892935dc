"""Figures: the numbers a text states, read to values in whichever form news writes them.

"2 billion", "2bn", "$2B", "two billion", "20亿" and "二十亿" are one value; "85%",
"85 percent" and "百分之八十五" another; "三成" is 30%, "half" and "一半" are a half or
50%, "doubled" and "翻倍" twice or 100% more. The LLM grounding check
(feeds/llm_validate.py) asks of every figure in a brief that one of its values is in the
story, so a figure must be read as what it says and nothing less: "20亿" says 2e9
(it gives the story "20" too, since "20" alone may be its bare number).

Not every number word is a figure. A lone "one" or 一 is mostly "a" (一些, 之一, 统一,
"one of the"), ordinals are not counts (第一, "first"), vague amounts say no value (数十亿,
上万, "hundreds of", "billion-dollar"), and a Chinese numeral inside a word (三星, 四川, 两岸,
十分) counts only when a measure word follows it (三家, 两年, 五倍). Such words say
nothing (`says` is empty) but still give their value to a story.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation, localcontext

from feeds.hanzi import simplified
from feeds.number_words import SCALES, SMALL, word_groups, words_value

__all__ = ["Figure", "NUMBER_WORDS", "PATTERN", "read_figures", "read_match", "read_spans"]


@dataclass(frozen=True)
class Figure:
    text: str              # as written, for a rejection's message
    says: frozenset        # a brief's figure is grounded when one of these is the story's
    gives: frozenset       # what it grounds when the story says it (says, and its bare number)


# A multiple says both ways of stating it: "doubled" is x2 or up 100%, "half" 0.5 or 50%.
_MULTIPLES = {"half": (Decimal("0.5"), 50), "halved": (Decimal("0.5"), 50),
              "halving": (Decimal("0.5"), 50), "twice": (2, 100), "doubled": (2, 100),
              "doubling": (2, 100), "doubles": (2, 100), "tripled": (3, 200),
              "tripling": (3, 200), "triples": (3, 200), "quadrupled": (4, 300)}
# Capitalised at a sentence's start these are figures, not names (feeds/llm_validate.py).
NUMBER_WORDS = frozenset([*SMALL, *SCALES, *_MULTIPLES])
# Abbreviated scales after digits: unambiguous ones, and single letters, which may be a
# unit instead ("5m" is also five metres), so they say either reading.
_ABBREVIATED = {"bn": 10**9, "bln": 10**9, "mn": 10**6, "mln": 10**6, "tn": 10**12,
                "trn": 10**12}
_LETTERS = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_SMALL = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG = {"万": 10**4, "亿": 10**8}
_ZH_SCALES = _ZH_SMALL | _ZH_BIG
_ZH_SPECIAL = {"一半": (Decimal("0.5"), 50), "减半": (Decimal("0.5"), 50),
               "翻倍": (2, 100), "翻番": (2, 100), "翻一番": (2, 100)}
_ZH = "".join(_ZH_DIGITS) + "".join(_ZH_SCALES)
# Set phrases whose numerals count nothing, though a measure word follows one: a brief
# may well write "走进千家万户" ("into every home") of a story that has no 1,000 in it.
_ZH_IDIOMS = ("千家万户", "百家争鸣", "三番五次", "三天两头", "百年一遇", "十年磨一剑",
              "两条腿走路", "一石二鸟", "三年五载")
# What after a lone Chinese numeral makes it a count (三家, 两年, 五倍, 三成); not the
# words these begin (零成本 "zero cost", 零部件 "parts", 周二部分 "on Tuesday some",
# 两位数 "double-digit").
_CHENG = "成(?![本为功立员果熟交长绩效就都型品分年])"   # 三成: three tenths, 30%
_ZH_MEASURE = re.compile(
    "个|家|款|位(?!数)|名|人|项|次(?!元)|年|月|日|天|周|倍|元|美元|台|部(?![分件])|辆|张|条|种|类|"
    f"所|座|件|篇|轮|期|季度|层|块|颗|枚|架|艘|小时|分钟|秒|%|％|{_CHENG}")
# Before a Chinese numeral: an ordinal or weekday (第三, 周三), or a vague amount (数十亿,
# 几百, 上万, 成千).
_ZH_ORDINAL, _ZH_VAGUE = "第周", "数几上成好"
_ZH_LONGEST = 40   # characters in a numeral read at most (9999,9999,9999,9999 takes 31)

_WORD_ALT = "|".join(sorted(NUMBER_WORDS - set(_MULTIPLES), key=len, reverse=True))
_SCALE_ALT = "hundred|thousand|million|billion|trillion|dozen"
# "1,234,567" is one number, also before a clause's comma ("$1,500, the firm said"); a
# grouping starts a run of digits and commas ("1234,567" is two numbers), or each of its
# groups would scan the rest of a long run ("1,234,234,...": quadratic).
_DIGITS = r"(?<!\d)(?<!\d,)\d{1,3}(?:,\d{3})+(?!\d|,\d)(?:\.\d+)?|\d+(?:\.\d+)*"
PATTERN = re.compile(
    rf"(?P<pct>百分之(?:\d+(?:\.\d+)?|[{_ZH}]+))"
    rf"|(?P<zhword>{'|'.join(_ZH_SPECIAL)})"
    rf"|(?P<num>{_DIGITS})(?P<scale>(?:[ -]?(?:{_SCALE_ALT})s?(?![a-z]))+"
    rf"|\s?(?:{'|'.join(_ABBREVIATED)})(?![a-z])|[kmbt](?![a-z])|\s?[{''.join(_ZH_SCALES)}]+"
    rf"|{_CHENG})?"
    rf"|(?<![a-z])(?P<words>(?:(?:an?|half[ -]an?)[ -]+(?=(?:{_SCALE_ALT})(?![a-z])))?"
    rf"(?:{_WORD_ALT})(?:(?:[ -]+and)?[ -]+(?:{_WORD_ALT}|a[ -]half))*)(?![a-z])"
    rf"|(?<![a-z])(?P<multiple>{'|'.join(_MULTIPLES)})(?![a-z])"
    rf"|(?P<idiom>{'|'.join(_ZH_IDIOMS)})"
    rf"|(?P<zh>[{_ZH}]+(?:点[{''.join(_ZH_DIGITS)}]+[万亿]*)?)",
    re.I)


# Values are exact to 28 digits, as by default, but with no bound on the exponent: untrusted
# text may stack scales ("1亿亿亿...", "a trillion trillion ...") past Decimal's 10^999,999,
# which raised decimal.Overflow.
_CONTEXT = Context(prec=28, Emax=MAX_EMAX, Emin=MIN_EMIN)


def read_figures(text: str) -> list[Figure]:
    """Every figure in text, in order (see the module's note for what counts).
    Traditional characters are read as simplified ones (兩億 as 两亿, 數十億 as 数十亿),
    each figure's text as written."""
    return [f for _, _, figures in read_spans(text) for f in figures]


def read_spans(text: str) -> list[tuple[int, int, list[Figure]]]:
    """read_figures' figures by where they are: (start, end, the figures read there),
    for what a figure's neighbours say of it (feeds/money.py: its currency)."""
    folded = simplified(text)   # the same length
    same = folded == text
    out = []
    with localcontext(_CONTEXT):
        for m in PATTERN.finditer(folded):
            figures = read_match(m, folded)
            out.append((m.start(), m.end(), figures if same
                        else _as_written(figures, text, folded, m.start())))
    return out


def read_match(m: re.Match, text: str) -> list[Figure]:
    """The figures one match of PATTERN in `text` reads (read_figures' step)."""
    return _READERS[m.lastgroup if m.lastgroup != "scale" else "num"](m, text)


def _as_written(figures: list[Figure], text: str, folded: str, at: int) -> list[Figure]:
    """Figures read from `folded` with their text as `text` writes it (in order from `at`)."""
    out = []
    for f in figures:
        at = folded.find(f.text, at)
        out.append(replace(f, text=text[at:at + len(f.text)]))
        at += len(f.text)
    return out


def _figure(text: str, says, gives=()) -> Figure:
    says = frozenset(says)
    return Figure(text, says, says | frozenset(gives))


def _multiple(m: re.Match, text: str) -> list[Figure]:
    return [_figure(m.group(), map(Decimal, _MULTIPLES[m.group().lower()]))]


def _zh_word(m: re.Match, text: str) -> list[Figure]:
    return [_figure(m.group(), map(Decimal, _ZH_SPECIAL[m.group()]))]


def _percent(m: re.Match, text: str) -> list[Figure]:
    """百分之八十五 is 85%, as "85%" is (the sign is not part of a figure's value)."""
    number = m.group()[3:]
    value = _decimal(number) if number[0].isdigit() else _zh_value(number)
    return [_figure(m.group(), [] if value is None else [value])]


def _number(m: re.Match, text: str) -> list[Figure]:
    """Digits, with their scale: "2 billion", "2bn" and "20亿" say 2e9 and give the story
    "2" and "20" too. A bare letter ("7B", "5m") may be a unit, so it says either
    reading, unless a currency sign shows it is money ("$5M")."""
    digits, scale = m.group("num"), (m.group("scale") or "").strip(" -").lower()
    value = _decimal(digits)
    if value is None:   # a version ("3.5.1"): the same string, or nothing
        return [_figure(m.group(), [digits])]
    if scale == "成":   # 3成: three tenths, 30%
        return [_figure(m.group(), [value * 10], [value])]
    scaled = value * _scale(scale) if scale else value
    money = m.start() > 0 and text[m.start() - 1] in "$€£¥"
    says = [value, scaled] if scale in _LETTERS and not money else [scaled]
    return [_figure(m.group(), says, [value])]


def _scale(scale: str) -> Decimal | int:
    """What a scale multiplies by: "billion", "thousand million", "bn", "b", "万亿"."""
    if scale[0] in _ZH_SCALES:
        return _product(_ZH_SCALES[ch] for ch in scale.replace(" ", ""))
    if scale in _ABBREVIATED or scale in _LETTERS:
        return _ABBREVIATED.get(scale) or _LETTERS[scale]
    return _product(SCALES[w.rstrip("s")] for w in re.split(r"[ -]+", scale))


def _product(factors) -> Decimal:
    """The factors' product (in read_figures' context: 28 digits, any exponent; an exact
    int of a thousand scales took quadratic time)."""
    out = Decimal(1)
    for f in factors:
        out *= f
    return out


def _decimal(digits: str) -> Decimal | None:
    """"1,500" is 1500 and "0528" 528; "3.5.1" is a version, no value."""
    if digits.count(".") > 1:
        return None
    try:
        return Decimal(digits.replace(",", ""))
    except InvalidOperation:
        return None


def _words(m: re.Match, text: str) -> list[Figure]:
    """Number words, one figure per number: "two and three" are two, "two hundred and
    five" one. A lone "one" or "zero" says nothing ("one of the", "zero-shot"), nor does
    a scale without a number ("billion-dollar")."""
    out = []
    for start, end, words in word_groups(m):
        bare, value = words_value(words)
        weak = words in (["one"], ["zero"]) or bare is None
        out.append(_figure(text[start:end], [] if weak else [value],
                           [value] + ([] if bare is None else [bare])))
    return out


def _zh(m: re.Match, text: str) -> list[Figure]:
    """Chinese numerals: 二十亿, 三点五万, 两千五, 三成 (30%), 二〇二五年."""
    run, end = m.group(), m.end()
    if len(run) > 1 and all(ch in _ZH_DIGITS for ch in run):
        return [_zh_digits(run, text[end:end + 1] == "年")]
    value = _zh_value(run)
    if value is None:   # not a number after all (万一, 亿万)
        return [_figure(run, [])]
    measure = _ZH_MEASURE.match(text, end)
    says = _zh_says(run, text[max(0, m.start() - 2):m.start()], measure is not None)
    unit = measure.group() if measure else ""
    values = [value * 10] if unit == "成" else [value]   # three tenths, 30%
    written = run + unit if len(run) == 1 or unit == "成" else run   # "三家" says more than "三"
    return [_figure(written, values if says else [], [value, *values])]


def _zh_says(run: str, before: str, measured: bool) -> bool:
    """Whether a Chinese numeral states a figure. A lone one only with a measure word
    after it (三家, not 三星 or 四川), and 一 never (一些, 之一, 一个: "a"); an ordinal or
    a weekday never (第三, 周三, 星期三), nor a vague amount (数十亿, 几百, 上万)."""
    last = before[-1:]
    if last and (last in _ZH_ORDINAL or before == "星期"):
        return False
    if last and last in _ZH_VAGUE and run[0] in _ZH_SCALES:
        return False
    return run != "一" and (len(run) > 1 or measured)


def _zh_digits(run: str, year: bool) -> Figure:
    """Numerals without units: a year or code read digit by digit (二〇二五年); else a
    range (三四家, "three or four"), which gives each and says nothing."""
    digits = [_ZH_DIGITS[ch] for ch in run]
    if year or 0 in digits:
        return _figure(run, [Decimal("".join(map(str, digits)))])
    return _figure(run, [], map(Decimal, digits))


def _zh_value(run: str) -> Decimal | None:
    """二十亿 is 2e9; 三点五万 35000 (点 is the decimal point)."""
    if run[0] in "零〇" and run[1:2] not in ("", "点"):   # 零一万物: a name, not 10,000
        return None
    if len(run) > _ZH_LONGEST:   # no number; and each 万 or 亿 would be a level of recursion
        return None
    whole, point, rest = run.partition("点")
    value = _zh_int(whole)
    if not point or value is None:
        return None if value is None else Decimal(value)
    fraction = rest.rstrip("万亿")
    if not fraction or any(ch not in _ZH_DIGITS for ch in fraction):
        return None
    value = Decimal(f"{value}.{''.join(str(_ZH_DIGITS[ch]) for ch in fraction)}")
    return value * _product(_ZH_BIG[ch] for ch in rest[len(fraction):])


def _zh_int(run: str) -> int | None:
    """A whole Chinese number, split at its largest unit: 三亿五千万 is 3*10^8 + 5*10^7;
    一万五 is 15000 (a lone digit after a unit is the next unit down)."""
    for big in ("亿", "万"):
        left, found, right = run.rpartition(big)
        if not found:
            continue
        head = _zh_int(left) if left else 1
        if head is None or (not left and right):   # 万一, 亿万: no number of their own
            return None
        if len(right) == 1 and right in _ZH_DIGITS and right not in "零〇":
            return head * _ZH_BIG[big] + _ZH_DIGITS[right] * _ZH_BIG[big] // 10
        tail = _zh_int(right) if right else 0
        return None if tail is None or tail >= _ZH_BIG[big] else head * _ZH_BIG[big] + tail
    return _zh_small(run)


def _zh_small(run: str) -> int | None:
    """Below 10,000: 三千二百零五, 十五, 二十; 三百二 is 320. None for 十三五 (two
    digits in a row) or 十百 (units not falling)."""
    total, digit, unit, after_unit, colloquial = 0, None, 10**4, False, False
    for ch in run:
        if ch in _ZH_DIGITS:
            if digit:   # a second digit in a row; 零 is a placeholder, not a digit
                return None
            digit, colloquial, after_unit = _ZH_DIGITS[ch], after_unit, False
        elif _ZH_SMALL.get(ch, unit) < unit:
            unit = _ZH_SMALL[ch]
            total, digit, after_unit = total + (1 if digit is None else digit) * unit, None, True
        else:
            return None
    return total + (digit or 0) * (unit // 10 if colloquial else 1)


def _idiom(m: re.Match, text: str) -> list[Figure]:
    return []


_READERS = {"num": _number, "words": _words, "multiple": _multiple, "pct": _percent,
            "zhword": _zh_word, "idiom": _idiom, "zh": _zh}
