"""Sentence splitting and structure reading: what condense builds bullets from."""
from __future__ import annotations

import pytest

from feeds.sentences import blocks_from_html, blocks_from_text, is_why_heading, split_sentences


@pytest.mark.parametrize("text, expected", [
    ("Alibaba cut prices. Tencent followed.", ["Alibaba cut prices.", "Tencent followed."]),
    ("The U.S. Commerce Department tightened rules. Nvidia responded.",
     ["The U.S. Commerce Department tightened rules.", "Nvidia responded."]),
    ("Sales rose in the U.S. The firm said so.", ["Sales rose in the U.S.", "The firm said so."]),
    ("The U.K. regulator and the U.S. agency agreed on a plan.",
     ["The U.K. regulator and the U.S. agency agreed on a plan."]),
    ("Baidu Inc. said on Monday it would cut prices. Shares rose.",
     ["Baidu Inc. said on Monday it would cut prices.", "Shares rose."]),
    ("He joined Apple Inc. The move surprised analysts.",
     ["He joined Apple Inc.", "The move surprised analysts."]),
    ("Dr. Li and Mr. Ma met Alibaba Group Holding Ltd. executives. Talks went well.",
     ["Dr. Li and Mr. Ma met Alibaba Group Holding Ltd. executives.", "Talks went well."]),
    ("Chipmakers, e.g. TSMC, i.e. the biggest, gained. Others fell.",
     ["Chipmakers, e.g. TSMC, i.e. the biggest, gained.", "Others fell."]),
    ("OpenAI vs. Google is the No. 1 rivalry. It is heating up.",
     ["OpenAI vs. Google is the No. 1 rivalry.", "It is heating up."]),
    ("Moonshot raised $1.5bn at a 3.5% discount. It sold 2.5 million shares.",
     ["Moonshot raised $1.5bn at a 3.5% discount.", "It sold 2.5 million shares."]),
    ("Qwen-2.5 beat GPT-4.5 on two tests. Version 3.0 ships soon.",
     ["Qwen-2.5 beat GPT-4.5 on two tests.", "Version 3.0 ships soon."]),
    ('The CEO said "prices will fall." Analysts disagreed.',
     ['The CEO said "prices will fall."', "Analysts disagreed."]),
    ("“We are done,” she said. “It’s over.” Then she left.",
     ["“We are done,” she said.", "“It’s over.”", "Then she left."]),
    ("The deal was... complicated. Regulators objected.",
     ["The deal was... complicated.", "Regulators objected."]),
    ("Is this the end? Maybe not! Time will tell.", ["Is this the end?", "Maybe not!", "Time will tell."]),
    ("阿里巴巴发布了新模型。腾讯也跟进了！百度呢？", ["阿里巴巴发布了新模型。", "腾讯也跟进了！", "百度呢？"]),
    ("John F. Kennedy spoke at 3 p.m. on Tuesday.", ["John F. Kennedy spoke at 3 p.m. on Tuesday."]),
    ("Zephyra raised a $40m Series A. The company plans to hire.",
     ["Zephyra raised a $40m Series A.", "The company plans to hire."]),
    ("The clip was shared on X. It drew 2m views. Dr. J. A. Smith agreed.",
     ["The clip was shared on X.", "It drew 2m views.", "Dr. J. A. Smith agreed."]),
    ("First paragraph\nSecond one. Third.", ["First paragraph", "Second one.", "Third."]),
    ("  spaced   out\ttext.  ", ["spaced out text."]),
    ("", []),
])
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_split_keeps_every_word():
    text = "The U.S. said no. 3.5% of $1.5bn is a lot... Really? Yes! 好。Done."
    assert " ".join(split_sentences(text)).split() == text.replace("好。", "好。 ").split()


@pytest.mark.parametrize("text", ["Why it matters", "Why It Matters:", "why this matters",
                                  "The Big Picture", "What it means:", "WHY IT MATTERS"])
def test_why_headings(text):
    assert is_why_heading(text)


@pytest.mark.parametrize("text", ["Why it matters to Alibaba's rivals is unclear.", "Details", ""])
def test_not_why_headings(text):
    assert not is_why_heading(text)


def test_text_blocks_read_items_headings_and_lead_ins():
    text = ("Alibaba changed course.\n- First point here now.\n* Second point here now.\n"
            "• Third point here now.\nWhy It Matters\nIt matters a lot.\n"
            "Why it matters: inline reason here.")
    kinds = [(b.kind, b.text, b.label) for b in blocks_from_text(text)]
    assert kinds == [
        ("p", "Alibaba changed course.", ""), ("li", "First point here now.", ""),
        ("li", "Second point here now.", ""), ("li", "Third point here now.", ""),
        ("h", "Why It Matters", ""), ("p", "It matters a lot.", ""),
        ("p", "inline reason here.", "Why it matters")]
    assert len({b.group for b in blocks_from_text(text) if b.kind == "li"}) == 1


def test_html_blocks_ignore_source_newlines_but_honour_br():
    html = "<p>One <a href='x'>linked\nword</a> here.<br>Next line.</p><script>bad()</script>"
    assert [b.text for b in blocks_from_html(html)] == ["One linked word here.", "Next line."]


def test_html_blocks_bold_lead_in_and_link_share():
    html = ("<p><strong>Why it matters:</strong> Prices fall.</p>"
            "<ul><li><a href='/a'>Some linked story title</a></li><li>Plain item text here</li></ul>"
            "<figure><figcaption>Photo credit</figcaption></figure>"
            "<blockquote class='twitter-tweet'>tweet text</blockquote>")
    blocks = blocks_from_html(html)
    assert (blocks[0].label, blocks[0].text) == ("Why it matters", "Prices fall.")
    assert [(b.kind, b.links) for b in blocks[1:]] == [("li", 1.0), ("li", 0.0)]


def test_html_garbage_does_not_raise():
    assert blocks_from_html("<!-- only a comment -->") == []


def test_html_blocks_drop_inline_scripts_and_keep_text_around_them():
    html = "<p>Alibaba <script>track()</script>cut prices <img src='x.png'>again.</p>"
    assert [b.text for b in blocks_from_html(html)] == ["Alibaba cut prices again."]
