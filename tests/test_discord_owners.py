"""/feeds is the bot's owner's (bot/discord/owners.py): the application's owner or its
team, and DISCORD_ADMIN_USER_IDS; a server's Manage Server is not enough. Real discord.py
against the fake Discord, with the real chat core over an in-memory store."""
from __future__ import annotations

import logging

import pytest

from bot.config import Settings
from feeds.models import FeedSource
from tests.discord_kit import EPHEMERAL
from tests.fakes.discord import running_bot, served


fake = pytest.fixture(served, name="fake")


@pytest.fixture
def real_core():
    """The chat core over an in-memory store following one feed."""
    from bot.commands import Commands
    from feeds.classify import Classifier
    from storage.store import Store

    store = Store(":memory:")
    store.upsert_feed(FeedSource(name="Example News", url=FEED))
    yield Commands(store, Classifier(), Settings()), store
    store.close()


MEMBER = 1600000000000000001     # fake.command's default user; Manage Server with ALL_PERMISSIONS
LISTED = 1600000000000000002     # in DISCORD_ADMIN_USER_IDS
TEAM = [(1600000000000000003, "admin", 2), (1600000000000000004, "developer", 2),
        (1600000000000000005, "read_only", 2), (1600000000000000006, "developer", 1)]
FEED = "https://feeds.example/rss"


def application_unknown(fake, monkeypatch, status, **kw):
    """Start without the application info login() fetched (Client.application None), and
    make the bot's own ask for it fail: who owns the bot is not known."""
    from bot.discord.client import AinewsBot
    monkeypatch.setattr(AinewsBot, "application", property(lambda self: None))
    fake.fail("GET", r"/oauth2/applications/@me", status, skip=1, times=5, **kw)


@pytest.mark.parametrize("user, team, info, removed", [
    (MEMBER, None, "served", False),    # Manage Server in a server of their own
    ("owner", None, "served", True),
    (LISTED, None, "served", True),
    (TEAM[0][0], TEAM, "served", True),
    (TEAM[1][0], TEAM, "served", True),
    (TEAM[2][0], TEAM, "served", False),     # read-only in the Developer Portal
    (TEAM[3][0], TEAM, "served", False),     # invited, not yet a member
    ("owner", None, "unknown", False),       # not known to be the owner
    (LISTED, None, "unknown", True),
    (MEMBER, None, "unknown", False),
], ids=["manage-server", "owner", "listed", "team-admin", "team-developer", "team-read-only",
        "team-invited", "owner-unknown", "listed-owner-unknown", "manage-server-owner-unknown"])
async def test_only_the_bots_owner_changes_the_feeds_every_server_shares(
        fake, real_core, caplog, monkeypatch, user, team, info, removed):
    """The feed list is the bot's, one for every server it is in; /feeds was anyone's
    with Manage Server, and anyone can add a public bot to a server of their own: there
    they removed or paused the feeds every other server was reading."""
    core, store = real_core
    fake.team = team
    if info == "unknown":   # no application info from login, and the bot's own ask fails
        application_unknown(fake, monkeypatch, 503)
    user = fake.owner_id if user == "owner" else user
    async with running_bot(fake, core, store, discord_admin_user_ids=(str(LISTED),)):
        cb = await fake.callback(await fake.command(
            "feeds", {"url": "Example News"}, subcommand="remove", user_id=user))
    shown = cb["data"]["content"].replace("\\_", "_")     # as Discord shows it
    assert (store.feed_state(FEED) is None) is removed, shown
    if not removed:
        assert cb["data"]["flags"] & EPHEMERAL
        assert "owner" in shown and "DISCORD_ADMIN_USER_IDS" in shown, shown
        assert "Manage Server" in shown, shown     # why theirs is not enough
        # The owner refused only because Discord didn't say at start is told so.
        assert ("The bot could not learn its owner from Discord at start: if that is you, "
                "restart the bot or list yourself in its DISCORD_ADMIN_USER_IDS."
                in shown) is (info == "unknown"), shown
    if info == "unknown":
        assert "/feeds changes are allowed only to DISCORD_ADMIN_USER_IDS" in caplog.text


