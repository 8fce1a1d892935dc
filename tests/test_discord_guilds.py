"""One bot in several Discord servers, as a public bot is: what one server's members see
and change stays theirs, and a server that removes the bot pauses its own channels only.
Real discord.py and the real chat core and delivery against the fake Discord, which
here serves two guilds (tests/fakes/discord.py other_guilds, remove_bot)."""
from __future__ import annotations

import pytest

from bot.commands import Commands
from bot.config import Settings
from bot.delivery import Delivery
from feeds.classify import Classifier
from feeds.models import Subscription
from tests.delivery_kit import brief
from tests.fakes.discord import ALL_PERMISSIONS, FakeDiscord, running_bot

GUILD_A, GUILD_B = 1200000000000000001, 1200000000000000002
CHAN_A, CHAN_B = 1300000000000000001, 1300000000000000002


@pytest.fixture
async def fake():
    server = await FakeDiscord(guild_id=GUILD_A, channel_ids=(CHAN_A,),
                               other_guilds={GUILD_B: [CHAN_B]}).start()
    yield server
    await server.close()


@pytest.fixture
def core(store):
    return Commands(store, Classifier(), Settings())


async def ask(fake, name, values, channel, **kw) -> str:
    cb = await fake.callback(await fake.command(name, values, channel_id=channel,
                                                permissions=ALL_PERMISSIONS, **kw))
    data = cb["data"]
    return "\n".join([data.get("content") or ""] + [e.get("description") or ""
                                                     for e in data.get("embeds") or []])


async def test_each_server_subscribes_and_sees_only_its_own(fake, core, store, clock):
    async with running_bot(fake, core, store):
        await ask(fake, "subscribe", {"target": "all"}, CHAN_A)
        await ask(fake, "subscribe", {"target": "Alibaba"}, CHAN_B)
        subs = {(s.workspace, s.channel, s.target) for s in store.all_subscriptions()}
        assert subs == {(str(GUILD_A), str(CHAN_A), "all"),
                        (str(GUILD_B), str(CHAN_B), "Alibaba")}
        assert "Alibaba" not in await ask(fake, "subscriptions", {}, CHAN_A)
        assert "all" not in (await ask(fake, "subscriptions", {}, CHAN_B)).split("gets:")[1]
        # /unsubscribe in A offers A's only.
        complete = await fake.autocomplete("unsubscribe", {"target": ""}, "target")
        offered = [c["value"] for c in (await fake.callback(complete))["data"]["choices"]]
        assert "Alibaba" not in offered


async def test_a_server_that_removes_the_bot_pauses_its_channels_only(fake, core, store,
                                                                      clock):
    for guild, channel in ((GUILD_A, CHAN_A), (GUILD_B, CHAN_B)):
        store.add_subscription(Subscription("discord", str(guild), str(channel), "all", "all"),
                               now=clock())
        store.enqueue_post(cluster_id="k1", brief=brief(1, clock), platform="discord",
                           workspace=str(guild), channel=str(channel), held=False, now=clock())
    async with running_bot(fake, core, store) as runner:
        await fake.remove_bot(GUILD_B)
        await Delivery(store, {"discord": runner.adapter}, clock=clock,
                       sleep=clock.sleep).run_once()
        paused = {s.channel: s.paused_reason for s in store.all_subscriptions()}
        assert paused[str(CHAN_A)] == ""
        assert "Missing Access" in paused[str(CHAN_B)]
        # Re-invited: /subscribe there lifts the pause, as docs/discord.md says.
        await fake.reinvite_bot(GUILD_B)
        said = await ask(fake, "subscribe", {"target": "all"}, CHAN_B)
        assert "again" in said, said
        assert not any(s.paused for s in store.all_subscriptions())
