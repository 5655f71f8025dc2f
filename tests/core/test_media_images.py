"""Uploaded images are judged by their bytes, decoded safely, and fit what chat platforms accept."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import pytest
from PIL import Image

from core.errors import InputError
from core.media import images

RED, BLUE, GREEN = (220, 20, 20), (20, 20, 220), (20, 200, 20)


def encode(img: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def solid(size: tuple[int, int], colour: tuple[int, ...], mode: str = "RGB", fmt: str = "PNG") -> bytes:
    return encode(Image.new(mode, size, colour), fmt)


def noisy(size: tuple[int, int]) -> Image.Image:
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size: cheap to build, costly to trust."""
    data = bytearray(solid((1, 1), RED))
    ihdr = data[12:29]  # b"IHDR" + 13 bytes of fields
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def test_sniff_names_each_format_by_its_bytes() -> None:
    assert images.sniff(solid((4, 4), RED)) == "image/png"
    assert images.sniff(solid((4, 4), RED, fmt="JPEG")) == "image/jpeg"
    assert images.sniff(solid((4, 4), RED, fmt="WEBP")) == "image/webp"
    assert images.sniff(solid((4, 4), RED, fmt="GIF")) == "image/gif"
    assert images.sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") == "image/heic"
    assert images.sniff(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00") == "image/heif"
    assert images.sniff(b"hello") is None
    assert images.sniff(b"") is None


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"just some text, not a picture", id="text"),
        pytest.param(b"\n<!DOCTYPE html><html><body>hi</body></html>", id="html"),
        pytest.param(b"<html><img src=x></html>", id="html-bare"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3", id="pdf"),
        pytest.param(b"\x1f\x8b\x08\x00" + bytes(20), id="gzip"),
    ],
)
def test_load_refuses_what_is_not_an_image(data: bytes) -> None:
    with pytest.raises(InputError, match="isn't an image I can read"):
        images.load(data)


def test_load_refuses_a_zip_even_with_a_png_inside() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("cat.png", solid((4, 4), RED))
    with pytest.raises(InputError, match="The mask isn't an image"):
        images.load(buf.getvalue(), what="mask")


@pytest.mark.parametrize(
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
        b'\xef\xbb\xbf  <?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    ],
)
def test_load_refuses_svg_with_a_hint(svg: bytes) -> None:
    with pytest.raises(InputError, match="SVG images aren't supported"):
        images.load(svg)


def test_truncated_png_is_reported_as_damaged() -> None:
    data = encode(noisy((64, 64)))
    with pytest.raises(InputError, match="damaged or incomplete"):
        images.load(data[: len(data) // 2])


def test_declared_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(InputError, match=r"too large to process \(64 megapixels\)"):
        images.load(png_declaring(8000, 8000))
    with pytest.raises(InputError, match=r"too large to process \(400 megapixels\)"):
        images.size_of(png_declaring(20000, 20000))


def test_animated_gif_uses_the_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), RED), Image.new("RGB", (8, 8), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    img = images.load(data)
    assert img.mode == "RGB"
    assert img.getpixel((4, 4)) == RED


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = encode(Image.new("RGB", (40, 20), RED), "JPEG", exif=exif.tobytes())
    assert images.load(data).size == (20, 40)


def test_alpha_is_kept_and_palette_images_become_rgb() -> None:
    assert images.load(solid((4, 4), (1, 2, 3, 128), mode="RGBA")).mode == "RGBA"
    assert images.load(encode(Image.new("P", (4, 4), 3))).mode == "RGB"


def test_prepare_input_downscales_keeping_aspect() -> None:
    out = images.prepare_input(solid((3000, 1500), RED), max_side=1000)
    assert images.sniff(out) == "image/png"
    assert images.size_of(out) == (1000, 500)
    small = images.prepare_input(solid((300, 200), RED, fmt="JPEG"))
    assert images.size_of(small) == (300, 200)


def test_describe_reports_the_real_type_and_size() -> None:
    result = images.describe(solid((30, 20), RED, fmt="JPEG"), offline=True)
    assert (result.mime_type, result.width, result.height, result.extension) == ("image/jpeg", 30, 20, "jpg")
    assert result.offline


def test_fit_budget_leaves_small_images_alone() -> None:
    data = solid((64, 64), RED)
    assert images.fit_budget(data, 1_000_000).data == data
    assert images.fit_budget(data, None).data == data


def test_fit_budget_shrinks_a_noisy_image_under_the_limit() -> None:
    data = encode(noisy((2048, 2048)), compress_level=1)
    result = images.fit_budget(data, 300_000)
    assert len(result.data) <= 300_000
    assert result.mime_type == "image/jpeg"
    decoded = Image.open(io.BytesIO(result.data))
    decoded.load()
    assert decoded.size == (result.width, result.height)
    assert result.width == result.height < 2048


def test_fit_budget_gives_up_politely() -> None:
    with pytest.raises(InputError, match="couldn't make that image fit"):
        images.fit_budget(encode(noisy((200, 200))), 100)


def test_composite_keeps_source_outside_the_mask_and_edit_inside() -> None:
    source = solid((200, 100), RED)
    edited = solid((100, 50), BLUE)  # the model answered at another size
    mask_img = Image.new("L", (400, 200), 0)  # and the mask at yet another
    mask_img.paste(255, (200, 0, 400, 200))  # right half: change it
    out = Image.open(io.BytesIO(images.composite_masked(source, edited, encode(mask_img))))
    assert out.size == (200, 100)
    assert out.getpixel((10, 50)) == RED
    assert out.getpixel((190, 50)) == BLUE


def test_composite_reads_a_drawn_alpha_mask() -> None:
    mask_img = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    mask_img.paste((0, 0, 0, 255), (0, 0, 25, 50))  # painted black on the left: change it
    out = images.composite_masked(solid((50, 50), RED), solid((50, 50), GREEN), encode(mask_img), feather=0)
    img = Image.open(io.BytesIO(out))
    assert img.getpixel((5, 25)) == GREEN
    assert img.getpixel((45, 25)) == RED


def test_composite_refuses_a_mask_that_is_not_an_image() -> None:
    with pytest.raises(InputError, match="mask"):
        images.composite_masked(solid((8, 8), RED), solid((8, 8), BLUE), b"%PDF-1.4 not a mask")
