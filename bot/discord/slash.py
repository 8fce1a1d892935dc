"""Slash commands: each a thin handler that turns an interaction into a Commands call
and the Reply into Discord's answer. No logic about news lives here."""
from __future__ import annotations

import inspect
import logging
from dataclasses import replace
from typing import Any, Optional

import discord
from discord import app_commands

from bot import commands_store
from bot.discord.render import reply_payload
from bot.discord.traits import MOST_SHOWN
from bot.commands_feeds import not_admin_feeds
from bot.commands_subs import not_admin
from bot.replies import DM, Caller, Reply
from storage.store_errors import waiting_at_most

log = logging.getLogger("ainews.discord")

NO_MENTIONS = discord.AllowedMentions.none()
HOW_MANY = f"How many stories (1-{MOST_SHOWN})"
MAX_CHOICES = 25


async def call(fn, caller: Caller, *args, **kwargs):
    """Run `fn`, a Commands method, for `caller`, unless the caller (or its server) is
    going too fast: then the core's "try again" answer, nothing run. Commands methods
    may be sync or async; the adapter doesn't care which. Their writes wait CHAT_WAIT
    at most for a store another program keeps locked: a lookup still answers in
    Discord's 3 s, a change answers that the store is unavailable."""
    if (slow := fn.__self__.too_fast(caller)) is not None:
        return slow
    with waiting_at_most(commands_store.CHAT_WAIT):
        result = fn(caller, *args, **kwargs)
        return await result if inspect.isawaitable(result) else result


def caller_for(interaction: discord.Interaction) -> Caller:
    """The member as the core knows them; admin of this channel with Manage Channels."""
    perms = interaction.permissions
    return Caller(
        platform="discord",
        workspace=str(interaction.guild_id or DM),
        channel=str(interaction.channel_id or ""),
        user=str(interaction.user.id),
        is_admin=bool(perms.manage_channels or perms.administrator),
        parent=str(getattr(interaction.channel, "parent_id", None) or "")
        if in_thread(interaction) else "",
    )


def feeds_caller(interaction: discord.Interaction) -> Caller:
    """caller_for for /feeds: admin only as the bot's owner or in DISCORD_ADMIN_USER_IDS
    (bot/discord/owners.py). The feed list is every server's, and a server's Manage
    Server may be anyone's who added the bot to a server of their own."""
    admins = getattr(interaction.client, "feed_admins", None)
    allowed = admins is not None and admins.allows(interaction.user.id)
    return replace(caller_for(interaction), is_admin=allowed)


class ShareView(discord.ui.View):
    """The "Post to channel" button under an ephemeral lookup.

    Persistent: one instance, registered at start (AinewsBot.setup_hook), answers every
    click by re-posting the message the button is on, which Discord sends with the
    click. So a button works however long its answer stays open and across restarts,
    and nothing is kept in memory per lookup."""

    REMEMBER = 1000     # answers shared lately: a double click doesn't post twice

    def __init__(self, core=None):
        super().__init__(timeout=None)
        self.shared: dict[int, None] = {}    # insertion-ordered: oldest first
        self.core = core    # the chat core: a click counts as a command (too_fast)

    @discord.ui.button(label="Post to channel", style=discord.ButtonStyle.primary,
                       custom_id="ainews:share")
    async def share(self, interaction: discord.Interaction, button: discord.ui.Button):
        shown = interaction.message   # ours, rendered inert when it was sent
        slow = self.core.too_fast(caller_for(interaction)) if self.core else None
        if slow is not None:
            return await respond(interaction, slow)
        if not may_post(interaction):
            return await respond(interaction, Reply.error(CANT_POST))
        if shown.id in self.shared:
            return await respond(interaction, Reply.message("Already posted to the channel."))
        self.shared[shown.id] = None
        if len(self.shared) > self.REMEMBER:
            del self.shared[next(iter(self.shared))]
        await interaction.response.send_message(
            content=shown.content or None, embeds=shown.embeds, allowed_mentions=NO_MENTIONS)


# Anyone may run a lookup (Use Application Commands), in a read-only channel too.
CANT_POST = "You can't post in this channel, so this answer stays visible to you only."


