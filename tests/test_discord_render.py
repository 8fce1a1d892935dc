"""Briefs as Discord embeds: inert feed text, Discord's size limits, the invite link."""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.discord import render, render_reply, render_roundup
from bot.roundup_text import overflow_title
from bot.discord.invite import invite_url
from bot.examples import subscribe_named
from bot.replies import Reply
from feeds.models import Brief
from tests.discord_kit import HOSTILE, visible_text

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def make_brief(**kw) -> Brief:
    base = dict(id="s1", headline="Alibaba open-sources Qwen 3",
                bullets=("Weights are public.", "Apache-2.0 licence.", "Cheaper API too."),
                why_it_matters="Pressure on paid models.", url="https://news.example/qwen",
                source="Reuters", published=WHEN, companies=("Alibaba",), topics=("open-source",))
    base.update(kw)
    return Brief(**base)


def test_brief_embed_is_exactly_what_discord_receives():
    brief = make_brief(dek="A dek.", bullets=("One.", " ", "Two."), companies=("Alibaba", "Baidu"),
                       also_reported_by=("FT", "Caixin"))
    assert render.brief_embed(brief).to_dict() == {
        "type": "rich", "flags": 0, "title": "Alibaba open-sources Qwen 3",
        "url": "https://news.example/qwen",
        "description": "• One.\n• Two.", "color": 0x2ECC71,
        "timestamp": "2026-03-01T12:00:00+00:00",
        "fields": [{"name": "Why it matters", "value": "Pressure on paid models.",
                    "inline": False},
                   {"name": "Topics", "value": "open-source", "inline": False}],
        "footer": {"text": "Reuters · Alibaba, Baidu · also reported by FT, Caixin"}}


def test_brief_embed_layout():
    embed = render.brief_embed(make_brief())
    d = embed.to_dict()
    assert d["title"] == "Alibaba open-sources Qwen 3"
    assert d["url"] == "https://news.example/qwen"
    assert d["description"].splitlines() == ["• Weights are public.", "• Apache-2.0 licence.",
                                             "• Cheaper API too."]
    assert d["fields"] == [{"name": "Why it matters", "value": "Pressure on paid models.",
                            "inline": False},
                           {"name": "Topics", "value": "open-source", "inline": False}]
    assert d["footer"]["text"] == "Reuters · Alibaba"
    assert d["timestamp"].startswith("2026-03-01T12:00:00")
    assert d["color"] == render.TOPIC_COLOURS["open-source"]


BLURPLE = 0x5865F2
DEFAULT_TOPICS = ["open-source", "pricing", "funding", "acquisitions", "partnerships", "chips",
                  "policy", "models", "leadership", "enterprise", "china"]


@pytest.mark.parametrize("topics, colour", [
    (("chips", "policy"), render.TOPIC_COLOURS["chips"]),
    (("my-own-topic",), BLURPLE),
    ((), BLURPLE),
])
def test_colour_follows_first_topic(topics, colour):
    assert render.brief_embed(make_brief(topics=topics)).colour.value == colour


def test_every_default_topic_has_a_colour_of_its_own():
    colours = [render.brief_embed(make_brief(topics=(t,))).colour.value for t in DEFAULT_TOPICS]
    assert BLURPLE not in colours and len(set(colours)) == len(DEFAULT_TOPICS)


@pytest.mark.parametrize("text, word", HOSTILE)
@pytest.mark.parametrize("where", ["headline", "bullets", "why_it_matters", "source", "companies"])
def test_hostile_feed_text_is_inert(text, word, where):
    value = {"bullets": (text,), "companies": (text,)}.get(where, text)
    shown = visible_text(render.brief_embed(make_brief(**{where: value})))
    assert not re.search(r"@(everyone|here)", shown)           # no mass ping
    assert not re.search(r"<([@#/:]|a:|id:|t:)", shown)         # no mention, link or emoji
    assert not re.search(r"\]\(", shown)                       # no masked link
    assert word in shown                                       # still readable


