"""U1-U4, V1-V4 and Upscale under Discord results. Each button's custom id holds the job id and the cell,
so it keeps working after a restart; core.creative turns that into the request to submit."""

from __future__ import annotations

import re

import discord
from discord import ui

from adapters.discord.services import services
from core import creative
from core.requests import Request

JOB = r"(?P<job>[0-9a-f]{12})"
Button = ui.Button[ui.View]


async def _start(interaction: discord.Interaction, kind: str, make: creative.Maker) -> None:
    from adapters.discord import flow

    studio = services(interaction.client).core
    limit = interaction.filesize_limit

    async def build() -> tuple[Request, str | None]:
        return await make(studio, limit), None  # the parent comes from the request's lineage

    await flow.start(interaction, kind, build)


class PickButton(ui.DynamicItem[Button], template=rf"sb:u:{JOB}:(?P<n>[1-4])"):
    def __init__(self, job_id: str, n: int) -> None:
        super().__init__(ui.Button(label=f"U{n}", style=discord.ButtonStyle.primary, row=0,
                                   custom_id=f"sb:u:{job_id}:{n}"))
        self.job_id, self.n = job_id, n

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[ui.View],
                             match: re.Match[str]) -> PickButton:
        return cls(match["job"], int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _start(interaction, "pick", lambda s, limit: creative.pick(s, self.job_id, self.n, max_bytes=limit))


class VaryButton(ui.DynamicItem[Button], template=rf"sb:v:{JOB}(?::(?P<n>[1-4]))?"):
    """V<n> on a grid cell; plain "Vary" on a single image."""

    def __init__(self, job_id: str, n: int | None = None) -> None:
        label, row = (f"V{n}", 1) if n else ("Vary", 0)
        super().__init__(ui.Button(label=label, emoji=None if n else "🔀", style=discord.ButtonStyle.secondary,
                                   row=row, custom_id=f"sb:v:{job_id}" + (f":{n}" if n else "")))
        self.job_id, self.n = job_id, n

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[ui.View],
                             match: re.Match[str]) -> VaryButton:
        return cls(match["job"], int(match["n"]) if match["n"] else None)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _start(interaction, "vary", lambda s, limit: creative.vary(s, self.job_id, self.n, max_bytes=limit))


class UpscaleButton(ui.DynamicItem[Button], template=rf"sb:up:{JOB}:(?P<size>512|1K|2K|4K)"):
    def __init__(self, job_id: str, size: str) -> None:
        super().__init__(ui.Button(label=f"Upscale to {size}", emoji="⬆️", style=discord.ButtonStyle.secondary,
                                   row=0, custom_id=f"sb:up:{job_id}:{size}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[ui.View],
                             match: re.Match[str]) -> UpscaleButton:
        return cls(match["job"], match["size"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _start(interaction, "upscale", lambda s, limit: creative.upscale(s, self.job_id, max_bytes=limit))


DYNAMIC = (PickButton, VaryButton, UpscaleButton)