@pytest.mark.parametrize("user, shown", [(MEMBER, False), ("owner", True)])
async def test_feeds_list_is_for_those_who_may_change_the_feeds(fake, real_core, user, shown):
    core, store = real_core
    user = fake.owner_id if user == "owner" else user
    async with running_bot(fake, core, store):
        cb = await fake.callback(await fake.command("feeds", {}, subcommand="list",
                                                    user_id=user))
    assert ("Example News" in cb["data"]["content"]) is shown, cb["data"]["content"]


async def test_the_log_says_who_may_and_names_a_setting_that_is_no_user_id(fake, real_core,
                                                                             caplog):
    """A name in DISCORD_ADMIN_USER_IDS never matches anyone: said at start, not found
    out when that admin is refused."""
    caplog.set_level(logging.INFO)
    core, store = real_core
    async with running_bot(fake, core, store, discord_admin_user_ids=("alice", str(LISTED))):
        await fake.callback(await fake.command(
            "feeds", {"url": "Example News"}, subcommand="remove", user_id=LISTED))
    assert store.feed_state(FEED) is None
    (warning,) = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert "DISCORD_ADMIN_USER_IDS has 'alice', which is not a user ID" in warning, warning
    assert "Copy User ID" in warning, warning
    assert ("discord: /feeds changes are allowed to the application's owner and 1 user in "
            "DISCORD_ADMIN_USER_IDS") in caplog.text


async def test_help_says_who_may_change_the_feeds(fake, real_core):
    core, store = real_core
    async with running_bot(fake, core, store):
        cb = await fake.callback(await fake.command("help", {}))
    shown = cb["data"]["content"].replace("\\_", "_")
    assert ("Admins here: members with the Manage Channels permission (feeds, which every "
            "server shares: the bot's owner and users listed in its DISCORD_ADMIN_USER_IDS)."
            ) in shown, shown


@pytest.mark.parametrize("public", [True, False])
async def test_a_public_bot_is_told_at_start(fake, real_core, caplog, public):
    """A Discord application is a Public Bot by default: anyone with its invite link
    could add it to their server and subscribe channels, on the operator's posting
    budget and LLM calls, and nothing at run time said so."""
    core, store = real_core
    fake.bot_public = public
    async with running_bot(fake, core, store):
        await fake.callback(await fake.command("help", {}))
    said = [r.message for r in caplog.records if r.levelno == logging.WARNING
            and r.message.startswith("discord: the bot is public")]
    assert len(said) == (1 if public else 0), said
    if public:
        assert said[0] == (
            "discord: the bot is public: anyone with its invite link can add it to a server "
            "of their own and subscribe its channels, on this bot's posting budget and LLM "
            "calls; turn off Public Bot in the Developer Portal (Bot > Public Bot) unless "
            "you mean to serve other servers")


# ---- review27 -------------------------------------------------------------------------

async def test_owner_known_from_logins_own_app_info_when_the_second_ask_fails(fake, real_core):
    """discord.py's login() already fetched the application's info (Client.application,
    2.0+; login fails without it). owners.py asks again; one transient 503 on that second
    request leaves the real owner refused until a restart, told "only the bot's owner ...
    can manage the bot's feeds", which they are."""
    core, store = real_core
    fake.fail("GET", r"/oauth2/applications/@me", 503, skip=1, times=5)
    async with running_bot(fake, core, store):
        cb = await fake.callback(await fake.command(
            "feeds", {"url": "Example News"}, subcommand="remove", user_id=fake.owner_id))
    assert store.feed_state(FEED) is None, cb["data"]["content"]


async def test_a_long_429_on_the_owner_lookup_does_not_stop_the_start(fake, real_core,
                                                                       monkeypatch, caplog):
    """A 429 longer than max_ratelimit_timeout (30 s) raises discord.RateLimited, which
    feed_admins did not catch (sync_commands' caller does): the start failed as "rate-
    limited the login" instead of falling back to DISCORD_ADMIN_USER_IDS as the log and
    docs say. (Asked only when login() left no application info.)"""
    core, store = real_core
    application_unknown(fake, monkeypatch, 429, retry_after=60)
    async with running_bot(fake, core, store, discord_admin_user_ids=(str(LISTED),)):
        cb = await fake.callback(await fake.command(
            "feeds", {"url": "Example News"}, subcommand="remove", user_id=LISTED))
    assert store.feed_state(FEED) is None, cb["data"]["content"]
    assert ("could not learn who owns the application (rate limited for 60 s); /feeds "
            "changes are allowed only to DISCORD_ADMIN_USER_IDS (1 user)") in caplog.text
