"""The time-to-first-audio benchmark still runs, and streamed audio comes before the whole clip."""

from __future__ import annotations

from bench.first_audio import measure_first_audio


async def test_first_audio_comes_long_before_the_whole_clip() -> None:
    figures = await measure_first_audio(speech_s=4, first_chunk_s=0.3, chunk_interval_s=0.1, chunk_s=0.25)
    assert figures["first_pcm_s"] >= 0.3  # never before the emulator's first chunk
    assert figures["first_pcm_s"] <= figures["first_audio_s"] < figures["whole_clip_s"]
    assert figures["speech_s"] > 2
