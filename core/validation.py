"""Check and normalise a request before it is accepted, so bad input fails fast and in plain words."""

from __future__ import annotations

import asyncio
import dataclasses
import re

from core.errors import InputError
from core.media import audio, images
from core.providers.base import ProviderLimits
from core.requests import (
    AUDIO_FORMATS,
    DEFAULT_ASPECT,
    IMAGE_SIZES,
    MAX_COUNT,
    BlendRequest,
    EditRequest,
    ImagineRequest,
    PickRequest,
    Request,
    Speaker,
    SpeakRequest,
    UpscaleRequest,
    VaryRequest,
    tier_of,
)
from core.text import excerpt, has_words, normalise, says_something, visible
from core.voices import canonical_voice, dialogue_speakers

MAX_PROMPT_CHARS = 4000
MAX_STYLE_CHARS = 500
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


async def validate(request: Request, limits: ProviderLimits, *, max_speech_chars: int = 20_000) -> Request:
    if isinstance(request, SpeakRequest):
        return _speak(request, limits, max_speech_chars)
    if isinstance(request, ImagineRequest):
        return await _imagine(request, limits)
    if isinstance(request, EditRequest):
        return await _edit(request, limits)
    return await creative(request, limits)


def _text(value: str, *, what: str, limit: int, words: bool = False) -> str:
    """Normalised text, refused when it says nothing: invisible marks alone, or (for speech) no words at all."""
    if len(value) > 4 * limit:  # don't normalise megabytes just to say they are too long
        raise InputError(f"The {what} is {len(value):,} characters long; the limit is {limit:,}. Please shorten it.")
    text = normalise(value, what=what).strip()
    if not visible(text):
        raise InputError(f"The {what} is empty. Write something first.")
    if len(text) > limit:
        raise InputError(f"The {what} is {len(text):,} characters long; the limit is {limit:,}. Please shorten it.")
    if words and not has_words(text):
        raise InputError(f"The {what} has nothing to say: write some words, not only punctuation or emoji.")
    if not says_something(text):
        raise InputError(f"The {what} has nothing to say: write some words, not only punctuation.")
    return text


def _option(value: str | None, *, what: str, limit: int = 200) -> str | None:
    """A short option value: real text, one line, not absurdly long; None when blank."""
    if value is None:
        return None
    if len(value) > limit:
        raise InputError(f"The {what} is {len(value):,} characters long; the limit is {limit:,}.")
    text = " ".join(normalise(value, what=what).split())
    return text if visible(text) else None


def _fits_upload(text: str, fmt: str, max_bytes: int | None) -> None:
    """Say before generating, not after, when even the lowest bitrate can't fit the platform's upload limit."""
    seconds = audio.expected_seconds(text)
    if audio.fitting_kbps(fmt, seconds, max_bytes) is not None or max_bytes is None:
        return
    fits = int(len(text) * max_bytes / max(1, audio.clip_bytes(fmt, seconds, audio.MIN_KBPS.get(fmt))))
    minutes = max(1, round(seconds / 60))
    hint = " or choose ogg" if fmt != "ogg" else ""
    raise InputError(f"This text would make about {minutes} min of {fmt} audio, too large for the "
                     f"{max_bytes / 1_048_576:.0f} MB upload limit here. "
                     f"Shorten it to about {fits:,} characters{hint}.")


def _speak(req: SpeakRequest, limits: ProviderLimits, max_chars: int) -> SpeakRequest:
    text = _text(req.text, what="text to speak", limit=max_chars, words=True)
    voice = canonical_voice(_option(req.voice, what="voice") or "")
    style = _option(req.style, what="style", limit=MAX_STYLE_CHARS)
    if req.audio_format not in AUDIO_FORMATS:
        raise InputError(f"Unknown audio format “{excerpt(req.audio_format, 12)}”. "
                         f"Use one of: {', '.join(AUDIO_FORMATS)}.")
    _fits_upload(text, req.audio_format, req.max_bytes)
    language = _option(req.language, what="language")
    if language and not _LANGUAGE.match(language):
        raise InputError(f"“{excerpt(language, 20)}” is not a language code like en-US or de-DE.")
    speakers = req.speakers
    if not speakers:
        speakers = tuple(Speaker(name, v) for name, v in dialogue_speakers(text, voice))
    if speakers:
        if len(speakers) > limits.max_speakers:
            raise InputError(f"At most {limits.max_speakers} speakers can take part in a dialogue.")
        speakers = tuple(Speaker(_option(s.name, what="speaker name", limit=100) or "Speaker",
                                 canonical_voice(_option(s.voice, what="voice") or "")) for s in speakers)
    return dataclasses.replace(req, text=text, voice=voice, style=style, language=language, speakers=speakers)


