"""Block Kit rendering: Slack's limits hold for any input, and feed text stays inert."""
from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from bot.replies import Reply
from bot.slack import render, render_reply, render_roundup
from tests.fakes.slack import block_kit_problems, make_brief
from tests.markup_check import slack_problems
from tests.slack_kit import HOSTILE, assert_inert



def _md(text: str) -> dict:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": False}}


def _button(label: str, action: str, **extra) -> dict:
    return {"type": "button", "action_id": action,
            "text": {"type": "plain_text", "text": label}, **extra}


def hostile_brief(text: str):
    return make_brief(headline=text, dek=text, bullets=(text, text + " 2", text + " 3"),
                      why_it_matters=text, source=text, companies=(text,), topics=(text,),
                      also_reported_by=(text,))


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_feed_text_renders_inert_in_a_brief(text):
    msg = render.brief_message(hostile_brief(text))
    assert_inert(msg["blocks"], msg["text"])


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_inert_in_digests_and_replies(text):
    brief = hostile_brief(text)
    digest = render_roundup.digest_message(text, [brief, brief])
    assert_inert(digest["blocks"], digest["text"])
    reply = Reply(kind="briefs", title=text, briefs=(brief,), shareable=True)
    msg = render_reply.reply_message(reply, share=render_reply.share_value("search", text))
    assert_inert(msg["blocks"], msg["text"])
    err = render_reply.reply_message(Reply.error(text))
    assert_inert(err["blocks"], err["text"])


@pytest.mark.parametrize("text", HOSTILE)
def test_a_brief_as_plain_text_links_only_its_story_and_pings_no_one(text):
    url = "https://news.example/a b<2>|x"
    shown = render.plain_brief(make_brief(headline=text, source=text, url=url))
    link = render.safe_url(url)
    assert shown.endswith(f"\n<{link}>") and slack_problems(shown, links=[link]) == []


@pytest.mark.parametrize("url_len, linked", [(60, True), (1400, True), (2900, False)])
def test_a_brief_as_plain_text_keeps_its_link_whole_or_drops_it(url_len, linked):
    url = "https://x.test/" + "a" * (url_len - 15)
    shown = render.plain_brief(make_brief(headline="H " * 2000, url=url))
    assert render.utf16_len(shown) <= render.MAX_SECTION
    assert shown.startswith("H H") and shown.endswith(f"<{url}>") is linked


def test_escaped_text_still_reads_the_same():
    # Escaping must not eat the words: a reader still sees what the outlet wrote.
    out = render.escape("AT&T <b> says @here")
    assert out.startswith("AT&amp;T &lt;b&gt; says @")
    assert out.replace("\u2060", "").endswith("@here")


@pytest.mark.parametrize("headline, linked", [
    ("paypal.com: verify your account", False), ("See https://bank.example/login now", False),
    ("Reuters.com exclusive: Nvidia cuts prices", True), ("GPT-4.5 costs less", True),
])
def test_a_headline_naming_another_address_is_not_the_link_text(headline, linked):
    """Slack shows a link's text, not its address: a headline naming another address
    over the story's link would spoof it. Then the headline is plain and the address
    shown."""
    line = render_roundup.digest_line(make_brief(headline=headline,
                                                 url="https://www.reuters.com/a"))
    assert ("|" in line.split("\n")[0]) is linked
    assert line.startswith("*<https://www.reuters.com/a|" if linked else
                           f"*{headline}* <https://www.reuters.com/a>")


def test_link_in_digest_keeps_its_own_url_and_label():
    brief = make_brief(headline="Nvidia | chips <fast>", url="https://x.test/a b|c>d")
    line = render_roundup.digest_line(brief)
    assert line.startswith("*<https://x.test/a%20b%7Cc%3Ed|Nvidia | chips &lt;fast&gt;>*")


QUERY = "https://news.example/story?id=1&ref=rss"
LINKS_IN_TEXT = {       # where a story's address stands in mrkdwn, and how it is shown
    "roundup line": (render_roundup.digest_line, "|"),
    "roundup line, named address": (lambda b: render_roundup.digest_line(
        replace(b, headline="paypal.com: verify your account")), ">"),
    "plain text": (render.plain_brief, ">"),
    "brief, named address": (lambda b: render.brief_blocks(replace(
        b, headline="paypal.com: verify your account"))[-2]["elements"][0]["text"], ">"),
}


