"""Offline stand-ins for generated images: deterministic, clearly labelled preview cards.

Without a Gemini key the bot still answers every /imagine and /edit, so a user can try
the whole flow; the badge makes sure nobody mistakes a card for a real render. Colours
derive from a hash of the text, so the same prompt always gives the same picture.
"""

from __future__ import annotations

import colorsys
import hashlib
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]

DEFAULT_LABEL = "OFFLINE PREVIEW"
_TEXT = (255, 255, 255)
_SHADOW = (0, 0, 0, 150)
_PANEL = (0, 0, 0, 96)
_BADGE = (255, 200, 40, 235)
_BADGE_TEXT = (30, 24, 0)
_BAND = (14, 14, 18)  # the edit caption's band: opaque, so a chained edit's caption hides the one before
_MAX_PROMPT_CHARS = 400

# (keywords, tint colour, strength): the first match wins; grayscale is handled apart.
_TINTS: tuple[tuple[tuple[str, ...], RGB, float], ...] = (
    (("night", "dark", "moon", "midnight"), (16, 28, 96), 0.55),
    (("sunset", "sunrise", "warm", "golden", "autumn", "fire"), (255, 128, 32), 0.4),
    (("winter", "snow", "ice", "cold", "frozen"), (170, 210, 255), 0.4),
    (("forest", "green", "spring", "jungle"), (40, 160, 70), 0.35),
    (("underwater", "ocean", "sea", "blue"), (20, 110, 200), 0.4),
    (("red", "rose", "love"), (220, 40, 60), 0.35),
    (("purple", "violet", "magic", "neon"), (150, 60, 220), 0.4),
)
_GRAYSCALE = ("black and white", "black & white", "grayscale", "greyscale", "monochrome", "b&w", "noir")


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.strip().lower().encode()).digest()


