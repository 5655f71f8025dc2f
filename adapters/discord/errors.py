"""The command tree's global error handler: an unexpected failure becomes a short note only the member
sees (replacing a public "thinking…" if there was one) and one log line with the job id, if any."""

from __future__ import annotations

import contextlib
import logging

import discord
from discord import app_commands

from adapters.discord.services import services
from core.errors import StudioError

log = logging.getLogger(__name__)
NONE = discord.AllowedMentions.none()
SORRY = "Something went wrong on our side, sorry. Please try again in a moment."


async def on_tree_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    original = getattr(error, "original", error)
    name = interaction.command.qualified_name if interaction.command else "?"
    job = None
    studio = services(interaction.client).studio
    if studio is not None:
        try:
            job = await studio.job_for_key(f"discord:i:{interaction.id}")
        except Exception:
            job = None
    if isinstance(error, app_commands.CheckFailure):
        text = "You can't use this command here."
        log.info("/%s refused by a check (interaction %s)", name, interaction.id)
    else:
        text = original.user_message if isinstance(original, StudioError) else SORRY
        log.error("/%s failed (interaction %s, job %s): %s", name, interaction.id, job.id if job else "none",
                  type(original).__name__, exc_info=original)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)
            return
        with contextlib.suppress(discord.HTTPException):  # a public "thinking…" must not stay stuck
            await interaction.delete_original_response()
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)
    except discord.HTTPException:
        log.warning("could not tell the member about the failure of /%s", name, exc_info=True)
