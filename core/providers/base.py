"""The provider protocol: raw speech and image bytes; the studio does the rest.

Speech streams: ``stream_speech`` yields PCM chunks as the model makes them, so playback can start
long before the clip is finished. ``speak`` is the whole-clip path the studio falls back to when a
stream breaks or ends early; a stream that cannot finish raises, it never just stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.requests import (
    ASPECT_SIZES,
    IMAGE_SIZES,
    BlendRequest,
    EditRequest,
    ImagineRequest,
    SpeakRequest,
    UpscaleRequest,
    VaryRequest,
)
from core.voices import Voice


@dataclass(frozen=True, slots=True)
class Speech:
    """Mono signed 16-bit little-endian PCM."""

    pcm: bytes
    sample_rate: int = 24_000

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / (2 * self.sample_rate)


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    max_text_chars: int = 2000  # what one speech request takes comfortably; longer texts go in parts
    max_input_side: int = 2048
    max_references: int = 14
    max_speakers: int = 2
    aspects: tuple[str, ...] = tuple(ASPECT_SIZES)
    image_sizes: tuple[str, ...] = tuple(IMAGE_SIZES)  # output sizes the image model offers, smallest first
    image_model: str = "the offline preview"

    def next_size(self, size: str) -> str | None:
        """The size an Upscale goes to, or None at the model's maximum."""
        larger = [s for s in self.image_sizes if IMAGE_SIZES[s] > IMAGE_SIZES.get(size, 1.0)]
        return larger[0] if larger else None


@runtime_checkable
class Provider(Protocol):
    """Turns validated requests into raw media. Edits get the whole image; masks are the studio's job."""

    name: str
    offline: bool
    limits: ProviderLimits

    def voices(self) -> tuple[Voice, ...]: ...

    def stream_speech(self, request: SpeakRequest) -> AsyncIterator[Speech]:
        """PCM chunks in order; raises a StudioError if the stream fails or ends before the end."""
        ...

    async def speak(self, request: SpeakRequest) -> Speech: ...

    async def imagine(self, request: ImagineRequest, *, seed: int | None = None) -> bytes:
        """One picture; grid candidates differ by ``seed``."""
        ...

    async def edit(self, request: EditRequest) -> bytes: ...

    async def vary(self, request: VaryRequest, *, seed: int | None = None) -> bytes: ...

    async def upscale(self, request: UpscaleRequest) -> bytes: ...

    async def blend(self, request: BlendRequest) -> bytes: ...

    async def aclose(self) -> None: ...

