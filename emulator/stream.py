"""Speech streamed the way ``:streamGenerateContent?alt=sse`` answers: raw L16 chunks as they are made.

Each server-sent event is ``data: {json}\\r\\n\\r\\n`` holding one candidate with one
``audio/L16;codec=pcm;rate=24000`` part; only the last one carries ``finishReason`` and
``usageMetadata``. The first chunk leaves ``first_chunk_s`` after the request arrived, the next
ones every ``chunk_interval_s``, and a scripted fault can cut the stream or end it early.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from emulator.wire import AUDIO_TOKENS_PER_S, L16, b64encode

RATE = 24_000


@dataclass(frozen=True, slots=True)
class Pacing:
    """How fast the emulator streams: time to the first chunk, time between chunks, audio per chunk."""

    first_chunk_s: float = 0.0
    chunk_interval_s: float = 0.0
    chunk_s: float = 0.5


def _event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\r\n\r\n"


def _chunk(model: str, response_id: str, pcm: bytes) -> dict[str, Any]:
    part = {"inlineData": {"mimeType": L16, "data": b64encode(pcm)}}
    return {"candidates": [{"content": {"parts": [part], "role": "model"}, "index": 0}],
            "modelVersion": model, "responseId": response_id}


def usage(prompt_tokens: int, seconds: float) -> dict[str, Any]:
    out = max(1, round(seconds * AUDIO_TOKENS_PER_S))
    return {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": out,
        "totalTokenCount": prompt_tokens + out,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": out}],
    }


async def stream_speech(request: web.Request, model: str, pcm: bytes, prompt_tokens: int, *, pacing: Pacing,
                        started: float, cut_after: int | None = None, end_reason: str | None = None
                        ) -> web.StreamResponse:
    """Send ``pcm`` as SSE chunks; ``cut_after`` drops the connection after that many chunks, ``end_reason``
    ends the stream there with that finishReason instead (the ``OTHER`` long streams really end with)."""
    size = max(2, round(pacing.chunk_s * RATE) * 2)
    pieces = [pcm[i : i + size] for i in range(0, len(pcm), size)] or [b""]
    response_id = secrets.token_urlsafe(16)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    due = started + pacing.first_chunk_s
    broken = cut_after is not None or end_reason is not None
    stop = min(len(pieces), cut_after or 0) if broken else len(pieces)
    sent = 0.0
    for n, piece in enumerate(pieces[:stop]):
        if (wait := due - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        payload = _chunk(model, response_id, piece)
        sent += len(piece) / (2 * RATE)
        if not broken and n == stop - 1:
            payload["candidates"][0]["finishReason"] = "STOP"
            payload["usageMetadata"] = usage(prompt_tokens, sent)
        await response.write(_event(payload))
        due += pacing.chunk_interval_s
    if end_reason is None and broken:
        request.protocol.force_close()  # the client sees the connection drop mid-stream
        if request.transport is not None:
            request.transport.close()
        return response
    if end_reason is not None:
        final = {"candidates": [{"finishReason": end_reason, "index": 0}], "usageMetadata": usage(prompt_tokens, sent),
                 "modelVersion": model, "responseId": response_id}
        await response.write(_event(final))
    await response.write_eof()
    return response
