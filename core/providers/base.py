"""The provider protocol: raw speech and image bytes; the studio does the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.requests import ASPECT_SIZES, EditRequest, ImagineRequest, SpeakRequest
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
    max_text_chars: int = 4000
    max_input_side: int = 2048
    max_references: int = 14
    max_speakers: int = 2
    aspects: tuple[str, ...] = tuple(ASPECT_SIZES)


@runtime_checkable
class Provider(Protocol):
    """Turns validated requests into raw media. Edits get the whole image; masks are the studio's job."""

    name: str
    offline: bool
    limits: ProviderLimits

    def voices(self) -> tuple[Voice, ...]: ...

    async def speak(self, request: SpeakRequest) -> Speech: ...

    async def imagine(self, request: ImagineRequest) -> bytes: ...

    async def edit(self, request: EditRequest) -> bytes: ...

    async def aclose(self) -> None: ...

