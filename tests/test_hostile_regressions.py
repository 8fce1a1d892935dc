"""What the hostile-text property (test_hostile_property.py) found, one case each: feed,
LLM or user text that restyled a message or put a lookalike address on a link."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.discord import render as drender
from bot.discord import render_reply as drender_reply
from bot.discord import render_roundup as drender_roundup
from bot.replies import Reply
from bot.slack import render as srender
from bot.slack import render_reply as srender_reply
from bot.slack import render_roundup as srender_roundup
from tests.fakes.slack import make_brief
from tests.markup_check import discord_problems, slack_problems

# Discord hides a backslash only before ASCII punctuation; anywhere else it shows.
SHOWN_BACKSLASH = re.compile(r"\\(?![!-/:-@\[-`{-~])")


@pytest.mark.parametrize("text, shown", [
    ("Note:\n  # Buy now", "Note:\n  \\# Buy now"),               # indented heading
    ("Note:\n\u00a0## Buy now", "Note:\n\u00a0\\## Buy now"),      # NBSP indent
    ("Note:\n\t> quoted", "Note:\n\t\\> quoted"),                  # indented quote
    ("Note:\n  >>> all of it", "Note:\n  \\>>> all of it"),
    ("Note:\n\u200b# Buy now", "Note:\n\u200b\\# Buy now"),        # invisible indent
    ("Note:\u200b\n\u200b-# small print", "Note:\u200b\n\u200b\\-# small print"),
    ("Cuts prices\r# Buy now", "Cuts prices\n\\# Buy now"),        # a lone CR breaks a line
    ("Cuts prices\u2028> quoted", "Cuts prices\n\\> quoted"),      # so does U+2028
    ("\n-# small print", "\n\\-# small print"),                    # was "\\\n-# ..."
    ("\n\n- item", "\n\n\\- item"),
    ("Steps:\n1. Buy now", "Steps:\n1\\. Buy now"),                # a numbered list
    ("2024. A year of AI", "2024\\. A year of AI"),
    ("Note:\n\u00a012. item", "Note:\n\u00a012\\. item"),
    ("+ no list in Discord", "+ no list in Discord"),               # shown as typed
    ("up 3.5% in 2024.", "up 3.5% in 2024."),
])
def test_discord_line_start_markup_from_outside_is_shown_as_typed(text, shown):
    out = drender.inert(text)
    assert out == shown
    assert discord_problems(out) == [] and not SHOWN_BACKSLASH.search(out)


@pytest.mark.parametrize("where", ["bullets", "why_it_matters", "dek", "error"])
def test_discord_indented_heading_does_not_restyle_a_brief_or_reply(where):
    text = "Alibaba cuts prices\n  # FREE MODELS\r> and a quote"
    if where == "error":
        payload = drender_reply.reply_payload(Reply.error(f"No company called '{text}'"))
        shown = [payload["content"]]
    else:
        value = (text,) if where == "bullets" else text
        brief = make_brief(**{where: value, **({"bullets": ()} if where == "dek" else {})})
        embed = drender.brief_embed(brief).to_dict()
        shown = [embed["description"]] + [f["value"] for f in embed["fields"]]
    assert all(discord_problems(s, links={"https://example.com/alibaba-ai"}) == []
               for s in shown), shown
    assert any("FREE MODELS" in s for s in shown)


@pytest.mark.parametrize("url, shown", [
    ("https://paypal.com@evil.example/login", "https://evil.example/login"),   # a user part
    ("https://p\u0430ypal.com/login", "https://xn--pypal-4ve.com/login"),     # a Cyrillic "а"
    ("https://paypal.com%2Eevil.example/login", "https://paypal.com.evil.example/login"),
    ("https://www.alibabacloud.com/blog/qwen?id=1", "https://www.alibabacloud.com/blog/qwen?id=1"),
])
@pytest.mark.parametrize("where", ["bullets", "why_it_matters", "dek"])
def test_discord_url_in_feed_text_reads_as_where_it_goes(url, shown, where):
    """Discord links a URL in text, and escaping leaves it alone: one that disguised its
    host was a live link that read as PayPal's."""
    value = f"Customers must re-verify at {url} today."
    brief = make_brief(**{where: (value,) if where == "bullets" else value,
                          **({"bullets": ()} if where == "dek" else {})})
    embed = drender.brief_embed(brief).to_dict()
    texts = [embed["description"]] + [f["value"] for f in embed["fields"]]
    assert any(f"at {shown} today" in t for t in texts), texts
    assert all(discord_problems(t, links={"https://example.com/alibaba-ai"}) == [] for t in texts)


