"""A real playground on a free local port, backed by an offline studio in a temp data dir."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.playground import Playground
from core.providers.base import Provider, Speech
from core.providers.offline import OfflineProvider
from core.requests import ImagineRequest, SpeakRequest
from core.settings import Settings
from core.studio import Studio, open_studio
from tests.fakes.media import png as png
from tests.settings import offline_settings as make_settings

TERMINAL = {"done", "failed", "cancelled"}


@dataclass
class Served:
    """One running playground and a client session pointed at it."""

    url: str
    studio: Studio
    playground: Playground
    http: aiohttp.ClientSession

    async def post(self, text: str, **extra: object) -> tuple[int, dict[str, Any]]:
        async with self.http.post("/api/messages", json={"text": text, **extra}) as res:
            return res.status, await res.json()

    async def upload(self, data: bytes, name: str = "photo.png") -> dict[str, Any]:
        async with self.http.post("/api/uploads", params={"name": name}, data=data,
                                  headers={"Content-Type": "image/png"}) as res:
            assert res.status == 201, await res.text()
            entry: dict[str, Any] = (await res.json())["entry"]
            return entry

    async def finished(self, entry_id: str, timeout: float = 30) -> dict[str, Any]:
        """Poll the job until it ends; returns its final timeline entry."""
        job_id = entry_id.removeprefix("job:")
        async with asyncio.timeout(timeout):
            while True:
                async with self.http.get(f"/api/jobs/{job_id}") as res:
                    entry: dict[str, Any] = (await res.json())["entry"]
                if entry["state"] in TERMINAL:
                    return entry
                await asyncio.sleep(0.05)

    async def fetch(self, path: str) -> tuple[aiohttp.ClientResponse, bytes]:
        async with self.http.get(path) as res:
            return res, await res.read()


class GatedProvider(OfflineProvider):
    """Offline images that wait for a go, so a second job is certainly queued behind the first."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def imagine(self, request: ImagineRequest, *, seed: int | None = None) -> bytes:
        await self.gate.wait()
        return await super().imagine(request, seed=seed)


class HeldSpeech(OfflineProvider):
    """Offline speech whose stream stops after its first sentence until ``midway`` is set: a job surely running."""

    def __init__(self) -> None:
        super().__init__()
        self.midway = asyncio.Event()

    async def stream_speech(self, request: SpeakRequest) -> AsyncIterator[Speech]:
        first = True
        async for chunk in super().stream_speech(request):
            yield chunk
            if first:
                await self.midway.wait()
            first = False


@asynccontextmanager
async def serving(settings: Settings, *, provider: Provider | None = None,
                  **kwargs: Any) -> AsyncIterator[Served]:
    playground = Playground(settings, **kwargs)
    async with open_studio(settings, provider=provider, hooks=(playground.hook,)) as studio:
        url = await playground.start(studio)
        try:
            jar = aiohttp.CookieJar(unsafe=True)  # browsers keep cookies for 127.0.0.1; aiohttp does not by default
            async with aiohttp.ClientSession(base_url=url.split("?")[0].rstrip("/"), cookie_jar=jar) as http:
                yield Served(url, studio, playground, http)
        finally:
            await playground.stop()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serving(make_settings(tmp_path)) as s:
        yield s


async def read_events(ws: aiohttp.ClientWebSocketResponse, until: Callable[[dict[str, Any]], bool],
                      timeout: float = 30) -> list[dict[str, Any]]:
    """Websocket messages up to and including the first one ``until`` accepts."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        async for msg in ws:
            event = json.loads(msg.data)
            seen.append(event)
            if until(event):
                return seen
    raise AssertionError(f"the socket closed before the expected event; saw {seen}")