def may_post(interaction: discord.Interaction) -> bool:
    """Whether the member clicking "Post to channel" may post where it is: the bot
    posts for them, so not in a channel (#announcements) where they may only read."""
    if interaction.guild_id is None:  # a DM: Discord sends no permissions, none apply
        return True
    perms = interaction.permissions   # the clicker's in this channel, overwrites applied
    send = "send_messages_in_threads" if in_thread(interaction) else "send_messages"
    return bool(perms.administrator or getattr(perms, send))


def share_button() -> ShareView:
    """The button for one answer; stopped, so discord.py doesn't keep it (the persistent
    instance takes the clicks)."""
    view = ShareView()
    view.stop()
    return view


async def respond(interaction: discord.Interaction, reply: Reply) -> None:
    """Send a Reply as the interaction's answer (or follow-up, when we deferred)."""
    payload = reply_payload(reply)
    extra: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    extra["suppress_embeds"] = not payload["embeds"]   # a link in text: no preview card
    if reply.shareable and reply.ephemeral and payload["embeds"]:
        extra["view"] = share_button()
    if interaction.response.is_done():
        await interaction.followup.send(**_followup(payload), **extra)
    else:
        await interaction.response.send_message(**payload, **extra)


def _followup(payload: dict) -> dict:
    # Webhook.send treats None differently from "not given"; drop the empty parts.
    return {k: v for k, v in payload.items() if v not in (None, [])}


async def refuse(interaction: discord.Interaction, why: str) -> None:
    """The core's refusal (who may, as in Slack), before the core is called at all."""
    await respond(interaction, Reply.error(why))


THREAD_TYPES = (discord.ChannelType.public_thread, discord.ChannelType.private_thread,
                discord.ChannelType.news_thread)


OPEN_THREADS = "Create Public Threads"


def in_thread(interaction: discord.Interaction) -> bool:
    return getattr(interaction.channel, "type", None) in THREAD_TYPES


def missing_post_permissions(interaction: discord.Interaction, threads: bool = False) -> list[str]:
    """What the bot lacks to post briefs where the command ran (empty: nothing);
    `threads`: AINEWS_DISCORD_THREADS, a thread opened under each post."""
    thread = in_thread(interaction)
    send = ("send_messages_in_threads", "Send Messages in Threads") if thread \
        else ("send_messages", "Send Messages")
    needed = [("view_channel", "View Channel"), send, ("embed_links", "Embed Links")]
    if threads and not thread:    # a thread can't have threads of its own
        needed.append(("create_public_threads", OPEN_THREADS))
    perms = interaction.app_permissions
    if perms.administrator:   # implies every other permission
        return []
    return [label for flag, label in needed if not getattr(perms, flag)]


async def refuse_unpostable(interaction: discord.Interaction, missing: list[str]) -> None:
    text = (f"I can't post in this channel (missing: {', '.join(missing)}). Give the bot "
            "these permissions here, then run /subscribe again.")
    if OPEN_THREADS in missing:
        text += " (This bot opens a thread under each post.)"
    await respond(interaction, Reply.error(text))


def company_choices(commands, current: str) -> list[app_commands.Choice[str]]:
    names = commands.complete_company(current or "")[:MAX_CHOICES]
    return [app_commands.Choice(name=n[:100], value=n[:100]) for n in names]


def topic_choices(commands, current: str) -> list[app_commands.Choice[str]]:
    pairs = commands.complete_topic(current or "")[:MAX_CHOICES]
    return [app_commands.Choice(name=f"{label} ({slug})"[:100], value=slug[:100])
            for slug, label in pairs]


def followed_choices(commands, caller: Caller, current: str) -> list[app_commands.Choice[str]]:
    """What the channel follows, for /unsubscribe. A value Discord can't carry whole
    (over 100 characters) is left out: cut, it would name nothing."""
    pairs = commands.complete_subscription(caller, current or "")
    return [app_commands.Choice(name=label[:100], value=value)
            for label, value in pairs if len(value) <= 100][:MAX_CHOICES]


