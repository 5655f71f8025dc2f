"""Studios wired to a temp data dir: offline (espeak, cards) or Gemini through the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.requests import Origin, Requester
from core.settings import Settings
from core.studio import Studio, open_studio
from emulator.app import Emulator
from tests.fakes.replies import RecordingHook
from tests.settings import offline_settings as make_settings

REQUESTER = Requester("test", "u1", "Ada")
ORIGIN = Origin("test", workspace="w1", channel="c1")


def gemini_settings(data_dir: Path, emulator: Emulator, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "gemini_api_key": SecretStr("test-key"),
        "gemini_base_url": emulator.base_url,
        "gemini_retry_base_s": 0.01,
        "gemini_timeout_s": 5,
    }
    return make_settings(data_dir, **(values | overrides))


@pytest.fixture
def hook() -> RecordingHook:
    return RecordingHook()


@pytest.fixture
async def offline_studio(tmp_path: Path, hook: RecordingHook) -> AsyncIterator[Studio]:
    async with open_studio(make_settings(tmp_path), hooks=(hook,)) as studio:
        yield studio


@pytest.fixture
async def gemini_studio(tmp_path: Path, emulator: Emulator, hook: RecordingHook) -> AsyncIterator[Studio]:
    async with open_studio(gemini_settings(tmp_path, emulator), hooks=(hook,)) as studio:
        yield studio
