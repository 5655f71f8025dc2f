"""The Discord adapter: slash commands, reply-to-image edits, buttons and voice, on the shared studio."""

from adapters.discord.bot import DiscordAdapter, StudioClient, build, point_at

__all__ = ["DiscordAdapter", "StudioClient", "build", "point_at"]
