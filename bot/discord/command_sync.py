"""Application command sync: guild commands while developing (DISCORD_GUILD_ID), global
ones otherwise, skipped when the schema's hash matches the last global sync. Switching
between the two clears the other set. Mixed into bot.discord.client.AinewsBot."""
from __future__ import annotations

import hashlib
import json
import logging

import discord
from discord import app_commands

log = logging.getLogger("ainews.discord")

HASH_KEY = "discord.commands_hash.{app_id}"
# The guild that last got guild commands (DISCORD_GUILD_ID), to clear when that changes.
GUILD_KEY = "discord.commands_guild.{app_id}"


def schema_of(tree: app_commands.CommandTree) -> list[dict]:
    """The global command payload exactly as tree.sync() sends it."""
    return [cmd.to_dict(tree) for cmd in tree.get_commands()]


def schema_hash(schema: list[dict]) -> str:
    blob = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


# `state` is any small key/value: a dict, an object with get/set, or the Store itself
# (get_meta/set_meta). It remembers the hash of the last globally synced schema.
def _state_get(state, key: str):
    if state is None:
        return None
    getter = getattr(state, "get_meta", None) or state.get
    return getter(key)


def _state_set(state, key: str, value: str) -> None:
    if state is None:
        return
    setter = getattr(state, "set_meta", None) or getattr(state, "set", None)
    if setter is not None:
        setter(key, value)
    else:
        state[key] = value


class CommandSync:
    """Uses the bot's tree, http, application_id, settings and state."""

    async def sync_commands(self) -> str:
        # Switching between guild and global commands clears the other set, or every
        # command would show twice in the picker of that guild.
        await self._clear_earlier_guild()
        guild_id = self.settings.discord_guild_id
        if guild_id:
            return await self._sync_guild(guild_id)
        digest = schema_hash(schema_of(self.tree))
        key = HASH_KEY.format(app_id=self.application_id)
        if _state_get(self.state, key) == digest:
            log.info("discord: commands unchanged since the last sync; not syncing")
            return "skipped"
        await self.tree.sync()
        _state_set(self.state, key, digest)
        log.info("discord: synced %d global commands", len(self.tree.get_commands()))
        return "global"

    async def _sync_guild(self, guild_id: int) -> str:
        # Development: guild commands update instantly, global ones take up to an hour.
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        try:
            await self.tree.sync(guild=guild)
        except (discord.Forbidden, discord.NotFound) as exc:
            # A mistyped id, or a server the bot was not added to: name the setting.
            log.warning("discord: can't register commands in server %s (%s): the bot is "
                        "not in it, or was added without applications.commands; add it with "
                        "the link `ainews discord-invite` prints, or correct or unset "
                        "DISCORD_GUILD_ID", guild_id, _error_text(exc))
            return ""
        _state_set(self.state, GUILD_KEY.format(app_id=self.application_id), str(guild_id))
        hash_key = HASH_KEY.format(app_id=self.application_id)
        if _state_get(self.state, hash_key):
            await self.http.bulk_upsert_global_commands(self.application_id, [])
            _state_set(self.state, hash_key, "")
            log.info("discord: cleared the global commands an earlier run synced")
        log.info("discord: synced commands to guild %s", guild_id)
        return "guild"

    async def _clear_earlier_guild(self) -> None:
        key = GUILD_KEY.format(app_id=self.application_id)
        earlier = _state_get(self.state, key)
        if not earlier or earlier == str(self.settings.discord_guild_id or ""):
            return
        try:
            await self.http.bulk_upsert_guild_commands(self.application_id, int(earlier), [])
            log.info("discord: cleared the commands an earlier run synced to guild %s", earlier)
        except (discord.Forbidden, discord.NotFound) as exc:
            # The bot left that guild: nothing there to clear now, and asking again at
            # every start would fail the same way and keep today's commands from syncing.
            log.warning("discord: can't clear the commands an earlier run synced to guild %s "
                        "(%s); forgetting it", earlier, _error_text(exc))
        _state_set(self.state, key, "")


def _error_text(exc: discord.HTTPException) -> str:
    from bot.discord.start import error_text   # start imports this module (via client)
    return error_text(exc)
