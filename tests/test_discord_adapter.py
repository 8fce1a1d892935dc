"""Posting briefs to Discord: the delivery Adapter against the fake Discord on loopback."""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import replace

import pytest

from bot.adapter import PermanentError, RejectedError, TransientError
from bot.discord.adapter import DiscordAdapter
from bot.discord.render import text_fallback
from tests.discord_kit import MESSAGES, adapter_on_fake, first_channel, make_brief
from tests.fakes.discord import FakeDiscord, RecordingCommands, running_bot

@pytest.fixture
async def fake():
    server = await FakeDiscord(channel_ids=(1300000000000000001, 1300000000000000002)).start()
    yield server
    await server.close()


runner = pytest.fixture(adapter_on_fake, name="runner")
channel = pytest.fixture(first_channel, name="channel")


async def test_post_is_an_embed_with_token_nonce_and_no_mentions(fake, runner, channel):
    message_id = await runner.adapter.send(channel, make_brief(), nonce="outbox-17")
    (post,) = fake.find("POST", MESSAGES)
    assert post.path == f"/channels/{channel}/messages"
    assert post.authorization == f"Bot {fake.token}"
    assert post.json["allowed_mentions"] == {"parse": []}
    assert post.json["nonce"] == "outbox-17" and post.json["enforce_nonce"] is True
    (embed,) = post.json["embeds"]
    assert embed["title"] == "Baidu prices Ernie 0 below rivals"
    assert message_id in fake.messages
    assert runner.adapter.platform == "discord" and runner.adapter.min_interval == 1.0


async def test_hostile_brief_posts_inert(fake, runner, channel):
    brief = make_brief(headline="@everyone <@123> wins", bullets=("<@&123> [Google](http://evil)",),
                       why_it_matters="@here", source="<@123>")
    await runner.adapter.send(channel, brief, nonce="n1")
    (post,) = fake.find("POST", MESSAGES)
    text = str([post.json["embeds"], post.json["content"]])
    assert "@everyone" not in text and "@here" not in text
    assert "<@" not in text and "](http" not in text
    assert post.json["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize("headline, content", [
    ("Baidu prices Ernie below rivals", "Baidu prices Ernie below rivals — Caixin"),
    # A link in the text is shown without a preview card of its own, as where it goes.
    ("Read https://paypal.com@evil.example/x_y first",
     "Read <https://evil.example/x_y> first — Caixin"),
    ("**Baidu** [wins](http://evil.example) @here",
     "\\*\\*Baidu\\*\\* wins (<http://evil.example>) @\u200bhere — Caixin"),
])
async def test_a_post_names_its_story_outside_the_embed(fake, runner, channel, headline,
                                                        content):
    """An embed-only post reached a phone as a blank push notification, and a member who
    turned embeds off saw an empty message: the headline and outlet are its text too,
    without the story's link (Discord would add a preview card of the article)."""
    await runner.adapter.send(channel, make_brief(headline=headline), nonce="n1")
    (post,) = fake.find("POST", MESSAGES)
    assert post.json["content"] == content
    assert "https://news.example/0" in json.dumps(post.json["embeds"])   # the embed as before


async def test_retry_with_same_long_nonce_cannot_post_twice(fake, runner, channel):
    nonce = "outbox:discord:1300000000000000001:story-abcdef0123456789"
    first = await runner.adapter.send(channel, make_brief(), nonce=nonce)
    again = await runner.adapter.send(channel, make_brief(), nonce=nonce)
    posts = fake.find("POST", MESSAGES)
    assert len(posts[0].json["nonce"]) <= 25
    assert posts[0].json["nonce"] == posts[1].json["nonce"]
    assert first == again       # Discord answered the retry with the first message


async def test_rate_limit_with_via_is_waited_out(fake, runner, channel):
    fake.fail("POST", MESSAGES, 429, retry_after=0.05, via=True)
    message_id = await runner.adapter.send(channel, make_brief(), nonce="n1")
    assert [p.status for p in fake.find("POST", MESSAGES)] == [429, 200]
    assert message_id in fake.messages


