"""The real google-genai client pointed at the emulator, with its own retries off (one request per call)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from google import genai
from google.genai import types

from emulator.app import Emulator


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[genai.client.AsyncClient]:
    sdk = genai.Client(
        api_key=emulator.api_key,
        http_options=types.HttpOptions(base_url=emulator.base_url, retry_options=types.HttpRetryOptions(attempts=1)),
    )
    yield sdk.aio
    await sdk.aio.aclose()