@pytest.mark.parametrize("fn,text,shown", [
    (render.inert, "see [Google](http://evil.example/x) @everyone <@123> **b** `c`",
     "see Google (http://evil.example/x) @\u200beveryone <\u200b@123> \\*\\*b\\*\\* \\`c\\`"),
    (render.inert, "a](b @HERE", "a]\u200b(b @\u200bHERE"),
    (render.inert, "Feeds:\n  - Wire", "Feeds:\n  \\- Wire"),
    (render.plain, "see [Google](http://evil.example/x)  @here <#1> **b**",
     "see Google (http://evil.example/x) @\u200bhere <\u200b#1> **b**"),
])
def test_neutralising_keeps_every_character_readable(fn, text, shown):
    """Zero-width breaks and escapes, never deletions: the reader sees what was written."""
    assert fn(text) == shown


@pytest.mark.parametrize("text,limit,cut", [
    ("x" * 10, 10, "x" * 10), ("abcdefgh", 5, "abcd…"), ("ab cdefg", 4, "ab…"),
    ("ab\\*cdef", 4, "ab…"), ("ab\\\\cdef", 5, "ab\\\\…"),
])
def test_clip_cuts_with_an_ellipsis_and_never_half_an_escape(text, limit, cut):
    assert render.clip(text, limit) == cut


@pytest.mark.parametrize("target,code", [("Moonshot AI", True), ("Odd`Name", False),
                                         ("Two\nlines", False)])
def test_an_example_is_code_unless_its_value_could_end_the_code_span(target, code):
    shown = render_reply.example_code(subscribe_named(target))
    assert shown.startswith("`") is code


def test_masked_link_shows_its_real_target():
    shown = render.inert("see [Google](http://evil.example/x) now")
    assert "Google (http://evil.example/x)" in shown


def test_markdown_in_feed_text_is_escaped():
    assert render.inert("**bold** _it_ `code` ~~s~~ ||spoiler||") == \
        r"\*\*bold\*\* \_it\_ \`code\` \~\~s\~\~ \|\|spoiler\|\|"


# Discord hides a backslash only before ASCII punctuation; anywhere else it shows.
SHOWN_BACKSLASH = re.compile(r"\\(?![!-/:-@\[-`{-~])")


@pytest.mark.parametrize("text, shown", [
    ("This channel gets:\n  - all AI strategy stories", "  - all AI strategy stories"),
    ("Feeds:\n  * Wire\n  + Caixin", "  * Wire"),
    ("Note:\n  -# small print", "  -# small print"),
])
def test_indented_list_lines_show_no_stray_backslash(text, shown):
    """/subscriptions lists "  - ..." lines: escaped, they must still read cleanly."""
    content = render_reply.reply_payload(Reply.message(text))["content"]
    assert not SHOWN_BACKSLASH.search(content), content
    assert shown == re.sub(r"\\(?=[!-/:-@\[-`{-~])", "", content.splitlines()[1])


BIG = "x" * 10_000
HUGE_WORDS = ("word " * 2_000).strip()


@pytest.mark.parametrize("field", ["headline", "bullets", "why_it_matters", "source",
                                   "companies", "also_reported_by", "everything"])
@pytest.mark.parametrize("filler", [BIG, HUGE_WORDS, "*_" * 5_000, "@everyone " * 1_000])
def test_embed_stays_within_discord_limits(field, filler):
    if field == "everything":
        brief = make_brief(headline=filler, bullets=(filler,) * 3, why_it_matters=filler,
                           source=filler, companies=(filler,), also_reported_by=(filler,))
    elif field in ("bullets", "companies", "also_reported_by"):
        brief = make_brief(**{field: (filler,) * 3})
    else:
        brief = make_brief(**{field: filler})
    embed = render.brief_embed(brief)
    assert_within_limits([embed])
    assert embed.title and embed.description    # truncated, never emptied


@pytest.mark.parametrize("filler", [BIG, HUGE_WORDS, "https://n.example/a_b " * 500,
                                    "@everyone " * 1_000])
def test_a_posts_text_stays_within_discords_limit_and_unfurls_nothing(filler):
    """The headline beside a post's embed: never over 2,000 characters (Discord refuses
    the post), and a link in it in <...> (a bare one adds a preview card under the post)."""
    content = render.post_content(make_brief(headline=filler, source=filler))
    assert 0 < len(content) <= render.CONTENT_MAX
    assert not re.search(r"(?<!<)https?://", content), content


def assert_within_limits(embeds):
    assert len(embeds) <= 10
    assert sum(len(e) for e in embeds) <= 6000
    for e in embeds:
        assert len(e.title or "") <= 256
        assert len(e.description or "") <= 4096
        assert all(len(f.value) <= 1024 and len(f.name) <= 256 for f in e.fields)
        assert len(e.footer.text or "") <= 2048
        assert not (e.description or "").endswith("\\…")