@pytest.mark.parametrize("url, sent", [
    (QUERY, "https://news.example/story?id=1&amp;ref=rss"),
    ("https://news.example/s?q=AT&amp;T", "https://news.example/s?q=AT&amp;amp;T"),
], ids=["query", "entity-in-url"])
@pytest.mark.parametrize("where", LINKS_IN_TEXT)
def test_a_link_with_a_query_string_goes_with_its_ampersand_escaped(where, url, sent):
    """Slack reads &, < and > as control characters throughout mrkdwn, its <url|label>
    links too ("Formatting text for app surfaces": Escaping text), and sends "&amp;"
    inside links itself: a bare "&" was read as an entity's start, so "?q=AT&amp;T"
    went to "?q=AT&T"."""
    render_in, after = LINKS_IN_TEXT[where]
    text = render_in(make_brief(url=url))
    assert f"<{sent}{after}" in text and slack_problems(text, links=[url]) == []


def test_a_link_buttons_address_is_no_text_and_keeps_its_ampersand():
    [button] = render.brief_blocks(make_brief(url=QUERY))[-1]["elements"]
    assert button["url"] == QUERY


# Headline cut to 500 and sources to 1,000 (at most) leave 1,492 for a link that fits
# whole; past 1,500 or so (the cuts end at a word, some characters short) none does.
@pytest.mark.parametrize("url_len, shown", [(100, True), (1492, True), (2400, False),
                                            (2990, False)])
def test_digest_link_is_whole_or_absent_however_long_the_url(url_len, shown):
    """A cut inside <url|label> leaves a broken link token in the section."""
    url = "https://example.com/" + "a" * (url_len - 20)
    brief = make_brief(url=url, headline="H" * 600, companies=("C" * 900,) * 4)
    [block] = render_roundup.digest_blocks("Roundup", [brief])[1:]
    text = block["text"]["text"]
    assert block_kit_problems([block]) == []
    assert text.count("<") == text.count(">") <= 1
    assert (f"<{url}|" in text) == shown and (url in text) == shown


def roundup_of(url_lens, **fields) -> list:
    return [make_brief(id=f"s{i}", headline=f"Story {i} on cloud prices", **fields,
                       url=f"https://news.example/{i}/" + "a" * n)
            for i, n in enumerate(url_lens)]


@pytest.mark.parametrize("url_lens, linked", [
    ([40] * 10, 10), ([40] * 9 + [2900], 10), ([1200] * 10, 7), ([2900] * 4 + [60] * 6, 9),
    ([2900] * 10, 3)])
def test_a_roundup_keeps_within_slacks_total_and_drops_the_longest_links_first(url_lens,
                                                                               linked):
    """Links kept whole in <url|headline> up to MAX_URL, 3,000: ten long ones were past
    the ~12,000 characters Slack takes in a post (msg_blocks_too_long), and each
    retry was refused the same. Every story still shows, with its link if it fits."""
    briefs = roundup_of(url_lens)
    blocks = render_roundup.digest_message("Roundup", briefs)["blocks"]
    assert block_kit_problems(blocks) == []
    assert render.text_size(blocks) <= render.MAX_MESSAGE_TEXT
    lines = [b["text"]["text"] for b in blocks[1:]]
    assert all(b.headline in line for b, line in zip(briefs, lines))
    kept = [f"<{b.url}|" in line for b, line in zip(briefs, lines)]
    assert sum(kept) == linked and all(line.count("<") == line.count(">") <= 1
                                       for line in lines)
    assert all(k or n >= max(m for m, k2 in zip(url_lens, kept) if k2)
               for n, k in zip(url_lens, kept)), "a shorter link dropped for a longer one"


@pytest.mark.parametrize("n", [2, 10, 49])
def test_a_roundup_of_ten_kilobyte_fields_keeps_within_slacks_total(n):
    big = "Qwen & Llama <open> weights " * 400
    briefs = [make_brief(headline=big, source=big, companies=(big,) * 5)] * n
    blocks = render_roundup.digest_message(big, briefs)["blocks"]
    assert block_kit_problems(blocks) == []
    assert render.text_size(blocks) <= render.MAX_MESSAGE_TEXT
    assert len(blocks) == n + 1 and all(b["text"]["text"].startswith("*") for b in blocks[1:])


