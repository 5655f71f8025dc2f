"""Grids, U/V, Upscale, sizes and blends through the studio: offline cards and the real SDK against the emulator."""

from __future__ import annotations

import base64
import io
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from core.errors import InputError, SafetyBlocked
from core.requests import BlendRequest, ImagineRequest, Parent, PickRequest, UpscaleRequest, VaryRequest
from core.results import ImageResult, Result
from core.studio import Studio, open_studio
from emulator.app import Emulator
from emulator.faults import Fault
from tests.core.conftest import ORIGIN, REQUESTER, gemini_settings
from tests.fakes.media import image_size, png


def image(result: Result) -> ImageResult:
    assert isinstance(result, ImageResult)
    return result


def image_parts(body: dict[str, object]) -> list[dict[str, object]]:
    contents = body["contents"]
    assert isinstance(contents, list)
    parts = contents[0]["parts"]
    assert isinstance(parts, list)
    return parts


async def test_offline_grid_of_four_is_a_numbered_square_of_distinct_candidates(offline_studio: Studio) -> None:
    grid = image(await offline_studio.run(ImagineRequest("a red fox", count=4), REQUESTER, ORIGIN))

    assert image_size(grid.data) == (2048, 2048)
    assert len(grid.candidates) == 4 and grid.failed == 0
    assert len(set(grid.candidates)) == 4
    assert all(image_size(c) == (1024, 1024) for c in grid.candidates)


async def test_two_candidates_make_a_one_by_two_grid(offline_studio: Studio) -> None:
    grid = image(await offline_studio.run(ImagineRequest("a wide sea", aspect="16:9", count=2), REQUESTER, ORIGIN))
    assert image_size(grid.data) == (2048, 585)


async def test_pick_is_the_stored_candidate_byte_for_byte_with_lineage(offline_studio: Studio) -> None:
    job = await offline_studio.submit(ImagineRequest("a red fox", count=4), REQUESTER, ORIGIN)
    await offline_studio.outcome(job.id)
    done = await offline_studio.job(job.id)
    assert done is not None
    cell, parent = await offline_studio.candidate(done, 2)

    pick = await offline_studio.submit(PickRequest(cell, 2, parents=(parent,)), REQUESTER, ORIGIN)
    result = image(await offline_studio.outcome(pick.id))

    assert result.data == cell
    assert not result.candidates
    assert await offline_studio.parents(pick.id) == [Parent(job.id, 2)]
    assert (await offline_studio.job(pick.id)).parent_id == job.id  # type: ignore[union-attr]
    assert await offline_studio.journal.children(job.id) == [pick.id]


async def test_lineage_survives_in_the_journal_file(tmp_path: Path) -> None:
    from tests.settings import offline_settings

    settings = offline_settings(tmp_path)
    async with open_studio(settings) as studio:
        first = await studio.run(ImagineRequest("a boat"), REQUESTER, ORIGIN)
        job = (await studio.recent("test"))[-1]
        up = await studio.submit(UpscaleRequest(image(first).data, "2K", parents=(Parent(job.id),)), REQUESTER,
                                 ORIGIN)
        big = image(await studio.outcome(up.id))
    assert (big.width, big.height) == (2048, 2048)
    with sqlite3.connect(settings.journal_path) as db:
        rows = db.execute("SELECT job_id, position, parent_id, candidate FROM lineage").fetchall()
    assert rows == [(up.id, 1, job.id, None)]


async def test_size_is_refused_on_a_model_that_lacks_it(tmp_path: Path, emulator: Emulator) -> None:
    async with open_studio(gemini_settings(tmp_path, emulator, image_model="gemini-3-pro-image")) as studio:
        with pytest.raises(InputError, match="gemini-3-pro-image can't make 512 images; it offers 1K, 2K, 4K"):
            await studio.submit(ImagineRequest("a fox", size="512"), REQUESTER, ORIGIN)
    assert emulator.calls == []


async def test_count_out_of_range_is_refused(offline_studio: Studio) -> None:
    with pytest.raises(InputError, match="1 to 4"):
        await offline_studio.submit(ImagineRequest("a fox", count=5), REQUESTER, ORIGIN)