@pytest.mark.parametrize("limited", ["post", "thread"])
async def test_a_request_given_up_in_a_global_rate_limit_does_not_block_later_posts(
        fake, runner, channel, limited):
    """A post (or its thread) that times out while discord.py waits out a global 429 must
    not leave discord.py's global lock shut: every later request would wait on it."""
    route = MESSAGES + (r"/\d+/threads" if limited == "thread" else "")
    fake.fail("POST", route, 429, retry_after=2.0, is_global=True)
    impatient = DiscordAdapter(runner.bot, timeout=0.5, threads=limited == "thread")
    if limited == "post":
        with pytest.raises(TransientError, match="no answer"):
            await impatient.send(channel, make_brief(1), nonce="n1")
    else:   # the post stands (a thread that can't be opened only logs)
        with contextlib.suppress(TransientError):    # unless the machine is very slow
            await impatient.send(channel, make_brief(1), nonce="n1")
    message_id = await runner.adapter.send(channel, make_brief(2), nonce="n2")
    assert fake.messages[message_id]["nonce"] == "n2"


@pytest.mark.parametrize("via, retry_after, is_global", [
    (False, 7, False),      # no Via: Cloudflare's limit, which discord.py doesn't retry
    (True, 90, False),      # longer than discord.py waits (max_ratelimit_timeout 30 s)
    (True, 90, True),
])
async def test_rate_limit_not_waited_out_is_transient_with_retry_after(fake, runner, channel,
                                                                       via, retry_after,
                                                                       is_global):
    fake.fail("POST", MESSAGES, 429, retry_after=retry_after, via=via, is_global=is_global)
    with pytest.raises(TransientError) as err:
        await runner.adapter.send(channel, make_brief(), nonce="n1")
    assert err.value.retry_after == retry_after
    assert await runner.adapter.send(channel, make_brief(), nonce="n1") in fake.messages


# fixable: its admins can make the channel take posts again, so delivery keeps its
# posts for /subscribe's resume; a deleted or non-text channel's fail.
@pytest.mark.parametrize("status, code, reason, fixable", [
    # A subscribed thread needs Send Messages in Threads: the reason must say so.
    (403, 50013, "Missing Permissions (needs Send Messages, or Send Messages in Threads",
     True),
    (403, 50001, "Missing Access", True),
    (404, 10003, "Unknown Channel", False),
    # A thread subscribed to and later archived or locked, a voice or forum channel:
    # Discord answers 400, yet no retry can ever post there.
    # 50083: archived AND locked (Discord reopens an archived thread it may post in).
    (400, 50083, "the thread is archived and locked: unlock it", True),
    (400, 160005, "the thread is locked: unlock it", True),
    (400, 50008, "not a text channel", False),
    (400, 50024, "not a text channel", False),
    (400, 40058, "forum channel", False),
])
async def test_channel_that_cannot_take_posts_is_permanent(fake, runner, channel, status, code,
                                                           reason, fixable):
    fake.fail("POST", MESSAGES, status, code=code)
    with pytest.raises(PermanentError) as err:
        await runner.adapter.send(channel, make_brief(), nonce="n1")
    assert reason in err.value.reason and channel in err.value.reason
    assert err.value.fixable == fixable


async def test_deleted_channel_is_permanent(fake, runner):
    with pytest.raises(PermanentError, match="Unknown Channel"):
        await runner.adapter.send("1399999999999999999", make_brief(), nonce="n1")


async def test_a_token_refused_over_rest_gives_no_post_up(fake, runner, channel):
    """A 401 was an ordinary transient error: eight tries, then the post marked failed."""
    fake.token = "reset-in-the-developer-portal"
    with pytest.raises(TransientError, match="refuses DISCORD_TOKEN") as err:
        await runner.adapter.send(channel, make_brief(), nonce="n1")
    assert err.value.down and err.value.retry_after == 600
    assert "reset-in" not in err.value.reason


async def test_status_shows_discord_held_while_it_refuses_the_token(fake, runner, channel,
                                                                    store):
    """`ainews status` said Discord was "connected" while every post waited on a token
    refused over REST (401); it says "held" and why, over a gateway reconnect meanwhile,
    until Discord takes a post again."""
    from bot.connections import ConnectionLog, read_connections
    runner.bot.connection = connection = ConnectionLog(store, "discord")
    connection.set("connected")
    token, fake.token = fake.token, "reset-in-the-developer-portal"
    with pytest.raises(TransientError):
        await runner.adapter.send(channel, make_brief(), nonce="n1")
    connection.set("connected")               # the gateway reconnected meanwhile
    shown = read_connections(store)["discord"]
    assert shown["state"] == "held" and "DISCORD_TOKEN" in shown["reason"]
    assert "401" in shown["reason"] and "posts wait" in shown["reason"]
    fake.token = token                        # Discord's own auth outage passed
    await runner.adapter.send(channel, make_brief(), nonce="n1")
    assert read_connections(store)["discord"]["state"] == "connected"