@pytest.mark.parametrize("text, shown", [
    ("> quoted", "› quoted"),
    ("Cuts prices\n> quoted", "Cuts prices\n› quoted"),
    ("Cuts prices\n  >>> all", "Cuts prices\n  ›&gt;&gt; all"),
    ("Cuts prices\r\n\u200b> quoted", "Cuts prices\r\n\u200b› quoted"),
    ("a > b and c <> d", "a &gt; b and c &lt;&gt; d"),           # mid-line: unchanged
])
def test_slack_line_start_quote_from_outside_is_a_lookalike(text, shown):
    assert srender.escape(text) == shown
    assert slack_problems(srender.escape(text)) == []


def test_slack_a_figure_after_our_label_keeps_its_greater_than_sign():
    """"Why it matters: > 50% ..." showed "› 50%": a ">" after our own text on its line
    is no quote; one after a line break in the same text still is."""
    brief = make_brief(why_it_matters="> 50% of revenue is cloud.\n> Quoted",
                       bullets=(">1,000 GPUs bought.",), source="> Wire")
    message = srender.brief_message(brief)
    mrkdwn = [t for kind, t in srender.all_texts(message["blocks"]) if kind == "mrkdwn"]
    assert "*Why it matters:* &gt; 50% of revenue is cloud.\n› Quoted" in mrkdwn
    assert "• &gt;1,000 GPUs bought." in mrkdwn
    assert "(&gt; Wire): &gt; 50% of revenue is cloud. &gt; Quoted" in message["text"]
    links = {"https://example.com/alibaba-ai"}
    assert all(slack_problems(t, links=links) == [] for t in mrkdwn + [message["text"]])


def test_slack_dek_why_and_notification_cannot_open_a_quote():
    brief = make_brief(dek="A pivot.\n> Quoted", why_it_matters="Less free.\n> Quoted",
                       source="FT\n> Quoted")
    message = srender.brief_message(brief)
    mrkdwn = [t for kind, t in srender.all_texts(message["blocks"]) if kind == "mrkdwn"]
    links = {"https://example.com/alibaba-ai"}
    assert all(slack_problems(t, links=links) == [] for t in mrkdwn + [message["text"]])


@pytest.mark.parametrize("source, shown", [
    ("Reuters\nWire", "*Reuters Wire*"), (" FT ", "*FT*"), ("Caixin\r\n", "*Caixin*"),
    (" \n", "*unknown source*")])
def test_slack_source_with_breaks_or_edge_spaces_stays_bold(source, shown):
    context = srender.context_for(make_brief(source=source))
    assert context["elements"][0]["text"] == shown


def test_slack_long_source_or_title_is_cut_inside_its_bold_run():
    source = srender.context_for(make_brief(source="Wire " * 600))["elements"][0]["text"]
    reply = Reply(kind="briefs", title="Search: " + "qwen " * 800, briefs=(make_brief(),))
    title = srender_reply.reply_blocks(reply)[0]["text"]["text"]
    assert source.endswith("…*") and len(source) <= srender.MAX_CONTEXT
    assert title.endswith("…*") and len(title) <= srender.MAX_SECTION
    assert slack_problems(source) == slack_problems(title) == []


def test_slack_reply_title_with_a_line_break_stays_one_bold_line():
    reply = Reply(kind="briefs", title="Search: 'qwen\n pricing '", briefs=(make_brief(),))
    first = srender_reply.reply_blocks(reply)[0]["text"]["text"]
    assert first == "*Search: 'qwen pricing '*"
    assert slack_problems(first) == []


