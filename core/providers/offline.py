"""The provider used when no Gemini key is set, so the bot works end to end with no credentials.

Speech is real (espeak-ng); images are labelled preview cards. Everything is CPU work,
so each call runs in a worker thread and the event loop stays free.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InputError
from core.longtext import sentences
from core.media import audio
from core.media.images import nearest_aspect
from core.providers.base import ProviderLimits, Speech
from core.providers.cards import apply_edit, blend_card, preview_card, relabel
from core.providers.espeak import synthesize
from core.requests import (
    ASPECT_SIZES,
    DEFAULT_ASPECT,
    IMAGE_SIZES,
    BlendRequest,
    EditRequest,
    ImagineRequest,
    Speaker,
    SpeakRequest,
    UpscaleRequest,
    VaryRequest,
    size_of,
)
from core.voices import VOICES, Voice, canonical_voice, speaker_names, split_dialogue

TURN_GAP_S = 0.25
_LABELLED = re.compile(r"^\s*(?P<name>[^\W\d_][\w .'-]{0,31}?)\s*:\s*(?P<line>\S.*)$")
_THUMB_FRACTION = 0.28


def _open(data: bytes, what: str) -> Image.Image:
    try:
        image = Image.open(BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as err:
        raise InputError(f"The {what} could not be read as an image.") from err
    return image


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _with_thumbnail(image: Image.Image, reference: bytes) -> Image.Image:
    """Show the first reference in the bottom-right corner, so 'image-guided' is visible offline."""
    thumb = _open(reference, "reference image").convert("RGB")
    w, h = image.size
    side = max(16, int(min(w, h) * _THUMB_FRACTION))
    thumb.thumbnail((side, side), Image.Resampling.LANCZOS)
    border = max(2, side // 40)
    framed = Image.new("RGB", (thumb.width + 2 * border, thumb.height + 2 * border), (255, 255, 255))
    framed.paste(thumb, (border, border))
    margin = max(6, min(w, h) // 40)
    image.paste(framed, (w - framed.width - margin, h - framed.height - margin))
    return image


def _size(aspect: str | None, size: str | None = None) -> tuple[int, int]:
    """Pixels for a ratio at an output size: 1:1 is 1024x1024 at 1K, 2048x2048 at 2K."""
    try:
        w, h = ASPECT_SIZES[aspect or DEFAULT_ASPECT]
    except KeyError:
        raise InputError(f"Unsupported aspect ratio “{aspect}”. Try one of: " + ", ".join(ASPECT_SIZES)) from None
    scale = IMAGE_SIZES.get(size or "1K", 1.0)
    return round(w * scale), round(h * scale)


def _voice_for_turns(turns: list[tuple[str, str]], speakers: tuple[Speaker, ...]) -> dict[str, str]:
    """Match script names to speakers by name, else by order of first appearance."""
    by_name = {s.name.strip().lower(): canonical_voice(s.voice) for s in speakers}
    first, second = speaker_names(turns)
    if first.lower() in by_name and second.lower() in by_name:
        return {first: by_name[first.lower()], second: by_name[second.lower()]}
    return {first: canonical_voice(speakers[0].voice), second: canonical_voice(speakers[1].voice)}


def _speak(request: SpeakRequest) -> Speech:
    """Blocking: one voice, or a two-speaker dialogue joined with short pauses."""
    if not request.text.strip():
        raise InputError("There is no text to speak.")
    turns = split_dialogue(request.text) if len(request.speakers) == 2 else None
    if turns is None:
        return synthesize(request.text, canonical_voice(request.voice), language=request.language)
    voices = _voice_for_turns(turns, request.speakers)
    spoken = [synthesize(line, voices[name], language=request.language) for name, line in turns]
    return audio.concat(spoken, gap_s=TURN_GAP_S)


def _units(request: SpeakRequest) -> list[tuple[str, str, bool]]:
    """(text, voice, new turn) in speaking order: sentences of one voice, or the turns of a dialogue.

    A part of a long dialogue may hold one speaker's lines only, so turns are matched line by line
    against the request's two speakers rather than by counting names in this text.
    """
    if not request.text.strip():
        raise InputError("There is no text to speak.")
    if len(request.speakers) != 2:
        voice = canonical_voice(request.voice)
        return [(s, voice, False) for s in sentences(request.text)]
    by_name = {s.name.strip().lower(): canonical_voice(s.voice) for s in request.speakers}
    order = [canonical_voice(s.voice) for s in request.speakers]
    seen: dict[str, str] = {}
    units: list[tuple[str, str, bool]] = []
    voice = order[0]
    for line in (ln for ln in request.text.splitlines() if ln.strip()):
        m = _LABELLED.match(line)
        if m is not None:
            name = m["name"].strip().lower()
            voice = by_name.get(name) or seen.setdefault(name, order[min(len(seen), 1)])
            line = m["line"]
        units.append((line.strip(), voice, True))
    return units


def _imagine(request: ImagineRequest, seed: int | None = None) -> bytes:
    card = preview_card(request.prompt, _size(request.aspect, request.size), seed=seed)
    if request.references:
        card = _with_thumbnail(card, request.references[0])
    return _png(card)


def _edit(request: EditRequest) -> bytes:
    source = _open(request.image, "image")
    edited = apply_edit(source, request.instruction, size=_size(request.aspect) if request.aspect else None)
    if request.references:
        edited = _with_thumbnail(edited, request.references[0])
    return _png(edited)


def label_preview(data: bytes) -> bytes:
    """Blocking: the OFFLINE PREVIEW badge on a finished image, drawn last so nothing covers it."""
    return _png(relabel(_open(data, "edited image")))
def _vary(request: VaryRequest, seed: int | None) -> bytes:
    """The source recoloured by the seed and captioned, at the asked size and the source's shape."""
    size = _size(nearest_aspect(request.image, ASPECT_SIZES), size_of(request))
    source = _open(request.image, "image")
    note = f"Variation {seed % 1000 if seed is not None else ''}".strip()
    return _png(apply_edit(source, f"{note}: {request.prompt}" if request.prompt else note, size=size))


