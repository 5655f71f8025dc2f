"""What a user asked for, independent of the chat platform it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from core.voices import DEFAULT_VOICE

# Gemini image aspect ratios and the pixel size a 1K render has for each.
ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
    "1:4": (512, 2048),
    "4:1": (2048, 512),
    "1:8": (384, 3072),
    "8:1": (3072, 384),
}
DEFAULT_ASPECT = "1:1"
AUDIO_FORMATS = ("ogg", "mp3", "wav")


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked: enough to credit them and to check who may delete a result."""

    platform: str
    user_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the result goes; ``meta`` holds adapter-specific delivery hints."""

    platform: str
    workspace: str | None = None
    channel: str | None = None
    thread: str | None = None
    message: str | None = None
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Speaker:
    name: str
    voice: str


@dataclass(frozen=True, slots=True)
class SpeakRequest:
    text: str
    voice: str = DEFAULT_VOICE
    style: str | None = None
    language: str | None = None
    speakers: tuple[Speaker, ...] = ()
    audio_format: str = "ogg"
    kind: ClassVar[str] = "speak"


@dataclass(frozen=True, slots=True)
class ImagineRequest:
    prompt: str
    aspect: str | None = None
    references: tuple[bytes, ...] = ()
    max_bytes: int | None = None
    kind: ClassVar[str] = "imagine"


@dataclass(frozen=True, slots=True)
class EditRequest:
    image: bytes
    instruction: str
    mask: bytes | None = None
    references: tuple[bytes, ...] = ()
    aspect: str | None = None
    max_bytes: int | None = None
    kind: ClassVar[str] = "edit"


Request = SpeakRequest | ImagineRequest | EditRequest
REQUEST_TYPES: dict[str, type[SpeakRequest] | type[ImagineRequest] | type[EditRequest]] = {
    t.kind: t for t in (SpeakRequest, ImagineRequest, EditRequest)
}