BIG = "x" * 10_000
LONG_WORDS = ("Nvidia & AMD <chips> " * 600)
EMOJI = "\U0001F680" * 5000


@pytest.mark.parametrize("big", [BIG, LONG_WORDS, EMOJI], ids=["ascii", "entities", "emoji"])
def test_ten_kilobyte_fields_stay_within_block_kit_limits(big):
    brief = make_brief(headline=big, dek=big, bullets=(big,) * 4, why_it_matters=big,
                       source=big, companies=(big,) * 20, topics=(big,) * 20,
                       also_reported_by=(big,) * 20, url="https://x.test/" + "a" * 5000)
    msg = render.brief_message(brief)
    assert block_kit_problems(msg["blocks"], msg["text"]) == []
    assert render.text_size(msg["blocks"]) <= render.MAX_MESSAGE_TEXT   # msg_blocks_too_long
    header = msg["blocks"][0]["text"]["text"]
    assert header.endswith(render.ELLIPSIS) and render.utf16_len(header) <= 150
    bullets = next(b for b in msg["blocks"] if b["type"] == "section"
                   and b["text"]["text"].startswith("•"))["text"]["text"]
    assert bullets.count("\n• ") == 2, "three bullets at most"
    lines = bullets.split("\n")
    assert len({render.utf16_len(b) for b in lines}) == 1, "every bullet gets an equal share"


@pytest.mark.parametrize("count", [1, 2, 3])
def test_long_bullets_share_the_whole_section_equally(count):
    text = render.bullets_text([BIG] * count)
    lines = text.split("\n")
    assert len({render.utf16_len(b) for b in lines}) == 1
    assert 2990 <= render.utf16_len(text) <= 3000


