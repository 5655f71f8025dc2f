"""The real discord.py client, logged in to a fake Discord, on an offline studio in a temp data dir."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import discord
import discord.gateway
import discord.http
import pytest

from adapters.discord import DiscordAdapter
from core.providers.base import Provider, Speech
from core.providers.offline import OfflineProvider
from core.requests import BlendRequest, EditRequest, ImagineRequest, SpeakRequest, UpscaleRequest, VaryRequest
from core.settings import Settings
from core.studio import Studio, open_studio
from tests.fakes.discord import FakeDiscord
from tests.fakes.media import image_size as image_size
from tests.fakes.media import png as png
from tests.settings import offline_settings


def make_settings(data_dir: Path, fake: FakeDiscord, **overrides: Any) -> Settings:
    platform = {"discord_token": "test-token", "discord_api_base": fake.api_base,
                "discord_gateway_url": fake.gateway_url, "media_hosts": ("127.0.0.1",)}
    return offline_settings(data_dir, **(platform | overrides))


class TimedProvider(OfflineProvider):
    """Offline media that notes when generation started (to prove the defer came first), and can hold jobs."""

    def __init__(self) -> None:
        super().__init__()
        self.started: list[float] = []
        self.gate: asyncio.Event | None = None
        self.midway: asyncio.Event | None = None  # a speech stream waits here after its first chunk

    async def _begin(self) -> None:
        self.started.append(time.monotonic())
        if self.gate is not None:
            await self.gate.wait()

    async def speak(self, request: SpeakRequest) -> Speech:
        await self._begin()
        return await super().speak(request)

    async def stream_speech(self, request: SpeakRequest) -> AsyncIterator[Speech]:
        await self._begin()
        first = True
        async for chunk in super().stream_speech(request):
            yield chunk
            if first and self.midway is not None:
                await self.midway.wait()
            first = False

    async def imagine(self, request: ImagineRequest, *, seed: int | None = None) -> bytes:
        await self._begin()
        return await super().imagine(request, seed=seed)

    async def vary(self, request: VaryRequest, *, seed: int | None = None) -> bytes:
        await self._begin()
        return await super().vary(request, seed=seed)

    async def upscale(self, request: UpscaleRequest) -> bytes:
        await self._begin()
        return await super().upscale(request)

    async def blend(self, request: BlendRequest) -> bytes:
        await self._begin()
        return await super().blend(request)

    async def edit(self, request: EditRequest) -> bytes:
        await self._begin()
        return await super().edit(request)


class FakeVoice(discord.VoiceProtocol):
    """A voice connection that sends nothing: it reads the audio source like discord.py's player thread."""

    instances: ClassVar[list[FakeVoice]] = []
    hold: ClassVar[threading.Event] = threading.Event()  # cleared: playback waits, as a long clip would

    def __init__(self, client: discord.Client, channel: discord.abc.Connectable) -> None:
        super().__init__(client, channel)
        self.packets: list[bytes] = []
        self.connected = False
        self.disconnected = threading.Event()
        self.playing = threading.Event()
        FakeVoice.instances.append(self)

    async def connect(self, *, timeout: float, reconnect: bool, self_deaf: bool = False,
                      self_mute: bool = False) -> None:
        self.connected = True

    async def disconnect(self, *, force: bool = False) -> None:
        self.connected = False
        self.disconnected.set()
        self.cleanup()

    def is_connected(self) -> bool:
        return self.connected

    async def move_to(self, channel: Any) -> None:
        self.channel = channel

    def play(self, source: discord.AudioSource, *, after: Any = None) -> None:
        if self.playing.is_set():
            raise discord.ClientException("Already playing audio.")  # as discord.py's VoiceClient.play
        self.playing.set()

        def run() -> None:
            try:
                FakeVoice.hold.wait()
                while packet := source.read():
                    self.packets.append(packet)
            finally:
                source.cleanup()
                self.playing.clear()
                if after is not None:
                    after(None)

        threading.Thread(target=run, daemon=True).start()


@dataclass
class Running:
    adapter: DiscordAdapter
    studio: Studio
    provider: TimedProvider
    task: asyncio.Task[None]

    @property
    def client(self) -> discord.Client:
        return self.adapter.client


@asynccontextmanager
async def running(settings: Settings, *, provider: Provider | None = None, **options: Any) -> AsyncIterator[Running]:
    """A bot process: studio + adapter, logged in; stopped (client closed, studio closed) on the way out."""
    options.setdefault("guild_ready_timeout", 0.05)
    options.setdefault("voice_factory", FakeVoice)
    options.setdefault("voice_idle_s", 0.3)
    adapter = DiscordAdapter(settings, **options)
    prov = provider or (None if settings.use_gemini else TimedProvider())
    async with open_studio(settings, provider=prov, hooks=(adapter.hook,)) as studio:
        task = asyncio.create_task(adapter.serve(studio))
        try:
            async with asyncio.timeout(10):
                while not adapter.client.services.ready.is_set():
                    if task.done():
                        task.result()
                    await asyncio.sleep(0.02)
            yield Running(adapter, studio, prov if isinstance(prov, TimedProvider) else TimedProvider(), task)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    # The adapter points discord.py at the fake through class attributes: put them back afterwards.
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    FakeVoice.instances.clear()
    FakeVoice.hold.set()
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(tmp_path: Path, fake: FakeDiscord) -> Settings:
    return make_settings(tmp_path, fake)


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[Running]:
    async with running(settings) as r:
        yield r
