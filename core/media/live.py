"""Encoding audio while it is still being generated: PCM in, Ogg/Opus or MP3 bytes out as they are made.

One ffmpeg process per stream, driven through asyncio pipes so the event loop never blocks; Ogg
pages are flushed every 20 ms so a player downstream can start at the first chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from core.errors import InputError, StudioError
from core.feed import FEED_RATE
from core.media.audio import MP3_KBPS, OPUS_KBPS, _ffmpeg

READ_SIZE = 4096


def _command(fmt: str, rate: int) -> list[str]:
    cmd = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "s16le", "-ar", str(rate), "-ac", "1",
           "-i", "pipe:0", "-flush_packets", "1"]
    if fmt == "ogg":
        return [*cmd, "-c:a", "libopus", "-b:a", f"{OPUS_KBPS}k", "-ar", "48000", "-application", "voip",
                "-page_duration", "20000", "-f", "ogg", "pipe:1"]
    if fmt == "webm":  # what Media Source Extensions take: Opus in WebM clusters of 100 ms, no cues
        return [*cmd, "-c:a", "libopus", "-b:a", f"{OPUS_KBPS}k", "-ar", "48000", "-application", "voip",
                "-f", "webm", "-live", "1", "-cluster_time_limit", "100", "pipe:1"]
    if fmt == "mp3":
        return [*cmd, "-c:a", "libmp3lame", "-b:a", f"{MP3_KBPS}k", "-f", "mp3", "pipe:1"]
    if fmt == "wav":  # a WAV whose header cannot know the length: players read it as "until the end"
        return [*cmd, "-c:a", "pcm_s16le", "-f", "wav", "pipe:1"]
    raise InputError(f"Unknown audio format {fmt!r}.")


async def encode_stream(pcm: AsyncIterator[bytes], fmt: str = "ogg", *, rate: int = FEED_RATE
                        ) -> AsyncIterator[bytes]:
    """Encoded bytes of ``pcm`` (mono s16le at ``rate``) as soon as ffmpeg has them."""
    proc = await asyncio.create_subprocess_exec(
        *_command(fmt, rate), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stdin = proc.stdin

    async def feed() -> None:
        try:
            async for data in pcm:
                stdin.write(data)
                await stdin.drain()
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    writer = asyncio.create_task(feed(), name="live-encode-input")
    try:
        while data := await proc.stdout.read(READ_SIZE):
            yield data
        await writer
        if await proc.wait() != 0:
            detail = (await proc.stderr.read()).decode(errors="replace")[-500:]
            raise StudioError("I couldn't encode the audio. Please try again.", detail=detail)
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError, StudioError):
            await writer
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