def _aspect(aspect: str | None, limits: ProviderLimits) -> str | None:
    text = _option(aspect, what="aspect ratio")
    if text is None:
        return None
    value = text.replace(" ", "").replace("x", ":").replace("/", ":")
    if value not in limits.aspects:
        raise InputError(f"Unknown aspect ratio “{excerpt(text, 12)}”. Use one of: {', '.join(limits.aspects)}.")
    return value


async def _images(blobs: tuple[bytes, ...], limits: ProviderLimits, what: str) -> tuple[bytes, ...]:
    if len(blobs) > limits.max_references:
        raise InputError(f"At most {limits.max_references} reference images can be used at once.")
    return tuple(
        await asyncio.gather(
            *(asyncio.to_thread(images.prepare_input, b, max_side=limits.max_input_side, what=what) for b in blobs)
        )
    )


def image_size(size: str | None, limits: ProviderLimits) -> str | None:
    """``2k`` → ``2K``; refused in plain words when the model can't make that size."""
    if size is None or not str(size).strip():
        return None
    value = str(size).strip().upper().removesuffix("PX")
    value = {"1024": "1K", "2048": "2K", "4096": "4K"}.get(value, value)
    if value not in IMAGE_SIZES:
        raise InputError(f"Unknown size “{str(size).strip()[:12]}”. Use one of: {', '.join(IMAGE_SIZES)}.")
    if value not in limits.image_sizes:
        raise InputError(f"{limits.image_model} can't make {value} images; it offers "
                         f"{', '.join(limits.image_sizes)}.")
    return value


def _count(count: int | None) -> int:
    if count is None:
        return 1
    if not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise InputError(f"Ask for 1 to {MAX_COUNT} images at once (count), not {str(count)[:8]}.")
    return count


async def _imagine(req: ImagineRequest, limits: ProviderLimits) -> ImagineRequest:
    prompt = _text(req.prompt, what="prompt", limit=MAX_PROMPT_CHARS)
    aspect = _aspect(req.aspect, limits) or DEFAULT_ASPECT
    refs = await _images(req.references, limits, "reference image")
    return dataclasses.replace(req, prompt=prompt, aspect=aspect, references=refs, count=_count(req.count),
                               size=image_size(req.size, limits))


async def creative(req: PickRequest | VaryRequest | UpscaleRequest | BlendRequest,
                   limits: ProviderLimits) -> Request:
    """U, V, Upscale and Blend: the inputs exist and fit the model."""
    if isinstance(req, PickRequest):
        if images.sniff(req.image) is None:
            raise InputError("That grid cell is no longer in my records.")
        return req  # posted byte for byte: no re-encoding
    if isinstance(req, VaryRequest):
        (source,) = await _images((req.image,), limits, "image")
        return dataclasses.replace(req, image=source, prompt=req.prompt.strip()[:MAX_PROMPT_CHARS],
                                   size=image_size(req.size, limits))
    if isinstance(req, UpscaleRequest):
        size = image_size(req.size, limits)
        if size is None:  # the next size up from what the image is now
            size = limits.next_size(tier_of(*await asyncio.to_thread(images.size_of, req.image)))
            if size is None:
                raise InputError(f"That image is already at the largest size {limits.image_model} makes "
                                 f"({limits.image_sizes[-1]}).")
        (source,) = await _images((req.image,), limits, "image")
        return dataclasses.replace(req, image=source, size=size)
    if len(req.images) < 2:
        raise InputError("A blend needs at least 2 images.")
    if len(req.images) > limits.max_references:
        raise InputError(f"{limits.image_model} blends at most {limits.max_references} images at once; "
                         f"you gave {len(req.images)}.")
    instruction = req.instruction.strip()
    if len(instruction) > MAX_PROMPT_CHARS:
        raise InputError(f"The instruction is {len(instruction):,} characters long; the limit is "
                         f"{MAX_PROMPT_CHARS:,}. Please shorten it.")
    sources = await _images(req.images, limits, "image to blend")
    return dataclasses.replace(req, images=sources, instruction=instruction, aspect=_aspect(req.aspect, limits),
                               size=image_size(req.size, limits), names=tuple(n[:80] for n in req.names))


async def _edit(req: EditRequest, limits: ProviderLimits) -> EditRequest:
    instruction = _text(req.instruction, what="edit instruction", limit=MAX_PROMPT_CHARS)
    aspect = _aspect(req.aspect, limits)
    (source,) = await _images((req.image,), limits, "image")
    mask = None
    if req.mask is not None:
        (mask,) = await _images((req.mask,), limits, "mask")
        await asyncio.to_thread(images.check_mask, mask)
    refs = await _images(req.references, limits, "reference image")
    return dataclasses.replace(req, image=source, instruction=instruction, mask=mask, references=refs, aspect=aspect)
