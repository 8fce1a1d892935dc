"""Reading figures (feeds/figures.py) from untrusted text: a story's feed text, a title of
any length, an LLM's answer. Each figure's value is read as written, in any script, and
adversarial text (a megabyte of one repeated pattern) is read in time linear in its size."""
from __future__ import annotations

from decimal import Decimal

import pytest

from feeds.figures import read_figures

MB = 1_000_000


def _said(text: str) -> list[tuple[str, set[Decimal]]]:
    return [(f.text, set(f.says)) for f in read_figures(text)]


# ---- grouped digits --------------------------------------------------------------------
@pytest.mark.parametrize("text, said", [
    # a comma after a number ends a clause; it was read as "1" and "500"
    ("It raised $1,500, the firm said.", [("1,500", {Decimal(1500)})]),
    ("Users: 1,234,567, up from 900,000.", [("1,234,567", {Decimal(1234567)}),
                                            ("900,000", {Decimal(900000)})]),
    # a malformed grouping is still several numbers
    ("1,234,56", [("1", {Decimal(1)}), ("234", {Decimal(234)}), ("56", {Decimal(56)})]),
    ("1,2345", [("1", {Decimal(1)}), ("2345", {Decimal(2345)})]),
])
def test_grouped_digits_are_one_number(text, said):
    assert _said(text) == said


@pytest.mark.parametrize("text, figures, last", [
    # ends in a group: one number of 250,000 groups
    ("1" + ",234" * (MB // 4) + ",", 1, None),
    # ends off the grouping: each group its own number (each was a scan to the end)
    ("1" + ",234" * (MB // 4) + ",5", MB // 4 + 2, Decimal(5)),
])
def test_a_megabyte_of_comma_groups_is_read(text, figures, last):
    read = read_figures(text)
    assert len(read) == figures
    if last is not None:
        assert read[-1].says == {last} and read[1].says == {Decimal(234)}


# ---- scales ----------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [
    ("1" + "亿" * (MB // 8), Decimal(f"1E{MB // 8 * 8}")),            # each an int product
    ("1" + " trillion" * (MB // 9), Decimal(f"1E{MB // 9 * 12}")),    # past Decimal's Emax
    ("a" + " trillion" * (MB // 9), Decimal(f"1E{MB // 9 * 12}")),
    ("1" + "0" * MB + " billion", Decimal(f"1E{MB + 9}")),
])
def test_a_megabyte_of_scale_words_is_read(text, value):
    # "1亿亿…" multiplied a 10^800,000 int one 亿 at a time (quadratic), and a scale past
    # 10^999,999 raised decimal.Overflow out of the grounding check.
    (figure,) = read_figures(text)
    assert value in figure.says


# ---- traditional characters ------------------------------------------------------------
@pytest.mark.parametrize("text, said", [
    ("營收達五億元", [("五億", {Decimal(5 * 10**8)})]),
    ("新增兩家夥伴", [("兩家", {Decimal(2)})]),
    ("用戶達三萬五千人", [("三萬五千", {Decimal(35000)})]),
    ("營收達1.5萬億元", [("1.5萬億", {Decimal("1.5E12")})]),
    ("數十億用戶", [("十億", set())]),            # vague, as 数十亿
    ("第三個版本，週三發布", [("三個", set()), ("三", set())]),   # an ordinal, a weekday
])
def test_traditional_numerals_are_read_as_simplified_ones(text, said):
    # 萬, 億 and 兩 were no numerals: "五億" said nothing, so a brief could state any sum
    # in traditional characters; the figure keeps the characters it was written in.
    assert _said(text) == said


@pytest.mark.parametrize("text, figures, says", [
    ("兩家" * (MB // 10), MB // 10, {Decimal(2)}),
    ("one thousand" + " million" * (4 * MB // 8), 1, {Decimal(f"1E{4 * MB // 8 * 6 + 3}")}),
])
def test_long_runs_of_numerals_are_read(text, figures, says):
    # each word of a worded number copied the words before it (quadratic); a traditional
    # figure's text is found again as written
    read = read_figures(text)
    assert len(read) == figures and read[-1].says == says
    assert read[-1].text == text[-len(read[-1].text):]