def register(tree: app_commands.CommandTree, commands, *, threads: bool = False) -> None:
    """Add every ainews command to `tree`, bound to the platform-neutral `commands`;
    `threads`: AINEWS_DISCORD_THREADS (/subscribe checks the bot may open them)."""
    _lookups(tree, commands)
    _why(tree, commands)
    _channel_settings(tree, commands, threads)
    tree.add_command(_feeds_group(commands))


def _lookups(tree: app_commands.CommandTree, commands) -> None:
    async def complete_company(interaction: discord.Interaction, current: str):
        return company_choices(commands, current)

    async def complete_topic(interaction: discord.Interaction, current: str):
        return topic_choices(commands, current)

    @tree.command(name="company", description="Latest AI-strategy stories about one company")
    @app_commands.describe(name="Company, e.g. Alibaba, OpenAI or Nvidia",
                           limit=HOW_MANY)
    @app_commands.autocomplete(name=complete_company)
    async def company(interaction: discord.Interaction, name: str,
                      limit: Optional[app_commands.Range[int, 1, MOST_SHOWN]] = None):
        """Latest AI-strategy stories about one company."""
        reply = await call(commands.company, caller_for(interaction), name, limit=limit)
        await respond(interaction, reply)

    @tree.command(name="latest", description="The newest AI-strategy stories")
    @app_commands.describe(topic="Only this topic (optional)",
                           limit=HOW_MANY)
    @app_commands.autocomplete(topic=complete_topic)
    async def latest(interaction: discord.Interaction, topic: Optional[str] = None,
                     limit: Optional[app_commands.Range[int, 1, MOST_SHOWN]] = None):
        """The newest AI-strategy stories."""
        reply = await call(commands.latest, caller_for(interaction), limit=limit,
                           topic=topic or None)
        await respond(interaction, reply)

    @tree.command(name="topic", description="Latest stories on one topic, e.g. pricing or chips")
    @app_commands.describe(slug="Topic to show")
    @app_commands.autocomplete(slug=complete_topic)
    async def topic(interaction: discord.Interaction, slug: str):
        """Latest stories on one topic."""
        await respond(interaction, await call(commands.topic, caller_for(interaction), slug))

    @tree.command(name="search", description="Search stored stories by words in them")
    @app_commands.describe(query='Words to look for, e.g. "open-source pricing"; '
                                 '-word or NOT word leaves out, A OR B takes either')
    async def search(interaction: discord.Interaction, query: app_commands.Range[str, 1, 200]):
        """Search stored stories."""
        # Full-text search can take a moment on a big archive: answer within 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        await respond(interaction, await call(commands.search, caller_for(interaction), query))

    @tree.command(name="topics", description="The topics you can follow, with recent counts")
    async def topics(interaction: discord.Interaction):
        """The topics you can follow."""
        await respond(interaction, await call(commands.topics, caller_for(interaction)))

    @tree.command(name="help", description="What this bot does and how to use it")
    async def help_(interaction: discord.Interaction):
        """What this bot does and how to use it."""
        await respond(interaction, await call(commands.help, caller_for(interaction)))


def _why(tree: app_commands.CommandTree, commands) -> None:
    @tree.command(name="why", description="Why a story was posted or not")
    @app_commands.describe(link="The story's link, as its post shows it")
    async def why(interaction: discord.Interaction, link: app_commands.Range[str, 1, 2000]):
        """Why a story was posted or not."""
        await respond(interaction, await call(commands.why, caller_for(interaction), link))


