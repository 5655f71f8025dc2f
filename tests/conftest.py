"""Shared fixtures: the fake peers tests drive the real libraries against."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from emulator.app import Emulator


@pytest.fixture
async def emulator(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Emulator]:
    """A Gemini emulator on a free local port; its ``base_url`` goes in HttpOptions."""
    if any(os.environ.get(v) for v in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")):
        # google-genai's aiohttp session trusts the environment: keep local traffic off the proxy.
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"])))
    emu = Emulator(api_key="test-key")
    await emu.start()
    yield emu
    await emu.stop()
