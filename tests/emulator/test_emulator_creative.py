"""The emulator's side of grids, upscales and blends: seeds, image sizes and several inputs."""

from __future__ import annotations

import io
from typing import Any

import pytest
from google.genai import errors, types
from PIL import Image

from tests.emulator.test_emulator import FLASH, PRO, image_of, png


def config(size: str | None = None, seed: int | None = None, aspect: str | None = None) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"], seed=seed,
                                       image_config=types.ImageConfig(image_size=size, aspect_ratio=aspect))


async def test_seeds_give_distinct_candidates_and_the_same_seed_the_same_one(client: Any) -> None:
    one, two, again = [image_of(await client.models.generate_content(model=FLASH, contents="a fox",
                                                                      config=config(seed=s)))[1] for s in (1, 2, 1)]
    assert one != two and one == again


async def test_image_size_scales_the_output_and_is_checked_per_model(client: Any) -> None:
    _, data = image_of(await client.models.generate_content(model=FLASH, contents="a fox",
                                                            config=config("2K", aspect="16:9")))
    assert Image.open(io.BytesIO(data)).size == (2688, 1536)
    with pytest.raises(errors.ClientError, match="Unsupported image_size 512"):
        await client.models.generate_content(model=PRO, contents="a fox", config=config("512"))


async def test_an_edit_at_a_set_size_keeps_the_source_shape(client: Any) -> None:
    contents = [types.Part.from_bytes(data=png((1344, 768), "red"), mime_type="image/png"), "sharper"]
    _, data = image_of(await client.models.generate_content(model=FLASH, contents=contents, config=config("2K")))
    assert Image.open(io.BytesIO(data)).size == (2688, 1536)


async def test_several_inputs_are_blended_side_by_side_in_order(client: Any) -> None:
    parts = [types.Part.from_bytes(data=png((64, 64), c), mime_type="image/png") for c in ("red", "blue")]
    _, data = image_of(await client.models.generate_content(model=FLASH, contents=[*parts, "mix them"],
                                                            config=config()))
    blend = Image.open(io.BytesIO(data)).convert("RGB")
    assert blend.size == (1024, 1024)
    assert blend.getpixel((100, 300)) == (255, 0, 0) and blend.getpixel((900, 300)) == (0, 0, 255)
