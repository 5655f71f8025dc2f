"""The numbered 2x2 (or 1x2) grid that shows several candidates as one image, like the best image bots do.

Blocking Pillow work: call ``compose`` with ``asyncio.to_thread``. Cells keep the candidates' shape and are
at most ``MAX_CELL`` pixels on their long side, so a grid of four 1K squares is 2048x2048.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from core.media.images import load

MAX_CELL = 1024
_EMPTY = (40, 40, 46)
_BADGE = (0, 0, 0, 170)
_TEXT = (255, 255, 255)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def layout(count: int) -> tuple[int, int]:
    """Columns and rows: one image alone, two side by side, three or four in a square."""
    if count <= 1:
        return 1, 1
    return (2, 1) if count == 2 else (2, 2)


def cell_size(width: int, height: int, max_cell: int = MAX_CELL) -> tuple[int, int]:
    """A candidate's size shrunk (never enlarged) to fit ``max_cell`` on its long side."""
    scale = min(1.0, max_cell / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _number(draw: ImageDraw.ImageDraw, n: int, origin: tuple[int, int], cell: tuple[int, int]) -> None:
    """The cell's number in its top-right corner (clear of any badge): what the U and V buttons refer to."""
    side = max(24, min(cell) // 9)
    font = _font(side * 2 // 3)
    x, y = origin[0] + cell[0] - side - side // 3, origin[1] + side // 3
    draw.rounded_rectangle((x, y, x + side, y + side), radius=side // 4, fill=_BADGE)
    draw.text((x + side // 2, y + side // 2), str(n), font=font, fill=_TEXT, anchor="mm")


def compose(cells: list[bytes], *, max_cell: int = MAX_CELL) -> bytes:
    """One PNG of the candidates, numbered 1..n left to right, top to bottom; an odd one out leaves a dark cell."""
    if not cells:
        raise ValueError("a grid needs at least one image")
    pictures = [load(c, what="candidate").convert("RGB") for c in cells]
    cw, ch = cell_size(*pictures[0].size, max_cell=max_cell)
    cols, rows = layout(len(pictures))
    grid = Image.new("RGB", (cols * cw, rows * ch), _EMPTY)
    draw = ImageDraw.Draw(grid, "RGBA")
    for n, picture in enumerate(pictures, start=1):
        at = (((n - 1) % cols) * cw, ((n - 1) // cols) * ch)
        grid.paste(ImageOps.fit(picture, (cw, ch), Image.Resampling.LANCZOS), at)
        _number(draw, n, at, (cw, ch))
    out = io.BytesIO()
    grid.save(out, "PNG", compress_level=3)  # sharp numbers; fit_budget turns it into a JPEG if too big
    return out.getvalue()
