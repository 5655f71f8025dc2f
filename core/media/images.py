"""Safe image decoding and re-encoding with Pillow: sniff bytes, refuse bombs, fit budgets, apply masks.

Plain synchronous functions; callers run them with ``asyncio.to_thread``. Files are judged by
their bytes, never by their names or the mime type a peer claims.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
from typing import IO

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from core.errors import InputError
from core.results import ImageResult

MAX_PIXELS = 50_000_000
PNG_LIMIT_BYTES = 7 * 1024 * 1024  # above this prepare_input falls back to JPEG
MIN_SIDE = 64
MASK_THRESHOLD = 16  # a mask whose brightest pixel is darker than this selects nothing
SUPPORTED = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"heif"})
_MARKUP = (b"<svg", b"<?xml", b"<!doctype html", b"<html")
_NOT_IMAGES = (b"PK\x03\x04", b"%PDF", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07")
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, IndexError)


def sniff(data: bytes) -> str | None:
    """Tell the real image type from magic bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _HEIF_BRANDS:
            return "image/heif"
    return None


def _subject(what: str) -> str:
    return "That file" if what == "image" else f"The {what}"


def _unreadable(what: str) -> InputError:
    return InputError(f"{_subject(what)} isn't an image I can read. Send a PNG, JPEG, WebP or GIF.")


def _refuse(data: bytes, what: str) -> None:
    """Reject markup, archives and unknown bytes before Pillow sees them."""
    if not data:
        raise InputError(f"{_subject(what)} is empty. Send a PNG, JPEG, WebP or GIF.")
    head = data[:512].lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096].lower()):
        raise InputError("SVG images aren't supported; send a PNG or JPEG instead.")
    if head.startswith(_MARKUP) or data.startswith(_NOT_IMAGES):
        raise _unreadable(what)
    mime = sniff(data)
    if mime in ("image/heic", "image/heif"):
        raise InputError("HEIC photos aren't supported yet; send a PNG or JPEG instead.")
    if mime not in SUPPORTED:
        raise _unreadable(what)


def _too_large(pixels: int, what: str) -> InputError:
    return InputError(
        f"That {what} is too large to process ({pixels / 1e6:.0f} megapixels). "
        f"Send one under {MAX_PIXELS // 1_000_000} megapixels."
    )


def _bomb(err: Exception, what: str) -> InputError:
    """Pillow's own guard fired; report the size it names."""
    found = re.search(r"\((\d+) pixels\)", str(err))
    return _too_large(int(found[1]) if found else MAX_PIXELS, what)


def _open(data: bytes, what: str) -> Image.Image:
    """Open lazily (header only) and refuse declared bombs before any pixel is decoded."""
    _refuse(data, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise _bomb(err, what) from err
    except UnidentifiedImageError as err:
        raise _unreadable(what) from err
    except _DAMAGED as err:
        raise InputError(f"That {what} file is damaged or incomplete.") from err
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise _too_large(width * height, what)
    return img


def load(data: bytes, *, what: str = "image") -> Image.Image:
    """Decode untrusted bytes to an upright RGB or RGBA first frame, or explain why not."""
    img = _open(data, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.seek(0)
            img.load()
            upright = ImageOps.exif_transpose(img) or img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise _bomb(err, what) from err
    except _DAMAGED as err:
        raise InputError(f"That {what} file is damaged or incomplete.") from err
    has_alpha = upright.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in upright.info
    return upright.convert("RGBA" if has_alpha else "RGB")


def size_of(data: bytes) -> tuple[int, int]:
    """Width and height from the header, without decoding pixels."""
    width, height = _open(data, "image").size
    return width, height


def encode_png(img: Image.Image, *, optimize: bool = False) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=optimize)
    return buf.getvalue()


def _flatten(img: Image.Image) -> Image.Image:
    """Put transparency on white, since JPEG has no alpha."""
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img if img.mode == "RGB" else img.convert("RGB")


def _scratch() -> IO[bytes]:
    """An in-memory file with a real descriptor (a temporary file where memfd is missing)."""
    if hasattr(os, "memfd_create"):
        return open(os.memfd_create("studiobot-image", os.MFD_CLOEXEC), "w+b")
    return tempfile.TemporaryFile()


def encode_jpeg(img: Image.Image, quality: int = 90) -> bytes:
    """Encode into a file descriptor, not a BytesIO: only then does Pillow release the GIL while libjpeg
    works. Into a BytesIO the whole optimised encode holds it, and the event loop stalls for as long
    (measured by ``studiobot bench``: 100+ ms of loop lag per 1024 px picture)."""
    with _scratch() as out:
        _flatten(img).save(out, "JPEG", quality=quality, optimize=True)
        out.seek(0)
        return out.read()


def convert(data: bytes, mime_type: str) -> bytes:
    """The same picture in another container, so a file named .jpg really holds a JPEG."""
    if sniff(data) == mime_type:
        return data
    img = load(data)
    if mime_type == "image/png":
        return encode_png(img)
    if mime_type == "image/jpeg":
        return encode_jpeg(img, 92)
    if mime_type == "image/webp":
        buf = io.BytesIO()
        img.save(buf, "WEBP", quality=92)
        return buf.getvalue()
    raise ValueError(f"cannot encode {mime_type}")


def _scaled(img: Image.Image, factor: float) -> Image.Image:
    width, height = img.size
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)  # big inputs: box-reduce first