def test_cut_never_splits_an_entity():
    s = render.fit(render.escape("&" * 5000), 3000)
    assert render.utf16_len(s) <= 3000
    body = s.removesuffix(render.ELLIPSIS)
    assert s.endswith(render.ELLIPSIS) and body == "&amp;" * (len(body) // 5)


@pytest.mark.parametrize("url,button", [
    ("https://example.com/a?b=1", True), ("http://example.com/", True),
    ("javascript:alert(1)", None), ("ftp://example.com/x", None), ("", None),
    ("https://" + "a" * 3100, None), ("https://" + "a" * 2992, True),   # 3,000: fits
    ("https://" + "a" * 2993, None),                                      # 3,001: not
    ("  https://example.com/a \n", "https://example.com/a"), ("https:///no-host", None),
    ("https://例え.jp/ニュース?q=a b",
     "https://xn--r8jz45g.jp/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9?q=a%20b"),
    # IDNA 2008, as browsers: Python's codec made it strasse.de, another site
    ("https://stra\u00dfe.de/ki", "https://xn--strae-oqa.de/ki"),
    ("https://ed@stra\u00dfe.de:8443/ki", "https://ed@xn--strae-oqa.de:8443/ki")])
def test_read_button_only_for_http_urls(url, button):
    blocks = render.brief_blocks(make_brief(url=url))
    urls = [e.get("url") for b in blocks if b["type"] == "actions" for e in b["elements"]]
    expected = url if button is True else button
    assert urls == ([expected] if expected else [])


def test_brief_layout_has_what_a_reader_needs():
    msg = render.brief_message(make_brief(also_reported_by=("Reuters",)))
    kinds = [b["type"] for b in msg["blocks"]]
    assert kinds == ["header", "context", "section", "section", "section", "actions"]
    context = " ".join(e["text"] for e in msg["blocks"][1]["elements"])
    assert "*FT*" in context and "Alibaba, Tencent" in context and "Reuters" in context
    assert "<!date^1748779200^" in context and "2025-06-01 12:00 UTC" in context
    assert msg["unfurl_links"] is False and msg["unfurl_media"] is False
    assert "*Why it matters:*" in msg["blocks"][4]["text"]["text"]
    assert msg["text"] == ("Alibaba moves from open models to paid AI services (FT): "
                           "Developers lose a source of free models.")


@pytest.mark.parametrize("why, generated, text", [
    ("Developers lose a source of free models.", False,
     "Alibaba cuts prices (FT): Developers lose a source of free models."),
    # A generated line only repeats the companies and topics: left out, as in the blocks.
    ("Context: Alibaba · pricing", True, "Alibaba cuts prices (FT)"),
    ("", False, "Alibaba cuts prices (FT)"),
    ("> *Rivals*\n@here must <!channel> follow.", False,
     "Alibaba cuts prices (FT): &gt; ∗Rivals∗ @\u2060here must &lt;!channel&gt; follow."),
    ("word " * 500, False, "Alibaba cuts prices (FT): " + "word " * 59 + "word…"),   # 300
])
def test_a_posts_notification_text_says_why_it_matters(why, generated, text):
    """A phone's push and a screen reader get a post's `text` only, which was "headline
    (outlet)": the why-it-matters line, which the blocks show, now follows it (short)."""
    brief = make_brief(headline="Alibaba cuts prices", why_it_matters=why,
                       why_is_generated=generated)
    assert render.brief_message(brief)["text"] == text


def _shown(brief, where: str) -> str:
    msg = render.brief_message(brief)
    return {"header": msg["blocks"][0]["text"]["text"], "fallback": msg["text"],
            "context": msg["blocks"][1]["elements"][0]["text"],
            "digest line": render_roundup.digest_line(brief)}[where]


@pytest.mark.parametrize("fields,where,expected", [
    ({"headline": " \n "}, "header", "(untitled)"),
    ({"headline": " \n "}, "fallback", "(untitled) (FT): Developers lose a source of free models."),
    ({"headline": " \n "}, "digest line", "*<https://example.com/alibaba-ai|(untitled)>*\n"
                                           "FT · Alibaba, Tencent"),
    ({"source": ""}, "context", "*unknown source*"),
    ({"companies": tuple("ABCDE")}, "digest line", "*<https://example.com/alibaba-ai|"
     "Alibaba moves from open models to paid AI services>*\nFT · A, B, C, D"),
])
def test_missing_or_plentiful_fields_read_sensibly(fields, where, expected):
    assert _shown(make_brief(**fields), where) == expected


@pytest.mark.parametrize("blank", ["", " \n "])
def test_brief_without_bullets_or_why_skips_those_sections(blank):
    blocks = render.brief_blocks(make_brief(bullets=(blank,), why_it_matters=blank, dek=blank))
    assert [b["type"] for b in blocks] == ["header", "context", "actions"]
    one = render.brief_blocks(make_brief(bullets=(blank, "Only one.", blank)))
    assert one[3]["text"]["text"] == "• Only one."


@pytest.mark.parametrize("n", [1, 48, 49, 50, 120])
def test_digest_is_one_message_within_limits_and_counts_the_overflow(n):
    briefs = [make_brief(id=f"s{i}", headline=f"Story {i}") for i in range(n)]
    msg = render_roundup.digest_message("AI strategy roundup", briefs)
    assert block_kit_problems(msg["blocks"], msg["text"]) == []
    shown = sum(1 for b in msg["blocks"] if b["type"] == "section")
    more = [e["text"] for b in msg["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert shown + (int(re.search(r"(\d+) more", more[0]).group(1)) if more else 0) == n
    assert bool(more) == (n > 49), "all shown while header + sections fit 50 blocks"
    assert len(msg["blocks"]) == min(n + 1, 50), "an overflowing digest uses every block"
    assert msg["text"].startswith(f"AI strategy roundup: {n} " + ("story" if n == 1 else "stories"))
    assert msg["blocks"][1]["text"]["text"].startswith("*<https://example.com/alibaba-ai|Story 0>*")


@pytest.mark.parametrize("n, more", [(1, ""), (3, ""), (4, "; …and 1 more"),
                                     (120, "; …and 117 more")])
def test_a_roundups_notification_text_names_its_first_stories(n, more):
    """A phone's push (Slack: mobile notifications use the message's `text` only) and a
    screen reader got "AI strategy roundup: 3 stories", which told them nothing of the
    news in it."""
    briefs = [make_brief(id=f"s{i}", headline=f"Story {i}", source=f"Outlet {i}")
              for i in range(n)]
    text = render_roundup.digest_message("AI strategy roundup", briefs)["text"]
    named = "; ".join(f"Story {i} (Outlet {i})" for i in range(min(n, 3)))
    stories = "1 story" if n == 1 else f"{n} stories"
    assert text == f"AI strategy roundup: {stories}: {named}{more}"


@pytest.mark.parametrize("n, tail", [(3, "…"), (5, "…; …and 2 more")])
def test_a_roundups_notification_text_stays_short_however_long_its_headlines(n, tail):
    # The cut came after the count of the rest was added: long headlines pushed
    # "…and 2 more" off the end, and a phone showed three stories of five as all.
    briefs = [make_brief(id=f"s{i}", headline="word " * 2_000) for i in range(n)]
    text = render_roundup.digest_message("AI strategy roundup", briefs)["text"]
    assert text.startswith(f"AI strategy roundup: {n} stories: word word")
    assert render.utf16_len(text) <= render.MAX_FALLBACK and text.endswith(tail)


# A reply's full briefs, share button and a "Shared by" note must fit 50 blocks: 8 briefs
# without a dek (5 blocks each) do, 7 with one (6 each) do not and become compact lines.
@pytest.mark.parametrize("n,dek,full,blocks", [(8, "", True, 50), (7, "A dek.", False, 11),
                                               (60, "A dek.", False, 50)])
def test_reply_shows_full_briefs_only_when_all_of_them_fit(n, dek, full, blocks):
    reply = Reply(kind="briefs", title="Search", shareable=True,
                  briefs=tuple(make_brief(id=f"s{i}", dek=dek) for i in range(n)))
    msg = render_reply.reply_message(reply, share=render_reply.share_value("search", "ai"),
                                     note="Shared")
    kinds = [b["type"] for b in msg["blocks"]]
    assert block_kit_problems(msg["blocks"], msg["text"]) == []
    assert kinds.count("header") == (n if full else 0) and len(kinds) == blocks
    assert kinds[-2:] == ["actions", "context"]   # the share button and the note survive
    assert msg["blocks"][-2]["elements"][0]["action_id"] == render_reply.SHARE_ACTION


def test_headlines_only_says_so_and_how_many_show_in_full():
    """`/latest 10` showed headlines only where `/latest 5` had bullets, unexplained."""
    biggest = make_brief(dek="A dek.", headline="paypal.com: verify your account",
                         url="https://evil.example/1")     # + the address beside it
    assert len(render.brief_blocks(biggest)) == render.MAX_BRIEF_BLOCKS
    for n, compact in ((render_reply.ALWAYS_FULL, False), (10, True)):
        reply = Reply(kind="briefs", title="Latest", text="A note.", shareable=True,
                      briefs=tuple(replace(biggest, id=f"s{i}") for i in range(n)))
        msg = render_reply.reply_message(reply, share=render_reply.share_value("latest", ""),
                                         note="Shared")
        assert block_kit_problems(msg["blocks"], msg["text"]) == []
        said = "Headlines only: the bullets of 10 stories don't fit in one Slack message; " \
               "5 or fewer show in full."
        assert (said in json.dumps(msg["blocks"], ensure_ascii=False)) == compact
        assert [b["type"] for b in msg["blocks"]].count("header") == (0 if compact else n)


def test_reply_with_many_briefs_falls_back_to_compact_lines():
    reply = Reply(kind="briefs", title="Search", shareable=True,
                  briefs=tuple(make_brief(id=f"s{i}", headline=f"S{i}") for i in range(10)))
    msg = render_reply.reply_message(reply, share=render_reply.share_value("search", "ai"))
    assert block_kit_problems(msg["blocks"], msg["text"]) == []
    text = json.dumps(msg["blocks"])
    assert all(f"|S{i}>" in text for i in range(10))
    assert msg["blocks"][-1]["elements"][0]["action_id"] == render_reply.SHARE_ACTION


@pytest.mark.parametrize("reply,visible,share", [
    (Reply(kind="briefs", briefs=(make_brief(),), shareable=True), False, True),
    (Reply(kind="briefs", briefs=(make_brief(),), shareable=False), False, False),
    (Reply.message("Subscribed #general to pricing.", ephemeral=False), True, False),
    (Reply.message("Topics: ..."), False, False),
    (Reply.error("Unknown company 'Alibabba'. Did you mean Alibaba?"), False, False)])
def test_reply_visibility_and_share_button(reply, visible, share):
    msg = render_reply.reply_message(reply, share=render_reply.share_value("company", "alibaba"))
    assert msg["response_type"] == ("in_channel" if visible else "ephemeral")
    ids = [e["action_id"] for b in msg["blocks"] if b["type"] == "actions"
           for e in b["elements"]]
    assert (render_reply.SHARE_ACTION in ids) == share


def test_error_reply_says_what_went_wrong():
    msg = render_reply.reply_message(Reply.error("No such topic 'chipz'; try /topics."))
    assert msg["blocks"][0]["text"]["text"] == ":warning: No such topic 'chipz'; try /topics."


def _plain(text: str) -> dict:
    return {"type": "section", "text": {"type": "plain_text", "emoji": True, "text": text}}


@pytest.mark.parametrize("reply,blocks,fallback", [
    (Reply(kind="briefs", title="Latest on Baidu", text="No stories about Baidu yet."),
     [{"type": "section", "text": _md("*Latest on Baidu*")},
      _plain("No stories about Baidu yet.")], "No stories about Baidu yet."),
    (Reply(kind="briefs", title="Search"), [{"type": "section", "text": _md("*Search*")},
                                            _plain("Nothing found.")], "Search"),
    (Reply(kind="briefs", title=" ", text="None yet."), [_plain("None yet.")], "None yet."),
    (Reply.message(""), [_plain("(nothing to show)")], "Done."),
    (Reply.message(" \n "), [_plain("(nothing to show)")], " \n "),
    (Reply.message("x" * 3500), [_plain("x" * 2999 + "…")], "x" * 2999 + "…"),
    (Reply.message("a" * 1500 + "\n" + "b" * 1499), [_plain("a" * 1500 + "\n" + "b" * 1499)],
     "a" * 1500 + "\n" + "b" * 1499),                     # exactly 3,000: one section
])
def test_empty_lookup_explains_itself(reply, blocks, fallback):
    msg = render_reply.reply_message(reply)
    assert msg["blocks"] == blocks and msg["text"] == fallback


def test_a_huge_text_reply_is_cut_to_the_sections_a_message_holds():
    msg = render_reply.reply_message(Reply.message("\n".join(["y" * 2000] * 200)), note="Shared")
    assert block_kit_problems(msg["blocks"]) == []
    assert [b["type"] for b in msg["blocks"]] == ["section"] * 48 + ["context"]


def test_long_help_text_is_split_into_sections_at_line_breaks():
    text = "\n".join(f"/command{i} does thing number {i}" for i in range(400))
    msg = render_reply.reply_message(Reply.message(text))
    assert len(msg["blocks"]) > 1 and block_kit_problems(msg["blocks"]) == []
    joined = "\n".join(b["text"]["text"] for b in msg["blocks"])
    assert joined == text


COPYABLE = ["1 feed:\n  [ok] My_Feed — https://example.com/ai_news/feed_1.xml",
            "Only admins (SLACK_ADMIN_USER_IDS) can do that; e.g. `feeds remove URL|NAME`",
            "No company 'Meta_AI *x*' — did you mean Meta?"]


@pytest.mark.parametrize("reply", [Reply.message(t) for t in COPYABLE]
                         + [Reply.error(t) for t in COPYABLE])
def test_text_replies_show_urls_and_names_exactly_so_they_can_be_copied(reply):
    """An admin copies a URL from `/ainews feeds list` into `feeds remove`: lookalike
    characters in place of _ * ` would make it a different URL."""
    msg = render_reply.reply_message(reply)
    shown = "\n".join(t for _, t in render.all_texts(msg["blocks"]))
    assert reply.text in shown
    assert block_kit_problems(msg["blocks"], msg["text"]) == []


def test_share_value_carries_the_lookup_or_nothing_when_too_long():
    assert json.loads(render_reply.share_value("company", "qwen")) == {"cmd": "company",
                                                                 "args": "qwen"}
    assert render_reply.share_value("search", "q" * 3000) is None
    assert render_reply.share_value("search", "人工智能" * 400) is not None   # counted as typed
    assert len(render_reply.share_value("search", "q" * 1971)) == 2000          # Slack's limit
    assert render_reply.share_value("search", "q" * 1972) is None


@pytest.fixture
def host_in_tokyo(monkeypatch):
    """The bot's host clock is not UTC: a naive date must still be read as UTC."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("tz", [timezone.utc, None], ids=["aware", "naive-is-utc"])
def test_date_uses_the_readers_time_zone_with_utc_fallback(tz, host_in_tokyo):
    dt = datetime(2026, 1, 2, 3, 4, tzinfo=tz)
    assert render.slack_date(dt) == ("<!date^1767323040^{date_short_pretty} {time}"
                                     "|2026-01-02 03:04 UTC>")


def test_generated_context_line_is_not_repeated_under_the_context_block():
    """The marked "Context: ..." line lists the companies and topics the context block
    already shows: a post said them twice. A why sentence of the story is labelled."""
    from dataclasses import replace as _replace
    from datetime import datetime as _dt, timezone as _tz
    from bot.slack.render import brief_blocks
    from feeds.models import Brief as _Brief
    b = _Brief(id="g", headline="Baidu prices Ernie", bullets=("Cuts prices.",),
               why_it_matters="Context: Baidu · pricing", url="https://x.example/1",
               source="Wire", published=_dt(2026, 1, 1, tzinfo=_tz.utc), why_is_generated=True,
               companies=("Baidu",), topics=("pricing",))
    text = str(brief_blocks(b))
    assert "Context:" not in text and "Why it matters" not in text
    assert "Companies: Baidu" in text and "Topics: pricing" in text
    assert [x["type"] for x in brief_blocks(b)] == ["header", "context", "section", "actions"]
    why = _replace(b, why_is_generated=False, why_it_matters="Cheaper calls widen the price war.")
    assert brief_blocks(why)[-2]["text"]["text"] == "*Why it matters:* Cheaper calls widen the price war."


# Exactly what Slack receives, so a renamed key, a lost flag or label is noticed:
# `verbatim` keeps Slack from linking bare URLs and #names in feed text, unfurl off keeps
# it from previewing an outlet's page, `emoji: False` shows a headline's :x: as typed.
_NEVER_UNFURL = {"unfurl_links": False, "unfurl_media": False}
_HEADLINE = "Alibaba moves from open models to paid AI services"
_WHY = "Developers lose a source of free models."
_DATE = "<!date^1748779200^{date_short_pretty} {time}|2025-06-01 12:00 UTC>"
_CONTEXT = [_md("*FT*"), _md(_DATE), _md("Companies: Alibaba, Tencent"),
            _md("Topics: open-source, pricing")]
_READ = {"type": "actions", "elements": [
    _button("Read the story", "ainews_read", url="https://example.com/alibaba-ai")]}
_FULL_BRIEF = [
    _header(_HEADLINE),
    {"type": "context", "elements": _CONTEXT + [_md("Also reported by Reuters, Caixin")]},
    {"type": "section", "text": _md("A pivot to revenue.")},
    {"type": "section", "text": _md("• Alibaba will release fewer free models.\n"
                                    "• Teams focus on paid APIs for cloud customers.\n"
                                    "• The aim is a return on heavy AI spending.")},
    {"type": "section", "text": _md("*Why it matters:* Developers lose a source of free models.")},
    _READ]


def _payload(case: str) -> dict:
    brief = make_brief(also_reported_by=("Reuters", "Caixin"))
    if case == "brief":
        return render.brief_message(brief)
    if case == "digest":  # a blank title and a non-web link: "(untitled)", no link
        odd = make_brief(id="s2", headline="  ", url="javascript:alert(1)", companies=(),
                         source="")
        return render_roundup.digest_message("Roundup", [brief, odd])
    bare = make_brief(id="s3", dek="", bullets=(), why_it_matters="")
    reply = Reply(kind="briefs", title="Latest on Alibaba", briefs=(brief, bare), shareable=True)
    return render_reply.reply_message(reply, share=render_reply.share_value("company", "alibaba"),
                                in_channel=True, note="Shared by <@U1>")


EXPECTED_PAYLOADS = {
    "brief": {"text": f"{_HEADLINE} (FT): {_WHY}", "blocks": _FULL_BRIEF, **_NEVER_UNFURL},
    "digest": {"text": f"Roundup: 2 stories: {_HEADLINE} (FT); (untitled)", "blocks": [
        _header("Roundup"),
        {"type": "section", "text": _md(f"*<https://example.com/alibaba-ai|{_HEADLINE}>*\n"
                                        "FT · Alibaba, Tencent")},
        {"type": "section", "text": _md("*(untitled)*")}], **_NEVER_UNFURL},
    "shared reply": {
        "text": f"Latest on Alibaba: {_HEADLINE} (FT): {_WHY}", "response_type": "in_channel",
        "blocks": [{"type": "section", "text": _md("*Latest on Alibaba*")}, *_FULL_BRIEF,
                   {"type": "divider"}, _header(_HEADLINE),
                   {"type": "context", "elements": _CONTEXT}, _READ,
                   {"type": "actions", "elements": [_button(
                       "Share in channel", "ainews_share", style="primary",
                       value='{"cmd": "company", "args": "alibaba"}')]},
                   {"type": "context", "elements": [_md("Shared by <@U1>")]}],
        **_NEVER_UNFURL},
}


@pytest.mark.parametrize("case", EXPECTED_PAYLOADS)
def test_slack_receives_exactly_this_payload(case):
    assert _payload(case) == EXPECTED_PAYLOADS[case]


@pytest.mark.parametrize("fn,text,shown", [
    (render.escape, "*bold* _it_ ~gone~ `code`", "∗bold∗ ˍitˍ ∼gone∼ ˋcodeˋ"),
    (render.escape, "[x](http://evil.example)", "[x]\u200b(http://evil.example)"),
    (render.escape, "@here @Channel @everyone @hereafter",
     "@\u2060here @\u2060Channel @\u2060everyone @hereafter"),
    (render.plain, "@everyone <b> & _x_", "@\u2060everyone ‹b› & _x_"),
    (render.plain, "@HERE <!channel>", "@\u2060HERE ‹!channel›"),
])
def test_escaping_breaks_pings_and_markup_but_keeps_every_character_readable(fn, text, shown):
    """Lookalikes and invisible joiners, never deletions: the reader sees what was written."""
    assert fn(text) == shown


@pytest.mark.parametrize("text,limit,cut", [
    ("x" * 3000, 3000, "x" * 3000),                 # exactly at the limit: untouched
    ("abcdefghij", 5, "abcd…"),
    ("ab cdefgh", 4, "ab…"),                        # no space before the ellipsis
    ("aaaa\U0001F680bbbb", 6, "aaaa…"),             # the emoji would need 2 units
    ("\U0001F680" * 100, 11, "\U0001F680" * 5 + "…"),
    ("\U00010000\U00010000" + "b" * 10, 8, "\U00010000\U00010000bbb…"),   # first past the BMP
    ("&amp;&amp;", 8, "&amp;…"),                    # never half an entity
])
def test_fit_cuts_to_the_limit_in_utf16_units_with_an_ellipsis(text, limit, cut):
    assert render.fit(text, limit) == cut
    assert render.utf16_len(render.fit(text, limit)) <= limit



@pytest.mark.parametrize("text, limit, cut", [
    ("Apple describes the new digital narration feature on its website", 40,
     "Apple describes the new digital…"),
    ("Q&amp;A prompts arrive in Gmail and Docs for business users", 12, "Q&amp;A…"),
    ("阿里巴巴宣布通义千问大模型API价格下调50%，加剧国内大模型价格战", 16, "阿里巴巴宣布通义千问大模型…"),
])
def test_fit_ends_at_a_word_not_inside_one(text, limit, cut):
    """A header or bullet cut to fit read "... narration featu…"; text without spaces
    (Chinese) is cut where it must, but not inside a Latin word or figure in it."""
    assert render.fit(text, limit) == cut


def test_a_headline_too_long_for_a_header_ends_at_a_word():
    """Slack's header holds 150 characters: it read "... and enterprise licensin…"."""
    headline = ("Baidu, Tencent and ByteDance announce a sweeping multi-year partnership "
                "covering custom accelerators, sovereign cloud regions and enterprise "
                "licensing terms")
    [header] = render.brief_blocks(make_brief(headline=headline))[:1]
    assert header["text"]["text"] == headline[:headline.index(" licensing")] + "…"
