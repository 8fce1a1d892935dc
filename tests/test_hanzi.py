"""Chinese in both scripts (feeds/hanzi.py): the spellings search looks for a word in."""
from __future__ import annotations

import pytest

from feeds.hanzi import MAX_SPELLINGS, simplified, variants


@pytest.mark.parametrize("typed, written", [
    ("台积电", "台積電"), ("臺積電", "台積電"), ("台积电", "臺積電"), ("发布", "發布"),
    ("发布", "發佈"), ("阿里云", "阿里雲"), ("降價", "降价"),
])
def test_a_word_is_looked_for_as_each_script_writes_it(typed, written):
    assert written in variants(typed)


@pytest.mark.parametrize("typed", ["台积电", "美国收紧对华芯片出口管制", "国际商业机器公司发布会议纪要"])
def test_a_words_spellings_stay_few(typed):
    # Each spelling is one more substring test of every story in the scanned window.
    found = variants(typed)
    assert len(found) <= MAX_SPELLINGS and typed in found
    assert {simplified(f) for f in found} == {simplified(typed)}