def prepare_input(data: bytes, *, max_side: int = 2048, what: str = "image") -> bytes:
    """Give the model a clean, upright, bounded image instead of whatever the user uploaded."""
    img = load(data, what=what)
    if max(img.size) > max_side:
        img = _scaled(img, max_side / max(img.size))
    png = encode_png(img)
    return png if len(png) <= PNG_LIMIT_BYTES else encode_jpeg(img, 92)


def nearest_aspect(data: bytes, aspects: dict[str, tuple[int, int]]) -> str:
    """The named aspect ratio closest to the image's shape, so a re-render keeps it."""
    width, height = size_of(data)
    return min(aspects, key=lambda a: abs(aspects[a][0] / aspects[a][1] - width / height))


def describe(data: bytes, *, offline: bool = False) -> ImageResult:
    """Label image bytes by what they are, not what the model said they were."""
    width, height = size_of(data)
    mime = sniff(data) or "application/octet-stream"  # _open already refused unknown bytes
    return ImageResult(data, mime, width, height, offline)


def _amount(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def fit_budget(data: bytes, max_bytes: int | None, *, offline: bool = False, shrink: bool = True) -> ImageResult:
    """Re-encode until the image fits an upload limit, giving up quality before size (and size only if
    ``shrink``: an upscale that had to shrink would be pointless, so it is refused with the reason)."""
    if max_bytes is None or len(data) <= max_bytes:
        return describe(data, offline=offline)
    img = load(data)
    # A PNG already over twice the budget won't get there by recompressing; skip the slow try.
    if not (sniff(data) == "image/png" and len(data) > 2 * max_bytes):
        png = encode_png(img, optimize=True)
        if len(png) <= max_bytes:
            return ImageResult(png, "image/png", img.width, img.height, offline)
    flat = _flatten(img)
    for quality in (90, 80, 70, 60):
        jpeg = encode_jpeg(flat, quality)
        if len(jpeg) <= max_bytes:
            return ImageResult(jpeg, "image/jpeg", flat.width, flat.height, offline)
    if not shrink:
        raise InputError(f"The {flat.width}x{flat.height} image is {_amount(len(jpeg))} even as a JPEG, over "
                         f"the {_amount(max_bytes)} upload limit here.")
    while max(flat.size) > MIN_SIDE:
        flat = _scaled(flat, max(0.8, MIN_SIDE / max(flat.size)))
        jpeg = encode_jpeg(flat, 80)
        if len(jpeg) <= max_bytes:
            return ImageResult(jpeg, "image/jpeg", flat.width, flat.height, offline)
    raise InputError(f"I couldn't make that image fit in {max_bytes / 1024:.0f} KB, even shrunk to {MIN_SIDE}px.")


def _mask_to_l(mask: Image.Image) -> Image.Image:
    """Use alpha when it carries the drawing (uniform colour, varying alpha), else luminance."""
    if mask.mode == "RGBA":
        rgb_uniform = mask.convert("RGB").getcolors(1) is not None  # None means more than one colour
        alpha_varies = mask.getchannel("A").getcolors(1) is None
        if rgb_uniform and alpha_varies:
            return mask.getchannel("A")
    return mask.convert("L")


def check_mask(data: bytes) -> None:
    """Refuse a mask that selects nothing (all black, or fully transparent): the edit would change nothing."""
    stencil = _mask_to_l(load(data, what="mask"))
    extrema = stencil.getextrema()
    high = extrema[1]
    if isinstance(high, (int, float)) and high < MASK_THRESHOLD:
        raise InputError("The mask selects nothing: it is all black. Paint white where the image should change.")


def composite_masked(source: bytes, edited: bytes, mask: bytes, *, feather: float | None = None) -> bytes:
    """Keep the source outside the mask (white = change), since Gemini edits the whole image."""
    base = load(source, what="source image")
    edit = load(edited, what="edited image")
    stencil = _mask_to_l(load(mask, what="mask"))
    mode = "RGBA" if base.mode == "RGBA" else "RGB"
    edit = edit.convert(mode)
    if edit.size != base.size:
        edit = edit.resize(base.size, Image.Resampling.LANCZOS)
    if stencil.size != base.size:
        stencil = stencil.resize(base.size, Image.Resampling.BILINEAR)
    radius = max(2.0, 0.01 * max(base.size)) if feather is None else feather
    if radius > 0:
        stencil = stencil.filter(ImageFilter.GaussianBlur(radius))
    return encode_png(Image.composite(edit, base.convert(mode), stencil))