def _upscale(request: UpscaleRequest) -> bytes:
    """The same picture at the next size: resampled, so the composition is exactly kept."""
    size = _size(nearest_aspect(request.image, ASPECT_SIZES), request.size)
    source = _open(request.image, "image").convert("RGB")
    return _png(ImageOps.fit(source, size, Image.Resampling.LANCZOS))


def _blend(request: BlendRequest) -> bytes:
    names = list(request.names) or [f"image {n}" for n in range(1, len(request.images) + 1)]
    sources = [_open(data, "image") for data in request.images]
    return _png(blend_card(sources, names, request.instruction, _size(request.aspect, request.size)))


class OfflineProvider:
    """Credential-free provider: real robot speech and clearly labelled preview images."""

    name = "offline"
    offline = True
    limits = ProviderLimits()

    def voices(self) -> tuple[Voice, ...]:
        return VOICES

    async def speak(self, request: SpeakRequest) -> Speech:
        return await asyncio.to_thread(_speak, request)

    async def stream_speech(self, request: SpeakRequest) -> AsyncIterator[Speech]:
        """Sentence by sentence (turn by turn in a dialogue), each one synthesised off the loop."""
        units = _units(request)
        for n, (text, voice, turn) in enumerate(units):
            speech = await asyncio.to_thread(synthesize, text, voice, language=request.language)
            if turn and n > 0:
                yield Speech(b"\x00\x00" * round(TURN_GAP_S * speech.sample_rate), speech.sample_rate)
            yield speech

    async def imagine(self, request: ImagineRequest, *, seed: int | None = None) -> bytes:
        return await asyncio.to_thread(_imagine, request, seed)

    async def vary(self, request: VaryRequest, *, seed: int | None = None) -> bytes:
        return await asyncio.to_thread(_vary, request, seed)

    async def upscale(self, request: UpscaleRequest) -> bytes:
        return await asyncio.to_thread(_upscale, request)

    async def blend(self, request: BlendRequest) -> bytes:
        return await asyncio.to_thread(_blend, request)

    async def edit(self, request: EditRequest) -> bytes:
        return await asyncio.to_thread(_edit, request)

    async def aclose(self) -> None:
        """Nothing to release: espeak stays loaded for the life of the process."""
