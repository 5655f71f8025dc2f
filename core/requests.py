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
# Gemini's output sizes (imageConfig.imageSize) and how each scales the 1K pixel size; smallest first.
IMAGE_SIZES: dict[str, float] = {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}
DEFAULT_SIZE = "1K"
MAX_COUNT = 4


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked: enough to credit them, check who may delete a result, and apply the server's rules."""

    platform: str
    user_id: str
    name: str = ""
    roles: tuple[str, ...] = ()  # Discord role ids / Slack user-group ids, for per-command role rules
    admin: bool = False  # manages the server (Discord) or workspace (Slack): exempt from quotas


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
    max_bytes: int | None = None  # the platform's upload limit: the bitrate is chosen to fit it
    kind: ClassVar[str] = "speak"


@dataclass(frozen=True, slots=True)
class Parent:
    """One input of a derived result: a job, and which of its grid candidates (1-based) if it was a grid."""

    job_id: str
    candidate: int | None = None


@dataclass(frozen=True, slots=True)
class ImagineRequest:
    prompt: str
    aspect: str | None = None
    references: tuple[bytes, ...] = ()
    max_bytes: int | None = None
    count: int | None = None  # 2-4: candidates in parallel, one numbered grid; None: the server default
    size: str | None = None  # 512 | 1K | 2K | 4K (None: the model's 1K)
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


@dataclass(frozen=True, slots=True)
class PickRequest:
    """U1-U4: one grid candidate alone, byte for byte; no generation."""

    image: bytes
    index: int
    size: str | None = None
    parents: tuple[Parent, ...] = ()
    max_bytes: int | None = None
    kind: ClassVar[str] = "pick"


@dataclass(frozen=True, slots=True)
class VaryRequest:
    """V1-V4 or V: same composition and subject, new details."""

    image: bytes
    prompt: str = ""  # what the original was drawn from, so the variation stays on topic
    size: str | None = None
    parents: tuple[Parent, ...] = ()
    max_bytes: int | None = None
    kind: ClassVar[str] = "vary"


@dataclass(frozen=True, slots=True)
class UpscaleRequest:
    """Re-render at the next size the model offers, keeping the composition."""

    image: bytes
    size: str | None = None  # None: the next size up from the image's own
    parents: tuple[Parent, ...] = ()
    max_bytes: int | None = None
    kind: ClassVar[str] = "upscale"


@dataclass(frozen=True, slots=True)
class BlendRequest:
    """Several pictures into one, in the order given, with an optional instruction."""

    images: tuple[bytes, ...]
    instruction: str = ""
    aspect: str | None = None
    size: str | None = None
    names: tuple[str, ...] = ()  # what to call each input (file names), for captions and offline cards
    parents: tuple[Parent, ...] = ()
    max_bytes: int | None = None
    kind: ClassVar[str] = "blend"


Request = SpeakRequest | ImagineRequest | EditRequest | PickRequest | VaryRequest | UpscaleRequest | BlendRequest
ImageRequest = ImagineRequest | EditRequest | PickRequest | VaryRequest | UpscaleRequest | BlendRequest
REQUEST_TYPES: dict[str, type[Request]] = {
    t.kind: t for t in (SpeakRequest, ImagineRequest, EditRequest, PickRequest, VaryRequest, UpscaleRequest,
                        BlendRequest)
}


def size_of(request: Request) -> str:
    """The output size tier an image request asked for (edits render at the model's default)."""
    return getattr(request, "size", None) or DEFAULT_SIZE


def tier_of(width: int, height: int) -> str:
    """The output size an image of these pixels was most likely made at (for an Upscale's next step)."""
    longest = max(width, height)
    return next((name for name, scale in IMAGE_SIZES.items() if longest <= 1600 * scale), "4K")


def parents_of(request: Request) -> tuple[Parent, ...]:
    return getattr(request, "parents", ())
