"""What the studio hands back: an audio clip or an image, ready to upload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

_AUDIO_MIME = {"ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}
_IMAGE_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


@dataclass(frozen=True, slots=True)
class AudioClip:
    data: bytes
    container: str  # ogg | mp3 | wav
    codec: str  # opus | mp3 | pcm_s16le
    duration_s: float
    sample_rate: int
    offline: bool = False
    kind: ClassVar[str] = "audio"

    @property
    def mime_type(self) -> str:
        return _AUDIO_MIME[self.container]

    @property
    def extension(self) -> str:
        return self.container


@dataclass(frozen=True, slots=True)
class ImageResult:
    data: bytes
    mime_type: str
    width: int
    height: int
    offline: bool = False
    candidates: tuple[bytes, ...] = ()  # a grid: each cell's full-size image, in cell order (U1 = [0])
    failed: int = 0  # grid candidates that could not be drawn
    kind: ClassVar[str] = "image"

    @property
    def extension(self) -> str:
        return _IMAGE_EXT.get(self.mime_type, "bin")

    @property
    def is_grid(self) -> bool:
        return bool(self.candidates)


def image_extension(data: bytes) -> str:
    """The file extension for image bytes, judged by their magic number."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "png"


Result = AudioClip | ImageResult