def _channel_settings(tree: app_commands.CommandTree, commands, threads: bool) -> None:
    async def complete_target(interaction: discord.Interaction, current: str):
        everything = app_commands.Choice(name="Everything (all strategy stories)", value="all")
        # The core's completions already match aliases (qwen -> Alibaba): no second filter.
        choices = [everything] if current.lower() in (everything.name + "all").lower() else []
        choices += topic_choices(commands, current) + company_choices(commands, current)
        return choices[:MAX_CHOICES]

    async def complete_followed(interaction: discord.Interaction, current: str):
        return followed_choices(commands, caller_for(interaction), current)

    async def guarded(interaction, fn, *args):
        caller = caller_for(interaction)
        if not caller.is_admin:
            return await refuse(interaction, not_admin(caller))
        await respond(interaction, await call(fn, caller, *args))

    @tree.command(name="subscribe", description="Post new stories on a topic or company in this channel")
    @app_commands.describe(target="A topic, a company, or all")
    @app_commands.autocomplete(target=complete_target)
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def subscribe(interaction: discord.Interaction, target: str):
        """Post new stories on a topic or company in this channel."""
        if in_thread(interaction):  # its posts then open no thread (adapter.py)
            interaction.client.thread_channels.add(str(interaction.channel_id))
        # Slash commands work even where the bot can't post (a private channel it can't
        # see): such a subscription would only pause at its first story.
        missing = missing_post_permissions(interaction, threads)
        if missing and caller_for(interaction).is_admin:
            return await refuse_unpostable(interaction, missing)
        await guarded(interaction, commands.subscribe, target)

    @tree.command(name="unsubscribe", description="Stop posting a topic or company in this channel")
    @app_commands.describe(target="A topic, a company, or all (stops everything it follows)")
    @app_commands.autocomplete(target=complete_followed)
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def unsubscribe(interaction: discord.Interaction, target: str):
        """Stop posting a topic or company in this channel."""
        await guarded(interaction, commands.unsubscribe, target)

    @tree.command(name="subscriptions", description="What this channel follows")
    @app_commands.guild_only()
    async def subscriptions(interaction: discord.Interaction):
        """What this channel follows."""
        await respond(interaction, await call(commands.subscriptions, caller_for(interaction)))

    @tree.command(name="digest", description="Post one daily roundup here instead of instant posts")
    @app_commands.describe(mode="daily: one roundup a day; off: post stories as they come",
                           at="Time of day for the roundup, e.g. 08:30 (daily only)",
                           timezone="Time zone for that time, e.g. Europe/Berlin (default UTC)")
    @app_commands.choices(mode=[app_commands.Choice(name="daily", value="daily"),
                                app_commands.Choice(name="off", value="off")])
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def digest(interaction: discord.Interaction, mode: app_commands.Choice[str],
                     at: Optional[str] = None, timezone: Optional[str] = None):
        """Post one daily roundup here instead of instant posts."""
        await guarded(interaction, commands.digest, mode.value, at, timezone)


def _feeds_group(commands) -> app_commands.Group:
    # Offered to Manage Server by default, so members' pickers don't show a command
    # that refuses them (a server can open it to the bot's owner under Integrations);
    # who may run it is feeds_caller's to say.
    group = app_commands.Group(
        name="feeds", description="Manage the news feeds this bot reads",
        default_permissions=discord.Permissions(manage_guild=True), guild_only=True)

    async def run(interaction: discord.Interaction, action: str, url=None, name=None):
        caller = feeds_caller(interaction)
        if not caller.is_admin:
            admins = getattr(interaction.client, "feed_admins", None)
            known = admins is None or admins.owners_known
            return await refuse(interaction, not_admin_feeds(caller, admins_known=known))
        if action == "add":  # adding a feed fetches it first: defer so Discord doesn't time out
            await interaction.response.defer(ephemeral=True, thinking=True)
        await respond(interaction, await call(commands.feeds, caller, action, url, name))

    @group.command(name="list", description="The feeds being read and their health")
    async def feeds_list(interaction: discord.Interaction):
        """The feeds being read and their health."""
        await run(interaction, "list")

    @group.command(name="add", description="Start reading a feed (RSS or Atom URL)")
    @app_commands.describe(url="The feed's address, https://...", name="Outlet name to show (optional)")
    async def feeds_add(interaction: discord.Interaction, url: str, name: Optional[str] = None):
        """Start reading a feed."""
        await run(interaction, "add", url, name)

    @group.command(name="remove", description="Stop reading a feed")
    @app_commands.describe(url="The feed's address or name, as /feeds list shows them")
    async def feeds_remove(interaction: discord.Interaction, url: str):
        """Stop reading a feed."""
        await run(interaction, "remove", url)

    @group.command(name="resume", description="Poll a paused feed again")
    @app_commands.describe(url="The feed's address or name, as /feeds list shows them, or 'all'")
    async def feeds_resume(interaction: discord.Interaction, url: str):
        """Poll a paused feed again."""
        await run(interaction, "resume", url)

    return group
