"""Every image job but speech: ask the provider, check what came back is an image, fit it to the budget.

Grids draw their candidates in parallel and keep each cell's full-size file, so U1-U4 hand back exactly
the image the user saw; an edit with a mask pastes the source back outside it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets

from core.errors import ProviderUnavailable
from core.media import grid, images
from core.providers.base import Provider
from core.requests import (
    BlendRequest,
    EditRequest,
    ImagineRequest,
    PickRequest,
    Request,
    UpscaleRequest,
    VaryRequest,
)
from core.results import ImageResult

log = logging.getLogger(__name__)
NOT_AN_IMAGE = "The image model sent back something that isn't an image. Please try again."


async def draw(provider: Provider, request: Request) -> ImageResult:
    if isinstance(request, ImagineRequest):
        if (request.count or 1) > 1:
            return await _grid(provider, request)
        return await _finish(provider, await provider.imagine(request), request.max_bytes)
    if isinstance(request, PickRequest):
        return await _finish(provider, request.image, request.max_bytes)
    if isinstance(request, VaryRequest):
        raw = await provider.vary(request, seed=secrets.randbelow(2**31))
        return await _finish(provider, raw, request.max_bytes)
    if isinstance(request, UpscaleRequest):  # shrinking would undo the point: re-encode or refuse
        return await _finish(provider, await provider.upscale(request), request.max_bytes, shrink=False)
    if isinstance(request, BlendRequest):
        return await _finish(provider, await provider.blend(request), request.max_bytes)
    assert isinstance(request, EditRequest)
    raw = _checked(await provider.edit(request))
    if request.mask is not None:
        raw = await asyncio.to_thread(images.composite_masked, request.image, raw, request.mask)
        if provider.offline:  # the source pasted back outside the mask may cover the preview's label
            from core.providers.offline import label_preview

            raw = await asyncio.to_thread(label_preview, raw)
    return await _finish(provider, raw, request.max_bytes)


async def _candidate(provider: Provider, request: ImagineRequest) -> bytes:
    return _checked(await provider.imagine(request, seed=secrets.randbelow(2**31)))


async def _grid(provider: Provider, request: ImagineRequest) -> ImageResult:
    """Draw the candidates in parallel; the grid shows those that came back and counts the rest."""
    outcomes = await asyncio.gather(*(_candidate(provider, request) for _ in range(request.count or 1)),
                                    return_exceptions=True)
    cells = [o for o in outcomes if isinstance(o, bytes)]
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    for error in errors:
        if not isinstance(error, Exception):
            raise error  # cancellation and the like are not a failed candidate
    if not cells:
        raise errors[0]
    if errors:
        log.info("grid: %d of %d candidates failed (%s)", len(errors), request.count,
                 ", ".join(sorted({type(e).__name__ for e in errors})))
    data = await asyncio.to_thread(grid.compose, cells)
    image = await asyncio.to_thread(images.fit_budget, data, request.max_bytes, offline=provider.offline)
    return dataclasses.replace(image, candidates=tuple(cells), failed=len(errors))


def _checked(raw: bytes) -> bytes:
    if images.sniff(raw) is None:
        raise ProviderUnavailable(NOT_AN_IMAGE)
    return raw


async def _finish(provider: Provider, raw: bytes, max_bytes: int | None, *, shrink: bool = True) -> ImageResult:
    return await asyncio.to_thread(images.fit_budget, _checked(raw), max_bytes, offline=provider.offline,
                                   shrink=shrink)
