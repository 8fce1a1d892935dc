"""What a user types is echoed in the answer ("no company '@everyone'", "Search: ..."):
through the real slack-bolt and discord.py against the fakes, no command's answer
pings anyone, links anywhere or restyles itself, whatever the arguments. (Feed text:
test_slack_render.py, test_discord_render.py and the soak.)"""
from __future__ import annotations

import re

import pytest

from bot.slack import render

HOSTILE = ["@everyone", "@here", "@channel", "<!channel>", "<!here|here>", "<@U0BOSS>",
           "<@&123456789012345678>", "<#123456789012345678>", "<!subteam^S1|devs>",
           "[Google](http://evil.example)", "<http://evil.example|Google>",
           "</ban:123> <t:1700000000:R>"]
# (what a Slack user types, around the argument; the Discord command and option; admin?)
COMMANDS = {
    "company": ("/company", "{}", "company", "name", False),
    "latest": ("/latest", "{}", "latest", "topic", False),
    "search": ("/ainews", "search {}", "search", "query", False),
    "topic": ("/ainews", "topic {}", "topic", "slug", False),
    "why": ("/ainews", "why {}", "why", "link", False),
    "subscribe": ("/subscribe", "{}", "subscribe", "target", True),
    "unsubscribe": ("/unsubscribe", "{}", "unsubscribe", "target", True),
    "digest": ("/digest", "daily {}", "digest", "at", True),
    "digest zone": ("/digest", "daily 08:30 {}", "digest", "timezone", True),
}
# Discord options the command needs besides the hostile one.
FIXED = {"digest": {"mode": "daily"}, "digest zone": {"mode": "daily", "at": "08:30"}}
PINGS = {"slack": re.compile(r"@(everyone|here|channel)\b|<[!@#]", re.IGNORECASE),
         "discord": re.compile(r"@(everyone|here)\b|<([@#/:]|a:|t:|id:)", re.IGNORECASE)}
# Link text that can differ from its target (Discord shows <http://a|b> as that address).
LINKS = {"slack": re.compile(r"\]\(|<https?:"), "discord": re.compile(r"\]\(")}
# Our own tokens in a Slack answer: a reader's local time and a link to a stored story.
OURS = re.compile(r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>"
                  r"|<https://news\.example/[^<>|\s]*(?:\|[^<>]*)?>")


async def shown(chat, slack, discord, admin) -> list[tuple[str, str]]:
    """(how it renders, text) of each part of the answer: Slack's plain_text shows
    everything as typed, its mrkdwn and Discord's markdown act on links."""
    if chat.platform == "discord":
        return [("markdown", await chat.ask(slack, discord, admin=admin))]
    _, rid = await chat.fake.slash_socket(*slack, user="UADMIN" if admin else "UPLAIN",
                                          channel=chat.channel)
    answer = await chat.fake.wait_response(rid, timeout=5)
    return render.all_texts(answer["blocks"]) + [("mrkdwn", answer["text"])]


@pytest.mark.parametrize("command", COMMANDS)
async def test_a_hostile_argument_comes_back_as_text(chat, command):
    slash, line, name, option, admin = COMMANDS[command]
    for hostile in HOSTILE:
        values = {option: hostile, **FIXED.get(command, {})}
        parts = await shown(chat, (slash, line.format(hostile)), (name, values), admin)
        for kind, text in parts:
            text = OURS.sub("", text)
            assert not PINGS[chat.platform].search(text), (hostile, text)
            if kind != "plain_text":        # Slack's plain_text renders no link
                assert not LINKS[chat.platform].search(text), (hostile, text)
        assert any(t.strip() for _, t in parts), hostile      # an answer, not silence