async def test_gemini_grid_sends_parallel_seeded_calls_and_survives_a_failed_candidate(
        gemini_studio: Studio, emulator: Emulator) -> None:
    emulator.script(Fault.blocked())
    grid = image(await gemini_studio.run(ImagineRequest("a lighthouse", count=4), REQUESTER, ORIGIN))

    assert len(emulator.calls) == 4
    assert len({c.body["generationConfig"]["seed"] for c in emulator.calls}) == 4  # type: ignore[index]
    assert grid.failed == 1 and len(grid.candidates) == 3
    assert image_size(grid.data) == (2048, 2048)


async def test_gemini_grid_with_every_candidate_failed_is_an_error(gemini_studio: Studio, emulator: Emulator) -> None:
    emulator.script(*(Fault.blocked() for _ in range(2)))
    with pytest.raises(SafetyBlocked, match="declined"):
        await gemini_studio.run(ImagineRequest("a lighthouse", count=2), REQUESTER, ORIGIN)


async def test_vary_sends_the_candidate_with_the_variation_instruction(gemini_studio: Studio,
                                                                       emulator: Emulator) -> None:
    source = png(1024, 1024, (10, 200, 30))
    result = image(await gemini_studio.run(VaryRequest(source, prompt="a green field"), REQUESTER, ORIGIN))

    parts = image_parts(emulator.calls[-1].body)
    sent = base64.urlsafe_b64decode(str(parts[0]["inlineData"]["data"]))  # type: ignore[index]
    assert Image.open(io.BytesIO(sent)).getpixel((5, 5)) == (10, 200, 30)
    assert "variation" in str(parts[1]["text"]).lower() and "a green field" in str(parts[1]["text"])
    assert (result.width, result.height) == (1024, 1024)


async def test_upscale_asks_for_image_size_2k_and_gets_2k(gemini_studio: Studio, emulator: Emulator) -> None:
    result = image(await gemini_studio.run(UpscaleRequest(png(1344, 768), "2K"), REQUESTER, ORIGIN))

    config = emulator.calls[-1].body["generationConfig"]
    assert config["imageConfig"]["imageSize"] == "2K"  # type: ignore[index]
    assert (result.width, result.height) == (2688, 1536)


async def test_upscale_over_the_upload_limit_is_refused_with_the_reason(offline_studio: Studio) -> None:
    noisy = Image.effect_noise((256, 256), 120).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "PNG")
    with pytest.raises(InputError, match=r"512x512 image is .* KB even as a JPEG, over the 2 KB upload limit"):
        await offline_studio.run(UpscaleRequest(buf.getvalue(), "512", max_bytes=2_000), REQUESTER, ORIGIN)


async def test_blend_sends_every_input_in_order_before_the_text(gemini_studio: Studio, emulator: Emulator) -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    request = BlendRequest(tuple(png(300, 300, c) for c in colours), "the cat from the first in the second's style")
    result = image(await gemini_studio.run(request, REQUESTER, ORIGIN))

    parts = image_parts(emulator.calls[-1].body)
    assert [("inlineData" in p, "text" in p) for p in parts] == [(True, False)] * 3 + [(False, True)]
    sent = [Image.open(io.BytesIO(base64.urlsafe_b64decode(str(p["inlineData"]["data"])))).getpixel((1, 1))  # type: ignore[index]
            for p in parts[:3]]
    assert sent == colours
    assert (result.width, result.height) == (1024, 1024)


async def test_blend_needs_two_images_and_stops_at_the_model_limit(offline_studio: Studio) -> None:
    with pytest.raises(InputError, match="at least 2"):
        await offline_studio.submit(BlendRequest((png(),)), REQUESTER, ORIGIN)
    with pytest.raises(InputError, match="at most 14"):
        await offline_studio.submit(BlendRequest(tuple(png() for _ in range(15))), REQUESTER, ORIGIN)


async def test_offline_blend_card_names_its_inputs(offline_studio: Studio) -> None:
    result = image(await offline_studio.run(BlendRequest((png(), png(colour=(200, 0, 0))), "mix",
                                                         names=("cat.png", "dog.png")), REQUESTER, ORIGIN))
    assert (result.width, result.height) == (1024, 1024)
