"""Small images made in code, so no binary fixture is ever committed."""

from __future__ import annotations

from io import BytesIO

from PIL import Image


def png(width: int = 320, height: int = 240, colour: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(BytesIO(data)) as img:
        return img.size