@pytest.mark.parametrize("count", [1, 3, 10])
def test_digest_of_big_briefs_fits_one_message(count):
    briefs = [make_brief(id=str(i), headline=f"{i} {BIG}", bullets=(BIG,) * 3,
                         why_it_matters=BIG, source=BIG) for i in range(count)]
    embeds = render_roundup.digest_embeds("Today", briefs)
    assert len(embeds) == count
    assert_within_limits(embeds)
    assert [e.title[:2].strip() for e in embeds] == [str(i) for i in range(count)]


@pytest.mark.parametrize("count", [11, 25])
def test_digest_over_ten_is_one_list_of_linked_headlines(count):
    briefs = [make_brief(id=str(i), headline=f"Story {i} [x]", url=f"https://n.example/{i}_(a)")
              for i in range(count)]
    (embed,) = render_roundup.digest_embeds("Weekly roundup", briefs)
    lines = embed.description.splitlines()
    assert len(lines) == count and embed.footer.text == f"{count} stories"
    assert embed.colour.value == BLURPLE
    assert lines[0] == r"• [Story 0 \[x\]](https://n.example/0_%28a%29) (Reuters)"
    assert embed.title == "Weekly roundup"


def test_a_headline_naming_another_address_does_not_link_the_title():
    brief = make_brief(headline="paypal.com: verify your account", url="https://n.example/1")
    embed = render.brief_embed(brief)
    assert embed.url is None and embed.fields[-1].name == "Link"
    assert embed.fields[-1].value == "https://n.example/1"
    plain_one = render.brief_embed(make_brief(url="https://n.example/1"))
    assert plain_one.url == "https://n.example/1" and "Link" not in [f.name for f in plain_one.fields]


def test_a_headline_naming_another_address_is_not_the_link_text():
    """A headline "paypal.com: verify ..." as the text of a link elsewhere spoofs it:
    it is shown plain, the story's own address beside it."""
    briefs = [make_brief(id=str(i), headline="paypal.com: verify your account",
                         url=f"https://n.example/{i}") for i in range(11)]
    (embed,) = render_roundup.digest_embeds("Roundup", briefs)
    line = embed.description.splitlines()[0]
    assert line == "• paypal.com: verify your account (Reuters) <https://n.example/0>"


@pytest.mark.parametrize("text, word", HOSTILE + [("[ok](http://evil.example/(y))", "evil"),
                                          ("||spoiler|| **bold**", "spoiler")])
@pytest.mark.parametrize("where", ["headline", "source"])
def test_hostile_feed_text_is_inert_in_the_digest_list(text, word, where):
    """Over ten stories, a roundup is one list of masked links to the stories: feed text
    around them must not add a link, a mention or formatting of its own."""
    briefs = [make_brief(id=str(i), url=f"https://n.example/{i}", **{where: text})
              for i in range(12)]
    (embed,) = render_roundup.digest_embeds("Roundup", briefs)
    for line in embed.description.splitlines():
        ours = re.escape("](https://n.example/")
        rest = re.sub(ours + r"\d+\)", "", line, count=1)
        assert not re.search(r"\]\(", rest), line            # only our own link
        assert not re.search(r"@(everyone|here)|<[@#/]", rest), line
        assert not re.search(r"(?<!\\)(\*\*|\|\|)", rest), line   # no live markdown
        assert word in line


@pytest.mark.parametrize("n, said", [
    (1, "Morning roundup: 1 story: Alibaba open-sources Qwen 3 (Reuters)"),
    (3, "Morning roundup: 3 stories: Alibaba open-sources Qwen 3 (Reuters); "
        "Baidu cuts Ernie 1 prices (Caixin); Baidu cuts Ernie 2 prices (Caixin)"),
    (12, "Morning roundup: 12 stories: Alibaba open-sources Qwen 3 (Reuters); "
         "Baidu cuts Ernie 1 prices (Caixin); Baidu cuts Ernie 2 prices (Caixin); "
         "…and 9 more"),
])
def test_a_roundups_text_names_its_first_stories(n, said):
    """A roundup's text line was its title alone ("AI strategy digest, Sun 01 Mar
    2026"), all a phone's notification shows: it named no story. It names the first
    three, as Slack's roundup text does."""
    briefs = [make_brief()] + [make_brief(id=str(i), headline=f"Baidu cuts Ernie {i} prices",
                                          source="Caixin") for i in range(1, n)]
    assert render_roundup.digest_content("Morning roundup", briefs) == said


