"""Slash commands: each a thin handler that turns an interaction into a Commands call
and the Reply into Discord's answer. No logic about news lives here; what the handlers
share is in interaction.py (who asks, the core called), answer.py and choices.py."""
from __future__ import annotations

import logging
from typing import Optional

import discord
from discord import app_commands

from bot.discord.answer import refuse, respond
from bot.discord.choices import company_choices, followed_choices, target_choices, topic_choices
from bot.discord.interaction import call, caller_for, feeds_caller, in_thread
from bot.discord.traits import MOST_SHOWN
from bot.commands_feeds import not_admin_feeds
from bot.commands_subs import not_admin
from bot.replies import Reply

log = logging.getLogger("ainews.discord")

HOW_MANY = f"How many stories (1-{MOST_SHOWN})"


OPEN_THREADS = "Create Public Threads"


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


def register(tree: app_commands.CommandTree, commands, *, threads: bool = False) -> None:
    """Add every ainews command to `tree`, bound to the platform-neutral `commands`;
    `threads`: AINEWS_DISCORD_THREADS (/subscribe checks the bot may open them)."""
    _company_and_latest(tree, commands)
    _topic_and_search(tree, commands)
    _overview(tree, commands)
    _why(tree, commands)
    _channel_settings(tree, commands, threads)
    _digest(tree, commands)
    tree.add_command(_feeds_group(commands))


def _company_and_latest(tree: app_commands.CommandTree, commands) -> None:
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
        reply = await call(commands, commands.company, caller_for(interaction), name, limit=limit)
        await respond(interaction, reply)

    @tree.command(name="latest", description="The newest AI-strategy stories")
    @app_commands.describe(topic="Only this topic (optional)",
                           limit=HOW_MANY)
    @app_commands.autocomplete(topic=complete_topic)
    async def latest(interaction: discord.Interaction, topic: Optional[str] = None,
                     limit: Optional[app_commands.Range[int, 1, MOST_SHOWN]] = None):
        """The newest AI-strategy stories."""
        reply = await call(commands, commands.latest, caller_for(interaction), limit=limit,
                           topic=topic or None)
        await respond(interaction, reply)


def _topic_and_search(tree: app_commands.CommandTree, commands) -> None:
    async def complete_topic(interaction: discord.Interaction, current: str):
        return topic_choices(commands, current)

    @tree.command(name="topic", description="Latest stories on one topic, e.g. pricing or chips")
    @app_commands.describe(slug="Topic to show")
    @app_commands.autocomplete(slug=complete_topic)
    async def topic(interaction: discord.Interaction, slug: str):
        """Latest stories on one topic."""
        reply = await call(commands, commands.topic, caller_for(interaction), slug)
        await respond(interaction, reply)

    @tree.command(name="search", description="Search stored stories by words in them")
    @app_commands.describe(query='Words to look for, e.g. "open-source pricing"; '
                                 '-word or NOT word leaves out, A OR B takes either')
    async def search(interaction: discord.Interaction, query: app_commands.Range[str, 1, 200]):
        """Search stored stories."""
        # Full-text search can take a moment on a big archive: answer within 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await call(commands, commands.search, caller_for(interaction), query)
        await respond(interaction, reply)


def _overview(tree: app_commands.CommandTree, commands) -> None:
    @tree.command(name="topics", description="The topics you can follow, with recent counts")
    async def topics(interaction: discord.Interaction):
        """The topics you can follow."""
        await respond(interaction, await call(commands, commands.topics, caller_for(interaction)))

    @tree.command(name="help", description="What this bot does and how to use it")
    async def help_(interaction: discord.Interaction):
        """What this bot does and how to use it."""
        await respond(interaction, await call(commands, commands.help, caller_for(interaction)))


def _why(tree: app_commands.CommandTree, commands) -> None:
    @tree.command(name="why", description="Why a story was posted or not")
    @app_commands.describe(link="The story's link, as its post shows it")
    async def why(interaction: discord.Interaction, link: app_commands.Range[str, 1, 2000]):
        """Why a story was posted or not."""
        reply = await call(commands, commands.why, caller_for(interaction), link)
        await respond(interaction, reply)


