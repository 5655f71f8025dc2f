"""Delivery for Discord jobs that outlived their live request: a restart, or a long queue."""

from __future__ import annotations

import discord

from adapters.discord import ledger
from adapters.discord.reply import ChannelReply
from adapters.discord.services import PLATFORM, services
from core.jobs.delivery import Reply
from core.jobs.model import Job


class DiscordHook:
    """The interaction token is gone with the process, so results go to the channel as a reply."""

    platform = PLATFORM

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def reply_for(self, job: Job) -> Reply:
        return ChannelReply(self.client, job.kind)

    async def reconcile(self, job: Job) -> str | None:
        """The bot's own message in the channel carrying this job (file name or button id), if any."""
        await services(self.client).ready.wait()
        return await ledger.find_posted(self.client, job)