# A headline a reader takes for an address elsewhere is never the text of the story link.
LOOKALIKES = ["paypal。com: verify your account", "ｐａｙｐａｌ。ｃｏｍ: verify",
              "paypal\u2024com: verify", "paypal\ufe52com: verify",
              "paypal.c\u0301om: verify", "Log in at bank.example_ now",
              # right after dots or a hyphen, and an IP without a scheme: were unseen
              "Urgent...paypal.com/verify: Alibaba Qwen billing",
              "Act now..paypal.com: verify your account", "Notice -paypal.com: verify",
              "Log in at 203.0.113.9/paypal now", "Sign in at 10.0.0.1:8443 today",
              # dots UTS #39 lists as confusable with ".", which NFKC leaves alone
              "paypal\ua4f8com: verify", "paypal\u0701com: verify", "paypal\u0702com: verify",
              "paypal\ua60ecom: verify", "paypal\U00010a50com: verify",
              "paypal\U0001d16dcom: verify", "paypal\u0660com: verify",
              # marks that draw nothing (default-ignorable), inside or before the dot
              "paypal.c\u034fom: verify", "paypal.c\ufe0fom: verify", "paypal.c\U000e0100om: verify",
              "paypal.c\u180bom: verify", "paypal.c\u17b4om: verify", "paypal\u034f.com: verify",
              "paypal.c\u034f\u0301om: verify"]


@pytest.mark.parametrize("headline", LOOKALIKES)
def test_lookalike_address_headline_is_not_the_link_text(headline):
    brief = make_brief(headline=headline, url="https://news.example/1")
    embed = drender.brief_embed(brief)
    assert embed.url is None and embed.fields[-1].value == "https://news.example/1"
    (digest,) = drender_roundup.digest_embeds("Roundup", [replace(brief, id=str(i)) for i in range(11)])
    assert "](https://news.example/1)" not in digest.description
    assert "|" not in srender_roundup.digest_line(brief).split(">")[0]      # no <url|headline>
    context = srender.brief_blocks(brief)[-2]["elements"][0]["text"]
    assert context == "<https://news.example/1>"                      # the address shown


@pytest.mark.parametrize("headline", ["阿里巴巴发布Qwen3。腾讯回应",
                                      "علي بابا تطلق Qwen3 في ٢٠٢٦"])
def test_a_chinese_sentence_stop_is_no_address(headline):
    """"。" ends Chinese sentences, "٠" is an Arabic zero: a headline with one still links
    to its story."""
    brief = make_brief(headline=headline, url="https://news.example/1")
    assert drender.brief_embed(brief).url == "https://news.example/1"
    assert srender_roundup.digest_line(brief).startswith(f"*<https://news.example/1|{headline[:6]}")


def cut_after_paypal(limit: int) -> str:
    """A headline whose cut to `limit` characters ends right after "paypal.com", a
    name its whole ("yy…paypal.com.evil.example") does not claim. One long token: a cut
    backs off to a space in the later half of the text, which would keep it whole."""
    return "y" * (limit - 1 - len("paypal.com")) + "paypal.com.evil.example login"


def test_a_headline_cut_to_another_address_is_not_the_link_text():
    brief = make_brief(headline=cut_after_paypal(drender.TITLE_MAX), url="https://evil.example/1")
    embed = drender.brief_embed(brief)
    assert embed.title.endswith("ypaypal.com…") and embed.url is None
    assert embed.fields[-1].value == "https://evil.example/1"
    listed = replace(brief, headline=cut_after_paypal(200))
    (digest,) = drender_roundup.digest_embeds("Roundup", [replace(listed, id=str(i)) for i in range(11)])
    assert "](https://evil.example/1)" not in digest.description
    slack = replace(brief, headline=cut_after_paypal(500))
    assert "|" not in srender_roundup.digest_line(slack).split(">")[0]
    header = replace(brief, headline=cut_after_paypal(srender.MAX_HEADER))
    blocks = srender.brief_blocks(header)
    assert blocks[0]["text"]["text"].endswith("ypaypal.com…")
    assert blocks[-2]["elements"][0]["text"] == "<https://evil.example/1>"


def test_slack_cut_never_leaves_a_broadcast_word_before_the_ellipsis():
    """"@everyonebank" is left as written; cut after "@everyone" it would read as one."""
    typed = "a" * 2989 + " @everyonebank"
    shown = srender_reply.reply_message(Reply.error(typed))["text"]
    assert shown.endswith("a…") and "@everyone" not in shown
    assert srender.escape("@everyonebank") == "@everyonebank"