def _hue_colour(hue: float, saturation: float, value: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


def palette(text: str) -> tuple[RGB, RGB]:
    """Two harmonious colours picked by the text's hash: a hue and a neighbour 60-150° away."""
    d = _digest(text)
    hue = d[0] / 256
    shift = (60 + d[1] % 90) / 360
    return _hue_colour(hue, 0.55 + d[2] / 1024, 0.85), _hue_colour(hue + shift, 0.65 + d[3] / 1024, 0.45)


@lru_cache(maxsize=32)
def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB, glow_seed: int) -> Image.Image:
    """A vertical gradient with a soft light spot, cheap at any size."""
    w, h = size
    mask = Image.linear_gradient("L").resize((w, h), Image.Resampling.BILINEAR)
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)
    side = max(w, h)
    # radial_gradient is 0 at the centre and 181 mid-edge; fade to exactly 0 there, so no seams.
    glow = Image.radial_gradient("L").point(lambda v: max(0, 180 - v) * 70 // 180)
    glow = glow.resize((side, side), Image.Resampling.BILINEAR)
    cx = (glow_seed % 3 + 1) * w // 4 - side // 2
    cy = h // 3 - side // 2
    layer = Image.new("L", size, 0)
    layer.paste(glow, (cx, cy))
    return Image.composite(Image.new("RGB", size, (255, 255, 255)), image, layer)


def _wrap(text: str, font: Font, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap by measured width; long words are cut, overflow ends in an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while font.getlength(word) > max_width and len(word) > 1:
            cut = max(1, int(len(word) * max_width / font.getlength(word)) - 1)
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + "…") > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def _badge(draw: ImageDraw.ImageDraw, label: str, size: tuple[int, int]) -> None:
    """The label in the top-left corner; same place and size on cards and edits, so they overlay."""
    short = min(size)
    font_size = max(10, short // 28)
    font = _font(font_size)
    pad = max(4, font_size // 2)
    x = y = max(6, short // 40)
    width = font.getlength(label)
    box = (x, y, x + int(width) + 2 * pad, y + font_size + 2 * pad)
    draw.rounded_rectangle(box, radius=pad, fill=_BADGE)
    draw.text((x + pad, y + pad + font_size // 2), label, font=font, fill=_BADGE_TEXT, anchor="lm")


def _draw_centred(draw: ImageDraw.ImageDraw, lines: list[str], font: Font, box: tuple[int, int, int, int]) -> None:
    """Write lines centred in ``box`` on a translucent panel, with a drop shadow for contrast."""
    size = int(getattr(font, "size", 12))
    step = int(size * 1.25)
    left, top, right, bottom = box
    cx = (left + right) // 2
    y0 = (top + bottom) // 2 - step * len(lines) // 2
    widest = max((font.getlength(line) for line in lines), default=0)
    pad = size // 2
    draw.rounded_rectangle(
        (cx - widest / 2 - pad, y0 - pad, cx + widest / 2 + pad, y0 + step * len(lines) + pad),
        radius=pad, fill=_PANEL,
    )  # fmt: skip
    shadow = max(1, size // 18)
    for i, line in enumerate(lines):
        y = y0 + i * step + step // 2
        draw.text((cx + shadow, y + shadow), line, font=font, fill=_SHADOW, anchor="mm")
        draw.text((cx, y), line, font=font, fill=_TEXT, anchor="mm")


def preview_card(prompt: str, size: tuple[int, int], *, label: str = DEFAULT_LABEL,
                 seed: int | None = None) -> Image.Image:
    """A gradient card showing the prompt, so an offline /imagine still answers with a picture.
    A ``seed`` (one per grid candidate) changes the colours, so the candidates differ visibly."""
    w, h = size
    key = prompt if seed is None else f"{prompt}\x00{seed}"
    top, bottom = palette(key)
    image = _gradient(size, top, bottom, _digest(key)[4])
    draw = ImageDraw.Draw(image, "RGBA")
    short = min(w, h)
    font_size = max(12, min(short // 12, w // 16))
    font = _font(font_size)
    margin = max(8, short // 10)
    text_top = margin + max(10, short // 28) * 2
    max_lines = max(1, (h - text_top - margin) // int(font_size * 1.25))
    text = " ".join(prompt.split())[:_MAX_PROMPT_CHARS] or "(empty prompt)"
    lines = _wrap(text, font, w - 2 * margin, min(max_lines, 10))
    _draw_centred(draw, lines, font, (margin, text_top, w - margin, h - margin))
    _badge(draw, label, size)
    return image


def _tint_for(instruction: str) -> tuple[RGB, float] | None:
    """The colour an instruction suggests; None means make it grayscale."""
    lowered = instruction.lower()
    if any(word in lowered for word in _GRAYSCALE):
        return None
    for words, colour, strength in _TINTS:
        if any(word in lowered for word in words):
            return colour, strength
    top, _ = palette(instruction)
    return top, 0.3


def apply_edit(
    source: Image.Image, instruction: str, *, label: str = DEFAULT_LABEL, size: tuple[int, int] | None = None
) -> Image.Image:
    """Tint the source the way the instruction suggests and caption it, so an offline edit visibly changes."""
    base = source.convert("RGB")
    if size is not None and base.size != size:
        base = ImageOps.fit(base, size, Image.Resampling.LANCZOS)
    tint = _tint_for(instruction)
    if tint is None:
        edited = ImageOps.grayscale(base).convert("RGB")
    else:
        colour, strength = tint
        edited = Image.blend(base, Image.new("RGB", base.size, colour), strength)
    w, h = edited.size
    old_band = caption_band_height(base)
    draw = ImageDraw.Draw(edited, "RGBA")
    short = min(w, h)
    font_size = max(10, min(short // 18, w // 22))
    font = _font(font_size)
    margin = max(4, font_size // 2)
    lines = _wrap(" ".join(instruction.split())[:_MAX_PROMPT_CHARS] or "(no instruction)", font, w - 2 * margin, 2)
    band_height = max(int(font_size * 1.3) * len(lines) + 2 * margin, old_band)
    draw.rectangle((0, h - band_height, w, h), fill=_BAND)
    for i, line in enumerate(lines):
        y = h - band_height + margin + int(font_size * 1.3) * i + int(font_size * 0.65)
        draw.text((margin, y), line, font=font, fill=_TEXT, anchor="lm")
    _badge(draw, label, edited.size)
    return edited


def caption_band_height(image: Image.Image) -> int:
    """Rows at the bottom an earlier offline edit captioned: both edge columns are exactly the band colour."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    rows = 0
    while rows < h and rgb.getpixel((0, h - 1 - rows)) == _BAND and rgb.getpixel((w - 1, h - 1 - rows)) == _BAND:
        rows += 1
    return rows


def relabel(image: Image.Image, *, label: str = DEFAULT_LABEL) -> Image.Image:
    """Put the badge back on top, e.g. after a masked edit pasted the source over it."""
    labelled = image.convert("RGB")
    _badge(ImageDraw.Draw(labelled, "RGBA"), label, labelled.size)
    return labelled


def blend_card(sources: list[Image.Image], names: list[str], instruction: str, size: tuple[int, int], *,
               label: str = DEFAULT_LABEL) -> Image.Image:
    """The inputs side by side on one card, named in order, so an offline blend shows what went in."""
    w, h = size
    key = "+".join(names) + instruction
    top, bottom = palette(key)
    image = _gradient(size, top, bottom, _digest(key)[4])
    gap = max(4, w // 64)
    side = min((w - gap * (len(sources) + 1)) // max(1, len(sources)), h // 2)
    x = (w - (side * len(sources) + gap * (len(sources) - 1))) // 2
    for source in sources:
        thumb = ImageOps.fit(source.convert("RGB"), (side, side), Image.Resampling.LANCZOS)
        image.paste(thumb, (x, h // 8))
        x += side + gap
    draw = ImageDraw.Draw(image, "RGBA")
    text = "Blend of " + " + ".join(names) + (f": {instruction}" if instruction else "")
    font_size = max(12, min(min(w, h) // 20, w // 24))
    font = _font(font_size)
    margin = max(8, min(w, h) // 16)
    lines = _wrap(text[:_MAX_PROMPT_CHARS], font, w - 2 * margin, 4)
    _draw_centred(draw, lines, font, (margin, h // 8 + side + gap, w - margin, h - margin))
    _badge(draw, label, size)
    return image
