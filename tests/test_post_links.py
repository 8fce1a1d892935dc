"""A chat message's own link read back to the post it is (bot/post_links.py), in each
platform's shapes as its users copy them."""
from __future__ import annotations

import pytest

from bot.post_links import message_of


@pytest.mark.parametrize("link, message", [
    ("https://t1.slack.com/archives/C0123/p1700000000123456", ("slack", "C0123:1700000000.123456")),
    ("https://T1.Slack.com/archives/c0123/p1700000000123456/?thread_ts=1.2&cid=C0123",
     ("slack", "C0123:1700000000.123456")),
    ("https://agency.slack-gov.com/archives/C9/p1700000000000100#x", ("slack", "C9:1700000000.000100")),
    ("https://discord.com/channels/111/222/333", ("discord", "333")),
    ("https://ptb.discordapp.com/channels/@me/222/333/", ("discord", "333")),
    ("https://canary.discord.com/channels/111/222/333?x=1", ("discord", "333")),
])
def test_each_platforms_message_link_names_its_message(link, message):
    assert message_of(link) == message


@pytest.mark.parametrize("link", [
    "https://news.example.com/lead", "lead", "",
    "https://t1.slack.com/archives/C0123",               # a channel, no message
    "https://evil.example/t1.slack.com/archives/C0123/p1700000000123456",
    "https://discord.com/channels/111/222",              # a channel, no message
    "http://discord.com/channels/111/222/333",
])
def test_other_text_is_no_message_link(link):
    assert message_of(link) is None