async def test_500_is_retried_by_discord_py(fake, runner, channel):
    fake.fail("POST", MESSAGES, 500)
    message_id = await runner.adapter.send(channel, make_brief(), nonce="n1")
    assert [p.status for p in fake.find("POST", MESSAGES)] == [500, 200]
    assert message_id in fake.messages


@pytest.mark.parametrize("status", [503, 400, 403, 404])
async def test_errors_without_discords_error_code_are_transient(fake, runner, channel, status):
    """Discord names what is wrong with a channel (10003, 50001, 50013...). A 403 or 404
    without such a code comes from in between (Cloudflare, an API proxy), not from the
    channel: pausing every subscription that posts meanwhile would be wrong."""
    fake.fail("POST", MESSAGES, status, code=0)
    with pytest.raises(TransientError, match=f"HTTP {status}"):
        await runner.adapter.send(channel, make_brief(), nonce="n1")


# Invalid Form Body and kin, and the server's AutoMod (keyword, harmful-link or
# explicit-content filters): this post can never go out as it is.
REFUSED_CODES = [50035, 50006, 50109, 200000, 200001, 240000, 20009]


@pytest.mark.parametrize("code", REFUSED_CODES)
async def test_refused_embed_posts_the_headline_and_link_as_text(fake, runner, channel, code):
    fake.fail("POST", MESSAGES, 400, code=code)
    brief = make_brief(headline="@everyone Baidu [wins](http://evil.example)")
    message_id = await runner.adapter.send(channel, brief, nonce="n1")
    refused, fallback = fake.find("POST", MESSAGES)
    assert (refused.status, fallback.status) == (400, 200) and message_id in fake.messages
    assert "embeds" not in fallback.json or not fallback.json["embeds"]
    text = fallback.json["content"]
    assert "Baidu" in text and "(Caixin)" in text and text.endswith("\nhttps://news.example/0")
    assert "@everyone" not in text and "](http" not in text
    assert fallback.json["allowed_mentions"] == {"parse": []}
    assert fallback.json["nonce"] == refused.json["nonce"]


@pytest.mark.parametrize("url, shown", [
    ("https://social.example/@everyone/1", "https://social.example/@%65veryone/1"),
    ("https://social.example/@Here?x=@everyone", "https://social.example/@%48ere?x=@%65veryone"),
])
async def test_refused_embed_text_link_names_no_mass_mention(fake, runner, channel, url, shown):
    """A handle in the story's address (Mastodon's "/@everyone") put "@everyone" into the
    fallback's text; allowed_mentions stopped the ping, but the text read as one. A
    letter and its %-escape are the same address (RFC 3986, 2.3): the link still works."""
    fake.fail("POST", MESSAGES, 400, code=200000)
    await runner.adapter.send(channel, make_brief(url=url), nonce="n1")
    _, fallback = fake.find("POST", MESSAGES)
    assert fallback.json["content"].endswith("\n" + shown), fallback.json["content"]


# Where a post shows its story's address as text: the Link field beside a headline that
# names another address, a roundup's list (its masked links, and the "<url>" beside a
# headline that names another address), the plain-text fallback.
SHOWN_LINK = {
    "link field": lambda a, c, b: a.send(c, replace(b, headline="paypal.com: verify"), nonce="n"),
    "roundup list": lambda a, c, b: a.send_digest(
        c, "Roundup", [b] + [make_brief(i) for i in range(1, 12)], nonce="n"),
    "roundup beside": lambda a, c, b: a.send_digest(
        c, "Roundup", [replace(b, headline="paypal.com: verify")]
        + [make_brief(i) for i in range(1, 12)], nonce="n"),
}


@pytest.mark.parametrize("post", SHOWN_LINK.values(), ids=SHOWN_LINK.keys())
async def test_a_story_address_shown_in_a_post_names_no_mass_mention(fake, runner, channel,
                                                                    post):
    """The fallback's fix, wherever a post shows the address: "@everyone" in a Link field
    or a roundup's line read as a ping to everyone who saw it."""
    brief = make_brief(url="https://social.example/@everyone/1?by=@here")
    await post(runner.adapter, channel, brief)
    (sent,) = fake.find("POST", MESSAGES)
    shown = json.dumps(sent.json)
    assert "https://social.example/@%65veryone/1?by=@%68ere" in shown, shown
    assert not re.search("@(everyone|here)", shown, re.IGNORECASE), shown


