"""The emulator streams speech as Gemini does: SSE frames of raw L16, usage on the last, paced and breakable."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import aiohttp

from emulator.app import Emulator
from emulator.faults import Fault
from emulator.stream import Pacing

BODY = {"contents": [{"parts": [{"text": "One sentence. Then another one, a little longer than the first."}],
                      "role": "user"}],
        "generationConfig": {"responseModalities": ["AUDIO"],
                             "speechConfig": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}}}}
URL = "/v1beta/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse"


async def raw_stream(emulator: Emulator, fault: str | None = None) -> tuple[bytes, float, str]:
    headers = {"x-goog-api-key": "test-key", **({"x-emulator-fault": fault} if fault else {})}
    start = time.monotonic()
    async with aiohttp.ClientSession() as http, http.post(emulator.base_url + URL, json=BODY, headers=headers) as res:
        first = await res.content.readuntil(b"\r\n\r\n")
        first_at = time.monotonic() - start
        rest = b""
        try:
            while not res.content.at_eof():
                rest += await res.content.readuntil(b"\r\n\r\n")
        except aiohttp.ClientPayloadError:
            rest += b"<broken>"
        return first + rest, first_at, res.headers["Content-Type"]


def frames(body: bytes) -> list[dict[str, Any]]:
    assert body.endswith(b"\r\n\r\n")
    events = body.split(b"\r\n\r\n")[:-1]
    assert all(e.startswith(b"data: ") for e in events)
    return [json.loads(e[6:]) for e in events]


async def test_sse_chunks_of_raw_l16_with_usage_on_the_last(emulator: Emulator) -> None:
    emulator.pacing = Pacing(chunk_s=0.25)
    body, _, content_type = await raw_stream(emulator)
    chunks = frames(body)
    assert content_type == "text/event-stream" and len(chunks) > 3
    parts = [c["candidates"][0]["content"]["parts"][0]["inlineData"] for c in chunks]
    assert {p["mimeType"] for p in parts} == {"audio/L16;codec=pcm;rate=24000"}
    pcm = [base64.b64decode(p["data"]) for p in parts]
    assert all(len(p) == 12_000 for p in pcm[:-1]) and pcm[0][:4] != b"RIFF"  # 0.25 s each, no header
    assert [("usageMetadata" in c, c["candidates"][0].get("finishReason")) for c in chunks] == (
        [(False, None)] * (len(chunks) - 1) + [(True, "STOP")])
    assert chunks[-1]["usageMetadata"]["candidatesTokensDetails"][0]["modality"] == "AUDIO"


async def test_first_chunk_latency_and_interval_are_honoured(emulator: Emulator) -> None:
    emulator.pacing = Pacing(first_chunk_s=0.4, chunk_interval_s=0.05, chunk_s=0.5)
    start = time.monotonic()
    body, first_at, _ = await raw_stream(emulator)
    whole = time.monotonic() - start
    n = len(frames(body))
    assert first_at >= 0.4
    assert whole >= 0.4 + (n - 1) * 0.05


async def test_mid_stream_faults(emulator: Emulator) -> None:
    emulator.pacing = Pacing(chunk_s=0.25)
    body, _, _ = await raw_stream(emulator, "cut:2")
    assert body.endswith(b"<broken>") and body.count(b"data: ") == 2
    emulator.script(Fault.end("OTHER", 3))
    chunks = frames((await raw_stream(emulator))[0])
    assert len(chunks) == 4 and chunks[-1]["candidates"][0] == {"finishReason": "OTHER", "index": 0}
    assert "usageMetadata" in chunks[-1]