@pytest.mark.parametrize("text, word", HOSTILE + [("see https://n.example/a_b", "n.example")])
@pytest.mark.parametrize("filler", [1, 400])
def test_a_roundups_text_is_inert_and_short(text, word, filler):
    """Feed text there pings no one, links nothing (no preview card under the roundup)
    and stays a notification's few lines however long the headlines."""
    briefs = [make_brief(id=str(i), headline=f"{text} {'x' * filler}", source=text)
              for i in range(5)]
    content = render_roundup.digest_content("Roundup", briefs)
    assert word in content and len(content) <= 600
    assert not re.search(r"@(everyone|here)|<[@#/:at]|\]\(|(?<!<)https?://", content), content


@pytest.mark.parametrize("word", ["x" * n for n in range(1, 13)])
def test_a_roundups_text_keeps_its_count_of_the_rest_when_links_fill_it(word):
    """Each link there goes in <...> (no preview card), which lengthened a line already
    cut to 600: headlines full of links under the hourly cap's long title lost the
    "…and 2 more" to the second cut, so the text read as if it named every story."""
    links = " ".join(f"http://{c}.io" for c in "abcdefghijklmn")
    briefs = [make_brief(id=str(i), headline=f"{word} {links}", source="Caixin")
              for i in range(5)]
    content = render_roundup.digest_content(overflow_title(10), briefs)
    assert content.endswith("; …and 2 more") and len(content) <= 600, content
    assert "<http://a.io>" in content and not re.search(r"(?<!<)https?://", content)


# Headline lengths of a 40-story roundup. 20 lines of 200 and one of 21 would end the
# list one character past Discord's 4,096 if the line after them were let in.
LAYOUTS = {f"all-{n}": [n] * 40 for n in range(150, 200)}
LAYOUTS["one-char-over"] = [200] * 20 + [21] + [200] * 19