async def test_edit_updates_the_existing_message(fake, runner, channel):
    message_id = await runner.adapter.send(channel, make_brief(), nonce="n1")
    later = make_brief(headline="Baidu halves Ernie prices",
                       also_reported_by=("Reuters", "Bloomberg"))
    await runner.adapter.edit(channel, message_id, later)
    (patch,) = fake.find("PATCH", MESSAGES + "/" + message_id)
    assert patch.json["embeds"][0]["footer"]["text"] == \
        "Caixin · Baidu · also reported by Reuters, Bloomberg"
    # The text a notification and a member without embeds see follows the headline.
    assert fake.messages[message_id]["content"] == "Baidu halves Ernie prices — Caixin"
    assert patch.json["allowed_mentions"] == {"parse": []}
    assert len(fake.find("POST", MESSAGES)) == 1


async def test_editing_a_deleted_message_is_not_an_error(fake, runner, channel):
    await runner.adapter.edit(channel, "1599999999999999999", make_brief())   # no raise
    (patch,) = fake.find("PATCH", MESSAGES + r"/\d+")
    assert patch.status == 404


@pytest.mark.parametrize("count, embeds", [(1, 1), (10, 10), (12, 1), (40, 1)])
async def test_digest_is_one_message(fake, runner, channel, count, embeds):
    briefs = [make_brief(i) for i in range(count)]
    await runner.adapter.send_digest(channel, "Morning roundup", briefs, nonce="d1")
    (post,) = fake.find("POST", MESSAGES)
    assert len(post.json["embeds"]) == embeds
    # A notification names the stories (test_discord_render: digest_content).
    assert post.json["content"].startswith(f"Morning roundup: {count} stor")
    assert post.json["content"].count("(Caixin)") == min(count, 3)
    assert post.json["nonce"] == "d1" and post.json["enforce_nonce"] is True
    if embeds == 1 and count > 1:
        assert post.json["embeds"][0]["description"].count("https://news.example/") == count


async def test_threads_open_one_per_story_when_enabled(fake, channel):
    async with running_bot(fake, RecordingCommands(), discord_threads=True) as runner:
        message_id = await runner.adapter.send(channel, make_brief(), nonce="n1")
    (thread,) = fake.find("POST", rf"/channels/{channel}/messages/{message_id}/threads")
    assert thread.json["name"] == "Baidu prices Ernie 0 below rivals"


@pytest.mark.parametrize("threads, requests_per_post", [(False, 1), (True, 2)])
async def test_declared_budget_keeps_requests_within_discords_global_limit(fake, threads,
                                                                          requests_per_post):
    """Delivery paces posts to the adapter's max_rate/burst; with a thread per story each
    post is two requests, and Discord allows 50 per second for the whole bot (more
    collects 429s, and 10,000 of those in 10 minutes get the bot's IP banned)."""
    async with running_bot(fake, RecordingCommands(), discord_threads=threads) as runner:
        adapter = runner.adapter
    assert adapter.max_rate * requests_per_post <= 50
    assert adapter.burst * requests_per_post <= 50


async def test_thread_failure_does_not_fail_the_post(fake, channel):
    fake.fail("POST", MESSAGES + r"/\d+/threads", 403, code=50013)
    async with running_bot(fake, RecordingCommands(), discord_threads=True) as runner:
        message_id = await runner.adapter.send(channel, make_brief(), nonce="n1")
    assert message_id in fake.messages


async def test_a_channel_without_threads_is_logged_once_until_one_opens(fake, channel, caplog):
    """Every post's thread failing (no Create Public Threads) logged one warning per
    post; the posts go on without a thread, and the log says so once per channel."""
    fake.fail("POST", MESSAGES + r"/\d+/threads", 403, code=50013, times=3)
    async with running_bot(fake, RecordingCommands(), discord_threads=True) as runner:
        for i in range(3):
            await runner.adapter.send(channel, make_brief(i), nonce=f"n{i}")
        said = [r.getMessage() for r in caplog.records if "thread" in r.getMessage()]
        await runner.adapter.send(channel, make_brief(3), nonce="n3")      # opens again
        fake.fail("POST", MESSAGES + r"/\d+/threads", 403, code=50013)
        await runner.adapter.send(channel, make_brief(4), nonce="n4")
    assert len(fake.find("POST", MESSAGES)) == 5          # every post went out
    assert len(said) == 1 and f"could not open a thread in channel {channel}" in said[0]
    assert "Create Public Threads" in said[0]
    warned = [r for r in caplog.records if "could not open a thread" in r.getMessage()]
    assert len(warned) == 2      # once more after a thread opened in between


async def wait_until(predicate, timeout: float = 15.0) -> None:
    async def poll():
        while not predicate():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


