"""Hostile images and text made in code: the seeds for fuzzing and the files of the corpus."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

from PIL import Image

RED, BLACK, WHITE = (220, 20, 20), (0, 0, 0), (255, 255, 255)


def encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def png(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = RED) -> bytes:
    return encode(Image.new("RGB", size, colour), "PNG")


def gradient(size: tuple[int, int] = (64, 48)) -> Image.Image:
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    return img


def seeds() -> dict[str, bytes]:
    """One small valid file per format and mode we claim to read: what the fuzzer mutates."""
    base = gradient()
    frames = [Image.new("RGB", (32, 32), RED), Image.new("RGB", (32, 32), WHITE)]
    return {
        "png": encode(base, "PNG"),
        "jpeg": encode(base, "JPEG", quality=80),
        "gif": encode(base.convert("P"), "GIF"),
        "webp": encode(base, "WEBP", quality=70),
        "animated-gif": encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50),
        "animated-webp": encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=50),
        "rgba-png": encode(base.convert("RGBA"), "PNG"),
        "palette-alpha": encode(Image.new("P", (32, 32), 3), "PNG", transparency=3),
        "png16": encode(Image.new("I;16", (32, 32), 4000), "PNG"),
        "cmyk-jpeg": encode(Image.new("CMYK", (32, 32), (0, 80, 80, 0)), "JPEG"),
        "exif-rotated": exif_rotated(),
    }


def exif_rotated(orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(Image.new("RGB", (40, 20), RED), "JPEG", exif=exif.tobytes())


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb by declaration."""
    data = bytearray(png((1, 1)))
    ihdr = bytearray(data[12:29])
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def zlib_bomb(side: int = 8000) -> bytes:
    """A real PNG of ``side``² black pixels: a few KB on disk, 64 megapixels when decoded."""
    return encode(Image.new("1", (side, side), 0), "PNG")


def gif_declaring(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("P", (1, 1)), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A JPEG whose SOF0 header claims another size than its data."""
    data = bytearray(encode(Image.new("RGB", (8, 8)), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def mask(colour: int, size: tuple[int, int] = (64, 48), mode: str = "L") -> bytes:
    return encode(Image.new(mode, size, colour), "PNG")


def transparent_mask(size: tuple[int, int] = (64, 48)) -> bytes:
    return encode(Image.new("RGBA", size, (0, 0, 0, 0)), "PNG")


NOT_IMAGES: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "text": lambda: b"just some words\n",
    "html": lambda: b"<!DOCTYPE html><html><body>sign in</body></html>",
    "svg": lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    "pdf": lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "zip": lambda: b"PK\x03\x04" + b"\x00" * 40,
    "heic": lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    "truncated-png": lambda: seeds()["png"][:60],
    "truncated-jpeg": lambda: seeds()["jpeg"][: len(seeds()["jpeg"]) // 2],
    "png-header-only": lambda: b"\x89PNG\r\n\x1a\n",
    "corrupt-jpeg": lambda: b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4,
    "gif-bomb": lambda: gif_declaring(65535, 65535),
    "png-bomb": lambda: png_declaring(20_000, 20_000),
    "png-bomb-wide": lambda: png_declaring(2**31 - 1, 1),
    "jpeg-bomb": lambda: jpeg_declaring(65000, 65000),
    "zlib-bomb": lambda: zlib_bomb(),
}
