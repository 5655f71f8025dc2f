"""The Discord client and the adapter ``studiobot run`` serves: login, commands, buttons, replies."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import discord
import yarl
from discord import app_commands

from adapters.discord import community, creative, mentions
from adapters.discord.buttons import CancelButton, DeleteButton, EditButton, RetryButton
from adapters.discord.commands import add_commands
from adapters.discord.errors import on_tree_error
from adapters.discord.hook import DiscordHook
from adapters.discord.services import Services
from adapters.discord.voice import DEFAULT_IDLE_S, VoiceFactory, VoicePlayer
from adapters.preflight import discord_probe, until_reachable
from core.settings import Settings, shard_plan
from core.studio import Studio

log = logging.getLogger(__name__)
DEFAULT_API_BASE = "https://discord.com/api/v10"


def point_at(settings: Settings) -> None:
    """Send discord.py to another server (a proxy, or the tests' fake). Process-wide: class attributes."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def intents(settings: Settings) -> discord.Intents:
    """Guilds (channels, roles), guild messages (reply-mentions), voice states (who is in which channel).
    Message content is privileged and only needed to edit other people's pictures by reply."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.voice_states = True
    wanted.message_content = settings.discord_message_content
    return wanted


class StudioClient(discord.Client):
    def __init__(self, settings: Settings, *, voice_factory: VoiceFactory | None = None,
                 voice_idle_s: float = DEFAULT_IDLE_S, guild_ready_timeout: float = 2.0, **options: Any) -> None:
        super().__init__(intents=intents(settings), allowed_mentions=discord.AllowedMentions.none(),
                         guild_ready_timeout=guild_ready_timeout, **options)
        self.services = Services(settings, VoicePlayer(factory=voice_factory, idle_s=voice_idle_s))
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(self)
        self.on_ready_callback: Callable[[str], None] | None = None

    async def setup_hook(self) -> None:
        add_commands(self.tree)
        self.tree.error(on_tree_error)
        self.add_dynamic_items(RetryButton, EditButton, DeleteButton, CancelButton, *creative.DYNAMIC,
                               *community.DYNAMIC)

    async def on_ready(self) -> None:
        self.services.ready.set()
        guilds = len(self.guilds)
        log.info("logged in as %s in %d servers", self.user, guilds)
        if self.on_ready_callback is not None and self.user is not None:
            self.on_ready_callback(f"logged in as {self.user} ({guilds} server{'s' if guilds != 1 else ''})")

    async def on_message(self, message: discord.Message) -> None:
        await mentions.on_message(self, message)

    async def close(self) -> None:
        await self.services.player.close()
        session, self.services.session = self.services.session, None
        if session is not None:
            await session.close()
        await super().close()


class ShardedStudioClient(StudioClient, discord.AutoShardedClient):
    """The same bot, sharded automatically (set STUDIOBOT_DISCORD_SHARDED for bots in many servers)."""


class DiscordAdapter:
    name = "discord"

    def __init__(self, settings: Settings, **client_options: Any) -> None:
        if settings.discord_token is None:
            raise ValueError("DISCORD_TOKEN is not set")
        point_at(settings)
        self.settings = settings
        if settings.discord_shards:  # this front end's share of the shards; others run the rest
            shard_ids, shard_count = shard_plan(settings.discord_shards)
            client_options |= {"shard_ids": shard_ids, "shard_count": shard_count}
        cls = ShardedStudioClient if settings.discord_sharded or settings.discord_shards else StudioClient
        self.client: StudioClient = cls(settings, **client_options)
        self.hook = DiscordHook(self.client)

    async def ready(self) -> bool:
        """Connected to the gateway now (``/readyz``): logged in, and the websocket (or every shard's) open;
        delivering only, logged in over REST."""
        c = self.client
        if c.services.rest_only:
            return not c.is_closed() and c.services.ready.is_set()
        if c.is_closed() or not c.is_ready():
            return False
        shards = getattr(c, "shards", None)
        if shards:
            return all(not shard.is_closed() for shard in shards.values())
        return c.ws is not None and c.ws.open

    async def _preflight(self, studio: Studio) -> str:
        """The token, once Discord accepted it: one line per failed attempt and a plain "wrong token",
        instead of discord.py's tracebacks."""
        assert self.settings.discord_token is not None
        self.client.services.studio = studio
        token = self.settings.discord_token.get_secret_value()
        await until_reachable("Discord", lambda: discord_probe(self.settings.discord_api_base or DEFAULT_API_BASE,
                                                               token),
                              hint="check the network (or STUDIOBOT_DISCORD_API_BASE)")
        return token

    async def serve(self, studio: Studio, *, on_ready: Callable[[str], None] | None = None) -> None:
        """Run until cancelled (one task in the bots' TaskGroup)."""
        self.client.on_ready_callback = on_ready
        token = await self._preflight(studio)
        async with self.client:
            await self.client.start(token)

    @asynccontextmanager
    async def delivering(self, studio: Studio) -> AsyncIterator[None]:
        """Post results through the REST API only (a worker): the same client logged in, never connected to
        the gateway, so this process takes no events. Login gives what delivery reads from READY otherwise
        (the bot user, for reconcile; the application id, for buttons)."""
        token = await self._preflight(studio)
        try:
            await self.client.login(token)
            self.client.services.rest_only = True
            self.client.services.ready.set()
            yield
        finally:
            await self.client.close()


def build(settings: Settings) -> DiscordAdapter:
    return DiscordAdapter(settings)
