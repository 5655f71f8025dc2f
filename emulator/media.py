"""What the emulator renders: real, deterministic media, cheap enough for tests.

Images are drawn with Pillow (a gradient seeded by the prompt, the prompt, an EMULATOR label);
speech is espeak-ng resampled to Gemini's 24 kHz.  All functions block: call them off the loop.
"""

from __future__ import annotations

import hashlib
import io
import struct
import textwrap

from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps

RATE = 24_000
TURN_GAP_S = 0.25
_FONT_CACHE: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if size not in _FONT_CACHE:
        _FONT_CACHE[size] = ImageFont.load_default(size=size)
    return _FONT_CACHE[size]


def _colours(seed: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(seed.encode()).digest()
    return (digest[0], digest[1], digest[2]), (digest[3], digest[4], digest[5])


def _gradient(size: tuple[int, int], seed: str) -> Image.Image:
    """A diagonal two-colour gradient; the colours come from the prompt's hash."""
    top, bottom = _colours(seed)
    vertical = Image.linear_gradient("L")
    mask = ImageChops.add(vertical, vertical.rotate(90), scale=2).resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _caption(img: Image.Image, text: str, *, box: tuple[int, int, int, int], max_lines: int) -> None:
    """Write wrapped text in a dark band so it reads on any gradient."""
    draw = ImageDraw.Draw(img)
    left, top, right, bottom = box
    size = max(12, min(img.width, img.height) // 24)
    font = _font(size)
    chars = max(8, int((right - left) / (size * 0.55)))
    lines = textwrap.wrap(" ".join(text.split()), chars)[:max_lines] or [""]
    height = len(lines) * int(size * 1.3) + size
    band_top = max(top, min(bottom - height, top + (bottom - top - height) // 2))
    draw.rectangle((left, band_top, right, band_top + height), fill=(0, 0, 0))
    for i, line in enumerate(lines):
        draw.text((left + size // 2, band_top + size // 2 + i * int(size * 1.3)), line, fill=(255, 255, 255), font=font)


def _label(img: Image.Image) -> None:
    size = max(10, min(img.width, img.height) // 32)
    ImageDraw.Draw(img).text(
        (size // 2, size // 2),
        "EMULATOR",
        fill=(255, 255, 255),
        font=_font(size),
        stroke_width=max(1, size // 10),
        stroke_fill=(0, 0, 0),
    )


def render_image(prompt: str, size: tuple[int, int], *, seed: str | None = None) -> Image.Image:
    """A new picture for ``prompt``; the same prompt (and seed) always gives the same pixels."""
    img = _gradient(size, seed or prompt)
    _caption(img, prompt, box=(0, 0, img.width, img.height), max_lines=6)
    _label(img)
    return img


def render_edit(source: Image.Image, instruction: str, size: tuple[int, int] | None, *,
                seed: str | None = None) -> Image.Image:
    """The source, visibly changed: reframed to ``size`` if asked, tinted, with the instruction as caption."""
    img = ImageOps.exif_transpose(source).convert("RGB")
    if size is not None and img.size != size:
        img = ImageOps.fit(img, size)
    tint = Image.new("RGB", img.size, _colours(seed or instruction)[0])
    img = Image.blend(img, tint, 0.35)
    _caption(img, instruction, box=(0, img.height * 3 // 4, img.width, img.height), max_lines=2)
    _label(img)
    return img


def render_blend(sources: list[Image.Image], instruction: str, size: tuple[int, int]) -> Image.Image:
    """Every input side by side in the order sent, captioned with the instruction: a blend you can check."""
    img = _gradient(size, instruction + str(len(sources)))
    width = img.width // len(sources)
    for n, source in enumerate(sources):
        tile = ImageOps.fit(ImageOps.exif_transpose(source).convert("RGB"), (width, img.height * 3 // 4))
        img.paste(tile, (n * width, 0))
    _caption(img, f"BLEND of {len(sources)}: {instruction}", box=(0, img.height * 3 // 4, img.width, img.height),
             max_lines=2)
    _label(img)
    return img


def nearest_size(data: bytes, sizes: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
    """The 1K size of the named ratio closest to the image's shape (None if unreadable)."""
    try:
        width, height = Image.open(io.BytesIO(data)).size
    except (OSError, ValueError):
        return None
    return min(sizes.values(), key=lambda s: abs(s[0] / s[1] - width / height))


def encode(img: Image.Image, fmt: str) -> bytes:
    """PNG or JPEG bytes; JPEG is what the 3.x models really send, whatever they claim."""
    out = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(out, "JPEG", quality=85)
    else:
        img.save(out, "PNG", compress_level=1)
    return out.getvalue()


def open_image(data: bytes) -> Image.Image:
    """Decode an input image, raising ValueError for anything Pillow can't read."""
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (OSError, Image.DecompressionBombError) as err:
        raise ValueError(str(err)) from err
    return img


def speak(turns: list[tuple[str, str]], language: str | None = None) -> bytes:
    """s16le mono 24 kHz PCM for ``(text, voice)`` turns, with a short pause between turns."""
    from emulator import speech  # lazy: the emulator imports without espeak-ng

    gap = b"\x00\x00" * round(TURN_GAP_S * RATE)
    return gap.join(pcm for pcm in (speech.say(text, voice, language) for text, voice in turns) if pcm)


def wav(pcm: bytes, rate: int = RATE) -> bytes:
    """Wrap PCM in a 44-byte RIFF header, as the 3.8 models answer."""
    n = len(pcm)
    return (
        struct.pack("<4sI8sIHHIIHH4sI", b"RIFF", 36 + n, b"WAVEfmt ", 16, 1, 1, rate, 2 * rate, 2, 16, b"data", n) + pcm
    )
