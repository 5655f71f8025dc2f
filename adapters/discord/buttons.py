"""Retry, Edit and Delete under every result. State lives in the custom id (the job id); the journal
supplies the rest, so buttons keep working after a restart."""

from __future__ import annotations

import contextlib
import re

import discord
from discord import ui

from adapters.discord.services import services
from adapters.discord.sources import ImageSource
from core.creative import Buttons
from core.jobs.model import Job
from core.requests import Request
from core.results import Result

JOB = r"(?P<job>[0-9a-f]{12})"
GONE = "That result is no longer in my records."
Button = ui.Button[ui.View]


def result_view(job: Job, result: Result, *, extra: int | None = None, offer: Buttons | None = None) -> ui.View:
    """A grid: U1-U4, V1-V4, Re-roll, Delete. One image: Retry, Edit, Vary, Upscale, Delete. Audio: Retry, Delete."""
    from adapters.discord.creative import PickButton, UpscaleButton, VaryButton

    offer = offer or Buttons()
    view = ui.View(timeout=None)
    for n in range(1, offer.cells + 1):
        view.add_item(PickButton(job.id, n))
    for n in range(1, offer.cells + 1):
        view.add_item(VaryButton(job.id, n))
    last_row = 2 if offer.cells else 0
    view.add_item(RetryButton(job.id, reroll=offer.reroll, row=last_row))
    if result.kind == "image" and not offer.cells:
        view.add_item(EditButton(job.id))
    if offer.vary:
        view.add_item(VaryButton(job.id))
    if offer.upscale_to:
        view.add_item(UpscaleButton(job.id, offer.upscale_to))
    view.add_item(DeleteButton(job.id, extra, row=last_row))
    return view


class RetryButton(ui.DynamicItem[Button], template=rf"sb:retry:{JOB}"):
    """Retry; under a grid it reads Re-roll (the same prompt, new candidates)."""

    def __init__(self, job_id: str, *, reroll: bool = False, row: int | None = None) -> None:
        label, emoji = ("Re-roll", "🎲") if reroll else ("Retry", "🔁")
        super().__init__(ui.Button(label=label, emoji=emoji, style=discord.ButtonStyle.secondary, row=row,
                                   custom_id=f"sb:retry:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[ui.View],
                             match: re.Match[str]) -> RetryButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        from adapters.discord import flow

        job = await services(interaction.client).core.job(self.job_id)
        if job is None:
            await interaction.response.send_message(GONE, ephemeral=True)
            return
        options = {name: job.origin.meta.get(name) == "1" for name in ("voice_message", "play")}

        async def build() -> tuple[Request, str | None]:
            return job.request, job.parent_id

        await flow.start(interaction, job.kind, build, options=options)


def progress_view(job_id: str) -> ui.View:
    """Under "Drawing…" and "Waiting in the queue…": a way out."""
    view = ui.View(timeout=None)
    view.add_item(CancelButton(job_id))
    return view


class CancelButton(ui.DynamicItem[Button], template=rf"sb:cancel:{JOB}"):
    """Stops a waiting or running job; only the requester or someone who manages messages may."""

    def __init__(self, job_id: str) -> None:
        super().__init__(ui.Button(label="Cancel", emoji="✖️", style=discord.ButtonStyle.secondary,
                                   custom_id=f"sb:cancel:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[ui.View],
                             match: re.Match[str]) -> CancelButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        studio = services(interaction.client).core
        job = await studio.job(self.job_id)
        perms = interaction.permissions
        if job is not None and job.requester.user_id != str(interaction.user.id) and not (
                perms.manage_messages or perms.manage_guild):
            await interaction.response.send_message(
                "Only the person who asked for this, or someone who can manage messages, can cancel it.",
                ephemeral=True)
            return
        if job is None or job.state.terminal or not await studio.cancel(self.job_id):
            await interaction.response.send_message("That request has already finished.", ephemeral=True)
            return
        await interaction.response.defer()  # the job's own delivery replaces the progress message


class EditButton(ui.DynamicItem[Button], template=rf"sb:edit:{JOB}"):
    def __init__(self, job_id: str) -> None:
        super().__init__(ui.Button(label="Edit", emoji="🖌️", style=discord.ButtonStyle.secondary,
                                   custom_id=f"sb:edit:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[ui.View],
                             match: re.Match[str]) -> EditButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        from adapters.discord.modals import EditModal

        await interaction.response.send_modal(EditModal(ImageSource(job_id=self.job_id)))


class DeleteButton(ui.DynamicItem[Button], template=rf"sb:delete:{JOB}(?::(?P<extra>\d+))?"):
    def __init__(self, job_id: str, extra: int | None = None, *, row: int | None = None) -> None:
        custom_id = f"sb:delete:{job_id}" + (f":{extra}" if extra else "")
        super().__init__(ui.Button(label="Delete", emoji="🗑️", style=discord.ButtonStyle.danger, custom_id=custom_id,
                                   row=row))
        self.job_id = job_id
        self.extra = extra  # a voice message posted beside the result

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[ui.View],
                             match: re.Match[str]) -> DeleteButton:
        return cls(match["job"], int(match["extra"]) if match["extra"] else None)

    async def callback(self, interaction: discord.Interaction) -> None:
        job = await services(interaction.client).core.job(self.job_id)
        asked = job is not None and job.requester.user_id == str(interaction.user.id)
        if not (asked or interaction.permissions.manage_messages):
            await interaction.response.send_message(
                "Only the person who asked for this, or someone who can manage messages, can delete it.",
                ephemeral=True)
            return
        await interaction.response.defer()
        if interaction.message is not None:
            await interaction.message.delete()
        if self.extra and interaction.channel_id:
            with contextlib.suppress(discord.NotFound):
                await interaction.client.http.delete_message(interaction.channel_id, self.extra)
        if job is not None:
            await services(interaction.client).core.delete(job)  # the stored result and inputs go too

