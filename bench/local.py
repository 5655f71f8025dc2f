"""Figures measured inside the bench process, no network: event-loop lag under encoding, audio encode speed.

Loop lag runs the real studio (journal, pools, encoders) with the offline provider, whose speech
(espeak) and pictures are CPU work of the same kind Gemini's answers cause: PCM to Ogg Opus, and
images re-encoded to fit an upload limit. A 10 ms ticker records how late it fires; its baseline
is the same ticker on the idle loop right after, for as long (up to 10 s), so both see the same
machine: on a shared box, time the process is not scheduled shows up in both.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import time
from pathlib import Path

from core.media import audio
from core.providers import espeak
from core.providers.base import Speech
from core.requests import ImagineRequest, Origin, Requester, SpeakRequest
from core.settings import Settings
from core.studio import open_studio

TICK_S = 0.010
IDLE_MAX_S = 10.0
RATE = 24_000
SQUEEZE_BYTES = 12_000  # under every preview card's PNG size, so each image is re-encoded to fit


async def _ticker(stop: asyncio.Event, lags: list[float]) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(TICK_S)
        lags.append(time.perf_counter() - start - TICK_S)


async def _with_ticker(seconds: float | None, work: asyncio.Future[object] | None = None) -> list[float]:
    lags: list[float] = []
    stop = asyncio.Event()
    tick = asyncio.create_task(_ticker(stop, lags))
    if work is not None:
        await work
    else:
        await asyncio.sleep(seconds or 0)
    stop.set()
    await tick
    return lags


async def loop_lag(audio_jobs: int, image_jobs: int) -> tuple[list[float], list[float], float]:
    """Ticker lags while the jobs run, then on the idle loop for as long (the same machine noise); the jobs' time."""
    espeak.synthesize("warm up", "Kore")
    with tempfile.TemporaryDirectory(prefix="studiobot-bench-") as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp), gemini_api_key=None,
                            user_requests_per_minute=0, speech_workers=audio_jobs, image_workers=image_jobs,
                            max_queue=audio_jobs + image_jobs + 10)
        async with open_studio(settings) as studio:
            requester, origin = Requester("bench", "u"), Origin("bench")
            text = "The quick brown fox jumps over the lazy dog, and then it does it again, slowly and carefully."

            # One job of each kind first: first use imports codecs (pydub, ffmpeg lookup), which holds the
            # import lock; that is start-up cost, not what encoding under load costs the loop.
            await studio.outcome((await studio.submit(SpeakRequest(text), requester, origin)).id)
            await studio.outcome((await studio.submit(ImagineRequest("warm up", max_bytes=SQUEEZE_BYTES), requester,
                                                      origin)).id)

            async def everything() -> None:
                jobs = [await studio.submit(SpeakRequest(f"{text} Take {n}."), requester, origin)
                        for n in range(audio_jobs)]
                jobs += [await studio.submit(ImagineRequest(f"benchmark card {n}", max_bytes=SQUEEZE_BYTES),
                                             requester, origin) for n in range(image_jobs)]
                for job in jobs:
                    await studio.outcome(job.id)

            started = time.perf_counter()
            busy = await _with_ticker(None, asyncio.ensure_future(everything()))
            took = time.perf_counter() - started
    idle = await _with_ticker(min(took, IDLE_MAX_S))
    return idle, busy, took


def clip(seconds: float) -> Speech:
    """Real speech (espeak), repeated to ``seconds`` at 24 kHz, like a long Gemini answer."""
    spoken = espeak.synthesize("The quick brown fox jumps over the lazy dog, then rests by the river.", "Kore")
    pcm = audio.resample(spoken.pcm, spoken.sample_rate, RATE)
    need = int(seconds * RATE) * 2
    return Speech((pcm * (need // len(pcm) + 1))[:need], RATE)


def _plain_pydub(speech: Speech) -> bytes:
    segment = audio._audio_segment()(data=speech.pcm, sample_width=2, frame_rate=speech.sample_rate, channels=1)
    out = io.BytesIO()
    segment.export(out, format="ogg", codec="libopus")
    return out.getvalue()


def encode_speed(seconds: float, rounds: int) -> tuple[float, float]:
    """Real-time factors (clip seconds per encode second, best of ``rounds``): the project's path, plain pydub."""
    speech = clip(seconds)
    ours, plain = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        audio.encode(speech, "ogg")
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        _plain_pydub(speech)
        plain.append(time.perf_counter() - start)
    return seconds / min(ours), seconds / min(plain)
