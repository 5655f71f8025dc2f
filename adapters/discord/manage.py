"""Operator chores: register the slash commands with Discord, and the link that adds the bot to a server."""

from __future__ import annotations

import base64
import binascii

import discord

from adapters.discord.bot import StudioClient, point_at
from core.errors import StudioError
from core.settings import Settings

SCOPES = ("bot", "applications.commands")


def permissions() -> discord.Permissions:
    """Exactly what the bot uses: see and answer in channels, upload results, read the message replied to,
    post voice messages, and join voice channels to play speech."""
    return discord.Permissions(view_channel=True, send_messages=True, send_messages_in_threads=True,
                               attach_files=True, read_message_history=True, send_voice_messages=True,
                               connect=True, speak=True)


def client_id_from_token(token: str) -> int:
    """A bot token starts with the bot's user id (= the application id), base64-encoded."""
    head = token.split(".", 1)[0]
    try:
        return int(base64.b64decode(head + "=" * (-len(head) % 4), validate=False).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise StudioError("DISCORD_TOKEN doesn't look like a bot token; pass --client-id instead.") from None


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(client_id, permissions=permissions(), scopes=SCOPES)


async def sync_commands(settings: Settings, guild_id: int | None = None) -> list[str]:
    """Upload the command list: globally (can take a while to show) or to one server (instant)."""
    if settings.discord_token is None:
        raise StudioError("Set DISCORD_TOKEN to sync the Discord commands.")
    point_at(settings)
    client = StudioClient(settings)
    async with client:
        try:
            await client.login(settings.discord_token.get_secret_value())
        except discord.LoginFailure:
            raise StudioError("Discord rejected DISCORD_TOKEN. Copy the bot token again from the portal.") from None
        if guild_id is None:
            synced = await client.tree.sync()
        else:
            guild = discord.Object(id=guild_id)
            client.tree.copy_global_to(guild=guild)
            synced = await client.tree.sync(guild=guild)
    return [c.name for c in synced]
