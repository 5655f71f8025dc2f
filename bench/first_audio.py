"""Time to first audio: how soon streamed speech can be heard, against the emulator's first-chunk latency.

The emulator streams a ~30 s clip with a set first-chunk latency and chunk interval; the studio
feeds the job's audio feed, and the live encoder (what Discord, the playground and ``-o -`` use)
turns it into Ogg/Opus. Measured from submit: the first PCM chunk in the feed, the first encoded
audio page out of ffmpeg, and the finished clip. Baselines in the same run: the emulator's latency,
and the encode of one chunk on its own. Target: first audio <= 1.0 x latency + one chunk's encode.

    python -m bench.first_audio [--speech-s 30] [--latency 1.0] [--interval 0.25]

From other bench code: ``await measure_first_audio(speech_s=30, first_chunk_s=1.0)`` returns the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import SecretStr

from core.feed import BYTES_PER_S
from core.media.live import encode_stream
from core.requests import Origin, Requester, SpeakRequest
from core.settings import Settings
from core.studio import open_studio
from emulator.app import Emulator
from emulator.stream import Pacing

SENTENCE = "Streaming speech is heard while the rest of this long text is still being generated. "
CHARS_PER_S = 17.0  # the emulator's voices, roughly (3,000 chars -> 173 s)


def _audio_pages(data: bytes) -> int:
    """Ogg pages past the two header pages (OpusHead, OpusTags): pages that carry sound."""
    return max(0, data.count(b"OggS") - 2)


async def one_chunk_encode_s(chunk_s: float) -> float:
    """Seconds from handing ffmpeg one chunk of PCM to its first audio page: the encoder's share."""
    async def one() -> AsyncIterator[bytes]:
        yield b"\x10\x00" * round(chunk_s * BYTES_PER_S / 2)

    start, out = time.monotonic(), b""
    async for data in encode_stream(one(), "ogg"):
        out += data
        if _audio_pages(out):
            break
    return time.monotonic() - start


async def measure_first_audio(*, speech_s: float = 30.0, first_chunk_s: float = 1.0, chunk_interval_s: float = 0.25,
                              chunk_s: float = 0.5) -> dict[str, float]:
    """Figures in seconds (and ratios) for one streamed clip of about ``speech_s`` seconds."""
    emulator = Emulator(api_key="bench", pacing=Pacing(first_chunk_s, chunk_interval_s, chunk_s))
    url = await emulator.start()
    requester, origin = Requester("cli", "bench"), Origin("cli")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(gemini_api_key=SecretStr("bench"), gemini_base_url=url, data_dir=Path(tmp))
            async with open_studio(settings, resume=False) as studio:
                await studio.run(SpeakRequest("Warming up."), requester, origin)  # load espeak, ffmpeg, the SDK
                text = SENTENCE * max(1, round(speech_s * CHARS_PER_S / len(SENTENCE)))
                start = time.monotonic()
                job = await studio.submit(SpeakRequest(text), requester, origin)
                feed = await studio.audio_feed(job.id)
                assert feed is not None
                first_pcm = first_audio = 0.0

                async def pcm() -> AsyncIterator[bytes]:
                    nonlocal first_pcm
                    async for data in feed.listen():
                        first_pcm = first_pcm or time.monotonic() - start
                        yield data

                out = b""
                async for data in encode_stream(pcm(), "ogg"):
                    out += data
                    if not first_audio and _audio_pages(out):
                        first_audio = time.monotonic() - start
                clip = await studio.outcome(job.id)
                whole = time.monotonic() - start
    finally:
        await emulator.stop()
    encode = await one_chunk_encode_s(chunk_s)
    return {
        "speech_s": round(getattr(clip, "duration_s", 0.0), 2),
        "first_chunk_latency_s": first_chunk_s,
        "first_pcm_s": round(first_pcm, 3),
        "first_audio_s": round(first_audio, 3),
        "one_chunk_encode_s": round(encode, 3),
        "whole_clip_s": round(whole, 3),
        "first_audio_vs_latency": round(first_audio / first_chunk_s, 3) if first_chunk_s else 0.0,
        "first_audio_vs_whole": round(first_audio / whole, 3),
        "meets_target": float(first_audio <= first_chunk_s + encode),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech-s", type=float, default=30.0)
    parser.add_argument("--latency", type=float, default=1.0, help="emulated first-chunk latency, seconds")
    parser.add_argument("--interval", type=float, default=0.25, help="emulated time between chunks, seconds")
    parser.add_argument("--chunk-s", type=float, default=0.5, help="audio per chunk, seconds")
    args = parser.parse_args()
    figures = asyncio.run(measure_first_audio(speech_s=args.speech_s, first_chunk_s=args.latency,
                                              chunk_interval_s=args.interval, chunk_s=args.chunk_s))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
