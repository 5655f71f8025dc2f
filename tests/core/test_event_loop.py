"""Encoding leaves the event loop: while ffmpeg or Pillow works, the bot keeps answering everyone else.

Shown by order, not by timing: a ticker coroutine writes "tick" into the same list the encoder
marks from its thread. A tick between "encode started" and "encode finished" can only happen if
the encode ran off the loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.jobs.model import Job, JobState, Progress
from core.media import audio, images
from core.requests import ImagineRequest, Request, SpeakRequest
from core.results import AudioClip, ImageResult, Result
from core.studio import Studio
from tests.core.conftest import ORIGIN, REQUESTER

MIN_TICKS_WHILE_ENCODING = 3
LONG_TEXT = " ".join(
    [
        "The quick brown fox jumps over the lazy dog.",
        "A studio bot reads this aloud so the encoder has real work to do.",
        "Every sentence adds a second or two of speech to compress.",
        "Meanwhile other people in the channel are still waiting for their answers.",
        "None of them should notice that a long clip is being encoded.",
    ]
)


@dataclass
class Timeline:
    """One ordered record of what the loop and the encoder did."""

    events: list[str] = field(default_factory=list)

    async def progress(self, progress: Progress) -> None:
        self.events.append(progress.state.value)

    async def post(self, job: Job, result: Result) -> str | None:
        return None

    async def fail(self, job: Job, error: Exception) -> str | None:
        return None

    async def handed_off(self, job: Job) -> None:
        return None

    def between(self, start: str, end: str) -> list[str]:
        return self.events[self.events.index(start) + 1 : self.events.index(end)]


def spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, timeline: Timeline) -> None:
    """Mark when the real function starts and ends, from whichever thread runs it."""
    real: Callable[..., Any] = getattr(module, name)

    @functools.wraps(real)
    def marked(*args: Any, **kwargs: Any) -> Any:
        timeline.events.append("encode started")
        try:
            return real(*args, **kwargs)
        finally:
            timeline.events.append("encode finished")

    monkeypatch.setattr(module, name, marked)


async def run_beside_a_ticker(studio: Studio, request: Request, timeline: Timeline) -> Result:
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            timeline.events.append("tick")
            await asyncio.sleep(0.001)

    async with asyncio.TaskGroup() as tg:
        tg.create_task(ticker())
        try:
            job = await studio.submit(request, REQUESTER, ORIGIN, reply=timeline)
            result = await studio.outcome(job.id)
            timeline.events.append("done")
        finally:
            done.set()
    return result


async def test_other_coroutines_run_while_speech_is_encoded(offline_studio: Studio,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    timeline = Timeline()
    spy(monkeypatch, audio, "encode", timeline)

    result = await run_beside_a_ticker(offline_studio, SpeakRequest(LONG_TEXT, audio_format="ogg"), timeline)

    assert isinstance(result, AudioClip)
    assert result.duration_s > 5
    events = timeline.events
    assert events.index(JobState.RUNNING.value) < events.index("encode started")
    assert events.index("encode finished") < events.index("done")
    assert timeline.between("encode started", "encode finished").count("tick") >= MIN_TICKS_WHILE_ENCODING
    assert timeline.between(JobState.RUNNING.value, "done").count("tick") >= MIN_TICKS_WHILE_ENCODING


async def test_other_coroutines_run_while_an_image_is_squeezed_into_a_budget(
    offline_studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline = Timeline()
    spy(monkeypatch, images, "fit_budget", timeline)
    max_bytes = 12_000  # a 1344x768 card is ~40 KB as PNG: this forces JPEG passes and shrinking

    request = ImagineRequest("a red fox in the snow", aspect="16:9", max_bytes=max_bytes)
    result = await run_beside_a_ticker(offline_studio, request, timeline)

    assert isinstance(result, ImageResult)
    assert len(result.data) <= max_bytes
    assert result.mime_type == "image/jpeg"
    events = timeline.events
    assert events.index(JobState.RUNNING.value) < events.index("encode started")
    assert events.index("encode finished") < events.index("done")
    assert timeline.between("encode started", "encode finished").count("tick") >= MIN_TICKS_WHILE_ENCODING
    assert timeline.between(JobState.RUNNING.value, "done").count("tick") >= MIN_TICKS_WHILE_ENCODING