async def test_post_after_gateway_reconnect(fake, runner, channel):
    await runner.adapter.send(channel, make_brief(1), nonce="before")
    await fake.drop_gateway()
    await fake.wait_for(lambda: fake.resumes == 1)
    await wait_until(runner.bot.gateway_ready.is_set)
    message_id = await runner.adapter.send(channel, make_brief(2), nonce="after")
    assert fake.messages[message_id]["embeds"][0]["title"] == "Baidu prices Ernie 2 below rivals"
    assert fake.identifies == 1          # resumed, not a new session


async def test_gateway_outage_is_transient_and_posts_resume_after(fake, runner, channel):
    fake.refuse_gateway = True
    await fake.drop_gateway()
    await wait_until(lambda: not runner.bot.gateway_ready.is_set())
    assert runner.adapter.ready() is False    # delivery holds posts without spending tries
    with pytest.raises(TransientError, match="not connected"):
        await runner.adapter.send(channel, make_brief(), nonce="n1")
    assert fake.find("POST", MESSAGES) == []
    fake.refuse_gateway = False
    await wait_until(runner.bot.gateway_ready.is_set, timeout=30)
    assert runner.adapter.ready() is True
    assert await runner.adapter.send(channel, make_brief(), nonce="n1") in fake.messages


@pytest.mark.parametrize("code", REFUSED_CODES)
async def test_a_post_refused_as_embed_and_as_text_is_rejected(fake, runner, channel, code):
    fake.fail("POST", MESSAGES, 400, code=code, times=2)
    with pytest.raises(RejectedError, match=f"code {code}") as err:
        await runner.adapter.send(channel, make_brief(), nonce="n1")
    assert not isinstance(err.value, TransientError)
    embed, text = fake.find("POST", MESSAGES)         # the plain-text fallback was tried
    assert "embeds" in embed.json and text.json["content"].startswith("Baidu prices")


async def test_a_refused_edit_is_rejected_without_retrying(fake, runner, channel):
    message_id = await runner.adapter.send(channel, make_brief(), nonce="n1")
    fake.fail("PATCH", MESSAGES + r"/\d+", 400, code=50035)
    with pytest.raises(RejectedError, match="Invalid Form Body"):
        await runner.adapter.edit(channel, message_id, make_brief(also_reported_by=("FT",)))
    assert len(fake.find("PATCH", MESSAGES + r"/\d+")) == 1


async def test_an_edit_of_a_malformed_message_id_is_rejected_unsent(fake, runner, channel):
    with pytest.raises(RejectedError, match="'abc' is not a number"):
        await runner.adapter.edit(channel, "abc", make_brief())
    assert fake.find("PATCH", MESSAGES + r"/.*") == []


async def test_a_refused_digest_is_rejected(fake, runner, channel):
    fake.fail("POST", MESSAGES, 400, code=50035)
    with pytest.raises(RejectedError, match=f"channel {channel} refused the post"):
        await runner.adapter.send_digest(channel, "Roundup", [make_brief(1), make_brief(2)],
                                         nonce="d1")
    assert len(fake.find("POST", MESSAGES)) == 1


async def test_a_refused_roundup_of_one_story_posts_that_story_as_text(fake, runner, channel):
    """Delivery halves a refused roundup down to one story; refused alone it failed that
    story, where a post of it goes as text (bot/roundups.py, test_delivery_rejects.py)."""
    brief = make_brief(1)
    fake.fail("POST", MESSAGES, 400, code=200000)        # the server's AutoMod
    message_id = await runner.adapter.send_digest(channel, "Roundup", [brief], nonce="d1")
    embeds, text = fake.find("POST", MESSAGES)
    assert embeds.json["embeds"] and text.json["content"] == text_fallback(brief)
    assert fake.messages[message_id]["content"].endswith(brief.url)


async def test_without_embed_links_a_roundup_pauses_the_channel_as_a_post_does(fake, runner,
                                                                             channel):
    """Without Embed Links Discord refuses a post (403: the channel pauses), but takes a
    roundup's title and drops its stories unsaid: the roundup arrived as a bare title
    and was recorded as posted."""
    await fake.deny_embeds(int(channel))
    cached, me = runner.bot.get_channel(int(channel)), runner.bot.get_guild(fake.guild_id).me
    await wait_until(lambda: not cached.permissions_for(me).embed_links)   # CHANNEL_UPDATE
    with pytest.raises(PermanentError, match="Missing Permissions") as post:
        await runner.adapter.send(channel, make_brief(1), nonce="p1")
    with pytest.raises(PermanentError, match="needs Embed Links") as roundup:
        await runner.adapter.send_digest(channel, "Morning roundup",
                                         [make_brief(1), make_brief(2)], nonce="d1")
    assert type(post.value) is type(roundup.value) and fake.messages == {}