def _channel_settings(tree: app_commands.CommandTree, commands, threads: bool) -> None:
    async def complete_target(interaction: discord.Interaction, current: str):
        return target_choices(commands, current)

    async def complete_followed(interaction: discord.Interaction, current: str):
        return followed_choices(commands, caller_for(interaction), current)

    @tree.command(name="subscribe", description="Post new stories on a topic or company in this channel")
    @app_commands.describe(target="A topic, a company, or all")
    @app_commands.autocomplete(target=complete_target)
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def subscribe(interaction: discord.Interaction, target: str):
        """Post new stories on a topic or company in this channel."""
        await _subscribe(commands, interaction, target, threads)

    @tree.command(name="unsubscribe", description="Stop posting a topic or company in this channel")
    @app_commands.describe(target="A topic, a company, or all (stops everything it follows)")
    @app_commands.autocomplete(target=complete_followed)
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def unsubscribe(interaction: discord.Interaction, target: str):
        """Stop posting a topic or company in this channel."""
        await _guarded(commands, interaction, commands.unsubscribe, target)

    @tree.command(name="subscriptions", description="What this channel follows")
    @app_commands.guild_only()
    async def subscriptions(interaction: discord.Interaction):
        """What this channel follows."""
        reply = await call(commands, commands.subscriptions, caller_for(interaction))
        await respond(interaction, reply)


async def _subscribe(commands, interaction: discord.Interaction, target: str,
                     threads: bool) -> None:
    if in_thread(interaction):  # its posts then open no thread (adapter.py)
        interaction.client.thread_channels.add(str(interaction.channel_id))
    # Slash commands work even where the bot can't post (a private channel it can't
    # see): such a subscription would only pause at its first story.
    missing = missing_post_permissions(interaction, threads)
    if missing and caller_for(interaction).is_admin:
        return await refuse_unpostable(interaction, missing)
    await _guarded(commands, interaction, commands.subscribe, target)


def _digest(tree: app_commands.CommandTree, commands) -> None:
    @tree.command(name="digest", description="Post one daily roundup here instead of instant posts")
    @app_commands.describe(mode="daily: one roundup a day; off: post stories as they come",
                           at="Time of day for the roundup, e.g. 08:30 or 8:30 pm (daily only)",
                           timezone="Time zone for that time, e.g. Europe/Berlin (default UTC)")
    @app_commands.choices(mode=[app_commands.Choice(name="daily", value="daily"),
                                app_commands.Choice(name="off", value="off")])
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def digest(interaction: discord.Interaction, mode: app_commands.Choice[str],
                     at: Optional[str] = None, timezone: Optional[str] = None):
        """Post one daily roundup here instead of instant posts."""
        await _guarded(commands, interaction, commands.digest, mode.value, at, timezone)


async def _guarded(commands, interaction: discord.Interaction, fn, *args) -> None:
    """A channel setting's command, run for a member who may change the channel's."""
    caller = caller_for(interaction)
    if not caller.is_admin:
        return await refuse(interaction, not_admin(caller))
    await respond(interaction, await call(commands, fn, caller, *args))


def _feeds_group(commands) -> app_commands.Group:
    # Offered to Manage Server by default, so members' pickers don't show a command
    # that refuses them (a server can open it to the bot's owner under Integrations);
    # who may run it is feeds_caller's to say.
    group = app_commands.Group(
        name="feeds", description="Manage the news feeds this bot reads",
        default_permissions=discord.Permissions(manage_guild=True), guild_only=True)

    @group.command(name="list", description="The feeds being read and their health")
    async def feeds_list(interaction: discord.Interaction):
        """The feeds being read and their health."""
        await _run_feeds(commands, interaction, "list")

    @group.command(name="add", description="Start reading a feed (RSS or Atom URL)")
    @app_commands.describe(url="The feed's address, https://...", name="Outlet name to show (optional)")
    async def feeds_add(interaction: discord.Interaction, url: str, name: Optional[str] = None):
        """Start reading a feed."""
        await _run_feeds(commands, interaction, "add", url, name)

    @group.command(name="remove", description="Stop reading a feed")
    @app_commands.describe(url="The feed's address or name, as /feeds list shows them")
    async def feeds_remove(interaction: discord.Interaction, url: str):
        """Stop reading a feed."""
        await _run_feeds(commands, interaction, "remove", url)

    @group.command(name="resume", description="Poll a paused feed again")
    @app_commands.describe(url="The feed's address or name, as /feeds list shows them, or 'all'")
    async def feeds_resume(interaction: discord.Interaction, url: str):
        """Poll a paused feed again."""
        await _run_feeds(commands, interaction, "resume", url)

    return group


async def _run_feeds(commands, interaction: discord.Interaction, action: str, url=None,
                     name=None) -> None:
    """A /feeds subcommand, run for who may manage the bot's feeds."""
    caller = feeds_caller(interaction)
    if not caller.is_admin:
        admins = getattr(interaction.client, "feed_admins", None)
        known = admins is None or admins.owners_known
        return await refuse(interaction, not_admin_feeds(caller, admins_known=known))
    if action == "add":  # adding a feed fetches it first: defer so Discord doesn't time out
        await interaction.response.defer(ephemeral=True, thinking=True)
    await respond(interaction, await call(commands, commands.feeds, caller, action, url, name))
