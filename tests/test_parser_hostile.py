"""Hostile feed text: kept verbatim and flagged, and invisible characters never reach a
story from RSS or JSON Feed. Every test runs through both XML readers (tests/parser_kit.py)."""
from __future__ import annotations

import json

import pytest

from feeds.models import UNDATED
from tests.parser_kit import rss, parse, set_reader


reader = pytest.fixture(set_reader, name="reader", autouse=True, params=["auto", "feedparser"])


@pytest.mark.parametrize("title, description, flags", [
    ("<![CDATA[@everyone Free GPUs]]>", "calm text", ("mention",)),
    ("Update", "ping &lt;!channel&gt; now", ("mention",)),
    ("Update", "<![CDATA[<p>hi <@U123ABC></p>]]>", ("mention",)),
    ("<![CDATA[<!here> look]]>", "x", ("mention",)),
    ("Role ping &lt;@&amp;123&gt;", "x", ("mention",)),
    ("Deal", "[click](http://evil.example)", ("link",)),
    ("<![CDATA[<http://evil.example|Google> pricing]]>", "x", ("link",)),
    ("@here", "[c](http://e.example)", ("mention", "link")),
    ("Alibaba cuts Qwen prices", "Ordinary [1] text (really)", ()),
])
def test_hostile_text_is_kept_verbatim_and_flagged(title, description, flags):
    s = parse(rss(f"<item><title>{title}</title><link>https://x.com/1</link>"
                  f"<description>{description}</description></item>")).stories[0]
    assert s.flags == flags + (UNDATED,)      # (no <pubDate> in these items)
    for needle in ("@everyone", "@here", "<!channel>", "[click](http://evil.example)"):
        if needle in title + description.replace("&lt;", "<").replace("&gt;", ">"):
            assert needle in s.title + "\n" + s.text


# Drawn by nothing, acted on by terminals and chat clients: an ANSI colour (ESC), an
# OSC title's BEL, bidi override and isolate, a zero-width space splitting a mention, a
# BOM and a Unicode tag character; and default-ignorable marks and letters that hide in
# a word (a combining grapheme joiner, a variation selector, Mongolian and Khmer ones, a
# Hangul filler). (C1 controls such as CSI, U+009B, are read as the windows-1252
# characters they mostly are, on both XML paths.)
INVISIBLE = "\x1b\x07\u202e\u2066\u200b\ufeff\U000e0041\u034f\U000e0100\u180b\u17b4\u3164"


def test_invisible_characters_never_reach_a_story():
    # XML forbids ESC and BEL but feedparser's loose reading takes them as references;
    # bidi and zero-width characters are valid XML on either path.
    refs = "".join(f"&#{ord(c)};" for c in INVISIBLE)
    item = (f"<item><title>Open{refs}AI [31m</title><link>https://x.com/1</link>"
            f"<dc:creator>Ed{refs}</dc:creator>"
            f"<description>Text{INVISIBLE[2:]} here</description></item>")
    parsed = parse(rss(item, channel=f"<title>Wire{refs}</title>"))
    (story,) = parsed.stories
    assert (parsed.title, story.source, story.title, story.author, story.text, story.summary) \
        == ("Wire", "Wire", "OpenAI [31m", "Ed", "Text here", "Text here")


def test_invisible_characters_never_reach_a_json_feed_story():
    emoji = "\U0001F468\u200d\U0001F469"   # ZWJ joins an emoji sequence: kept
    hidden = INVISIBLE + "\x9b"   # JSON carries C1 controls as they are
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": f"J{hidden}",
                       "items": [{"id": "1", "url": "https://x.com/1",
                                  "title": f"\x1b]0;pwned\x07T{hidden} {emoji}",
                                  "content_text": f"a{hidden}\n\nb",
                                  "authors": [{"name": f"A{hidden}"}]}]}).encode()
    parsed = parse(body)
    (story,) = parsed.stories
    assert (parsed.title, story.source, story.title, story.text, story.author) == (
        "J", "J", f"]0;pwnedT {emoji}", "a\nb", "A")


@pytest.mark.parametrize("title, stored", [
    ("paypal.c&#x34F;om: verify", "paypal.com: verify"),          # combining grapheme joiner
    ("paypal.c&#xFE0F;om: verify", "paypal.com: verify"),         # VS16 after a letter
    ("paypal.&#xFE0F;com: verify", "paypal.com: verify"),         # or a dot
    ("paypal&#x3164;.com: verify", "paypal.com: verify"),         # a Hangul filler
    ("Qwen &#x2764;&#xFE0F; devs", "Qwen \u2764\ufe0f devs"),     # an emoji's selector: kept
    ("&#x31;&#xFE0F;&#x20E3; Alibaba", "1\ufe0f\u20e3 Alibaba"),  # a keycap's too
    ("Qwen &#x1F600;&#xFE0F;&#xFE0E;&#xFE0F; devs", "Qwen \U0001f600\ufe0f devs"),  # one, not a run
])
def test_a_mark_that_draws_nothing_never_reaches_a_story_title(title, stored):
    """A title shown as "paypal.com: verify" was stored with the mark inside: searched
    for, copied or read by the LLM, it was another text than the one shown."""
    (story,) = parse(rss(f"<item><title>{title}</title><link>https://x.com/1</link>"
                         "<description>text</description></item>")).stories
    assert story.title == stored


def test_json_feed_hostile_title():
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [
        {"id": "1", "url": "https://x.com/1", "title": "<!channel> <http://evil|Google>",
         "content_text": "@everyone"}]}).encode()
    s = parse(body).stories[0]
    assert (s.title, s.text, s.flags) == ("<!channel> <http://evil|Google>", "@everyone",
                                        ("mention", "link", UNDATED))
