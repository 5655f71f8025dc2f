"""The one question a modal asks: what should change in this image."""

from __future__ import annotations

import discord

from adapters.discord import flow
from adapters.discord.sources import ImageSource, fetch
from core.requests import EditRequest, Request

MAX_INSTRUCTION = 1000


class EditModal(discord.ui.Modal, title="Edit image"):
    instruction: discord.ui.TextInput[EditModal] = discord.ui.TextInput(
        label="What should change?", placeholder="make it night, add a red scarf…", custom_id="sb:edit:instruction",
        style=discord.TextStyle.paragraph, max_length=MAX_INSTRUCTION)

    def __init__(self, source: ImageSource, *, reply_to: discord.Message | None = None) -> None:
        super().__init__(custom_id="sb:edit:modal", timeout=15 * 60)
        self.source = source
        self.reply_to = reply_to

    async def on_submit(self, interaction: discord.Interaction) -> None:
        text = self.instruction.value
        limit = interaction.filesize_limit

        async def build() -> tuple[Request, str | None]:
            image, parent = await fetch(interaction.client, self.source)
            return EditRequest(image=image, instruction=text, max_bytes=limit), parent

        await flow.start(interaction, "edit", build, reply_to=self.reply_to)
