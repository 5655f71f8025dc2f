"""The creative buttons every adapter shows (U1-U4, V1-V4, Re-roll, Upscale, Vary) as requests and words.

Adapters keep only a job id and a cell number in their buttons; these functions turn that into the
request to submit, with its lineage, so a button pressed after a restart does exactly what it did before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.errors import InputError
from core.jobs.model import Job
from core.providers.base import ProviderLimits
from core.requests import (
    BlendRequest,
    EditRequest,
    ImagineRequest,
    Parent,
    PickRequest,
    Request,
    SpeakRequest,
    UpscaleRequest,
    VaryRequest,
    size_of,
)
from core.results import ImageResult, Result
from core.studio import Studio

__all__ = ["Buttons", "Parent", "buttons_for", "describe", "pick", "prompt_of", "stored_buttons", "upscale",
           "vary"]
GONE = "That result is no longer in my records."
Maker = Callable[[Studio, int | None], Awaitable[Request]]  # builds a button's request (studio, upload limit)


@dataclass(frozen=True, slots=True)
class Buttons:
    """What a result offers: grid cells to take or vary, or one image to vary and upscale."""

    cells: int = 0  # U1..Un and V1..Vn
    reroll: bool = False  # a grid's Retry is a re-roll
    vary: bool = False  # V on a single image
    upscale_to: str | None = None  # the size an Upscale asks for; None at the model's maximum


def buttons_for(studio: Studio, job: Job, result: Result) -> Buttons:
    if not isinstance(result, ImageResult):
        return Buttons()
    if result.is_grid:
        return Buttons(cells=len(result.candidates), reroll=True)
    return Buttons(vary=True, upscale_to=studio.provider.limits.next_size(size_of(job.request)))


def stored_buttons(job: Job, limits: ProviderLimits) -> Buttons:
    """The same offer, from the journal alone (a finished job's stored result), e.g. for a history page."""
    ref = job.result
    if ref is None or ref.kind != "image":
        return Buttons()
    cells = [c for c in str(ref.meta.get("candidates", "")).split(",") if c]
    if cells:
        return Buttons(cells=len(cells), reroll=True)
    return Buttons(vary=True, upscale_to=limits.next_size(size_of(job.request)))


def prompt_of(request: Request) -> str:
    """The words behind an image, carried into its variations so they stay on topic."""
    if isinstance(request, ImagineRequest | VaryRequest):
        return request.prompt
    if isinstance(request, EditRequest):
        return request.instruction
    if isinstance(request, BlendRequest):
        return request.instruction
    return ""


async def _finished(studio: Studio, job_id: str) -> Job:
    job = await studio.job(job_id)
    if job is None or job.result is None or job.result.kind != "image":
        raise InputError(GONE)
    return job


async def pick(studio: Studio, job_id: str, index: int, *, max_bytes: int | None = None) -> PickRequest:
    """U<n>: that grid candidate alone, byte for byte, as a result of its own."""
    job = await _finished(studio, job_id)
    image, parent = await studio.candidate(job, index)
    return PickRequest(image=image, index=index, size=size_of(job.request), parents=(parent,), max_bytes=max_bytes)


async def vary(studio: Studio, job_id: str, index: int | None = None, *,
               max_bytes: int | None = None) -> VaryRequest:
    """V<n> on a grid cell, or V on a whole single image."""
    job = await _finished(studio, job_id)
    image, parent = await studio.candidate(job, index)
    return VaryRequest(image=image, prompt=prompt_of(job.request), size=size_of(job.request), parents=(parent,),
                       max_bytes=max_bytes)


async def upscale(studio: Studio, job_id: str, *, max_bytes: int | None = None) -> UpscaleRequest:
    """The next size up; refused in words at the model's maximum."""
    job = await _finished(studio, job_id)
    limits = studio.provider.limits
    size = limits.next_size(size_of(job.request))
    if size is None:
        raise InputError(f"This image is already at the largest size {limits.image_model} makes "
                         f"({limits.image_sizes[-1]}).")
    image, parent = await studio.candidate(job, None)
    return UpscaleRequest(image=image, size=size, parents=(parent,), max_bytes=max_bytes)


def describe(request: Request, result: Result | None = None) -> str:
    """One line saying what was made (platform-neutral; adapters add their own markup and credit)."""
    pixels = f" · {result.width}×{result.height}" if isinstance(result, ImageResult) else ""
    if isinstance(request, ImagineRequest):
        line = request.prompt
        if isinstance(result, ImageResult) and result.is_grid:
            made = len(result.candidates)
            asked = made + result.failed
            line += f" · {made} images" + (f" ({result.failed} of {asked} failed)" if result.failed else "")
            return line
        return line + pixels
    if isinstance(request, PickRequest):
        return f"Image {request.index} of the grid{pixels}"
    if isinstance(request, VaryRequest):
        return f"Variation{': ' + request.prompt if request.prompt else ''}{pixels}"
    if isinstance(request, UpscaleRequest):
        return f"Upscaled to {request.size}{pixels}"
    if isinstance(request, BlendRequest):
        named = ", ".join(request.names) if request.names else f"{len(request.images)} images"
        return f"Blend of {named}{': ' + request.instruction if request.instruction else ''}{pixels}"
    if isinstance(request, EditRequest):
        return ("Vary (region): " if request.mask is not None else "") + request.instruction + pixels
    assert isinstance(request, SpeakRequest)
    return request.text
