"""Hypothesis strategies for hostile text: a grammar of what Discord and Slack act on
(mentions, masked links, line-start markup, style runs, entities) mixed with the
unicode a reader doesn't see or misreads (joiners, full-width forms, RTL overrides,
lookalike dots, combining marks, emoji), and a brief whose every field draws from it."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import strategies as st

from feeds.models import Brief

MENTIONS = ["@everyone", "@here", "@channel", "@EVERYONE", "<@123456789012345678>",
            "<@!1>", "<@&1>", "<#1>", "</ban:1>", "<t:1700000000:R>", "<id:customize>",
            "<a:w:1>", "<:p:1>", "<!channel>", "<!here>", "<!everyone>",
            "<!subteam^S1|devs>", "<@U123>", "<@U123|boss>", "&lt;!channel&gt;"]
LINKS = ["[bank.com](https://evil.example)", "[https://bank.com](https://evil.example/x)",
         "<https://evil.example|bank.com>", "<http://evil.example>", "[x](<https://evil.example>)",
         "[a](https://evil.example/(p))", "[[a](b)](https://evil.example)",
         "[bank.com](https://evil.example \"t\")", "bank.com", "https://bank.com/login",
         "www.bank.co.uk", "news.example", "https://evil.example/**x**`y`_z_",
         "https://paypal.com@evil.example/login", "https://p\u0430ypal.com/login",
         "https://paypal.com%2Eevil.example/x"]
MARKUP = ["# ", "## ", "### ", "-# ", "> ", ">>> ", "&gt; ", "```", "`", "**", "*", "_",
          "__", "~~", "~", "||", "- ", "* ", "\\", "&amp;", "&lt;", "&gt;", "&", "<", ">",
          "[", "]", "(", ")", "](", "|", "@", "!", "#", "^", ":", "/"]
UNICODE = ["\u200d", "\u200b", "\u2060", "\ufeff", "＠", "ｅveryone", "\u202e", "\u202d",
           "\u00a0", "\u3000", "\n", "\r\n", "\r", "\u2028", "\u0301", "😀", "👩\u200d💻",
           "．", "。", "｡", "․", "\ufe52", "  ", "\t", "\u034f", "\ufe0f", "\U000e0100",
           "\u3164", "❤\ufe0f"]
WORDS = ["everyone", "here", "channel", "paypal", "bank", "com", "Alibaba", "Qwen 3",
         "cuts prices", ".", " ", "news", "example"]
ATOMS = MENTIONS + LINKS + MARKUP + UNICODE + WORDS
# The line starts are what matter most: a break, some indent, a marker.
LINE_START = st.tuples(st.sampled_from(["\n", "\r\n", "\r", "\u2028", ""]),
                       st.sampled_from(["", " ", "  ", "\u00a0", "\t", "\u200b"]),
                       st.sampled_from(["# ", "## ", "-# ", "> ", ">>> ", "- ", "* ", "1. ",
                                        "2024. ", "+ ", "```"]),
                       ).map("".join)
# A web address as a reader takes it: lookalike dots (UTS #39's), full-width letters, a
# combining mark or one that draws nothing (a variation selector, CGJ, a Hangul filler),
# right after dots or a hyphen; an IP, with a scheme or without.
ADDRESS = st.one_of(
    st.tuples(st.sampled_from(["", "...", "..", " -", "_."]),
              st.sampled_from(["paypal", "ｐａｙｐａｌ", "pаypal", "news", "bank", "evil"]),
              st.sampled_from([".", "．", "。", "｡", "․", "\ufe52", "\u200d.", "\ua4f8",
                               "\u0701", "\u0702", "\ua60e", "\U00010a50", "\U0001d16d",
                               "\u0660", "\u034f."]),
              st.sampled_from(["com", "example", "c\u0301om", "ｃｏｍ", "c\u034fom", "c\ufe0fom",
                               "c\U000e0100om", "c\u180bom", "c\u17b4om", "c\u3164om"])
              ).map("".join),
    st.sampled_from(["203.0.113.9/paypal", "http://10.0.0.1/login", "10.0.0.1:8443"]))

# Now and then a run long enough that the renderers cut it to the platform's limits.
LONG = st.tuples(st.sampled_from(ATOMS + ["word "]), st.sampled_from([300, 1500])).map(
    lambda pair: pair[0] * pair[1])

hostile = st.lists(st.one_of(st.sampled_from(ATOMS), LINE_START, ADDRESS, LONG),
                   max_size=10).map("".join)
STORY_URLS = ["https://news.example/story", "https://bank.com/x", "https://evil.example/a"]
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@st.composite
def briefs(draw, text=hostile) -> Brief:
    """A brief with hostile text in every field a reader sees."""
    names = st.lists(text, max_size=3).map(tuple)
    return Brief(id="h1", headline=draw(text), bullets=draw(names),
                 why_it_matters=draw(text), url=draw(st.sampled_from(STORY_URLS)),
                 source=draw(text), published=WHEN, dek=draw(text),
                 companies=draw(names), topics=draw(names),
                 also_reported_by=draw(names), why_is_generated=draw(st.booleans()))
