"""What every Discord handler needs, hung on the client so buttons and modals rebuilt after a restart find it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
import discord

from adapters.discord.voice import VoicePlayer
from core.errors import StudioError
from core.settings import Settings
from core.studio import Studio

PLATFORM = "discord"
DISCORD_FILE_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024


@dataclass
class Services:
    settings: Settings
    player: VoicePlayer
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # logged in: gateway READY, or REST-only login
    rest_only: bool = False  # delivering without the gateway (a worker): no guild cache, no voice
    studio: Studio | None = None
    session: aiohttp.ClientSession | None = None

    @property
    def core(self) -> Studio:
        if self.studio is None:
            raise StudioError("The bot is still starting. Try again in a moment.")
        return self.studio

    @property
    def http(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        return self.session

    @property
    def media_hosts(self) -> tuple[str, ...]:
        return DISCORD_FILE_HOSTS + tuple(self.settings.media_hosts)


def services(client: discord.Client) -> Services:
    found = getattr(client, "services", None)
    if not isinstance(found, Services):
        raise RuntimeError("this discord client was not built by the Studiobot adapter")
    return found