@pytest.mark.parametrize("lengths", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_digest_list_fills_the_description_but_never_overflows_it(lengths):
    """Discord refuses a description over 4,096 characters; short of that, the list goes
    on while one more line and the "… and N more" count still fit."""
    briefs = [make_brief(id=str(i), headline="h" * n, url="", source="")
              for i, n in enumerate(lengths)]
    (embed,) = render_roundup.digest_embeds("", briefs)
    *shown, more = embed.description.split("\n")
    assert embed.title == "Digest" and shown[0] == "• " + "h" * lengths[0]
    assert more == f"… and {len(lengths) - len(shown)} more"
    assert 0 <= 4096 - len(embed.description) <= lengths[len(shown)] + 3


def test_digest_list_cuts_off_with_a_count_when_full():
    briefs = [make_brief(id=str(i), headline=f"{i} " + "y" * 300) for i in range(100)]
    (embed,) = render_roundup.digest_embeds("Big", briefs)
    assert_within_limits([embed])
    assert re.fullmatch(r"… and \d+ more", embed.description.splitlines()[-1])


@pytest.mark.parametrize("url, expected", [
    ("https://a.example/x?y=1", "https://a.example/x?y=1"),
    ("http://a.example/", "http://a.example/"),
    ("javascript:alert(1)", None),
    ("ftp://a.example/file", None),
    ("", None),
    ("https://", None),
    ("https://a.example/" + "p" * 3000, None),
    ("https://a.example/" + "p" * 2030, "https://a.example/" + "p" * 2030),   # 2,048: fits
    ("https://a.example/" + "p" * 2031, None),                                # 2,049: not
    ("  https://a.example/x \n", "https://a.example/x"),
    # Discord refuses an embed whose url is not well formed (400): feeds do carry these.
    ("https://a.example/AI news/qwen 3", "https://a.example/AI%20news/qwen%203"),
    ("https://bücher.example/künstliche-intelligenz",
     "https://xn--bcher-kva.example/k%C3%BCnstliche-intelligenz"),
    # IDNA 2008, as browsers: Python's codec made it strasse.de, another site
    ("https://stra\u00dfe.de/ki", "https://xn--strae-oqa.de/ki"),
    ("https://ed@stra\u00dfe.de:8443/ki", "https://ed@xn--strae-oqa.de:8443/ki"),
])
def test_only_http_links_in_embed_title(url, expected):
    assert render.brief_embed(make_brief(url=url)).url == expected


def test_brief_without_bullets_uses_dek():
    embed = render.brief_embed(make_brief(bullets=(), dek="A short dek."))
    assert embed.description == "A short dek."
    assert render.brief_embed(make_brief(headline="")).title == "(untitled)"


@pytest.mark.parametrize("text", ["a\\" * 300, "\\" * 5000, "ab" * 3000])
def test_clip_never_leaves_a_dangling_escape(text):
    out = render.clip(render.inert(text), 101)
    assert len(out) <= 101
    body = out.removesuffix("…")
    assert (len(body) - len(body.rstrip("\\"))) % 2 == 0


@pytest.mark.parametrize("reply, content, ephemeral, n_embeds", [
    (Reply.error("No company called <@1>"), "⚠️ No company called <\u200b@1>", True, 0),
    (Reply.message("Subscribed to **pricing**", ephemeral=False),
     r"Subscribed to \*\*pricing\*\*", False, 0),
    (Reply(kind="briefs", title="Latest on Alibaba", briefs=(make_brief(),)),
     "Latest on Alibaba", True, 1),
    (Reply(kind="briefs", text="Nothing about Foo yet."), "Nothing about Foo yet.", True, 0),
    (Reply(kind="briefs", title="Latest on Foo", text="Nothing about Foo yet."),
     "Nothing about Foo yet.", True, 0),
    (Reply(kind="briefs", title="Latest on Foo"), "Latest on Foo", True, 0),
    (Reply(kind="text"), "Nothing to show.", True, 0),
    (Reply(kind="briefs", briefs=(make_brief(),)), None, True, 1),
    (Reply(kind="briefs", briefs=(make_brief(),) * 12),                     # Discord's cap,
     "Showing 10 of 12: a Discord message holds 10.", True, 10),           # said
])
def test_reply_payload(reply, content, ephemeral, n_embeds):
    payload = render_reply.reply_payload(reply)
    assert payload["content"] == content
    assert payload["ephemeral"] is ephemeral
    assert len(payload["embeds"]) == n_embeds


def feed_list(lines: int) -> str:
    return "\n".join(f"feed {i}: https://feeds.example/{i}.xml ok" for i in range(lines))


@pytest.mark.parametrize("text, in_embed", [
    (feed_list(20), False), (feed_list(300), True), (feed_list(5000), True),
    ("x" * 2000, False), ("x" * 2001, True)], ids=["20", "300", "5000", "2000ch", "2001ch"])
def test_long_text_replies_move_into_an_embed(text, in_embed):
    """Discord refuses content over 2,000 characters: such a reply becomes an embed."""
    payload = render_reply.reply_payload(Reply.message(text))
    if in_embed:
        (embed,) = payload["embeds"]
        assert payload["content"] is None and payload["ephemeral"] is True
        assert embed.description.startswith(text[:40]) and embed.colour.value == BLURPLE
        assert len(embed.description) <= 4096
    else:
        assert payload["content"] == text and payload["embeds"] == []


def test_invite_url_has_scopes_and_only_minimal_permissions():
    url = invite_url(1100000000000000001)
    q = parse_qs(urlsplit(url).query)
    assert urlsplit(url).netloc == "discord.com"
    assert q["client_id"] == ["1100000000000000001"]
    assert q["scope"][0].split() == ["bot", "applications.commands"]
    # Discord's documented bits: View Channel 10, Send Messages 11, Embed Links 14,
    # Read Message History 16, Create Public Threads 35, Send Messages in Threads 38;
    # nothing else.
    assert int(q["permissions"][0]) == \
        (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 35) | (1 << 38)


def test_importing_the_package_does_not_load_discord_py():
    """`ainews --help` and the console path must not pay for discord.py's import."""
    root = Path(__file__).resolve().parents[1]
    code = "import sys, bot.discord; print('discord' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_a_briefs_topics_are_labelled_topics_as_in_slack():
    """Discord showed a "Context" field (Baidu · pricing) where Slack showed "Topics:
    pricing" for the same brief; the generated line only repeats the footer's companies
    and the topics, and is left out as Slack leaves it out. A stated why is labelled."""
    b = make_brief(id="g", headline="Baidu prices Ernie", bullets=("Cuts prices.",),
                   why_it_matters="Context: Baidu · pricing", why_is_generated=True,
                   companies=("Baidu",), topics=("pricing",))
    d = render.brief_embed(b).to_dict()
    assert d["fields"] == [{"name": "Topics", "value": "pricing", "inline": False}]
    assert d["footer"]["text"] == "Reuters · Baidu"
    stated = render.brief_embed(replace(b, why_it_matters="Prices fall.", why_is_generated=False))
    assert [f["name"] for f in stated.to_dict()["fields"]] == ["Why it matters", "Topics"]


# Headlines as outlets write them (MAX_HEADLINE is 120): ten in one lookup answer.
HEADLINES = ["Startup Lumen raises $40m to build agents for procurement teams",
             "Microsoft expands its pact with OpenAI in 'multibillion dollar' deal",
             "‘AI is going to reinvent how you do everything on Windows,’ says Microsoft’s "
             "Windows boss",
             "Google Assistant might be doomed: division reorganizes to focus on Bard"]


def test_ten_briefs_in_one_answer_keep_their_headlines_whole():
    """`/latest limit:10`: a tenth of the embed budget each cut every title at 60
    characters, mid-word ("... agents for procurement t…")."""
    briefs = [make_brief(id=f"s{i}", headline=HEADLINES[i % len(HEADLINES)],
                         bullets=("A long bullet about the deal and what it changes. " * 4,) * 3)
              for i in range(10)]
    embeds = render_reply.reply_payload(Reply(kind="briefs", title="Latest", briefs=tuple(briefs),
                                        shareable=True))["embeds"]
    assert [e.title for e in embeds] == [b.headline for b in briefs]
    assert sum(len(e) for e in embeds) <= render.EMBED_TOTAL_MAX


ZH = ("阿里巴巴宣布将通义千问大模型的部分开源权重转为付费授权，并加大对云计算客户的企业级服务投入。",
      "分析人士认为，此举反映出公司在人工智能研发上的巨额投入需要尽快变现，同时也是为了与腾讯和百度竞争。",
      "开发者社区担心，免费高质量模型的减少将影响中小企业和研究机构的创新能力，并推动行业转向闭源路线。")


@pytest.mark.parametrize("text, limit, cut", [
    ("Apple describes the new digital narration feature on its website", 40,
     "Apple describes the new digital…"),
    ("阿里巴巴宣布通义千问大模型API价格下调50%，加剧国内大模型价格战", 16, "阿里巴巴宣布通义千问大模型…"),
    # Chinese bullets: the last space is the next bullet's, which left it "•…"
    pytest.param(f"• {ZH[0]}\n• {ZH[1]}", 60, f"• {ZH[0]}\n• 分析人士认为…", id="zh-bullets"),
])
def test_clip_ends_at_a_word_not_inside_one(text, limit, cut):
    """A description or footer cut to fit read "... in Apple B…"; text without spaces
    (Chinese) is cut where it must, but not inside a Latin word or figure in it."""
    assert render.clip(text, limit) == cut


def test_a_link_too_long_for_a_field_beside_the_title_is_still_there_whole():
    """A headline naming another address gets its story's link in a "Link" field; a
    link over the field's 1,024 characters was dropped, and the post linked nowhere."""
    url = "https://news.google.com/rss/articles/CBMi" + "x" * 1500
    brief = make_brief(headline="Amazon.com invests another $4 billion in Anthropic", url=url)
    embed = render.brief_embed(brief)
    assert embed.url is None and "Link" not in [f.name for f in embed.fields]
    assert (embed.author.name, embed.author.url) == ("news.google.com", url)


def test_chinese_briefs_cut_to_fit_end_in_a_bullet_with_text():
    """Ten Chinese briefs in one answer: each one's bullets ended in an empty "•…" (the
    cut went back to the space after the last bullet's "•"), its room left unused."""
    brief = make_brief(headline="阿里巴巴将通义千问部分模型转为付费授权，以提升云业务盈利能力并应对竞争",
                       bullets=(ZH[0] + ZH[1] + ZH[2], ZH[1] + ZH[2] + ZH[0], ZH[2] + ZH[0] + ZH[1]),
                       why_it_matters=ZH[1] * 2, source="36氪", topics=("pricing", "china"))
    embed = render.brief_embeds([brief] * 10)[0]
    last = embed.description.splitlines()[-1]
    assert last.startswith("• ") and len(last) > 20 and last.endswith("…"), last
    assert len(embed) > 570        # of its 600: the room went to the bullets
